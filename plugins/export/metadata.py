"""``datapackage.json`` (Frictionless Data Package) and ``croissant.json`` (MLCommons Croissant 1.0) of an
export: every table with its fields, types, descriptions and keys, and every file with its size and sha256.

Both are generated from the same :class:`TableInfo` list as the files, after the files are written, so they
describe exactly what is there. The creation time is ``SOURCE_DATE_EPOCH`` when set (reproducible builds),
otherwise the current time; it is the only thing that differs between two exports of the same input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mk2ds.core.atomic import write_atomic
from mk2ds.core.tables import ForeignKey, TableField

__all__ = [
    "CROISSANT_CONTEXT",
    "TableInfo",
    "created_time",
    "croissant",
    "datapackage",
    "file_digest",
    "write_metadata",
]

PARQUET_MEDIA_TYPE = "application/x-parquet"
PANDAS_MISSING = ("nan", "NaT")

#: The JSON-LD context of Croissant 1.0 (as its specification gives it).
CROISSANT_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

_FRICTIONLESS_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "datetime": "datetime",
    "json": "string",
}
_CROISSANT_TYPES = {
    "string": "sc:Text",
    "integer": "sc:Integer",
    "number": "sc:Float",
    "boolean": "sc:Boolean",
    "datetime": "sc:Date",
    "json": "sc:Text",
}


@dataclass(frozen=True)
class TableInfo:
    """A written table: ``paths`` are its files relative to the export (``events`` has one per log)."""

    name: str
    description: str
    fields: tuple[TableField, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    rows: int
    paths: Sequence[str] = field(default_factory=list)
    plugin: str = "export"

    @property
    def partitioned(self) -> bool:
        return self.name == "events"


def created_time() -> str:
    """``SOURCE_DATE_EPOCH`` (or now) as ISO 8601 UTC, to the second."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else int(time.time())
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_digest(path: str) -> tuple[str, int]:
    """sha256 (hex) and size of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _field_description(field: TableField) -> str:
    return field.description + (" (JSON text)" if field.type == "json" else "")


def _frictionless_schema(table: TableInfo) -> dict[str, Any]:
    schema: dict[str, Any] = {
        # Frictionless reads Parquet through pandas, where a null integer is NaN and a null time NaT.
        "missingValues": list(PANDAS_MISSING),
        "fields": [
            {
                "name": f.name,
                "type": _FRICTIONLESS_TYPES[f.type],
                "description": _field_description(f),
                **({"constraints": {"required": True}} if f.required else {}),
            }
            for f in table.fields
        ],
    }
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {
                "fields": list(key.fields),
                "reference": {
                    "resource": "" if key.reference == table.name else key.reference,
                    "fields": list(key.reference_fields),
                },
            }
            for key in table.foreign_keys
        ]
    return schema


def datapackage(
    folder: str, tables: Sequence[TableInfo], report: Mapping[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """The Data Package: one tabular resource per table (``events``: the partitioned folder)."""
    resources = []
    for table in tables:
        # A partitioned table is one resource per file: Frictionless reads a Parquet folder through pyarrow,
        # which cannot yet read null partition values (logs of no sample) into pandas.
        for number, path in enumerate(table.paths):
            name = f"{table.name}-{number:04d}" if table.partitioned else table.name
            digest, _size = file_digest(os.path.join(folder, path))
            resources.append(
                {
                    "name": name,
                    "profile": "tabular-data-resource",
                    "type": "table",
                    "path": path,
                    "description": f"{table.description} ({path})" if table.partitioned else table.description,
                    "format": "parquet",
                    "mediatype": PARQUET_MEDIA_TYPE,
                    "hash": f"sha256:{digest}",
                    "schema": _frictionless_schema(table),
                }
            )
    return {
        "name": "mk2ds-export",
        "title": f"Analysis-ready tables of {os.path.basename(os.path.abspath(args.dataset))}",
        "description": "Written by mk2ds export: every log record, the process trees and relations, the samples and the verification findings.",
        "created": created_time(),
        "profile": "tabular-data-package",
        "sources": [{"title": os.path.basename(os.path.abspath(args.dataset))}],
        "contributors": [{"title": f"mk2ds {report.get('tool', {}).get('version', '')}".strip(), "role": "author"}],
        "resources": resources,
    }


def _croissant_files(folder: str, tables: Sequence[TableInfo]) -> list[dict[str, Any]]:
    files = []
    for table in tables:
        for path in table.paths:
            digest, size = file_digest(os.path.join(folder, path))
            files.append(
                {
                    "@type": "cr:FileObject",
                    "@id": path,
                    "name": path,
                    "contentUrl": path,
                    "contentSize": f"{size} B",
                    "encodingFormat": PARQUET_MEDIA_TYPE,
                    "sha256": digest,
                }
            )
    return files


def _croissant_record_set(table: TableInfo) -> dict[str, Any]:
    source_key = "fileSet" if table.partitioned else "fileObject"
    source_id = f"{table.name}-files" if table.partitioned else table.paths[0] if table.paths else table.name
    fields = []
    for item in table.fields:
        entry: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": f"{table.name}/{item.name}",
            "name": item.name,
            "description": _field_description(item),
            "dataType": _CROISSANT_TYPES[item.type],
            "source": {source_key: {"@id": source_id}, "extract": {"column": item.name}},
        }
        for key in table.foreign_keys:
            if key.fields == (item.name,) and key.reference != table.name:
                entry["references"] = {"field": {"@id": f"{key.reference}/{key.reference_fields[0]}"}}
        fields.append(entry)
    record_set: dict[str, Any] = {
        "@type": "cr:RecordSet",
        "@id": table.name,
        "name": table.name,
        "description": table.description,
        "field": fields,
    }
    if table.primary_key:
        record_set["key"] = [{"@id": f"{table.name}/{name}"} for name in table.primary_key]
    return record_set


def croissant(
    folder: str, tables: Sequence[TableInfo], report: Mapping[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """The Croissant metadata: every file with its sha256, a record set per table."""
    distribution = _croissant_files(folder, tables)
    for table in tables:
        if table.partitioned:
            distribution.append(
                {
                    "@type": "cr:FileSet",
                    "@id": f"{table.name}-files",
                    "name": f"{table.name}-files",
                    "encodingFormat": PARQUET_MEDIA_TYPE,
                    "includes": f"{table.name}/**/*.parquet",
                }
            )
    name = os.path.basename(os.path.abspath(args.dataset))
    return {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": f"mk2ds-export-{name}".replace(" ", "-"),
        "description": f"Analysis-ready tables of {name}, written by mk2ds export.",
        "url": "https://mk2ds.invalid/export",
        "license": "https://mk2ds.invalid/license-of-the-source-dataset",
        "dateCreated": created_time(),
        "datePublished": created_time(),
        "citeAs": f"mk2ds export of {name}",
        "version": "1.0.0",
        "creator": {"@type": "sc:Organization", "name": f"mk2ds {report.get('tool', {}).get('version', '')}".strip()},
        "distribution": distribution,
        "recordSet": [_croissant_record_set(table) for table in tables],
    }


def _json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write_metadata(
    folder: str, tables: Sequence[TableInfo], report: Mapping[str, Any], args: argparse.Namespace
) -> None:
    write_atomic(os.path.join(folder, "datapackage.json"), _json(datapackage(folder, tables, report, args)))
    write_atomic(os.path.join(folder, "croissant.json"), _json(croissant(folder, tables, report, args)))
