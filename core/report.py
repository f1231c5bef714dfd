"""The report of a run: findings, facts and statistics, plus the stable exit codes.

The JSON form (``Report.to_dict``) is pinned by ``schemas/report.schema.json``; report output plugins
receive that dict and nothing else, so they never depend on core internals.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mk2ds.core.findings import Fact, Finding, Severity
from mk2ds.core.patterns import find_patterns

__all__ = ["REPORT_FORMAT_VERSION", "ExitCode", "Report", "finding_sort_key"]

REPORT_FORMAT_VERSION = 1


#: Findings that mean mk2ds or a plugin failed (exit code 3), whatever their severity filter says.
INTERNAL_ERROR_CODES = frozenset({"plugin-error", "plugin-timeout"})


class ExitCode(enum.IntEnum):
    """Exit codes of every ``mk2ds`` command. Stable: scripts and CI may rely on them."""

    #: Nothing at or above the failing severity (errors by default) was found.
    OK = 0
    #: The data has problems: at least one finding at the failing severity.
    FINDINGS = 1
    #: The command line was wrong, or an input could not be opened at all.
    USAGE_ERROR = 2
    #: A plugin or mk2ds itself failed (``plugin-error``, ``plugin-timeout`` findings, or an uncaught
    #: exception); the report may be incomplete.
    INTERNAL_ERROR = 3
    #: Interrupted by the user (Ctrl-C).
    INTERRUPTED = 130


def finding_sort_key(finding: Finding) -> tuple[Any, ...]:
    """A total, deterministic order: serial and parallel runs print findings identically."""
    return (
        finding.path or "",
        finding.line if finding.line is not None else -1,
        finding.column if finding.column is not None else -1,
        finding.code,
        finding.message,
        finding.subject or "",
    )


@dataclass
class Report:
    """Findings and facts of one run.

    ``command`` names the command (``verify``, ``convert``, ...); ``target`` describes what was examined;
    ``stats`` holds counts the command wants to show; ``facts`` maps subject (``"dataset"`` or a sample id)
    to key/value facts; ``subjects`` lists the samples known to the run (so samples without findings show).
    ``codes`` describes the finding codes (severity, description, plugin) and ``checks`` which checks ran and
    which did not (and why); both are filled by ``verify`` and left out of the document when empty.
    """

    command: str
    target: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    subjects: list[str] = field(default_factory=list)
    tool: dict[str, Any] = field(default_factory=dict)
    fail_on: Severity = Severity.ERROR
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)

    def add(self, items: Iterable[Finding | Fact]) -> None:
        for item in items:
            if isinstance(item, Finding):
                self.findings.append(item)
            else:
                self.add_fact(item)

    def add_fact(self, fact: Fact) -> None:
        self.facts.setdefault(fact.subject or "dataset", {})[fact.key] = fact.value

    def counts(self) -> dict[str, int]:
        counter = Counter(finding.severity.value for finding in self.findings)
        return {severity.value: counter.get(severity.value, 0) for severity in Severity}

    @property
    def internal_error(self) -> bool:
        return any(finding.code in INTERNAL_ERROR_CODES for finding in self.findings)

    @property
    def valid(self) -> bool:
        return not any(finding.severity.rank >= self.fail_on.rank for finding in self.findings)

    def exit_code(self) -> ExitCode:
        if self.internal_error:
            return ExitCode.INTERNAL_ERROR
        return ExitCode.OK if self.valid else ExitCode.FINDINGS

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=finding_sort_key)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document pinned by ``schemas/report.schema.json``."""
        findings = self.sorted_findings()
        by_subject: dict[str, Counter[str]] = {}
        for finding in findings:
            if finding.subject:
                by_subject.setdefault(finding.subject, Counter())[finding.severity.value] += 1
        subjects = list(dict.fromkeys([*self.subjects, *sorted(by_subject)]))
        samples = []
        for subject in subjects:
            counter = by_subject.get(subject, Counter())
            samples.append(
                {
                    "id": subject,
                    "findings": {severity.value: counter.get(severity.value, 0) for severity in Severity},
                    "facts": self.facts.get(subject, {}),
                }
            )
        document: dict[str, Any] = {
            "report_format": REPORT_FORMAT_VERSION,
            "command": self.command,
            "tool": self.tool,
            "target": self.target,
            "valid": self.valid,
            "exit_code": int(self.exit_code()),
            "fail_on": self.fail_on.value,
            "summary": self.counts(),
            "stats": self.stats,
            "facts": self.facts.get("dataset", {}),
            "samples": samples,
            "patterns": [pattern.to_dict() for pattern in find_patterns(findings, len(samples), subjects)],
            "findings": [finding.to_dict() for finding in findings],
        }
        if self.checks:
            document["checks"] = self.checks
        used = {finding.code for finding in findings}
        codes = {code: info for code, info in sorted(self.codes.items()) if code in used}
        if codes:
            document["codes"] = codes
        return document
