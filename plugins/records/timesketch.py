"""The ``timesketch`` record output: JSONL that the Timesketch importer and web uploader accept as it is.

Every line has Timesketch's fields first, then the record's own fields (``time`` included, unchanged):

``message``
    a short human summary (:func:`mk2ds.plugins.reader.event_summary.summarize`), e.g.
    ``ps start C:\\Windows\\System32\\cmd.exe (parent explorer.exe): cmd.exe /c ...``;
``datetime``
    ISO 8601 with the offset, e.g. ``2018-03-05T10:12:03.114+09:00``;
``timestamp``
    microseconds since the Unix epoch (an integer);
``timestamp_desc``
    what the time means: ``Event Recorded`` (the Mark II header time), or ``--timestamp-desc TEXT``;
``time_zone_assumed``
    only for records whose time had no offset: the offset used for ``datetime``/``timestamp``, from
    ``--assume-offset`` or else ``+00:00`` (UTC). Timesketch needs an offset; this field says it was assumed.

A record field whose name clashes with one of these is written as ``mk2_<name>`` (never dropped).
The file suffix is ``.jsonl``, which the web uploader requires.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any, BinaryIO

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.plugins.reader.event_summary import summarize
from mk2ds.plugins.reader.timestamps import assumed_offset_option, resolve_time

__all__ = ["DEFAULT_TIMESTAMP_DESC", "TIMESKETCH_FIELDS", "TimesketchWriter", "to_timesketch"]

DEFAULT_TIMESTAMP_DESC = "Event Recorded"
#: Fields this output sets; record fields with these names are renamed ``mk2_<name>``.
TIMESKETCH_FIELDS = ("message", "datetime", "timestamp", "timestamp_desc", "time_zone_assumed")


def to_timesketch(
    record: Mapping[str, Any], assume_offset: str | None = None, timestamp_desc: str = DEFAULT_TIMESTAMP_DESC
) -> dict[str, Any]:
    """One Timesketch event for a record.

    :raises ValueError: the record's ``time`` is missing or malformed (the message names the record).
    """
    when = resolve_time(record, assume_offset)
    event: dict[str, Any] = {
        "message": summarize(record),
        "datetime": when.iso,
        "timestamp": when.epoch_microseconds,
        "timestamp_desc": timestamp_desc,
    }
    if when.assumed is not None:
        event["time_zone_assumed"] = when.assumed
    for key, value in record.items():
        name = key
        while name in event:
            name = f"mk2_{name}"
        event[name] = value
    return event


class TimesketchWriter:
    """Writes one Timesketch event per record, one per line (UTF-8, LF)."""

    def __init__(self, stream: BinaryIO, assume_offset: str | None, timestamp_desc: str) -> None:
        self._stream = stream
        self._assume_offset = assume_offset
        self._timestamp_desc = timestamp_desc

    def write(self, record: Mapping[str, Any]) -> None:
        event = to_timesketch(record, self._assume_offset, self._timestamp_desc)
        self._stream.write(
            json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        )

    def close(self) -> None:
        self._stream.flush()


def open_writer(stream: BinaryIO, options: argparse.Namespace) -> TimesketchWriter:
    description = getattr(options, "timestamp_desc", None) or DEFAULT_TIMESTAMP_DESC
    return TimesketchWriter(stream, assumed_offset_option(options), str(description))


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "timesketch",
            "records",
            ".jsonl",
            "Timesketch JSONL (message, datetime, timestamp, timestamp_desc + the record's fields)",
            open_writer,
            options=(
                (
                    ("--timestamp-desc",),
                    {
                        "dest": "timestamp_desc",
                        "metavar": "TEXT",
                        "default": None,
                        "help": f"timesketch: the timestamp_desc value (default: {DEFAULT_TIMESTAMP_DESC!r})",
                    },
                ),
            ),
        )
    ]
