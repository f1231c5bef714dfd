"""``mk2ds convert --engine NAME``: the local engine's outputs, produced in units of work on an engine (a library).

Units of work
    A log larger than ``--range-size`` is split into line-aligned byte ranges (:mod:`mk2ds.plugins.reader.byte_ranges`)
    when its output concatenates (see Merging) and the log reader reads ranges; every other log is converted
    whole, and whole logs are packed into tasks of about ``--range-size`` bytes (at most 64 logs each). Tasks
    go out biggest file first, a file's ranges in file order, so that files finish, and are merged, while
    others still run.

Line numbers and per-file decisions
    The ranges of a split file are scanned first (a small task each: its number of lines, and what the
    encoding sniffer needs), and the client fixes every range's absolute line offset and the file's encoding
    (decided once, for the whole file) before any range is converted. Every line number (findings, rejects,
    ``_line`` with ``--provenance``) is therefore written right the first time; nothing is renumbered.

Merging
    A task writes its range's records, in the chosen output format, to a hidden part file beside the final
    output (``.NAME.RUN.NNNNN.part``, written atomically so that a task run twice after a worker died never
    leaves a torn part) and its rejected lines to a rejects part. When every range of a file is done, the
    client concatenates the parts in file order into the output under its final name (atomically: a temporary
    name, then a rename), and the rejects likewise; a file converted whole is only renamed. Findings are
    merged with the reader's per-file rules (at most 100 listed per code, ``log-findings-truncated`` from the
    file's counts, ``log-encoding-detected``) and statistics are summed. Parts concatenate only for outputs
    that are a plain sequence of records, such as JSON Lines: the client checks the chosen output by writing
    probe records whole and in pieces (:func:`~mk2ds.plugins.convert.probes.output_concatenates`); other
    outputs (a JSON array, CSV with its header, Parquet) get whole files, still in parallel.

Failures
    A range that fails (an unreadable file, a worker that died more often than the engine retries) fails its
    file, as in the local engine: its parts are deleted and no output appears under the final name. When the
    run stops (an error, Ctrl-C), every part of the run is deleted. Paths are made absolute for the workers:
    inputs and outputs must be at the same paths on every worker (a shared file system).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from mk2ds.core import UsageError, registry
from mk2ds.core.atomic import atomic_writer
from mk2ds.core.engines import EngineSession, EngineTask, pack_tasks
from mk2ds.core.outputs import OutputFormat
from mk2ds.plugins.convert.jobs import ConvertJob, JobResult
from mk2ds.plugins.convert.merging import append_file, merged_findings, merged_stats
from mk2ds.plugins.convert.one_file import convert_file, remove_stale_rejects
from mk2ds.plugins.convert.probes import output_concatenates, reader_reads_parts
from mk2ds.plugins.reader.byte_ranges import FilePart, RangeScan, line_boundaries, plan_parts, scan_range

__all__ = ["append_file", "convert_on_engine", "output_concatenates", "reader_reads_parts", "refuse_standard_input"]

GROUP_FILES = 64
DEFAULT_GROUP_BYTES = 64 << 20


# ------------------------------------------------------------------------------------------------ tasks (on workers)


def scan_task(pm: pluggy.PluginManager, shared: Any, argument: tuple[str, str, int, int, str]) -> RangeScan | str:
    """Scan one range; an OS error comes back as its message."""
    name, source, start, end, encoding = argument
    try:
        return scan_range(source, start, end, encoding=encoding)
    except OSError as error:
        return f"{error.filename or name}: {error.strerror or error}"


def convert_task(
    pm: pluggy.PluginManager, args: argparse.Namespace, pieces: list[tuple[ConvertJob, FilePart | None]]
) -> list[JobResult]:
    """Convert pieces (whole files, or ranges with their :class:`FilePart`) into their part files."""
    output = registry.find_output(pm, "records", args.format)
    return [convert_file(pm, job, output, args, part=part) for job, part in pieces]


# ------------------------------------------------------------------------------------------------ plan


@dataclass
class _FilePlan:
    job: ConvertJob
    boundaries: list[int]
    parts: list[FilePart | None] = field(default_factory=lambda: [None])
    pieces: list[ConvertJob] = field(default_factory=list)
    scans: dict[int, RangeScan] = field(default_factory=dict)
    outcomes: dict[int, JobResult] = field(default_factory=dict)
    detected_cp932: bool = False
    result: JobResult | None = None

    @property
    def ranges(self) -> int:
        return len(self.boundaries) - 1


class _EngineConvert:
    def __init__(
        self, pm: pluggy.PluginManager, engine: EngineSession, output: OutputFormat, args: argparse.Namespace
    ) -> None:
        self.pm = pm
        self.engine = engine
        self.output = output
        self.args = args
        self.token = secrets.token_hex(8)
        self.folders: set[str] = set()
        self.stdout_folder: str | None = None
        self.merged_bytes = 0
        self.merge_seconds = 0.0
        self.parts = 0

    def plan(self, jobs: list[ConvertJob]) -> list[_FilePlan]:
        range_size = int(self.args.range_size)
        split = range_size > 0 and any(job.size > range_size for job in jobs)
        split = split and output_concatenates(self.output, self.args) and reader_reads_parts(self.pm)
        plans = []
        for job in jobs:
            boundaries = [0, job.size]
            if split and job.size > range_size:
                try:
                    boundaries = line_boundaries(job.source, job.size, range_size)
                except OSError:
                    pass  # converted whole: its task reports the error as the local engine does
            plans.append(_FilePlan(replace(job, source=os.path.abspath(job.source)), boundaries))
        return plans

    def _part_path(self, final: str, index: int, kind: str) -> str:
        if final == "-":
            if self.stdout_folder is None:
                self.stdout_folder = tempfile.mkdtemp(prefix=f"mk2ds-parts-{self.token}-")
            folder, name = self.stdout_folder, "stdout"
        else:
            folder, name = os.path.split(os.path.abspath(final))
        self.folders.add(folder)
        return os.path.join(folder, f".{name}.{self.token}.{index:05d}.{kind}")

    def scan(self, plans: list[_FilePlan]) -> None:
        encoding = getattr(self.args, "encoding", "auto") or "auto"
        tasks = [
            EngineTask(
                f"scan {plan.job.name} [{start}, {end})",
                end - start,
                (number, index, (plan.job.name, plan.job.source, start, end, encoding)),
            )
            for number, plan in enumerate(plans)
            if plan.ranges > 1
            for index, (start, end) in enumerate(zip(plan.boundaries, plan.boundaries[1:], strict=False))
        ]
        if not tasks:
            return
        for outcome in self.engine.run(
            _scan_entry, tasks, label="scan", show_progress=False if self.args.quiet else None
        ):
            number, index, _argument = outcome.task.argument
            plan = plans[number]
            if plan.result is not None:
                continue
            if outcome.error is not None or isinstance(outcome.result, str):
                internal = outcome.error is not None
                message = f"{plan.job.name}: worker failed: {outcome.error}" if internal else str(outcome.result)
                plan.result = JobResult(plan.job, error=message, internal=internal)
                continue
            plan.scans[index] = outcome.result
        for plan in plans:
            if plan.ranges > 1 and plan.result is None:
                ordered = [plan.scans[index] for index in range(plan.ranges)]
                parts, plan.detected_cp932 = plan_parts(plan.boundaries, ordered, encoding)
                plan.parts = list(parts)

    def convert(self, plans: list[_FilePlan]) -> None:
        ranged: list[EngineTask] = []
        whole: list[tuple[int, int]] = []
        order = sorted(range(len(plans)), key=lambda number: -plans[number].job.size)
        for number in order:
            plan = plans[number]
            if plan.result is not None:
                continue
            plan.pieces = [
                replace(
                    plan.job,
                    output=self._part_path(plan.job.output, index, "part"),
                    rejects=None
                    if plan.job.rejects is None
                    else self._part_path(plan.job.rejects, index, "rejects.part"),
                )
                for index in range(len(plan.parts))
            ]
            if len(plan.parts) > 1:
                ranged += [self._task(plans, [(number, index)]) for index in range(len(plan.parts))]
            else:
                whole.append((number, 0))
        target = int(self.args.range_size) or DEFAULT_GROUP_BYTES
        groups = pack_tasks([plans[number].job.size for number, _index in whole], target, GROUP_FILES)
        tasks = ranged + [self._task(plans, [whole[position] for position in group]) for group in groups]
        shared = argparse.Namespace(**{key: value for key, value in vars(self.args).items() if key != "handler"})
        for outcome in self.engine.run(
            _convert_entry, tasks, shared=shared, label="convert", show_progress=False if self.args.quiet else None
        ):
            for position, (number, index) in enumerate(outcome.task.argument[0]):
                plan = plans[number]
                if outcome.error is not None:
                    failed = f"{plan.job.name}: worker failed: {outcome.error}"
                    plan.outcomes[index] = JobResult(plan.pieces[index], error=failed, internal=True)
                else:
                    plan.outcomes[index] = outcome.result[position]
                if len(plan.outcomes) == len(plan.parts):
                    plan.result = self.merge(plan)

    def _task(self, plans: list[_FilePlan], members: list[tuple[int, int]]) -> EngineTask:
        pieces = [(plans[number].pieces[index], plans[number].parts[index]) for number, index in members]
        weight = sum(job.size if part is None else part.end - part.start for job, part in pieces)
        job, part = pieces[0]
        key = f"convert {job.name}" + (f" [{part.start}, {part.end})" if part is not None else "")
        return EngineTask(
            key + (f" and {len(members) - 1} more" if len(members) > 1 else ""), weight, (members, pieces)
        )

    # -------------------------------------------------------------------------------------------- merge

    def merge(self, plan: _FilePlan) -> JobResult:
        """The file's result from its pieces' outcomes: its outputs concatenated, or its first failure."""
        started = time.perf_counter()
        outcomes = [plan.outcomes[index] for index in range(len(plan.parts))]
        try:
            failed = next((outcome for outcome in outcomes if outcome.error), None)
            if failed is not None:
                internal = any(outcome.internal for outcome in outcomes if outcome.error)
                return JobResult(plan.job, findings=failed.findings, error=failed.error, internal=internal)
            return self._merge_outputs(plan, outcomes)
        finally:
            _remove_pieces(plan)
            self.merge_seconds += time.perf_counter() - started

    def _merge_outputs(self, plan: _FilePlan, outcomes: list[JobResult]) -> JobResult:
        """Concatenate the pieces' records and rejects under the final names; merge findings and statistics."""
        job = plan.job
        rejects = [outcome.job.rejects for outcome in outcomes if outcome.rejects_written and outcome.job.rejects]
        try:
            if rejects and job.rejects:
                self._concatenate(rejects, job.rejects)
            else:
                remove_stale_rejects(job)  # only ever one an earlier run wrote
            self._concatenate([str(outcome.job.output) for outcome in outcomes], job.output)
        except OSError as error:
            return JobResult(job, error=f"{error.filename or job.name}: {error.strerror or error}")
        if len(outcomes) == 1:
            return replace(outcomes[0], job=job)
        return JobResult(
            job,
            stats=merged_stats(outcomes),
            findings=merged_findings(job.name, plan.detected_cp932, outcomes),
            rejects_written=bool(rejects),
        )

    def _concatenate(self, parts: list[str], target: str) -> None:
        self.parts += len(parts)
        if target == "-":
            for part in parts:
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
        elif len(parts) == 1:
            os.replace(parts[0], target)
        else:
            with atomic_writer(target) as handle:
                for part in parts:
                    self.merged_bytes += append_file(part, handle)

    def cleanup(self) -> None:
        """Delete every part file of this run that is left (a failed or interrupted run)."""
        for folder in self.folders:
            try:
                names = [entry.name for entry in os.scandir(folder) if self.token in entry.name]
            except OSError:
                continue
            for name in names:
                try:
                    os.unlink(os.path.join(folder, name))
                except OSError:
                    pass
        if self.stdout_folder is not None:
            shutil.rmtree(self.stdout_folder, ignore_errors=True)

    def summary(self, plans: list[_FilePlan]) -> list[str]:
        split = sum(1 for plan in plans if len(plan.parts) > 1)
        copied = f"{self.merged_bytes / 1e6:,.1f} MB copied in {self.merge_seconds:.2f} s on the client"
        return [f"merge: {len(plans)} files ({split} split into ranges), {self.parts} parts, {copied}"]


def _scan_entry(
    pm: pluggy.PluginManager, shared: Any, argument: tuple[int, int, tuple[str, str, int, int, str]]
) -> RangeScan | str:
    return scan_task(pm, shared, argument[2])


def _convert_entry(
    pm: pluggy.PluginManager, shared: argparse.Namespace, argument: tuple[Any, list[tuple[ConvertJob, FilePart | None]]]
) -> list[JobResult]:
    return convert_task(pm, shared, argument[1])


def _remove_pieces(plan: _FilePlan) -> None:
    """Delete the part files of ``plan`` that are left (merged parts were renamed or copied)."""
    for piece in plan.pieces:
        for path in (piece.output, piece.rejects):
            if path and os.path.exists(path):
                os.unlink(path)


def refuse_standard_input(jobs: list[ConvertJob]) -> None:
    """Workers cannot read the client's standard input. :raises UsageError:"""
    if any(job.source == "-" for job in jobs):
        raise UsageError("standard input can be converted by the local engine only (--engine local)")


def convert_on_engine(
    pm: pluggy.PluginManager,
    engine: EngineSession,
    jobs: list[ConvertJob],
    output: OutputFormat,
    args: argparse.Namespace,
) -> tuple[list[JobResult], list[str]]:
    """Convert ``jobs`` on ``engine``; the results (in job order) and summary lines for standard error."""
    refuse_standard_input(jobs)
    run = _EngineConvert(pm, engine, output, args)
    try:
        plans = run.plan(jobs)
        run.scan(plans)
        run.convert(plans)
    finally:
        run.cleanup()
    missing = [plan.job.name for plan in plans if plan.result is None]
    if missing:  # pragma: no cover - every task yields an outcome; never report a silent partial result
        raise RuntimeError(f"the engine returned no result for {', '.join(missing[:5])}")
    ordered = [replace(plan.result, job=job) for job, plan in zip(jobs, plans, strict=True) if plan.result is not None]
    return ordered, [*engine.summary(), *run.summary(plans)]
