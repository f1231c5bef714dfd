"""The ``mk2log`` record output: the JSON shape of the dataset's original ``mk2log`` tool, for old scripts.

As ``docs/format.md`` §5 describes it: one flat object
per line whose values are all strings, with two added keys in front:

``date``
    the header time as ``YYYY/MM/DD HH:MM:SS.mmm`` (local clock time, offset dropped);
``timeStamp``
    Unix epoch seconds (floored) as a string. A zone-less header takes the offset the reader resolved
    (``time_offset``: ``--assume-offset`` or the Sysinfo time zone); when that is unknown its clock time is
    taken as UTC, so differences between records of one host stay right, and the record's
    ``time_offset_source: unknown`` (kept among the keys) says so.

Then every key of the line in line order (integers written back as decimal text), and ``_file``/``_line``
with ``--provenance``. Unlike the original tool, doubled quotes are collapsed in every value (also ``cmd``)
and backslashes are kept as written. The file is a JSON array, one object per line, like the ``json`` output.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, BinaryIO

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.plugins.reader.timestamps import resolve_time
from mk2ds.plugins.records.json import JsonArrayWriter

__all__ = ["Mk2logWriter", "mk2log_object"]


def _epoch_seconds(record: Mapping[str, Any]) -> str:
    return str(resolve_time(record).epoch_microseconds // 1_000_000)


def mk2log_object(record: Mapping[str, Any]) -> dict[str, str]:
    """One record in the original tool's shape (see the module documentation)."""
    time = str(record["time"])
    document = {
        "date": f"{time[0:4]}/{time[5:7]}/{time[8:10]} {time[11:23]}",
        "timeStamp": _epoch_seconds(record),
    }
    for key, value in record.items():
        if key != "time":
            document[key] = value if isinstance(value, str) else str(value)
    return document


class Mk2logWriter(JsonArrayWriter):
    def write(self, record: Mapping[str, Any]) -> None:
        super().write(mk2log_object(record))


def open_writer(stream: BinaryIO, options: argparse.Namespace) -> Mk2logWriter:
    return Mk2logWriter(stream)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "mk2log",
            "records",
            ".json",
            "compatibility with the original mk2log tool: every value a string, plus date and timeStamp",
            open_writer,
        )
    ]
