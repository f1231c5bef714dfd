"""The ``html`` report output: one self-contained page a curator would rather look at than read.

Rendered from the report document alone (``schemas/report.schema.json``), like every report output: verdict
first (counts, what ran and what did not, the dataset and the tool), then patterns and findings grouped by
code and sample with filters, pictures of the dataset, and a sortable, searchable table of the samples with
their activity charts (:mod:`mk2ds.plugins.reports.charts`, inline SVG drawn here in Python).

Safety: file names, labels and Sysinfo values are attacker-controlled. All markup is made here, with every
value from the document passed through :func:`~mk2ds.plugins.reports.charts.text` (control and bidi characters
made visible, then HTML-escaped); the script (``report.js``) only reads ``data-`` attributes and sets
``textContent``, ``hidden`` and classes. A Content-Security-Policy allows the one inline script and style by
their SHA-256 and nothing else: no network, no plugins, no frames.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.html_page import content_security_policy, fill_template
from mk2ds.plugins.reports.charts import text
from mk2ds.plugins.reports.html_samples import pictures_section, samples_section, short, size_text

__all__ = ["render"]

SEVERITIES = ("error", "warning", "info")
LEVELS = {
    "structure": "names and sizes only",
    "fast": "also small files and indexes (List.xlsx, Sysinfo, impfuzzy), first line of logs",
    "full": "every byte: logs parsed, checksums recomputed",
}
#: Findings listed per pattern before "show all".
PATTERN_EXAMPLES = 3
#: A finding's details are shown up to this many characters (of indented JSON) on the page; the JSON report
#: has them all. Keeps the page of a 117-sample run small (process lists in details can be long).
MAX_DETAILS_CHARS = 2000


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    folder = resources.files("mk2ds.plugins.reports")
    return tuple(  # type: ignore[return-value]
        (folder / name).read_text(encoding="utf-8") for name in ("report.html", "report.css", "report.js")
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _location(finding: Mapping[str, Any]) -> str:
    where = str(finding.get("path", "-"))
    if "line" in finding:
        where += f":{finding['line']}"
        if "column" in finding:
            where += f":{finding['column']}"
    return where


# ------------------------------------------------------------------------------------------------ verdict


def _verdict_word(report: Mapping[str, Any]) -> tuple[str, str]:
    if report.get("exit_code") == 3:
        return "INTERNAL ERROR", "bad"
    return ("OK", "good") if report["valid"] else ("FAILED", "bad")


def _checks_html(report: Mapping[str, Any]) -> str:
    checks = report.get("checks") or {}
    ran = "".join(
        f'<span class="chip" title="{text(", ".join(item["hooks"]))}">{text(item["name"])}</span>'
        for item in checks.get("ran", [])
    )
    parts = [f"<dt>checks run</dt><dd>{ran or '—'}</dd>"]
    not_run = checks.get("not_run", [])
    if not_run:
        items = "".join(f"<li><b>{text(item['name'])}</b>: {text(item['reason'])}</li>" for item in not_run)
        parts.append(f'<dt>not run</dt><dd><ul class="plain">{items}</ul></dd>')
    return "".join(parts)


def _verdict_section(report: Mapping[str, Any]) -> str:
    word, tone = _verdict_word(report)
    summary = report["summary"]
    target = report.get("target", {})
    stats = report.get("stats", {})
    tool = report.get("tool", {})
    counts = "".join(
        f'<a class="count sev-{severity}" href="#findings" data-only="{severity}"><b>{summary[severity]}</b> {severity}{"s" if severity != "info" and summary[severity] != 1 else ""}</a>'
        for severity in SEVERITIES
    )
    level = str(target.get("level", report.get("checks", {}).get("level", "")))
    rows = [
        f"<dt>dataset</dt><dd>{_dataset_name(target)}</dd>",
        f'<dt>profile</dt><dd>{text(target.get("profile_title", target.get("profile", "-")))} <span class="muted">({text(target.get("profile", "-"))})</span></dd>',
        f"<dt>size</dt><dd>{_plural(len(report.get('samples', [])), 'sample')}, {_plural(int(stats.get('files', 0)), 'file')}, {size_text(stats.get('bytes'))}</dd>",
        f'<dt>level</dt><dd>{text(level)} <span class="muted">{text(LEVELS.get(level, ""))}</span></dd>',
        _checks_html(report),
        f"<dt>took</dt><dd>{text(stats.get('seconds', '?'))} s with {_plural(int(stats.get('jobs', 1)), 'job')}</dd>",
        f"<dt>tool</dt><dd>{text(tool.get('name', 'mk2ds'))} {text(tool.get('version', '?'))}, Python {text(tool.get('python', '?'))} {_plugins_html(tool)}</dd>",
    ]
    return (
        f'<section id="verdict" class="verdict {tone}"><div class="verdict-head"><span class="word">{word}</span>'
        f'<span class="counts">{counts}</span><span class="exit muted">exit code {text(report.get("exit_code"))}, fails on {text(report.get("fail_on", "error"))}</span></div>'
        f'<dl class="facts">{"".join(rows)}</dl></section>'
    )


def _dataset_name(target: Mapping[str, Any]) -> str:
    name, location = str(target.get("name") or ""), str(target.get("location") or "-")
    if not name or name == location:
        return text(location)
    return f'{text(name)} <span class="muted">{text(location)}</span>'


def _plugins_html(tool: Mapping[str, Any]) -> str:
    plugins = tool.get("plugins") or {}
    if not plugins:
        return ""
    rows = "".join(
        f"<tr><td>{text(name)}</td><td>{text(version or '-')}</td></tr>" for name, version in sorted(plugins.items())
    )
    return f'<details class="inline"><summary>{_plural(len(plugins), "plugin")}</summary><table class="small">{rows}</table></details>'


# ------------------------------------------------------------------------------------------------ findings


def _finding_html(finding: Mapping[str, Any]) -> str:
    severity = str(finding["severity"])
    subject = str(finding.get("subject") or "")
    details = ""
    if finding.get("details") or finding.get("plugin"):
        shown = {key: finding[key] for key in ("plugin", "details") if key in finding}
        dumped = json.dumps(shown, indent=2, ensure_ascii=False)
        cut = ""
        if len(dumped) > MAX_DETAILS_CHARS:
            cut = f"\n… {len(dumped) - MAX_DETAILS_CHARS:,} more characters in the JSON report (--format json)"
            dumped = dumped[:MAX_DETAILS_CHARS]
        # Line by line: the layout's line feeds stay, control characters inside the values are made visible.
        details = f"<pre>{chr(10).join(text(line) for line in dumped.split(chr(10)))}{text(cut)}</pre>"
    return (
        f'<details class="finding" data-severity="{severity}" data-code="{text(finding["code"])}" data-subject="{text(subject)}">'
        f'<summary><span class="sev sev-{severity}">{severity}</span> <code class="where">{text(_location(finding))}</code> '
        f'<span class="message">{text(finding["message"])}</span></summary>{details or "<p class=muted>no further details</p>"}</details>'
    )


def _subject_groups(findings: list[Mapping[str, Any]]) -> str:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(str(finding.get("subject") or ""), []).append(finding)
    out = []
    for subject in sorted(groups, key=lambda key: (key != "", key)):
        heading = (
            f'<a class="sample-link" href="#s-{text(subject)}" title="{text(subject)}">{text(short(subject))}</a>'
            if subject
            else "dataset"
        )
        rows = "".join(_finding_html(finding) for finding in groups[subject])
        out.append(
            f'<div class="subject-group" data-subject="{text(subject)}"><h4>{heading} <span class="muted">{len(groups[subject])}</span></h4>{rows}</div>'
        )
    return "".join(out)


def _pattern_html(pattern: Mapping[str, Any]) -> str:
    reach = _plural(int(pattern["count"]), "finding")
    if pattern.get("samples"):
        reach += f" on {pattern['samples']} of {pattern['sample_total']} samples"
    examples = "".join(
        f"<li><code>{text(_location(example))}</code> {text(example['message'])}</li>"
        for example in pattern["examples"][:PATTERN_EXAMPLES]
    )
    return (
        f'<div class="pattern sev-border-{text(pattern["severity"])}"><p><span class="sev sev-{text(pattern["severity"])}">pattern</span> '
        f'<b>{reach}</b>: {text(pattern["message"])}</p><p class="muted">e.g.</p><ul class="examples">{examples}</ul></div>'
    )


def _code_group(
    code: str, findings: list[Mapping[str, Any]], report: Mapping[str, Any], pattern: Mapping[str, Any] | None
) -> str:
    info = (report.get("codes") or {}).get(code, {})
    severities = {str(finding["severity"]) for finding in findings}
    worst = next(severity for severity in SEVERITIES if severity in severities)
    members = _subject_groups(findings)
    if pattern is not None:
        members = (
            f'<details class="members"><summary>all {len(findings)} findings, by sample</summary>{members}</details>'
        )
    return (
        f'<section class="code-group" data-code="{text(code)}"><h3><span class="sev sev-{worst}">{worst}</span> <code>{text(code)}</code> '
        f'<span class="muted">{_plural(len(findings), "finding")}</span> <span class="description">{text(info.get("description", ""))}</span></h3>'
        f"{_pattern_html(pattern) if pattern is not None else ''}{members}</section>"
    )


def _findings_section(report: Mapping[str, Any]) -> str:
    findings = list(report.get("findings", []))
    if not findings:
        return '<section id="findings"><h2>Findings</h2><p class="empty">No findings: every check passed.</p></section>'
    by_code: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        by_code.setdefault(str(finding["code"]), []).append(finding)
    patterns = {str(pattern["code"]): pattern for pattern in report.get("patterns", [])}
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}

    def order(code: str) -> tuple[int, int, str]:
        return (min(rank[str(finding["severity"])] for finding in by_code[code]), -len(by_code[code]), code)

    codes = sorted(by_code, key=order)
    groups = "".join(_code_group(code, by_code[code], report, patterns.get(code)) for code in codes)
    code_options = "".join(
        f'<option value="{text(code)}">{text(code)} ({len(by_code[code])})</option>' for code in codes
    )
    subjects = sorted({str(finding.get("subject") or "") for finding in findings})
    subject_options = "".join(
        f'<option value="{text(subject)}">{text(short(subject)) if subject else "dataset"}</option>'
        for subject in subjects
    )
    boxes = "".join(
        f'<label class="sev sev-{severity}"><input type="checkbox" data-severity-filter="{severity}" checked> {severity}</label>'
        for severity in SEVERITIES
    )
    note = (
        f'<p class="muted">{_plural(len(patterns), "pattern")}: a code on most samples is shown once with examples; its findings are folded below it.</p>'
        if patterns
        else ""
    )
    return (
        f'<section id="findings"><h2>Findings <span class="muted" id="finding-count">{len(findings)} of {len(findings)} shown</span></h2>{note}'
        f'<div class="toolbar" id="finding-filters">{boxes}<select id="code-filter" aria-label="code"><option value="">every code</option>{code_options}</select>'
        f'<select id="sample-filter" aria-label="sample"><option value="*">every sample</option>{subject_options}</select>'
        f'<button type="button" id="reset-filters">reset</button></div>{groups}</section>'
    )


# ------------------------------------------------------------------------------------------------ page


def _title(report: Mapping[str, Any]) -> str:
    target = report.get("target", {})
    name = target.get("name") or target.get("location") or ""
    word, _ = _verdict_word(report)
    return f"{word} · mk2ds {report.get('command', 'verify')} {name}".strip()


def _body(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    tree_pages = getattr(options, "tree_pages", None)
    # Tree links are relative to the report file; only pages that exist there are linked.
    base = os.path.dirname(os.path.abspath(getattr(options, "output", None) or "report.html"))
    nav = '<nav><a href="#verdict">Verdict</a><a href="#findings">Findings</a><a href="#pictures">Pictures</a><a href="#samples">Samples</a></nav>'
    return "".join(
        [
            nav,
            _verdict_section(report),
            _findings_section(report),
            pictures_section(report),
            samples_section(report, tree_pages, base),
        ]
    )


def render(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    template, style, script = _assets()
    values = {
        "@CSP@": content_security_policy(script, style),
        "@TITLE@": text(_title(report)),
        "@STYLE@": style,
        "@BODY@": _body(report, options),
        "@SCRIPT@": script,
    }
    return fill_template(template, values)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "html",
            "report",
            ".html",
            "one self-contained page: verdict, findings with filters, sample table with activity charts",
            render,
            options=(
                (
                    ("--tree-pages",),
                    {
                        "metavar": "DIR",
                        "help": "html output: link each sample to DIR/HASH.html, its process tree page (mk2ds tree DATASET --sample HASH --format html -o DIR/HASH.html); DIR as seen from the report",
                    },
                ),
            ),
        )
    ]
