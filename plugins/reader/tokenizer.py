"""The Mark II line grammar (``docs/format.md`` §1), as a small library.

One line is ``HEADER SP FIELD *(SP FIELD)`` where the header is ``MM/DD/YYYY HH:MM:SS.mmm`` optionally
followed by `` ±HHMM``, and a field is ``key=value``. A value is either *quoted* (``"..."``, where ``""``
stands for one ``"`` and a single ``"`` closes the value) or *bare* (everything up to the next space).
Backslash is never an escape, and ``key=value`` text inside quotes is never split.

Two implementations of the same grammar live here, on purpose:

* :func:`tokenize_line` is the *reference*: a left-to-right scanner that knows the column of every field
  and explains a failure with a column and a one-line reason (:class:`LineSyntaxError`). It also tolerates
  one deviation seen in real data (the dataset's presentation slides show ``com="PC1"  psGUID=…``): a run of several spaces
  between fields is accepted and its column recorded in :attr:`ParsedLine.extra_spaces`, so the reader can
  keep the record and say so. A trailing space is still an error (nothing in real data shows it).
* :data:`HEADER_PATTERN` and :data:`FIELD_PATTERN` are the *fast path* used by the reader: one regular
  expression for the header and one ``findall`` over the fields. They accept exactly the lines that
  :func:`tokenize_line` accepts without tolerance; everything else goes to the reference scanner. The tests
  check with hypothesis that both agree on arbitrary text.

This module implements no hooks.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field

from mk2ds.core.schemas import load_schema

__all__ = [
    "FIELD_PATTERN",
    "HEADER_PATTERN",
    "INTEGER_FIELDS",
    "KEY_PATTERN",
    "MAX_INTEGER_DIGITS",
    "NO_VALUE_MARKERS",
    "Field",
    "LineSyntaxError",
    "ParsedLine",
    "integer_value",
    "iso_date",
    "iso_offset",
    "iso_time",
    "normalize_offset",
    "tokenize_line",
]

#: Fields whose canonical decimal values become JSON integers; the list is part of ``record.schema.json``.
INTEGER_FIELDS: frozenset[str] = frozenset(load_schema("record")["x-integer-fields"])

#: Python refuses to convert longer digit strings (``sys.get_int_max_str_digits``); such a value is rejected.
MAX_INTEGER_DIGITS = 4300

#: The product's documented "no value" forms (§1.4): kept as text in integer fields, and not reported.
NO_VALUE_MARKERS: frozenset[str] = frozenset({"", "-"})

KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Fast path, header: date, time of day in range, optional zone (group 1), then a space must follow.
HEADER_PATTERN = re.compile(
    r"[0-9]{2}/[0-9]{2}/[0-9]{4} (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}(?: ([+-][0-9]{4}))?(?= )"
)

#: Fast path, fields: `` key=value`` (with its leading separator) where the value ends at a space or the end.
#: ``findall`` over the text after the header gives ``(key, raw_value)`` pairs; the reader checks that the
#: pairs tile the text exactly (no gaps), which makes this equivalent to the strict grammar.
FIELD_PATTERN = re.compile(r' ([A-Za-z_][A-Za-z0-9_]*)=("[^"]*(?:""[^"]*)*"|[^ "][^ ]*|)(?= |\Z)')

_CANONICAL_INTEGER = re.compile(r"(?:0|-?[1-9][0-9]*)\Z")
_HEADER_TEMPLATE = "00/00/0000 00:00:00.000"
_OFFSET = re.compile(r"([+-])([0-9]{2}):?([0-9]{2})\Z")


class LineSyntaxError(ValueError):
    """A line that does not follow the grammar, or whose header names an impossible time.

    ``column`` is 1-based and counts characters of the decoded line. ``code`` is the finding code the
    reader reports (``log-unparseable`` or ``log-invalid-time``).
    """

    def __init__(self, reason: str, column: int, code: str = "log-unparseable") -> None:
        super().__init__(f"column {column}: {reason}")
        self.reason = reason
        self.column = column
        self.code = code


@dataclass(frozen=True)
class Field:
    """One ``key=value`` of a line: the raw value as written, the value it stands for, and where it is."""

    key: str
    raw: str
    value: str
    quoted: bool
    column: int


@dataclass(frozen=True)
class ParsedLine:
    """A tokenized line. ``date`` is ``MM/DD/YYYY``, ``clock`` ``HH:MM:SS.mmm``, ``zone`` ``±HHMM`` or ``None``.

    ``extra_spaces`` holds, for every run of more than one space that was tolerated, the 1-based column of
    its second space (the first one too many).
    Joining ``header`` and ``" " + key + "=" + raw`` for each field gives the line back when there were no
    extra spaces.
    """

    date: str
    clock: str
    zone: str | None
    fields: tuple[Field, ...]
    extra_spaces: tuple[int, ...] = field(default=())

    @property
    def header(self) -> str:
        return f"{self.date} {self.clock}" + (f" {self.zone}" if self.zone else "")


def _header_error(text: str) -> LineSyntaxError:
    for index, expected in enumerate(_HEADER_TEMPLATE):
        char = text[index] if index < len(text) else None
        if expected == "0":
            if char is None or not ("0" <= char <= "9"):
                found = "the end of the line" if char is None else repr(char)
                return LineSyntaxError(f"header: expected a digit of MM/DD/YYYY HH:MM:SS.mmm, found {found}", index + 1)
        elif char != expected:
            found = "the end of the line" if char is None else repr(char)
            return LineSyntaxError(
                f"header: expected {expected!r} of MM/DD/YYYY HH:MM:SS.mmm, found {found}", index + 1
            )
    raise AssertionError("header matched the template")  # pragma: no cover - only called on a mismatch


def _parse_header(text: str) -> tuple[int, str | None]:
    """Return the index just after the header and the zone (or ``None``); raise on a malformed header."""
    if len(text) < 23 or not all(
        ("0" <= char <= "9") if expected == "0" else char == expected
        for char, expected in zip(text, _HEADER_TEMPLATE, strict=False)
    ):
        raise _header_error(text)
    if len(text) == 23:
        raise LineSyntaxError("no fields after the header", 24)
    if text[23] != " ":
        raise LineSyntaxError(f"expected a space after the time, found {text[23]!r}", 24)
    if text[24:25] in ("+", "-"):
        zone = text[24:29]
        if len(zone) != 5 or not (zone[1:].isascii() and zone[1:].isdigit()) or text[29:30].isdigit():
            raise LineSyntaxError("malformed time-zone offset (expected +HHMM or -HHMM)", 25)
        if text[29:30] not in ("", " "):
            raise LineSyntaxError(f"expected a space after the time-zone offset, found {text[29]!r}", 30)
        return 29, zone
    return 23, None


def _parse_field(text: str, start: int) -> tuple[Field, int]:
    key_match = KEY_PATTERN.match(text, start)
    if key_match is None:
        raise LineSyntaxError(f"a key must start with a letter or '_', found {text[start]!r}", start + 1)
    key = key_match.group()
    position = key_match.end()
    if position >= len(text) or text[position] != "=":
        found = "the end of the line" if position >= len(text) else repr(text[position])
        raise LineSyntaxError(f"key {key!r} must be followed by '=', found {found}", position + 1)
    position += 1
    if text.startswith('"', position):
        search = position + 1
        while True:
            close = text.find('"', search)
            if close < 0:
                raise LineSyntaxError(f"quoted value of {key!r} is not closed", position + 1)
            if text.startswith('"', close + 1):
                search = close + 2
                continue
            break
        end = close + 1
        if end < len(text) and text[end] != " ":
            raise LineSyntaxError(
                f"quoted value of {key!r} must be followed by a space or the end of the line, found {text[end]!r}",
                end + 1,
            )
        raw = text[position:end]
        return Field(key, raw, raw[1:-1].replace('""', '"'), True, start + 1), end
    end = text.find(" ", position)
    if end < 0:
        end = len(text)
    raw = text[position:end]
    return Field(key, raw, raw, False, start + 1), end


def tokenize_line(text: str, *, tolerate_extra_spaces: bool = True) -> ParsedLine:
    """Tokenize one line (without its terminator) by the reference grammar.

    :param tolerate_extra_spaces: accept runs of several spaces between the header and the fields and between
        fields (recorded in ``extra_spaces``); with ``False`` exactly one space is required.
    :raises LineSyntaxError: with the column and reason of the first violation.
    """
    position, zone = _parse_header(text)
    fields: list[Field] = []
    extra_spaces: list[int] = []
    length = len(text)
    while position < length:
        run_end = position + 1
        while run_end < length and text[run_end] == " ":
            run_end += 1
        if run_end == length:
            reason = "trailing space after the last field" if fields else "no fields after the header"
            raise LineSyntaxError(reason, position + 1)
        if run_end - position > 1:
            if not tolerate_extra_spaces:
                raise LineSyntaxError("more than one space between fields", position + 2)
            extra_spaces.append(position + 2)
        parsed, position = _parse_field(text, run_end)
        fields.append(parsed)
    if not fields:
        raise LineSyntaxError("no fields after the header", position + 1)
    return ParsedLine(text[:10], text[11:23], zone, tuple(fields), tuple(extra_spaces))


def iso_date(date: str) -> str | None:
    """``MM/DD/YYYY`` to ``YYYY-MM-DD``, or ``None`` when no such day exists (month 13, 30 February, year 0)."""
    month, day, year = int(date[0:2]), int(date[3:5]), int(date[6:10])
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return f"{date[6:10]}-{date[0:2]}-{date[3:5]}"


def iso_offset(zone: str) -> str | None:
    """``+0900`` to ``+09:00``, or ``None`` when hours exceed 23 or minutes 59."""
    hours, minutes = int(zone[1:3]), int(zone[3:5])
    if hours > 23 or minutes > 59:
        return None
    return f"{zone[0]}{zone[1:3]}:{zone[3:5]}"


def iso_time(date: str, clock: str, zone: str | None, assume_offset: str | None = None) -> str:
    """The record ``time``: ``2018-03-01T19:55:17.836+09:00``, or without offset for a zone-less header.

    :param assume_offset: ``+09:00``-style offset used when the header has no zone.
    :raises LineSyntaxError: code ``log-invalid-time`` for a date, time of day or offset that cannot exist.
    """
    day = iso_date(date)
    if day is None:
        raise LineSyntaxError(f"no such date: {date} (MM/DD/YYYY)", 1, "log-invalid-time")
    if clock[0:2] > "23" or clock[3:5] > "59" or clock[6:8] > "59":
        raise LineSyntaxError(f"no such time of day: {clock}", 12, "log-invalid-time")
    if zone is None:
        offset = assume_offset or ""
    else:
        converted = iso_offset(zone)
        if converted is None:
            raise LineSyntaxError(f"no such time-zone offset: {zone}", 25, "log-invalid-time")
        offset = converted
    return f"{day}T{clock}{offset}"


def normalize_offset(text: str) -> str:
    """An offset given by a user (``+0900``, ``+09:00``, ``-0500``, ``Z``) as ``+09:00``.

    :raises ValueError: the text is not an offset within ±23:59.
    """
    value = text.strip()
    if value.upper() in ("Z", "UTC"):
        return "+00:00"
    match = _OFFSET.match(value)
    if match is None or int(match[2]) > 23 or int(match[3]) > 59:
        raise ValueError(f"not a UTC offset: {text!r} (expected e.g. +0900 or +09:00)")
    return f"{match[1]}{match[2]}:{match[3]}"


def integer_value(text: str) -> int | None:
    """The integer a canonical decimal (``0|-?[1-9][0-9]*``) stands for, else ``None``.

    :raises ValueError: the text is a canonical decimal with more than :data:`MAX_INTEGER_DIGITS` digits.
    """
    if _CANONICAL_INTEGER.match(text) is None:
        return None
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"{len(text.lstrip('-'))} digits, more than {MAX_INTEGER_DIGITS}")
    return int(text)
