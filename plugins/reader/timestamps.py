"""The ``time`` of a converted record, resolved for outputs that need an absolute instant.

A record's ``time`` is ``2018-03-05T10:12:03.114+09:00`` when the Mark II header had an offset, and the
zone-less ``2018-03-27T19:44:53.926`` when it had none (``schemas/record.schema.json``). Timesketch and ECS
need an instant with an offset. For a zone-less time the outputs never invent one silently: they use the
offset the user gave with ``--assume-offset`` (the ``assume_offset`` option), and otherwise UTC, and in both
cases they say so in a flag field (``time_zone_assumed``) holding the offset that was assumed.

This is a library for the record outputs; it implements no hooks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from mk2ds.core.errors import UsageError

__all__ = ["ResolvedTime", "assumed_offset_option", "parse_offset", "record_location", "resolve_time"]

_TIME = re.compile(
    r"^(?P<local>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})"
    r"(?P<offset>[+-][0-9]{2}:[0-9]{2})?$"
)
_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<hours>[0-9]{2}):?(?P<minutes>[0-9]{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
UTC_OFFSET = "+00:00"


@dataclass(frozen=True)
class ResolvedTime:
    """A record time with its offset settled.

    ``local`` is the wall-clock text as recorded (no offset); ``offset`` is ``+09:00``-style; ``assumed`` is
    the offset that was *assumed* (from ``--assume-offset`` or UTC), ``None`` when the record carried one.
    """

    local: str
    offset: str
    assumed: str | None

    @property
    def iso(self) -> str:
        """ISO 8601 with milliseconds and offset, e.g. ``2018-03-05T10:12:03.114+09:00``."""
        return self.local + self.offset

    @property
    def instant(self) -> datetime:
        return datetime.fromisoformat(self.iso)

    @property
    def naive_local(self) -> datetime:
        return datetime.fromisoformat(self.local)

    @property
    def epoch_microseconds(self) -> int:
        """Microseconds since 1970-01-01T00:00:00Z, computed exactly (no floating point)."""
        return (self.instant - _EPOCH) // timedelta(microseconds=1)


def parse_offset(text: str) -> str:
    """Normalise a UTC offset given as ``+09:00``, ``+0900``, ``Z`` or ``UTC`` to ``+09:00``.

    :raises ValueError: the text is not an offset, or its size is beyond ±23:59.
    """
    value = text.strip()
    if value.upper() in ("Z", "UTC"):
        return UTC_OFFSET
    match = _OFFSET.match(value)
    if not match or int(match["hours"]) > 23 or int(match["minutes"]) > 59:
        raise ValueError(f"not a UTC offset: {text!r} (expected e.g. +09:00 or +0900)")
    return f"{match['sign']}{match['hours']}:{match['minutes']}"


def assumed_offset_option(options: Any) -> str | None:
    """The ``assume_offset`` option (``--assume-offset``) normalised, or ``None`` when not given.

    :raises UsageError: the option holds something that is not an offset.
    """
    value = getattr(options, "assume_offset", None)
    if value in (None, ""):
        return None
    try:
        return parse_offset(str(value))
    except ValueError as error:
        raise UsageError(f"--assume-offset: {error}") from None


def record_location(record: Mapping[str, Any]) -> str:
    """``file:line`` of a record when it carries provenance (``_file``/``_line``), else its ``sn``."""
    if "_file" in record:
        return f"{record['_file']}:{record.get('_line', '?')}"
    if "sn" in record:
        return f"record sn={record['sn']}"
    return "record"


def resolve_time(record: Mapping[str, Any], assume_offset: str | None) -> ResolvedTime:
    """Settle the offset of ``record['time']``.

    :param assume_offset: a normalised offset (see :func:`assumed_offset_option`) used for zone-less times;
        ``None`` means UTC. Either way the result says the offset was assumed.
    :raises ValueError: the record has no ``time`` or it is not in the record-schema format; the message
        names the record (file and line when known).
    """
    value = record.get("time")
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{record_location(record)}: 'time' is missing or malformed: {value!r}")
    if match["offset"]:
        resolved = ResolvedTime(match["local"], match["offset"], None)
    else:
        offset = assume_offset or UTC_OFFSET
        resolved = ResolvedTime(match["local"], offset, offset)
    try:
        resolved.instant  # noqa: B018 - validates the calendar date (no 2018-02-30)
    except ValueError as error:
        raise ValueError(
            f"{record_location(record)}: 'time' is not a real date: {value!r} ({error})"
        ) from None
    return resolved
