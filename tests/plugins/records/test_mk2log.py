"""The ``mk2log`` compatibility output: strings only, plus ``date`` and ``timeStamp``."""

from __future__ import annotations

from mk2ds.plugins.records.mk2log import mk2log_object


def test_shape_of_one_record() -> None:
    record = {"time": "2018-03-01T19:55:17.836+09:00", "sn": 4028, "evt": "net", "srcPort": 49624, "_line": 3}
    assert mk2log_object(record) == {
        "date": "2018/03/01 19:55:17.836",
        "timeStamp": "1519901717",
        "sn": "4028",
        "evt": "net",
        "srcPort": "49624",
        "_line": "3",
    }


def test_zone_less_time_is_taken_as_utc_and_negative_offsets_work() -> None:
    assert mk2log_object({"time": "1970-01-01T00:00:01.999", "sn": 1})["timeStamp"] == "1"
    assert mk2log_object({"time": "1970-01-01T00:00:00.500-01:00", "sn": 1})["timeStamp"] == "3600"
    assert mk2log_object({"time": "1969-12-31T23:59:59.500", "sn": 1})["timeStamp"] == "-1"
