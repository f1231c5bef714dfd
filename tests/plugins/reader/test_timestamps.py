"""Resolving a record's ``time`` to an instant, for the outputs that need one."""

from __future__ import annotations

import argparse

import pytest

from mk2ds.core import UsageError
from mk2ds.plugins.reader.timestamps import assumed_offset_option, parse_offset, resolve_time


@pytest.mark.parametrize(
    ("text", "offset"),
    [("+09:00", "+09:00"), ("+0900", "+09:00"), ("-0530", "-05:30"), ("Z", "+00:00"), ("utc", "+00:00")],
)
def test_parse_offset(text: str, offset: str) -> None:
    assert parse_offset(text) == offset


@pytest.mark.parametrize("text", ["9", "+9:00", "+24:00", "+09:60", "JST", ""])
def test_parse_offset_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a UTC offset"):
        parse_offset(text)


def test_assumed_offset_option() -> None:
    assert assumed_offset_option(argparse.Namespace()) is None
    assert assumed_offset_option(argparse.Namespace(assume_offset="+0900")) == "+09:00"
    with pytest.raises(UsageError, match="--assume-offset"):
        assumed_offset_option(argparse.Namespace(assume_offset="nine"))


def test_resolve_recorded_offset() -> None:
    when = resolve_time({"time": "2018-03-05T10:12:03.114+09:00"}, "+01:00")
    assert (when.local, when.offset, when.assumed) == ("2018-03-05T10:12:03.114", "+09:00", None)
    assert when.epoch_microseconds == 1520212323114000


def test_resolve_zone_less() -> None:
    assert resolve_time({"time": "1970-01-01T00:00:00.001"}, None).epoch_microseconds == 1000
    when = resolve_time({"time": "1970-01-01T09:00:00.000"}, "+09:00")
    assert (when.iso, when.source, when.assumed, when.epoch_microseconds) == (
        "1970-01-01T09:00:00.000+09:00",
        "option",
        None,
        0,
    )


@pytest.mark.parametrize(
    ("extra", "iso", "source"),
    [
        ({"time_offset": "+09:00", "time_offset_source": "sysinfo"}, "2018-03-27T19:44:53.926+09:00", "sysinfo"),
        ({"time_offset": "+05:30", "time_offset_source": "option"}, "2018-03-27T19:44:53.926+05:30", "option"),
        ({"time_offset_source": "unknown"}, "2018-03-27T19:44:53.926+00:00", "unknown"),
    ],
)
def test_resolve_uses_the_offset_the_reader_recorded(extra: dict[str, str], iso: str, source: str) -> None:
    when = resolve_time({"time": "2018-03-27T19:44:53.926", **extra}, "-01:00")
    assert (when.iso, when.source, when.known) == (iso, source, source != "unknown")
    assert when.assumed == (None if when.known else "+00:00")


@pytest.mark.parametrize(
    "value", [None, 5, "2018-03-05 10:12:03", "2018-03-05T10:12:03.114+0900", "2018-02-30T00:00:00.000"]
)
def test_bad_times_name_the_record(value: object) -> None:
    with pytest.raises(ValueError, match="record sn=7"):
        resolve_time({"time": value, "sn": 7}, None)
