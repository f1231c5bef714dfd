"""The ``README.md`` of an export: a short datasheet generated from the same run (tables, counts per subset,
the findings summary, how to query it)."""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from mk2ds.core.atomic import write_atomic
from mk2ds.plugins.export.metadata import TableInfo, created_time

__all__ = ["render_datasheet", "write_datasheet"]

QUERY_EXAMPLE = """```sql
-- duckdb, in this folder
SELECT subset, count(*) AS events
FROM read_parquet('events/**/*.parquet', hive_partitioning = true)
GROUP BY subset ORDER BY subset;
```"""


def _table_lines(tables: Sequence[TableInfo]) -> list[str]:
    lines = ["| table | rows | files | key | from |", "| --- | ---: | --- | --- | --- |"]
    for table in tables:
        where = (
            f"`{table.name}/` (subset=…/sample=…)"
            if table.partitioned
            else f"`{table.paths[0] if table.paths else table.name}`"
        )
        lines.append(
            f"| {table.name} | {table.rows:,} | {where} | {', '.join(table.primary_key) or '-'} | {table.plugin} |"
        )
    lines.append("")
    for table in tables:
        lines.append(f"### {table.name}\n\n{table.description}.\n")
        lines.extend(
            f"- `{field.name}` ({field.type}{', required' if field.required else ''}): {field.description}"
            for field in table.fields
        )
        for key in table.foreign_keys:
            lines.append(
                f"- foreign key: ({', '.join(key.fields)}) → {key.reference} ({', '.join(key.reference_fields)})"
            )
        lines.append("")
    return lines


def render_datasheet(
    tables: Sequence[TableInfo], report: Mapping[str, Any], logs: Sequence[Mapping[str, Any]], args: argparse.Namespace
) -> str:
    name = os.path.basename(os.path.abspath(args.dataset))
    subsets: Counter[str] = Counter()
    files: Counter[str] = Counter()
    for log in logs:
        subsets[str(log["subset"])] += int(log.get("events") or 0)
        files[str(log["subset"])] += 1
    summary = report.get("summary", {})
    codes = Counter(finding["code"] for finding in report.get("findings", []))
    lines = [
        f"# Export of {name}",
        "",
        (
            f"Written by `mk2ds export` (mk2ds {report.get('tool', {}).get('version', '?')}) on {created_time()}, profile "
            f"`{report.get('target', {}).get('profile', '?')}`, verification level `{args.level}`. "
            "`datapackage.json` (Frictionless) and `croissant.json` (MLCommons Croissant) describe every table and file."
        ),
        "",
        "## Tables",
        "",
        *_table_lines(tables),
        "## Events per subset",
        "",
        "| subset | logs | events |",
        "| --- | ---: | ---: |",
        *(f"| {subset} | {files[subset]} | {subsets[subset]:,} |" for subset in sorted(subsets)),
        "",
        "## Findings",
        "",
        f"{summary.get('error', 0)} errors, {summary.get('warning', 0)} warnings, {summary.get('info', 0)} notes (table `findings`).",
        "",
        *(f"- `{code}`: {count}" for code, count in sorted(codes.items())),
        "",
        "## Querying",
        "",
        QUERY_EXAMPLE,
        "",
        (
            "Times: `time` is the UTC instant, null where the offset is unknown; `time_local` the wall clock as "
            "logged; `time_offset_source` says where the offset came from (header, option, sysinfo, unknown)."
        ),
        "",
    ]
    return "\n".join(lines)


def write_datasheet(
    folder: str,
    tables: Sequence[TableInfo],
    report: Mapping[str, Any],
    logs: Sequence[Mapping[str, Any]],
    args: argparse.Namespace,
) -> None:
    write_atomic(os.path.join(folder, "README.md"), render_datasheet(tables, report, logs, args))
