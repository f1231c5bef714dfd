"""Atomic output files: written under a temporary name in the target folder, renamed into place when complete.

An interrupted run therefore never leaves a half-written file under the final name. The temporary name is
``.<name>.mk2ds-<pid>-<random>.part`` (:func:`part_prefix`): an interrupted run (SIGINT, SIGTERM) removes its
part itself, and a part left by a run that was killed outright (SIGKILL, a power cut) is recognized by the
next run that writes into the same folder - its process is gone - and removed (:func:`remove_stale_parts`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mk2ds.core.errors import OutputNotWritable

__all__ = [
    "PART_SUFFIX",
    "atomic_writer",
    "forget_cleaned_folders",
    "part_prefix",
    "remove_stale_parts",
    "write_atomic",
]

PART_SUFFIX = ".part"
_PART_NAME = re.compile(r"\..+\.mk2ds-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.part\Z", re.DOTALL)
#: Folders already cleaned by this process (one scan per folder and run, not one per file written).
_CLEANED: set[str] = set()


def forget_cleaned_folders() -> None:
    """Scan folders again for stale parts (``mk2ds.core.cli.main`` calls it at the start of every run)."""
    _CLEANED.clear()


def part_prefix(target: Path) -> str:
    """The start of the temporary name of ``target``'s part; its process id tells whether it is stale."""
    return f".{target.name}.mk2ds-{os.getpid()}-"


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process (or not a pid at all): leave its part alone
    return True


def remove_stale_parts(folder: str | os.PathLike[str]) -> list[str]:
    """Remove mk2ds parts (files or folders) in ``folder`` whose process no longer runs; return their names.

    Only names of the form ``.<name>.mk2ds-<pid>-<random>.part`` are touched, links are removed, never
    followed. Each folder is scanned once per process.
    """
    key = os.path.abspath(folder)
    if key in _CLEANED:
        return []
    _CLEANED.add(key)
    removed: list[str] = []
    try:
        with os.scandir(key) as entries:
            stale = [
                entry
                for entry in entries
                if (match := _PART_NAME.match(entry.name)) and not _process_alive(int(match["pid"]))
            ]
    except OSError:
        return removed
    for entry in stale:
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
    return removed


#: Error numbers only writing can cause: raised by a write inside the block, they are the output's fault.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


def _not_writable(target: Path, error: OSError) -> OutputNotWritable:
    return OutputNotWritable(error.errno, error.strerror or str(error), str(target))


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open ``path`` for binary writing; the file appears under its name only if the block succeeds.

    :raises OutputNotWritable: (a ``UsageError`` and an ``OSError``) the folder cannot be made or written, the
        target is a folder, or the disk is full: a clear message instead of a traceback.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(target.parent)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
            mode="wb", dir=target.parent, prefix=part_prefix(target), suffix=PART_SUFFIX, delete=False
        )
    except OSError as error:
        raise _not_writable(target, error) from error
    committing = False
    try:
        yield handle  # type: ignore[misc]
        committing = True
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            handle.close()
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        if isinstance(error, OSError) and not isinstance(error, OutputNotWritable):
            if committing or error.errno in _WRITE_ERRNOS:
                raise _not_writable(target, error) from error
        raise


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path) as handle:
        handle.write(payload)
