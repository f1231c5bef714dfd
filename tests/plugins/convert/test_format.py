"""Records back to Mark II lines: ``format_record`` and ``mk2ds format``; converting again gives the same records."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mk2ds.plugins.convert.format import FormatError, format_record
from mk2ds.plugins.reader import open_log
from mk2ds.plugins.reader.tokenizer import INTEGER_FIELDS, NO_VALUE_MARKERS, integer_value

DATA = Path(__file__).parents[2] / "data" / "mk2log"
COMPOSED = (DATA / "composed.log").read_text(encoding="utf-8").splitlines()


def parse(lines: list[str]) -> list[dict[str, Any]]:
    reader = open_log(io.BytesIO("".join(line + "\n" for line in lines).encode("utf-8")), "x.log")
    records = list(reader)
    assert reader.stats["rejected"] == 0, reader.findings
    return records


def test_composed_lines_come_back_byte_for_byte() -> None:
    records = parse(COMPOSED[:44])
    assert [format_record(record) for record in records] == COMPOSED[:44]


def test_seed_lines_come_back_without_the_extra_spaces() -> None:
    lines = (DATA / "seed-lines.log").read_text(encoding="utf-8").splitlines()
    formatted = [format_record(record) for record in parse(lines)]
    assert formatted == [line.replace('"PC1"  psGUID', '"PC1" psGUID') for line in lines]


def test_quoting_follows_the_product() -> None:
    record = {
        "time": "2018-03-05T09:01:15.442+09:00",
        "evt": "session",
        "srcIP": "::1",
        "srcPort": 50388,
        "usr": "PC1$",
        "mark": "-",
    }
    assert (
        format_record(record)
        == '03/05/2018 09:01:15.442 +0900 evt=session srcIP="::1" srcPort="50388" usr="PC1$" mark=-'
    )
    net = {"time": "2018-03-05T09:01:15.442", "evt": "net", "srcIP": "172.24.1.1", "srcPort": 49624}
    assert format_record(net) == "03/05/2018 09:01:15.442 evt=net srcIP=172.24.1.1 srcPort=49624"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("", '""'),
        ("a b", '"a b"'),
        ('"x', '"""x"'),
        ('a"b', 'a"b'),
        ("a\rb", '"a\rb"'),
        ("a\x1a", '"a\x1a"'),
        ("C:\\dir\\", "C:\\dir\\"),
    ],
)
def test_values_are_quoted_only_when_they_must_be(value: str, written: str) -> None:
    assert format_record({"time": "2018-03-05T09:01:15.442", "x": value}) == f"03/05/2018 09:01:15.442 x={written}"


def test_provenance_keys_are_left_out() -> None:
    assert (
        format_record({"time": "2018-03-05T09:01:15.442", "sn": 1, "_file": "a.log", "_line": 3})
        == "03/05/2018 09:01:15.442 sn=1"
    )


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"sn": 1}, "needs a time"),
        ({"time": "2018-03-05 09:01:15"}, "time must look like"),
        ({"time": "2018-02-30T09:01:15.442"}, "no such date"),
        ({"time": "2018-03-05T09:01:15.442+25:00"}, "offset"),
        ({"time": "2018-03-05T09:01:15.442"}, "at least one key"),
        ({"time": "2018-03-05T09:01:15.442", "cmd": "a\nb"}, "line feed"),
        ({"time": "2018-03-05T09:01:15.442", "bad-key": "x"}, "not a Mark II key"),
        ({"time": "2018-03-05T09:01:15.442", "com": None}, "text or an integer"),
        ({"time": "2018-03-05T09:01:15.442", "hide": True}, "text or an integer"),
        ({"time": "2018-03-05T09:01:15.442", "pid": 5}, "text field"),
        ({"time": "2018-03-05T09:01:15.442", "sn": "12"}, "integer field"),
    ],
)
def test_unformattable_records_are_refused(record: dict[str, Any], words: str) -> None:
    with pytest.raises(FormatError, match=words):
        format_record(record)


def test_non_canonical_text_in_integer_field_is_fine() -> None:
    record = {
        "time": "2018-03-05T09:01:15.442",
        "time_offset_source": "unknown",
        "sn": "007",
        "evt": "x",
        "subEvt": "y",
        "srcPort": "-",
        "size": "",
    }
    assert parse([format_record(record)]) == [record]


def test_offset_keys_of_a_zone_less_record_are_not_written_back() -> None:
    record = {"time": "2018-03-05T09:01:15.442", "time_offset": "+09:00", "time_offset_source": "sysinfo", "sn": 1}
    assert format_record(record) == "03/05/2018 09:01:15.442 sn=1"


# ---------------------------------------------------------------------------------------------- property

_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda key: key not in ("time", "_file", "_line", "time_offset", "time_offset_source")
)
_text = st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=12)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
    time = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    if moment.year < 1000:
        time = f"{moment.year:04d}" + time[time.index("-") :]
    if draw(st.booleans()):
        time += draw(st.sampled_from(["+", "-"])) + f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
    record: dict[str, Any] = {"time": time}
    if len(time) == 23:  # zone-less: the reader says the offset is unknown (no --assume-offset here)
        record["time_offset_source"] = "unknown"
    record["sn"] = draw(
        st.one_of(
            st.integers(-(10**20), 10**20),
            _text.filter(lambda text: text not in NO_VALUE_MARKERS and integer_value(text) is None),
        )
    )
    record["evt"] = draw(
        st.one_of(
            st.sampled_from(["session", "net", "ps", "os"]), _text.filter(lambda text: text not in NO_VALUE_MARKERS)
        )
    )
    record["subEvt"] = draw(_text.filter(lambda text: text not in NO_VALUE_MARKERS))
    for key in draw(
        st.lists(
            st.one_of(_keys, st.sampled_from(sorted(INTEGER_FIELDS) + ["srcIP", "cmd", "com"])),
            min_size=1,
            max_size=8,
            unique=True,
        )
    ):
        if key in record:
            continue
        if key in INTEGER_FIELDS:
            record[key] = draw(
                st.one_of(st.integers(-(10**20), 10**20), _text.filter(lambda text: integer_value(text) is None))
            )
        else:
            record[key] = draw(_text)
    return record


@settings(max_examples=300, deadline=None)
@given(st.lists(records(), min_size=1, max_size=5))
def test_format_then_parse_is_the_identity(generated: list[dict[str, Any]]) -> None:
    assert parse([format_record(record) for record in generated]) == generated


# ---------------------------------------------------------------------------------------------- command


def test_format_command_jsonl_and_array(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    records_list = parse(COMPOSED[:3])
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text(
        "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records_list), encoding="utf-8"
    )
    array = tmp_path / "r.json"
    array.write_text(json.dumps(records_list, ensure_ascii=False, indent=1), encoding="utf-8")
    result = run_cli("format", jsonl, array)
    assert result.code == 0, result.err
    assert result.out == "".join(line + "\n" for line in COMPOSED[:3] * 2)
    output = tmp_path / "out.log"
    assert run_cli("format", jsonl, "-o", output).code == 0
    assert output.read_text(encoding="utf-8") == "".join(line + "\n" for line in COMPOSED[:3])


def test_format_command_reports_bad_records_with_file_and_line(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    source = tmp_path / "r.jsonl"
    good = json.dumps(parse(COMPOSED[:1])[0])
    source.write_text(f'{good}\n{{"time": "x"}}\nnot json\n\n{good}\n', encoding="utf-8")
    result = run_cli("format", source)
    assert result.code == 1
    assert result.out == COMPOSED[0] + "\n" + COMPOSED[0] + "\n"
    assert f"{source}:2: time must look like" in result.err and f"{source}:3: not JSON" in result.err


def test_format_command_missing_file(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("format", tmp_path / "nope.jsonl")
    assert result.code == 2 and "nope.jsonl" in result.err


def test_format_command_reads_standard_input(monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Any]) -> None:
    line = json.dumps(parse(COMPOSED[:1])[0]).encode() + b"\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(line)))
    result = run_cli("format", "-")
    assert result.code == 0 and result.out == COMPOSED[0] + "\n"
