"""The ``timesketch`` record output: JSONL that the Timesketch importer and web uploader accept as it is.

Every line has Timesketch's fields first, then the record's own fields (``time`` included, unchanged):

``message``
    a human summary (:func:`mk2ds.plugins.reader.event_summary.summarize`), e.g.
    ``ps start C:\\Windows\\System32\\cmd.exe (parent explorer.exe): cmd.exe /c ...``. It is never cut
    silently: a summary longer than :data:`MESSAGE_LENGTH` characters is shortened and ends with
    ``[+N characters: see message_full]``, and ``message_full`` holds the whole text;
``datetime``
    ISO 8601 with the offset, e.g. ``2018-03-05T10:12:03.114+09:00``;
``timestamp``
    microseconds since the Unix epoch (an integer);
``timestamp_desc``
    what the time means: ``Event Recorded`` (the Mark II header time), or ``--timestamp-desc TEXT``;
``time_offset``, ``time_offset_source``
    for a zone-less record: the offset used for ``datetime``/``timestamp`` and where it came from
    (``option``, ``sysinfo``; see :mod:`mk2ds.plugins.reader.timestamps`);
``time_zone_assumed``
    only when ``time_offset_source`` is ``unknown``: ``+00:00``. Timesketch needs an instant; this field says
    that UTC was assumed for lack of evidence.

Types (:mod:`mk2ds.plugins.records.typed`): an integer field is an integer or absent; where the record has
text there (``srcPort="-"`` of a remote logon) or an integer beyond signed 64 bits, the text is in
``<key>_raw``. Timesketch's importer skips keys starting with ``_``, so ``_file``/``_line`` (``--provenance``)
are written as ``mk2_file``/``mk2_line``. A record field whose name clashes with one of this output's own is
written as ``mk2_<name>`` (never dropped). The file suffix is ``.jsonl``, which the web uploader requires.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any, BinaryIO

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.plugins.reader.event_summary import summarize
from mk2ds.plugins.reader.timestamps import OFFSET_KEYS, assumed_offset_option, resolve_time
from mk2ds.plugins.records.typed import typed_record

__all__ = [
    "DEFAULT_TIMESTAMP_DESC",
    "MESSAGE_LENGTH",
    "TIMESKETCH_FIELDS",
    "TimesketchWriter",
    "message_fields",
    "to_timesketch",
]

DEFAULT_TIMESTAMP_DESC = "Event Recorded"
#: Fields this output sets; record fields with these names are renamed ``mk2_<name>``.
TIMESKETCH_FIELDS = ("message", "message_full", "datetime", "timestamp", "timestamp_desc", "time_zone_assumed")
#: Longest ``message`` (very long values break some uploaders, Timesketch #3243).
MESSAGE_LENGTH = 300
#: Record keys Timesketch's importer would drop (a leading ``_``), and what they are written as.
PROVENANCE_NAMES = {"_file": "mk2_file", "_line": "mk2_line"}


def message_fields(summary: str, limit: int = MESSAGE_LENGTH) -> dict[str, str]:
    """``message`` (shortened to ``limit`` characters, saying so) and, when shortened, ``message_full``."""
    if len(summary) <= limit:
        return {"message": summary}
    kept = limit - len(f" [+{len(summary)} characters: see message_full]")  # the note is never longer
    note = f" [+{len(summary) - kept} characters: see message_full]"
    return {"message": summary[:kept] + note, "message_full": summary}


def to_timesketch(
    record: Mapping[str, Any], assume_offset: str | None = None, timestamp_desc: str = DEFAULT_TIMESTAMP_DESC
) -> dict[str, Any]:
    """One Timesketch event for a record.

    :raises ValueError: the record's ``time`` is missing or malformed (the message names the record).
    """
    when = resolve_time(record, assume_offset)
    fields = message_fields(summarize(record, limit=None))
    event: dict[str, Any] = {
        "message": fields["message"],
        "datetime": when.iso,
        "timestamp": when.epoch_microseconds,
        "timestamp_desc": timestamp_desc,
    }
    if "message_full" in fields:
        event["message_full"] = fields["message_full"]
    if when.source != "header" and OFFSET_KEYS[1] not in record:
        # a zone-less record that does not say its offset (not from the reader): say what was used
        if when.known:
            event["time_offset"] = when.offset
        event["time_offset_source"] = when.source
    if when.assumed is not None:
        event["time_zone_assumed"] = when.assumed
    for key, value in typed_record(record).items():
        name = PROVENANCE_NAMES.get(key, key)
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
        self._stream.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")

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
