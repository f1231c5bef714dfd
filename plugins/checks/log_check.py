"""The checks of one Mark II log (:func:`check_log`; see :mod:`mk2ds.plugins.checks.logs`, the plugin that runs
them for every log of a verification), reading it once through the ``mk2ds_open_log`` service hook.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from mk2ds.core import Dataset, Entry, Fact, Finding, Severity, VerifyContext
from mk2ds.plugins.checks.cross_references import hashes_in
from mk2ds.plugins.checks.log_codes import DEFAULT_BACKWARDS_TOLERANCE
from mk2ds.plugins.checks.log_observer import (
    MAX_LINES_IN_DETAILS,
    SNIFF_BYTES,
    LogObserver,
    first_line,
    text_layout_problem,
)
from mk2ds.plugins.checks.log_times import LogTimeObserver
from mk2ds.plugins.checks.shared import SAMPLES, SYSINFO_TIME_ZONES
from mk2ds.plugins.checks.sysinfo import SysinfoTimeZones

__all__ = ["TreeBuilder", "check_log"]

#: ``build_tree(records)``: consumes the records of the single pass and returns a process model (or ``None``).
TreeBuilder = Callable[[Iterable[Mapping[str, Any]]], Any]


def check_log(
    entry: Entry, dataset: Dataset, context: VerifyContext, build_tree: TreeBuilder | None = None
) -> Iterator[Finding | Fact]:
    """The checks of one Mark II log (see the module documentation), reading it once.

    :param build_tree: at level ``full``, receives the records of that one pass (after the checks saw each)
        and returns the process model whose summary the checks report. The default builds it with
        ``mk2ds_build_process_tree``; a caller that also wants every record (``mk2ds export``) passes a
        function that consumes them on the way.
    """
    subject = _subject(entry.path, context)
    rule = _rule_for(entry.path, context)
    if entry.size == 0:
        if rule is None:  # per-sample logs: the cross-reference check reports emptiness by its own rule
            yield Finding("log-empty", Severity.WARNING, "empty log file", path=entry.path, subject=subject)
        return
    if context.pm is None:
        raise RuntimeError("log checks need the plugin manager in the verification context")
    try:
        with dataset.open(entry.path) as stream:
            source = stream if context.at_least("full") else io.BytesIO(first_line(stream))
            reader = context.pm.hook.mk2ds_open_log(
                stream=source, name=entry.path, options=_reader_options(context, entry.path)
            )
            if reader is None:
                yield Finding(
                    "log-no-reader",
                    Severity.ERROR,
                    "no plugin reads this file as a Mark II log",
                    path=entry.path,
                    subject=subject,
                )
                return
            hashes = _sample_hashes(context, subject, rule)
            observer = LogObserver(entry.path, subject, hashes, _time_observer(entry.path, subject, context))
            tree_summary = _one_pass(reader, observer, context, build_tree, hashes)
    except OSError as error:  # a damaged zip member: a finding about the file, not a plugin failure
        yield Finding("unreadable-file", Severity.ERROR, f"cannot be read: {error}", path=entry.path, subject=subject)
        return
    stats = dict(getattr(reader, "stats", {}) or {})
    yield from _layout_findings(entry, dataset, subject, stats)
    for finding in reader.findings:
        yield finding if finding.subject or not subject else Finding(**{**finding.as_fields(), "subject": subject})
    if not context.at_least("full"):
        return
    yield from observer.findings()
    if observer.records == 0:
        yield Finding("log-empty", Severity.WARNING, "no records in this log", path=entry.path, subject=subject)
    yield from _span_findings(entry, subject, rule, observer)
    if not observer.sample_seen:
        yield Finding(
            "log-sample-not-seen",
            Severity.WARNING,
            "the sample's own file (its hash) appears in no path or command line of its log",
            path=entry.path,
            subject=subject,
        )
    if tree_summary is not None:
        yield from _tree_items(entry.path, subject, rule["name"] if rule else "log", tree_summary)
    yield from _log_facts(entry, subject, rule, stats, observer)


def _subject(path: str, context: VerifyContext) -> str | None:
    found = hashes_in(path)
    for sample in context.get(SAMPLES) or []:
        if any(sample.get(kind) in found for kind in ("sha256", "sha1", "md5")):
            return str(sample["id"])
    return None


def _rule_for(path: str, context: VerifyContext) -> Mapping[str, Any] | None:
    lowered = path.lower()
    for rule in context.profile.per_sample:
        if lowered.startswith(str(rule["folder"]).lower().rstrip("/") + "/"):
            return rule
    return None


def _time_zones(context: VerifyContext) -> SysinfoTimeZones:
    return SysinfoTimeZones.from_dict(context.get(SYSINFO_TIME_ZONES))


def _reader_options(context: VerifyContext, path: str) -> argparse.Namespace:
    return argparse.Namespace(
        encoding=context.option("encoding", "auto") or "auto",
        assume_offset=context.option("assume_offset"),
        sysinfo_offset=_time_zones(context).offset_for(path),
        provenance=True,
    )


def _time_observer(path: str, subject: str | None, context: VerifyContext) -> LogTimeObserver:
    tolerance = context.option("time_backwards_tolerance")
    tolerance = DEFAULT_BACKWARDS_TOLERANCE if tolerance is None else float(tolerance)
    return LogTimeObserver(path, subject, _time_zones(context).sample_offset(path), tolerance)


def _sample_hashes(context: VerifyContext, subject: str | None, rule: Mapping[str, Any] | None) -> set[str]:
    """The hashes of the sample a 30-minute log belongs to (the log should mention its own sample)."""
    if not rule or rule.get("name") != "30m-log":
        return set()
    sample = next((item for item in context.get(SAMPLES) or [] if item["id"] == subject), None)
    return {str(sample[key]) for key in ("sha256", "sha1", "md5") if sample and sample.get(key)}


def _one_pass(
    reader: Any, observer: LogObserver, context: VerifyContext, build_tree: TreeBuilder | None, hashes: set[str]
) -> Any:
    """Read every record once, through the checks' observer; at level ``full`` the process model of the tree
    plugin consumes the same pass. The model's summary, or ``None`` without one."""
    if context.at_least("full") and context.pm is not None:
        # Only counts are needed here: keep one activity event per process and few peers.
        tree_options = argparse.Namespace(max_events=1, max_peers=1)
        if build_tree is None:
            model = context.pm.hook.mk2ds_build_process_tree(records=observer.watch(reader), options=tree_options)
        else:
            model = build_tree(observer.watch(reader))
        if model is not None and hasattr(model, "summary"):
            return model.summary(tuple(sorted(hashes)))
    for _record in observer.watch(reader):
        pass
    return None


def _layout_findings(
    entry: Entry, dataset: Dataset, subject: str | None, stats: Mapping[str, Any]
) -> Iterator[Finding]:
    """When lines were rejected: whether the file is laid out as something else than a Mark II log."""
    if not stats.get("rejected") or str(stats.get("encoding") or "").startswith("utf-16"):
        return
    try:
        with dataset.open(entry.path) as stream:
            layout = text_layout_problem(stream.read(SNIFF_BYTES))
    except OSError:  # a damaged zip member (the first pass may not have read to its end): no layout hint
        return
    if layout is not None:
        message = f"{layout[1]}; {stats['rejected']} lines rejected"
        yield Finding(layout[0], Severity.ERROR, message, path=entry.path, subject=subject)


def _span_findings(
    entry: Entry, subject: str | None, rule: Mapping[str, Any] | None, observer: LogObserver
) -> Iterator[Finding]:
    """``log-span-unusual`` when the header times span more or less than the rule expects."""
    span = observer.span_minutes
    expected = rule.get("expected_minutes") if rule else None
    if span is None or not expected:
        return
    tolerance = float(rule.get("tolerance_minutes", 5)) if rule else 5.0
    if abs(span - float(expected)) > tolerance:
        yield Finding(
            "log-span-unusual",
            Severity.WARNING,
            f"header times span {span:.1f} minutes; {expected} ± {tolerance:g} expected",
            path=entry.path,
            subject=subject,
            details={
                "first": observer.first.isoformat() if observer.first else None,
                "last": observer.last.isoformat() if observer.last else None,
            },
        )


def _log_facts(
    entry: Entry, subject: str | None, rule: Mapping[str, Any] | None, stats: Mapping[str, Any], observer: LogObserver
) -> Iterator[Fact]:
    """Size, records, span and per-minute activity of a sample's log (activity also for logs of no sample)."""
    if rule and rule.get("expected_minutes"):
        observer.activity.expected_minutes = rule["expected_minutes"]
        observer.activity.tolerance_minutes = float(rule.get("tolerance_minutes", 5))
    activity = observer.activity.fact_value()
    if not subject:
        if activity is not None:
            yield Fact(f"activity:{entry.path}", activity)
        return
    key = rule["name"] if rule else "log"
    yield Fact(f"{key}.bytes", entry.size, subject=subject)
    yield Fact(f"{key}.records", stats.get("records", observer.records), subject=subject)
    span = observer.span_minutes
    if span is not None:
        yield Fact(f"{key}.minutes", round(span, 1), subject=subject)
    if activity is not None:
        yield Fact(f"{key}.activity", activity, subject=subject)


def _tree_items(path: str, subject: str | None, key: str, summary: Mapping[str, Any]) -> Iterator[Finding | Fact]:
    """Tree size facts for the sample, and one info finding listing processes whose parent never started."""
    missing = list(summary.get("missing_parents") or [])
    if missing:
        yield Finding(
            "log-parent-not-started",
            Severity.INFO,
            f"{len(missing)} processes whose parent's start is not in this log (started before recording, or lost)",
            path=path,
            subject=subject,
            details={"count": len(missing), "processes": missing[: MAX_LINES_IN_DETAILS // 20]},
        )
    stops = int(summary.get("stops_before_start_count") or 0)
    if stops:
        listed = list(summary.get("stops_before_start") or [])
        first = listed[0] if listed else {}
        yield Finding(
            "log-stop-before-start",
            Severity.WARNING,
            f"{stops} {'process stops before it starts' if stops == 1 else 'processes stop before they start'}"
            f" (negative lifetime, e.g. {first.get('path')} {first.get('lifetime')}s,"
            f" stop sn {first.get('stop_sn')})",
            path=path,
            subject=subject,
            details={"count": stops, "processes": listed},
        )
    if subject:
        yield Fact(f"{key}.processes", summary.get("processes"), subject=subject)
        yield Fact(f"{key}.missing_parents", len(missing), subject=subject)
        focus = summary.get("focus")
        if isinstance(focus, Mapping):
            yield Fact(f"{key}.sample_tree_processes", focus.get("processes"), subject=subject)
        relations = summary.get("relations") or {}
        if any(relations.values()):
            yield Fact(
                f"{key}.relations",
                ", ".join(f"{name}={count}" for name, count in sorted(relations.items()) if count),
                subject=subject,
            )
