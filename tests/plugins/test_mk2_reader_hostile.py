"""Logs in encodings the reader does not read yet (plugins/mk2_reader.py, mk2_blocks.py: another engineer's
files; kept as strict xfail). ``mk2ds verify`` already names the problem per file (``log-utf16``)."""

from __future__ import annotations

import io

import pytest

from mk2ds.plugins.mk2_reader import open_log

LINE = '03/01/2018 19:00:00.000 +0900 sn=1 evt=win subEvt=active winTitle="無題 - メモ帳"\r\n'


@pytest.mark.xfail(strict=True, reason="mk2_reader/mk2_blocks skip only a UTF-8 BOM; a UTF-16 log with BOM (FF FE) has every line rejected")
def test_a_utf16_log_with_bom_is_read() -> None:
    reader = open_log(io.BytesIO((LINE * 3).encode("utf-16")), "a.log")
    records = list(reader)
    assert [record["winTitle"] for record in records] == ["無題 - メモ帳"] * 3
    assert reader.stats["rejected"] == 0
