"""The ``dask`` engine: ``mk2ds verify|convert --engine dask`` runs the work on a Dask cluster.

Feature package ``dask`` (plugin ``dask``: ``mk2ds_register_engines``), with ``progress`` (what the client shows
while and after work runs) as its library. ``docs/scale-out.md`` explains the design.

Cluster
    ``--scheduler ADDRESS`` (``tcp://host:8786``) uses an existing cluster. Without it a ``LocalCluster`` is
    started for the run and stopped after it: ``--workers N`` worker processes (default one per core), one
    thread each (the work is pure Python), listening on 127.0.0.1 only, without dashboard. Dask is an
    optional extra: ``pip install 'mk2ds[dask]'``; without it the command says so (exit code 2).

Plugins on workers
    Each worker builds its plugin manager once, with the client's settings (blocked plugins, entry-point
    loading, the environment folded in), so built-in and third-party plugins run there unchanged. Before any
    work, every worker's plugins and versions are compared with the client's: a plugin missing on a worker,
    one only a worker has, or another version, stops the run with a message naming the plugin and the worker
    (exit code 2); a worker joining later is checked before its first task.

Failures
    When a worker dies, Dask runs its tasks again elsewhere (up to ``distributed.scheduler.allowed-failures``
    times, 3 by default). A task that cannot finish comes back as an error naming it; commands then fail the
    files concerned (exit code 3), as when a local worker process dies. Results are never silently partial.

Progress and summary
    On a terminal, one line: tasks and megabytes done, the rate, the workers. After the run, commands print
    where the time went (per phase, per worker: :mod:`mk2ds.plugins.dask.progress`) unless ``--quiet``.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pluggy

from mk2ds.core import PluginSettings, UsageError, hookimpl
from mk2ds.core.engines import Engine, EngineTask, TaskFunction, TaskOutcome
from mk2ds.core.pluginmanager import plugin_infos
from mk2ds.plugins.dask.progress import EngineProgress, Ledger, TaskTiming

__all__ = [
    "DaskSession",
    "PluginMismatch",
    "compare_plugins",
    "local_cluster_options",
    "plugin_versions",
    "worker_config",
]

INSTALL_HINT = "pip install 'mk2ds[dask]'"
CONNECT_TIMEOUT = 30.0


class PluginMismatch(RuntimeError):
    """A worker's plugins differ from the client's."""


def plugin_versions(pm: pluggy.PluginManager) -> dict[str, str | None]:
    """Every plugin taking part (not blocked), with its version."""
    return {info.name: info.version for info in plugin_infos(pm) if not info.blocked}


def compare_plugins(expected: Mapping[str, str | None], found: Mapping[str, str | None], worker: str) -> str | None:
    """A message naming every difference between the client's plugins and a worker's, or ``None``."""
    problems = []
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    other = sorted(name for name in set(expected) & set(found) if expected[name] != found[name])
    if missing:
        problems.append(
            f"plugin(s) {', '.join(missing)} loaded here but missing on worker {worker}: install them on every worker"
        )
    if extra:
        problems.append(
            f"plugin(s) {', '.join(extra)} loaded on worker {worker} but not here: install them here too, or block them with -p no:NAME"
        )
    if other:
        versions = ", ".join(f"{name} {expected[name]} here, {found[name]} there" for name in other[:5])
        problems.append(f"other plugin versions on worker {worker} ({versions}): install the same versions everywhere")
    return "; ".join(problems) or None


# ------------------------------------------------------------------------------------------------ on workers

_MANAGERS: dict[PluginSettings, tuple[pluggy.PluginManager, dict[str, str | None]]] = {}


def _worker_manager(settings: PluginSettings) -> tuple[pluggy.PluginManager, dict[str, str | None]]:
    """This worker's plugin manager for ``settings`` (built once per worker process) and its plugins."""
    entry = _MANAGERS.get(settings)
    if entry is None:
        pm = settings.build()
        entry = _MANAGERS[settings] = (pm, plugin_versions(pm))
    return entry


def _worker_plugins(settings: PluginSettings) -> dict[str, str | None]:
    return _worker_manager(settings)[1]


def _worker_name() -> str:
    from distributed import get_worker

    try:
        return str(get_worker().address)
    except ValueError:  # pragma: no cover - not inside a worker
        return f"pid {os.getpid()}"


def run_task(
    function: TaskFunction, settings: PluginSettings, expected: dict[str, str | None], shared: Any, argument: Any
) -> tuple[Any, TaskTiming]:
    """What every Dask task runs: the plugin check, then ``function(pm, shared, argument)``, timed."""
    started, cpu = time.perf_counter(), time.process_time()
    worker = _worker_name()
    pm, found = _worker_manager(settings)
    problem = compare_plugins(expected, found, worker)
    if problem:
        raise PluginMismatch(problem)
    result = function(pm, shared, argument)
    return result, TaskTiming(worker, time.perf_counter() - started, time.process_time() - cpu)


# ------------------------------------------------------------------------------------------------ on the client


def local_cluster_options(workers: int) -> dict[str, Any]:
    """``LocalCluster`` keywords: processes with one thread each, everything on 127.0.0.1, no dashboard.

    Without a dashboard the scheduler still serves a small HTTP endpoint (health, metrics); it gets a free
    port on 127.0.0.1 instead of 8787, which another cluster may hold.
    """
    return {
        "n_workers": workers,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": None,
        "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        "silence_logs": logging.ERROR,
    }


def worker_config() -> dict[str, Any]:
    """Dask settings for the clusters mk2ds starts (the nannies hand them to the worker processes).

    The workers' statistical profiler samples the task thread every 10 ms and takes the GIL to do it, and
    nobody looks at it without a dashboard. Dask also starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``,
    so that memory goes back to the system early; the reader allocates and frees megabyte blocks all the
    time, and with that setting glibc returns them and faults them in again on every block (a 250 MB log on
    one worker: 1.45 s of system time instead of 0.62 s). mk2ds's memory is bounded anyway.
    """
    import dask

    environment = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    environment.pop("MALLOC_TRIM_THRESHOLD_", None)
    return {"distributed.worker.profile.enabled": False, "distributed.nanny.pre-spawn-environ": environment}


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as error:
        raise UsageError(
            f"--engine dask needs Dask's distributed scheduler, which is not installed ({error.name}): {INSTALL_HINT}"
        ) from None
    return distributed


class DaskSession:
    """A Dask client for one command: connected to ``--scheduler``, or to a LocalCluster started for it."""

    def __init__(self, options: argparse.Namespace, pm: pluggy.PluginManager, settings: PluginSettings) -> None:
        distributed = _import_distributed()
        self.settings = settings.resolved()
        self.expected = plugin_versions(pm)
        self.token = secrets.token_hex(6)
        self.ledger = Ledger()
        self.cluster: Any = None
        scheduler = getattr(options, "scheduler", None)
        workers = getattr(options, "workers", None)
        started = time.perf_counter()
        if scheduler:
            if workers is not None:
                raise UsageError(
                    "--workers starts a local cluster; with --scheduler the cluster's own workers are used"
                )
            try:
                self.client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise UsageError(f"--scheduler {scheduler}: cannot connect: {error}") from None
            self.description = f"cluster at {scheduler}"
        else:
            count = (os.cpu_count() or 1) if workers is None else workers
            if count < 1:
                raise UsageError("--workers must be 1 or more")
            import dask

            with dask.config.set(worker_config()):
                self.cluster = distributed.LocalCluster(**local_cluster_options(count))
            self.client = distributed.Client(self.cluster, set_as_default=False)
            self.description = f"LocalCluster of {count} worker processes on 127.0.0.1"
        try:
            self._check_workers()
        except BaseException:
            self.close()
            raise
        self.description += f", ready in {time.perf_counter() - started:.2f} s"

    def _check_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            raise UsageError(f"the Dask cluster has no worker (waited {CONNECT_TIMEOUT:.0f} s)") from None
        try:
            found: dict[str, dict[str, str | None]] = self.client.run(_worker_plugins, self.settings)
        except Exception as error:  # noqa: BLE001 - e.g. mk2ds is not installed on a worker
            raise UsageError(
                f"the Dask workers cannot run mk2ds ({type(error).__name__}: {error}); install mk2ds, the same version, on every worker"
            ) from None
        problems = [
            problem
            for worker, plugins in sorted(found.items())
            if (problem := compare_plugins(self.expected, plugins, worker))
        ]
        if problems:
            raise UsageError("; ".join(problems))

    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def run(
        self,
        function: TaskFunction,
        tasks: Sequence[EngineTask],
        *,
        shared: Any = None,
        label: str = "work",
        show_progress: bool | None = None,
    ) -> Iterator[TaskOutcome]:
        from distributed import as_completed

        started = time.perf_counter()
        progress = EngineProgress(
            label, len(tasks), sum(task.weight for task in tasks), self.workers(), enabled=show_progress
        )
        shared_data = None
        if shared is not None:  # sent once to every worker (scatter takes a list as many objects: wrap it)
            [shared_data] = self.client.scatter([shared], broadcast=True, hash=False)
        pending: dict[Any, EngineTask] = {}
        failed = 0
        busy = 0.0
        try:
            for index, task in enumerate(tasks):
                key = f"mk2ds-{label}-{self.token}-{index}"
                future = self.client.submit(
                    run_task, function, self.settings, self.expected, shared_data, task.argument, key=key, pure=False
                )
                pending[future] = task
            for future in as_completed(list(pending), loop=self.client.loop):
                task = pending.pop(future)
                try:
                    result, timing = future.result()
                except Exception as error:  # noqa: BLE001 - the task never finished: say which and why
                    failed += 1
                    outcome = TaskOutcome(task, error=f"task {task.key!r} failed: {type(error).__name__}: {error}")
                else:
                    self.ledger.record(timing, task.weight)
                    busy += timing.seconds
                    outcome = TaskOutcome(task, result, worker=timing.worker, seconds=timing.seconds)
                future.release()
                progress.advance(task.weight)
                yield outcome
        finally:
            if pending:
                self.client.cancel(list(pending))
            if shared_data is not None:
                shared_data.release()
            progress.close()
            self.ledger.phase(
                label, len(tasks), sum(task.weight for task in tasks), time.perf_counter() - started, failed, busy
            )

    def summary(self) -> list[str]:
        return [f"dask: {self.description}", *(f"dask: {line}" for line in self.ledger.lines())]

    def close(self) -> None:
        client, cluster = getattr(self, "client", None), self.cluster
        self.cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


@hookimpl
def mk2ds_register_engines() -> list[Engine]:
    return [
        Engine(
            "dask",
            f"a Dask cluster: --scheduler ADDRESS, or a local one of --workers N processes ({INSTALL_HINT})",
            DaskSession,
            options=(
                (
                    ("--scheduler",),
                    {
                        "metavar": "ADDRESS",
                        "help": "with --engine dask: the scheduler of an existing cluster (tcp://HOST:8786)",
                    },
                ),
                (
                    ("--workers",),
                    {
                        "type": int,
                        "metavar": "N",
                        "help": "with --engine dask: start a local cluster of N processes (default one per core)",
                    },
                ),
            ),
        )
    ]
