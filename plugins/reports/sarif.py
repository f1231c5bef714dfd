"""The ``sarif`` report output: SARIF 2.1.0 for code-scanning UIs (GitHub code scanning and others).

Each finding code that occurs is a rule (``tool.driver.rules``) with the texts ``mk2ds codes`` prints: the
code's description is the ``shortDescription``, the ``fullDescription`` adds its default severity and the
plugin that registered it, and ``help`` says how to look at it again; ``name`` is the code in PascalCase
(``log-missing-key`` → ``LogMissingKey``), as GitHub shows rule names beside the id. Each finding is a result
located at its dataset-relative path (a finding about the whole dataset points at the dataset itself, ``.``),
with a ``region`` whenever the line is known (and the column when that is). Severities map to SARIF levels:
error → error, warning → warning, info → note.

``partialFingerprints["mk2ds/v1"]`` identifies a result across runs: a hash of the code, path, subject and
message (not the line, so an insertion earlier in a file does not re-open every alert below it), plus an
index among results that hash alike, in the report's stable order.

GitHub code scanning takes at most :data:`MAX_RESULTS` results per run: beyond them the most severe are kept
(in report order) and one ``sarif-results-truncated`` note says how many were left out; the full report is
in ``--format json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import urllib.parse
from collections import Counter
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.terminal import escape_surrogates

__all__ = ["FINGERPRINT_KEY", "LEVELS", "MAX_RESULTS", "render", "rule_name"]

LEVELS = {"error": "error", "warning": "warning", "info": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: ``partialFingerprints`` key (bump the suffix only when the algorithm changes: it re-opens every alert).
FINGERPRINT_KEY = "mk2ds/v1"
#: Results per run that GitHub code scanning accepts.
MAX_RESULTS = 5000
TRUNCATED = "sarif-results-truncated"
_RANK = {"error": 0, "warning": 1, "info": 2}


def rule_name(code: str) -> str:
    """``log-missing-key`` → ``LogMissingKey`` (``plugin/slug`` → ``PluginSlug``): a name that is not the id."""
    return "".join(part[:1].upper() + part[1:] for part in code.replace("/", "-").split("-") if part)


def _code_table(report: Mapping[str, Any]) -> dict[str, Any]:
    """The rule texts: the report's ``codes`` (what the plugins of the run registered), else the registered
    codes of the default plugin set (``mk2ds codes``), for reports written before ``codes`` existed."""
    if isinstance(report.get("codes"), dict):
        return {
            code: SimpleNamespace(
                description=info.get("description", ""),
                severity=SimpleNamespace(value=info.get("severity", "warning")),
                plugin=info.get("plugin"),
            )
            for code, info in report["codes"].items()
            if isinstance(info, dict)
        }
    try:
        from mk2ds.core import registry
        from mk2ds.core.pluginmanager import get_plugin_manager

        return dict(registry.codes(get_plugin_manager()))
    except Exception:  # noqa: BLE001 - the texts are a courtesy: without them the rules say less, nothing fails
        return {}


def _rule(code: str, info: Any, findings: list[Mapping[str, Any]]) -> dict[str, Any]:
    plugin: str | None
    if code == TRUNCATED:
        description = "More findings than a code-scanning upload takes; the rest are in the JSON report"
        severity, plugin = "info", "reports.sarif"
    elif info is not None:
        description, severity, plugin = str(info.description), str(info.severity.value), info.plugin
    else:
        description = f"Finding {code} (not registered by any loaded plugin)"
        severity = str(findings[0]["severity"]) if findings else "warning"
        plugin = str(findings[0]["plugin"]) if findings and findings[0].get("plugin") else None
    origin = f", registered by the {plugin} plugin" if plugin else ""
    full = f"{description}. Default severity: {severity}{origin}."
    help_text = (
        f"{description}.\n\nEach result names the file (and line) it is about. `mk2ds codes` lists every code; "
        f"`mk2ds verify --select {code}` reports only this one, `--ignore {code}` leaves it out."
    )
    return {
        "id": code,
        "name": rule_name(code),
        "shortDescription": {"text": description},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": LEVELS.get(str(severity), "warning")},
        "properties": {"tags": ["mk2ds", code.split("-", 1)[0]]},
    }


def artifact_uri(path: str) -> str:
    """A dataset-relative path as a relative URI reference (RFC 3986): spaces, ``%``, ``#``, ``?`` and non-ASCII
    letters percent-encoded (UTF-8; an undecodable byte of a file name as the byte itself), ``/`` kept."""
    return urllib.parse.quote(path.encode("utf-8", "surrogateescape"), safe="/") or "."


def _location(finding: Mapping[str, Any]) -> dict[str, Any]:
    uri = artifact_uri(str(finding.get("path") or "."))
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "DATASET"}}
    line = finding.get("line")
    if isinstance(line, int) and line >= 1:
        region: dict[str, Any] = {"startLine": line}
        column = finding.get("column")
        if isinstance(column, int) and column >= 1:
            region["startColumn"] = column
        physical["region"] = region
    return {"physicalLocation": physical}


def _fingerprints(findings: list[Mapping[str, Any]]) -> list[str]:
    seen: Counter[str] = Counter()
    prints = []
    for finding in findings:
        digest = hashlib.sha256()
        for part in (finding["code"], finding.get("path") or "", finding.get("subject") or "", finding["message"]):
            digest.update(str(part).encode("utf-8", "surrogateescape") + b"\x00")  # undecodable names
        base = digest.hexdigest()
        prints.append(f"{base}:{seen[base]}")
        seen[base] += 1
    return prints


def _kept(findings: list[Mapping[str, Any]], limit: int) -> tuple[list[Mapping[str, Any]], int]:
    """At most ``limit - 1`` findings, the most severe, in report order, when there are more than ``limit``."""
    if len(findings) <= limit:
        return findings, 0
    order = sorted(range(len(findings)), key=lambda index: (_RANK.get(findings[index]["severity"], 3), index))
    chosen = sorted(order[: limit - 1])
    return [findings[index] for index in chosen], len(findings) - len(chosen)


def render(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    all_findings = list(report.get("findings", []))
    prints = dict(zip(map(id, all_findings), _fingerprints(all_findings), strict=True))
    findings, dropped = _kept(all_findings, MAX_RESULTS)
    rule_ids = sorted({finding["code"] for finding in findings} | ({TRUNCATED} if dropped else set()))
    rule_index = {code: index for index, code in enumerate(rule_ids)}
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding["code"],
            "ruleIndex": rule_index[finding["code"]],
            "level": LEVELS[finding["severity"]],
            "message": {"text": finding["message"]},
            "locations": [_location(finding)],
            "partialFingerprints": {FINGERPRINT_KEY: prints[id(finding)]},
        }
        properties = {key: finding[key] for key in ("subject", "plugin") if key in finding}
        if properties:
            result["properties"] = properties
        results.append(result)
    if dropped:
        results.append(_truncation_result(dropped, len(all_findings), rule_index[TRUNCATED]))
    codes = _code_table(report)
    by_code: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        by_code.setdefault(finding["code"], []).append(finding)
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
                        "rules": [_rule(code, codes.get(code), by_code.get(code, [])) for code in rule_ids],
                    }
                },
                "originalUriBaseIds": {
                    "DATASET": {"description": {"text": str(report.get("target", {}).get("location", ""))}}
                },
                "results": results,
                "properties": {
                    "summary": report.get("summary", {}),
                    "valid": report.get("valid"),
                    "results_left_out": dropped,
                },
            }
        ],
    }
    return escape_surrogates(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"  # undecodable names


def _truncation_result(dropped: int, total: int, index: int) -> dict[str, Any]:
    message = f"{dropped} of {total} findings left out (code scanning takes {MAX_RESULTS} results per run); see the JSON report"
    return {
        "ruleId": TRUNCATED,
        "ruleIndex": index,
        "level": "note",
        "message": {"text": message},
        "locations": [_location({})],
        "partialFingerprints": {FINGERPRINT_KEY: hashlib.sha256(TRUNCATED.encode()).hexdigest() + ":0"},
    }


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [OutputFormat("sarif", "report", ".sarif", "SARIF 2.1.0 for code-scanning UIs", render)]
