"""The one pass over each log: events, processes, relations and the log checks from the same records.

Each log is a unit of work (:func:`export_logs_task`), run in ``-j N`` local processes or on an engine
(``--engine dask``). It opens the log once through the log checks (:func:`mk2ds.plugins.checks.logs.check_log`),
whose records stream on into the ``events`` writer and into the process model
(``mk2ds_build_process_tree``) that the checks summarize and that gives the ``processes`` and ``relations``
rows. A task writes its log's events file under its final partition folder in the staging folder, and its
processes and relations as part files that the client concatenates in log order: every engine and every
``-j`` gives the same files, byte for byte.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from mk2ds.core import Fact, Finding, PluginSettings, VerifyContext
from mk2ds.core.dataset import Dataset, Entry, SubDataset, open_dataset
from mk2ds.core.engines import EngineSession, EngineTask, pack_tasks
from mk2ds.core.hookcalls import plugin_error
from mk2ds.plugins.checks.logs import check_log
from mk2ds.plugins.export.tables import (
    EVENT_TABLE_FIELDS,
    PARTITION_NAMES,
    PROCESS_FIELDS,
    RELATION_FIELDS,
    EventRows,
    process_rows,
    relation_rows,
)
from mk2ds.plugins.export.writers import ParquetTableWriter, partition_folder, use_system_memory_pool

__all__ = ["LogJob", "LogPass", "LogResult", "export_logs_task", "part_path", "run_log_pass"]

#: The process model keeps counts and relations; one kept event and peer per process is enough here.
TREE_OPTIONS = argparse.Namespace(max_events=1, max_peers=1)
TASK_BYTES = 64 << 20
TASK_FILES = 32


@dataclass(frozen=True)
class LogJob:
    """One log: its dataset path and size, its subset and sample, its host's offset (from Sysinfo), and its
    number in path order (names its part files)."""

    path: str
    size: int
    subset: str
    sample: str | None
    host_offset: str | None
    number: int

    @property
    def events_file(self) -> str:
        """The log's events file, relative to the export: ``events/subset=…/sample=…/NAME.parquet``."""
        name = os.path.basename(self.path)
        stem = name.rsplit(".", 1)[0] if "." in name else name
        digest = hashlib.sha256(self.path.encode("utf-8")).hexdigest()[:8]
        return f"events/{partition_folder([('subset', self.subset), ('sample', self.sample)])}/{stem}-{digest}.parquet"


@dataclass
class LogResult:
    job: LogJob
    items: list[Finding | Fact] = field(default_factory=list)
    events: int = 0
    processes: int = 0
    relations: int = 0


@dataclass
class LogPass:
    """What every task shares: the dataset, the verification context (level ``full``), the staging folder."""

    location: str
    payload: str | None
    context: VerifyContext
    staging: str
    assume_offset: str | None


def part_path(staging: str, table: str, number: int) -> str:
    return os.path.join(staging, ".parts", table, f"{number:06d}.parquet")


class _Tee:
    """Passes records on to the process model and writes each as an events row on the way."""

    def __init__(self, writer: ParquetTableWriter, job: LogJob, assume_offset: str | None) -> None:
        self.writer = writer
        self.job = job
        self.assume_offset = assume_offset
        self.model: Any = None

    def through(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        rows = EventRows(self.job.host_offset, self.assume_offset, (self.job.subset, self.job.sample))
        write, values = self.writer.write_values, rows.values
        for record in records:
            write(values(record))
            yield record


def export_one_log(pm: pluggy.PluginManager, dataset: Dataset, shared: LogPass, job: LogJob) -> LogResult:
    """Read one log once: write its events, its processes and relations parts; return the check results."""
    context = shared.context
    context.pm = pm
    result = LogResult(job)
    events = ParquetTableWriter(
        os.path.join(shared.staging, job.events_file), EVENT_TABLE_FIELDS, "events", dictionary=PARTITION_NAMES
    )
    tee = _Tee(events, job, shared.assume_offset)

    def build_tree(records: Iterable[Mapping[str, Any]]) -> Any:
        tee.model = pm.hook.mk2ds_build_process_tree(records=tee.through(records), options=TREE_OPTIONS)
        return tee.model

    try:
        result.items = list(check_log(Entry(job.path, job.size), dataset, context, build_tree=build_tree))
    finally:
        events.close()
    result.events = events.rows
    base = {"file": job.path, "subset": job.subset, "sample": job.sample}
    model = tee.model
    if model is not None and hasattr(model, "preorder"):
        for table, fields, rows in (
            ("processes", PROCESS_FIELDS, process_rows(model, base, job.host_offset, shared.assume_offset)),
            ("relations", RELATION_FIELDS, relation_rows(model, base)),
        ):
            writer = ParquetTableWriter(part_path(shared.staging, table, job.number), fields, table)
            try:
                writer.write_all(rows)
            finally:
                writer.close()
            setattr(result, table, writer.rows)
    return result


def _guarded(pm: pluggy.PluginManager, dataset: Dataset, shared: LogPass, job: LogJob) -> LogResult:
    try:
        return export_one_log(pm, dataset, shared, job)
    except Exception as error:  # noqa: BLE001 - one broken log must not hide the others
        return LogResult(job, items=[plugin_error("export", "export", error, job.path)])


def export_logs_task(pm: pluggy.PluginManager, shared: LogPass, jobs: list[LogJob]) -> list[LogResult]:
    """An engine task: export ``jobs`` (on a worker)."""
    use_system_memory_pool()
    with open_dataset(shared.location) as container:
        dataset: Dataset = SubDataset(container, shared.payload) if shared.payload else container
        return [_guarded(pm, dataset, shared, job) for job in jobs]


# ------------------------------------------------------------------------------------------------ local processes

_WORKER: dict[str, Any] = {}


def _worker_init(settings: PluginSettings) -> None:
    _WORKER["pm"] = _WORKER.get("parent") or settings.build()


def _worker_run(shared: LogPass, jobs: list[LogJob]) -> list[LogResult]:
    return export_logs_task(_WORKER["pm"], shared, jobs)


def _tasks(jobs: Sequence[LogJob]) -> list[list[LogJob]]:
    ordered = sorted(jobs, key=lambda job: (-job.size, job.path))  # biggest first keeps workers busy
    groups = pack_tasks([job.size for job in ordered], TASK_BYTES, TASK_FILES)
    return [[ordered[index] for index in group] for group in groups]


def _failed(jobs: Iterable[LogJob], error: BaseException) -> dict[int, LogResult]:
    return {job.number: LogResult(job, items=[plugin_error("export", "export", error, job.path)]) for job in jobs}


def _on_engine(
    engine: EngineSession, shared: LogPass, tasks: list[list[LogJob]], show_progress: bool | None
) -> dict[int, LogResult]:
    found: dict[int, LogResult] = {}
    engine_tasks = [
        EngineTask(
            f"export {group[0].path}" + (f" and {len(group) - 1} more" if len(group) > 1 else ""),
            sum(job.size for job in group),
            group,
        )
        for group in tasks
    ]
    for outcome in engine.run(
        export_logs_task, engine_tasks, shared=shared, label="export", show_progress=show_progress
    ):
        if outcome.error is not None:
            found.update(
                _failed(
                    outcome.task.argument, RuntimeError(f"the task exporting this log never finished: {outcome.error}")
                )
            )
        else:
            found.update({result.job.number: result for result in outcome.result})
    return found


def _in_processes(
    pm: pluggy.PluginManager, shared: LogPass, tasks: list[list[LogJob]], workers: int, settings: PluginSettings
) -> dict[int, LogResult]:
    found: dict[int, LogResult] = {}
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    # Forked workers use this very plugin manager (also plugins registered programmatically).
    _WORKER["parent"] = pm if method == "fork" else None
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_worker_init,
        initargs=(settings,),
    ) as pool:
        futures = {pool.submit(_worker_run, shared, group): group for group in tasks}
        for future in concurrent.futures.as_completed(futures):
            try:
                found.update({result.job.number: result for result in future.result()})
            except Exception as error:  # noqa: BLE001 - a dead worker fails its logs, not the run
                found.update(_failed(futures[future], error))
    return found


def run_log_pass(
    pm: pluggy.PluginManager,
    shared: LogPass,
    jobs: Sequence[LogJob],
    *,
    workers: int,
    settings: PluginSettings,
    engine: EngineSession | None,
    show_progress: bool | None = None,
) -> list[LogResult]:
    """Export every log; results in ``jobs`` order whatever ran where."""
    tasks = _tasks(jobs)
    if engine is not None:
        found = _on_engine(engine, shared, tasks, show_progress)
    elif workers <= 1 or len(tasks) < 2:
        found = {result.job.number: result for group in tasks for result in export_logs_task(pm, shared, group)}
    else:
        found = _in_processes(pm, shared, tasks, workers, settings)
    return [found[job.number] for job in jobs]
