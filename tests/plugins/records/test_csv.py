"""The ``csv`` record output: columns from a first pass or --columns, BOM/Excel mode, golden file."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mk2ds.core import UsageError
from mk2ds.core.outputs import open_record_writer
from mk2ds.core.registry import find_output
from mk2ds.plugins.records.csv import CsvWriter, cell_text, csv_record

DATA = Path(__file__).parents[2] / "data" / "outputs"
GOLDEN = Path(__file__).parents[2] / "golden" / "outputs"


def load_records() -> list[dict[str, Any]]:
    with open(DATA / "records.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def render(pm: pluggy.PluginManager, records: Iterable[Mapping[str, Any]], **options: Any) -> bytes:
    stream = io.BytesIO()
    writer = open_record_writer(find_output(pm, "records", "csv"), stream, argparse.Namespace(**options))
    for record in records:
        writer.write(record)
    writer.close()
    return stream.getvalue()


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_columns_are_every_key_in_order_of_first_appearance(pm: pluggy.PluginManager) -> None:
    records = [csv_record(record) for record in load_records()]
    table = rows(render(pm, load_records()))
    header, body = table[0], table[1:]
    expected: list[str] = []
    for record in records:
        expected += [key for key in record if key not in expected]
    assert header == expected and header[0] == "time"
    assert len(body) == len(records)
    for row, record in zip(body, records, strict=False):
        cells = dict(zip(header, row, strict=False))
        for key in header:
            assert cells[key] == (str(record[key]) if key in record else "")


def test_values_with_quotes_commas_and_japanese_round_trip(pm: pluggy.PluginManager) -> None:
    record = {"time": "2018-03-05T10:20:11.512+09:00", "clipData": '接続先: "\\\\h\\C$", a\nb', "sn": 7}
    header, row = rows(render(pm, [record]))
    assert dict(zip(header, row, strict=False)) == {key: str(value) for key, value in record.items()}


def test_default_has_no_bom_and_lf_line_ends(pm: pluggy.PluginManager) -> None:
    data = render(pm, load_records()[:3])
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in data and data.count(b"\n") == 4


def test_bom_option(pm: pluggy.PluginManager) -> None:
    plain = render(pm, load_records()[:3])
    assert render(pm, load_records()[:3], csv_bom=True) == b"\xef\xbb\xbf" + plain


def test_excel_mode_bom_crlf_and_formula_guard(pm: pluggy.PluginManager) -> None:
    records = [
        {
            "time": "2018-03-05T10:12:03.114+09:00",
            "cmd": '=HYPERLINK("http://x")',
            "a": "-",
            "b": "-5",
            "c": "@SUM(1)",
            "d": "+x",
        },
    ]
    data = render(pm, records, csv_excel=True)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 2 and data.replace(b"\r\n", b"").count(b"\n") == 0
    header, row = rows(data)
    cells = dict(zip(header, row, strict=False))
    assert cells["cmd"] == '\'=HYPERLINK("http://x")'
    assert (cells["a"], cells["b"], cells["c"], cells["d"]) == ("-", "-5", "'@SUM(1)", "'+x")
    assert cell_text("=1+1") == "=1+1"  # only --excel defuses formulas


def test_fixed_columns_stream_and_report_what_was_left_out() -> None:
    stream, notes = io.BytesIO(), io.StringIO()
    writer = CsvWriter(stream, columns=["time", "evt", "missing"], notes=notes)
    writer.write({"time": "t1", "evt": "ps", "sn": 1})
    assert stream.getvalue() == b"time,evt,missing\nt1,ps,\n"  # rows are written at once
    writer.write({"time": "t2", "evt": "net", "sn": 2, "psPath": "p"})
    writer.close()
    assert writer.omitted == {"psPath": 1, "sn": 2}
    assert "psPath (1), sn (2)" in notes.getvalue()


def test_columns_option(pm: pluggy.PluginManager, capsys: pytest.CaptureFixture[str]) -> None:
    data = render(pm, load_records()[:2], csv_columns="time, sn,psPath")
    assert rows(data)[0] == ["time", "sn", "psPath"]
    assert "fields left out by --columns" in capsys.readouterr().err
    with pytest.raises(UsageError, match="more than once"):
        render(pm, [], csv_columns="time,sn,time")
    with pytest.raises(UsageError, match="at least one"):
        render(pm, [], csv_columns=" , ")


def test_first_pass_spills_to_disk_not_memory() -> None:
    stream = io.BytesIO()
    writer = CsvWriter(stream)
    for number in range(1000):
        writer.write({"time": "t", "sn": number, "cmd": "x" * 100})
    assert stream.getvalue() == b""  # nothing is written before the key set is known
    assert writer._spill is not None and writer._spill.tell() > 100_000
    writer.close()
    assert stream.getvalue().count(b"\n") == 1001


def test_no_records_gives_a_header_only(pm: pluggy.PluginManager) -> None:
    assert render(pm, []) == b"time\n"


def test_golden(pm: pluggy.PluginManager, golden: Callable[[Path, str], None]) -> None:
    golden(GOLDEN / "records.csv", render(pm, load_records()).decode("utf-8"))


def test_time_is_the_resolved_instant_and_never_utc_when_unknown(pm: pluggy.PluginManager) -> None:
    records = [
        {"time": "2018-03-27T19:44:53.926", "time_offset": "+09:00", "time_offset_source": "sysinfo", "sn": 1},
        {"time": "2018-03-27T19:44:54.000", "time_offset_source": "unknown", "sn": 2},
        {"time": "2018-03-27T19:44:55.000+09:00", "sn": 3},
    ]
    table = rows(render(pm, records))
    assert table[0] == ["time", "time_offset", "time_offset_source", "sn"]
    assert table[1:] == [
        ["2018-03-27T19:44:53.926+09:00", "+09:00", "sysinfo", "1"],
        ["2018-03-27T19:44:54.000", "", "unknown", "2"],
        ["2018-03-27T19:44:55.000+09:00", "", "", "3"],
    ]


def test_text_in_an_integer_field_goes_to_a_raw_column(pm: pluggy.PluginManager) -> None:
    records = [
        {"time": "2018-03-05T10:12:03.114+09:00", "evt": "net", "srcPort": 50211, "recv": 2**64},
        {"time": "2018-03-05T10:12:04.114+09:00", "evt": "session", "srcPort": "-", "recv": ""},
    ]
    table = rows(render(pm, records))
    assert table[0] == ["time", "evt", "srcPort", "recv", "srcPort_raw", "recv_raw"]
    assert table[1][2:] == ["50211", str(2**64), "", ""]
    assert table[2][2:] == ["", "", "-", ""]
