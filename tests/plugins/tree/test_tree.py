"""``mk2ds tree`` end to end: inputs (JSONL, JSON array, Mark II logs, dataset samples), outputs, exit codes."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mk2ds.core import get_plugin_manager
from mk2ds.core.cli import build_parser
from mk2ds.core.schemas import validate_document

DATA = Path(__file__).parents[2] / "data" / "tree"
GOLDEN = Path(__file__).parents[2] / "golden" / "tree"
SAMPLE = "24d004a104d4d54034dbcffc2a4b19a11f39008a575aa614ea04703480b1022c"
JSONL = DATA / "wannacry_like.jsonl"
LOG = DATA / "wannacry_like.log"


def reader_pm() -> pluggy.PluginManager:
    """The built-ins plus the Mark II reader (registered here in case it is not built in yet)."""
    pm = get_plugin_manager(load_entrypoints=False)
    if pm.hook.mk2ds_open_log.get_hookimpls() == []:
        from mk2ds.plugins import reader as mk2_reader

        pm.register(mk2_reader, name="mk2_reader")
    return pm


def run_tree(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    pm = reader_pm()
    args = build_parser(pm).parse_args(["tree", *map(str, argv)])
    capsys.readouterr()
    code = args.handler(args, pm)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("fmt", "suffix"), [("text", "txt"), ("json", "json"), ("dot", "dot")])
def test_outputs_match_golden_files(
    run_cli: Any, golden: Callable[[Path, str], None], fmt: str, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(DATA)  # input names appear in the output: keep them independent of the checkout's place
    result = run_cli("tree", JSONL.name, "--format", fmt, "--events")
    assert result.code == 0, result.err
    golden(GOLDEN / f"wannacry_like.{suffix}", result.out)


def test_json_output_validates_and_names_its_inputs(run_cli: Any) -> None:
    result = run_cli("tree", JSONL, "--format", "json", "--all", "--max-events", "2")
    document = json.loads(result.out)
    assert validate_document(document, "tree") == []
    assert document["inputs"] == [{"name": str(JSONL), "records": 35, "rejected": 0}]
    assert document["view"]["all_events"] is True and document["view"]["max_events"] == 2
    assert document["stats"]["open_events_skipped"] == 0 and document["stats"]["events_omitted"] > 0
    assert all(len(process["activity"]["events"]) <= 2 for process in document["processes"])


def test_a_mark_ii_log_gives_the_same_tree_as_its_records(capsys: pytest.CaptureFixture[str]) -> None:
    code, from_log, err = run_tree(capsys, LOG, "--format", "json")
    assert code == 0, err
    code, from_records, _ = run_tree(capsys, JSONL, "--format", "json")
    log_document, record_document = json.loads(from_log), json.loads(from_records)
    assert log_document["inputs"] == [{"name": str(LOG), "records": 35, "rejected": 0}]
    log_document["inputs"] = record_document["inputs"] = []
    assert log_document == record_document


def test_several_files_of_one_host_are_one_tree(tmp_path: Path, run_cli: Any) -> None:
    lines = JSONL.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = tmp_path / "part1.jsonl", tmp_path / "part2.jsonl"
    first.write_text("".join(lines[20:]), encoding="utf-8")  # the later half first: order must not matter
    second.write_text("".join(lines[:20]), encoding="utf-8")
    split = json.loads(run_cli("tree", first, second, "--format", "json").out)
    whole = json.loads(run_cli("tree", JSONL, "--format", "json").out)
    assert [p["id"] for p in split["processes"]] == [p["id"] for p in whole["processes"]]
    assert split["relations"] == whole["relations"]
    assert [entry["records"] for entry in split["inputs"]] == [15, 20]


def test_json_array_input_is_read_item_by_item(tmp_path: Path, run_cli: Any) -> None:
    records = [json.loads(line) for line in JSONL.read_text(encoding="utf-8").splitlines()]
    array = tmp_path / "records.json"
    array.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    document = json.loads(run_cli("tree", array, "--format", "json").out)
    assert document["inputs"][0]["records"] == 35 and document["stats"]["processes"] == 13


def test_rejected_lines_are_reported_with_file_and_line(tmp_path: Path, run_cli: Any) -> None:
    bad = tmp_path / "bad.jsonl"
    text = JSONL.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([text[0], "{not json", "[1, 2]", '{"sn": 5}', text[1]]) + "\n", encoding="utf-8")
    result = run_cli("tree", bad, "--format", "json")
    assert result.code == 1
    assert json.loads(result.out)["inputs"] == [{"name": str(bad), "records": 2, "rejected": 3}]
    assert f"{bad}:2: not JSON" in result.err and f"{bad}:3: not a record object" in result.err
    assert f"{bad}:4: record without a 'time'" in result.err


def test_rejected_log_lines_are_explained_by_the_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "broken.log"
    log.write_bytes(LOG.read_bytes() + b"garbage line\r\n")
    code, out, err = run_tree(capsys, log, "--format", "json")
    assert code == 1
    assert json.loads(out)["inputs"][0] == {"name": str(log), "records": 35, "rejected": 1}
    assert f"{log}:36:1: log-unparseable" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.jsonl"], "missing.jsonl: no such file"),
        ([JSONL, "--focus", "nothing-like-this.exe"], "matches none of the 13 processes"),
        ([JSONL, "--since", "yesterday"], "--since 'yesterday': not an ISO 8601 time"),
        ([JSONL, "--log-folder", "30m"], "--log-folder only goes with --sample"),
        ([DATA], "is a folder"),
    ],
)
def test_usage_errors_exit_2_with_a_message(run_cli: Any, argv: list[Any], message: str) -> None:
    result = run_cli("tree", *argv)
    assert result.code == 2 and message in result.err


def test_output_file_is_written(tmp_path: Path, run_cli: Any) -> None:
    target = tmp_path / "out" / "tree.html"
    result = run_cli("tree", JSONL, "--format", "html", "-o", target)
    assert result.code == 0 and result.out == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def make_dataset(root: Path) -> Path:
    (root / "MK2Log" / "30m").mkdir(parents=True)
    (root / "MK2Log" / "Verbose").mkdir(parents=True)
    shutil.copy(LOG, root / "MK2Log" / "30m" / f"{SAMPLE}.log")
    shutil.copy(LOG, root / "MK2Log" / "Verbose" / f"{SAMPLE}_verbose.log")
    shutil.copy(LOG, root / "MK2Log" / "30m" / "0000000000000000000000000000000000000000000000000000000000000000.log")
    return root


def test_dataset_sample_uses_the_30m_log_and_focuses_on_the_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = make_dataset(tmp_path / "ds")
    code, out, err = run_tree(capsys, dataset, "--sample", SAMPLE.upper(), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert [entry["name"] for entry in document["inputs"]] == [f"{dataset}/MK2Log/30m/{SAMPLE}.log"]
    assert document["view"]["focus"] == [SAMPLE.upper()] and document["stats"]["focus_matched"] == 2
    assert f"also in MK2Log/Verbose (not used; --log-folder Verbose): MK2Log/Verbose/{SAMPLE}_verbose.log" in err


def test_dataset_sample_in_a_zip_from_another_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = make_dataset(tmp_path / "SolitonDataset2018")
    archive = tmp_path / "ds.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for file in sorted(dataset.rglob("*")):
            handle.write(file, file.relative_to(tmp_path).as_posix())
    code, out, _ = run_tree(
        capsys, archive, "--sample", SAMPLE, "--log-folder", "verbose", "--focus", "cmd.exe", "--format", "json"
    )
    document = json.loads(out)
    assert code == 0 and [entry["name"] for entry in document["inputs"]] == [
        f"{archive}/MK2Log/Verbose/{SAMPLE}_verbose.log"
    ]
    assert document["view"]["focus"] == ["cmd.exe"]


def test_dataset_sample_that_is_not_there(tmp_path: Path, run_cli: Any) -> None:
    dataset = make_dataset(tmp_path / "ds")
    result = run_cli("tree", dataset, "--sample", "ffff")
    assert result.code == 2 and "no log under MK2Log/ whose name contains 'ffff'" in result.err
