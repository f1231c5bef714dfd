"""One type per field in the typed record outputs (timesketch, ecs, parquet, csv): the shared rule.

A record's integer field (``x-integer-fields`` of ``schemas/record.schema.json``) holds an integer, or the
text of the line when that is not a canonical decimal integer: the product's no-value markers ``-`` and
``""``, or anything else (``log-not-integer``). JSON Lines keeps that as it is: it is the contract. A typed
output cannot: an index whose ``srcPort`` is ``long`` rejects ``"-"``, and a Parquet column holding both
becomes text. So in the typed outputs:

* an integer field holds integers only; where the record has text, the field is absent (null), and the text
  goes to ``<key>_raw`` (a text field), so nothing is lost and nobody has to guess;
* an integer outside what the output's integer type holds (beyond signed 64 bits for OpenSearch/ECS
  ``long``) is treated like text: absent from the integer field, its decimal digits in ``<key>_raw``.
  Parquet widens instead, see :mod:`mk2ds.plugins.records.parquet`.

This is a library for the record outputs; it implements no hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mk2ds.plugins.reader.tokenizer import INTEGER_FIELDS, NO_VALUE_MARKERS

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "NO_VALUE_MARKERS",
    "RAW_SUFFIX",
    "UINT64_MAX",
    "fits_int64",
    "is_integer",
    "raw_name",
    "typed_record",
]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
RAW_SUFFIX = "_raw"


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def fits_int64(value: Any) -> bool:
    """An integer that a signed 64-bit field (``long``) holds."""
    return is_integer(value) and INT64_MIN <= value <= INT64_MAX


def raw_name(key: str, taken: Mapping[str, Any]) -> str:
    """``<key>_raw``, prefixed with ``mk2_`` until it names no key of ``taken``."""
    name = key + RAW_SUFFIX
    while name in taken:
        name = f"mk2_{name}"
    return name


def typed_record(
    record: Mapping[str, Any],
    fits: Callable[[Any], bool] = fits_int64,
    integer_fields: frozenset[str] | set[str] = INTEGER_FIELDS,
) -> dict[str, Any]:
    """The record with every integer field typed (see the module documentation), keys in record order.

    A value of an integer field that is not an integer ``fits`` accepts is left out, and its text is set as
    ``<key>_raw`` right where the key was.
    """
    typed: dict[str, Any] = {}
    for key, value in record.items():
        if key in integer_fields and not fits(value):
            typed[raw_name(key, record)] = value if isinstance(value, str) else str(value)
        else:
            typed[key] = value
    return typed
