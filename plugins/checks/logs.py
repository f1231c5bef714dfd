"""Content checks for Mark II logs found in a dataset.

Every log is read once, streaming, through the ``mk2ds_open_log`` service hook (the reader plugin), and
checked on the way: the reader's own findings (unparseable lines with file:line:column), sequence numbers that
go backwards or repeat, the span of header times against the profile's ``expected_minutes`` (30 for the 30m
logs), and whether a per-sample log mentions the sample's own executable (its hash in a path or command line).
At level ``fast`` only the first line is read.

Times (:mod:`mk2ds.plugins.checks.log_times`): zone-less lines get the offset of the sample's Sysinfo time zone
(collected by :mod:`mk2ds.plugins.checks.sysinfo`) unless ``--assume-offset`` is given; a log that mixes zoned
and zone-less lines, a header offset that disagrees with the Sysinfo time zone, and resolved times that go
backwards by more than ``--time-backwards-tolerance`` seconds are reported.
"""

from __future__ import annotations

import argparse
import io
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO

from mk2ds.core import (
    CodeInfo,
    Dataset,
    Entry,
    Fact,
    Finding,
    OptionGroup,
    Severity,
    VerifyContext,
    check_not_run,
    hookimpl,
)
from mk2ds.plugins.checks.activity import ActivityCounter
from mk2ds.plugins.checks.cross_references import hashes_in
from mk2ds.plugins.checks.log_times import DEFAULT_BACKWARDS_TOLERANCE, TIME_CODES, LogTimeObserver
from mk2ds.plugins.checks.shared import SAMPLES, SYSINFO_TIME_ZONES
from mk2ds.plugins.checks.sysinfo import SysinfoTimeZones
from mk2ds.plugins.reader.blocks import UTF16_BOMS
from mk2ds.plugins.reader.timestamps import parse_offset

#: Individual findings per code and file before they are summarized (the summary keeps the count and lines).
MAX_LISTED = 20
MAX_LINES_IN_DETAILS = 1000
FIELDS_NAMING_FILES = ("psPath", "parentPath", "path", "dstPath", "cmd", "tpsPath", "valStr")


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo("log-empty", Severity.WARNING, "A log file has no records"),
        CodeInfo("log-no-reader", Severity.ERROR, "No plugin could read a file classified as a Mark II log"),
        CodeInfo(
            "log-sn-backwards", Severity.WARNING, "A sequence number (sn) is lower than the one before it in the file"
        ),
        CodeInfo("log-sn-repeated", Severity.WARNING, "A sequence number (sn) repeats the one before it in the file"),
        CodeInfo("log-sn-summary", Severity.WARNING, "More sequence-number problems in a file than listed one by one"),
        CodeInfo(
            "log-span-unusual",
            Severity.WARNING,
            "A log's header times span much more or less than the profile expects (e.g. 30 minutes)",
        ),
        CodeInfo(
            "log-parent-not-started",
            Severity.INFO,
            "Processes whose parent's start is not in the log (placeholders in the process tree)",
        ),
        CodeInfo(
            "log-stop-before-start",
            Severity.WARNING,
            "Processes whose ps/stop is logged before their ps/start (negative lifetime): a clock or logging fault",
        ),
        CodeInfo(
            "log-sample-not-seen",
            Severity.WARNING,
            "A sample's log never names the sample's own file (its hash in a path or command line)",
        ),
        CodeInfo(
            "log-utf16",
            Severity.ERROR,
            "A log is UTF-16 text that the Mark II reader did not read as UTF-16 (no BOM, or CP932 forced): its lines are rejected",
        ),
        CodeInfo(
            "log-cr-line-ends",
            Severity.ERROR,
            "A log's lines end with a lone CR (no LF), so the reader sees one long line",
        ),
        *TIME_CODES,
    ]


def _tolerance(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"a number of seconds, 0 or more, not {text!r}")
    return value


def _offset(text: str) -> str:
    try:
        return parse_offset(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


@hookimpl
def mk2ds_add_verify_options(group: OptionGroup) -> None:
    group.add_argument(
        "--assume-offset",
        type=_offset,
        metavar="OFFSET",
        help="UTC offset for zone-less log lines, e.g. +0900 (default: the sample's Sysinfo time zone)",
    )
    group.add_argument(
        "--time-backwards-tolerance",
        type=_tolerance,
        metavar="SECONDS",
        default=DEFAULT_BACKWARDS_TOLERANCE,
        help=f"report log events whose time goes backwards by more than this (default {DEFAULT_BACKWARDS_TOLERANCE:g} s)",
    )


#: Bytes looked at to tell why a log's lines were rejected.
SNIFF_BYTES = 64 * 1024
#: At level ``fast``, at most this many bytes of a log's first line are read.
FIRST_LINE_BYTES = 1024 * 1024


def text_layout_problem(head: bytes) -> tuple[str, str] | None:
    """``(code, message)`` when the first bytes of a log show UTF-16 text or CR-only line ends, else ``None``.

    Called only for a log with rejected lines that the reader did not read as UTF-16 (its ``stats["encoding"]``):
    the reader transcodes UTF-16 with a BOM, so a BOM here means it was told otherwise (``--encoding cp932``)
    or is another plugin's reader; UTF-16 without a BOM it does not guess.
    """
    sample = head[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        order = "little" if sample.startswith(b"\xff\xfe") else "big"
        return (
            "log-utf16",
            f"UTF-16 ({order}-endian, with BOM) text, not read as UTF-16 (read it with --encoding auto or utf-8)",
        )
    for zeros, order in ((sample[1::2], "little"), (sample[0::2], "big")):
        if len(sample) >= 4 and zeros.count(0) > len(sample) // 4:
            return (
                "log-utf16",
                f"UTF-16 ({order}-endian, no BOM) text; Mark II logs are read as UTF-8 or CP932 (convert with: iconv -f UTF-16{order[0].upper()}E -t UTF-8)",
            )
    if b"\n" not in head and head.count(b"\r") > 1:
        return (
            "log-cr-line-ends",
            "lines end with a lone CR (no LF); the reader splits lines at LF only (convert with: tr '\\r' '\\n')",
        )
    return None


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


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 23:
        return None
    try:
        return datetime.fromisoformat(value[:23])  # local clock time of the host; offsets are per file anyway
    except ValueError:
        return None


class _LogObserver:
    """Watches records stream past and collects the per-file facts and problems."""

    def __init__(
        self, path: str, subject: str | None, sample_hashes: set[str], times: LogTimeObserver | None = None
    ) -> None:
        self.path = path
        self.times = times
        self.subject = subject
        self.sample_hashes = sample_hashes
        self.sample_seen = not sample_hashes
        self.last_sn: int | None = None
        self.problems: dict[str, list[int]] = {"log-sn-backwards": [], "log-sn-repeated": []}
        # ISO strings of equal shape order like the times they name: compare text, parse only at the end.
        self.first_text: str | None = None
        self.last_text: str | None = None
        self.records = 0
        self.activity = ActivityCounter()

    def watch(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for index, record in enumerate(records, start=1):
            self.records += 1
            self.activity.add(record)
            line = record.get("_line", index)
            sn = record.get("sn")
            if isinstance(sn, int):
                if self.last_sn is not None:
                    if sn < self.last_sn:
                        self.problems["log-sn-backwards"].append(int(line))
                    elif sn == self.last_sn:
                        self.problems["log-sn-repeated"].append(int(line))
                self.last_sn = sn
            if self.times is not None:
                self.times.see(record, int(line))
            moment = record.get("time")
            if isinstance(moment, str):
                local = moment[:23]
                if self.first_text is None or local < self.first_text:
                    self.first_text = local
                if self.last_text is None or local > self.last_text:
                    self.last_text = local
            if not self.sample_seen:
                for key in FIELDS_NAMING_FILES:
                    value = record.get(key)
                    if isinstance(value, str) and any(digest in value.lower() for digest in self.sample_hashes):
                        self.sample_seen = True
                        break
            yield record

    def findings(self) -> Iterator[Finding]:
        if self.times is not None:
            yield from self.times.findings()
        for code, lines in self.problems.items():
            what = "lower than" if code == "log-sn-backwards" else "equal to"
            for line in lines[:MAX_LISTED]:
                yield Finding(
                    code,
                    Severity.WARNING,
                    f"sn is {what} the previous record's",
                    path=self.path,
                    line=line,
                    subject=self.subject,
                )
            if len(lines) > MAX_LISTED:
                yield Finding(
                    "log-sn-summary",
                    Severity.WARNING,
                    f"{len(lines) - MAX_LISTED} more lines with sn {what} the previous record's (first {MAX_LISTED} listed)",
                    path=self.path,
                    subject=self.subject,
                    details={"code": code, "count": len(lines), "lines": lines[:MAX_LINES_IN_DETAILS]},
                )

    @property
    def first(self) -> datetime | None:
        return _parse_time(self.first_text)

    @property
    def last(self) -> datetime | None:
        return _parse_time(self.last_text)

    @property
    def span_minutes(self) -> float | None:
        first, last = self.first, self.last
        if first is None or last is None:
            return None
        return (last - first).total_seconds() / 60.0


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


def _first_line(stream: BinaryIO, limit: int = FIRST_LINE_BYTES) -> bytes:
    """The first line of a log (level ``fast``), whole also in UTF-16 with a BOM, where a byte 0x0A is not
    always a line feed and a line feed is two bytes."""
    head = stream.readline(limit)
    codec = UTF16_BOMS.get(head[:2])
    if codec is None:
        return head
    newline = "\n".encode(codec)
    while len(head) < limit and not (len(head) % 2 == 0 and head.endswith(newline)):
        more = stream.read(1) if len(head) % 2 else stream.readline(limit - len(head))
        if not more:
            break
        head += more
    return head


@hookimpl
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterator[Finding]:
    """Say once when the logs' process trees cannot be built (nothing provides ``mk2ds_build_process_tree``)."""
    if (
        context.at_least("full")
        and "mk2log" in context.kinds.values()
        and not context.provided("mk2ds_build_process_tree")
    ):
        yield check_not_run(
            "the logs' process trees (log-parent-not-started, the per-sample tree facts)",
            "mk2ds_build_process_tree",
            "tree.model",
            severity=Severity.WARNING,
        )


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


#: A verification option: when true, the log checks are left to the caller, which runs :func:`check_log` in
#: its own single pass over every log (``mk2ds export`` does, feeding its tables from the same records).
SKIP_LOG_CHECKS_OPTION = "skip_log_checks"

#: ``build_tree(records)``: consumes the records of the single pass and returns a process model (or ``None``).
TreeBuilder = Callable[[Iterable[Mapping[str, Any]]], Any]


@hookimpl
def mk2ds_check_entry(entry: Entry, kind: str, dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    if kind != "mk2log" or context.option(SKIP_LOG_CHECKS_OPTION):
        return
    yield from check_log(entry, dataset, context)


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
            source = stream if context.at_least("full") else io.BytesIO(_first_line(stream))
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
            observer = _LogObserver(entry.path, subject, hashes, _time_observer(entry.path, subject, context))
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


def _sample_hashes(context: VerifyContext, subject: str | None, rule: Mapping[str, Any] | None) -> set[str]:
    """The hashes of the sample a 30-minute log belongs to (the log should mention its own sample)."""
    if not rule or rule.get("name") != "30m-log":
        return set()
    sample = next((item for item in context.get(SAMPLES) or [] if item["id"] == subject), None)
    return {str(sample[key]) for key in ("sha256", "sha1", "md5") if sample and sample.get(key)}


def _one_pass(
    reader: Any, observer: _LogObserver, context: VerifyContext, build_tree: TreeBuilder | None, hashes: set[str]
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
    entry: Entry, subject: str | None, rule: Mapping[str, Any] | None, observer: _LogObserver
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
    entry: Entry, subject: str | None, rule: Mapping[str, Any] | None, stats: Mapping[str, Any], observer: _LogObserver
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
