"""Execution engines: where the units of work of ``verify`` and ``convert`` run (``--engine NAME``).

The host itself knows one engine, ``local``: the worker processes of ``-j N`` on this machine, which needs
nothing. Plugins add others through ``mk2ds_register_engines`` (``dask``, from
:mod:`mk2ds.plugins.dask`, runs on a Dask cluster). The core never imports an engine's libraries.

An engine runs *tasks*. A task is a module-level function (so that it travels by reference) called on a worker
as ``function(pm, shared, argument)``: ``pm`` is a plugin manager the worker built with the client's
:class:`~mk2ds.core.pluginmanager.PluginSettings` (the same built-in and third-party plugins, the same blocked
ones), ``shared`` is one object sent once to every worker for the whole run (a verification context, the
command's options), and ``argument`` is the task's own (picklable) data. Results come back in completion
order as :class:`TaskOutcome` objects; the caller puts them in a deterministic order, so that every engine
produces exactly what the local one does.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

from mk2ds.core.errors import UsageError
from mk2ds.core.hookcalls import collect_registrations

if TYPE_CHECKING:
    from mk2ds.core.pluginmanager import PluginSettings

__all__ = [
    "LOCAL_ENGINE",
    "MIN_GROUPS",
    "Engine",
    "EngineSession",
    "EngineTask",
    "TaskFunction",
    "TaskOutcome",
    "add_engine_arguments",
    "engines",
    "open_engine",
    "pack_tasks",
]

LOCAL_ENGINE = "local"

#: ``function(pm, shared, argument) -> result``, run on a worker; defined at module level.
TaskFunction = Callable[[pluggy.PluginManager, Any, Any], Any]


@dataclass(frozen=True)
class EngineTask:
    """One unit of work: ``key`` names it (unique in a run), ``weight`` is its input in bytes (progress,
    rates and the per-worker summary), ``argument`` is what the task function receives."""

    key: str
    weight: int
    argument: Any


@dataclass
class TaskOutcome:
    """What became of a task: its ``result``, or an ``error`` message (the task never finished: its workers
    died, or the worker cannot run it). ``worker`` and ``seconds`` say where and how long it ran."""

    task: EngineTask
    result: Any = None
    error: str | None = None
    worker: str | None = None
    seconds: float = 0.0


class EngineSession(Protocol):
    """A started engine (a cluster connected to, or started for the run). Close it with :meth:`close`."""

    def run(
        self,
        function: TaskFunction,
        tasks: Sequence[EngineTask],
        *,
        shared: Any = None,
        label: str = "work",
        show_progress: bool | None = None,
    ) -> Iterator[TaskOutcome]:
        """Run every task; yield each outcome as it completes (any order). Stopping the iteration cancels
        the tasks not yet done. ``label`` names the phase in progress lines and the summary."""
        ...

    def summary(self) -> list[str]:
        """Lines saying where the time went: per phase and per worker (for standard error)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Engine:
    """A registered engine. ``factory(options, pm, settings)`` starts a session (raise
    :class:`~mk2ds.core.errors.UsageError`, naming what to install or fix, when it cannot start);
    ``options`` are its command-line options as ``(flags, argparse keyword arguments)`` pairs, added to
    every command that offers ``--engine``."""

    name: str
    description: str
    factory: Callable[[argparse.Namespace, pluggy.PluginManager, PluginSettings], EngineSession]
    options: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = field(default=())

    def add_options(self, parser: argparse.ArgumentParser | Any) -> None:
        for flags, kwargs in self.options:
            parser.add_argument(*flags, **kwargs)


def engines(pm: pluggy.PluginManager) -> dict[str, Engine]:
    """Every engine registered through ``mk2ds_register_engines``, by name (``local`` is not among them)."""
    table: dict[str, Engine] = {}
    for plugin, engine in collect_registrations(pm, "mk2ds_register_engines"):
        if engine.name == LOCAL_ENGINE or engine.name in table:
            raise RuntimeError(f"plugin {plugin!r} registers engine {engine.name!r} a second time")
        table[engine.name] = engine
    return table


def add_engine_arguments(parser: argparse.ArgumentParser, pm: pluggy.PluginManager) -> None:
    """``--engine NAME`` and the options of every registered engine."""
    table = engines(pm)
    described = "; ".join(f"{name}: {engine.description}" for name, engine in sorted(table.items()))
    parser.add_argument(
        "--engine",
        choices=[LOCAL_ENGINE, *sorted(table)],
        default=LOCAL_ENGINE,
        help=f"where the work runs (default local: this machine, -j N processes){'; ' + described if described else ''}",
    )
    for engine in table.values():
        try:
            engine.add_options(parser)
        except argparse.ArgumentError:
            pass  # two engines offering the same option: the first one's definition serves both


@contextlib.contextmanager
def open_engine(
    pm: pluggy.PluginManager, options: argparse.Namespace, settings: PluginSettings
) -> Iterator[EngineSession | None]:
    """The session of ``options.engine`` for the block, or ``None`` for the local engine."""
    name = getattr(options, "engine", None) or LOCAL_ENGINE
    if name == LOCAL_ENGINE:
        yield None
        return
    table = engines(pm)
    if name not in table:
        raise UsageError(f"unknown engine {name!r} (known: {', '.join([LOCAL_ENGINE, *sorted(table)])})")
    session = table[name].factory(options, pm, settings)
    try:
        yield session
    finally:
        session.close()


#: Small items are grouped into at least about this many tasks (when there are that many items), so that
#: a small run still spreads over the workers; big runs get groups of the caller's limit.
MIN_GROUPS = 64


def pack_tasks(weights: Sequence[int], limit: int, max_items: int) -> list[list[int]]:
    """Indexes of ``weights`` (in the given order) packed into consecutive groups of at most ``max_items``
    items and about ``limit`` total weight (less for small runs: a 64th of the total); an item heavier than
    that is a group of its own. Given the biggest first, the big items run early and the small ones fill
    the end of the run."""
    target = min(limit, max(1, sum(weights) // MIN_GROUPS))
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for index, weight in enumerate(weights):
        if current and (total + weight > target or len(current) >= max_items):
            groups.append(current)
            current, total = [], 0
        current.append(index)
        total += weight
    if current:
        groups.append(current)
    return groups
