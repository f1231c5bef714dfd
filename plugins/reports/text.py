"""The ``text`` report output: verdict first, then patterns and findings, then the samples; colored on a TTY.

Compact by default, so that a 117-sample run that is fine fits on a screen: the sample table lists only
samples with errors or warnings, and a systematic problem (a pattern, see :mod:`mk2ds.core.patterns`) is one
line with its count and first examples instead of one line per sample. ``--facts`` lists every sample with
its facts, ``--show-all`` every finding (also those of patterns, and info findings).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.terminal import color, display_width, escape_text, pad, use_color

SEVERITY_COLORS = {"error": "red", "warning": "yellow", "info": "blue"}
WRAP_WIDTH = 110
#: Examples shown per pattern line.
PATTERN_EXAMPLES = 2


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


def _size(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"  # pragma: no cover


def _verdict(report: Mapping[str, Any], enabled: bool) -> str:
    summary = report["summary"]
    verdict = "OK" if report["valid"] else "FAILED"
    if report.get("exit_code") == 3:
        verdict = "INTERNAL ERROR"
    verdict_color = "green" if verdict == "OK" else "red"
    return (
        color(verdict, verdict_color, enabled)
        + f": {summary['error']} errors, {summary['warning']} warnings, {summary['info']} info"
    )


def _header(report: Mapping[str, Any], enabled: bool) -> list[str]:
    """Title, verdict and the size of the run in one line each."""
    target = report.get("target", {})
    title = f"mk2ds {report['command']}"
    if target.get("location"):
        title += f" {escape_text(target['location'])}"
    extras = [f"{key} {escape_text(target[key])}" for key in ("profile", "level") if key in target]
    if extras:
        title += f" ({', '.join(extras)})"
    lines = [color(title, "bold", enabled), _verdict(report, enabled)]
    scale = [f"samples: {len(report['samples'])}"] if report.get("samples") else []
    for key, value in report.get("stats", {}).items():
        if not isinstance(value, (dict, list)):
            scale.append(f"{escape_text(key)}: {_size(float(value)) if key == 'bytes' else escape_text(value)}")
    if scale:
        lines.append("  " + ", ".join(scale))
    for skipped in report.get("checks", {}).get("not_run", []):
        lines.append(
            color(f"  not run: {escape_text(skipped['name'])}: {escape_text(skipped['reason'])}", "dim", enabled)
        )
    return lines


def _dataset_facts(report: Mapping[str, Any], enabled: bool) -> list[str]:
    lines = []
    for key, value in report.get("facts", {}).items():
        if not isinstance(value, (dict, list)):
            lines.append(f"  {escape_text(key)}: {escape_text(value)}")
    return [color(line, "dim", enabled) for line in lines]


def _severity_label(severity: str, enabled: bool) -> str:
    return color(f"{escape_text(severity):7}", SEVERITY_COLORS.get(severity, "dim"), enabled)


def _pattern_lines(report: Mapping[str, Any], enabled: bool) -> list[str]:
    """One line per pattern (count, samples touched, wording) and one line of first examples."""
    patterns = report.get("patterns", [])
    if not patterns:
        return []
    lines = ["", color("[patterns: the same finding on many samples]", "bold", enabled)]
    for pattern in patterns:
        reach = f"{pattern['count']} findings"
        if pattern["samples"]:
            reach += f" on {pattern['samples']} of {pattern['sample_total']} samples"
        lines.append(
            f"  {_severity_label(pattern['severity'], enabled)} {escape_text(pattern['code']):28} {reach}: {escape_text(pattern['message'])}"
        )
        examples = [_location(example) for example in pattern["examples"][:PATTERN_EXAMPLES]]
        more = pattern["count"] - len(examples)
        lines.append(
            color(f"          e.g. {', '.join(examples)}" + (f" and {more} more" if more > 0 else ""), "dim", enabled)
        )
    return lines


def _listed_findings(
    report: Mapping[str, Any], options: argparse.Namespace
) -> tuple[list[Mapping[str, Any]], int, int]:
    """The findings to list one by one, and how many info and pattern findings were left out."""
    findings = list(report.get("findings", []))
    if getattr(options, "show_all", False):
        return findings, 0, 0
    in_patterns = {pattern["code"] for pattern in report.get("patterns", [])}
    summarized = sum(1 for finding in findings if finding["code"] in in_patterns)
    findings = [finding for finding in findings if finding["code"] not in in_patterns]
    hidden = 0
    if not getattr(options, "show_info", False):
        hidden = sum(1 for finding in findings if finding["severity"] == "info")
        findings = [finding for finding in findings if finding["severity"] != "info"]
    return findings, hidden, summarized


def _finding_lines(findings: list[Mapping[str, Any]], enabled: bool) -> list[str]:
    lines: list[str] = []
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(finding.get("subject") or "", []).append(finding)
    for subject in sorted(groups, key=lambda key: (key != "", key)):
        lines.append("")
        lines.append(color(f"[{escape_text(subject)}]" if subject else "[dataset]", "bold", enabled))
        for finding in groups[subject]:
            label = _severity_label(finding["severity"], enabled)
            lines.append(
                f"  {label} {escape_text(finding['code']):28} {_location(finding)}: {escape_text(finding['message'])}"
            )
    return lines


def _sample_lines(report: Mapping[str, Any], options: argparse.Namespace, listed: set[str], enabled: bool) -> list[str]:
    """The sample table: every sample with its facts (``--facts``), or only the samples with errors or warnings
    listed one by one (``listed``; a pattern alone does not put its samples in the table)."""
    samples = report.get("samples", [])
    with_facts = getattr(options, "facts", False)
    shown = [sample for sample in samples if with_facts or sample["id"] in listed]
    lines: list[str] = []
    if shown:
        lines.append("")
        lines.append(f"  {pad('sample', 66)} {'errors':>6} {'warnings':>8} {'info':>5}")
    for sample in shown:
        counts = sample["findings"]
        mark = color("✗", "red", enabled) if counts["error"] else color("✓", "green", enabled)
        lines.append(
            f"{mark} {pad(escape_text(sample['id']), 66)} {counts['error']:>6} {counts['warning']:>8} {counts['info']:>5}"
        )
        if with_facts:
            facts_shown = [
                f"{escape_text(key)}={escape_text(value)}"
                for key, value in sample.get("facts", {}).items()
                if not isinstance(value, (dict, list))
            ]
            for wrapped in _wrap(facts_shown, WRAP_WIDTH - 4):
                lines.append(color(f"    {wrapped}", "dim", enabled))
    quiet = len(samples) - len(shown)
    if quiet and not with_facts:
        beyond = " beyond the patterns" if report.get("patterns") else ""
        lines.append(
            color(
                f"  {quiet} of {len(samples)} samples without errors or warnings{beyond} (--facts lists every sample with its facts)",
                "dim",
                enabled,
            )
        )
    return lines


def render(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    setting = getattr(options, "color", "auto")
    enabled = use_color(sys.stdout, setting) and not getattr(options, "output", None)
    lines = _header(report, enabled)
    if getattr(options, "facts", False):
        lines.extend(_dataset_facts(report, enabled))
    findings, hidden, summarized = _listed_findings(report, options)
    lines.extend(_pattern_lines(report, enabled))
    lines.extend(_finding_lines(findings, enabled))
    listed = {
        str(finding["subject"]) for finding in findings if finding.get("subject") and finding["severity"] != "info"
    }
    lines.extend(_sample_lines(report, options, listed, enabled))
    lines.append("")
    left_out = []
    if summarized:
        left_out.append(f"{summarized} findings shown as patterns")
    if hidden:
        left_out.append(f"{hidden} info findings not listed")
    if left_out:
        lines.append(
            color(
                f"({'; '.join(left_out)}: --show-all lists every finding, --format json has everything)", "dim", enabled
            )
        )
    lines.append(_verdict(report, enabled))
    return "\n".join(lines) + "\n"


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "text",
            "report",
            ".txt",
            "verdict, patterns and findings first; samples with problems (every sample and its facts with --facts)",
            render,
            options=(
                (
                    ("--color",),
                    {"choices": ["auto", "always", "never"], "default": "auto", "help": "color in text output"},
                ),
                (("--show-info",), {"action": "store_true", "help": "text output: also list info findings"}),
                (
                    ("--show-all",),
                    {"action": "store_true", "help": "text output: list every finding, also those shown as patterns"},
                ),
                (
                    ("--facts",),
                    {
                        "action": "store_true",
                        "help": "text output: list every sample with its facts (log sizes, records, Sysinfo, ...)",
                    },
                ),
            ),
        )
    ]
