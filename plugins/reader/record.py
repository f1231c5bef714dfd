"""One Mark II line to one record by the reference tokenizer, with every problem explained (a library).

This is the careful path of the reader (:mod:`mk2ds.plugins.reader`), used for every line the fast path
does not take, and the definition the fast path is tested against. :func:`record_from_line` returns the
record (``None`` when the line is rejected) and the problems, each with a finding code and a column:

* a line that does not follow the grammar (``log-unparseable``) or whose header time cannot exist
  (``log-invalid-time``), a repeated key (``log-duplicate-key``, every value in the details), a key the
  record uses itself (``log-reserved-key``: ``time``, ``time_offset``/``time_offset_source`` on a zone-less
  line, ``_file``/``_line`` with provenance, the
  :data:`LOSSLESS_KEYS` with ``lossless``), a line that is not an event record because ``sn``, ``evt`` or
  ``subEvt`` is missing, empty or the no-value marker ``-`` (``log-missing-key``), an integer too long to
  convert: the line is rejected, with exactly one error;
* a non-integer in an integer field (``log-not-integer``, kept as text, the message says why: a leading zero,
  a plus sign, ...; ``""`` and ``"-"`` are the product's no-value markers and are not reported), a negative
  ``sn`` (``log-sn-negative``) and runs of several spaces (``log-extra-space``): the record is kept.

With ``lossless=True`` the record also carries what the line's text needs besides its values, so that
:func:`mk2ds.plugins.convert.format.format_record` writes the line back byte for byte: ``_quoted`` (the keys
whose values were quoted, in line order; always present), ``_spaces`` (``{key: n}`` for every field preceded by
``n > 1`` spaces) and ``_header`` (the header text, only when it has no offset: ``time`` alone cannot say
whether an offset was written). Integers need nothing: only canonical decimals become numbers.
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
    Field,
    LineSyntaxError,
    ParsedLine,
    integer_value,
    iso_time,
    tokenize_line,
)

__all__ = ["LOSSLESS_KEYS", "REQUIRED_KEYS", "LineProblem", "integer_problem", "record_from_line"]

#: Keys every event record has, with a value (not empty, not the no-value marker ``-``).
REQUIRED_KEYS = ("sn", "evt", "subEvt")
#: Keys a lossless record adds (see the module documentation); a line with one of them is rejected.
LOSSLESS_KEYS = ("_quoted", "_spaces", "_header")

UNKNOWN_OFFSET: Mapping[str, str] = {"time_offset_source": "unknown"}


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with a line: a finding code and severity, a message, the 1-based column, details."""

    code: str
    severity: Severity
    message: str
    column: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _added_keys(
    zone: str | None, zone_less: Mapping[str, str] | None, provenance: bool
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The keys the record gets after ``time``, and every key the line may not have itself."""
    added = dict(UNKNOWN_OFFSET if zone_less is None else zone_less) if zone is None else {}
    return added, ("time", *(OFFSET_KEYS if added else ()), *(("_file", "_line") if provenance else ()))


def integer_problem(value: str) -> str:
    """Why ``value`` is not a canonical decimal integer, in a few words (for ``log-not-integer``)."""
    digits = value[1:] if value[:1] in "+-" else value
    if digits.isascii() and digits.isdigit():
        if value[:1] == "+":
            return "has a plus sign"
        if value[:1] == "-" and not digits.strip("0"):
            return "is a negative zero"
        return "has a leading zero"
    if value.strip() != value:
        return "has spaces around it"
    return "is not a decimal integer"


def _missing_key(parsed: ParsedLine) -> LineProblem | None:
    """``log-missing-key`` when one of :data:`REQUIRED_KEYS` is absent or has no value, else ``None``."""
    found = {item.key: item for item in parsed.fields if item.key in REQUIRED_KEYS}
    for key in REQUIRED_KEYS:
        item = found.get(key)
        if item is None:
            message = f"no {key!r}: not an event record (sn, evt and subEvt are required); line rejected"
            return LineProblem("log-missing-key", Severity.ERROR, message, None, {"key": key})
        if item.value in NO_VALUE_MARKERS:
            message = f"{key!r} has no value ({item.raw!r}): not an event record (sn, evt and subEvt are required); line rejected"
            return LineProblem(
                "log-missing-key", Severity.ERROR, message, item.column, {"key": key, "value": item.value}
            )
    return None


def _lossless_fields(parsed: ParsedLine, line: str) -> dict[str, Any]:
    """``_quoted``, ``_spaces`` and ``_header`` of a lossless record (see the module documentation)."""
    extra: dict[str, Any] = {"_quoted": [item.key for item in parsed.fields if item.quoted]}
    if parsed.extra_spaces:
        spaces: dict[str, int] = {}
        end = len(parsed.header)
        for item in parsed.fields:
            gap = item.column - 1 - end
            if gap > 1:
                spaces[item.key] = gap
            end = item.column - 1 + len(item.key) + 1 + len(item.raw)
        extra["_spaces"] = spaces
    if parsed.zone is None:
        extra["_header"] = line[:23]
    return extra


def record_from_line(
    line: str,
    number: int,
    *,
    zone_less: Mapping[str, str] | None = None,
    provenance: bool = False,
    name: str = "",
    lossless: bool = False,
) -> tuple[dict[str, Any] | None, list[LineProblem]]:
    """Convert one line (without terminator); see the module documentation.

    :param number: the line number, for ``_line``. :param name: the file name, for ``_file``.
    :param zone_less: the keys a zone-less record gets after ``time`` (``time_offset``,
        ``time_offset_source``: :func:`mk2ds.plugins.reader.timestamps.offset_fields`); by default
        ``time_offset_source: unknown``.
    :param lossless: add ``_quoted`` (and ``_spaces``, ``_header`` when needed) for a byte-exact round trip.
    """
    try:
        parsed = tokenize_line(line)
        time = iso_time(parsed.date, parsed.clock, parsed.zone)
    except LineSyntaxError as error:
        return None, [LineProblem(error.code, Severity.ERROR, f"{error.reason}; line rejected", error.column)]
    added, reserved = _added_keys(parsed.zone, zone_less, provenance)
    if lossless:
        reserved += LOSSLESS_KEYS
    rejection = _duplicate_key(parsed) or _reserved_key(parsed, reserved) or _missing_key(parsed)
    if rejection is not None:
        return None, [rejection]
    record: dict[str, Any] = {"time": time, **added}
    problems: list[LineProblem] = []
    for item in parsed.fields:
        value, problem = _field_value(item)
        if value is None:
            return None, [problem] if problem else []
        if problem is not None:
            problems.append(problem)
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
    if lossless:
        record.update(_lossless_fields(parsed, line))
    return record, problems


def _duplicate_key(parsed: ParsedLine) -> LineProblem | None:
    counts = Counter(item.key for item in parsed.fields)
    repeated = [key for key, count in counts.items() if count > 1]
    if not repeated:
        return None
    occurrences = [item for item in parsed.fields if item.key == repeated[0]]
    return LineProblem(
        "log-duplicate-key",
        Severity.ERROR,
        f"key {repeated[0]!r} occurs {len(occurrences)} times; line rejected",
        occurrences[1].column,
        {"keys": {key: [item.value for item in parsed.fields if item.key == key] for key in repeated}},
    )


def _reserved_key(parsed: ParsedLine, reserved: tuple[str, ...]) -> LineProblem | None:
    clash = next((item for item in parsed.fields if item.key in reserved), None)
    if clash is None:
        return None
    message = f"key {clash.key!r} would overwrite the record's own {clash.key!r}; line rejected"
    return LineProblem(
        "log-reserved-key", Severity.ERROR, message, clash.column, {"key": clash.key, "value": clash.value}
    )


def _field_value(item: Field) -> tuple[Any, LineProblem | None]:
    """The record value of one field and its problem; value ``None``: the line is rejected (the problem says why)."""
    value: Any = item.value
    if item.key not in INTEGER_FIELDS or value in NO_VALUE_MARKERS:
        return value, None
    try:
        converted = integer_value(value)
    except ValueError as error:
        return None, LineProblem(
            "log-unparseable", Severity.ERROR, f"integer {item.key!r} has {error}; line rejected", item.column
        )
    if converted is None:
        message = f"{item.key} {integer_problem(value)}: {value[:40]!r}; kept as text"
        return value, LineProblem(
            "log-not-integer", Severity.WARNING, message, item.column, {"key": item.key, "value": value[:200]}
        )
    if item.key == "sn" and converted < 0:
        return converted, LineProblem(
            "log-sn-negative", Severity.WARNING, f"sn is negative: {converted}", item.column, {"value": converted}
        )
    return converted, None
