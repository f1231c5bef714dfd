"""The mk2ds extension contract: every hook a plugin can implement.

This module is the whole plugin API. Built-in features in ``mk2ds.plugins`` use exactly these hooks, and
third-party plugins, installed as distributions that declare an entry point in the ``mk2ds`` group, use them
the same way::

    # pyproject.toml of a third-party plugin
    [project.entry-points.mk2ds]
    acme = "mk2ds_acme"

    # mk2ds_acme.py
    from mk2ds.core import hookimpl

    @hookimpl
    def mk2ds_register_codes():
        return [CodeInfo("acme/odd-thing", Severity.WARNING, "Something odd was seen")]

Rules that hold for every hook:

* Every hook name starts with ``mk2ds_``. An implementation whose name matches no hook is an error at start-up
  (``check_pending``), so a typo fails loudly.
* An implementation may accept *fewer* arguments than the hook offers (pluggy's opt-in arguments). New
  arguments may be added to a hook in a minor release; existing argument names are never renamed or removed
  within a major version. That is the stability promise for plugin authors.
* Hooks marked *first result wins* stop at the first implementation that returns something other than
  ``None``; return ``None`` to mean "not mine".
* All other hooks collect the results of every implementation.
* A plugin that raises does not crash the run: the exception becomes a ``plugin-error`` finding naming the
  plugin and the hook, and the run ends with exit code 3 (internal error). Checks should *yield findings*
  and raise only for bugs. This holds for ``SystemExit`` and ``KeyboardInterrupt`` raised by a plugin too
  (only the user's own Ctrl-C ends a run with 130), for findings of the wrong shape (a ``path`` that is not a
  string, ``details`` that are not JSON data), and for service results of the wrong shape (a
  ``mk2ds_open_log`` result that is no :class:`~mk2ds.core.contract.RecordReader`): the host checks what it
  receives and names the plugin that gave it.
* Every hook is called through pluggy. **Wrappers work**: an implementation marked
  ``@hookimpl(wrapper=True)`` (or the older ``hookwrapper=True``) runs around the others, as pluggy
  documents. A wrapper of a check hook receives the other plugins' results as a list of lists of findings
  and facts (one list per plugin, a plugin's failure already turned into a ``plugin-error`` finding) and
  may change it; a wrapper that raises fails the whole call, reported as a ``plugin-error`` naming the
  wrapper's plugin. ``MK2DS_TRACE_PLUGINS=1`` prints every hook call, its plugins, arguments, result and
  time to standard error.
* A check that needs another plugin's hook (a service) or shared data checks that something provides it
  (:meth:`VerifyContext.provided <mk2ds.core.verify_context.VerifyContext.provided>`,
  :meth:`VerifyContext.missing <mk2ds.core.verify_context.VerifyContext.missing>`) and otherwise yields
  :func:`~mk2ds.core.verify_context.check_not_run`: a blocked or missing plugin never switches a check off
  quietly.
* A plugin that fails to import, to register, or in a ``mk2ds_register_*`` hook is left out of the run,
  reported once on standard error and listed by ``mk2ds plugins`` as failed.
* Findings are :class:`mk2ds.core.findings.Finding` objects; third-party finding codes are namespaced
  ``plugin/slug`` and must be registered with :func:`mk2ds_register_codes`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

import pluggy

if TYPE_CHECKING:
    from mk2ds.core.contract import CommandRegistry, OptionGroup, ProcessTree, RecordReader
    from mk2ds.core.dataset import Dataset, Entry
    from mk2ds.core.engines import Engine
    from mk2ds.core.findings import CodeInfo, Fact, Finding
    from mk2ds.core.outputs import OutputFormat
    from mk2ds.core.tables import ExportContext, ExportTable
    from mk2ds.core.verify_context import VerifyContext

__all__ = ["PROJECT_NAME", "hookspec"]

PROJECT_NAME = "mk2ds"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------


@hookspec
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    """Add sub-commands to the ``mk2ds`` command line.

    :param subparsers: where commands go (:class:`~mk2ds.core.contract.CommandRegistry`). Call
        ``subparsers.add_parser(NAME, help=...)``, which returns a
        :class:`~mk2ds.core.contract.CommandParser` (``add_argument``, ``add_argument_group``,
        ``add_mutually_exclusive_group``, ``set_defaults``), and set the handler with
        ``parser.set_defaults(handler=FUNCTION)``. The handler is called as ``FUNCTION(args, pm)`` and returns
        an exit code (see :class:`mk2ds.core.report.ExitCode`).
    :param pm: the plugin manager, for commands that need to call other hooks (output formats, readers).

    Every sub-command must have help text. Command names are global: two plugins adding the same name is
    a start-up error.
    """


@hookspec
def mk2ds_add_verify_options(group: OptionGroup) -> None:
    """Add options to ``mk2ds verify`` (for example ``--samples DIR`` from the PE plugin).

    :param group: an :class:`~mk2ds.core.contract.OptionGroup` titled after no plugin in particular; add
        arguments with ``group.add_argument(...)`` (``argparse`` keywords). Use long option names that name your feature, to avoid clashes. The
        parsed values reach checks as ``context.options``.
    """


# --------------------------------------------------------------------------------------------------------------
# Registries (collected from every plugin)
# --------------------------------------------------------------------------------------------------------------


@hookspec
def mk2ds_register_codes() -> Iterable[CodeInfo]:
    """Declare the finding codes this plugin may emit.

    :return: an iterable of :class:`mk2ds.core.findings.CodeInfo` (code, default severity, one-line
        description). ``mk2ds codes`` lists them, ``--select``/``--ignore`` accept them, and a finding with an
        unregistered code is reported as ``unregistered-code`` next to the finding itself.
    """


@hookspec
def mk2ds_register_outputs() -> Iterable[OutputFormat]:
    """Declare output formats (records for ``convert``, reports for ``verify``, trees for ``tree``).

    :return: an iterable of :class:`mk2ds.core.outputs.OutputFormat` descriptors. Names must be unique per
        kind; a later registration of the same kind and name is an error reported at start-up.
    """


@hookspec
def mk2ds_register_profiles() -> Iterable[Mapping[str, Any]]:
    """Declare dataset layout profiles.

    :return: an iterable of profile documents (dicts that validate against ``schemas/profile.schema.json``).
        ``mk2ds verify --profile NAME`` selects one by its ``name``; ``--profile FILE`` loads a user's own.
    """


@hookspec
def mk2ds_register_schemas() -> Iterable[Mapping[str, Any]]:
    """Declare extra JSON Schemas (the built-in ones in ``mk2ds.schemas`` are always present).

    :return: an iterable of JSON Schema documents, each with a unique ``$id``. They appear in
        ``mk2ds schemas`` and can be used by ``mk2ds validate --schema NAME`` where NAME is the part of the
        ``$id`` file name before ``.schema.json``.
    """


@hookspec
def mk2ds_register_engines() -> Iterable[Engine]:
    """Declare execution engines: where ``verify`` and ``convert`` run their units of work (``--engine NAME``).

    The host's own engine, ``local`` (``-j N`` processes on this machine), is always there and needs nothing.
    An engine starts or connects to its workers when a command asks for it, builds the same plugin manager
    on every worker (the client's blocked plugins and entry-point setting), and runs module-level task
    functions there; commands merge the results so that every engine gives exactly the local one's outputs.

    :return: an iterable of :class:`mk2ds.core.engines.Engine` descriptors (name, description, a factory
        that starts a session, command-line options). Names are unique; ``local`` is reserved. An engine
        whose library is missing still registers, and its factory raises
        :class:`~mk2ds.core.errors.UsageError` saying what to install.
    """


# --------------------------------------------------------------------------------------------------------------
# Verification: discovery and checks
# --------------------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def mk2ds_classify_entry(entry: Entry, context: VerifyContext) -> str | None:
    """Say what kind of file an entry is. **First result wins.**

    :param entry: a file of the dataset (folders are not classified).
    :param context: the verification context (profile, level, options).
    :return: a kind name such as ``"mk2log"``, ``"list-xlsx"``, ``"sysinfo"``, or ``None`` if this plugin
        does not know. The built-in profile classifier runs last (``trylast``), so a plugin can override it.
        Unclassified files get the kind ``"other"``.
    """


@hookspec
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterable[Finding | Fact] | None:
    """Check the dataset as a whole (layout, indexes, cross-references, fixity).

    Runs once per verification, in the main process, before any entry check. Values put into
    ``context.shared`` (JSON-like data only) are visible to :func:`mk2ds_check_entry` in every worker.

    :param dataset: read-only access to the files (:class:`mk2ds.core.dataset.Dataset`).
    :param context: profile, level (``structure``, ``fast`` or ``full``), options, the list of entries
        (``context.entries``) and their kinds (``context.kinds``).
    :return: findings and facts, as an iterable (a generator is fine), or ``None``.
    """


@hookspec
def mk2ds_check_entry(
    entry: Entry, kind: str, dataset: Dataset, context: VerifyContext
) -> Iterable[Finding | Fact] | None:
    """Check one file. Called for every file, possibly in a worker process (``-j``), never at level
    ``structure``.

    Each call (one plugin, one file, the iteration of its result included) has a time limit
    (``verify --check-timeout``, generous by default): past it, the plugin's results for the file are
    replaced by a ``plugin-timeout`` finding and the run goes on.

    :param entry: the file.
    :param kind: what :func:`mk2ds_classify_entry` said it is (``"other"`` if nobody knew).
    :param dataset: read-only access to the files.
    :param context: as for :func:`mk2ds_check_dataset`; ``context.shared`` holds what dataset checks left.
    :return: findings and facts, or ``None`` when the kind is not yours.
    """


# --------------------------------------------------------------------------------------------------------------
# Services (first result wins): how commands and checks get work done, replaceable by plugins
# --------------------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def mk2ds_open_log(stream: BinaryIO, name: str, options: argparse.Namespace) -> RecordReader | None:
    """Open a log for reading records. **First result wins.**

    :param stream: a binary file object positioned at the start of the log.
    :param name: how to name the log in findings (dataset-relative path or the user's file name).
    :param options: reader options (``encoding``, ``assume_offset``, ``sysinfo_offset``: the offset for
        zone-less lines from the sample's Sysinfo time zone, ``provenance``); missing attributes mean defaults.
    :return: a :class:`~mk2ds.core.contract.RecordReader`: iterable over records (dicts, in file order)
        and, after iteration, with ``findings`` (a list of :class:`Finding`), ``rejects`` (a list of
        ``(line_number, raw_bytes)``) and ``stats`` (a dict with at least ``lines``, ``records``,
        ``rejected`` and ``blank``); or ``None`` if the stream is not a log this plugin reads. The host
        checks the result and watches the reading: a result of another shape, or a reader that fails, is a
        ``plugin-error`` naming this plugin.
    """


@hookspec(firstresult=True)
def mk2ds_recompute_pe(data: bytes, name: str, options: argparse.Namespace) -> Mapping[str, Any] | None:
    """Compute PE facts for a file's bytes (never executed). **First result wins.**

    :param data: the file content.
    :param name: how to name the file in findings.
    :param options: PE options (``pe_timeout``, ``pe_memory``).
    :return: a document that validates against ``schemas/pe.schema.json``, or ``None``.
    """


@hookspec(firstresult=True)
def mk2ds_build_process_tree(records: Iterable[Mapping[str, Any]], options: argparse.Namespace) -> ProcessTree | None:
    """Build the process model from records (dicts as pinned by ``schemas/record.schema.json``), streaming.
    **First result wins.**

    :param records: records in file order; consumed once.
    :param options: tree options (``all_events``, ``focus``, ``since``, ``until``, ``depth``).
    :return: a :class:`~mk2ds.core.contract.ProcessTree` (``summary()``, ``to_document()``, which renders
        to ``schemas/tree.schema.json``), or ``None``.
    """


# --------------------------------------------------------------------------------------------------------------
# Packaged datasets (BagIt bags and the like)
# --------------------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def mk2ds_locate_payload(dataset: Dataset) -> str | None:
    """Say where the payload of a packaged dataset starts. **First result wins.**

    A BagIt bag, for example, keeps the distribution under ``data/``. When a plugin returns a folder path,
    layout and content checks see that folder as the dataset root, while ``mk2ds_check_container`` still sees
    the whole container (tag files, manifests).

    :param dataset: the dataset as opened (folder or zip).
    :return: a dataset-relative folder path, or ``None`` when the dataset is not packaged.
    """


@hookspec
def mk2ds_check_container(container: Dataset, payload: str, context: VerifyContext) -> Iterable[Finding | Fact] | None:
    """Check the packaging of a dataset (BagIt tag files, Payload-Oxum, payload manifests).

    Called only when :func:`mk2ds_locate_payload` returned a payload folder.

    :param container: the whole dataset as opened, tag files included.
    :param payload: the payload folder inside it (for example ``"data"``).
    :param context: the verification context of the payload.
    :return: findings (paths relative to the container) and facts.
    """


# --------------------------------------------------------------------------------------------------------------
# Dataset-level outputs (mk2ds export)
# --------------------------------------------------------------------------------------------------------------


@hookspec
def mk2ds_export_tables(context: ExportContext) -> Iterable[ExportTable] | None:
    """Add tables to ``mk2ds export``, next to ``events``, ``processes`` and ``relations``.

    Called once per export, in the main process, after the logs were read and their tables written, so a
    table may be computed from the report, the sample list or the tables already there (for example with
    DuckDB over ``context.tables_dir``). Each table is written as ``NAME.parquet``, described in
    ``datapackage.json`` and ``croissant.json`` (fields, keys, checksums) and listed in the export's
    ``README.md``. The built-in ``samples`` and ``findings`` tables come through this hook too::

        @hookimpl
        def mk2ds_export_tables(context):
            rows = ({"sample": s["id"], "score": 1} for s in context.samples)
            fields = (TableField("sample", "string", "the sample's sha256", required=True),
                      TableField("score", "integer", "how suspicious"))
            return [ExportTable("acme_scores", "Scores by Acme", fields, rows,
                                foreign_keys=(ForeignKey(("sample",), "samples", ("sha256",)),))]

    :param context: the :class:`mk2ds.core.tables.ExportContext` of the run (location, report, samples,
        logs, tables_dir, options).
    :return: an iterable of :class:`mk2ds.core.tables.ExportTable`, or ``None``. Table names are unique in an
        export: a name given twice, or one of the log tables, is an error (exit code 3). Rows are consumed
        once, streaming; a row that does not fit its field types fails the table with an error naming it.
    """
