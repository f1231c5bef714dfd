"""The ``parquet`` record output: typed columns for DuckDB, pandas, Spark and friends.

Needs pyarrow, an optional extra: ``pip install 'mk2ds[parquet]'``. Without it the format is still listed,
and using it stops with a usage error that says how to install it.

Columns (one file per input, written by ``mk2ds convert``):

``time``
    ``timestamp[ms, tz=UTC]``: the instant, from the header's offset or, for a zone-less record, the offset
    the reader resolved (``--assume-offset``, or the Sysinfo time zone of the sample); null when the offset
    is unknown (no instant is invented: ``time_offset_source`` says ``unknown``).
``time_local``
    ``timestamp[ms]`` without zone: the wall-clock time exactly as logged (always set).
``time_offset``
    the offset of ``time`` (``+09:00``), null when unknown.
``time_offset_source``
    where the offset came from: ``header``, ``option``, ``sysinfo`` or ``unknown``
    (:mod:`mk2ds.plugins.reader.timestamps`).
every other key, in order of first appearance
    One type per column (:mod:`mk2ds.plugins.records.typed`). A column with integers is an integer column:
    ``int64`` when every integer of the file fits, else ``uint64`` when every one is in 0 … 2^64-1 (a
    ``REG_QWORD`` ``valNum``, a ``recv`` of 2^64-1), else ``decimal128(38, 0)`` when every one has at most
    38 digits, else ``string`` (decimal text). Where a record has text in such a column (the no-value marker
    ``-``, or ``log-not-integer`` text), the integer column is null and a ``<key>_raw`` ``string`` column,
    right after it, holds the text (it exists only when some record needs it). A column without integers
    is ``string``, except for the record contract's integer fields (``srcPort`` …), which are ``int64`` (all
    null, the text in ``<key>_raw``) in a file that has no integer for them, so every file has one type
    for them. Missing keys are null.

Parquet needs the schema before the first row, so the writer makes a first pass: records are spilled to an
anonymous temporary file while keys and types are collected (per column only the smallest and largest
integer and whether text was seen: memory is bounded by the number of columns, not rows; the type is
decided once for the whole file, so every row group has the same schema), then written in batches of
``--parquet-batch-rows`` rows (one row group each). Memory stays bounded by the batch size.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, BinaryIO

from mk2ds.core import OutputFormat, UsageError, hookimpl
from mk2ds.plugins.reader.timestamps import OFFSET_KEYS, assumed_offset_option, resolve_time
from mk2ds.plugins.reader.tokenizer import INTEGER_FIELDS
from mk2ds.plugins.records.typed import INT64_MAX, INT64_MIN, UINT64_MAX, is_integer, raw_name

__all__ = ["INSTALL_HINT", "TIME_COLUMNS", "ParquetRecordWriter", "column_type"]

INSTALL_HINT = "the parquet format needs pyarrow: pip install 'mk2ds[parquet]'"
TIME_COLUMNS = ("time", "time_local", "time_offset", "time_offset_source")
DEFAULT_BATCH_ROWS = 10_000
DECIMAL_DIGITS = 38


def _require_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return pyarrow


def _as_text(value: Any) -> str:
    return (
        value
        if isinstance(value, str)
        else (str(value) if is_integer(value) else json.dumps(value, ensure_ascii=False))
    )


@dataclass
class _Column:
    """What the first pass learns about one column: the range of its integers, and whether it holds text."""

    smallest: int | None = None
    largest: int | None = None
    text: bool = False
    #: An integer field of the record contract: an integer column even when this file has no integer in it.
    integer: bool = False

    def see(self, value: Any) -> None:
        if is_integer(value):
            if self.smallest is None or value < self.smallest:
                self.smallest = value
            if self.largest is None or value > self.largest:
                self.largest = value
        else:
            self.text = True


def column_type(smallest: int | None, largest: int | None) -> str:
    """``int64``, ``uint64``, ``decimal`` or ``string`` for integers from ``smallest`` to ``largest``."""
    if smallest is None or largest is None:
        return "string"
    if INT64_MIN <= smallest and largest <= INT64_MAX:
        return "int64"
    if 0 <= smallest and largest <= UINT64_MAX:
        return "uint64"
    if max(-smallest, largest) < 10**DECIMAL_DIGITS:
        return "decimal"
    return "string"


def _column_values(name: str, kind: str, raw: str | None, values: list[Any]) -> dict[str, list[Any]]:
    """The values of one record column as its type needs them, and of its ``_raw`` column when it has one."""
    if kind == "string":
        return {name: [None if value is None else _as_text(value) for value in values]}
    if kind == "decimal":
        typed: list[Any] = [Decimal(value) if is_integer(value) else None for value in values]
    else:
        typed = [value if is_integer(value) else None for value in values]
    arrays = {name: typed}
    if raw is not None:
        arrays[raw] = [None if value is None or is_integer(value) else _as_text(value) for value in values]
    return arrays


class ParquetRecordWriter:
    """First pass to a temporary file (keys and types), then typed batches on :meth:`close`."""

    def __init__(self, stream: BinaryIO, assume_offset: str | None, batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
        self._pyarrow = _require_pyarrow()
        self._stream = stream
        self._assume_offset = assume_offset
        self._batch_rows = batch_rows
        self._columns: dict[str, _Column] = {}
        self._spill: IO[bytes] | None = tempfile.TemporaryFile(prefix="mk2ds-parquet-")  # noqa: SIM115

    def _column_name(self, key: str) -> str:
        name = key
        while name in TIME_COLUMNS:
            name = f"mk2_{name}"
        return name

    def write(self, record: Mapping[str, Any]) -> None:
        assert self._spill is not None, "write after close"
        when = resolve_time(record, self._assume_offset)
        row: dict[str, Any] = {
            "time": when.iso if when.known else None,  # no offset is invented: time stays null
            "time_local": when.local,
            "time_offset": when.offset if when.known else None,
            "time_offset_source": when.source,
        }
        zone_less = when.source != "header"
        for key, value in record.items():
            if key == "time" or (zone_less and key in OFFSET_KEYS):
                continue  # the time columns above hold them
            name = self._column_name(key)
            row[name] = value
            column = self._columns.get(name)
            if column is None:
                column = self._columns[name] = _Column(integer=key in INTEGER_FIELDS)
            column.see(value)
        self._spill.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")

    def _schema(self) -> tuple[Any, dict[str, tuple[str, str | None]]]:
        """The Arrow schema, and per record column its type and the name of its ``_raw`` column (or ``None``)."""
        pa = self._pyarrow
        fields = [
            pa.field("time", pa.timestamp("ms", tz="UTC")),
            pa.field("time_local", pa.timestamp("ms")),
            pa.field("time_offset", pa.string()),
            pa.field("time_offset_source", pa.string()),
        ]
        arrow_types = {
            "int64": pa.int64(),
            "uint64": pa.uint64(),
            "decimal": pa.decimal128(DECIMAL_DIGITS, 0),
            "string": pa.string(),
        }
        plan: dict[str, tuple[str, str | None]] = {}
        taken = set(TIME_COLUMNS) | set(self._columns)
        for name, column in self._columns.items():
            kind = column_type(column.smallest, column.largest)
            if kind == "string" and column.integer and column.smallest is None:
                kind = "int64"
            fields.append(pa.field(name, arrow_types[kind]))
            raw = None
            if kind != "string" and column.text:
                raw = raw_name(name, dict.fromkeys(taken))
                taken.add(raw)
                fields.append(pa.field(raw, pa.string()))
            plan[name] = (kind, raw)
        return pa.schema(fields), plan

    def _batch(self, schema: Any, plan: dict[str, tuple[str, str | None]], rows: list[dict[str, Any]]) -> Any:
        pa = self._pyarrow
        arrays: dict[str, Any] = {}
        for name in ("time", "time_local"):
            arrays[name] = [None if row[name] is None else datetime.fromisoformat(row[name]) for row in rows]
        for name in ("time_offset", "time_offset_source"):
            arrays[name] = [row[name] for row in rows]
        for name, (kind, raw) in plan.items():
            arrays.update(_column_values(name, kind, raw, [row.get(name) for row in rows]))
        columns = [pa.array(arrays[field.name], type=field.type) for field in schema]
        return pa.RecordBatch.from_arrays(columns, schema=schema)

    def close(self) -> None:
        if self._spill is None:
            return
        from pyarrow import parquet

        schema, plan = self._schema()
        writer = parquet.ParquetWriter(self._stream, schema)
        try:
            self._spill.seek(0)
            rows: list[dict[str, Any]] = []
            for line in self._spill:
                rows.append(json.loads(line))
                if len(rows) >= self._batch_rows:
                    writer.write_batch(self._batch(schema, plan, rows))
                    rows = []
            if rows:
                writer.write_batch(self._batch(schema, plan, rows))
        finally:
            writer.close()
            self._spill.close()
            self._spill = None
        self._stream.flush()


def open_writer(stream: BinaryIO, options: argparse.Namespace) -> ParquetRecordWriter:
    batch_rows = getattr(options, "parquet_batch_rows", None)
    if batch_rows is None:
        batch_rows = DEFAULT_BATCH_ROWS
    if int(batch_rows) < 1:
        raise UsageError(f"--parquet-batch-rows must be at least 1, not {batch_rows}")
    return ParquetRecordWriter(stream, assumed_offset_option(options), int(batch_rows))


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "parquet",
            "records",
            ".parquet",
            "Apache Parquet with typed columns (needs pip install 'mk2ds[parquet]')",
            open_writer,
            options=(
                (
                    ("--parquet-batch-rows",),
                    {
                        "dest": "parquet_batch_rows",
                        "type": int,
                        "metavar": "N",
                        "default": DEFAULT_BATCH_ROWS,
                        "help": f"parquet: rows per batch and row group (default {DEFAULT_BATCH_ROWS})",
                    },
                ),
            ),
        )
    ]
