"""Progress and time accounting for engines (a library): what the client shows while and after work runs.

:class:`EngineProgress` draws one line on a terminal (never in pipes or CI logs): tasks done, megabytes done,
the rate, the workers. :class:`Ledger` collects each finished task's worker, wall and CPU seconds and input
bytes, and each phase's wall time, and says where the time went: per phase (tasks, MB, seconds, MB/s) and per
worker (tasks, MB, busy seconds and the share of the run they were busy, CPU seconds, MB/s while busy). A
worker busy much less than the run lasted waited for the scheduler, for data, or at the end for the last
tasks; a worker whose CPU seconds are well below its busy seconds waited for the disk or shared its core.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

__all__ = ["EngineProgress", "Ledger", "TaskTiming"]


@dataclass(frozen=True)
class TaskTiming:
    """Measured on the worker around one task."""

    worker: str
    seconds: float
    cpu_seconds: float


class EngineProgress:
    """``EngineProgress(label, tasks, total_bytes, workers)``; ``advance(bytes)`` per finished task."""

    def __init__(
        self,
        label: str,
        tasks: int,
        total: int,
        workers: int,
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.tasks = tasks
        self.total = max(total, 0)
        self.workers = workers
        self.done_tasks = 0
        self.done = 0
        self.started = time.monotonic()
        self._last_draw = 0.0

    def advance(self, amount: int) -> None:
        self.done_tasks += 1
        self.done += amount
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and self.done_tasks < self.tasks:
            return
        self._last_draw = now
        rate = self.done / max(now - self.started, 1e-6) / 1e6
        percent = 100.0 * self.done / self.total if self.total else 100.0 * self.done_tasks / max(self.tasks, 1)
        filled = int(24 * min(percent, 100.0) / 100)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'-' * (24 - filled)}] {percent:5.1f}% {self.done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB"
            f" {rate:,.1f} MB/s, {self.done_tasks}/{self.tasks} tasks, {self.workers} workers"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


@dataclass
class _WorkerTotals:
    tasks: int = 0
    weight: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0


@dataclass
class _Phase:
    label: str
    tasks: int
    weight: int
    seconds: float
    failed: int
    busy: float


@dataclass
class Ledger:
    """Where the time went, over every phase of a session."""

    workers: dict[str, _WorkerTotals] = field(default_factory=dict)
    phases: list[_Phase] = field(default_factory=list)

    def record(self, timing: TaskTiming, weight: int) -> None:
        totals = self.workers.setdefault(timing.worker, _WorkerTotals())
        totals.tasks += 1
        totals.weight += weight
        totals.seconds += timing.seconds
        totals.cpu_seconds += timing.cpu_seconds

    def phase(self, label: str, tasks: int, weight: int, seconds: float, failed: int = 0, busy: float = 0.0) -> None:
        """One run of tasks: its wall ``seconds`` on the client and the workers' ``busy`` seconds in it."""
        self.phases.append(_Phase(label, tasks, weight, seconds, failed, busy))

    def lines(self) -> list[str]:
        lines = []
        for phase in self.phases:
            failed = f", {phase.failed} failed" if phase.failed else ""
            lines.append(
                f"{phase.label}: {phase.tasks} tasks{failed}, {phase.weight / 1e6:,.1f} MB in {phase.seconds:.2f} s"
                f" ({phase.weight / 1e6 / max(phase.seconds, 1e-9):,.1f} MB/s), workers busy {phase.busy:.2f} s"
            )
        wall = sum(phase.seconds for phase in self.phases)
        for name, totals in sorted(self.workers.items()):
            lines.append(
                f"worker {name}: {totals.tasks} tasks, {totals.weight / 1e6:,.1f} MB, busy {totals.seconds:.2f} s"
                f" ({100 * totals.seconds / max(wall, 1e-9):.0f}% of {wall:.2f} s), CPU {totals.cpu_seconds:.2f} s,"
                f" {totals.weight / 1e6 / max(totals.seconds, 1e-9):,.1f} MB/s while busy"
            )
        return lines
