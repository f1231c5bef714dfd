"""The ``json`` tree output and ``schemas/tree.schema.json``: the output is the document, and the schema
rejects what the document must never be."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core.schemas import validate_document
from mk2ds.plugins.tree.json import render
from mk2ds.plugins.tree.model import build_model

DATA = Path(__file__).parents[2] / "data" / "tree"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with open(DATA / "wannacry_like.jsonl", encoding="utf-8") as handle:
        return build_model(json.loads(line) for line in handle).to_document(
            argparse.Namespace(focus=["cmd.exe"], depth=3)
        )


def test_output_is_the_document_and_validates(document: dict[str, Any]) -> None:
    text = render(document, argparse.Namespace())
    assert json.loads(text) == document and validate_document(json.loads(text), "tree") == []
    assert "請求書" in text or "見積書" in text or "\\u" not in text  # UTF-8 kept, not escaped


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("format",), "mk2tree"),
        (("processes", 0, "observed"), "yes"),
        (("processes", 0, "placeholder"), "guessed"),
        (("processes", 0, "activity", "counts"), {"nokind": 1}),
        (("relations", 0, "kind"), "parent"),
        (("relations", 0, "evidence"), []),
        (("stats", "relations"), {"injection": 0}),
    ],
)
def test_schema_rejects_broken_documents(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    broken = copy.deepcopy(document)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert validate_document(broken, "tree") != []
