"""The ``json`` tree output: the tree document itself (``schemas/tree.schema.json``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from mk2ds.core import OutputFormat, hookimpl

__all__ = ["render"]


def render(document: Mapping[str, Any], options: argparse.Namespace) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [OutputFormat("json", "tree", ".json", "the tree document as JSON (schemas/tree.schema.json)", render)]
