"""Merging the parts of a file converted in byte ranges (a library of the engine, :mod:`mk2ds.plugins.convert.engine`).

Part files are appended in file order (:func:`append_file`, in the kernel where it can), statistics are summed
(:func:`merged_stats`) and findings follow the reader's per-file rules (:func:`merged_findings`).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from typing import Any, BinaryIO

from mk2ds.core import Finding
from mk2ds.plugins.convert.jobs import JobResult
from mk2ds.plugins.reader import (
    MAX_FINDINGS_PER_CODE,
    encoding_detected_finding,
    offset_unknown_finding,
    truncation_findings,
)

__all__ = ["append_file", "merged_findings", "merged_stats"]


def append_file(path: str, target: BinaryIO) -> int:
    """Append the file ``path`` to ``target``, in the kernel where it can (``copy_file_range``)."""
    target.flush()
    with open(path, "rb") as source:
        size = os.fstat(source.fileno()).st_size
        copied = 0
        copy_range = getattr(os, "copy_file_range", None)
        if copy_range is not None:
            try:
                while copied < size:
                    done = copy_range(source.fileno(), target.fileno(), size - copied)
                    if done == 0:
                        break
                    copied += done
            except OSError:
                pass  # another file system, or no support: the rest the ordinary way
        if copied < size:
            source.seek(copied)
            shutil.copyfileobj(source, target, 8 << 20)
            target.flush()
    return size


def merged_stats(outcomes: list[JobResult]) -> dict[str, Any]:
    """The file's statistics: counts summed over the parts, ``eof_marker`` from the last, the rest from the first."""
    stats = dict(outcomes[0].stats)
    for key in ("lines", "records", "rejected", "blank", "bytes", "time_offset_unknown"):
        stats[key] = sum(int(outcome.stats.get(key, 0)) for outcome in outcomes)
    stats["eof_marker"] = bool(outcomes[-1].stats.get("eof_marker"))
    return stats


def merged_findings(name: str, detected_cp932: bool, outcomes: list[JobResult]) -> list[Finding]:
    """The reader's per-file rules over the parts' findings (each part listed at most 100 per code)."""
    counts: Counter[str] = Counter()
    listed: Counter[str] = Counter()
    findings: list[Finding] = []
    for outcome in outcomes:
        counts.update(outcome.finding_counts)
        for finding in outcome.findings:
            listed[finding.code] += 1
            if listed[finding.code] <= MAX_FINDINGS_PER_CODE:
                findings.append(finding)
    if detected_cp932:
        detected = encoding_detected_finding(name)
        counts[detected.code] += 1
        findings.append(detected)
    unknown = sum(int(outcome.stats.get("time_offset_unknown", 0)) for outcome in outcomes)
    if unknown:
        findings.append(offset_unknown_finding(name, unknown))
    return findings + truncation_findings(name, counts, MAX_FINDINGS_PER_CODE)
