"""Findings: what a check says about the data, as plain data.

A finding is never an exception. Checks *yield* findings; the walker collects them, the report counts them and
the output plugins render them. Every finding carries a stable kebab-case ``code`` that is registered, with a
one-line description and a default severity, through the ``mk2ds_register_codes`` hook, so that ``mk2ds codes``
can list the whole catalog and ``--select``/``--ignore`` can filter by it.

Facts are the other thing a check may yield: small pieces of information about a sample or the dataset
(host name from Sysinfo, tree size, record counts) that belong in the report but are not problems.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CODE_PATTERN", "CodeInfo", "Fact", "Finding", "Severity", "finding_problem"]

#: Codes are kebab-case; third-party codes are namespaced ``plugin/slug``.
CODE_PATTERN = re.compile(r"^([a-z0-9]+(-[a-z0-9]+)*/)?[a-z0-9]+(-[a-z0-9]+)*$")


class Severity(str, enum.Enum):
    """How bad a finding is. Only ``error`` makes a run fail (exit code 1) by default."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem (or notable fact) in the data.

    ``path`` is relative to the dataset root (or the input file as the user named it) and uses ``/``.
    ``line`` and ``column`` are 1-based when known. ``subject`` groups findings in reports; for a dataset it is
    the sample hash the finding belongs to, if any. ``details`` must be JSON-serializable.
    """

    code: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    subject: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    plugin: str | None = None

    def __post_init__(self) -> None:
        if not CODE_PATTERN.match(self.code):
            raise ValueError(f"finding code {self.code!r} is not kebab-case (optionally 'plugin/slug')")
        if not isinstance(self.severity, Severity):
            object.__setattr__(self, "severity", Severity(self.severity))

    def with_plugin(self, plugin: str) -> Finding:
        """Return a copy naming ``plugin`` unless the finding already names one."""
        if self.plugin:
            return self
        return Finding(**{**self.as_fields(), "plugin": plugin})

    def as_fields(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "subject": self.subject,
            "details": self.details,
            "plugin": self.plugin,
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape pinned by ``schemas/finding.schema.json`` (``None`` fields are left out)."""
        data: dict[str, Any] = {"code": self.code, "severity": self.severity.value, "message": self.message}
        for key in ("path", "line", "column", "subject", "plugin"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.details:
            data["details"] = self.details
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            message=data["message"],
            path=data.get("path"),
            line=data.get("line"),
            column=data.get("column"),
            subject=data.get("subject"),
            details=dict(data.get("details") or {}),
            plugin=data.get("plugin"),
        )

    def location(self) -> str:
        """``path:line:column`` as far as known, for terminal output."""
        parts = [self.path or "-"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass(frozen=True)
class Fact:
    """A piece of information for the report, attached to a subject (a sample hash, or ``None`` for the dataset).

    A check that cannot run says so with the dataset fact ``not-run:PLUGIN`` and the reason as its value
    (``Fact("not-run:pe.checks", "no --samples DIR given")``): the report lists it under checks not run.
    """

    key: str
    value: Any
    subject: str | None = None


@dataclass(frozen=True)
class CodeInfo:
    """A registered finding code: what ``mk2ds codes`` prints and what ``--select``/``--ignore`` accept."""

    code: str
    severity: Severity
    description: str
    plugin: str | None = None

    def __post_init__(self) -> None:
        if not CODE_PATTERN.match(self.code):
            raise ValueError(f"finding code {self.code!r} is not kebab-case (optionally 'plugin/slug')")
        if not isinstance(self.severity, Severity):
            object.__setattr__(self, "severity", Severity(self.severity))


def _json_problem(value: object) -> str | None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        return str(error)
    return None


_OPTIONAL_TYPES: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("path", str),
    ("line", int),
    ("column", int),
    ("subject", str),
    ("plugin", str),
)


def finding_problem(item: object) -> str | None:
    """Why a yielded item cannot enter a report (wrong type, wrong field types, non-JSON data), or ``None``."""
    if isinstance(item, Fact):
        if not isinstance(item.key, str) or not (item.subject is None or isinstance(item.subject, str)):
            return "a fact with a key or subject that is not a string"
        problem = _json_problem(item.value)
        return f"fact {item.key!r} has a value that is not JSON data ({problem})" if problem else None
    if not isinstance(item, Finding):
        return f"yielded {type(item).__name__}, expected Finding or Fact"
    if not isinstance(item.message, str):
        return f"finding {item.code!r} has a message of type {type(item.message).__name__}"
    for name, kind in _OPTIONAL_TYPES:
        value = getattr(item, name)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            return f"finding {item.code!r} has a {name} of type {type(value).__name__}"
    if not isinstance(item.details, dict):
        return f"finding {item.code!r} has details of type {type(item.details).__name__}, not a dict"
    problem = _json_problem(item.details)
    return f"finding {item.code!r} has details that are not JSON data ({problem})" if problem else None
