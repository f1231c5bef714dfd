"""Logs in other encodings: UTF-16 with a BOM is transcoded as it is read; line numbers stay the file's."""

from __future__ import annotations

import argparse
import io

import pytest

from mk2ds.plugins.reader import blocks as mk2_blocks
from mk2ds.plugins.reader import open_log

LINE = '03/01/2018 19:00:00.000 +0900 sn=1 evt=win subEvt=active winTitle="無題 - メモ帳"\r\n'


def test_a_utf16_log_with_bom_is_read() -> None:
    reader = open_log(io.BytesIO((LINE * 3).encode("utf-16")), "a.log")
    records = list(reader)
    assert [record["winTitle"] for record in records] == ["無題 - メモ帳"] * 3
    assert reader.stats["rejected"] == 0


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_utf16_keeps_line_numbers_across_chunks(monkeypatch: pytest.MonkeyPatch, bom: bytes, codec: str) -> None:
    monkeypatch.setattr(mk2_blocks, "CHUNK_SIZE", 7)  # odd: chunks end inside code units and lines
    text = LINE + "not a line\r\n\r\n" + LINE
    data = bom + text.encode(codec)
    reader = open_log(io.BytesIO(data), "a.log", argparse.Namespace(provenance=True))
    records = list(reader)
    assert [record["_line"] for record in records] == [1, 4]
    assert reader.rejects == [(2, b"not a line")]
    expected = {"lines": 4, "blank": 1, "bom": True, "encoding": codec, "bytes": len(data)}
    assert {key: reader.stats[key] for key in expected} == expected


def test_broken_utf16_rejects_only_its_lines() -> None:
    data = (
        b"\xff\xfe"
        + LINE.encode("utf-16-le")
        + "\ud800\n".encode("utf-16-le", "surrogatepass")
        + LINE.encode("utf-16-le")
        + b"x"
    )
    reader = open_log(io.BytesIO(data), "a.log")
    assert len(list(reader)) == 2
    assert [(finding.code, finding.line) for finding in reader.findings] == [
        ("log-encoding-error", 2),
        ("log-encoding-error", 4),
    ]
    assert reader.stats["lines"] == reader.stats["records"] + reader.stats["rejected"] == 4


def test_a_utf16_bom_is_not_taken_when_cp932_is_forced() -> None:
    reader = open_log(io.BytesIO((LINE * 2).encode("utf-16")), "a.log", argparse.Namespace(encoding="cp932"))
    assert list(reader) == [] and reader.stats["encoding"] == "cp932" and not reader.stats["bom"]


def test_utf8_and_cp932_are_not_transcoded() -> None:
    for data in (LINE.encode("utf-8"), mk2_blocks.BOM + LINE.encode("utf-8"), LINE.encode("cp932")):
        reader = open_log(io.BytesIO(data), "a.log")
        assert [record["winTitle"] for record in reader] == ["無題 - メモ帳"]
        assert reader.stats["encoding"] in {"utf-8", "cp932"} and reader.stats["bytes"] == len(data)
