"""``-o`` never destroys an input, and never lands inside a dataset that is being read."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core.errors import UsageError
from mk2ds.core.output_guard import refuse_output_over_inputs
from mk2ds.plugins.synthetic.pe_builder import build_pe

LOG_LINE = b'03/01/2018 19:00:00.000 +0900 sn=1 evt=ps subEvt=start com="PC1" psGUID={A} psPath="C:\\a.exe"\n'
RECORD = {
    "time": "2018-03-01T19:00:00.000+09:00",
    "sn": 1,
    "evt": "ps",
    "subEvt": "start",
    "psGUID": "{A}",
    "psPath": "C:\\a.exe",
}


def test_the_same_file_by_name_link_or_hard_link_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG_LINE)
    os.symlink(source, tmp_path / "soft.log")
    os.link(source, tmp_path / "hard.log")
    for output in (source, tmp_path / "soft.log", tmp_path / "hard.log", tmp_path / "." / "a.log"):
        with pytest.raises(UsageError, match="would destroy it"):
            refuse_output_over_inputs(output, [str(source)])
    refuse_output_over_inputs(tmp_path / "other.txt", [str(source)])
    refuse_output_over_inputs("-", [str(source)])
    refuse_output_over_inputs(None, [str(source)])


def test_an_output_inside_a_dataset_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ds" / "MK2Log").mkdir(parents=True)
    with pytest.raises(UsageError, match="inside the dataset"):
        refuse_output_over_inputs(tmp_path / "ds" / "MK2Log" / "tree.txt", [], datasets=[str(tmp_path / "ds")])
    refuse_output_over_inputs(tmp_path / "tree.txt", [], datasets=[str(tmp_path / "ds")])


@pytest.mark.parametrize(
    ("command", "name", "content"),
    [
        (["tree", "{input}"], "a.log", LOG_LINE),
        (["tree", "{input}", "--format", "json"], "a.jsonl", (json.dumps(RECORD) + "\n").encode()),
        (["validate", "{input}", "--schema", "record"], "a.jsonl", (json.dumps(RECORD) + "\n").encode()),
        (["format", "{input}"], "a.jsonl", (json.dumps(RECORD) + "\n").encode()),
        (["pe", "{input}"], "a.exe", build_pe(imports=[("kernel32.dll", ["ExitProcess"])])),
    ],
)
def test_commands_refuse_to_write_over_their_input(
    run_cli: Callable[..., Any], tmp_path: Path, command: list[str], name: str, content: bytes
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    args = [part.format(input=source) for part in command]
    result = run_cli(*args, "-o", source)
    assert result.code == 2
    assert "would destroy it" in result.err
    assert source.read_bytes() == content
    assert sorted(path.name for path in tmp_path.iterdir()) == [name]


def test_tree_of_a_dataset_sample_refuses_an_output_inside_the_dataset(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    sample = "ab" * 32
    logs = tmp_path / "ds" / "MK2Log" / "30m"
    logs.mkdir(parents=True)
    (logs / f"{sample}.log").write_bytes(LOG_LINE)
    result = run_cli("tree", tmp_path / "ds", "--sample", sample, "-o", logs / "tree.txt")
    assert result.code == 2
    assert "inside the dataset" in result.err
    assert sorted(path.name for path in logs.iterdir()) == [f"{sample}.log"]
    assert run_cli("tree", tmp_path / "ds", "--sample", sample, "-o", tmp_path / "tree.txt").code == 0


# ---------------------------------------------------------------------------------------------- issue 13 item 6


def _dataset(root: Path) -> Path:
    """A small dataset (the top-level names of the soliton-2018 profile) with a log and a sample."""
    dataset = root / "ds"
    (dataset / "MK2Log" / "30m").mkdir(parents=True)
    (dataset / "samples").mkdir()
    (dataset / "README.txt").write_text("readme")
    (dataset / "List.xlsx").write_bytes(b"PK original list")
    (dataset / "SHA256SUMS").write_text("0" * 64 + "  README.txt\n")
    (dataset / "MK2Log" / "30m" / "a.log").write_bytes(LOG_LINE)
    (dataset / "samples" / "a.exe").write_bytes(build_pe())
    (dataset / "records.jsonl").write_text(json.dumps(RECORD) + "\n")
    return dataset


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


@pytest.mark.parametrize(
    "command",
    [
        ["convert", "{ds}/MK2Log/30m/a.log", "-o", "{out}/a.jsonl", "--report", "{ds}/List.xlsx"],
        ["convert", "{ds}/MK2Log/30m/a.log", "-o", "{out}/a.jsonl", "--rejects", "{ds}/SHA256SUMS"],
        ["convert", "{ds}/MK2Log/30m/a.log", "-o", "{ds}/a.jsonl"],
        ["convert", "{ds}/MK2Log", "-o", "{ds}/MK2Log"],
        ["convert", "{ds}/MK2Log", "-o", "{ds}/MK2Log/out"],
        ["manifest", "{ds}", "-o", "{ds}/List.xlsx"],
        ["manifest", "{ds}/MK2Log", "-o", "{ds}/MK2Log/30m/a.log"],
        ["pe", "{ds}/samples", "-o", "{ds}/samples/x.json"],
        ["pe", "{ds}/samples/a.exe", "-o", "{ds}/List.xlsx"],
        ["tree", "{ds}/MK2Log/30m/a.log", "-o", "{ds}/tree.txt"],
        ["verify", "{ds}", "-o", "{ds}/List.xlsx"],
        ["validate", "{ds}/records.jsonl", "--schema", "record", "-o", "{ds}/report.txt"],
        ["format", "{ds}/records.jsonl", "-o", "{ds}/MK2Log/30m/b.log"],
        ["pack", "{ds}", "{ds}/MK2Log/bag"],
    ],
    ids=lambda command: " ".join(command).replace("{", "").replace("}", ""),
)
def test_no_command_writes_into_a_dataset_it_reads(
    run_cli: Callable[..., Any], tmp_path: Path, command: list[str]
) -> None:
    dataset = _dataset(tmp_path)
    before = _snapshot(dataset)
    out = tmp_path / "out"
    result = run_cli(*(part.format(ds=dataset, out=out) for part in command))
    assert result.code == 2, result.err
    assert any(
        reason in result.err
        for reason in ("mk2ds never writes into a dataset", "which mk2ds only reads", "would destroy it")
    )
    assert _snapshot(dataset) == before
    assert not [
        path
        for path in dataset.rglob("*")
        if path.relative_to(dataset).as_posix() not in {*before, "MK2Log", "MK2Log/30m", "samples"}
    ]


def test_outputs_next_to_a_plain_folder_of_logs_are_fine(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    """Not a dataset (no profile names): writing next to the input is allowed, as before."""
    (tmp_path / "a.log").write_bytes(LOG_LINE)
    result = run_cli("convert", tmp_path / "a.log", "-o", tmp_path / "a.jsonl", "--report", tmp_path / "r.json")
    assert result.code == 0, result.err


def test_manifest_still_writes_its_own_checksum_file_into_the_folder(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    dataset = _dataset(tmp_path)
    assert run_cli("manifest", dataset).code == 0
    assert run_cli("manifest", dataset, "-o", dataset / "SHA256SUMS").code == 0
    assert "List.xlsx" in (dataset / "SHA256SUMS").read_text()


def test_verify_never_writes_its_report_into_the_samples_folder_it_reads(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    dataset = _dataset(tmp_path)
    samples = tmp_path / "samples"  # outside the dataset: only the plugin option says it is read
    samples.mkdir()
    (samples / "sample.exe").write_bytes(b"MZ")
    before = _snapshot(samples)
    result = run_cli("verify", dataset, "--samples", samples, "-o", samples / "report.json")
    assert result.code == 2 and f"inside the dataset or input folder {samples}" in result.err, result.err
    assert _snapshot(samples) == before
    assert run_cli("verify", dataset, "--samples", samples, "-o", tmp_path / "report.json").code in (0, 1)
