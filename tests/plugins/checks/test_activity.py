"""Events per minute by kind: dense clock-minute bins, bounded memory, wider bins for long logs."""

from __future__ import annotations

from mk2ds.plugins.checks import activity
from mk2ds.plugins.checks.activity import ActivityCounter


def _record(moment: str, evt: str) -> dict[str, str]:
    return {"time": f"2018-02-04T{moment}.000+09:00", "evt": evt}


def test_one_bin_per_clock_minute_with_empty_minutes_kept() -> None:
    counter = ActivityCounter(expected_minutes=30, tolerance_minutes=5)
    for moment, evt in [
        ("11:13:05", "ps"),
        ("11:13:59", "file"),
        ("11:16:00", "file"),
        ("11:14:30", "zzz"),
        ("11:15:01", "net"),
    ]:
        counter.add(_record(moment, evt))
    counter.add({"evt": "ps"})  # no time: not counted, but said
    value = counter.fact_value()
    assert value is not None
    assert (value["start"], value["end"], value["bins"], value["bin_minutes"]) == (
        "2018-02-04T11:13",
        "2018-02-04T11:17",
        4,
        1,
    )
    assert list(value["counts"]) == ["ps", "file", "net", "zzz"]  # known kinds first, then by frequency
    assert value["counts"]["file"] == [1, 0, 0, 1] and value["counts"]["zzz"] == [0, 1, 0, 0]
    assert value["totals"] == {"ps": 1, "file": 2, "net": 1, "zzz": 1}
    assert (value["expected_minutes"], value["tolerance_minutes"], value["dropped"]) == (30, 5, 1)


def test_no_usable_time_gives_no_fact() -> None:
    counter = ActivityCounter()
    counter.add({"time": "garbage", "evt": "ps"})
    assert counter.fact_value() is None


def test_memory_is_bounded_and_long_logs_get_wider_bins(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(activity, "MAX_MINUTE_KEYS", 50)
    counter = ActivityCounter()
    for minute in range(600):  # ten hours, one event a minute, many kinds
        counter.add({"time": f"2018-02-04T{minute // 60 + 10:02d}:{minute % 60:02d}:00", "evt": f"k{minute % 40}"})
    assert len(counter.minutes) == 50 and len(counter.kinds) == activity.MAX_KINDS + 1  # + "other"
    value = counter.fact_value()
    assert value is not None and value["dropped"] == 550 and value["bins"] == 50
    monkeypatch.setattr(activity, "MAX_MINUTE_KEYS", 20_000)
    long = ActivityCounter()
    for minute in range(0, 600, 7):
        long.add({"time": f"2018-02-04T{minute // 60 + 10:02d}:{minute % 60:02d}:00", "evt": "ps"})
    value = long.fact_value()
    assert (
        value is not None
        and value["bin_minutes"] == 3
        and value["bins"] * 3 >= 596
        and sum(value["counts"]["ps"]) == 86
    )
