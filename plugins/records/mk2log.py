"""The ``mk2log`` record output: the JSON shape of the dataset's original ``mk2log`` tool, for old scripts.

As ``docs/format.md`` §5 describes it: one flat object
per line whose values are all strings, with two added keys in front:

``date``
    the header time as ``YYYY/MM/DD HH:MM:SS.mmm`` (local clock time, offset dropped);
``timeStamp``
    Unix epoch seconds (floored) as a string. A zone-less header has no instant; its clock time is then
    taken as UTC, so differences between records of one host stay right. Pass ``--assume-offset`` to
    ``convert`` to get true epoch seconds.

Then every key of the line in line order (integers written back as decimal text), and ``_file``/``_line``
with ``--provenance``. Unlike the original tool, doubled quotes are collapsed in every value (also ``cmd``)
and backslashes are kept as written. The file is a JSON array, one object per line, like the ``json`` output.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, BinaryIO

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.plugins.records.json import JsonArrayWriter

__all__ = ["Mk2logWriter", "mk2log_object"]


def _epoch_seconds(time: str) -> str:
    moment = datetime.fromisoformat(time)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return str(int(moment.timestamp() // 1))


def mk2log_object(record: Mapping[str, Any]) -> dict[str, str]:
    """One record in the original tool's shape (see the module documentation)."""
    time = str(record["time"])
    document = {
        "date": f"{time[0:4]}/{time[5:7]}/{time[8:10]} {time[11:23]}",
        "timeStamp": _epoch_seconds(time),
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
