"""The events row typing and the one offset resolution of the export."""

from __future__ import annotations

from typing import Any

import pytest

from mk2ds.plugins.export.tables import EVENT_TABLE_FIELDS, EventRows, event_row, resolve_instant


def test_the_offset_comes_from_the_line_then_the_reader_then_the_option_then_sysinfo() -> None:
    with_offset = resolve_instant("2018-03-01T19:55:17.836+09:00", "+00:00", "+01:00")
    assert with_offset is not None and (with_offset.offset, with_offset.source) == ("+09:00", "header")
    assert with_offset.epoch_ms == 1519901717836
    # what the reader settled for a record wins over the export's own fallbacks
    record = {"time_offset": "+09:00", "time_offset_source": "sysinfo"}
    settled = resolve_instant("2018-03-01T19:55:17.836", "+02:00", "+01:00", record)
    assert settled is not None and (settled.offset, settled.source, settled.epoch_ms) == (
        "+09:00",
        "sysinfo",
        1519901717836,
    )
    # a bare time: --assume-offset first, as in the reader, then the host's Sysinfo offset
    assumed = resolve_instant("2018-03-01T19:55:17.836", "+09:00", "+01:00")
    assert assumed is not None and (assumed.offset, assumed.source) == ("+01:00", "option")
    from_sysinfo = resolve_instant("2018-03-01T19:55:17.836", "+09:00", None)
    assert from_sysinfo is not None and (from_sysinfo.source, from_sysinfo.epoch_ms) == ("sysinfo", 1519901717836)
    unknown = resolve_instant("2018-03-01T19:55:17.836", None, None)
    assert unknown is not None and (unknown.offset, unknown.source, unknown.epoch_ms, unknown.local) == (
        None,
        "unknown",
        None,
        "2018-03-01T19:55:17.836",
    )
    reader_unknown = resolve_instant("2018-03-01T19:55:17.836", "+09:00", None, {"time_offset_source": "unknown"})
    assert reader_unknown is not None and reader_unknown.source == "unknown"
    assert resolve_instant("2018-02-30T00:00:00.000", None, None) is None


def test_typed_columns_keep_every_value() -> None:
    record = {
        "time": "2018-03-01T19:55:17.836+09:00", "_file": "MK2Log/a.log", "_line": 7, "sn": 12, "evt": "net",
        "srcIP": "-", "srcPort": "-", "dstPort": "http", "recv": 2**70, "send": 0, "odd": "x", "cmd": "",
    }  # fmt: skip
    row = event_row(record, None, None)
    assert (row["file"], row["line"], row["sn"], row["evt"]) == ("MK2Log/a.log", 7, 12, "net")
    assert row["srcIP"] is None and row["srcPort"] is None  # the product's no-value marker
    assert row["dstPort"] is None and row["recv"] is None and row["send"] == 0 and row["cmd"] == ""
    assert row["extra"] == {"dstPort": "http", "recv": str(2**70), "odd": "x"}


@pytest.mark.parametrize(
    "time",
    [
        "2018-03-01T19:55:17.836",
        "2018-03-01T19:55:17.000",
        "2018-03-01T19:55:17.999+09:00",
        "2018-03-01T19:55:17.001-05:30",
        "2018-02-30T00:00:00.123",  # no such day
        "2018-03-01T19:55:17.8x6",
        "2018-03-01T19:55:17.８３６",  # digits, but not ASCII
        "2018-03-01T19:55:17.836+25:00",
        "2018-03-01T19:55:17.836\n",
        "2018-03-01 19:55:17",
        "",
        None,
        17,
    ],
)
@pytest.mark.parametrize(
    "settled",
    [{}, {"time_offset_source": "unknown"}, {"time_offset": "+0200", "time_offset_source": "sysinfo"}],
)
def test_event_rows_settle_each_time_as_resolve_instant_does(time: Any, settled: dict[str, Any]) -> None:
    rows = EventRows("+09:00", None)
    if isinstance(time, str) and len(time) >= 23:
        # another millisecond of the same second first: what the memo holds must not change the answer
        rows.values({"time": time[:20] + "555" + time[23:], **settled})
    when = resolve_instant(time, "+09:00", None, {"time": time, **settled})
    expected = (None,) * 4 if when is None else (when.epoch_ms, when.local, when.offset, when.source)
    assert rows.values({"time": time, **settled})[2:6] == expected


def test_event_rows_are_in_the_writer_column_order_with_the_partition_last() -> None:
    record = {"time": "2018-03-01T19:55:17.836+09:00", "_file": "a.log", "_line": 3, "sn": 1, "evt": "ps"}
    values = EventRows(None, None, ("30m", "abc")).values(record)
    assert len(values) == len(EVENT_TABLE_FIELDS)
    by_name = dict(zip((field.name for field in EVENT_TABLE_FIELDS), values, strict=True))
    assert by_name["subset"] == "30m" and by_name["sample"] == "abc" and by_name["line"] == 3
    assert by_name["time"] == 1519901717836 and by_name["extra"] == {}
