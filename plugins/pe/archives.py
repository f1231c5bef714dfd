"""Read malware samples from plain files and (password-protected) zip files, in memory only.

The malware-research convention is to keep each sample in a zip encrypted with the password ``infected``
(ZipCrypto or WinZip AES; pyzipper reads both). Nothing here writes a sample to disk or runs it: members are
decompressed into memory, at most ``max_size`` bytes each, so a zip bomb costs no more than that.

A zip file can also *be* a sample (some samples are archives). The caller decides with ``is_listed``: a zip
whose own hashes are listed is yielded as a sample and not opened.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from mk2ds.core.dataset import FolderDataset, UnsafeName, open_regular_file

__all__ = ["DEFAULT_PASSWORD", "SampleFile", "hashes_of", "iter_samples", "name_hashes"]

DEFAULT_PASSWORD = "infected"
READ_CHUNK = 1 << 20
HEX_NAME = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})(?![0-9a-fA-F])")


def hashes_of(data: bytes) -> dict[str, str]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }


def name_hashes(name: str) -> list[str]:
    """Hex hashes (md5, sha1 or sha256 length) found in a file name, lower-case."""
    return [match.lower() for match in HEX_NAME.findall(PurePosixPath(name).name)]


@dataclass(frozen=True)
class SampleFile:
    """One candidate sample. ``origin`` names it for findings: ``sub/file.exe`` or ``sub/set.zip!member``.

    When it could not be read, ``data`` is ``None`` and ``problem`` says why (``too_large`` tells the cause
    apart from a wrong password or a damaged archive).
    """

    origin: str
    data: bytes | None
    problem: str | None = None
    too_large: bool = False
    hashes: Mapping[str, str] = field(default_factory=dict)

    @property
    def name_hashes(self) -> list[str]:
        return name_hashes(self.origin.rsplit("!", 1)[-1])


def _sample(origin: str, data: bytes) -> SampleFile:
    return SampleFile(origin, data, hashes=hashes_of(data))


def _read_limited(stream: BinaryIO | IO[bytes], limit: int) -> bytes | None:
    """Read up to ``limit`` bytes; ``None`` when there is more."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return None


def _files_below(root: Path) -> Iterator[Path | tuple[str, str]]:
    """Regular files below ``root`` in name order; ``(name, reason)`` for what cannot be read (too deep, not a
    regular file). Walked iteratively, as a dataset is; symbolic links are not followed (and not reported)."""
    if root.is_file():
        yield root
        return
    for item in FolderDataset(root).walk():
        if isinstance(item, UnsafeName):
            if "symbolic link" not in item.reason:
                yield item.path, item.reason
        elif not item.is_dir and not (root / item.path).is_symlink():
            yield root / item.path


@dataclass
class InflationBudget:
    """The aggregate zip-bomb guard: what sample zips may still inflate to, in this run.

    Each archive may inflate to at most ``ratio`` times its size (at least ``max_size``, so one sample of the
    allowed size always fits), and all archives of the run together to at most ``run_bytes``.
    """

    run_bytes: int
    ratio: int = 200
    used: int = 0

    def for_archive(self, archive_bytes: int, max_size: int) -> int:
        return min(max(max_size, self.ratio * archive_bytes), self.run_bytes - self.used)


#: All sample zips of one run together inflate to at most this much (a real sample set: a few GB of samples).
RUN_INFLATION_BYTES = 64 << 30


def _members(origin: str, data: bytes, password: bytes, max_size: int, budget: InflationBudget) -> Iterator[SampleFile]:
    # here, not at the top: commands that open no archive start faster; never pyzipper directly (see aes)
    from mk2ds.plugins.pe.aes import BadZipFile as PyzipperBadZipFile
    from mk2ds.plugins.pe.aes import pyzipper

    try:
        archive = pyzipper.AESZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, PyzipperBadZipFile, OSError, ValueError) as error:
        yield SampleFile(origin, None, f"damaged zip file: {error}")
        return
    allowed = archive_allowed = budget.for_archive(len(data), max_size)
    with archive:
        archive.setpassword(password)
        for info in archive.infolist():
            if info.is_dir():
                continue
            member = f"{origin}!{info.filename}"
            if info.file_size > max_size:
                yield SampleFile(
                    member, None, f"{info.file_size} bytes, more than the {max_size}-byte limit", too_large=True
                )
                continue
            limit = min(max_size, allowed)
            if info.file_size > limit:
                yield SampleFile(
                    member,
                    None,
                    f"not inflated: with it, the zip's members would inflate to more than {archive_allowed} bytes (decompression bomb guard)",
                    too_large=True,
                )
                continue
            try:
                with archive.open(info) as stream:
                    content = _read_limited(stream, limit)
            except RuntimeError as error:  # wrong or missing password
                yield SampleFile(
                    member, None, f"cannot decrypt ({error}); password given: {password.decode(errors='replace')!r}"
                )
                continue
            except (
                zipfile.BadZipFile,
                PyzipperBadZipFile,
                zlib.error,
                NotImplementedError,
                EOFError,
                OSError,
                ValueError,
            ) as error:
                yield SampleFile(member, None, f"cannot read zip member: {type(error).__name__}: {error}")
                continue
            if content is None:
                yield SampleFile(member, None, f"inflates beyond the {limit}-byte limit", too_large=True)
                continue
            allowed -= len(content)
            budget.used += len(content)
            yield _sample(member, content)


def iter_samples(
    root: str | os.PathLike[str],
    *,
    password: str = DEFAULT_PASSWORD,
    max_size: int,
    is_listed: Callable[[SampleFile], bool] | None = None,
    open_archives: bool = True,
) -> Iterator[SampleFile]:
    """Every sample below ``root`` (a folder or one file), plain or inside zip files, in name order.

    :param password: tried for encrypted zip members.
    :param max_size: larger files and members are not read (``too_large``).
    :param is_listed: called for a zip file; ``True`` means the zip itself is a sample (not opened).
    :param open_archives: ``False`` treats zip files as plain files.
    """
    base = Path(root)
    secret = password.encode("utf-8")
    budget = InflationBudget(RUN_INFLATION_BYTES)
    for path in _files_below(base):
        if isinstance(path, tuple):
            yield SampleFile(path[0], None, f"not read: {path[1]}")
            continue
        origin = path.name if base.is_file() else path.relative_to(base).as_posix()
        try:
            with open_regular_file(path, origin) as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > max_size:
                    yield SampleFile(origin, None, f"{size} bytes, more than the {max_size}-byte limit", too_large=True)
                    continue
                data = handle.read()
        except OSError as error:
            yield SampleFile(origin, None, f"cannot read: {error.strerror or error}")
            continue
        sample = _sample(origin, data)
        if open_archives and data[:4] in (b"PK\x03\x04", b"PK\x05\x06") and not (is_listed and is_listed(sample)):
            yield from _members(origin, data, secret, max_size, budget)
        else:
            yield sample
