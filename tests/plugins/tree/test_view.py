"""Views of the model: --focus (hash, GUID, path glob), --depth, --since/--until; roles and hidden counts.

Data: ``tests/data/tree/wannacry_like.jsonl``, a hand-made WannaCry-like run after the dataset's presentation slides (dropper →
mssecsvc2.0 service → 445 scans; tasksche.exe copied and started by services.exe through cmd.exe; encryption
renames; injection into lsass; a second host reusing a GUID).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core.schemas import validate_document
from mk2ds.plugins.tree.model import ProcessModel, build_model

DATA = Path(__file__).parents[2] / "data" / "tree"
SAMPLE = "24d004a104d4d54034dbcffc2a4b19a11f39008a575aa614ea04703480b1022c"
T2 = "{4F58F9E3-FD37-4FBD-BC44-80AC0E0D1CEB}"


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    with open(DATA / "wannacry_like.jsonl", encoding="utf-8") as handle:
        return build_model(json.loads(line) for line in handle)


def view(model: ProcessModel, **options: Any) -> dict[str, Any]:
    document = model.to_document(argparse.Namespace(**options))
    assert validate_document(document, "tree") == []
    return document


def names(document: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(process["host"], process["name"], process["role"]) for process in document["processes"]]


def test_whole_tree_keys_processes_by_host_and_guid(model: ProcessModel) -> None:
    document = view(model)
    assert document["stats"]["shown"] == document["stats"]["processes"] == 13
    reused = [process["id"] for process in document["processes"] if process["guid"] == T2]
    assert reused == [f"PC1|{T2}", f"PC2|{T2}"]


def test_focus_by_hash_shows_ancestors_descendants_and_related(model: ProcessModel) -> None:
    document = view(model, focus=[SAMPLE])
    shown = names(document)
    assert ("PC1", f"{SAMPLE}.exe", "focus") in shown
    assert [role for _, _, role in shown].count("focus") == 2  # the dropper and its service instance
    assert ("PC1", "explorer.exe", "ancestor") in shown and ("PC1", "services.exe", "ancestor") in shown
    assert ("PC1", "tasksche.exe", "descendant") in shown  # C:\WINDOWS\tasksche.exe /i
    assert ("PC1", "請求書_2018年3月.exe", None) not in shown and all(
        name != "請求書_2018年3月.exe" for _, name, _ in shown
    )
    # one relation away from a descendant: the copy of tasksche.exe that services.exe started
    related = [(host, name, role) for host, name, role in shown if role in ("related", "context")]
    assert related == [
        ("PC1", "cmd.exe", "context"),
        ("PC1", "tasksche.exe", "related"),
        ("PC1", "@WanaDecryptor@.exe", "related"),
    ]
    assert all(host == "PC1" for host, _, _ in shown)
    kinds = sorted(relation["kind"] for relation in document["relations"])
    assert kinds == ["service", "service", "service", "wrote-then-ran", "wrote-then-ran"]


def test_focus_by_guid_with_or_without_braces_matches_on_every_host(model: ProcessModel) -> None:
    for token in (T2, T2.strip("{}").lower()):
        focus = [process["id"] for process in view(model, focus=[token])["processes"] if process["role"] == "focus"]
        assert focus == [f"PC1|{T2}", f"PC2|{T2}"]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("tasksche.exe", 2),
        ("TASK*", 2),
        ("*\\programdata\\*\\tasksche.exe", 1),
        ("c:\\windows\\tasksche.exe", 1),
        ("請求書*", 1),
        ("nothing.exe", 0),
    ],
)
def test_focus_by_path_glob(model: ProcessModel, glob: str, expected: int) -> None:
    document = view(model, focus=[glob])
    assert document["stats"]["focus_matched"] == expected
    assert sum(1 for process in document["processes"] if process["role"] == "focus") == expected


def test_depth_limits_levels_and_counts_hidden_children(model: ProcessModel) -> None:
    document = view(model, depth=1)
    assert max(process["depth"] for process in document["processes"]) == 1
    cmd = next(process for process in document["processes"] if process["name"] == "cmd.exe")
    assert cmd["children"] == [] and cmd["hidden_children"] == 1 and cmd["child_count"] == 1


def test_depth_counts_below_the_focus(model: ProcessModel) -> None:
    document = view(model, focus=["cmd.exe"], depth=1)
    shown = [name for _, name, _ in names(document)]
    assert "tasksche.exe" in shown and "@WanaDecryptor@.exe" not in shown


def test_time_window_keeps_live_processes_and_their_ancestors(model: ProcessModel) -> None:
    document = view(model, since="2018-03-01T19:50:04.700+09:00", until="2018-03-01T19:50:05.500+09:00")
    shown = [(host, name) for host, name, _ in names(document)]
    assert ("PC1", "@WanaDecryptor@.exe") not in shown  # starts at 19:50:08
    assert ("PC1", "請求書_2018年3月.exe") not in shown  # stopped at 19:50:02.9
    assert ("PC1", "cmd.exe") in shown and ("PC1", "services.exe") in shown and ("PC2", "svchost.exe") in shown
    assert document["view"]["since"] == "2018-03-01T19:50:04.700+09:00"


def test_missing_parents_are_the_observed_processes_under_placeholders(model: ProcessModel) -> None:
    document = view(model)
    missing = {
        document["processes"][[p["id"] for p in document["processes"]].index(node)]["name"]
        for node in document["missing_parents"]
    }
    assert missing == {"lsass.exe", f"{SAMPLE}.exe", "請求書_2018年3月.exe", "cmd.exe", "svchost.exe"}
    decryptor = next(process for process in document["processes"] if process["name"] == "@WanaDecryptor@.exe")
    assert decryptor["parent_link"] == "path" and decryptor["parent"] == f"PC1|{T2}"


def test_focus_by_hash_finds_a_sample_run_by_a_host_program() -> None:
    sample = "75f4478ecf56be5424fa690d45017711413d7f276677152d293fc99c119e371c"
    records = [
        {
            "time": "2018-02-16T15:06:37.069+09:00",
            "sn": 1,
            "evt": "ps",
            "subEvt": "start",
            "com": "PC1",
            "psGUID": "{A}",
            "psPath": "C:\\Windows\\System32\\rundll32.exe",
            "cmd": f'"C:\\Windows\\System32\\rundll32.exe" "D:\\{sample}.dll",#1 30',
        },
        {
            "time": "2018-02-16T15:06:38.000+09:00",
            "sn": 2,
            "evt": "ps",
            "subEvt": "start",
            "com": "PC1",
            "psGUID": "{B}",
            "psPath": "C:\\Windows\\System32\\rundll32.exe",
            "cmd": "rundll32.exe shell32.dll,Control_RunDLL",
        },
    ]
    document = build_model(records).to_document(argparse.Namespace(focus=[sample.upper()]))
    assert [(process["guid"], process["role"]) for process in document["processes"]] == [("{A}", "focus")]
