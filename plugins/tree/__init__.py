"""``mk2ds tree``: process trees that answer "where did this process come from and what did it do".

Feature package ``tree``. Plugins: ``tree`` (this module: ``mk2ds_add_commands`` for ``mk2ds tree``),
``tree.model`` (``mk2ds_build_process_tree``: the process model, with ``node``, ``linking``, ``relations``,
``view`` and ``summary`` as its libraries), and one plugin per view, each ``mk2ds_register_outputs``:
``tree.text``, ``tree.json``, ``tree.dot``, ``tree.html`` (with its page assets ``template.html``, ``page.css``,
``page.js``).

Inputs are Mark II logs, mk2ds JSON/JSONL records, or a dataset sample (``mk2ds tree DATASET --sample
HASH``). Several inputs are read as one stream (several files of one host). The model comes from the
``mk2ds_build_process_tree`` hook, the page or text from a ``tree`` output plugin (``--format``).
An output whose factory has ``streams_tree_document = True`` (``tree.json``) gets the model's
``stream_document`` (processes made while they are written) and may return its text in pieces; the pieces
go through the atomic writer with ``-o``, so a file is never left half-written.

Exit codes: 0 the tree was written; 1 it was written but input lines were rejected (listed on stderr);
2 usage error (unknown file, a ``--focus`` that matches nothing, a bad time).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import pluggy

from mk2ds.core import CommandRegistry, Profile, hookimpl, registry
from mk2ds.core.atomic import atomic_writer
from mk2ds.core.errors import UsageError
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.report import ExitCode
from mk2ds.core.terminal import escape_text
from mk2ds.plugins.convert.time_zones import sysinfo_offsets
from mk2ds.plugins.tree.inputs import (
    REJECTS_SHOWN,
    InputTally,
    Source,
    file_sources,
    read_source,
    sample_sources,
)
from mk2ds.plugins.tree.model import DEFAULT_MAX_EVENTS, DEFAULT_MAX_PEERS
from mk2ds.plugins.tree.node import epoch_of

__all__ = ["run_tree"]


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    outputs = registry.outputs(pm, "tree")
    parser = subparsers.add_parser(
        "tree",
        help="process trees with activity and relations (injection, wrote-then-ran, service)",
        description="Process trees that answer 'where did this process come from and what did it do': "
        "parent/child links by GUID, activity per process, and relations (injection, wrote-then-ran, service).",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="Mark II .log files, .json/.jsonl records, or a dataset with --sample",
    )
    parser.add_argument(
        "--sample", metavar="HASH", help="INPUT is a dataset: use the logs under MK2Log/ whose name contains HASH"
    )
    parser.add_argument(
        "--log-folder", metavar="NAME", help="with --sample: the MK2Log sub-folder to use (default 30m)"
    )
    parser.add_argument(
        "--dataset",
        metavar="DIR",
        help="the distribution the logs belong to: zone-less times get their sample's Sysinfo time zone",
    )
    parser.add_argument(
        "--focus",
        action="append",
        default=[],
        metavar="HASH|GUID|PATH-GLOB",
        help="show these processes, their ancestors and descendants, and processes related to them (repeatable); "
        "--sample focuses on the sample hash unless --focus is given",
    )
    window = "ISO 8601 time with its offset (2018-03-01T19:55:00+09:00; without one it is read as UTC)"
    parser.add_argument("--since", metavar="TIME", help=f"leave out processes and activity before TIME, an {window}")
    parser.add_argument("--until", metavar="TIME", help=f"leave out processes and activity after TIME, an {window}")
    parser.add_argument(
        "--depth", type=_non_negative, metavar="N", help="show N levels of child processes (below the focus)"
    )
    parser.add_argument(
        "--all", dest="all_events", action="store_true", help="include subEvt=open events (left out by default)"
    )
    parser.add_argument(
        "--max-events",
        type=_non_negative,
        default=DEFAULT_MAX_EVENTS,
        metavar="N",
        help=f"activity events listed per process (default {DEFAULT_MAX_EVENTS}; 0 = all, memory then grows with the log); "
        "counts by kind are always complete and the rest is counted",
    )
    parser.add_argument(
        "--max-peers",
        type=_non_negative,
        default=DEFAULT_MAX_PEERS,
        metavar="N",
        help=f"network peers listed per process (default {DEFAULT_MAX_PEERS}; 0 = all)",
    )
    parser.add_argument("--format", default="text", choices=sorted(outputs), help="output format (default text)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    for output in outputs.values():
        output.add_options(parser)
    parser.set_defaults(handler=run_tree)


def run_tree(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    for name in ("since", "until"):
        value = getattr(args, name, None)
        if value is not None and epoch_of(value) is None:
            raise UsageError(f"--{name} {value!r}: not an ISO 8601 time (e.g. 2018-03-01T19:55:00+09:00)")
    guard_outputs([("-o", args.output)], args.inputs, pm=pm)  # with --sample, INPUT is a dataset folder
    sources = _sources(args, pm)
    implicit_focus = bool(args.sample) and not args.focus
    if implicit_focus:
        args.focus = [args.sample]
    tallies = [InputTally(source.name) for source in sources]
    model = pm.hook.mk2ds_build_process_tree(records=_records(sources, tallies, pm, args), options=args)
    if model is None:
        raise UsageError("no plugin builds process trees (is process_model blocked?)")
    output = registry.find_output(pm, "tree", args.format)
    make_document = model.to_document
    if getattr(output.factory, "streams_tree_document", False) and hasattr(model, "stream_document"):
        make_document = model.stream_document  # processes are made while they are written
    document: dict[str, Any] = make_document(args)
    if args.focus and document["stats"]["focus_matched"] == 0:
        if not implicit_focus:
            raise UsageError(
                f"--focus {' '.join(args.focus)}: matches none of the {document['stats']['processes']} processes"
            )
        print(
            f"mk2ds tree: no process path, command line or sha256 names {escape_text(args.sample)}; showing the whole tree",
            file=sys.stderr,
        )
        args.focus = []
        document = make_document(args)
    document["inputs"] = [tally.to_dict() for tally in tallies]
    _write(output.factory(document, args), args.output)
    return int(_report_inputs(tallies))


def _write(rendered: str | bytes | Iterable[str | bytes], path: str | None) -> None:
    """Write what an output returned (the whole text, or its pieces as they are made) to ``path``
    (atomically: the file appears only when complete) or to standard output."""
    chunks: Iterable[str | bytes] = [rendered] if isinstance(rendered, (str, bytes)) else rendered
    if path:
        with atomic_writer(path) as handle:
            for chunk in chunks:
                handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        return
    for chunk in chunks:
        if isinstance(chunk, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(chunk)
        else:
            sys.stdout.write(chunk)
    sys.stdout.flush()


def _sources(args: argparse.Namespace, pm: pluggy.PluginManager) -> list[Source]:
    if args.sample:
        if len(args.inputs) != 1:
            raise UsageError("--sample takes exactly one INPUT: the dataset folder or zip")

        def note(text: str) -> None:
            print(f"mk2ds tree: {escape_text(text)}", file=sys.stderr)

        return _with_time_zones(
            sample_sources(args.inputs[0], args.sample, args.log_folder, note), args.dataset or args.inputs[0], pm
        )
    if args.log_folder:
        raise UsageError("--log-folder only goes with --sample")
    return _with_time_zones(file_sources(args.inputs), args.dataset, pm)


def _with_time_zones(sources: list[Source], dataset: str | None, pm: pluggy.PluginManager) -> list[Source]:
    """Sources with the Sysinfo time zone of their sample (:mod:`mk2ds.plugins.convert.time_zones`)."""
    profiles = [Profile(document) for document in registry.profiles(pm).values()]
    offsets = sysinfo_offsets([source.name for source in sources], dataset, profiles)
    return [replace(source, sysinfo_offset=offset) for source, offset in zip(sources, offsets, strict=True)]


def _records(
    sources: list[Source], tallies: list[InputTally], pm: pluggy.PluginManager, args: argparse.Namespace
) -> Iterator[dict[str, Any]]:
    return itertools.chain.from_iterable(
        read_source(source, tally, pm, args) for source, tally in zip(sources, tallies, strict=True)
    )


def _report_inputs(tallies: list[InputTally]) -> ExitCode:
    """Rejected lines go to stderr (the first few per input, all counted); they make the exit code 1."""
    failed = False
    for tally in tallies:
        explained = [
            f"{finding.location()}: {finding.code}: {finding.message}"
            for finding in tally.findings
            if getattr(getattr(finding, "severity", None), "value", "") == "error"
        ]
        problems = (tally.problems + explained)[:REJECTS_SHOWN]
        if tally.rejected or explained:
            failed = True
            print(
                f"mk2ds tree: {escape_text(tally.name)}: {tally.rejected} lines rejected, {tally.records} records used",
                file=sys.stderr,
            )
            for problem in problems:
                print(f"  {escape_text(problem)}", file=sys.stderr)
    return ExitCode.FINDINGS if failed else ExitCode.OK
