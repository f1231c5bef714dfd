"""The events row typing and the one offset resolution of the export."""

from __future__ import annotations

from mk2ds.plugins.export.tables import event_row, resolve_instant


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
