"""Dataset-level tables: what ``mk2ds_export_tables`` implementations return, and what they are given.

``mk2ds export`` writes a dataset as analysis-ready tables. The tables fed by the one pass over the logs
(``events``, ``processes``, ``relations``) are the export plugin's own; every other table, built-in
(``samples``, ``findings``) or third-party (Sigma matches, say), is an :class:`ExportTable` returned by the
``mk2ds_export_tables`` hook. The core only defines the descriptors: it knows nothing of Parquet or DuckDB.

Field types are a small vocabulary that every writer and every metadata format maps:

``string``, ``integer`` (64-bit), ``number`` (64-bit float), ``boolean``, ``datetime`` (an instant, UTC,
millisecond precision; give ``datetime`` objects with a zone), ``json`` (an object or list, stored as its
JSON text so that the schema stays fixed whatever it holds).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["FIELD_TYPES", "ExportContext", "ExportTable", "FieldType", "ForeignKey", "TableField"]

FieldType = Literal["string", "integer", "number", "boolean", "datetime", "json"]
FIELD_TYPES: tuple[str, ...] = ("string", "integer", "number", "boolean", "datetime", "json")


@dataclass(frozen=True)
class TableField:
    """One column: its name (lower-case snake case by convention), type and what it holds."""

    name: str
    type: FieldType
    description: str
    required: bool = False

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name!r}: unknown type {self.type!r} (known: {', '.join(FIELD_TYPES)})")


@dataclass(frozen=True)
class ForeignKey:
    """``fields`` of this table refer to ``reference_fields`` of the table ``reference``."""

    fields: tuple[str, ...]
    reference: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class ExportTable:
    """A table to export: ``rows`` are mappings from field name to value (missing names are null), consumed
    once and streamed (a generator is fine: memory stays bounded). ``name`` is unique in an export and
    becomes the file name (``NAME.parquet``); use ``plugin_name`` style names for third-party tables."""

    name: str
    description: str
    fields: tuple[TableField, ...]
    rows: Iterable[Mapping[str, Any]]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()


@dataclass
class ExportContext:
    """What a table builder knows about the export it is part of.

    ``location`` is the dataset as given; ``report`` the verification report of the same run (the JSON
    document of ``schemas/report.schema.json``: findings, and facts per sample); ``samples`` the rows of the
    sample list (``List.xlsx``) as the sample-list check read them; ``logs`` one dict per exported log
    (``file``, ``subset``, ``sample``, ``bytes``, ``events``, ``processes``, ``relations``); ``tables_dir`` the
    folder where the tables written so far are (``events/`` as a Hive-partitioned Parquet dataset,
    ``processes.parquet``, ``relations.parquet``), for tables computed from them; ``options`` the command's
    options.
    """

    location: str
    report: Mapping[str, Any]
    samples: list[Mapping[str, Any]] = field(default_factory=list)
    logs: list[Mapping[str, Any]] = field(default_factory=list)
    tables_dir: str = ""
    options: argparse.Namespace = field(default_factory=argparse.Namespace)
