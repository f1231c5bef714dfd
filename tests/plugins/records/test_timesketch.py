"""The ``timesketch`` record output: mandatory fields on every line, exact times, golden file."""

from __future__ import annotations

import argparse
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
from mk2ds.plugins.reader.tokenizer import INTEGER_FIELDS
from mk2ds.plugins.records.timesketch import MESSAGE_LENGTH, to_timesketch

DATA = Path(__file__).parents[2] / "data" / "outputs"
GOLDEN = Path(__file__).parents[2] / "golden" / "outputs"


def load_records() -> list[dict[str, Any]]:
    with open(DATA / "records.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def render(pm: pluggy.PluginManager, records: Iterable[Mapping[str, Any]], **options: Any) -> list[dict[str, Any]]:
    stream = io.BytesIO()
    writer = open_record_writer(find_output(pm, "records", "timesketch"), stream, argparse.Namespace(**options))
    for record in records:
        writer.write(record)
    writer.close()
    text = stream.getvalue().decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    return [json.loads(line) for line in text.splitlines()]


def test_registered_with_jsonl_suffix(pm: pluggy.PluginManager) -> None:
    output = find_output(pm, "records", "timesketch")
    assert output.suffix == ".jsonl"


def test_every_line_has_the_mandatory_fields_first(pm: pluggy.PluginManager) -> None:
    records = load_records()
    events = render(pm, records)
    assert len(events) == len(records)
    for event, record in zip(events, records, strict=False):
        assert list(event)[:4] == ["message", "datetime", "timestamp", "timestamp_desc"]
        assert event["message"].startswith(f"{record['evt']} {record['subEvt']}")
        assert isinstance(event["timestamp"], int)
        assert event["timestamp_desc"] == "Event Recorded"
        # the record's own fields follow, unchanged and in order; text in an integer field moves to <key>_raw
        typed = {key: value for key, value in record.items() if not isinstance(value, str) or key not in INTEGER_FIELDS}
        assert {key: event[key] for key in typed} == typed
        assert [key for key in event if key in typed] == list(typed)
        for key in set(record) - set(typed):
            assert key not in event and event[key + "_raw"] == record[key]


def test_datetime_keeps_the_offset_and_timestamp_is_exact_microseconds(pm: pluggy.PluginManager) -> None:
    (event,) = render(pm, [{"time": "2018-03-05T10:12:03.114+09:00", "sn": 1, "evt": "sys", "subEvt": "start"}])
    assert event["datetime"] == "2018-03-05T10:12:03.114+09:00"
    # 2018-03-05T01:12:03.114Z
    assert event["timestamp"] == 1520212323114000
    assert "time_zone_assumed" not in event


def test_zone_less_time_is_utc_and_flagged(pm: pluggy.PluginManager) -> None:
    (event,) = render(pm, [{"time": "2018-03-27T19:44:53.926", "sn": 1818, "evt": "net", "subEvt": "con"}])
    assert event["datetime"] == "2018-03-27T19:44:53.926+00:00"
    assert event["timestamp"] == 1522179893926000
    assert event["time_zone_assumed"] == "+00:00"
    assert event["time"] == "2018-03-27T19:44:53.926"


@pytest.mark.parametrize("given", ["+09:00", "+0900"])
def test_zone_less_time_uses_assume_offset(pm: pluggy.PluginManager, given: str) -> None:
    (event,) = render(pm, [{"time": "2018-03-27T19:44:53.926", "evt": "net", "subEvt": "con"}], assume_offset=given)
    assert event["datetime"] == "2018-03-27T19:44:53.926+09:00"
    assert event["timestamp"] == 1522147493926000
    assert (event["time_offset"], event["time_offset_source"]) == ("+09:00", "option")
    assert "time_zone_assumed" not in event


def test_zone_less_time_uses_the_offset_the_reader_resolved(pm: pluggy.PluginManager) -> None:
    record = {"time": "2018-03-27T19:44:53.926", "time_offset": "+09:00", "time_offset_source": "sysinfo", "sn": 1818}
    (event,) = render(pm, [record], assume_offset="+01:00")
    assert (event["datetime"], event["timestamp"]) == ("2018-03-27T19:44:53.926+09:00", 1522147493926000)
    assert (event["time_offset"], event["time_offset_source"]) == ("+09:00", "sysinfo")
    assert "time_zone_assumed" not in event
    (event,) = render(pm, [{"time": "2018-03-27T19:44:53.926", "time_offset_source": "unknown", "sn": 1}])
    assert (event["datetime"], event["time_zone_assumed"], event["time_offset_source"]) == (
        "2018-03-27T19:44:53.926+00:00",
        "+00:00",
        "unknown",
    )


def test_no_value_markers_and_huge_integers_are_absent_with_the_text_in_raw() -> None:
    event = to_timesketch(
        {
            "time": "2018-03-05T10:12:03.114+09:00",
            "evt": "session",
            "subEvt": "loginR",
            "srcPort": "-",
            "recv": 1 << 64,
            "size": "",
            "dstPort": 445,
        }
    )
    assert "srcPort" not in event and "recv" not in event and "size" not in event
    assert (event["srcPort_raw"], event["recv_raw"], event["size_raw"], event["dstPort"]) == (
        "-",
        "18446744073709551616",
        "",
        445,
    )


def test_provenance_keys_are_not_dropped_by_the_importer() -> None:
    event = to_timesketch({"time": "2018-03-05T10:12:03.114+09:00", "sn": 1, "_file": "a.log", "_line": 3})
    assert (event["mk2_file"], event["mk2_line"]) == ("a.log", 3)
    assert not [key for key in event if key.startswith("_")]


def test_long_message_is_shortened_visibly_and_kept_whole() -> None:
    command = "powershell -enc " + "A" * 1000
    event = to_timesketch(
        {"time": "2018-03-05T10:12:03.114+09:00", "evt": "ps", "subEvt": "start", "psPath": "C:\\x.exe", "cmd": command}
    )
    assert "…" not in event["message"] and len(event["message"]) <= MESSAGE_LENGTH
    assert event["message"].endswith("characters: see message_full]")
    assert event["message_full"].endswith(command)
    hidden = int(event["message"].rsplit("[+", 1)[1].split()[0])
    assert event["message"].rsplit(" [+", 1)[0] + event["message_full"][-hidden:] == event["message_full"]
    short = to_timesketch({"time": "2018-03-05T10:12:03.114+09:00", "evt": "ps", "subEvt": "start"})
    assert "message_full" not in short


def test_assume_offset_does_not_override_a_recorded_offset(pm: pluggy.PluginManager) -> None:
    (event,) = render(
        pm,
        [{"time": "2018-03-05T10:12:03.114-05:00", "evt": "sys", "subEvt": "stop"}],
        assume_offset="+09:00",
    )
    assert event["datetime"] == "2018-03-05T10:12:03.114-05:00"
    assert "time_zone_assumed" not in event


def test_bad_assume_offset_is_a_usage_error(pm: pluggy.PluginManager) -> None:
    with pytest.raises(UsageError, match="--assume-offset"):
        render(pm, [], assume_offset="Tokyo")


def test_timestamp_desc_option(pm: pluggy.PluginManager) -> None:
    (event,) = render(pm, [{"time": "2018-03-05T10:12:03.114+09:00"}], timestamp_desc="Mark II event")
    assert event["timestamp_desc"] == "Mark II event"
    assert event["message"] == "? ?"


def test_clashing_record_field_is_renamed_not_dropped() -> None:
    event = to_timesketch({"time": "2018-03-05T10:12:03.114+09:00", "message": "hello", "mk2_message": "x"})
    assert event["message"] == "? ?"
    assert event["mk2_message"] == "hello"  # renamed first come, first served
    assert event["mk2_mk2_message"] == "x"


def test_record_without_time_names_the_record() -> None:
    with pytest.raises(ValueError, match=r"logs/a\.log:7: 'time' is missing"):
        to_timesketch({"sn": 1, "_file": "logs/a.log", "_line": 7})


def test_golden(pm: pluggy.PluginManager, golden: Callable[[Path, str], None]) -> None:
    stream = io.BytesIO()
    writer = open_record_writer(find_output(pm, "records", "timesketch"), stream, argparse.Namespace())
    for record in load_records():
        writer.write(record)
    writer.close()
    golden(GOLDEN / "timesketch.jsonl", stream.getvalue().decode("utf-8"))
