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
RECORD = {"time": "2018-03-01T19:00:00.000+09:00", "sn": 1, "evt": "ps", "subEvt": "start", "psGUID": "{A}", "psPath": "C:\\a.exe"}


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


def test_tree_of_a_dataset_sample_refuses_an_output_inside_the_dataset(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    sample = "ab" * 32
    logs = tmp_path / "ds" / "MK2Log" / "30m"
    logs.mkdir(parents=True)
    (logs / f"{sample}.log").write_bytes(LOG_LINE)
    result = run_cli("tree", tmp_path / "ds", "--sample", sample, "-o", logs / "tree.txt")
    assert result.code == 2
    assert "inside the dataset" in result.err
    assert sorted(path.name for path in logs.iterdir()) == [f"{sample}.log"]
    assert run_cli("tree", tmp_path / "ds", "--sample", sample, "-o", tmp_path / "tree.txt").code == 0
