"""The ``json`` report output: the report document itself (``schemas/report.schema.json``)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.terminal import escape_surrogates


def render(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    return (
        escape_surrogates(json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False)) + "\n"
    )  # undecodable names


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [OutputFormat("json", "report", ".json", "the report as JSON (schemas/report.schema.json)", render)]
