"""One Mark II line to one record by the reference tokenizer, with every problem explained (a library).

This is the careful path of the reader (:mod:`mk2ds.plugins.reader`), used for every line the fast path
does not take, and the definition the fast path is tested against. :func:`record_from_line` returns the
record (``None`` when the line is rejected) and the problems, each with a finding code and a column:

* a line that does not follow the grammar (``log-unparseable``) or whose header time cannot exist
  (``log-invalid-time``), a repeated key (``log-duplicate-key``, every value in the details), a key the
  record uses itself (``log-reserved-key``: ``time``, ``time_offset``/``time_offset_source`` on a zone-less
  line, and ``_file``/``_line`` with provenance), an integer
  too long to convert: the line is rejected, with exactly one error;
* a non-integer in an integer field (``log-not-integer``, kept as text; ``""`` and ``"-"`` are the product's
  no-value markers and are not reported) and runs of several spaces (``log-extra-space``): the record is kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mk2ds.core.findings import Severity
from mk2ds.plugins.reader.timestamps import OFFSET_KEYS
from mk2ds.plugins.reader.tokenizer import (
    INTEGER_FIELDS,
    NO_VALUE_MARKERS,
    LineSyntaxError,
    integer_value,
    iso_time,
    tokenize_line,
)

__all__ = ["LineProblem", "record_from_line"]

UNKNOWN_OFFSET: Mapping[str, str] = {"time_offset_source": "unknown"}


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with a line: a finding code and severity, a message, the 1-based column, details."""

    code: str
    severity: Severity
    message: str
    column: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _added_keys(zone: str | None, zone_less: Mapping[str, str] | None, provenance: bool) -> tuple[dict[str, str], tuple[str, ...]]:
    """The keys the record gets after ``time``, and every key the line may not have itself."""
    added = dict(UNKNOWN_OFFSET if zone_less is None else zone_less) if zone is None else {}
    return added, ("time", *(OFFSET_KEYS if added else ()), *(("_file", "_line") if provenance else ()))


def record_from_line(
    line: str,
    number: int,
    *,
    zone_less: Mapping[str, str] | None = None,
    provenance: bool = False,
    name: str = "",
) -> tuple[dict[str, Any] | None, list[LineProblem]]:
    """Convert one line (without terminator); see the module documentation.

    :param number: the line number, for ``_line``. :param name: the file name, for ``_file``.
    :param zone_less: the keys a zone-less record gets after ``time`` (``time_offset``,
        ``time_offset_source``: :func:`mk2ds.plugins.reader.timestamps.offset_fields`); by default
        ``time_offset_source: unknown``.
    """
    try:
        parsed = tokenize_line(line)
        time = iso_time(parsed.date, parsed.clock, parsed.zone)
    except LineSyntaxError as error:
        return None, [LineProblem(error.code, Severity.ERROR, f"{error.reason}; line rejected", error.column)]
    counts = Counter(item.key for item in parsed.fields)
    repeated = [key for key, count in counts.items() if count > 1]
    if repeated:
        occurrences = [item for item in parsed.fields if item.key == repeated[0]]
        problem = LineProblem(
            "log-duplicate-key",
            Severity.ERROR,
            f"key {repeated[0]!r} occurs {len(occurrences)} times; line rejected",
            occurrences[1].column,
            {"keys": {key: [item.value for item in parsed.fields if item.key == key] for key in repeated}},
        )
        return None, [problem]
    added, reserved = _added_keys(parsed.zone, zone_less, provenance)
    clash = next((item for item in parsed.fields if item.key in reserved), None)
    if clash is not None:
        message = f"key {clash.key!r} would overwrite the record's own {clash.key!r}; line rejected"
        return None, [LineProblem("log-reserved-key", Severity.ERROR, message, clash.column, {"key": clash.key, "value": clash.value})]
    record: dict[str, Any] = {"time": time, **added}
    problems: list[LineProblem] = []
    for item in parsed.fields:
        value: Any = item.value
        if item.key in INTEGER_FIELDS and value not in NO_VALUE_MARKERS:
            try:
                converted = integer_value(value)
            except ValueError as error:
                return None, [LineProblem("log-unparseable", Severity.ERROR, f"integer {item.key!r} has {error}; line rejected", item.column)]
            if converted is None:
                problems.append(
                    LineProblem(
                        "log-not-integer",
                        Severity.WARNING,
                        f"{item.key} is not a decimal integer: {value[:40]!r}; kept as text",
                        item.column,
                        {"key": item.key, "value": value[:200]},
                    )
                )
            else:
                value = converted
        record[item.key] = value
    if parsed.extra_spaces:
        problems.append(
            LineProblem(
                "log-extra-space",
                Severity.INFO,
                f"{len(parsed.extra_spaces)} run(s) of several spaces between fields; tolerated, record kept",
                parsed.extra_spaces[0],
                {"columns": list(parsed.extra_spaces)},
            )
        )
    if provenance:
        record["_file"] = name
        record["_line"] = number
    return record, problems
