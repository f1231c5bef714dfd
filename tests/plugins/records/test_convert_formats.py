"""The record outputs end to end through ``mk2ds convert`` (skipped until the convert plugin is registered).

These tests only rely on the convert contract: ``mk2ds convert INPUT... -o OUT --format NAME`` writes one
file per input with the format's suffix, and every format's options are options of ``convert``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mk2ds.core.cli import build_parser
from mk2ds.core.schemas import validate_document
from mk2ds.plugins.records.ecs import mapping_text

LOG = Path(__file__).parents[2] / "data" / "outputs" / "composed.log"
LINES = 44


def has_command(pm: pluggy.PluginManager, name: str) -> bool:
    for action in build_parser(pm)._actions:
        if isinstance(action, argparse._SubParsersAction):
            return name in action.choices
    return False


@pytest.fixture
def convert(pm: pluggy.PluginManager, run_cli: Callable[..., Any], tmp_path: Path) -> Callable[..., bytes]:
    if not has_command(pm, "convert"):
        pytest.skip("the convert command is not registered yet")

    def run(output_format: str, suffix: str, *options: str) -> bytes:
        target = tmp_path / output_format
        result = run_cli("convert", LOG, "-o", target, "--format", output_format, *options)
        assert result.code == 0, result.err
        files = [target] if target.is_file() else sorted(target.rglob(f"*{suffix}"))
        assert len(files) == 1, files
        return files[0].read_bytes()

    return run


def test_timesketch(convert: Callable[..., bytes]) -> None:
    lines = convert("timesketch", ".jsonl").decode("utf-8").splitlines()
    assert len(lines) == LINES
    for line in lines:
        event = json.loads(line)
        assert {"message", "datetime", "timestamp", "timestamp_desc"} <= set(event)


def test_ecs(convert: Callable[..., bytes]) -> None:
    lines = convert("ecs", ".ndjson").decode("utf-8").splitlines()
    assert len(lines) == LINES
    for line in lines:
        assert validate_document(json.loads(line), "ecs-subset") == []


def test_csv_excel(convert: Callable[..., bytes]) -> None:
    data = convert("csv", ".csv", "--excel")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "time" and len(rows) == LINES + 1


def test_parquet(convert: Callable[..., bytes], tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = tmp_path / "copy.parquet"
    path.write_bytes(convert("parquet", ".parquet"))
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall() == [(LINES,)]


def test_show_mapping(
    pm: pluggy.PluginManager, run_cli: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    if not has_command(pm, "convert"):
        pytest.skip("the convert command is not registered yet")
    with pytest.raises(SystemExit) as stopped:
        run_cli("convert", "--format", "ecs", "--show-mapping")
    assert stopped.value.code == 0
    assert capsys.readouterr().out == mapping_text()
