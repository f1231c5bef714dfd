"""The dataset model: one read-only view over a folder or a zip file of one.

The walker and every check read the dataset only through this module, so that a folder, a zip file and a
BagIt bag look the same to them, nothing is ever written into the dataset, and unsafe names (``..``, absolute
paths, links that point outside the root) are reported instead of being followed.

Paths handed out are dataset-relative POSIX strings (``MK2Log/30m/abc.log``), compared as given.

What a walk yields and the rules for names are in :mod:`mk2ds.core.entries`, how a zip's members are listed
and refused in :mod:`mk2ds.core.ziplisting`; this module re-exports their public names, so import them from here.
"""

from __future__ import annotations

import io
import os
import stat
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mk2ds.core.entries import (
    MAX_DEPTH,
    MAX_PATH_CHARS,
    Entry,
    NameNotice,
    UnsafeName,
    is_unsafe_name,
    limit_reason,
)
from mk2ds.core.ziplisting import BOMB_MIN_BYTES, BOMB_RATIO, list_members, read_member_names, single_top_folder
from mk2ds.core.zipmembers import MEMBER_ERRORS, MemberStream, UnreadableEntry

__all__ = [
    "BOMB_MIN_BYTES",
    "BOMB_RATIO",
    "MAX_DEPTH",
    "MAX_PATH_CHARS",
    "Dataset",
    "Entry",
    "FolderDataset",
    "NameNotice",
    "SubDataset",
    "UnreadableEntry",
    "UnsafeName",
    "ZipDataset",
    "is_unsafe_name",
    "limit_reason",
    "open_dataset",
    "open_regular_file",
]


class Dataset:
    """Base class: list entries, open files, never write."""

    #: What the user named (shown in reports).
    location: str

    def walk(self) -> Iterator[Entry | UnsafeName]:
        """Every entry, folders included, depth-first with names sorted; unsafe names come as :class:`UnsafeName`."""
        raise NotImplementedError

    def open(self, path: str) -> BinaryIO:
        """Open a file for binary reading. Raises ``FileNotFoundError`` for unknown or unsafe paths."""
        raise NotImplementedError

    def read_bytes(self, path: str) -> bytes:
        with self.open(path) as handle:
            return handle.read()

    def close(self) -> None:
        """Release handles (zip files)."""

    def reopen(self) -> Dataset:
        """A fresh instance over the same location (for worker processes)."""
        return open_dataset(self.location)

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FolderDataset(Dataset):
    """A dataset that is a folder on disk. Links are never followed out of the root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.location = str(root)
        self.root = Path(root)
        self._real_root = self.root.resolve()

    def walk(self) -> Iterator[Entry | UnsafeName]:
        # Iterative (a stack of folders being listed), never recursive: a hostile tree may nest 1,000 deep.
        stack: list[tuple[str, Iterator[str]]] = []
        listed = self._list("")
        if isinstance(listed, UnsafeName):
            yield listed
            return
        stack.append(("", iter(listed)))
        while stack:
            relative, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            child = f"{relative}/{name}" if relative else name
            item = self._entry(relative, name, child)
            yield item
            if isinstance(item, Entry) and item.is_dir:
                reason = limit_reason(child)
                if reason:
                    yield UnsafeName(child, f"{reason}; its contents are not read")
                    continue
                listed = self._list(child)
                if isinstance(listed, UnsafeName):
                    yield listed
                else:
                    stack.append((child, iter(listed)))

    def _list(self, relative: str) -> list[str] | UnsafeName:
        try:
            return sorted(os.listdir(self.root / relative if relative else self.root))
        except OSError as error:
            return UnsafeName(relative or ".", f"cannot list folder: {error.strerror or error}")

    def _entry(self, relative: str, name: str, child: str) -> Entry | UnsafeName:
        """What one name in a folder is: a folder, a regular file, or an unsafe name with the reason."""
        full = self.root / child
        reason = is_unsafe_name(name)
        if reason:
            return UnsafeName(child, reason)
        try:
            info = full.lstat()
        except OSError as error:
            return UnsafeName(child, f"cannot stat: {error.strerror or error}")
        if stat.S_ISLNK(info.st_mode):
            try:
                resolved = full.resolve()
            except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links
                return UnsafeName(child, "symbolic link loop")
            if not _is_within(resolved, self._real_root):
                return UnsafeName(child, "symbolic link pointing outside the dataset")
            try:
                info = full.stat()
            except OSError:
                return UnsafeName(child, "broken symbolic link")
            if stat.S_ISDIR(info.st_mode):
                # A link to a folder inside the root is reported, not descended into: no loops.
                return UnsafeName(child, "symbolic link to a folder (not followed)")
        if stat.S_ISDIR(info.st_mode):
            return Entry(child, 0, is_dir=True)
        if stat.S_ISREG(info.st_mode):
            return Entry(child, info.st_size)
        return UnsafeName(child, "not a regular file or folder")

    def open(self, path: str) -> BinaryIO:
        reason = is_unsafe_name(path)
        if reason:
            raise FileNotFoundError(f"{path}: refused ({reason})")
        full = self.root / path
        try:
            resolved = full.resolve()
        except RuntimeError:  # a loop of symbolic links
            raise FileNotFoundError(f"{path}: refused (symbolic link loop)") from None
        if not _is_within(resolved, self._real_root):
            raise FileNotFoundError(f"{path}: refused (resolves outside the dataset)")
        return open_regular_file(full, path)

    def local_path(self, path: str) -> Path:
        """The on-disk path of an entry (folder datasets only; used for fast hashing)."""
        return self.root / path


def open_regular_file(full: str | os.PathLike[str], shown: str, buffering: int = -1) -> BinaryIO:
    """Open ``full`` for reading only if it is a regular file; raise ``FileNotFoundError`` naming ``shown`` if not.

    Opened with ``O_NONBLOCK`` and checked on the open descriptor: a FIFO (or a device) put in the file's place
    after it was listed must neither block the run in ``open()`` nor be read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(full, flags)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise FileNotFoundError(f"{shown}: refused (not a regular file)")
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb", buffering=buffering)
    except BaseException:
        os.close(descriptor)
        raise


class ZipDataset(Dataset):
    """A dataset inside a zip file, read in place: nothing is extracted to disk.

    A zip made of a single top-level folder (``SolitonDataset2018/...``) is treated as that folder.
    Members that cannot be read safely are reported (:class:`UnsafeName`) instead of listed: encrypted members
    (no password is known for a distribution), decompression bombs, and a name that occurs more than once (tools
    disagree on which copy they extract, so no copy is read).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.location = str(path)
        self._zip = zipfile.ZipFile(path)
        self._names, self.notices = read_member_names(self._zip)
        names = [name for name in self._names.values() if is_unsafe_name(name.rstrip("/")) is None]
        self.prefix = single_top_folder(names)
        self._infos: dict[str, zipfile.ZipInfo] = {}

    def walk(self) -> Iterator[Entry | UnsafeName | NameNotice]:  # type: ignore[override]
        yield from self.notices
        listing = list_members(self._zip, self._names, self.prefix, self.location)
        self._infos = listing.readable()
        yield from listing.sorted_items()

    def open(self, path: str) -> BinaryIO:
        if not self._infos:
            for _ in self.walk():
                pass
        info = self._infos.get(path)
        if info is None:
            raise FileNotFoundError(f"{path}: not in {self.location}")
        try:
            stream = self._zip.open(info)
        except MEMBER_ERRORS as error:  # a damaged local header
            raise UnreadableEntry(f"{path}: damaged zip member ({type(error).__name__}: {error})") from error
        return io.BufferedReader(MemberStream(stream, path))  # type: ignore[return-value]

    def close(self) -> None:
        self._zip.close()


class SubDataset(Dataset):
    """A folder inside another dataset, seen as a dataset of its own (the payload of a BagIt bag)."""

    def __init__(self, container: Dataset, prefix: str) -> None:
        self.container = container
        self.prefix = prefix.strip("/")
        self.location = container.location

    def walk(self) -> Iterator[Entry | UnsafeName]:
        start = self.prefix + "/"
        for item in self.container.walk():
            if isinstance(item, NameNotice):
                yield item
                continue
            if not item.path.startswith(start):
                continue
            relative = item.path[len(start) :]
            if isinstance(item, UnsafeName):
                yield UnsafeName(relative, item.reason)
            else:
                yield Entry(relative, item.size, item.is_dir)

    def open(self, path: str) -> BinaryIO:
        return self.container.open(f"{self.prefix}/{path}")

    def local_path(self, path: str) -> Path:
        return self.container.local_path(f"{self.prefix}/{path}")  # type: ignore[attr-defined,no-any-return]

    def close(self) -> None:
        self.container.close()

    def reopen(self) -> Dataset:
        return SubDataset(self.container.reopen(), self.prefix)


def _is_within(target: Path, root: Path) -> bool:
    try:
        target.relative_to(root)
    except ValueError:
        return False
    return True


#: Signatures a zip file starts with: a local file header, an empty archive, a spanned archive.
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def _looks_like_zip(path: Path) -> bool:
    """A regular file named ``*.zip`` or starting like one (zipfile wants its end, which a truncated one lacks)."""
    if path.suffix.lower() == ".zip":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(4) in _ZIP_SIGNATURES
    except OSError:
        return False


def open_dataset(location: str | os.PathLike[str]) -> Dataset:
    """Open a folder or a ``.zip`` file as a :class:`Dataset`. Raises ``FileNotFoundError`` if neither."""
    path = Path(location)
    if path.is_dir():
        return FolderDataset(path)
    if path.is_file() and zipfile.is_zipfile(path):
        try:
            return ZipDataset(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
            raise FileNotFoundError(f"{location}: a damaged zip file ({error})") from None
    if path.is_file() and _looks_like_zip(path):
        raise FileNotFoundError(
            f"{location}: a damaged zip file (no end-of-central-directory record: truncated or incomplete download?)"
        )
    if path.exists():
        raise FileNotFoundError(f"{location}: not a folder or a zip file")
    raise FileNotFoundError(f"{location}: no such file or folder")


def nfc(name: str) -> str:
    """Unicode NFC form, used to match names that differ only in normalization (macOS NFD vs NFC)."""
    return unicodedata.normalize("NFC", name)


def read_text_head(handle: BinaryIO, limit: int = 65536) -> bytes:
    """Read at most ``limit`` bytes (for sniffing)."""
    return handle.read(limit) if not isinstance(handle, io.TextIOBase) else b""
