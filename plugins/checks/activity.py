"""Activity of a log over time: events per minute, by event kind (``evt``), as a report fact.

The counts are taken while the log checks stream the records past (one pass, no second read) and become the
fact ``<log>.activity`` of the sample (or ``activity:<path>`` of the dataset for logs of no sample): what the
HTML report draws as a stacked bar chart, and what anyone can draw from the JSON report.

Minutes are clock minutes of the log's own header times (``time[:16]``, the host's local time): the first
bin is the minute of the earliest record, the last the minute of the latest, every minute in between has a
bin (also an empty one). Memory stays bounded whatever the log holds: at most :data:`MAX_MINUTE_KEYS`
distinct minutes and :data:`MAX_KINDS` event kinds are counted (the rest is counted as dropped or as
``other``), and logs longer than :data:`MAX_BINS` minutes get wider bins (``bin_minutes``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

__all__ = ["MAX_BINS", "MAX_KINDS", "MAX_MINUTE_KEYS", "ActivityCounter"]

MAX_MINUTE_KEYS = 20_000
MAX_KINDS = 16
MAX_BINS = 240
#: Event kinds in the order charts stack them; others follow by frequency.
KIND_ORDER = ("ps", "file", "reg", "net", "win")


class ActivityCounter:
    """Counts records per (clock minute, event kind); :meth:`fact_value` gives the dense per-minute series."""

    def __init__(self, expected_minutes: float | None = None, tolerance_minutes: float | None = None) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.minutes: set[str] = set()
        self._kind_names: set[str] = set()
        self.dropped = 0
        self.expected_minutes = expected_minutes
        self.tolerance_minutes = tolerance_minutes

    @property
    def kinds(self) -> Counter[str]:
        """Records counted per event kind."""
        totals: Counter[str] = Counter()
        for (_, kind), count in self.counts.items():
            totals[kind] += count
        return totals

    def add(self, record: Mapping[str, Any]) -> None:
        moment = record.get("time")
        kind = record.get("evt")
        if type(moment) is str and type(kind) is str:
            # The common case: a minute and kind already counted (a key's minute has 16 characters, so this
            # time has them too, and its kind is one of the counted ones).
            key = (moment[:16], kind)
            count = self.counts.get(key)
            if count is not None:
                self.counts[key] = count + 1
                return
        self._add_new(record)

    def _add_new(self, record: Mapping[str, Any]) -> None:
        moment = record.get("time")
        if not isinstance(moment, str) or len(moment) < 16:
            self.dropped += 1
            return
        minute = moment[:16]
        if minute not in self.minutes:
            if len(self.minutes) >= MAX_MINUTE_KEYS:
                self.dropped += 1
                return
            self.minutes.add(minute)
        kind = str(record.get("evt") or "?")
        if kind not in self._kind_names:
            if len(self._kind_names) >= MAX_KINDS:
                kind = "other"
            self._kind_names.add(kind)
        self.counts[(minute, kind)] += 1

    def _ordered_kinds(self) -> list[str]:
        totals = self.kinds
        known = [kind for kind in KIND_ORDER if kind in totals]
        rest = sorted((kind for kind in totals if kind not in KIND_ORDER), key=lambda kind: (-totals[kind], kind))
        return known + rest

    def fact_value(self) -> dict[str, Any] | None:
        """``{"start", "bin_minutes", "bins", "counts": {kind: [per bin]}, "totals", ...}`` or ``None`` when no
        record had a usable time."""
        dropped = self.dropped
        parsed = {}
        for minute in self.minutes:
            try:
                parsed[minute] = datetime.fromisoformat(minute)
            except ValueError:
                continue
        if not parsed:
            return None
        start = min(parsed.values())
        span = int((max(parsed.values()) - start).total_seconds() // 60) + 1
        width = max(1, math.ceil(span / MAX_BINS))
        bins = math.ceil(span / width)
        kinds = self._ordered_kinds()
        series = {kind: [0] * bins for kind in kinds}
        for (minute, kind), count in self.counts.items():
            moment = parsed.get(minute)
            if moment is None:
                dropped += count
                continue
            series[kind][int((moment - start).total_seconds() // 60) // width] += count
        value: dict[str, Any] = {
            "start": start.isoformat(timespec="minutes"),
            "end": (start + timedelta(minutes=bins * width)).isoformat(timespec="minutes"),
            "bin_minutes": width,
            "bins": bins,
            "counts": series,
            "totals": {kind: sum(series[kind]) for kind in kinds},
        }
        if self.expected_minutes:
            value["expected_minutes"] = self.expected_minutes
            if self.tolerance_minutes is not None:
                value["tolerance_minutes"] = self.tolerance_minutes
        if dropped:
            value["dropped"] = dropped
        return value
