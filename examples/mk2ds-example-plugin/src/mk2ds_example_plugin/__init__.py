"""mk2ds-example-plugin: one record output format and one finding check, through the public hooks only.

* ``logfmt`` records output: ``time=2018-03-05T10:12:03.114+09:00 sn=2101 evt=ps psPath=C:\\Windows\\...``.
  A value is quoted (JSON string rules) when it is empty or holds a space, ``=``, ``"`` or a control
  character, as the logfmt convention asks.
* ``example/non-ascii-name`` finding (info): a dataset file whose name is not plain ASCII.
* ``example_subsets`` table in ``mk2ds export``: logs and events per subset (``mk2ds_export_tables``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from mk2ds.core import CodeInfo, Entry, Finding, OutputFormat, Severity, hookimpl
from mk2ds.core.tables import ExportContext, ExportTable, TableField

__version__ = "0.1.0"

NON_ASCII_NAME = "example/non-ascii-name"


def logfmt_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if text == "" or any(ch <= " " or ch in '="' or ch == "\x7f" for ch in text):
        return json.dumps(text, ensure_ascii=False)
    return text


class LogfmtWriter:
    """A record writer: ``write`` is called once per record, ``close`` once at the end."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def write(self, record: Mapping[str, Any]) -> None:
        line = " ".join(f"{key}={logfmt_value(value)}" for key, value in record.items())
        self._stream.write(line.encode("utf-8") + b"\n")

    def close(self) -> None:
        self._stream.flush()


def open_logfmt_writer(stream: BinaryIO, options: argparse.Namespace) -> LogfmtWriter:
    return LogfmtWriter(stream)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "logfmt", "records", ".logfmt", "logfmt key=value lines (example plugin)", open_logfmt_writer
        )
    ]


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [CodeInfo(NON_ASCII_NAME, Severity.INFO, "A file name that is not plain ASCII (example plugin)")]


@hookimpl
def mk2ds_check_entry(entry: Entry) -> Iterator[Finding]:
    if not entry.path.isascii():
        yield Finding(NON_ASCII_NAME, Severity.INFO, "file name is not plain ASCII", path=entry.path)


SUBSET_FIELDS = (
    TableField("subset", "string", "a subset of the logs (30m, Verbose, ...)", required=True),
    TableField("logs", "integer", "its log files", required=True),
    TableField("events", "integer", "their records", required=True),
)


def subset_rows(context: ExportContext) -> Iterator[dict[str, Any]]:
    totals: dict[str, list[int]] = {}
    for log in context.logs:
        entry = totals.setdefault(str(log["subset"]), [0, 0])
        entry[0] += 1
        entry[1] += int(log["events"])
    for subset, (logs, events) in sorted(totals.items()):
        yield {"subset": subset, "logs": logs, "events": events}


@hookimpl
def mk2ds_export_tables(context: ExportContext) -> list[ExportTable]:
    return [ExportTable("example_subsets", "logs and events per subset (example plugin)", SUBSET_FIELDS, subset_rows(context), ("subset",))]
