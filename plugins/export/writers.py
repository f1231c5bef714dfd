"""Writing export tables: Parquet files with the schema of their :class:`~mk2ds.core.tables.TableField` s,
Hive-style partition paths, merging per-log parts, and the DuckDB database of ``--format duckdb``.

Parquet files are written with fixed settings (zstd, one row group per batch, statistics), so the same rows
give the same bytes. Memory stays bounded by the batch size: rows are converted and written batch by batch.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from mk2ds.core import UsageError
from mk2ds.core.tables import ExportTable, TableField

__all__ = [
    "BATCH_ROWS",
    "HIVE_NULL",
    "INSTALL_HINT",
    "ParquetTableWriter",
    "arrow_schema",
    "merge_parts",
    "partition_folder",
    "require_pyarrow",
    "use_system_memory_pool",
    "write_duckdb",
    "write_table",
]

INSTALL_HINT = "mk2ds export needs pyarrow (and duckdb for --format duckdb): pip install 'mk2ds[export]'"
#: Rows per batch and row group (values are kept by column until a batch is written).
BATCH_ROWS = 8_192
#: The partition value pyarrow, DuckDB and Spark read as null.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)


def require_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return pyarrow


def use_system_memory_pool() -> None:
    """Let pyarrow allocate with the C library: its default pool keeps freed batches for reuse, which costs
    about 100 MB of peak memory in an export and buys no speed here (measured: 353 MB against 258 MB)."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # read when pyarrow is first imported
    pa = require_pyarrow()
    pa.set_memory_pool(pa.system_memory_pool())  # when it was imported before


def arrow_type(field: TableField) -> Any:
    pa = require_pyarrow()
    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "datetime": pa.timestamp("ms", tz="UTC"),
        "json": pa.string(),
    }[field.type]


def arrow_schema(fields: Sequence[TableField], dictionary: Sequence[str] = ()) -> Any:
    """The Arrow schema of ``fields``; names in ``dictionary`` are dictionary-encoded strings (the partition
    columns of ``events``, typed as the partition keys that pyarrow discovers from the paths)."""
    pa = require_pyarrow()
    return pa.schema(
        [
            pa.field(
                field.name,
                pa.dictionary(pa.int32(), pa.string()) if field.name in dictionary else arrow_type(field),
                nullable=not field.required,
                metadata={"description": field.description, "mk2ds_type": field.type},
            )
            for field in fields
        ]
    )


def _cell(field: TableField, value: Any) -> Any:
    """A row value as the Arrow column of its field type wants it. :raises ValueError: it does not fit."""
    if value is None:
        return None
    kind = field.type
    if kind == "json":
        return value if isinstance(value, str) else _ENCODE_JSON(value)
    if kind == "datetime":
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"{field.name}: a datetime without a zone ({value.isoformat()})")
            return (value - _EPOCH) // _MILLISECOND
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # epoch milliseconds
    elif (
        kind == "string"
        and isinstance(value, str)
        or kind == "integer"
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        return value
    elif kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    elif kind == "boolean" and isinstance(value, bool):
        return value
    raise ValueError(f"{field.name}: {value!r} is not a {kind}")


#: The Python types a column may hold (besides None) to go to Arrow as it is, by field type.
_AS_IS_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "json": frozenset({str}),
    "integer": frozenset({int}),
    "datetime": frozenset({int}),
    "number": frozenset({float, int}),
    "boolean": frozenset({bool}),
}
_NONE_TYPE = type(None)


#: The JSON of a ``json`` cell: compact, keys sorted, not ASCII-escaped (one encoder, not one per value).
_ENCODE_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def _dump_json(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    if type(value) is dict and not value:
        return "{}"
    return _ENCODE_JSON(value)


def _column_cells(field: TableField, values: Sequence[Any], table: str, rows_before: int) -> Sequence[Any]:
    """One batch's values of ``field`` as its Arrow column wants them (see :func:`_cell`).

    A column whose values all have the types its field takes as they are (``type()``, so a bool is never an
    integer) goes as it is; JSON values are dumped in one pass; anything else goes value by value through
    :func:`_cell`, whose error names the row. :raises ValueError: a value does not fit.
    """
    kinds = set(map(type, values))
    kinds.discard(_NONE_TYPE)
    if kinds <= _AS_IS_TYPES[field.type]:
        return values
    if field.type == "json":
        try:
            return [_dump_json(value) for value in values]
        except (TypeError, ValueError):
            pass  # the value-by-value pass below names the row
    cells = []
    for number, value in enumerate(values, start=rows_before + 1):
        try:
            cells.append(_cell(field, value))
        except (TypeError, ValueError) as error:
            raise ValueError(f"table {table}, row {number}: {error}") from None
    return cells


class ParquetTableWriter:
    """Rows in, one Parquet file out (``close`` finishes it); an empty table still gets its schema."""

    def __init__(
        self,
        path: str,
        fields: Sequence[TableField],
        table: str,
        batch_rows: int = BATCH_ROWS,
        dictionary: Sequence[str] = (),
    ) -> None:
        require_pyarrow()
        from pyarrow import parquet

        self.fields = tuple(fields)
        self.table = table
        self.schema = arrow_schema(self.fields, dictionary)
        self.batch_rows = batch_rows
        self.rows = 0
        # Each row as a tuple of its values (not the row dict): a batch costs a pointer per value.
        self._names = tuple(field.name for field in self.fields)
        self._rows: list[tuple[Any, ...]] = []
        self._pending = 0
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._writer = parquet.ParquetWriter(path, self.schema, compression="zstd", write_statistics=True)

    def write(self, row: Mapping[str, Any]) -> None:
        """Write one row given by column name (a missing column is null)."""
        self.write_values(tuple(map(row.get, self._names)))

    def write_values(self, values: tuple[Any, ...]) -> None:
        """Write one row given as its values in the order of the writer's fields.

        :raises ValueError: not one value per field.
        """
        if len(values) != len(self._names):
            raise ValueError(f"table {self.table}: a row of {len(values)} values for {len(self._names)} fields")
        self._rows.append(values)
        self._pending += 1
        if self._pending >= self.batch_rows:
            self._flush()

    def write_all(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.write(row)

    def _flush(self) -> None:
        if not self._pending:
            return
        pa = require_pyarrow()
        columns = []
        for index, values in enumerate(zip(*self._rows, strict=True)):
            field = self.fields[index]
            cells = _column_cells(field, values, self.table, self.rows)
            if field.required and None in cells:
                number = self.rows + 1 + cells.index(None)
                raise ValueError(f"table {self.table}, row {number}: {field.name} is required but missing")
            kind = self.schema.field(index).type
            if pa.types.is_dictionary(kind):
                columns.append(pa.array(cells, type=pa.string()).dictionary_encode().cast(kind))
            else:
                columns.append(pa.array(cells, type=kind))
        self._writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=self.schema))
        self.rows += self._pending
        self._pending = 0
        self._rows = []

    def close(self) -> None:
        try:
            self._flush()
        finally:
            self._writer.close()


def write_table(folder: str, table: ExportTable) -> int:
    """Write ``table`` as ``folder/NAME.parquet``; the number of rows."""
    writer = ParquetTableWriter(os.path.join(folder, f"{table.name}.parquet"), table.fields, table.name)
    try:
        writer.write_all(table.rows)
    finally:
        writer.close()
    return writer.rows


def partition_folder(values: Sequence[tuple[str, str | None]]) -> str:
    """``subset=30m/sample=abc…``: Hive-style, values percent-encoded, null as :data:`HIVE_NULL`."""
    return "/".join(
        f"{name}={HIVE_NULL if value is None else urllib.parse.quote(value, safe='')}" for name, value in values
    )


def merge_parts(parts: Iterable[str], target: str, fields: Sequence[TableField], table: str) -> int:
    """Concatenate Parquet part files (same schema) into ``target``, row group by row group, in the given
    order; missing parts (a log that failed) are skipped. The number of rows."""
    require_pyarrow()
    from pyarrow import parquet

    writer = ParquetTableWriter(target, fields, table)
    try:
        for part in parts:
            if not os.path.exists(part):
                continue
            source = parquet.ParquetFile(part)
            for index in range(source.num_row_groups):
                group = source.read_row_group(index)
                writer._writer.write_table(group)
                writer.rows += group.num_rows
            source.close()
    finally:
        writer.close()
    return writer.rows


def _duckdb_type(field: TableField) -> str:
    return {
        "string": "VARCHAR",
        "integer": "BIGINT",
        "number": "DOUBLE",
        "boolean": "BOOLEAN",
        "datetime": "TIMESTAMPTZ",
        "json": "JSON",
    }[field.type]


def write_duckdb(
    path: str, folder: str, tables: Sequence[tuple[str, Sequence[TableField], tuple[str, ...], Sequence[Any]]]
) -> None:
    """One DuckDB database at ``path`` with a table per export table (loaded from the Parquet files in
    ``folder``; ``events`` from its partitions), primary keys, and the foreign keys DuckDB can enforce.

    ``tables`` lists ``(name, fields, primary key, foreign keys)``; referenced tables come first.
    """
    try:
        import duckdb
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    connection = duckdb.connect(path)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        for name, fields, primary_key, foreign_keys in tables:
            columns = [
                f'"{field.name}" {_duckdb_type(field)}' + (" NOT NULL" if field.required else "") for field in fields
            ]
            if primary_key:
                columns.append("PRIMARY KEY (" + ", ".join(f'"{key}"' for key in primary_key) + ")")
            for key in foreign_keys:
                columns.append(
                    "FOREIGN KEY ("
                    + ", ".join(f'"{part}"' for part in key.fields)
                    + f') REFERENCES "{key.reference}" ('
                    + ", ".join(f'"{part}"' for part in key.reference_fields)
                    + ")"
                )
            connection.execute(f'CREATE TABLE "{name}" ({", ".join(columns)})')
            source = (
                os.path.join(folder, name, "**", "*.parquet")
                if name == "events"
                else os.path.join(folder, f"{name}.parquet")
            )
            hive = ", hive_partitioning = true" if name == "events" else ""
            names = ", ".join(f'"{field.name}"' for field in fields)
            connection.execute(f'INSERT INTO "{name}" SELECT {names} FROM read_parquet(?{hive})', [source])
        connection.execute("CHECKPOINT")
    finally:
        connection.close()
