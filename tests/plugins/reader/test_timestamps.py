"""Resolving a record's ``time`` to an instant, for the outputs that need one."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mk2ds.core import UsageError
from mk2ds.plugins.reader.timestamps import (
    SecondsMemo,
    assumed_offset_option,
    parse_offset,
    resolve_time,
    settle_time,
)


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


_OFFSET_KEYS = st.one_of(
    st.just({}),
    st.just({"time_offset_source": "unknown"}),
    st.sampled_from(["+09:00", "+0900", "-05:30", "Z", "+25:00", "nine"]).map(
        lambda offset: {"time_offset": offset, "time_offset_source": "sysinfo"}
    ),
)
_SECONDS = st.builds(
    lambda year, month, day, hour, minute, second: (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    ),
    st.integers(1969, 2038),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
)
_TAILS = st.sampled_from(["", "+09:00", "-05:30", "+00:00", "+24:00", "Z", "\n", "+09:00\n"])
_MILLISECONDS = st.one_of(st.integers(0, 999).map(lambda ms: f"{ms:03d}"), st.sampled_from(["8x6", "８３６", "12"]))


@settings(max_examples=300, deadline=None)
@given(
    second=_SECONDS,
    tail=_TAILS,
    milliseconds=st.lists(_MILLISECONDS, min_size=1, max_size=4),
    settled=_OFFSET_KEYS,
    assume=st.sampled_from([None, "+01:00"]),
)
def test_the_seconds_memo_gives_what_resolving_each_time_gives(
    second: str, tail: str, milliseconds: list[str], settled: dict[str, str], assume: str | None
) -> None:
    memo = SecondsMemo(lambda record: settle_time(record, assume))
    for millisecond in milliseconds:  # several times of one second: later ones come from the memo
        record = {"time": f"{second}.{millisecond}{tail}", "sn": 1, **settled}
        assert memo(record) == settle_time(record, assume)


def test_the_seconds_memo_takes_records_it_cannot_remember() -> None:
    memo = SecondsMemo(settle_time, size=2)
    odd = {"time": "2018-03-01T19:55:17.836", "time_offset": ["+09:00"], "time_offset_source": "sysinfo"}
    assert memo(odd) == settle_time(odd) == (None, "2018-03-01T19:55:17.836", "+00:00", "unknown")
    for minute in range(5):  # more seconds than the memo holds
        record = {"time": f"2018-03-01T19:{minute:02d}:17.836+09:00"}
        assert memo(record) == settle_time(record)
    assert memo({"time": None}) is None and memo({}) is None
