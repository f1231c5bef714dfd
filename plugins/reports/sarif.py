"""The ``sarif`` report output: SARIF 2.1.0 for code-scanning UIs.

Each registered finding code is a rule; each finding is a result located at its dataset-relative path (and
line/column when known). Severities map to SARIF levels: error → error, warning → warning, info → note.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.terminal import escape_surrogates

LEVELS = {"error": "error", "warning": "warning", "info": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    findings = report.get("findings", [])
    rule_ids = sorted({finding["code"] for finding in findings})
    rule_index = {code: index for index, code in enumerate(rule_ids)}
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding["code"],
            "ruleIndex": rule_index[finding["code"]],
            "level": LEVELS[finding["severity"]],
            "message": {"text": finding["message"]},
        }
        if "path" in finding:
            physical: dict[str, Any] = {"artifactLocation": {"uri": finding["path"], "uriBaseId": "DATASET"}}
            if "line" in finding:
                region: dict[str, Any] = {"startLine": finding["line"]}
                if "column" in finding:
                    region["startColumn"] = finding["column"]
                physical["region"] = region
            result["locations"] = [{"physicalLocation": physical}]
        properties = {key: finding[key] for key in ("subject", "plugin") if key in finding}
        if properties:
            result["properties"] = properties
        results.append(result)
    tool = report.get("tool", {})
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mk2ds",
                        "version": str(tool.get("version", "0")),
                        "informationUri": "https://pypi.org/project/mk2ds/",
                        "rules": [{"id": code, "name": code} for code in rule_ids],
                    }
                },
                "originalUriBaseIds": {"DATASET": {"description": {"text": str(report.get("target", {}).get("location", ""))}}},
                "results": results,
                "properties": {"summary": report.get("summary", {}), "valid": report.get("valid")},
            }
        ],
    }
    return escape_surrogates(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"  # undecodable names


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [OutputFormat("sarif", "report", ".sarif", "SARIF 2.1.0 for code-scanning UIs", render)]
