"""``mk2ds export DATASET OUT``: the whole dataset as analysis-ready tables, described by Frictionless and
Croissant metadata.

Modules, one concern each: :mod:`~mk2ds.plugins.export.tables` (the log tables' schemas and rows),
:mod:`~mk2ds.plugins.export.logpass` (the one pass over each log), :mod:`~mk2ds.plugins.export.writers`
(Parquet, partitions, DuckDB), :mod:`~mk2ds.plugins.export.dataset_tables` (``samples`` and ``findings``,
through ``mk2ds_export_tables``), :mod:`~mk2ds.plugins.export.metadata` (``datapackage.json``,
``croissant.json``), :mod:`~mk2ds.plugins.export.datasheet` (``README.md``) and
:mod:`~mk2ds.plugins.export.run` (the command). Needs pyarrow (and duckdb for ``--format duckdb``):
``pip install 'mk2ds[export]'``.
"""

from __future__ import annotations

import argparse

import pluggy

from mk2ds.core import CommandRegistry, Severity, hookimpl
from mk2ds.core.engines import add_engine_arguments
from mk2ds.core.tables import ExportContext, ExportTable
from mk2ds.core.verify_context import LEVELS

#: ``--fail-on`` value that never stops the export (findings are exported, not fatal).
NEVER = "never"

__all__ = ["add_export_arguments"]


def add_export_arguments(parser: argparse.ArgumentParser, pm: pluggy.PluginManager) -> None:
    parser.add_argument("dataset", metavar="DATASET", help="dataset folder, .zip file or BagIt bag")
    parser.add_argument("out", metavar="OUT", help="a new (or empty) folder for the tables")
    parser.add_argument(
        "--format",
        choices=["parquet", "duckdb"],
        default="parquet",
        help="parquet (default), or duckdb: also mk2ds.duckdb with the same tables and keys",
    )
    parser.add_argument(
        "--level",
        choices=[level for level in LEVELS if level != "structure"],
        default="full",
        help="verification level of the non-log files (logs are always read whole)",
    )
    parser.add_argument("--profile", default="soliton-2018", help="profile name or JSON file")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (0 = one per core)")
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="CODE",
        help="export only these finding codes (prefix with trailing '-')",
    )
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="CODE", help="do not export these finding codes"
    )
    parser.add_argument(
        "--fail-on",
        choices=[NEVER, *(s.value for s in Severity)],
        default=NEVER,
        help="write nothing (exit 1) when findings reach this severity (default never: findings are exported)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress and no summary")
    add_engine_arguments(parser, pm)
    group = parser.add_argument_group("plugin options (as for verify)")
    pm.hook.mk2ds_add_verify_options(group=group)


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the whole dataset as analysis-ready tables (Parquet or DuckDB) with Frictionless and Croissant metadata",
    )
    add_export_arguments(parser, pm)
    parser.set_defaults(handler=_run_export)


def _run_export(options: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    # Imported when the command runs, not when the plugin registers: keeps every command's start-up light.
    from mk2ds.plugins.export.run import run_export

    return run_export(options, pm)


@hookimpl
def mk2ds_export_tables(context: ExportContext) -> list[ExportTable]:
    from mk2ds.plugins.export import dataset_tables  # imported when an export runs (start-up stays light)

    return dataset_tables.mk2ds_export_tables(context)
