"""Inline SVG charts for the HTML report, drawn in Python from the report document (no library, no network).

Colors come from CSS classes (``k-ps``, ``k-file``, ...; see ``report.css``), so the SVG carries no style
attributes (the page's Content-Security-Policy allows only its one hashed style block). Every text that comes
from the data (subset names, sample ids) is escaped with :func:`text`; numbers are formatted here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mk2ds.core.terminal import escape_text

__all__ = [
    "CHART_KINDS",
    "DurationPoint",
    "activity_chart",
    "chart_series",
    "durations_chart",
    "kinds_per_subset",
    "legend",
    "sparkline",
    "text",
]

#: Event kinds drawn in their own color, bottom to top; every other kind is stacked as ``other``.
CHART_KINDS = ("ps", "file", "reg", "net", "win", "session")


def text(value: Any) -> str:
    """Data as inert markup text: control and bidi characters shown as escapes, then HTML-escaped."""
    return html.escape(escape_text(str(value)), quote=True)


def chart_series(counts: Mapping[str, Sequence[int]], bins: int) -> dict[str, list[int]]:
    """The per-bin counts folded into :data:`CHART_KINDS` plus ``other`` (kinds without events left out)."""
    series: dict[str, list[int]] = {}
    other = [0] * bins
    for kind, values in counts.items():
        target = series.setdefault(kind, [0] * bins) if kind in CHART_KINDS else other
        for index, value in enumerate(values[:bins]):
            target[index] += int(value)
    ordered = {kind: series[kind] for kind in CHART_KINDS if kind in series and any(series[kind])}
    if any(other):
        ordered["other"] = other
    return ordered


def _nice_ceiling(value: float) -> int:
    """1, 2, 5, 10, 20, 50, ... at or above ``value``."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)  # pragma: no cover


def _totals(series: Mapping[str, Sequence[int]], bins: int) -> list[int]:
    return [sum(values[index] for values in series.values()) for index in range(bins)]


def sparkline(activity: Mapping[str, Any], width: int = 120, height: int = 22) -> str:
    """A small stacked bar chart for a table row: one bar per bin, the viewBox in (bins, events) units."""
    bins = int(activity["bins"])
    series = chart_series(activity["counts"], bins)
    peak = max(_totals(series, bins), default=0) or 1
    base = [0] * bins
    paths = []
    for kind, values in series.items():
        parts = []
        for index, count in enumerate(values):
            if count:
                parts.append(f"M{index} {peak - base[index] - count}h.8v{count}h-.8z")
                base[index] += count
        paths.append(f'<path class="k-{kind}" d="{"".join(parts)}"/>')
    label = f"{sum(map(sum, series.values()))} events in {bins * int(activity['bin_minutes'])} minutes"
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {bins} {peak}" preserveAspectRatio="none" '
        f'role="img" aria-label="{label}">{"".join(paths)}</svg>'
    )


def _clock(start: datetime | None, minutes: int) -> str:
    if start is None:
        return f"+{minutes}m"
    return (start + timedelta(minutes=minutes)).strftime("%H:%M")


def _bin_group(
    index: int, x: float, slot: float, values: Mapping[str, Sequence[int]], scale: float, bottom: float, label: str
) -> str:
    """One minute: a hit area, its stacked bars and a tooltip."""
    parts = [f'<g class="bin"><rect class="hit" x="{x:.1f}" y="0" width="{slot:.1f}" height="{bottom:.0f}"/>']
    y = bottom
    described = []
    for kind, counts in values.items():
        count = counts[index]
        if not count:
            continue
        height = count * scale
        y -= height
        parts.append(
            f'<rect class="k-{kind}" x="{x + slot * 0.1:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{height:.1f}"/>'
        )
        described.append(f"{kind} {count}")
    total = sum(counts[index] for counts in values.values())
    parts.append(
        f"<title>{text(label)}: {total} events{' (' + ', '.join(described) + ')' if described else ''}</title></g>"
    )
    return "".join(parts)


def activity_chart(activity: Mapping[str, Any], width: int = 760, height: int = 200) -> str:
    """The full-size stacked bar chart of a log: axes, one ``g.bin`` per bin, the expected duration marked."""
    bins = int(activity["bins"])
    width_minutes = int(activity["bin_minutes"])
    series = chart_series(activity["counts"], bins)
    top = _nice_ceiling(max(_totals(series, bins), default=0))
    left, right, upper, lower = 40, 24, 8, 22
    plot_w, plot_h = width - left - right, height - upper - lower
    slot = plot_w / bins
    scale = plot_h / top
    try:
        start: datetime | None = datetime.fromisoformat(str(activity["start"]))
    except ValueError:
        start = None
    out = [
        f'<svg class="activity" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="events per minute by kind">'
    ]
    out.append(f'<g transform="translate({left},{upper})">')
    for fraction in (0, 0.5, 1):
        y = plot_h - fraction * plot_h
        out.append(
            f'<line class="grid" x1="0" x2="{plot_w}" y1="{y:.1f}" y2="{y:.1f}"/><text class="tick" x="-4" y="{y + 3:.1f}" text-anchor="end">{top * fraction:g}</text>'
        )
    step = max(1, math.ceil(bins / 10 / 5) * 5) if bins > 12 else 1
    for index in range(0, bins + 1, step):
        out.append(
            f'<text class="tick" x="{index * slot:.1f}" y="{plot_h + 14:.1f}" text-anchor="middle">{_clock(start, index * width_minutes)}</text>'
        )
    for index in range(bins):
        label = _clock(start, index * width_minutes) + (
            f"–{_clock(start, (index + 1) * width_minutes)}" if width_minutes > 1 else ""
        )
        out.append(_bin_group(index, index * slot, slot, series, scale, plot_h, label))
    expected = activity.get("expected_minutes")
    if expected:
        x = float(expected) / width_minutes * slot
        if x <= plot_w:
            out.append(
                f'<line class="expected" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{plot_h:.1f}"/><text class="tick expected-label" x="{x - 3:.1f}" y="9" text-anchor="end">{float(expected):g} min expected</text>'
            )
    out.append("</g></svg>")
    return "".join(out)


def legend(kinds: Sequence[str], totals: Mapping[str, int] | None = None) -> str:
    """An HTML legend for the kind colors (with totals when given)."""
    items = []
    for kind in kinds:
        count = f" {totals[kind]}" if totals and kind in totals else ""
        items.append(
            f'<span class="key"><svg width="10" height="10"><rect class="k-{kind}" width="10" height="10"/></svg>{text(kind)}{count}</span>'
        )
    return f'<div class="legend">{"".join(items)}</div>'


def kinds_per_subset(subsets: Sequence[tuple[str, int, Mapping[str, int]]], width: int = 760) -> str:
    """One 100 % stacked bar per subset of logs (label, number of logs, events by kind)."""
    label_w, count_w, row_h = 190, 110, 26
    bar_w = width - label_w - count_w
    height = row_h * len(subsets) + 4
    out = [
        f'<svg class="subsets" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="event kinds per subset">'
    ]
    for row, (name, logs, totals) in enumerate(subsets):
        series = chart_series({kind: [count] for kind, count in totals.items()}, 1)
        total = sum(values[0] for values in series.values()) or 1
        y = row * row_h + 4
        out.append(f'<text class="label" x="0" y="{y + 14}">{text(name)}</text>')
        x = float(label_w)
        for kind, values in series.items():
            share = values[0] / total
            out.append(
                f'<rect class="k-{kind}" x="{x:.1f}" y="{y}" width="{share * bar_w:.1f}" height="{row_h - 8}"><title>{text(name)}: {kind} {values[0]} ({share:.0%})</title></rect>'
            )
            x += share * bar_w
        out.append(
            f'<text class="tick" x="{label_w + bar_w + 6}" y="{y + 14}">{sum(totals.values())} events, {logs} log{"s" if logs != 1 else ""}</text>'
        )
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class DurationPoint:
    """One log's span: its subset (row), the sample it belongs to, minutes, and the profile's expectation."""

    subset: str
    sample: str
    minutes: float
    expected: float | None
    tolerance: float | None

    @property
    def outlier(self) -> bool:
        if not self.expected:
            return False
        return abs(self.minutes - self.expected) > (self.tolerance if self.tolerance is not None else 5.0)


def durations_chart(points: Sequence[DurationPoint], width: int = 760) -> str:
    """Log spans as dots on a minute axis, one row per subset, the expected span and its tolerance shaded."""
    rows = list(dict.fromkeys(point.subset for point in points))
    left, right, row_h, lower = 120, 16, 34, 24
    plot_w = width - left - right
    height = row_h * len(rows) + lower + 6
    expected = next((point.expected for point in points if point.expected), None)
    tolerance = next((point.tolerance for point in points if point.tolerance is not None), None)
    top = _nice_ceiling(max([point.minutes for point in points] + [(expected or 0) * 1.5, 1]))
    scale = plot_w / top
    out = [
        f'<svg class="durations" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="log durations against the expected span">'
    ]
    out.append(f'<g transform="translate({left},6)">')
    plot_h = row_h * len(rows)
    if expected:
        band = tolerance if tolerance is not None else 0
        out.append(
            f'<rect class="band" x="{(expected - band) * scale:.1f}" y="0" width="{2 * band * scale:.1f}" height="{plot_h}"/>'
        )
        out.append(
            f'<line class="expected" x1="{expected * scale:.1f}" x2="{expected * scale:.1f}" y1="0" y2="{plot_h}"/>'
        )
    for tick in range(0, top + 1, max(1, top // 10)):
        out.append(f'<text class="tick" x="{tick * scale:.1f}" y="{plot_h + 14}" text-anchor="middle">{tick}</text>')
    out.append(f'<text class="tick" x="{plot_w:.1f}" y="{plot_h + 24}" text-anchor="end">minutes</text>')
    for row, name in enumerate(rows):
        y0 = row * row_h
        out.append(f'<line class="grid" x1="0" x2="{plot_w}" y1="{y0 + row_h / 2:.1f}" y2="{y0 + row_h / 2:.1f}"/>')
        out.append(f'<text class="label" x="-8" y="{y0 + row_h / 2 + 4:.1f}" text-anchor="end">{text(name)}</text>')
        for index, point in enumerate(point for point in points if point.subset == name):
            jitter = ((index * 7919) % 17 - 8) * (row_h - 12) / 17
            kind = "dot out" if point.outlier else "dot"
            out.append(
                f'<circle class="{kind}" data-sample="{text(point.sample)}" cx="{point.minutes * scale:.1f}" cy="{y0 + row_h / 2 + jitter:.1f}" r="{4 if point.outlier else 3}">'
                f"<title>{text(point.sample)}: {point.minutes:g} min</title></circle>"
            )
    out.append("</g></svg>")
    return "".join(out)
