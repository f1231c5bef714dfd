"""The samples table and the dataset pictures of the HTML report (see :mod:`mk2ds.plugins.reports.html`).

Everything shown comes from the report document: per-sample facts (``extension``, ``labels``, ``flags.*``,
``30m-log.bytes``/``records``/``minutes``/``processes``/``activity``, ``systeminfo.*``) and dataset facts
(``activity:PATH`` for logs of no sample). Values are escaped with :func:`~mk2ds.plugins.reports.charts.text`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mk2ds.plugins.reports.charts import (
    DurationPoint,
    activity_chart,
    chart_series,
    durations_chart,
    kinds_per_subset,
    legend,
    sparkline,
    text,
)

__all__ = ["pictures_section", "samples_section", "short", "size_text"]

#: Per-sample logs in the order the table prefers them (the profile's rule names).
LOG_KEYS = ("30m-log", "verbose-log", "log")
SHORT = 10


def short(sample: str) -> str:
    return sample if len(sample) <= SHORT + 1 else sample[:SHORT] + "…"


def size_text(count: Any) -> str:
    if not isinstance(count, (int, float)):
        return "–"
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover


def _main_log(facts: Mapping[str, Any]) -> str | None:
    return next((key for key in LOG_KEYS if any(name.startswith(key + ".") for name in facts)), None)


def _flag(value: Any) -> tuple[str, str]:
    if value is True:
        return "✓", "1"
    if value is False:
        return "–", "0"
    return "?", ""


def _cell(shown: str, sort: Any, css: str = "") -> str:
    value = "" if sort is None else text(sort)
    return f'<td data-sort="{value}"{f" class={css!r}" if css else ""}>{shown}</td>'


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ("–" if value is None else text(value))


def _findings_cell(counts: Mapping[str, int], sample: str) -> str:
    chips = "".join(
        f'<span class="n sev-{severity}">{counts[severity]}</span>'
        for severity in ("error", "warning", "info")
        if counts.get(severity)
    )
    weight = counts.get("error", 0) * 1_000_000 + counts.get("warning", 0) * 1000 + counts.get("info", 0)
    shown = (
        f'<button type="button" class="to-findings" data-sample="{text(sample)}" title="show this sample\'s findings">{chips}</button>'
        if chips
        else '<span class="muted">–</span>'
    )
    return f'<td data-sort="{weight}">{shown}</td>'


def _row(sample: Mapping[str, Any], tree_link: str | None) -> str:
    facts = sample.get("facts", {})
    ident = str(sample["id"])
    log = _main_log(facts)
    get = (lambda name: facts.get(f"{log}.{name}")) if log else (lambda name: None)
    activity = get("activity")
    verbose, verbose_sort = _flag(facts.get("flags.verbose"))
    report, report_sort = _flag(facts.get("flags.report"))
    is_pe = facts.get("is_pe")
    copy = f'<button type="button" class="copy" data-copy="{text(ident)}" title="copy the hash">copy</button>'
    cells = [
        f'<td data-sort="{text(ident)}" class="hash"><a class="open" href="#s-{text(ident)}" title="{text(ident)}">{text(short(ident))}</a>{copy}</td>',
        _cell(text(facts.get("labels", "")), facts.get("labels", ""), "labels"),
        _cell(text(facts.get("extension", "")), facts.get("extension", "")),
        _cell({True: "PE", False: "–"}.get(is_pe, "?"), {True: 1, False: 0}.get(is_pe, "")),
        _cell(verbose, verbose_sort, "flag"),
        _cell(report, report_sort, "flag"),
        _cell(size_text(get("bytes")), get("bytes"), "num"),
        _cell(_number(get("records")), get("records"), "num"),
        _cell(_number(get("minutes")), get("minutes"), "num"),
        _cell(_number(get("processes")), get("processes"), "num"),
        _findings_cell(sample["findings"], ident),
        _cell(text(facts.get("systeminfo.host_name", "")), facts.get("systeminfo.host_name", "")),
        _cell(text(facts.get("systeminfo.os_name", "")), facts.get("systeminfo.os_name", ""), "os"),
        _cell(text(facts.get("systeminfo.time_zone", "")), facts.get("systeminfo.time_zone", ""), "tz"),
        f"<td>{sparkline(activity, width=100) if isinstance(activity, Mapping) else ''}</td>",
    ]
    return f'<tr class="sample-row" id="s-{text(ident)}">{"".join(cells)}</tr>' + _detail_row(
        sample, tree_link, len(cells)
    )


def _detail_row(sample: Mapping[str, Any], tree_link: str | None, columns: int) -> str:
    facts = sample.get("facts", {})
    ident = str(sample["id"])
    charts = []
    for key in LOG_KEYS:
        activity = facts.get(f"{key}.activity")
        if isinstance(activity, Mapping):
            series = chart_series(activity["counts"], int(activity["bins"]))
            totals = {kind: sum(values) for kind, values in series.items()}
            charts.append(
                f'<figure class="chart" data-log="{text(key)}"><figcaption>{text(key)}: events per {"minute" if activity["bin_minutes"] == 1 else str(activity["bin_minutes"]) + " minutes"} '
                f"from {text(activity['start'])}</figcaption>{activity_chart(activity)}{legend(list(series), totals)}</figure>"
            )
    plain = [(key, value) for key, value in facts.items() if not isinstance(value, (dict, list))]
    rows = "".join(f"<dt>{text(key)}</dt><dd>{text(value)}</dd>" for key, value in plain)
    link = (
        f'<a class="tree" href="{text(tree_link)}" rel="noopener noreferrer">process tree page</a>' if tree_link else ""
    )
    head = f'<p class="full-hash"><code>{text(ident)}</code> <button type="button" class="copy" data-copy="{text(ident)}">copy</button> {link}</p>'
    return (
        f'<tr class="detail" hidden><td colspan="{columns}"><div class="detail-body">{head}'
        f'<div class="detail-grid"><div>{"".join(charts) or "<p class=muted>no log activity recorded</p>"}</div><dl class="facts small">{rows}</dl></div></div></td></tr>'
    )


def _tree_link(sample: str, tree_pages: str | None, base: str) -> str | None:
    if not tree_pages:
        return None
    relative = f"{tree_pages.rstrip('/')}/{sample}.html"
    return relative if os.path.isfile(os.path.join(base, relative)) else None


HEADERS = (
    ("sample", "text"),
    ("labels", "text"),
    ("ext", "text"),
    ("PE", "num"),
    ("Verbose", "num"),
    ("report", "num"),
    ("log size", "num"),
    ("records", "num"),
    ("minutes", "num"),
    ("processes", "num"),
    ("findings", "num"),
    ("host", "text"),
    ("OS", "text"),
    ("time zone", "text"),
    ("activity", ""),
)


def samples_section(report: Mapping[str, Any], tree_pages: str | None, base: str = ".") -> str:
    samples = report.get("samples", [])
    if not samples:
        return '<section id="samples"><h2>Samples</h2><p class="empty">No samples in this report.</p></section>'
    head = "".join(
        f'<th><button type="button" class="sort" data-column="{index}" data-type="{kind}">{name}</button></th>'
        if kind
        else f"<th>{name}</th>"
        for index, (name, kind) in enumerate(HEADERS)
    )
    bodies = "".join(
        f'<tbody class="sample" data-sample="{text(sample["id"])}">{_row(sample, _tree_link(str(sample["id"]), tree_pages, base))}</tbody>'
        for sample in samples
    )
    kinds = legend([*["ps", "file", "reg", "net", "win", "session"], "other"])
    return (
        f'<section id="samples"><h2>Samples <span class="muted" id="sample-count">{len(samples)} of {len(samples)} shown</span></h2>'
        f'<div class="toolbar"><input id="sample-search" type="search" placeholder="Search hash, label, extension, host, OS…" autocomplete="off" spellcheck="false">'
        f'<span class="muted">click a row for its details and charts; click a column title to sort</span>{kinds}</div>'
        f'<div class="table-wrap"><table id="sample-table"><thead><tr>{head}</tr></thead>{bodies}</table></div></section>'
    )


def _subsets(report: Mapping[str, Any]) -> list[tuple[str, int, dict[str, int]]]:
    """Event totals by kind per subset: the per-sample log kinds, then the folders of the other logs."""
    subsets: dict[str, tuple[int, dict[str, int]]] = {}

    def add(name: str, totals: Mapping[str, int]) -> None:
        logs, merged = subsets.get(name, (0, {}))
        for kind, count in totals.items():
            merged[kind] = merged.get(kind, 0) + int(count)
        subsets[name] = (logs + 1, merged)

    for sample in report.get("samples", []):
        for key, value in sample.get("facts", {}).items():
            if key.endswith(".activity") and isinstance(value, Mapping):
                add(key.removesuffix(".activity"), value.get("totals", {}))
    for key, value in report.get("facts", {}).items():
        if key.startswith("activity:") and isinstance(value, Mapping):
            add(os.path.dirname(key.removeprefix("activity:")) or "/", value.get("totals", {}))
    return [(name, logs, totals) for name, (logs, totals) in subsets.items()]


def _duration_points(report: Mapping[str, Any]) -> list[DurationPoint]:
    points = []
    for sample in report.get("samples", []):
        facts = sample.get("facts", {})
        for key in LOG_KEYS:
            minutes = facts.get(f"{key}.minutes")
            activity = facts.get(f"{key}.activity") or {}
            if isinstance(minutes, (int, float)):
                points.append(
                    DurationPoint(
                        key,
                        str(sample["id"]),
                        float(minutes),
                        activity.get("expected_minutes"),
                        activity.get("tolerance_minutes"),
                    )
                )
    return points


def pictures_section(report: Mapping[str, Any]) -> str:
    subsets = _subsets(report)
    points = _duration_points(report)
    if not subsets and not points:
        return '<section id="pictures"><h2>Pictures</h2><p class="empty">No log activity in this report (level structure or fast?).</p></section>'
    parts = ['<section id="pictures"><h2>Pictures</h2>']
    if subsets:
        parts.append(
            f"<figure><figcaption>Event kinds per subset</figcaption>{kinds_per_subset(subsets, width=640)}{legend(['ps', 'file', 'reg', 'net', 'win', 'session', 'other'])}</figure>"
        )
    if points:
        outliers = [point for point in points if point.outlier]
        if outliers:
            items = "".join(
                f'<li><a href="#s-{text(point.sample)}">{text(short(point.sample))}</a> {text(point.subset)}: {point.minutes:g} min</li>'
                for point in outliers
            )
            note = f'<div class="outliers"><b>{len(outliers)} outside the tolerance</b><ul class="plain">{items}</ul></div>'
        else:
            note = '<p class="muted">Every log spans the expected time.</p>'
        parts.append(
            f"<figure><figcaption>Log durations against the expected span (shaded: the profile's tolerance)</figcaption>{durations_chart(points, width=640)}{note}</figure>"
        )
    parts.append("</section>")
    return "".join(parts)
