"""The Parquet table writer: column types, conversions, and errors that name the table, row and field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core.tables import TableField
from mk2ds.plugins.export.writers import ParquetTableWriter

parquet = pytest.importorskip("pyarrow.parquet")

FIELDS = (
    TableField("name", "string", "a name", required=True),
    TableField("count", "integer", "a count"),
    TableField("ratio", "number", "a ratio"),
    TableField("flag", "boolean", "a flag"),
    TableField("when", "datetime", "an instant"),
    TableField("extra", "json", "anything else"),
)
JST = timezone(timedelta(hours=9))


def write(tmp_path: Path, rows: list[dict[str, Any]], batch_rows: int = 2) -> list[dict[str, Any]]:
    path = str(tmp_path / "table.parquet")
    writer = ParquetTableWriter(path, FIELDS, "things", batch_rows=batch_rows)
    try:
        writer.write_all(rows)
    finally:
        writer.close()
    assert writer.rows == len(rows)
    table: list[dict[str, Any]] = parquet.read_table(path).to_pylist()
    return table


def test_values_of_every_kind_are_written_as_their_field_types(tmp_path: Path) -> None:
    rows = [
        {"name": "a", "count": 1, "ratio": 2, "flag": True, "when": 1_000, "extra": {"b": 1, "a": "日本"}},
        {"name": "b", "count": None, "ratio": 0.5, "when": datetime(2018, 3, 27, 19, 44, 53, tzinfo=JST)},
        {"name": "c", "count": 2**62, "ratio": None, "flag": False, "extra": "already text"},
    ]
    written = write(tmp_path, rows)
    assert [row["name"] for row in written] == ["a", "b", "c"]
    assert [row["count"] for row in written] == [1, None, 2**62]
    assert [row["ratio"] for row in written] == [2.0, 0.5, None]
    assert [row["flag"] for row in written] == [True, None, False]
    assert written[0]["when"] == datetime(1970, 1, 1, 0, 0, 1, tzinfo=timezone.utc)
    assert written[1]["when"] == datetime(2018, 3, 27, 10, 44, 53, tzinfo=timezone.utc)
    assert written[0]["extra"] == '{"a":"日本","b":1}'  # sorted keys, compact, not ASCII-escaped
    assert written[1]["extra"] is None
    assert written[2]["extra"] == "already text"


def test_a_column_of_mixed_but_fitting_values_matches_a_column_converted_value_by_value(tmp_path: Path) -> None:
    as_is = write(tmp_path / "a", [{"name": "x", "ratio": 1.5}, {"name": "y", "ratio": 3}], batch_rows=10)
    one_by_one = write(tmp_path / "b", [{"name": "x", "ratio": 1.5}, {"name": "y", "ratio": 3.0}], batch_rows=10)
    assert as_is == one_by_one


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"name": "x", "count": True}, r"table things, row 4: count: True is not a integer"),
        ({"name": "x", "count": "7"}, r"table things, row 4: count: '7' is not a integer"),
        ({"name": 7}, r"table things, row 4: name: 7 is not a string"),
        ({"name": "x", "flag": 1}, r"table things, row 4: flag: 1 is not a boolean"),
        ({"name": "x", "when": datetime(2018, 1, 1)}, r"table things, row 4: when: a datetime without a zone"),
        ({"name": "x", "extra": {"bytes": b"\x00"}}, r"table things, row 4: .*not JSON serializable"),
        ({"count": 1}, r"table things, row 4: name is required but missing"),
    ],
)
def test_a_value_that_does_not_fit_names_table_row_and_field(tmp_path: Path, row: dict[str, Any], message: str) -> None:
    rows = [{"name": "ok", "count": 1}] * 3 + [row]
    with pytest.raises(ValueError, match=message):
        write(tmp_path, rows)


def test_an_empty_table_still_has_its_schema(tmp_path: Path) -> None:
    path = str(tmp_path / "empty.parquet")
    ParquetTableWriter(path, FIELDS, "things").close()
    schema = parquet.read_schema(path)
    assert schema.names == [field.name for field in FIELDS]
    assert not schema.field("name").nullable
