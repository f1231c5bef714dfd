"""The reader's byte-range options (``line_offset``, ``at_file_start``, ``at_file_end``) and the per-file
summary left to the caller; plus line order when an over-long line comes while the encoding is undecided."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import pytest

from mk2ds.plugins.reader import LogReader, encoding_detected_finding, open_log, truncation_findings
from mk2ds.plugins.reader import blocks as mk2_blocks
from mk2ds.plugins.reader.byte_ranges import line_boundaries

VALID = b"03/05/2018 10:12:03.114 +0900 sn=2101 evt=ps subEvt=start"


def read(data: bytes, **options: Any) -> LogReader:
    reader = open_log(io.BytesIO(data), "a.log", argparse.Namespace(**options))
    reader.records = list(reader)  # type: ignore[attr-defined]
    return reader


def test_a_part_needs_the_files_encoding() -> None:
    with pytest.raises(ValueError, match="decided once"):
        open_log(io.BytesIO(b""), "a.log", argparse.Namespace(line_offset=10, at_file_start=False))


def test_line_numbers_continue_from_the_offset() -> None:
    reader = read(
        VALID + b"\nnot a line\n" + VALID + b"\n",
        encoding="utf-8",
        line_offset=41,
        at_file_start=False,
        provenance=True,
    )
    assert [record["_line"] for record in reader.records] == [42, 44]  # type: ignore[attr-defined]
    assert reader.rejects == [(43, b"not a line")] and [finding.line for finding in reader.findings] == [43]
    assert reader.stats["lines"] == 3  # the part's own lines


def test_a_bom_is_skipped_only_at_the_start_of_the_file() -> None:
    middle = read(mk2_blocks.BOM + VALID + b"\n", encoding="utf-8", line_offset=5, at_file_start=False)
    assert middle.stats["rejected"] == 1 and not middle.stats["bom"]
    first = read(mk2_blocks.BOM + VALID + b"\n", encoding="utf-8", at_file_end=False)
    assert first.stats["records"] == 1 and first.stats["bom"]


def test_the_end_of_file_marker_counts_only_at_the_end_of_the_file() -> None:
    data = VALID + b"\r\n\x1a"
    inner = read(data, encoding="utf-8", at_file_end=False)
    assert inner.stats["rejected"] == 1 and not inner.stats["eof_marker"]
    last = read(data, encoding="utf-8", line_offset=3, at_file_start=False)
    assert last.stats["blank"] == 1 and last.stats["eof_marker"]


def test_a_part_counts_every_finding_and_leaves_the_summary_to_the_caller() -> None:
    part = read(b"bad\n" * 150, encoding="utf-8", at_file_end=False)
    assert part.finding_counts == {"log-unparseable": 150} and len(part.findings) == 100
    assert not [finding for finding in part.findings if finding.code == "log-findings-truncated"]
    whole = read(b"bad\n" * 150)
    [summary] = [finding for finding in whole.findings if finding.code == "log-findings-truncated"]
    assert [summary] == truncation_findings("a.log", {"log-unparseable": 150}, 100)


def test_the_encoding_finding_is_the_readers() -> None:
    reader = read(VALID + b" path=" + "C:\\メモ.txt".encode("cp932") + b"\n")
    assert reader.stats["encoding"] == "cp932"
    assert [finding for finding in reader.findings if finding.code == "log-encoding-detected"] == [
        encoding_detected_finding("a.log")
    ]


def test_an_over_long_line_while_the_encoding_is_undecided_keeps_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mk2_blocks, "CHUNK_SIZE", 64)
    monkeypatch.setattr(mk2_blocks, "MAX_LINE_BYTES", 120)
    japanese = VALID + b" path=" + "C:\\メモ.txt".encode("cp932")
    reader = read(japanese + b"\n" + b"z" * 300 + b"\n" + VALID + b"\n", provenance=True)
    assert [record["_line"] for record in reader.records] == [1, 3]  # type: ignore[attr-defined]
    assert [(finding.code, finding.line) for finding in reader.findings if finding.line] == [("log-line-too-long", 2)]
    assert [number for number, _raw in reader.rejects] == [2]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_log_is_never_split_into_ranges(tmp_path: Path, encoding: str) -> None:
    text = (VALID.decode() + "\r\n") * 200
    data = text.encode(encoding) if encoding == "utf-16" else b"\xfe\xff" + text.encode(encoding)
    path = tmp_path / "a.log"
    path.write_bytes(data)
    assert line_boundaries(path, len(data), 1000) == [0, len(data)]
    utf8 = tmp_path / "b.log"
    utf8.write_bytes(text.encode())
    assert len(line_boundaries(utf8, len(text), 1000)) > 2  # the same lines in UTF-8 are split


def test_the_reader_refuses_a_range_of_a_utf16_log() -> None:
    data = ((VALID.decode() + "\r\n") * 3).encode("utf-16")
    with pytest.raises(ValueError, match="UTF-16 log cannot be read in byte ranges"):
        read(data, encoding="utf-8", at_file_end=False)
    whole = read(data, encoding="utf-8")
    assert whole.stats["records"] == 3 and whole.stats["encoding"] == "utf-16-le"
