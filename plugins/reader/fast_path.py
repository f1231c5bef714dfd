"""The reader's pure-Python fast path: the common lines of a decoded block → records, by regular expression.

:class:`FastPath` converts every *common, well-formed* line inline (the hot loop of the pure-Python reader:
:data:`~mk2ds.plugins.reader.tokenizer.HEADER_PATTERN`, one ``findall`` of
:data:`~mk2ds.plugins.reader.tokenizer.FIELD_PATTERN`, integer fields, the required keys) and hands every other
line to the caller's fallback, the reference path that explains the problem. It never decides that a line is
wrong: declining costs speed, never correctness (the agreement tests compare it with the reference). When the
compiled extension is built (:mod:`mk2ds.plugins.reader.compiled`), it takes this path's place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mk2ds.plugins.reader.tokenizer import (
    FIELD_PATTERN,
    HEADER_PATTERN,
    INTEGER_FIELDS,
    MAX_INTEGER_DIGITS,
    NO_VALUE_MARKERS,
    iso_date,
    iso_offset,
)

__all__ = ["FastPath", "Fallback"]

#: A line the fast path declines (blank lines too): ``(line number, line, index in the block)`` → its records:
#: the one record of the line, or none when the line is blank or rejected.
Fallback = Callable[[int, str, int], "list[dict[str, Any]]"]

#: ``sn``/``evt``/``subEvt`` values that the fast path leaves to the reference path (absent, empty, no-value
#: marker). ``sn`` is an integer field: after the integer step it is an ``int`` or one of these.
_NO_EVENT = frozenset({None, "", "-"})

#: The integer-field values the fast path accepts besides a decimal that starts with 1-9: ``0`` (as ``int``)
#: and the no-value markers (kept as text). Every other value goes to the reference path.
_KEPT_AS_IS: dict[str, int | str] = {"0": 0, **{marker: marker for marker in NO_VALUE_MARKERS}}


def _reference_path_only(line: str) -> None:
    """The fast path's header match with ``lossless``: no match, so every line takes the reference path."""


#: What the fast path needs per header date and zone: the start of ``time`` (``YYYY-MM-DDT``; ``None`` for an
#: impossible date or offset), the offset text that ends ``time``, the keys a zone-less record gets after
#: ``time``, and a key whose presence in the line clashes with them without changing the record's length
#: (``time_offset`` when only ``time_offset_source`` is added).
_Stamp = tuple[str | None, str, dict[str, str], str | None]


class _StampCache(dict):  # type: ignore[type-arg]
    """(``MM/DD/YYYY``, header zone ``+0900`` or ``None``) → :data:`_Stamp`, computed once per distinct pair."""

    def __init__(self, zone_less: dict[str, str]) -> None:
        super().__init__()
        self.zone_less = zone_less
        self.guard = "time_offset" if "time_offset" not in zone_less else None

    def __missing__(self, key: tuple[str, str | None]) -> _Stamp:
        if len(self) > 100_000:
            self.clear()
        date, zone = key
        day = iso_date(date)
        value: _Stamp
        if zone is None:
            value = (day + "T" if day else None, "", self.zone_less, self.guard)
        else:
            offset = iso_offset(zone)
            value = (day + "T" if day and offset is not None else None, offset or "", {}, None)
        self[key] = value
        return value


def _with_provenance(record: dict[str, Any], name: str, number: int) -> dict[str, Any] | None:
    """``record`` with ``_file`` and ``_line``; ``None`` (the reference path) when the line has either key."""
    if "_file" in record or "_line" in record:
        return None
    record["_file"] = name
    record["_line"] = number
    return record


class FastPath:
    """Lines of one log → records; one per reader (it caches the header dates and zones it has seen)."""

    def __init__(self, name: str, zone_less: dict[str, str], provenance: bool, lossless: bool) -> None:
        self.name = name
        self.provenance = provenance
        self._stamps = _StampCache(zone_less)
        #: With ``lossless`` no line matches: the reference path keeps the layout.
        self._header_match: Callable[[str], Any] = _reference_path_only if lossless else HEADER_PATTERN.match

    def convert(self, lines: list[str], base: int, fallback: Fallback) -> list[dict[str, Any]]:
        """The records of ``lines`` (numbered from ``base + 1``) in line order.

        The hot loop: every step of the common case inline, with locals bound outside the loop; every line it
        declines, blank lines included, goes to ``fallback``.
        """
        records: list[dict[str, Any]] = []
        append = records.append
        header_match = self._header_match
        findall = FIELD_PATTERN.findall
        stamps = self._stamps
        integer_fields = INTEGER_FIELDS
        kept_as_is = _KEPT_AS_IS
        no_event = _NO_EVENT
        provenance = self.provenance
        name = self.name
        for index, line in enumerate(lines):
            record: dict[str, Any] | None = None
            match = header_match(line)
            if match is not None:
                start, offset, added_keys, guard = stamps[line[:10], match.group(1)]
                if start is not None:
                    section = line[match.end() :]
                    pairs = findall(section)
                    record = {"time": start + line[11:23] + offset, **added_keys}
                    total = 0
                    for key, raw in pairs:
                        total += len(key) + len(raw)
                        if raw[:1] == '"':
                            raw = raw[1:-1]
                            if '""' in raw:
                                raw = raw.replace('""', '"')
                        record[key] = raw
                    if (
                        total + 2 * len(pairs) != len(section)
                        or len(record) != len(pairs) + 1 + len(added_keys)
                        or guard in record
                    ):
                        record = None
                    else:
                        for key in integer_fields.intersection(record):
                            value = record[key]
                            if (
                                value.isdigit()
                                and value.isascii()
                                and value[0] != "0"
                                and len(value) <= MAX_INTEGER_DIGITS
                            ):
                                record[key] = int(value)
                            elif value in kept_as_is:
                                record[key] = kept_as_is[value]
                            else:
                                record = None  # the reference path explains what is wrong
                                break
                        else:
                            if not no_event.isdisjoint((record.get("sn"), record.get("evt"), record.get("subEvt"))):
                                record = None  # the reference path explains what is missing
                            elif provenance:
                                record = _with_provenance(record, name, base + index + 1)
            if record is None:
                records += fallback(base + index + 1, line, index)
            else:
                append(record)
        return records
