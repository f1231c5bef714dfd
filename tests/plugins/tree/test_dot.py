"""The ``dot`` tree output: valid Graphviz (checked with ``dot`` when installed), escaping of hostile text."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mk2ds.plugins.tree.dot import quote, render
from mk2ds.plugins.tree.model import build_model

DATA = Path(__file__).parents[2] / "data" / "tree"
HOSTILE = {
    "time": "2018-03-01T10:00:00.000+09:00",
    "sn": 1,
    "evt": "ps",
    "subEvt": "start",
    "com": 'PC"1',
    "psGUID": "{A}",
    "psPath": 'C:\\evil"];\n x -> y [label="\\',
    "cmd": 'a\\"b\x07',
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a"b', '"a\\"b"'),
        ("C:\\x\\", '"C:\\\\x\\\\"'),
        ("two\nlines", '"two\\nlines"'),
        ("bell\x07", '"bell\\\\x07"'),
        ("rlo\u202egpj.exe", '"rlo\\\\u202egpj.exe"'),
    ],
)
def test_quote_escapes_for_dot_strings(text: str, expected: str) -> None:
    assert quote(text) == expected


def test_graph_has_clusters_parent_edges_and_relation_edges() -> None:
    with open(DATA / "wannacry_like.jsonl", encoding="utf-8") as handle:
        document = build_model(json.loads(line) for line in handle).to_document(argparse.Namespace())
    text = render(document, argparse.Namespace())
    assert text.count("subgraph cluster_") == 2
    assert text.count(" -> ") == sum(len(p["children"]) for p in document["processes"]) + len(document["relations"])
    assert text.count("style=dashed, color=") == len(document["relations"]) == 6


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (apt-get install graphviz)")
def test_graphviz_accepts_the_output_even_for_hostile_names(tmp_path: Path) -> None:
    with open(DATA / "wannacry_like.jsonl", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    for name, items in (("wannacry", records), ("hostile", [HOSTILE])):
        source = tmp_path / f"{name}.dot"
        source.write_text(
            render(build_model(items).to_document(argparse.Namespace()), argparse.Namespace()), encoding="utf-8"
        )
        result = subprocess.run(["dot", "-Tsvg", str(source)], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        assert "<svg" in result.stdout
    assert "evil&quot;];" in result.stdout or 'evil"];' in result.stdout  # the name is text in one node label
    assert result.stdout.count('class="node"') == 1
