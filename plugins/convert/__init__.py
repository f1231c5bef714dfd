"""``mk2ds convert INPUT... -o OUT``: Mark II logs to records, one output file per log, written atomically.

Feature package ``convert``: the commands that turn logs into records and back. Plugins: ``convert`` (this
module: ``mk2ds_add_commands`` for ``mk2ds convert``), ``convert.format`` (``mk2ds format``: records back to
Mark II lines) and ``convert.validate`` (``mk2ds validate``), each also ``mk2ds_register_codes``. Libraries:
``jobs`` (what to convert where: planning from the inputs and ``-o``), ``one_file`` (one log converted),
``engine`` (convert's units of work on an engine, with ``probes``: may a file be split into byte ranges, and
``merging``: its parts merged), ``time_zones`` (a log's Sysinfo offset), ``sysinfo_hosts`` (a log's Sysinfo host
facts) and ``json_documents`` (reading JSON back with line numbers).

Inputs and outputs
    INPUT is a log file, a directory (every ``*.log`` below it, any case, mirrored under OUT) or ``-``
    (standard input). With a single file (or ``-``) and an OUT that is not an existing directory, OUT is the
    output file (``-`` for standard output); otherwise OUT is a directory and each log becomes
    ``OUT/<its path, suffix replaced by the format's>`` (``a.log`` → ``a.jsonl``). The record output is
    looked up by name among every registered ``records`` output (``--format``), so outputs added by other
    plugins work here, with their options.
    Below a folder, symbolic links that leave it are never followed (like ``verify``): each is an
    ``unsafe-path`` finding naming the link (exit 1), and the other logs are converted.

Atomicity
    Outputs and rejects files are written under a temporary name and renamed when complete: an interrupted
    or failed conversion leaves no half file under the final name.

Rejects
    Every rejected line goes to ``<output>.rejects`` next to its output: for each line, its 1-based line
    number in decimal, a TAB, the line's raw bytes exactly as read (without its LF and without a CR directly
    before it), then LF. ``cut -f2-`` gives the lines back. A rejects file is written only when a line was
    rejected; a stale ``<output>.rejects`` from an earlier run is removed, but only when it looks like one
    (its first line is a line number and a TAB). With ``-o -`` rejected lines go to ``--rejects FILE``, or
    are counted and reported but not saved. A ``--rejects FILE`` you name is written when a line is
    rejected and otherwise left exactly as it was: mk2ds only ever removes a file it wrote.

Times
    A zone-less header keeps its local ``time``; the offset comes from ``--assume-offset``, else, when the
    log is read as part of a distribution (``--dataset DIR``, or an input inside a folder a profile
    recognizes), from its sample's Sysinfo time zone (:mod:`mk2ds.plugins.convert.time_zones`), and the
    record says which (``time_offset``, ``time_offset_source``). A log with zone-less lines and no such
    evidence gets one ``time-offset-unknown`` warning with the count, also on its summary line.

Hosts
    An output that describes the host (one offering ``--sysinfo FILE``: ``ecs`` writes ``host.os.*``) gets,
    for a log read as part of a distribution, the facts of its sample's Sysinfo systeminfo output (else those
    all Sysinfo files agree on; a sample whose Sysinfo is empty or unreadable gives none): see
    :mod:`mk2ds.plugins.convert.sysinfo_hosts`. ``--sysinfo FILE`` given by the user comes first.

Lossless
    ``--lossless`` (jsonl, json) adds to every record what its line's text needs besides the values
    (``_quoted``, and ``_spaces``/``_header`` when needed), so that ``mk2ds format`` writes every accepted line
    back byte for byte: the strongest proof that converting lost nothing. Lines with a key of that name are
    rejected (``log-reserved-key``).

Summary and exit codes
    Standard error gets one line per log proving conservation (``lines = records + rejected + blank``) and
    the first findings; ``--report FILE`` writes the full report (JSON by default). Exit code 0 when every
    line was converted, 1 when lines were rejected, 2 for a usage error (or an unreadable or unwritable
    file), 3 for an internal error. ``-j N`` converts N files at a time in worker processes; outputs are the
    same as with ``-j 1``.

Engines
    ``--engine dask`` runs the work on a Dask cluster (``--scheduler ADDRESS``, or a local one of
    ``--workers N`` processes): large logs are split into line-aligned byte ranges of about ``--range-size``
    and small ones grouped, and the results are merged into exactly what the local engine writes (see
    :mod:`mk2ds.plugins.convert.engine`). Inputs and outputs must be at the same paths for every worker.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import pluggy

from mk2ds.core import (
    CommandRegistry,
    ExitCode,
    Finding,
    PluginSettings,
    Profile,
    Report,
    Severity,
    UsageError,
    hookimpl,
    plugin_settings,
    registry,
    tool_description,
)
from mk2ds.core.atomic import write_atomic
from mk2ds.core.engines import LOCAL_ENGINE, add_engine_arguments, open_engine
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.outputs import OutputFormat
from mk2ds.core.progress import Progress
from mk2ds.core.terminal import escape_text
from mk2ds.plugins.convert.engine import convert_on_engine, refuse_standard_input
from mk2ds.plugins.convert.jobs import ConvertJob, JobResult, plan_jobs, refuse_side_outputs_over_files
from mk2ds.plugins.convert.one_file import convert_file
from mk2ds.plugins.convert.time_zones import attach_sysinfo
from mk2ds.plugins.reader import ENCODINGS
from mk2ds.plugins.reader.byte_ranges import parse_size
from mk2ds.plugins.reader.tokenizer import normalize_offset

__all__ = ["run_convert"]

LISTED_FINDINGS = 20
DEFAULT_RANGE_SIZE = "64M"
#: Record outputs that keep ``--lossless``'s layout keys for ``mk2ds format`` (the only formats it reads).
LOSSLESS_FORMATS = ("jsonl", "json")


# ------------------------------------------------------------------------------------------------ workers

_WORKER: dict[str, Any] = {}


def _worker_init(settings: PluginSettings) -> None:
    pm = _WORKER.get("parent_pm") or settings.build()
    _WORKER["pm"] = pm


def _worker_convert(job: ConvertJob, args: argparse.Namespace) -> JobResult:
    pm = _WORKER["pm"]
    return convert_file(pm, job, registry.find_output(pm, "records", args.format), args)


def _run_jobs(
    pm: pluggy.PluginManager, jobs: list[ConvertJob], output: OutputFormat, args: argparse.Namespace
) -> list[JobResult]:
    workers = (os.cpu_count() or 1) if args.jobs == 0 else max(1, args.jobs)
    progress = Progress(sum(job.size for job in jobs), "convert", enabled=False if args.quiet else None)
    try:
        if workers <= 1 or len(jobs) < 2:
            results = []
            for job in jobs:
                results.append(convert_file(pm, job, output, args, progress))
                progress.advance(0, items=1)
            return results
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        _WORKER["parent_pm"] = pm if method == "fork" else None
        settings = plugin_settings(pm)
        pool_args = argparse.Namespace(**{key: value for key, value in vars(args).items() if key != "handler"})
        by_job: dict[ConvertJob, JobResult] = {}
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)),
            mp_context=multiprocessing.get_context(method),
            initializer=_worker_init,
            initargs=(settings,),
        ) as pool:
            ordered = sorted(jobs, key=lambda job: -job.size)  # biggest first keeps both workers busy to the end
            futures = {pool.submit(_worker_convert, job, pool_args): job for job in ordered}
            for future in concurrent.futures.as_completed(futures):
                job = futures[future]
                try:
                    by_job[job] = future.result()
                except Exception as error:  # noqa: BLE001 - a dead worker must not hide the other results
                    by_job[job] = JobResult(job, error=f"{job.name}: worker failed: {error}", internal=True)
                progress.advance(job.size)
        return [by_job[job] for job in jobs]
    finally:
        _WORKER.pop("parent_pm", None)
        progress.close()


# ------------------------------------------------------------------------------------------------ command


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    outputs = registry.outputs(pm, "records")
    parser = subparsers.add_parser(
        "convert",
        help="convert Mark II logs to records (JSON Lines, JSON, mk2log, and other record outputs)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="log file, folder of *.log files, or - for standard input"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output file, folder, or - for standard output"
    )
    parser.add_argument(
        "--format", default="jsonl", metavar="NAME", help=f"record output: {', '.join(sorted(outputs))} (default jsonl)"
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="convert N files at a time (0 = one per core)"
    )
    parser.add_argument(
        "--encoding", choices=ENCODINGS, default="auto", help="log encoding (default auto: UTF-8, or CP932 when sure)"
    )
    parser.add_argument("--assume-offset", metavar="OFFSET", help="UTC offset for zone-less headers, e.g. +0900")
    parser.add_argument(
        "--dataset",
        metavar="DIR",
        help="the distribution the logs belong to: zone-less times get their sample's Sysinfo time zone (ecs: host.os too)",
    )
    parser.add_argument("--provenance", action="store_true", help="add _file and _line to every record")
    parser.add_argument(
        "--lossless",
        action="store_true",
        help="add _quoted (and _spaces, _header when needed) so that 'mk2ds format' writes every line back byte for byte (jsonl, json)",
    )
    parser.add_argument(
        "--rejects", metavar="FILE", help="where rejected lines go when there is one input (default OUTPUT.rejects)"
    )
    parser.add_argument("--report", metavar="FILE", help="write the full report to FILE (atomically)")
    parser.add_argument(
        "--report-format", default="json", metavar="NAME", help="report output for --report (default json)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no per-file summary")
    add_engine_arguments(parser, pm)
    parser.add_argument(
        "--range-size",
        default=DEFAULT_RANGE_SIZE,
        metavar="SIZE",
        help=f"with an engine other than local: split logs larger than SIZE into line-aligned byte ranges (default {DEFAULT_RANGE_SIZE}; 0 = never split)",
    )
    for output in outputs.values():
        try:
            output.add_options(parser)
        except argparse.ArgumentError:
            pass  # two outputs offering the same option: the first one's definition serves both
    parser.set_defaults(handler=run_convert)


def _summary_line(result: JobResult) -> str:
    stats = result.stats
    target = "standard output" if result.job.output == "-" else result.job.output
    text = (
        f"{result.job.name}: {stats['lines']} lines = {stats['records']} records + {stats['rejected']} rejected"
        f" + {stats['blank']} blank -> {target}"
    )
    if stats.get("time_offset_unknown"):
        text += f"; {stats['time_offset_unknown']} zone-less times have no known offset (time-offset-unknown)"
    if result.rejects_written:
        text += f" (rejected lines: {result.job.rejects})"
    elif stats["rejected"] and result.job.rejects is None:
        text += " (rejected lines not saved: use --rejects FILE)"
    elif result.job.rejects_given and result.job.rejects and os.path.lexists(result.job.rejects):
        text += f" (nothing rejected; {result.job.rejects} left as it was)"
    return text


def _with_subject(result: JobResult) -> list[Finding]:
    """Each finding belongs to its file: the report's per-file counts (``samples``) come from the subject."""
    return [
        finding if finding.subject else dataclasses.replace(finding, subject=result.job.name)
        for finding in result.findings
    ]


def _describes_host(output: OutputFormat) -> bool:
    """Whether ``output`` describes the recorded host: it offers ``--sysinfo FILE`` (``ecs``), so in dataset
    context it also gets the host facts of each log's Sysinfo (``options.sysinfo_host``)."""
    return any("--sysinfo" in flags for flags, _kwargs in output.options)


def _with_sysinfo(
    pm: pluggy.PluginManager, jobs: list[ConvertJob], output: OutputFormat, args: argparse.Namespace
) -> list[ConvertJob]:
    """``jobs`` with what their distribution's Sysinfo says: the time zone unless the user gave
    ``--assume-offset`` (it comes first), the host facts for an output that describes the host unless the user
    gave ``--sysinfo FILE`` (explicit, it wins)."""
    offsets = not args.assume_offset
    hosts = _describes_host(output) and not getattr(args, "sysinfo", None)
    if not (offsets or hosts):
        return jobs  # nothing to look for: no Sysinfo file is read
    profiles = [Profile(document) for document in registry.profiles(pm).values()]
    return attach_sysinfo(jobs, getattr(args, "dataset", None), profiles, offsets=offsets, hosts=hosts)


def _refuse_lossless_elsewhere(args: argparse.Namespace) -> None:
    if getattr(args, "lossless", False) and args.format not in LOSSLESS_FORMATS:
        raise UsageError(
            f"--lossless: the line layout is kept for 'mk2ds format', which reads {' and '.join(LOSSLESS_FORMATS)}, not {args.format}"
        )


def _settle_options(args: argparse.Namespace) -> None:
    """Normalize and check the options that argparse cannot (:raises UsageError: naming the option)."""
    if args.assume_offset:
        try:
            args.assume_offset = normalize_offset(args.assume_offset)
        except ValueError as error:
            raise UsageError(f"--assume-offset: {error}") from None
    _refuse_lossless_elsewhere(args)
    if args.jobs < 0:
        raise UsageError("-j/--jobs must be 0 (one per core) or more")
    try:
        args.range_size = parse_size(str(args.range_size))
    except ValueError as error:
        raise UsageError(f"--range-size: {error}") from None


@dataclass
class _Outcome:
    """What the results of a run add up to: the report, the summary messages, and how the run ended."""

    report: Report
    messages: list[str] = field(default_factory=list)
    failed: bool = False
    internal: bool = False


def _outcome(results: list[JobResult], jobs: list[ConvertJob], report: Report, args: argparse.Namespace) -> _Outcome:
    """Fold the per-file results into the report (findings, facts, totals) and the stderr summary lines."""
    outcome = _Outcome(report)
    messages = outcome.messages
    totals = {"files": len(jobs), "lines": 0, "records": 0, "rejected": 0, "blank": 0, "bytes": 0}
    for result in results:
        report.findings.extend(_with_subject(result))
        if result.error:
            outcome.failed = True
            outcome.internal = outcome.internal or result.internal
            messages.append(f"mk2ds convert: error: {result.error}")
            continue
        stats = result.stats
        for key in ("lines", "records", "rejected", "blank", "bytes"):
            totals[key] += int(stats.get(key, 0))
        if stats["lines"] != stats["records"] + stats["rejected"] + stats["blank"]:
            outcome.internal = True
            messages.append(f"mk2ds convert: internal error: {result.job.name}: lines are not conserved: {stats}")
        report.subjects.append(result.job.name)
        report.facts[result.job.name] = {
            **{key: stats.get(key) for key in ("lines", "records", "rejected", "blank", "bytes", "encoding")},
            "output": result.job.output,
            **({"rejects": result.job.rejects} if result.rejects_written else {}),
        }
        if not args.quiet:
            messages.append(f"mk2ds convert: {_summary_line(result)}")
    report.stats = totals
    if len(jobs) > 1 and not args.quiet:
        messages.append(
            f"mk2ds convert: {len(jobs)} files: {totals['lines']} lines = {totals['records']} records"
            f" + {totals['rejected']} rejected + {totals['blank']} blank"
        )
    messages.extend(_finding_lines(report, args))
    return outcome


def _finding_lines(report: Report, args: argparse.Namespace) -> list[str]:
    """The first findings for stderr (info ones only without ``--quiet``), and how many more there are."""
    listed = [
        finding for finding in report.sorted_findings() if finding.severity is not Severity.INFO or not args.quiet
    ]
    lines = [
        f"  {finding.severity.value:7} {finding.code:24} {finding.location()}: {finding.message}"
        for finding in listed[:LISTED_FINDINGS]
    ]
    if len(listed) > LISTED_FINDINGS:
        more = f"  ... {len(listed) - LISTED_FINDINGS} more findings"
        lines.append(more + ("" if args.report else " (see --report FILE)"))
    return lines


def run_convert(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    output = registry.find_output(pm, "records", args.format)
    _settle_options(args)
    refused: list[Finding] = []
    jobs = plan_jobs(list(args.inputs), args.output, output.suffix, args.rejects, refused)
    jobs = _with_sysinfo(pm, jobs, output, args)
    refuse_side_outputs_over_files(jobs, args.report)
    guard_outputs([("-o", args.output), ("--rejects", args.rejects), ("--report", args.report)], args.inputs, pm=pm)
    engine_lines: list[str] = []
    if getattr(args, "engine", LOCAL_ENGINE) == LOCAL_ENGINE:
        results = _run_jobs(pm, jobs, output, args)
    else:
        refuse_standard_input(jobs)  # before a cluster is started for nothing
        with open_engine(pm, args, plugin_settings(pm)) as engine:
            assert engine is not None
            results, engine_lines = convert_on_engine(pm, engine, jobs, output, args)

    report = Report(
        command="convert",
        target={"location": ", ".join(args.inputs), "output": args.output, "format": output.name},
        tool=tool_description(pm),
    )
    report.findings.extend(refused)
    outcome = _outcome(results, jobs, report, args)
    messages = outcome.messages
    if not args.quiet:
        messages.extend(f"mk2ds convert: {line}" for line in engine_lines)
    if messages:
        print("\n".join(escape_text(message) for message in messages), file=sys.stderr)
    if args.report:
        rendered = registry.find_output(pm, "report", args.report_format).factory(report.to_dict(), args)
        write_atomic(args.report, rendered)
    if outcome.internal:
        return int(ExitCode.INTERNAL_ERROR)
    if outcome.failed:
        return int(ExitCode.USAGE_ERROR)
    if report.stats["rejected"] or not report.valid:
        return int(ExitCode.FINDINGS)
    return int(ExitCode.OK)
