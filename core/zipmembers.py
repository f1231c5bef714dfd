"""Reading zip members as data: damage is a finding about the member, and inflation has a budget.

A zip member can be damaged in ways only reading finds (a bad CRC at its end, a broken deflate stream, a
member shorter than its header says). :mod:`zipfile` raises ``BadZipFile``, ``zlib.error`` or ``EOFError``
for these, which are not ``OSError``: a check that reads a log would crash and be reported as a plugin
failure (exit 3). :class:`MemberStream` turns all of them into :class:`UnreadableEntry`, an ``OSError`` that
names the member, so every check that handles unreadable files handles damaged members too.

:func:`inflation_budget` is the aggregate decompression-bomb guard: a whole archive may inflate to at most
``ratio`` times its own size (and always to ``floor`` bytes), however the total is split between members.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import IO, Any

__all__ = ["MEMBER_ERRORS", "MemberStream", "UnreadableEntry", "inflation_budget"]

#: What :mod:`zipfile` raises for a member that is damaged (as opposed to a file system error).
MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


class UnreadableEntry(OSError):
    """An entry that is listed but cannot be read (a damaged zip member): a data problem, not a crash."""


def inflation_budget(archive_bytes: int, ratio: int, floor: int) -> int:
    """The most a whole archive of ``archive_bytes`` may inflate to."""
    return max(floor, ratio * archive_bytes)


class MemberStream(io.RawIOBase):
    """A zip member's stream whose read errors become :class:`UnreadableEntry` naming the member."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        super().__init__()
        self._stream = stream
        self.name = name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._stream.seekable())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._guarded(self._stream.seek, offset, whence)  # type: ignore[no-any-return]

    def tell(self) -> int:
        return self._stream.tell()

    def readinto(self, buffer: Any) -> int:
        data = self._guarded(self._stream.read, len(buffer))
        count = len(data)
        buffer[:count] = data
        return count

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()

    def _guarded(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except MEMBER_ERRORS as error:
            raise UnreadableEntry(f"{self.name}: damaged zip member ({type(error).__name__}: {error})") from error
