"""Patterns: one systematic problem instead of a hundred identical findings.

A distribution that differs from its profile in one respect (every impfuzzy file named differently, say) makes
the same finding once per sample. Listed one by one, 117 lines hide the one line that matters. A *pattern* is a
finding code that recurs widely enough to be one problem: reports show it once, with its count, how many samples
it touches and the first examples. The findings themselves stay in the report (JSON has every one; the text
report lists them with ``--show-all``).

The rule, kept simple so that it can be explained in one sentence: a code is a pattern when it has at least
:data:`MIN_FINDINGS` findings and they touch at least half of the samples (and at least :data:`MIN_SAMPLES`
of them), or, for findings that belong to no sample, when there are at least :data:`MIN_UNATTRIBUTED` of them.
A finding touches a sample when it is the finding's ``subject`` or, for findings without one (checksum
findings, say), when the sample's id is a part of the finding's path (``impfuzzy/<id>.impfuzzy``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mk2ds.core.findings import Finding

__all__ = ["MIN_FINDINGS", "MIN_SAMPLES", "MIN_UNATTRIBUTED", "Pattern", "find_patterns", "message_shape"]

MIN_FINDINGS = 5
MIN_SAMPLES = 3
MIN_UNATTRIBUTED = 10
#: Examples kept per pattern (the first findings in report order).
EXAMPLES = 3

_HEX = re.compile(r"\b[0-9a-fA-F]{32,}\b")
_PATH_PARTS = re.compile(r"[/\\._\-\s]+")
_NUMBER = re.compile(r"\d+(\.\d+)?")


def message_shape(message: str) -> str:
    """A message with hashes and numbers replaced, so that per-sample variants of one message compare equal."""
    return _NUMBER.sub("N", _HEX.sub("<hash>", message))


@dataclass(frozen=True)
class Pattern:
    """A code that recurs across the dataset; ``examples`` are the first findings (as report dicts)."""

    code: str
    severity: str
    count: int
    samples: int
    sample_total: int
    message: str
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "count": self.count,
            "samples": self.samples,
            "sample_total": self.sample_total,
            "message": self.message,
            "examples": self.examples,
        }


def _sample_of(finding: Finding, known: frozenset[str]) -> str | None:
    if finding.subject:
        return finding.subject
    if not finding.path or not known:
        return None
    return next((part for part in _PATH_PARTS.split(finding.path.lower()) if part in known), None)


def _is_pattern(findings: Sequence[Finding], samples: set[str], sample_total: int) -> bool:
    unattributed = sum(1 for finding in findings if not finding.subject)
    if unattributed >= MIN_UNATTRIBUTED:
        return True
    if len(findings) < MIN_FINDINGS or not samples:
        return False
    return len(samples) >= max(MIN_SAMPLES, math.ceil(sample_total / 2))


def find_patterns(findings: Sequence[Finding], sample_total: int, samples: Sequence[str] = ()) -> list[Pattern]:
    """The patterns among ``findings`` (in report order), worst and most frequent first; ``sample_total`` is the number
    of samples the run knows (the denominator of "most samples"), ``samples`` their ids (to attribute findings
    without a subject by their path)."""
    known = frozenset(sample.lower() for sample in samples)
    by_code: dict[str, list[Finding]] = {}
    touched: dict[str, set[str]] = {}
    for finding in findings:
        by_code.setdefault(finding.code, []).append(finding)
        sample = _sample_of(finding, known)
        if sample:
            touched.setdefault(finding.code, set()).add(sample.lower())
    patterns = []
    for code, members in by_code.items():
        if code == "plugin-error" or not _is_pattern(members, touched.get(code, set()), sample_total):
            continue
        severity = max(members, key=lambda finding: finding.severity.rank).severity.value
        shapes = Counter(message_shape(finding.message) for finding in members)
        common = shapes.most_common(1)[0][0]
        message = next(finding.message for finding in members if message_shape(finding.message) == common)
        examples = []
        for finding in members[:EXAMPLES]:
            example = finding.to_dict()
            example.pop("details", None)
            examples.append(example)
        patterns.append(
            Pattern(
                code=code,
                severity=severity,
                count=len(members),
                samples=len(touched.get(code, set())),
                sample_total=sample_total,
                message=message if len(shapes) == 1 else f"{message} (and {len(shapes) - 1} other wordings)",
                examples=examples,
            )
        )
    rank = {"error": 0, "warning": 1, "info": 2}
    patterns.sort(key=lambda pattern: (rank[pattern.severity], -pattern.count, pattern.code))
    return patterns
