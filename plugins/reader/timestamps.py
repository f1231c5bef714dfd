"""The ``time`` of a converted record, resolved for outputs that need an absolute instant.

A record's ``time`` is ``2018-03-05T10:12:03.114+09:00`` when the Mark II header had an offset, and the
zone-less ``2018-03-27T19:44:53.926`` when it had none (``schemas/record.schema.json``). For a zone-less
header the reader resolves the offset from evidence, in this order, and records which one it used in the
record's ``time_offset`` and ``time_offset_source`` (:data:`OFFSET_SOURCES`):

1. ``header``: the header's own offset (then the record has neither key: ``time`` carries it);
2. ``option``: ``--assume-offset`` given by the user (the ``assume_offset`` reader option);
3. ``sysinfo``: the time zone of the sample's Sysinfo ``systeminfo`` output, when the log is read as part of
   a distribution (the ``sysinfo_offset`` reader option);
4. ``unknown``: no evidence; ``time_offset`` is absent.

Outputs that need an instant (timesketch, ecs, parquet, csv) call :func:`resolve_time`. When the offset is
unknown they never present the time as UTC silently: Timesketch and ECS must have an instant, take UTC and
say so in ``time_zone_assumed`` (``+00:00``) next to ``time_offset_source: unknown``; Parquet leaves the
instant null; CSV writes the local time without an offset.

This is a library for the reader and the record outputs; it implements no hooks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from mk2ds.core.errors import UsageError

__all__ = [
    "OFFSET_KEYS",
    "OFFSET_SOURCES",
    "ResolvedTime",
    "SecondsMemo",
    "Settled",
    "assumed_offset_option",
    "offset_fields",
    "parse_offset",
    "record_location",
    "resolve_time",
    "settle_time",
]

_TIME = re.compile(
    r"^(?P<local>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})"
    r"(?P<offset>[+-][0-9]{2}:[0-9]{2})?$"
)
_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<hours>[0-9]{2}):?(?P<minutes>[0-9]{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
UTC_OFFSET = "+00:00"
#: Where the offset of a record's time came from, in order of precedence.
OFFSET_SOURCES = ("header", "option", "sysinfo", "unknown")
#: The keys the reader adds to a zone-less record (right after ``time``).
OFFSET_KEYS = ("time_offset", "time_offset_source")


@dataclass(frozen=True)
class ResolvedTime:
    """A record time with its offset settled.

    ``local`` is the wall-clock text as recorded (no offset); ``offset`` is ``+09:00``-style (``+00:00`` when
    the source is ``unknown``: then it is only what an output that must have an instant assumes); ``source``
    is one of :data:`OFFSET_SOURCES`.
    """

    local: str
    offset: str
    source: str = "header"
    #: The instant, when whoever made this already parsed it (:func:`resolve_time` does, to validate it).
    parsed: datetime | None = field(default=None, repr=False, compare=False)

    @property
    def known(self) -> bool:
        return self.source != "unknown"

    @property
    def assumed(self) -> str | None:
        """The offset an output assumed without evidence (``+00:00`` for ``unknown``), else ``None``."""
        return None if self.known else self.offset

    @property
    def iso(self) -> str:
        """ISO 8601 with milliseconds and offset, e.g. ``2018-03-05T10:12:03.114+09:00``."""
        return self.local + self.offset

    @property
    def instant(self) -> datetime:
        return self.parsed if self.parsed is not None else datetime.fromisoformat(self.iso)

    @property
    def naive_local(self) -> datetime:
        return datetime.fromisoformat(self.local)

    @property
    def epoch_microseconds(self) -> int:
        """Microseconds since 1970-01-01T00:00:00Z, computed exactly (no floating point)."""
        return (self.instant - _EPOCH) // timedelta(microseconds=1)


def parse_offset(text: str) -> str:
    """Normalize a UTC offset given as ``+09:00``, ``+0900``, ``Z`` or ``UTC`` to ``+09:00``.

    :raises ValueError: the text is not an offset, or its size is beyond ±23:59.
    """
    # Records repeat a handful of offsets: short texts are remembered (an error is not), long ones never.
    return _known_offset(text) if len(text) <= 16 else _normalized_offset(text)


def _normalized_offset(text: str) -> str:
    value = text.strip()
    if value.upper() in ("Z", "UTC"):
        return UTC_OFFSET
    match = _OFFSET.match(value)
    if not match or int(match["hours"]) > 23 or int(match["minutes"]) > 59:
        raise ValueError(f"not a UTC offset: {text!r} (expected e.g. +09:00 or +0900)")
    return f"{match['sign']}{match['hours']}:{match['minutes']}"


_known_offset = functools.lru_cache(maxsize=256)(_normalized_offset)


def assumed_offset_option(options: Any) -> str | None:
    """The ``assume_offset`` option (``--assume-offset``) normalized, or ``None`` when not given.

    :raises UsageError: the option holds something that is not an offset.
    """
    value = getattr(options, "assume_offset", None)
    if value in (None, ""):
        return None
    try:
        return parse_offset(str(value))
    except ValueError as error:
        raise UsageError(f"--assume-offset: {error}") from None


def offset_fields(assume_offset: str | None, sysinfo_offset: str | None) -> dict[str, str]:
    """The keys a zone-less record gets: ``time_offset`` (when known) and ``time_offset_source``."""
    if assume_offset:
        return {"time_offset": assume_offset, "time_offset_source": "option"}
    if sysinfo_offset:
        return {"time_offset": sysinfo_offset, "time_offset_source": "sysinfo"}
    return {"time_offset_source": "unknown"}


def record_location(record: Mapping[str, Any]) -> str:
    """``file:line`` of a record when it carries provenance (``_file``/``_line``), else its ``sn``."""
    if "_file" in record:
        return f"{record['_file']}:{record.get('_line', '?')}"
    if "sn" in record:
        return f"record sn={record['sn']}"
    return "record"


def _zone_less_offset(record: Mapping[str, Any], assume_offset: str | None) -> tuple[str, str]:
    """``(offset, source)`` of a zone-less record: what the reader recorded, else ``assume_offset``."""
    source = record.get("time_offset_source")
    offset = record.get("time_offset")
    if source in ("option", "sysinfo") and isinstance(offset, str):
        try:
            return parse_offset(offset), str(source)
        except ValueError:
            raise ValueError(f"{record_location(record)}: 'time_offset' is not an offset: {offset!r}") from None
    if source != "unknown" and assume_offset:
        return assume_offset, "option"
    return UTC_OFFSET, "unknown"


def resolve_time(record: Mapping[str, Any], assume_offset: str | None = None) -> ResolvedTime:
    """Settle the offset of ``record['time']`` (see the module documentation for the order).

    :param assume_offset: a normalized offset (see :func:`assumed_offset_option`) for a zone-less record
        that does not say its offset (records from other tools, or written before ``time_offset`` existed).
    :raises ValueError: the record has no ``time`` or it is not in the record-schema format; the message
        names the record (file and line when known).
    """
    value = record.get("time")
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{record_location(record)}: 'time' is missing or malformed: {value!r}")
    local = match["local"]
    if match["offset"]:
        offset, source = match["offset"], "header"
    else:
        offset, source = _zone_less_offset(record, assume_offset)
    try:
        parsed = datetime.fromisoformat(local + offset)  # also validates the calendar date (no 2018-02-30)
    except ValueError as error:
        raise ValueError(f"{record_location(record)}: 'time' is not a real date: {value!r} ({error})") from None
    return ResolvedTime(local, offset, source, parsed)


#: What :class:`SecondsMemo` gives for a record time: ``(epoch milliseconds or None when the offset is unknown,
#: local time, offset, source)``, or ``None`` when the time is missing or not valid.
Settled = tuple[int | None, str, str | None, str]
_MILLISECONDS = re.compile("[0-9]{3}").fullmatch


class SecondsMemo:
    """Settles the times of a stream of records, each second once.

    ``resolve`` gets a small record (``time``, and ``time_offset``/``time_offset_source`` when the record has
    them) and gives its :data:`Settled` value or ``None``. A time of the record format
    (``YYYY-MM-DDTHH:MM:SS.mmm``, optional offset) is resolved for its whole second (``.000``): the
    milliseconds cannot change whether the time is valid, nor its offset, so every other millisecond of that
    second is an addition. Records of a log share few seconds; the memo holds at most ``size`` of them.
    """

    def __init__(self, resolve: Callable[[dict[str, Any]], Settled | None], size: int = 4096) -> None:
        self.resolve = resolve
        self.size = size
        self._seconds: dict[tuple[Any, ...], Settled | None] = {}

    def _small_record(self, time: Any, record: Mapping[str, Any]) -> dict[str, Any]:
        small = {"time": time}
        for key in OFFSET_KEYS:
            if key in record:
                small[key] = record[key]
        return small

    def __call__(self, record: Mapping[str, Any]) -> Settled | None:
        time = record.get("time")
        if not (type(time) is str and len(time) >= 23 and time[19] == "." and _MILLISECONDS(time[20:23])):
            return self.resolve(self._small_record(time, record))
        key = (time[:19], time[23:], record.get("time_offset"), record.get("time_offset_source"))
        try:
            second = self._seconds[key]
        except KeyError:
            second = self.resolve(self._small_record(f"{time[:19]}.000{time[23:]}", record))
            if len(self._seconds) >= self.size:
                self._seconds.clear()
            self._seconds[key] = second
        except TypeError:  # an offset that cannot be a key (not a record of the reader)
            return self.resolve(self._small_record(time, record))
        if second is None:
            return None  # not a valid time: no millisecond of that second is
        epoch_ms, _, offset, source = second
        return (None if epoch_ms is None else epoch_ms + int(time[20:23]), time[:23], offset, source)


def settle_time(record: Mapping[str, Any], assume_offset: str | None = None) -> Settled | None:
    """:func:`resolve_time` as a :data:`Settled` value (``None`` for a missing or invalid time)."""
    try:
        when = resolve_time(record, assume_offset)
    except ValueError:
        return None
    return (when.epoch_microseconds // 1000 if when.known else None, when.local, when.offset, when.source)
