"""The ``csv`` record output: one row per record, one column per key, UTF-8.

Columns
    By default the column set is every key seen in the file, in order of first appearance (``time`` first),
    so the header is stable for a given input and no value is lost. That needs a first pass: records are
    spilled to an anonymous temporary file (JSON lines, on disk, not in memory) while the key set is
    collected, and written out when the writer is closed. Memory stays bounded by the number of distinct
    keys; the temporary file is as big as the records and is deleted on close.
    ``--columns time,evt,subEvt,psPath`` fixes the columns instead and streams rows straight through; keys
    outside that list are left out by request, and a note on standard error says which and how often.

Times and types
    ``time`` is the instant with its offset (``2018-03-27T19:44:53.926+09:00``): the header's offset, or for
    a zone-less record the one the reader resolved (``--assume-offset``, the Sysinfo time zone), which the
    ``time_offset``/``time_offset_source`` columns then name. When the offset is unknown, ``time`` is the
    local time without an offset and ``time_offset_source`` says ``unknown``: it is never presented as UTC.
    An integer field (``srcPort`` …) holds integers only; where a record has text there (the no-value marker
    ``-``), the cell is empty and the text is in the ``<key>_raw`` column
    (:mod:`mk2ds.plugins.records.typed`).

Excel (users in Japan)
    Excel reads a UTF-8 file as the ANSI code page (CP932) unless it starts with a byte-order mark, which
    garbles Japanese paths. ``--bom`` writes the BOM. ``--excel`` writes the BOM, CRLF line ends, and
    defuses cells that Excel would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``, tab or
    CR, other than a plain number or a lone ``-``) by prefixing ``'`` (the usual CSV-injection guard:
    malware command lines are attacker-controlled text).
Otherwise lines end with LF, and the file has no BOM.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import IO, Any, BinaryIO

from mk2ds.core import OutputFormat, UsageError, hookimpl
from mk2ds.plugins.reader.timestamps import assumed_offset_option, resolve_time
from mk2ds.plugins.records.typed import is_integer, typed_record

__all__ = ["CsvWriter", "cell_text", "csv_record", "parse_columns"]

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def cell_text(value: Any, excel: bool = False) -> str:
    """The text of one cell (integers as decimals; missing keys are empty cells)."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    if excel and text.startswith(_FORMULA_START) and text != "-" and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_record(record: Mapping[str, Any], assume_offset: str | None = None) -> dict[str, Any]:
    """The record as this output writes it: ``time`` resolved, text of integer fields in ``<key>_raw``."""
    typed = typed_record(record, fits=is_integer)  # any integer is decimal text in a cell: only text moves
    try:
        when = resolve_time(record, assume_offset)
    except ValueError:
        return typed  # not a record-contract time: written as it is
    if when.known:
        typed["time"] = when.iso
    if when.source != "header" and "time_offset_source" not in record:
        if when.known:
            typed["time_offset"] = when.offset
        typed["time_offset_source"] = when.source
    return typed


def parse_columns(text: str | None) -> list[str] | None:
    """``--columns`` as a list (comma-separated, blanks ignored), or ``None`` when not given."""
    if text is None:
        return None
    columns = [name.strip() for name in text.split(",") if name.strip()]
    if not columns:
        raise UsageError("--columns: give at least one column name, e.g. --columns time,evt,subEvt")
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise UsageError(f"--columns: {', '.join(duplicates)} given more than once")
    return columns


class CsvWriter:
    """Writes records as CSV rows (two modes: first pass, or ``--columns``; see the module docstring)."""

    def __init__(
        self,
        stream: BinaryIO,
        columns: Sequence[str] | None = None,
        bom: bool = False,
        excel: bool = False,
        notes: IO[str] | None = None,
        assume_offset: str | None = None,
    ) -> None:
        self._stream = stream
        self._assume_offset = assume_offset
        self._excel = excel
        self._line_end = "\r\n" if excel else "\n"
        self._notes = notes if notes is not None else sys.stderr
        self._fixed = list(columns) if columns is not None else None
        self._keys: dict[str, None] = {}
        self._omitted: collections.Counter[str] = collections.Counter()
        self._spill: IO[bytes] | None = None
        if bom or excel:
            stream.write(BOM.encode("utf-8"))
        if self._fixed is not None:
            self._write_row(self._fixed)
        else:
            self._spill = tempfile.TemporaryFile(prefix="mk2ds-csv-")  # noqa: SIM115 - closed in close()

    def _write_row(self, cells: Sequence[str]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=self._line_end).writerow(cells)
        self._stream.write(buffer.getvalue().encode("utf-8"))

    def _row(self, record: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
        return [cell_text(record.get(column), self._excel) for column in columns]

    def write(self, record: Mapping[str, Any]) -> None:
        record = csv_record(record, self._assume_offset)
        if self._fixed is not None:
            for key in record:
                if key not in self._fixed:
                    self._omitted[key] += 1
            self._write_row(self._row(record, self._fixed))
            return
        assert self._spill is not None
        for key in record:
            if key not in self._keys:
                self._keys[key] = None
        self._spill.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")

    def close(self) -> None:
        if self._spill is not None:
            columns = list(self._keys) or ["time"]
            self._write_row(columns)
            self._spill.seek(0)
            for line in self._spill:
                self._write_row(self._row(json.loads(line), columns))
            self._spill.close()
            self._spill = None
        if self._omitted:
            listed = ", ".join(f"{key} ({count})" for key, count in sorted(self._omitted.items()))
            self._notes.write(f"mk2ds: csv: fields left out by --columns: {listed}\n")
        self._stream.flush()

    @property
    def omitted(self) -> dict[str, int]:
        """Keys left out by ``--columns``, with how many records had them."""
        return dict(self._omitted)


def open_writer(stream: BinaryIO, options: argparse.Namespace) -> CsvWriter:
    return CsvWriter(
        stream,
        columns=parse_columns(getattr(options, "csv_columns", None)),
        bom=bool(getattr(options, "csv_bom", False)),
        excel=bool(getattr(options, "csv_excel", False)),
        assume_offset=assumed_offset_option(options),
    )


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "csv",
            "records",
            ".csv",
            "CSV, one row per record, columns from the keys seen (or --columns); --excel for Excel",
            open_writer,
            options=(
                (
                    ("--columns",),
                    {
                        "dest": "csv_columns",
                        "metavar": "LIST",
                        "default": None,
                        "help": "csv: comma-separated columns (default: every key seen, after a first pass)",
                    },
                ),
                (
                    ("--bom",),
                    {
                        "dest": "csv_bom",
                        "action": "store_true",
                        "help": "csv: start with a UTF-8 byte-order mark",
                    },
                ),
                (
                    ("--excel",),
                    {
                        "dest": "csv_excel",
                        "action": "store_true",
                        "help": "csv: for Excel (BOM, CRLF, cells that look like formulas prefixed with ')",
                    },
                ),
            ),
        )
    ]
