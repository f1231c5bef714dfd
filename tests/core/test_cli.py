from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core.schemas import validate_document


def test_no_command_prints_help_and_exits_2(run_cli: Callable[..., Any]) -> None:
    result = run_cli()
    assert result.code == 2 and "verify" in result.out


def test_unknown_path_is_a_usage_error_naming_it(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli("verify", tmp_path / "missing")
    assert result.code == 2
    assert "missing" in result.err and "no such file or folder" in result.err


def test_bad_plugin_flag_is_a_usage_error(run_cli: Callable[..., Any]) -> None:
    result = run_cli("-p", "layout", "plugins")
    assert result.code == 2 and "no:NAME" in result.err


def test_unknown_profile_lists_the_known_ones(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli("verify", tmp_path, "--profile", "nope")
    assert result.code == 2 and "soliton-2018" in result.err


def test_invalid_profile_file_names_file_and_problem(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    profile.write_text('{"name": "Bad Name", "required": []}', encoding="utf-8")
    result = run_cli("verify", tmp_path, "--profile", profile)
    assert result.code == 2 and str(profile) in result.err and "name" in result.err


def test_verify_json_report_validates_and_exit_code_matches(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli("verify", tmp_path, "--format", "json", "--level", "structure")
    document = json.loads(result.out)
    assert validate_document(document, "report") == []
    assert result.code == document["exit_code"] == 1
    assert {f["code"] for f in document["findings"]} == {"missing-required"}


def test_report_written_atomically_to_output(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    (tmp_path / "ds").mkdir()
    result = run_cli("verify", tmp_path / "ds", "--format", "json", "-o", target)
    assert result.code == 1 and result.out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["command"] == "verify"
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif"])
def test_every_report_format_renders(run_cli: Callable[..., Any], tmp_path: Path, fmt: str) -> None:
    result = run_cli(
        "verify", tmp_path, "--format", fmt, "--level", "structure", *(["--show-all"] if fmt == "text" else [])
    )
    assert result.code == 1 and "README.txt" in result.out


def test_plugins_json_lists_builtins_with_hooks(run_cli: Callable[..., Any]) -> None:
    result = run_cli("plugins", "--json")
    plugins = {item["name"]: item for item in json.loads(result.out)}
    assert plugins["checks.layout"]["builtin"] and "mk2ds_check_dataset" in plugins["checks.layout"]["hooks"]
    blocked = run_cli("-p", "no:checks.layout", "plugins", "--json")
    assert {item["name"]: item for item in json.loads(blocked.out)}["checks.layout"]["blocked"] is True


def test_blocked_plugin_does_not_run_and_the_report_says_so(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli("-p", "no:checks.layout", "verify", tmp_path, "--format", "json", "--level", "structure")
    findings = json.loads(result.out)["findings"]
    assert result.code == 0
    assert [(f["code"], f["severity"], f["details"]["plugin"]) for f in findings] == [
        ("check-blocked", "warning", "checks.layout")
    ]


def test_codes_lists_every_registered_code(run_cli: Callable[..., Any]) -> None:
    codes = {item["code"]: item for item in json.loads(run_cli("codes", "--json").out)}
    assert {"plugin-error", "missing-required", "list-bad-hash", "log-sn-backwards"} <= set(codes)
    assert all(item["description"] for item in codes.values())


def test_schemas_and_profile_commands(run_cli: Callable[..., Any]) -> None:
    assert "report" in run_cli("schemas").out
    assert json.loads(run_cli("schemas", "finding").out)["title"] == "mk2ds finding"
    assert run_cli("schemas", "nope").code == 2
    assert json.loads(run_cli("profile", "show", "soliton-2018").out)["name"] == "soliton-2018"
