"""The ``parquet`` record output: typed columns for DuckDB, pandas, Spark and friends.

Needs pyarrow, an optional extra: ``pip install 'mk2ds[parquet]'``. Without it the format is still listed,
and using it stops with a usage error that says how to install it.

Columns (one file per input, written by ``mk2ds convert``):

``time``
    ``timestamp[ms, tz=UTC]``: the instant, when the record's time has an offset, or when ``--assume-offset``
    gave one; null when the offset is unknown (no instant is invented).
``time_local``
    ``timestamp[ms]`` without zone: the wall-clock time exactly as logged (always set).
``time_offset``
    the offset of ``time`` (``+09:00``), null when unknown.
``time_zone_assumed``
    the offset taken from ``--assume-offset`` for a zone-less record, else null.
every other key, in order of first appearance
    ``int64`` when every value in the file is an integer, otherwise ``string`` (integers written as decimal
    text), so that an integer field holding ``-`` in one record keeps that value. Missing keys are null.

Parquet needs the schema before the first row, so the writer makes a first pass: records are spilled to an
anonymous temporary file while keys and types are collected, then written in batches of
``--parquet-batch-rows`` rows (one row group each). Memory stays bounded by the batch size.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Mapping
from typing import IO, Any, BinaryIO

from mk2ds.core import OutputFormat, UsageError, hookimpl
from mk2ds.plugins.reader.timestamps import assumed_offset_option, resolve_time

__all__ = ["INSTALL_HINT", "TIME_COLUMNS", "ParquetRecordWriter"]

INSTALL_HINT = "the parquet format needs pyarrow: pip install 'mk2ds[parquet]'"
TIME_COLUMNS = ("time", "time_local", "time_offset", "time_zone_assumed")
DEFAULT_BATCH_ROWS = 10_000


def _require_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return pyarrow


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_text(value: Any) -> str:
    return (
        value
        if isinstance(value, str)
        else (str(value) if _is_integer(value) else json.dumps(value, ensure_ascii=False))
    )


class ParquetRecordWriter:
    """First pass to a temporary file (keys and types), then typed batches on :meth:`close`."""

    def __init__(
        self, stream: BinaryIO, assume_offset: str | None, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> None:
        self._pyarrow = _require_pyarrow()
        self._stream = stream
        self._assume_offset = assume_offset
        self._batch_rows = batch_rows
        self._integer_columns: dict[str, bool] = {}  # column -> every value so far is an integer
        self._spill: IO[bytes] | None = tempfile.TemporaryFile(prefix="mk2ds-parquet-")  # noqa: SIM115

    def _column_name(self, key: str) -> str:
        name = key
        while name in TIME_COLUMNS:
            name = f"mk2_{name}"
        return name

    def write(self, record: Mapping[str, Any]) -> None:
        assert self._spill is not None, "write after close"
        when = resolve_time(record, self._assume_offset)
        # resolve_time falls back to UTC for zone-less times; here no offset is invented: time stays null.
        offset_known = when.assumed is None or self._assume_offset is not None
        row: dict[str, Any] = {
            "time": when.iso if offset_known else None,
            "time_local": when.local,
            "time_offset": when.offset if offset_known else None,
            "time_zone_assumed": when.assumed if offset_known else None,
        }
        for key, value in record.items():
            if key == "time":
                continue
            name = self._column_name(key)
            row[name] = value
            self._integer_columns[name] = self._integer_columns.get(name, True) and _is_integer(value)
        self._spill.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")

    def _schema(self) -> Any:
        pa = self._pyarrow
        fields = [
            pa.field("time", pa.timestamp("ms", tz="UTC")),
            pa.field("time_local", pa.timestamp("ms")),
            pa.field("time_offset", pa.string()),
            pa.field("time_zone_assumed", pa.string()),
        ]
        for name, integer in self._integer_columns.items():
            fields.append(pa.field(name, pa.int64() if integer else pa.string()))
        return pa.schema(fields)

    def _batch(self, schema: Any, rows: list[dict[str, Any]]) -> Any:
        from datetime import datetime

        pa = self._pyarrow
        columns = []
        for field in schema:
            values = [row.get(field.name) for row in rows]
            if field.name in ("time", "time_local"):
                values = [None if value is None else datetime.fromisoformat(value) for value in values]
            elif pa.types.is_string(field.type):
                values = [None if value is None else _as_text(value) for value in values]
            columns.append(pa.array(values, type=field.type))
        return pa.RecordBatch.from_arrays(columns, schema=schema)

    def close(self) -> None:
        if self._spill is None:
            return
        from pyarrow import parquet

        schema = self._schema()
        writer = parquet.ParquetWriter(self._stream, schema)
        try:
            self._spill.seek(0)
            rows: list[dict[str, Any]] = []
            for line in self._spill:
                rows.append(json.loads(line))
                if len(rows) >= self._batch_rows:
                    writer.write_batch(self._batch(schema, rows))
                    rows = []
            if rows:
                writer.write_batch(self._batch(schema, rows))
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
