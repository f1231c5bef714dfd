"""Write a BagIt 1.0 bag, as a folder or as a single zip, atomically and reproducibly.

The source is only read. A folder bag is built in a hidden temporary folder next to the target (files copied
and hashed in one pass, in ``jobs`` processes) and renamed into place when complete; a zip is written to a
temporary file and linked into place, which fails rather than overwrite. Either way an interrupted run
leaves nothing under the target name.

Reproducible: manifests are sorted, LF, UTF-8; tag files are written in a fixed order; zip entries are in
sorted order with a fixed timestamp (the bagging date), fixed permissions and zlib's default level. The same
input and date give the same bytes (with the same zlib).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mk2ds.core.atomic import PART_SUFFIX, part_prefix, remove_stale_parts
from mk2ds.core.dataset import is_unsafe_name
from mk2ds.core.errors import OutputNotWritable
from mk2ds.core.progress import Progress
from mk2ds.plugins.bagit.hashing import HashResult, Source, hash_bytes, hash_files, hash_source_file
from mk2ds.plugins.bagit.manifests import format_bagit_manifest
from mk2ds.plugins.bagit.tagfiles import PAYLOAD_FOLDER, declaration, format_tag_file

__all__ = ["BagPlan", "BagSummary", "PackError", "tag_files", "write_bag_folder", "write_bag_zip"]


class PackError(Exception):
    """The bag could not be written (a source file vanished or could not be read, the target exists)."""


@dataclass(frozen=True)
class BagPlan:
    """What goes into the bag: payload files ``(name, size)`` and folders, algorithms, bag-info fields, date."""

    files: Sequence[tuple[str, int]]
    folders: Sequence[str] = ()
    algorithms: tuple[str, ...] = ("sha256",)
    info: Sequence[tuple[str, str]] = ()
    date: datetime.date = field(default_factory=datetime.date.today)


@dataclass(frozen=True)
class BagSummary:
    path: str
    files: int
    total_bytes: int
    payload_oxum: str
    manifests: dict[str, bytes]


def tag_files(plan: BagPlan, results: dict[str, HashResult]) -> tuple[list[tuple[str, bytes]], str]:
    """The tag files in writing order (``bagit.txt``, ``bag-info.txt``, manifests, tag manifests) and the Oxum."""
    total = sum(result.size for result in results.values())
    oxum = f"{total}.{len(results)}"
    files: list[tuple[str, bytes]] = [
        ("bagit.txt", declaration()),
        ("bag-info.txt", format_tag_file([*plan.info, ("Payload-Oxum", oxum)])),
    ]
    for algorithm in plan.algorithms:
        entries = {f"{PAYLOAD_FOLDER}/{name}": result.digests[algorithm] for name, result in results.items()}
        files.append((f"manifest-{algorithm}.txt", format_bagit_manifest(entries)))
    tagged = list(files)
    for algorithm in plan.algorithms:
        entries = {name: hash_bytes(data, [algorithm])[algorithm] for name, data in tagged}
        files.append((f"tagmanifest-{algorithm}.txt", format_bagit_manifest(entries)))
    return files, oxum


def _failures(results: dict[str, HashResult], plan: BagPlan) -> None:
    problems = [f"{name}: {result.error}" for name, result in sorted(results.items()) if result.error]
    problems += [f"{name}: not read" for name, _size in plan.files if name not in results]
    if problems:
        raise PackError("cannot read every source file; nothing written:\n  " + "\n  ".join(problems[:20]))


def _refuse_existing(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise PackError(f"{out} already exists; refusing to overwrite it")


def write_bag_folder(
    source: Source, plan: BagPlan, out: str | os.PathLike[str], *, jobs: int = 1, show_progress: bool | None = None
) -> BagSummary:
    """Build the bag in a temporary folder next to ``out``, then rename it to ``out``.

    :raises OutputNotWritable: the bag cannot be written (a read-only folder, a full disk): exit 2.
    """
    target = Path(out)
    _refuse_existing(target)
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(target.parent)  # left by a run that was killed (its process is gone)
        temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=part_prefix(target), suffix=PART_SUFFIX))
    try:
        payload = temporary / PAYLOAD_FOLDER
        payload.mkdir()
        for folder in plan.folders:
            (payload / folder).mkdir(parents=True, exist_ok=True)
        results = hash_files(
            source,
            plan.files,
            plan.algorithms,
            jobs=jobs,
            copy_to=str(payload),
            label="pack",
            show_progress=show_progress,
        )
        _failures(results, plan)
        written, oxum = tag_files(plan, results)
        for name, data in written:
            (temporary / name).write_bytes(data)
        os.chmod(temporary, 0o755)
        _refuse_existing(target)
        os.rename(temporary, target)
    except BaseException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        if isinstance(error, OSError) and not isinstance(error, OutputNotWritable):
            raise OutputNotWritable(error.errno, error.strerror or str(error), str(target)) from error
        raise
    return BagSummary(str(target), len(results), sum(r.size for r in results.values()), oxum, dict(written[2:]))


@contextlib.contextmanager
def _writing(target: Path) -> Iterator[None]:
    """Turn an ``OSError`` of the block into :class:`OutputNotWritable` naming the bag (exit 2, no traceback)."""
    try:
        yield
    except OutputNotWritable:
        raise
    except OSError as error:
        raise OutputNotWritable(error.errno, error.strerror or str(error), str(target)) from error


def _zip_time(date: datetime.date) -> tuple[int, int, int, int, int, int]:
    return (max(date.year, 1980), date.month, date.day, 0, 0, 0)


def _zip_info(name: str, date: datetime.date, *, folder: bool = False, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_zip_time(date))
    info.create_system = 3  # Unix, whatever the machine: same bytes everywhere
    if folder:
        info.external_attr = (0o40755 << 16) | 0x10
        info.compress_type = zipfile.ZIP_STORED
    else:
        info.external_attr = 0o100644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size = size  # lets zipfile choose ZIP64 up front for big members
    return info


def top_folder_name(out: Path) -> str:
    """The single top folder inside the zip: the zip's name without ``.zip``."""
    name = out.name[:-4] if out.name.lower().endswith(".zip") else out.name
    return name if name and is_unsafe_name(name) is None and name not in (".", "..") else "bag"


@contextlib.contextmanager
def _temporary_file(target: Path) -> Iterator[Path]:
    remove_stale_parts(target.parent)  # left by a run that was killed (its process is gone)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=part_prefix(target), suffix=PART_SUFFIX)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def write_bag_zip(
    source: Source, plan: BagPlan, out: str | os.PathLike[str], *, show_progress: bool | None = None
) -> BagSummary:
    """Write the bag as one zip (inside a single top folder), hashing each file while it is compressed.

    :raises OutputNotWritable: the zip cannot be written (a read-only folder, a full disk): exit 2.
    """
    target = Path(out)
    _refuse_existing(target)
    with _writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
    top = top_folder_name(target)
    folders = sorted({PAYLOAD_FOLDER, *(f"{PAYLOAD_FOLDER}/{folder}" for folder in plan.folders)})
    progress = Progress(sum(size for _name, size in plan.files), "pack", enabled=show_progress)
    results: dict[str, HashResult] = {}
    try:
        with _writing(target), _temporary_file(target) as temporary:
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                archive.writestr(_zip_info(f"{top}/", plan.date, folder=True), b"")
                for folder in folders:
                    archive.writestr(_zip_info(f"{top}/{folder}/", plan.date, folder=True), b"")
                for name, size in sorted(plan.files):
                    info = _zip_info(f"{top}/{PAYLOAD_FOLDER}/{name}", plan.date, size=size)
                    with archive.open(info, "w") as member:
                        result = hash_source_file(
                            source, name, plan.algorithms, member, lambda count: progress.advance(count, 0)
                        )
                    if result.error:
                        raise PackError(f"cannot read {name}: {result.error}; nothing written")
                    results[name] = result
                    progress.advance(0, 1)
                written, oxum = tag_files(plan, results)
                for name, data in written:
                    archive.writestr(_zip_info(f"{top}/{name}", plan.date, size=len(data)), data)
            os.chmod(temporary, 0o644)
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())
            try:
                os.link(temporary, target)  # fails if the target appeared meanwhile: never overwrites
            except FileExistsError:
                raise PackError(f"{target} already exists; refusing to overwrite it") from None
            except OSError:  # a filesystem without hard links
                _refuse_existing(target)
                os.replace(temporary, target)
    finally:
        progress.close()
    return BagSummary(str(target), len(results), sum(r.size for r in results.values()), oxum, dict(written[2:]))
