"""The ``text`` report output: a summary table, then findings grouped by sample, coloured on a TTY."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.terminal import colour, display_width, escape_text, pad, use_colour

SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}
WRAP_WIDTH = 110


def _wrap(items: list[str], width: int) -> list[str]:
    """Join ``items`` with ", " into lines of at most ``width`` display columns (an item is never split)."""
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current}, {item}" if current else item
        if current and display_width(candidate) > width:
            lines.append(current + ",")
            current = item
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _location(finding: Mapping[str, Any]) -> str:
    parts = [escape_text(finding.get("path", "-"))]
    if "line" in finding:
        parts.append(escape_text(finding["line"]))
        if "column" in finding:
            parts.append(escape_text(finding["column"]))
    return ":".join(parts)


def render(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    setting = getattr(options, "color", "auto")
    enabled = use_colour(sys.stdout, setting) and not getattr(options, "output", None)
    lines: list[str] = []
    target = report.get("target", {})
    title = f"mk2ds {report['command']}"
    if target.get("location"):
        title += f" {escape_text(target['location'])}"
    extras = [f"{key} {escape_text(target[key])}" for key in ("profile", "level") if key in target]
    if extras:
        title += f" ({', '.join(extras)})"
    lines.append(colour(title, "bold", enabled))

    stats = report.get("stats", {})
    if stats:
        shown = {key: value for key, value in stats.items() if not isinstance(value, (dict, list))}
        lines.append("  " + ", ".join(f"{escape_text(key)}: {escape_text(value)}" for key, value in shown.items()))
    facts = report.get("facts", {})
    for key, value in facts.items():
        if not isinstance(value, (dict, list)):
            lines.append(f"  {escape_text(key)}: {escape_text(value)}")

    samples = report.get("samples", [])
    if samples:
        lines.append("")
        lines.append(f"  {pad('sample', 66)} {'errors':>6} {'warnings':>8} {'info':>5}")
        for sample in samples:
            counts = sample["findings"]
            mark = colour("✗", "red", enabled) if counts["error"] else colour("✓", "green", enabled)
            lines.append(f"{mark} {pad(escape_text(sample['id']), 66)} {counts['error']:>6} {counts['warning']:>8} {counts['info']:>5}")
            facts_shown = [
                f"{escape_text(key)}={escape_text(value)}" for key, value in sample.get("facts", {}).items() if not isinstance(value, (dict, list))
            ]
            for wrapped in _wrap(facts_shown, WRAP_WIDTH - 4):
                lines.append(colour(f"    {wrapped}", "dim", enabled))

    findings = list(report.get("findings", []))
    hidden = 0
    if not getattr(options, "show_info", False):
        hidden = sum(1 for finding in findings if finding["severity"] == "info")
        findings = [finding for finding in findings if finding["severity"] != "info"]
    if findings:
        groups: dict[str, list[Mapping[str, Any]]] = {}
        for finding in findings:
            groups.setdefault(finding.get("subject") or "", []).append(finding)
        for subject in sorted(groups, key=lambda key: (key != "", key)):
            lines.append("")
            lines.append(colour(f"[{escape_text(subject)}]" if subject else "[dataset]", "bold", enabled))
            for finding in groups[subject]:
                severity = finding["severity"]
                label = colour(f"{escape_text(severity):7}", SEVERITY_COLOURS.get(severity, "dim"), enabled)
                code, message = escape_text(finding["code"]), escape_text(finding["message"])
                lines.append(f"  {label} {code:28} {_location(finding)}: {message}")

    summary = report["summary"]
    verdict = "OK" if report["valid"] else "FAILED"
    if report.get("exit_code") == 3:
        verdict = "INTERNAL ERROR"
    verdict_colour = "green" if verdict == "OK" else "red"
    lines.append("")
    if hidden:
        lines.append(colour(f"({hidden} info findings not listed: --show-info lists them, --format json has everything)", "dim", enabled))
    lines.append(
        colour(verdict, verdict_colour, enabled)
        + f": {summary['error']} errors, {summary['warning']} warnings, {summary['info']} info"
    )
    return "\n".join(lines) + "\n"


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "text",
            "report",
            ".txt",
            "summary table and findings grouped by sample (colour on a terminal)",
            render,
            options=(
                (("--color",), {"choices": ["auto", "always", "never"], "default": "auto", "help": "colour in text output"}),
                (("--show-info",), {"action": "store_true", "help": "text output: also list info findings"}),
            ),
        )
    ]
