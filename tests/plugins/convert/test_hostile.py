"""``mk2ds convert`` side outputs (``--rejects``, ``--report``) must not destroy the input or the output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

LOG = b"03/01/2018 19:00:00.000 +0900 sn=1 evt=ps subEvt=start\n03/01/2018 24:00:00.000 +0900 sn=2 evt=ps subEvt=stop\n"


def test_rejects_file_equal_to_the_input_is_refused(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--rejects", source)
    assert result.code == 2
    assert source.read_bytes() == LOG


def test_report_file_equal_to_the_input_is_refused(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--report", source)
    assert result.code == 2
    assert source.read_bytes() == LOG


def test_rejects_file_equal_to_the_output_is_refused(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    output = tmp_path / "a.jsonl"
    result = run_cli("convert", source, "-o", output, "--rejects", output)
    assert result.code == 2


@pytest.mark.parametrize(
    ("option", "named", "role"),
    [("--rejects", "input", "input"), ("--report", "input", "input"), ("--report", "output", "output"), ("--rejects", "output", "output")],
)
def test_the_refusal_names_the_option_and_the_file(run_cli: Callable[..., Any], tmp_path: Path, option: str, named: str, role: str) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    output = tmp_path / "a.jsonl"
    output.write_bytes(b"earlier output\n")
    target = source if named == "input" else output
    result = run_cli("convert", source, "-o", output, option, target)
    assert result.code == 2
    assert f"{option} {target}: that is the {role} {target}" in result.err
    assert source.read_bytes() == LOG and output.read_bytes() == b"earlier output\n"


def test_a_hard_link_to_the_input_is_the_input(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    (tmp_path / "link.rejects").hardlink_to(source)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--rejects", tmp_path / "link.rejects")
    assert result.code == 2 and source.read_bytes() == LOG


def test_the_report_is_refused_over_the_default_rejects_file(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--report", tmp_path / "a.jsonl.rejects")
    assert result.code == 2 and "rejects file" in result.err


def test_separate_side_outputs_still_work(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--rejects", tmp_path / "r.txt", "--report", tmp_path / "report.json")
    assert result.code == 1 and (tmp_path / "r.txt").read_bytes() == b"2\t" + LOG.splitlines()[1] + b"\n"
    assert (tmp_path / "report.json").exists() and source.read_bytes() == LOG
