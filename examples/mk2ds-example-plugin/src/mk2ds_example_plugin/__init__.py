"""mk2ds-example-plugin: one record output format and one finding check, through the public hooks only.

* ``logfmt`` records output: ``time=2018-03-05T10:12:03.114+09:00 sn=2101 evt=ps psPath=C:\\Windows\\...``.
  A value is quoted (JSON string rules) when it is empty or holds a space, ``=``, ``"`` or a control
  character, as the logfmt convention asks.
* ``example/non-ascii-name`` finding (info): a dataset file whose name is not plain ASCII.
* ``example/empty-command`` finding (warning): a process started with an empty command line, in a Mark II
  log. The log is read through *another plugin's* service hook, ``mk2ds_open_log`` (mk2ds's reader, or any
  reader a plugin adds), with :func:`mk2ds.core.call_service`: a third party can build on the built-ins as
  they build on each other. When no plugin reads logs (``-p no:reader``), the check says that it could not
  run (``check-not-run``) instead of passing quietly.
* ``example_subsets`` table in ``mk2ds export``: logs and events per subset (``mk2ds_export_tables``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from mk2ds.core import (
    CodeInfo,
    Dataset,
    Entry,
    Fact,
    Finding,
    OutputFormat,
    Severity,
    VerifyContext,
    call_service,
    check_not_run,
    hookimpl,
)
from mk2ds.core.tables import ExportContext, ExportTable, TableField

__version__ = "0.1.0"

NON_ASCII_NAME = "example/non-ascii-name"
EMPTY_COMMAND = "example/empty-command"


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
    return [OutputFormat("logfmt", "records", ".logfmt", "logfmt key=value lines (example plugin)", open_logfmt_writer)]


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo(NON_ASCII_NAME, Severity.INFO, "A file name that is not plain ASCII (example plugin)"),
        CodeInfo(EMPTY_COMMAND, Severity.WARNING, "A process started with an empty command line (example plugin)"),
    ]


@hookimpl
def mk2ds_check_entry(entry: Entry, kind: str, dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    if not entry.path.isascii():
        yield Finding(NON_ASCII_NAME, Severity.INFO, "file name is not plain ASCII", path=entry.path)
    if kind == "mk2log" and context.at_least("full"):
        yield from empty_commands(entry, dataset, context)


def empty_commands(entry: Entry, dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    """Process starts without a command line, read through whichever plugin implements ``mk2ds_open_log``."""
    if context.pm is None or not context.provided("mk2ds_open_log"):
        yield check_not_run("example: command lines of this log", "mk2ds_open_log", "reader", path=entry.path)
        return
    options = argparse.Namespace(provenance=True, encoding=context.option("encoding", "auto") or "auto")
    with dataset.open(entry.path) as stream:
        reader = call_service(context.pm, "mk2ds_open_log", stream=stream, name=entry.path, options=options)
        if reader is None:
            return  # no plugin reads this file as a log: the log checks say so (log-no-reader)
        starts = 0
        for record in reader:
            if record.get("evt") == "ps" and record.get("subEvt") == "start":
                starts += 1
                if not record.get("cmd"):
                    line = record.get("_line")
                    yield Finding(
                        EMPTY_COMMAND,
                        Severity.WARNING,
                        "a process started with an empty command line",
                        path=entry.path,
                        line=line if isinstance(line, int) else None,
                    )
    yield Fact(f"example.process-starts.{entry.path}", starts)


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
    return [
        ExportTable(
            "example_subsets",
            "logs and events per subset (example plugin)",
            SUBSET_FIELDS,
            subset_rows(context),
            ("subset",),
        )
    ]
