"""Line-aligned byte ranges of a Mark II log, so that many workers can read one large log (a library).

Splitting
    :func:`line_boundaries` cuts a file into about equal ranges, each starting at a line start (offset 0,
    or just after a line feed): a line is never cut, and never read twice. A range reader therefore sees
    whole lines only, and CR LF pairs are never separated.

Reading
    :class:`RangeStream` serves one range to the reader, and ends every read at the file offsets where a
    whole-file read would end a chunk (multiples of :data:`mk2ds.plugins.reader.blocks.CHUNK_SIZE`). The
    reader's handling of lines over 1 MiB depends on where chunks end, so with the same chunk ends a range
    gives exactly the lines, findings and rejects that the same lines give in a whole-file read.

Per-file decisions
    The reader decides some things once per file: the encoding (``auto``: UTF-8 or CP932, from the first
    lines with non-ASCII bytes), the BOM (only at offset 0), the 0x1A end-of-file marker (only on the last
    line), and line numbers (counted from the first line). A range cannot know these by itself, so every
    range of a split file is first *scanned* (:func:`scan_range`: its number of lines and, for ``auto``,
    what :class:`~mk2ds.plugins.reader.blocks.EncodingSniffer` would see of it), and the client turns the
    scans into :class:`FilePart` objects (:func:`plan_parts`): absolute line offsets, the file's encoding
    decided once by :func:`decide_encoding` (exactly the sniffer's answer for the whole file), and where the
    range lies. Scanning reads at memory speed (counting bytes), about 1 % of the cost of converting.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from mk2ds.plugins.reader import blocks as mk2_blocks
from mk2ds.plugins.reader.blocks import BlockStream, EncodingSniffer, cp932_only

__all__ = [
    "FilePart",
    "RangeScan",
    "RangeStream",
    "decide_encoding",
    "line_boundaries",
    "parse_size",
    "part_writer",
    "plan_parts",
    "scan_range",
]

_SNIFFER = EncodingSniffer()
#: The sniffer's own limits: how many non-ASCII lines, and how many bytes from the first one, decide.
SNIFF_LINES = _SNIFFER.lines
SNIFF_BYTES = _SNIFFER.max_bytes
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"64M"`` → 67108864; plain digits are bytes; K, M, G, T are powers of 1024. :raises ValueError:"""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (write e.g. 64M, 1G or 1048576)")
    return int(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " ")


@dataclass(frozen=True)
class FilePart:
    """One range of a log as the reader must read it (see :mod:`mk2ds.plugins.reader`)."""

    start: int
    end: int
    line_offset: int = 0
    encoding: str = "auto"
    at_file_start: bool = True
    at_file_end: bool = True

    def reader_options(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "line_offset": self.line_offset,
            "at_file_start": self.at_file_start,
            "at_file_end": self.at_file_end,
        }


def _line_start_at_or_after(handle: BinaryIO, position: int, size: int) -> int:
    """The first offset ``>= position`` that starts a line (just after a line feed), or ``size``."""
    if position <= 0:
        return 0
    handle.seek(position - 1)
    offset = position - 1
    while True:
        data = handle.read(1 << 16)
        if not data:
            return size
        cut = data.find(b"\n")
        if cut >= 0:
            return min(offset + cut + 1, size)
        offset += len(data)


def line_boundaries(path: str | os.PathLike[str], size: int, range_size: int) -> list[int]:
    """``[0, b1, …, size]``: about ``size / range_size`` ranges, each starting at a line start.

    A file with fewer line starts than wanted cuts (one huge line, say) gets fewer ranges. A file that starts
    with a UTF-16 byte-order mark is one range: the reader transcodes it from its start (and a byte 0x0A there
    is half a character, not a line end).
    """
    count = max(1, -(-size // max(1, range_size)))
    points = [0]
    if count > 1:
        with open(path, "rb") as handle:
            if handle.read(2) in mk2_blocks.UTF16_BOMS:
                return [0, size]
            for index in range(1, count):
                start = _line_start_at_or_after(handle, index * size // count, size)
                if points[-1] < start < size:
                    points.append(start)
    return [*points, size] if size > 0 else [0, 0]


class RangeStream:
    """``read`` over ``[start, end)`` of an open binary file, ending reads where a whole-file read would."""

    def __init__(self, handle: BinaryIO, start: int, end: int, alignment: int | None = None) -> None:
        self.handle = handle
        self.position = start
        self.end = end
        self.alignment = alignment or mk2_blocks.CHUNK_SIZE
        handle.seek(start)

    def read(self, size: int = -1) -> bytes:
        remaining = self.end - self.position
        if remaining <= 0:
            return b""
        next_chunk_end = (self.position // self.alignment + 1) * self.alignment
        stop = min(self.end, next_chunk_end if size < 0 else min(self.position + size, next_chunk_end))
        data = self.handle.read(stop - self.position)
        self.position += len(data)
        return data

    def readable(self) -> bool:
        return True


@contextlib.contextmanager
def part_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Write one part of an output: under a temporary name, renamed when complete (so that a task run again
    after its worker died never leaves a torn part), but without ``fsync``: parts are merged into the output,
    which is made durable, and deleted; after a crash they are not needed, and sparing the disk a second
    synchronous copy of every byte matters (parts then often never leave the page cache)."""
    folder, name = os.path.split(os.fspath(path))
    os.makedirs(folder or ".", exist_ok=True)
    handle = tempfile.NamedTemporaryFile(mode="wb", dir=folder or None, prefix=f".{name}.", suffix=".tmp", delete=False)  # noqa: SIM115
    try:
        yield handle  # type: ignore[misc]
        handle.close()
        os.replace(handle.name, path)
    except BaseException:
        handle.close()
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


@dataclass(frozen=True)
class RangeScan:
    """What a range holds for the per-file decisions.

    ``lines``: lines as the reader counts them. ``bom``: the range starts the file with a UTF-8 BOM.
    ``fed``: the bytes the encoding sniffer would count over the range (each line it sees as its length + 1;
    lines over 1 MiB that the reader skips are not seen). ``non_ascii``: the first lines with non-ASCII
    bytes, as ``(start, end, cp932_only)`` in those ``fed`` coordinates, up to and including the first that
    is not CP932-only, at most :data:`SNIFF_LINES` (nothing beyond can change the answer).
    """

    lines: int
    bom: bool = False
    fed: int = 0
    non_ascii: tuple[tuple[int, int, bool], ...] = ()


def scan_range(
    path: str | os.PathLike[str], start: int, end: int, *, encoding: str = "auto", sniff_lines: int = SNIFF_LINES
) -> RangeScan:
    """Count the lines of ``[start, end)`` and, when ``encoding`` is ``auto``, note what the sniffer needs."""
    long_lines = 0

    def on_long_line(head: bytes, length: int) -> None:
        nonlocal long_lines
        long_lines += 1

    lines = fed = 0
    entries: list[tuple[int, int, bool]] = []
    collecting = encoding == "auto"
    with open(path, "rb") as handle:
        stream = cast(BinaryIO, RangeStream(handle, start, end))
        source = BlockStream(stream, skip_bom=start == 0 and encoding != "cp932", on_long_line=on_long_line)
        for block, _final in source:
            terminated = block.endswith(b"\n")
            lines += block.count(b"\n") + (0 if terminated or not block else 1)
            if not collecting or block.isascii():
                fed += len(block) + (0 if terminated or not block else 1)
                continue
            pieces = block.split(b"\n")
            if terminated:
                pieces.pop()
            for piece in pieces:
                size = len(piece) + 1
                if collecting and not piece.isascii():
                    japanese = cp932_only(piece)
                    entries.append((fed, fed + size, japanese))
                    collecting = japanese and len(entries) < sniff_lines
                fed += size
        bom = source.bom
    return RangeScan(lines + long_lines, bom, fed, tuple(entries))


def decide_encoding(scans: Sequence[RangeScan], *, lines: int = SNIFF_LINES, max_bytes: int = SNIFF_BYTES) -> str:
    """The encoding ``auto`` gives the whole file, from the scans of all its ranges in file order.

    The same rule as :class:`~mk2ds.plugins.reader.blocks.EncodingSniffer`: a BOM means UTF-8; otherwise,
    from the first line with non-ASCII bytes on, a non-ASCII line that is not CP932-only means UTF-8, and
    ``lines`` CP932-only lines, or ``max_bytes`` bytes (counted as the sniffer counts them), mean CP932.
    """
    if scans and scans[0].bom:
        return "utf-8"
    base = 0
    first: int | None = None
    seen = 0
    for scan in scans:
        for start, end, japanese in scan.non_ascii:
            start, end = base + start, base + end
            if first is None:
                first = start
            elif start - first >= max_bytes:
                return "cp932"  # an ASCII line before this one already reached the byte limit
            if not japanese:
                return "utf-8"
            seen += 1
            if seen >= lines or end - first >= max_bytes:
                return "cp932"
        base += scan.fed
    return "utf-8" if first is None else "cp932"


def plan_parts(boundaries: Sequence[int], scans: Sequence[RangeScan], encoding: str) -> tuple[list[FilePart], bool]:
    """The parts of a split file, and whether ``auto`` decided CP932 (the reader then reports it)."""
    decided = decide_encoding(scans) if encoding == "auto" else encoding
    parts = []
    offset = 0
    last = len(scans) - 1
    for index, scan in enumerate(scans):
        parts.append(FilePart(boundaries[index], boundaries[index + 1], offset, decided, index == 0, index == last))
        offset += scan.lines
    return parts, encoding == "auto" and decided == "cp932"
