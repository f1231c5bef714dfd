"""Byte ranges: cuts at line starts, reads that end where a whole-file read ends its chunks, and the per-file
encoding decision taken from the scans of all ranges (exactly the sniffer's answer for the whole file)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mk2ds.plugins.reader.blocks import EncodingSniffer
from mk2ds.plugins.reader.byte_ranges import (
    RangeStream,
    decide_encoding,
    line_boundaries,
    parse_size,
    part_writer,
    plan_parts,
    scan_range,
)

JAPANESE = "C:\\Users\\山田\\デスクトップ\\メモ.txt"
CP932 = ("path=" + JAPANESE).encode("cp932")
UTF8 = ("path=" + JAPANESE).encode("utf-8")
LONG_ASCII = b"x" * 90
#: CP932 lines and long ASCII lines are frequent, so that the sniffer's line and byte limits are reached often.
LINES = st.sampled_from(
    [
        b"03/01/2018 19:55:17.836 +0900 sn=1 evt=ps",
        b"",
        UTF8,
        CP932,
        CP932,
        CP932,
        b"broken \xff\xfe bytes",
        b"\xef\xbb\xbf not at the start",
        LONG_ASCII,
        LONG_ASCII,
    ]
)


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "a.log"
    path.write_bytes(data)
    return path


def _join(lines: list[bytes], newline: bytes, bom: bool) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + b"".join(line + newline for line in lines)


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 1 << 20), ("64M", 64 << 20), ("2g", 2 << 30), ("512 KiB", 512 << 10), ("0", 0)]
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_parse_size_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINES, max_size=40), range_size=st.integers(1, 300), newline=st.sampled_from([b"\n", b"\r\n"]))
def test_boundaries_start_lines_and_cover_the_file(
    tmp_path: Path, lines: list[bytes], range_size: int, newline: bytes
) -> None:
    data = _join(lines, newline, bom=False) + b"last line without terminator"
    path = _file(tmp_path, data)
    points = line_boundaries(path, len(data), range_size)
    assert points[0] == 0 and points[-1] == len(data)
    assert all(a < b for a, b in itertools.pairwise(points))
    assert all(data[point - 1 : point] == b"\n" for point in points[1:-1])
    assert len(points) - 1 <= max(1, -(-len(data) // range_size))


def test_one_huge_line_is_one_range(tmp_path: Path) -> None:
    data = b"y" * 10_000 + b"\n"
    assert line_boundaries(_file(tmp_path, data), len(data), 100) == [0, len(data)]


def test_range_reads_end_where_whole_file_chunks_end(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    path = _file(tmp_path, data)
    with open(path, "rb") as handle:
        stream = RangeStream(handle, 1000, 9000, alignment=1024)
        pieces = []
        while piece := stream.read(1024):
            pieces.append(piece)
    assert b"".join(pieces) == data[1000:9000]
    ends = [1000 + sum(map(len, pieces[: index + 1])) for index in range(len(pieces))]
    assert ends[:-1] == list(range(1024, 9000, 1024)) and ends[-1] == 9000


def _sniffed(data: bytes, lines: int, max_bytes: int) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    sniffer = EncodingSniffer(lines=lines, max_bytes=max_bytes)
    sniffer.feed(data)
    return sniffer.finish()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(LINES, max_size=30),
    cuts=st.lists(st.integers(0, 10_000), max_size=6),
    limit=st.integers(1, 5),
    max_bytes=st.integers(20, 300),
    bom=st.booleans(),
)
@example(
    lines=[CP932, LONG_ASCII, LONG_ASCII, UTF8], cuts=[50], limit=4, max_bytes=100, bom=False
)  # bytes limit on ASCII lines
@example(lines=[CP932, CP932, CP932, UTF8], cuts=[60], limit=5, max_bytes=100, bom=False)  # bytes limit on a CP932 line
@example(lines=[CP932, CP932, UTF8], cuts=[10], limit=2, max_bytes=10_000, bom=False)  # line limit across ranges
@example(lines=[CP932, UTF8], cuts=[], limit=4, max_bytes=10_000, bom=True)  # a BOM decides
def test_decision_from_ranges_is_the_sniffers_for_the_whole_file(
    tmp_path: Path, lines: list[bytes], cuts: list[int], limit: int, max_bytes: int, bom: bool
) -> None:
    data = _join(lines, b"\r\n", bom)
    path = _file(tmp_path, data)
    starts = sorted(
        {
            0,
            *(
                point
                for point in (data.find(b"\n", cut % (len(data) + 1)) + 1 for cut in cuts)
                if 0 < point < len(data)
            ),
        }
    )
    points = [*starts, len(data)]
    scans = [scan_range(path, a, b, sniff_lines=limit) for a, b in itertools.pairwise(points)]
    assert decide_encoding(scans, lines=limit, max_bytes=max_bytes) == _sniffed(data, limit, max_bytes)
    assert sum(scan.lines for scan in scans) == len(lines)


def test_scan_counts_lines_as_the_reader_does(tmp_path: Path) -> None:
    data = b"a\r\nb\n\nlast"
    path = _file(tmp_path, data)
    assert scan_range(path, 0, len(data)).lines == 4
    assert scan_range(path, 0, 3).lines == 1 and scan_range(path, 3, len(data)).lines == 3


def test_plan_parts_numbers_lines_and_places_parts(tmp_path: Path) -> None:
    data = ("path=" + JAPANESE + "\n").encode("cp932") * 3 + b"ascii\n" * 4
    path = _file(tmp_path, data)
    points = line_boundaries(path, len(data), 30)
    scans = [scan_range(path, a, b) for a, b in itertools.pairwise(points)]
    parts, detected = plan_parts(points, scans, "auto")
    assert detected and {part.encoding for part in parts} == {"cp932"}
    assert [part.line_offset for part in parts] == [
        sum(scan.lines for scan in scans[:index]) for index in range(len(scans))
    ]
    assert parts[0].at_file_start and not parts[0].at_file_end and parts[-1].at_file_end and not parts[-1].at_file_start
    forced, detected = plan_parts(points, scans, "utf-8")
    assert not detected and {part.encoding for part in forced} == {"utf-8"}


def test_a_part_appears_only_complete(tmp_path: Path) -> None:
    target = tmp_path / "sub" / ".out.jsonl.run.00001.part"
    with pytest.raises(RuntimeError), part_writer(target) as handle:
        handle.write(b"half")
        raise RuntimeError("worker gone")
    assert list((tmp_path / "sub").iterdir()) == []
    with part_writer(target) as handle:
        handle.write(b"whole\n")
    assert target.read_bytes() == b"whole\n" and [path.name for path in (tmp_path / "sub").iterdir()] == [target.name]
