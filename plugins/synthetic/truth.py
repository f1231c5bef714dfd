"""The ground truth of a generated log (:class:`ScenarioTruth`): every process and the relations the scenario
created, for process-tree tests. Public through :mod:`mk2ds.plugins.synthetic.generator`
(``scenario_truth``, ``generate_lines(..., truth=ScenarioTruth())``), which fills it in with
:class:`LineTally` and :func:`fill_truth` when the line iterator is exhausted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mk2ds.plugins.synthetic.story import Sample
    from mk2ds.plugins.synthetic.world import Event, World

__all__ = ["LineTally", "ProcessTruth", "RelationTruth", "ScenarioTruth", "fill_truth"]


@dataclass(frozen=True)
class ProcessTruth:
    """A process as the log shows it. ``start_sn`` is ``None`` for a process running before the log began
    (it appears only through its own events, a child's ``parentGUID`` or an injection target)."""

    guid: str
    parent_guid: str | None
    path: str
    cmd: str
    pid: int
    start_sn: int | None
    stop_sn: int | None


@dataclass(frozen=True)
class RelationTruth:
    """A relation the scenario created.

    ``kind`` is ``inject`` / ``guard-inject`` (source injected into target; ``sn`` of the ps/inject line),
    ``wrote-then-ran`` (source wrote the executable ``path``, target was started from it; ``sn`` of the
    ps/start, ``evidence_sn`` of the file/close with ``new=1``) or ``service`` (source registered the service,
    ``services.exe`` started target; ``sn`` of the ps/start, ``evidence_sn`` of the reg/setVal ``ImagePath``;
    ``details`` holds ``service`` and ``image``, the command line the ImagePath value names).
    """

    kind: str
    source_guid: str
    target_guid: str | None
    path: str | None
    sn: int
    evidence_sn: int | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class ScenarioTruth:
    """Ground truth of one generated log; filled in when the line iterator is exhausted."""

    seed: int = 0
    host: str = ""
    scenario: str = ""
    sample_sha256: str | None = None
    sample_path: str | None = None
    lines: int = 0
    processes: list[ProcessTruth] = field(default_factory=list)
    relations: list[RelationTruth] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)  # "evt/subEvt" -> number of lines
    complete: bool = False

    def process(self, guid: str) -> ProcessTruth:
        for process in self.processes:
            if process.guid == guid:
                return process
        raise KeyError(guid)

    def children(self, guid: str) -> list[ProcessTruth]:
        return [process for process in self.processes if process.parent_guid == guid and process.start_sn is not None]

    def relations_of(self, kind: str) -> list[RelationTruth]:
        return [relation for relation in self.relations if relation.kind == kind]


@dataclass
class LineTally:
    """What the truth needs to know about the lines written: their count, kinds and the processes named."""

    lines: int = 0
    emitted: set[str] = field(default_factory=set)
    kinds: Counter[str] = field(default_factory=Counter)

    def add(self, event: Event) -> None:
        self.kinds[f"{event.evt}/{event.sub}"] += 1
        if event.process is not None:
            self.emitted.add(event.process.guid)
        if event.evt == "ps":
            self.emitted.update(value for key, value in event.fields if key in ("parentGUID", "tpsGUID"))


def fill_truth(
    truth: ScenarioTruth,
    world: World,
    options: dict[str, Any],
    sample: Sample,
    lines: int,
    emitted: set[str],
    kinds: Counter[str],
) -> None:
    truth.seed, truth.host, truth.scenario, truth.lines, truth.kinds = (
        options["seed"],
        options["host"],
        options["scenario"],
        lines,
        kinds,
    )
    if options["scenario"] != "benign":
        truth.sample_sha256, truth.sample_path = sample.sha256, sample.path
    truth.processes = [
        ProcessTruth(
            process.guid, process.parent.guid if process.parent else None, process.path, process.cmd, process.pid,
            process.start_event.sn if process.start_event else None, process.stop_event.sn if process.stop_event else None,
        )
        for process in world.processes
        if process.guid in emitted
    ]  # fmt: skip
    truth.relations = [
        RelationTruth(
            relation.kind, relation.source.guid, relation.target.guid if relation.target else None, relation.path,
            relation.event.sn, relation.evidence.sn if relation.evidence else None, dict(relation.details),
        )
        for relation in world.relations
        if relation.event.sn is not None
    ]  # fmt: skip
    truth.complete = True
