"""The reader's findings that are about a whole log (not one line), and how many are listed per code.

Shared by the reader and by what merges byte ranges of one log read in parts (the engines of ``convert``).
"""

from __future__ import annotations

from collections.abc import Mapping

from mk2ds.core import Finding, Severity

__all__ = [
    "MAX_FINDINGS_PER_CODE",
    "REJECTING_CODES",
    "encoding_detected_finding",
    "offset_unknown_finding",
    "truncation_findings",
]

MAX_FINDINGS_PER_CODE = 100
REJECTING_CODES = (
    "log-unparseable",
    "log-invalid-time",
    "log-duplicate-key",
    "log-reserved-key",
    "log-missing-key",
    "log-encoding-error",
    "log-line-too-long",
)


def offset_unknown_finding(name: str, count: int) -> Finding:
    """The one warning per log about ``count`` zone-less records whose offset is unknown."""
    message = (
        f"{count} zone-less lines with no known UTC offset: outputs that need an instant mark them"
        " (time_offset_source: unknown); give --assume-offset, or convert with --dataset DIR"
    )
    return Finding("time-offset-unknown", Severity.WARNING, message, path=name, details={"count": count})


def encoding_detected_finding(name: str) -> Finding:
    """The info finding of a log that auto-detection decoded as CP932."""
    message = "decoded as CP932: the first non-ASCII lines are not UTF-8 but valid CP932 (use --encoding to force one)"
    return Finding("log-encoding-detected", Severity.INFO, message, path=name, details={"encoding": "cp932"})


def truncation_findings(name: str, counts: Mapping[str, int], listed: int) -> list[Finding]:
    """``log-findings-truncated`` for every code with more than ``listed`` findings in the log ``name``."""
    return [
        Finding(
            "log-findings-truncated",
            Severity.INFO,
            f"{count} {code} findings in this log; the first {listed} are listed",
            path=name,
            details={"code": code, "count": count, "listed": listed},
        )
        for code, count in sorted(counts.items())
        if count > listed
    ]
