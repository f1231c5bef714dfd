"""``mk2ds export DATASET OUT``: the run, from verification to the atomic rename of the finished folder.

1. Verify the dataset (the walker, the same checks as ``mk2ds verify``) with the log checks left out: they
   run in step 2, in the one pass over each log.
2. The log pass (:mod:`mk2ds.plugins.export.logpass`): events, processes, relations and the log checks.
3. Dataset-level tables from ``mk2ds_export_tables`` (the built-in ``samples`` and ``findings``, and
   third-party ones), then ``mk2ds.duckdb`` with ``--format duckdb``.
4. ``datapackage.json``, ``croissant.json`` and ``README.md`` describing exactly the files written.

Everything is written into a hidden staging folder beside OUT, renamed to OUT when complete (atomic: no
half export under the final name); a failure or Ctrl-C deletes it. OUT must not exist, or be an empty
folder, and may not be inside the dataset.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

from mk2ds.core import (
    ExitCode,
    Fact,
    Finding,
    Report,
    Severity,
    UsageError,
    VerifyContext,
    hookimpl,
    plugin_settings,
    registry,
    tool_description,
)
from mk2ds.core.dataset import Dataset
from mk2ds.core.engines import open_engine
from mk2ds.core.hookcalls import call_each, plugin_error
from mk2ds.core.output_guard import refuse_output_over_inputs
from mk2ds.core.tables import ExportContext, ExportTable, ForeignKey
from mk2ds.core.walker import code_selected, default_jobs, verify
from mk2ds.plugins.checks.cross_references import hashes_in
from mk2ds.plugins.checks.logs import SKIP_LOG_CHECKS_OPTION
from mk2ds.plugins.checks.shared import SAMPLES
from mk2ds.plugins.export import NEVER
from mk2ds.plugins.export.datasheet import write_datasheet
from mk2ds.plugins.export.logpass import LogJob, LogPass, LogResult, part_path, run_log_pass
from mk2ds.plugins.export.metadata import TableInfo, write_metadata
from mk2ds.plugins.export.tables import EVENT_TABLE_FIELDS, PROCESS_FIELDS, RELATION_FIELDS
from mk2ds.plugins.export.writers import merge_parts, use_system_memory_pool, write_duckdb, write_table
from mk2ds.plugins.reader.timestamps import assumed_offset_option

__all__ = ["LOG_TABLES", "export_dataset", "run_export"]

LOG_TABLES = ("events", "processes", "relations")


class _ContextCapture:
    """Registered for the verification only: keeps the context (the sample list, the kinds of files)."""

    def __init__(self) -> None:
        self.context: VerifyContext | None = None

    @hookimpl(trylast=True)
    def mk2ds_check_dataset(self, dataset: Dataset, context: VerifyContext) -> None:
        self.context = context


@dataclass
class ExportResult:
    report: Report
    tables: list[TableInfo]
    logs: list[LogResult]
    written: bool


def _verify(
    pm: pluggy.PluginManager, args: argparse.Namespace, options: argparse.Namespace, engine: Any
) -> tuple[Report, VerifyContext]:
    capture = _ContextCapture()
    pm.register(capture, name="export.capture")
    try:
        report = verify(
            args.dataset,
            pm,
            registry.find_profile(pm, args.profile),
            level=args.level,
            options=options,
            jobs=args.export_jobs,
            settings=plugin_settings(pm),
            select=args.select,
            ignore=args.ignore,
            fail_on=Severity.ERROR,
            show_progress=False if args.quiet else None,
            tool=tool_description(pm),
            engine=engine,
        )
    finally:
        pm.unregister(capture)
    if capture.context is None:  # pragma: no cover - the walker always runs dataset checks
        raise RuntimeError("the verification gave no context")
    return report, capture.context


def _subset_of(path: str) -> str:
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    return parent.rsplit("/", 1)[-1] or "."


def _sample_of(path: str, samples: list[Mapping[str, Any]]) -> str | None:
    found = hashes_in(path)
    for sample in samples:
        if any(sample.get(kind) in found for kind in ("sha256", "sha1", "md5")):
            return str(sample["id"])
    return None


def plan_logs(context: VerifyContext, report: Mapping[str, Any]) -> list[LogJob]:
    """Every Mark II log, in path order, with its subset, sample and host offset (from Sysinfo)."""
    rows = context.get(SAMPLES) or []
    samples: list[Mapping[str, Any]] = list(rows)
    offsets = {str(item["id"]): item["facts"].get("systeminfo.utc_offset") for item in report.get("samples", [])}
    paths = sorted(path for path, kind in context.kinds.items() if kind == "mk2log")
    jobs = []
    for number, path in enumerate(paths):
        sample = _sample_of(path, samples)
        offset = offsets.get(sample) if sample else None
        jobs.append(
            LogJob(
                path,
                context.entries.get(path, 0),
                _subset_of(path),
                sample,
                offset if isinstance(offset, str) else None,
                number,
            )
        )
    return jobs


def _log_items(results: list[LogResult], select: list[str], ignore: list[str]) -> Iterator[Finding | Fact]:
    for result in results:
        for item in result.items:
            if isinstance(item, Fact):
                yield item
            elif item.code == "plugin-error" or code_selected(item.code, select, ignore):
                yield item if item.plugin else item.with_plugin("checks.logs")


def _log_tables(staging: str, jobs: list[LogJob], results: list[LogResult]) -> list[TableInfo]:
    sample_key = ForeignKey(("sample",), "samples", ("sha256",))
    events = TableInfo(
        "events",
        "every record of every log, typed; Hive-partitioned by subset and sample",
        EVENT_TABLE_FIELDS,
        ("file", "line"),
        (sample_key,),
        sum(result.events for result in results),
        sorted(
            {
                result.job.events_file
                for result in results
                if os.path.exists(os.path.join(staging, result.job.events_file))
            }
        ),
    )
    infos = [events]
    for name, fields, key, description in (
        ("processes", PROCESS_FIELDS, ("process_key",), "one row per process of each log's process model"),
        (
            "relations",
            RELATION_FIELDS,
            (),
            "injection, wrote-then-ran and service edges between processes, with evidence",
        ),
    ):
        rows = merge_parts(
            (part_path(staging, name, job.number) for job in jobs),
            os.path.join(staging, f"{name}.parquet"),
            fields,
            name,
        )
        keys: tuple[ForeignKey, ...] = (sample_key,)
        if name == "relations":
            keys += (
                ForeignKey(("source_key",), "processes", ("process_key",)),
                ForeignKey(("target_key",), "processes", ("process_key",)),
            )
        else:
            keys += (ForeignKey(("parent_key",), "processes", ("process_key",)),)
        infos.append(TableInfo(name, description, fields, key, keys, rows, [f"{name}.parquet"]))
    shutil.rmtree(os.path.join(staging, ".parts"), ignore_errors=True)
    return infos


def _dataset_tables(pm: pluggy.PluginManager, context: ExportContext, staging: str, report: Report) -> list[TableInfo]:
    infos: list[TableInfo] = []
    taken = set(LOG_TABLES)
    for plugin, result, error in call_each(pm, "mk2ds_export_tables", context=context):
        tables: list[ExportTable] = []
        try:
            if error is not None:
                raise error
            tables = list(result or ())
            for table in tables:
                if table.name in taken:
                    raise ValueError(f"table {table.name!r} is exported twice")
                taken.add(table.name)
                rows = write_table(staging, table)
                infos.append(
                    TableInfo(
                        table.name,
                        table.description,
                        table.fields,
                        table.primary_key,
                        table.foreign_keys,
                        rows,
                        [f"{table.name}.parquet"],
                        plugin,
                    )
                )
        except Exception as failure:  # noqa: BLE001 - becomes a plugin-error finding, exit code 3
            report.add([plugin_error(plugin, "mk2ds_export_tables", failure)])
    return infos


def _reader_options(args: argparse.Namespace) -> argparse.Namespace:
    """The options workers see: the command's, without what does not pickle, with the log checks moved."""
    values = {key: value for key, value in vars(args).items() if key != "handler"}
    values[SKIP_LOG_CHECKS_OPTION] = True
    return argparse.Namespace(**values)


def export_dataset(pm: pluggy.PluginManager, args: argparse.Namespace, staging: str) -> ExportResult:
    """Steps 1 to 4 into ``staging`` (see the module documentation)."""
    use_system_memory_pool()
    options = _reader_options(args)
    assume_offset = assumed_offset_option(args)
    with open_engine(pm, args, plugin_settings(pm)) as engine:
        report, context = _verify(pm, args, options, engine)
        jobs = plan_logs(context, report.to_dict())
        log_context = dataclasses.replace(context, level="full", pm=None)
        shared = LogPass(
            os.path.abspath(args.dataset),
            report.target.get("payload"),
            log_context,
            os.path.abspath(staging),
            assume_offset,
        )
        results = run_log_pass(
            pm,
            shared,
            jobs,
            workers=args.export_jobs,
            settings=plugin_settings(pm),
            engine=engine,
            show_progress=False if args.quiet else None,
        )
        if engine is not None and not args.quiet:
            print("\n".join(f"mk2ds export: {line}" for line in engine.summary()), file=sys.stderr)
    report.add(_log_items(results, args.select, args.ignore))
    if (
        args.fail_on != NEVER
        and not report.internal_error
        and any(f.severity.rank >= Severity(args.fail_on).rank for f in report.findings)
    ):
        return ExportResult(report, [], results, written=False)
    tables = _log_tables(staging, jobs, results)
    logs: list[Mapping[str, Any]] = [
        {
            "file": r.job.path,
            "subset": r.job.subset,
            "sample": r.job.sample,
            "bytes": r.job.size,
            "events": r.events,
            "processes": r.processes,
            "relations": r.relations,
        }
        for r in results
    ]
    rows = context.get(SAMPLES) or []
    samples: list[Mapping[str, Any]] = list(rows)
    export_context = ExportContext(args.dataset, report.to_dict(), samples, logs, staging, options)
    tables += _dataset_tables(pm, export_context, staging, report)
    tables = _referenced_first(tables)
    if args.format == "duckdb":
        write_duckdb(
            os.path.join(staging, "mk2ds.duckdb"),
            staging,
            [(t.name, t.fields, t.primary_key, _enforceable(t, tables)) for t in tables],
        )
    document = report.to_dict()
    write_metadata(staging, tables, document, args)
    write_datasheet(staging, tables, document, logs, args)
    return ExportResult(report, tables, results, written=True)


def _referenced_first(tables: list[TableInfo]) -> list[TableInfo]:
    """Tables ordered so that a referenced table comes before the tables referring to it."""
    by_name = {table.name: table for table in tables}
    ordered: list[TableInfo] = []

    def visit(table: TableInfo, trail: tuple[str, ...]) -> None:
        if table in ordered or table.name in trail:
            return
        for key in table.foreign_keys:
            if key.reference in by_name and key.reference != table.name:
                visit(by_name[key.reference], (*trail, table.name))
        ordered.append(table)

    for table in sorted(tables, key=lambda item: item.name):
        visit(table, ())
    return ordered


def _enforceable(table: TableInfo, tables: list[TableInfo]) -> tuple[ForeignKey, ...]:
    """Foreign keys DuckDB can declare: to another table's primary key (not to the table itself)."""
    keys = {other.name: other.primary_key for other in tables}
    return tuple(
        key
        for key in table.foreign_keys
        if key.reference != table.name and keys.get(key.reference) == key.reference_fields
    )


def _prepare_out(out: str, dataset: str) -> str:
    refuse_output_over_inputs(out, [dataset], datasets=[dataset], option="OUT")
    if os.path.lexists(out) and not (os.path.isdir(out) and not os.listdir(out)):
        raise UsageError(
            f"OUT {out}: exists and is not an empty folder (mk2ds export never mixes its files with others)"
        )
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise UsageError(f"OUT {out}: the folder {parent} does not exist")
    return tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out))}.", suffix=".export-part", dir=parent)


def run_export(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    """The ``mk2ds export`` command."""
    if not os.path.exists(args.dataset):
        raise UsageError(f"{args.dataset}: no such file or folder")
    args.export_jobs = default_jobs() if args.jobs == 0 else max(1, args.jobs)
    staging = _prepare_out(args.out, args.dataset)
    try:
        result = export_dataset(pm, args, staging)
        if result.written:
            os.chmod(staging, 0o755)
            if os.path.isdir(args.out):
                os.rmdir(args.out)
            os.replace(staging, args.out)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return _summarize(result, args)


def _summarize(result: ExportResult, args: argparse.Namespace) -> int:
    counts = result.report.counts()
    found = ", ".join(f"{count} {severity}" for severity, count in counts.items())
    if not result.written:
        print(f"mk2ds export: not written: findings at or above --fail-on {args.fail_on} ({found})", file=sys.stderr)
        return int(ExitCode.FINDINGS)
    if not args.quiet:
        for table in result.tables:
            print(f"mk2ds export: {table.name:12} {table.rows:>10,} rows", file=sys.stderr)
        print(f"mk2ds export: {args.out}: {len(result.tables)} tables; findings: {found}", file=sys.stderr)
    return int(ExitCode.INTERNAL_ERROR if result.report.internal_error else ExitCode.OK)
