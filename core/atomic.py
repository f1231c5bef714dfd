"""Atomic output files: written under a temporary name in the target folder, renamed into place when complete.

An interrupted run therefore never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mk2ds.core.errors import OutputNotWritable

__all__ = ["atomic_writer", "write_atomic"]

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
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
            mode="wb", dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
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
