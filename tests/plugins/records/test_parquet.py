"""The ``parquet`` record output, queried with DuckDB: typed columns, times, batches, golden dump."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mk2ds.core import UsageError
from mk2ds.core.outputs import open_record_writer
from mk2ds.core.registry import find_output

duckdb = pytest.importorskip("duckdb")
parquet = pytest.importorskip("pyarrow.parquet")

DATA = Path(__file__).parents[2] / "data" / "outputs"
GOLDEN = Path(__file__).parents[2] / "golden" / "outputs"


def load_records() -> list[dict[str, Any]]:
    with open(DATA / "records.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def write(pm: pluggy.PluginManager, path: Path, records: Iterable[Mapping[str, Any]], **options: Any) -> Path:
    with open(path, "wb") as stream:
        writer = open_record_writer(find_output(pm, "records", "parquet"), stream, argparse.Namespace(**options))
        for record in records:
            writer.write(record)
        writer.close()
    return path


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    result: list[tuple[Any, ...]] = connection.execute(sql.replace("$T", f"read_parquet('{path}')")).fetchall()
    connection.close()
    return result


@pytest.fixture
def sample(pm: pluggy.PluginManager, tmp_path: Path) -> Path:
    return write(pm, tmp_path / "sample.parquet", load_records())


def test_duckdb_reads_every_record_with_typed_columns(sample: Path) -> None:
    records = load_records()
    assert query(sample, "SELECT count(*) FROM $T") == [(len(records),)]
    types = dict(query(sample, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $T)"))
    assert types["time"] == "TIMESTAMP WITH TIME ZONE"
    assert types["time_local"] == "TIMESTAMP"
    assert types["sn"] == types["dstPort"] == types["psID"] == "BIGINT"
    assert types["psPath"] == types["evt"] == "VARCHAR"
    # srcPort is "-" in one session record: the column stays an integer, null there, the text in srcPort_raw
    assert types["srcPort"] == "BIGINT" and types["srcPort_raw"] == "VARCHAR"
    assert query(sample, "SELECT count(*) FROM $T WHERE srcPort IS NULL AND srcPort_raw = '-'") == [(1,)]
    assert query(sample, "SELECT count(*) FROM $T WHERE srcPort_raw IS NOT NULL") == [(1,)]
    assert "dstPort_raw" not in types  # only where some record needs it


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2**63 - 1], "BIGINT"),
        ([1, 2**63], "UBIGINT"),  # a REG_QWORD valNum
        ([0, 2**64 - 1], "UBIGINT"),
        ([-1, 2**63], "DECIMAL(38,0)"),
        ([1, 2**64], "DECIMAL(38,0)"),  # recv of 2^64
        ([1, 10**40], "VARCHAR"),
    ],
)
def test_integers_beyond_int64_get_a_type_that_holds_them(
    pm: pluggy.PluginManager, tmp_path: Path, values: list[int], expected: str
) -> None:
    records = [
        {"time": "2018-03-05T10:12:03.114+09:00", "sn": number, "valNum": value} for number, value in enumerate(values)
    ]
    records.append({"time": "2018-03-05T10:12:03.114+09:00", "sn": 9, "valNum": "-"})
    path = write(pm, tmp_path / "big.parquet", records, parquet_batch_rows=1)
    types = dict(query(path, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $T)"))
    assert types["valNum"] == expected
    table = parquet.read_table(path).to_pylist()
    if expected == "VARCHAR":  # text for the whole column: the marker stays in it, as text
        assert [row["valNum"] for row in table] == [*map(str, values), "-"]
    else:
        assert [None if row["valNum"] is None else int(row["valNum"]) for row in table] == [*values, None]
        assert [row["valNum_raw"] for row in table] == [None] * len(values) + ["-"]


def test_typed_queries_match_the_records(sample: Path) -> None:
    records = load_records()
    expected = sorted(r["sn"] for r in records if r.get("evt") == "net" and r.get("dstPort") == 445)
    assert [
        row[0] for row in query(sample, "SELECT sn FROM $T WHERE evt = 'net' AND dstPort = 445 ORDER BY sn")
    ] == expected
    assert query(sample, "SELECT max(sn) FROM $T") == [(max(r["sn"] for r in records),)]


def test_time_columns(sample: Path) -> None:
    sql = "SELECT sn, epoch_ms(time), time_local, time_offset, time_offset_source FROM $T"
    rows = {sn: values for sn, *values in query(sample, sql)}
    # 2018-03-05T10:12:03.114+09:00 == 2018-03-05T01:12:03.114Z
    assert rows[2101] == [1520212323114, datetime.datetime(2018, 3, 5, 10, 12, 3, 114000), "+09:00", "header"]
    # zone-less, offset unknown: no instant is invented, the logged wall-clock time is kept, and it says why
    assert rows[2102] == [None, datetime.datetime(2018, 3, 5, 10, 12, 4, 530000), None, "unknown"]


def test_zone_less_records_get_the_offset_the_reader_resolved(pm: pluggy.PluginManager, tmp_path: Path) -> None:
    record = {"time": "2018-03-27T19:44:53.926", "time_offset": "+09:00", "time_offset_source": "sysinfo", "sn": 1}
    path = write(pm, tmp_path / "s.parquet", [record])
    assert query(path, "SELECT epoch_ms(time), time_offset, time_offset_source FROM $T") == [
        (1522147493926, "+09:00", "sysinfo")
    ]
    types = dict(query(path, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM $T)"))
    assert "mk2_time_offset" not in types


def test_assume_offset_gives_zone_less_records_an_instant(pm: pluggy.PluginManager, tmp_path: Path) -> None:
    records = [
        {key: value for key, value in record.items() if key != "time_offset_source"} for record in load_records()[:3]
    ]
    path = write(pm, tmp_path / "a.parquet", records, assume_offset="+0900")
    rows = query(path, "SELECT sn, epoch_ms(time), time_offset, time_offset_source FROM $T ORDER BY sn")
    assert rows == [
        (2101, 1520212323114, "+09:00", "header"),
        (2102, 1520212324530, "+09:00", "option"),
        (2103, 1520212324861, "+09:00", "option"),
    ]


def test_batches_become_row_groups(pm: pluggy.PluginManager, tmp_path: Path) -> None:
    path = write(pm, tmp_path / "b.parquet", load_records(), parquet_batch_rows=5)
    assert parquet.ParquetFile(path).num_row_groups == 9
    assert query(path, "SELECT count(*) FROM $T") == [(44,)]
    with pytest.raises(UsageError, match="at least 1"):
        write(pm, tmp_path / "c.parquet", [], parquet_batch_rows=0)


def test_no_records_gives_an_empty_table(pm: pluggy.PluginManager, tmp_path: Path) -> None:
    path = write(pm, tmp_path / "empty.parquet", [])
    assert query(path, "SELECT count(*) FROM $T") == [(0,)]


def test_without_pyarrow_the_error_says_how_to_install(
    pm: pluggy.PluginManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(UsageError, match=r"pip install 'mk2ds\[parquet\]'"):
        write(pm, tmp_path / "x.parquet", [])


def golden_dump(path: Path) -> str:
    """Schema and rows as JSON lines (Parquet bytes carry the pyarrow version, so they are not compared)."""
    schema = parquet.read_schema(path)
    lines = [json.dumps({field.name: str(field.type) for field in schema})]
    for row in query(path, "SELECT * FROM $T"):
        values = {
            field.name: value.isoformat() if isinstance(value, datetime.datetime) else value
            for field, value in zip(schema, row, strict=False)
        }
        lines.append(json.dumps({key: value for key, value in values.items() if value is not None}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def test_golden(sample: Path, golden: Callable[[Path, str], None]) -> None:
    golden(GOLDEN / "parquet.jsonl", golden_dump(sample))
