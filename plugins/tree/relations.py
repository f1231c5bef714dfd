"""Relations between processes beyond parent and child, each with its evidence (the ``sn`` of the records).

``injection``
    ``ps/inject`` or ``ps/guardInject``: the record's process → the process named by ``tpsGUID`` (same host).
``wrote-then-ran``
    a process wrote a file (``file/close`` with ``write>0`` or ``new=1``, ``file/create``, ``file/download``,
    or the ``dstPath`` of ``file/rename``/``file/copy``) and that file later (by record time) starts as a
    process on the same host. This is how WannaCry's service-started ``tasksche.exe`` links back to its
    dropper.
``service``
    ``reg/setVal`` of the value ``ImagePath`` under ``...\\Services\\<name>`` names an image that later runs.
    The image is the (possibly quoted) first word of ``valStr``; executable paths in its arguments count too
    (``cmd.exe /c "C:\\...\\tasksche.exe"``). A bare image name without a folder only matches a process
    started by ``services.exe``.

Paths are compared case-insensitively after removing ``\\\\?\\``, ``\\??\\`` and ``\\\\?\\UNC\\`` prefixes.

Memory: paths with an executable suffix (:data:`EXECUTABLE_SUFFIXES`) are remembered for the whole run; any
other written path only among the :data:`RECENT_WRITES_CAP` most recently written ones (a bounded window,
so that a ransomware run writing millions of files stays small). Paths pushed out of that window are counted
(``write_paths_evicted``); a file written, pushed out, and then run is the one case this relation can miss.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mk2ds.plugins.tree.node import normalize_path, split_epoch

if TYPE_CHECKING:
    from mk2ds.plugins.tree.node import ProcessNode

__all__ = [
    "EVIDENCE_CAP",
    "EXECUTABLE_SUFFIXES",
    "RECENT_WRITES_CAP",
    "Relation",
    "RelationTracker",
    "image_candidates",
    "normalize_path",
]

#: Record numbers kept per relation (the rest are counted in ``evidence_count``).
EVIDENCE_CAP = 20
EXECUTABLE_SUFFIXES = (".exe", ".com", ".scr", ".pif", ".cpl", ".msi", ".bat", ".cmd")
RECENT_WRITES_CAP = 4096
RELATION_KINDS = ("injection", "wrote-then-ran", "service")

_SERVICE_KEY = re.compile(r"\\services\\([^\\]+)\\?$", re.IGNORECASE)
_EXECUTABLE_IN_TEXT = re.compile(r'"([^"]+\.(?:exe|com|scr|pif))"|(\S+\.(?:exe|com|scr|pif))(?=\s|$)', re.IGNORECASE)
_FIRST_IMAGE = re.compile(r"(.+?\.(?:exe|com|scr|pif|bat|cmd))(?=\s|$)", re.IGNORECASE)
_ENVIRONMENT = (("%systemroot%", "c:\\windows"), ("%windir%", "c:\\windows"), ("\\systemroot\\", "c:\\windows\\"))


def image_candidates(value: str) -> list[str]:
    """Normalized executable paths (or bare names) that a service ``ImagePath`` value would run."""
    text = value.strip()
    lowered = text.lower()
    for variable, replacement in _ENVIRONMENT:
        if lowered.startswith(variable):
            text = replacement + text[len(variable) :]
            break
    if text.startswith('"'):
        end = text.find('"', 1)
        first, rest = (text[1:end], text[end + 1 :]) if end > 0 else (text[1:], "")
    else:
        match = _FIRST_IMAGE.match(text)
        first = match.group(1) if match else (text.split() or [""])[0]
        rest = text[len(first) :]
    found = [first] + [quoted or bare for quoted, bare in _EXECUTABLE_IN_TEXT.findall(rest)]
    candidates: list[str] = []
    for item in found:
        normal = normalize_path(item)
        if normal.startswith("system32\\"):
            normal = "c:\\windows\\" + normal
        if normal and normal not in candidates:
            candidates.append(normal)
    return candidates


@lru_cache(maxsize=4096)
def _split_epoch_cached(time: Any) -> tuple[float | None, bool]:
    """Neighboring records share their time text: parse each text once."""
    return split_epoch(time)


@dataclass(slots=True)
class _Evidence:
    """Records behind one relation. The earliest time is kept apart for lines with and without a UTC offset,
    so that zone-less lines can be read in their host's zone when the relation is resolved."""

    first_zoned: float | None = None
    first_naive: float | None = None
    sns: list[Any] = field(default_factory=list)
    count: int = 0
    kinds: list[str] = field(default_factory=list)
    text: str | None = None

    def add(self, sn: Any, time: Any, kind: str) -> None:
        self.count += 1
        if len(self.sns) < EVIDENCE_CAP:
            self.sns.append(sn)
        epoch, naive = _split_epoch_cached(time)
        if epoch is not None:
            if naive:
                self.first_naive = epoch if self.first_naive is None else min(self.first_naive, epoch)
            else:
                self.first_zoned = epoch if self.first_zoned is None else min(self.first_zoned, epoch)
        if kind not in self.kinds:
            self.kinds.append(kind)

    def first(self, zone: float | None) -> float | None:
        """The earliest record time, zone-less times read in ``zone``."""
        naive = None if self.first_naive is None else self.first_naive - (zone or 0.0)
        times = [time for time in (self.first_zoned, naive) if time is not None]
        return min(times) if times else None


@dataclass(slots=True)
class Relation:
    """An edge ``source → target`` with the record numbers that show it."""

    kind: str
    source: ProcessNode
    target: ProcessNode
    evidence: list[Any]
    evidence_count: int
    details: dict[str, Any]


class RelationTracker:
    """Collects relation evidence while records stream by; :meth:`resolve` turns it into :class:`Relation` s."""

    def __init__(self) -> None:
        self._written: dict[tuple[str, str], dict[ProcessNode, _Evidence]] = {}
        self._recent: dict[tuple[str, str], dict[ProcessNode, _Evidence]] = {}
        self._services: dict[tuple[ProcessNode, str, str], _Evidence] = {}
        self._injections: dict[tuple[ProcessNode, ProcessNode], _Evidence] = {}
        self.evicted = 0
        self.relations: list[Relation] = []

    # ------------------------------------------------------------------------------------------- evidence

    def file_event(self, node: ProcessNode, sub: Any, record: Mapping[str, Any]) -> None:
        if sub == "close":
            write, new = record.get("write"), record.get("new")
            if not ((isinstance(write, int) and write > 0) or new == 1 or new == "1"):
                return
            path = record.get("path")
        elif sub == "create" or sub == "download":
            path = record.get("path")
        elif sub == "rename" or sub == "copy":
            path = record.get("dstPath")
        else:
            return
        if not isinstance(path, str) or not path:
            return
        normal = normalize_path(path)
        key = (node.host, normal)
        if normal.endswith(EXECUTABLE_SUFFIXES):
            writers = self._written.setdefault(key, {})
        else:
            writers = self._recent.pop(key, {})
            self._recent[key] = writers  # re-inserted: most recent last
            if len(self._recent) > RECENT_WRITES_CAP:
                del self._recent[next(iter(self._recent))]
                self.evicted += 1
        evidence = writers.get(node)
        if evidence is None:
            evidence = writers[node] = _Evidence(text=path)
        evidence.add(record.get("sn"), record.get("time"), str(sub))

    def registry_value(self, node: ProcessNode, record: Mapping[str, Any]) -> None:
        entry, value, key = record.get("entry"), record.get("valStr"), record.get("path")
        if not (
            isinstance(entry, str) and entry.lower() == "imagepath" and isinstance(value, str) and isinstance(key, str)
        ):
            return
        match = _SERVICE_KEY.search(key)
        if match is None or not value.strip():
            return
        evidence = self._services.setdefault((node, match.group(1), value), _Evidence(text=value))
        evidence.add(record.get("sn"), record.get("time"), "setVal")

    def injection(self, node: ProcessNode, target: ProcessNode, sub: str, record: Mapping[str, Any]) -> None:
        evidence = self._injections.setdefault((node, target), _Evidence())
        evidence.add(record.get("sn"), record.get("time"), sub)
        api = record.get("api")
        if isinstance(api, str) and api and api not in (evidence.text or "").split(","):
            evidence.text = f"{evidence.text},{api}" if evidence.text else api

    def rename(self, old: ProcessNode, new: ProcessNode) -> None:
        """``old`` was merged into ``new`` (records without a host name): move its evidence."""
        for table in (self._written, self._recent):
            for writers in table.values():
                if old in writers:
                    moved = writers.pop(old)
                    existing = writers.get(new)
                    writers[new] = moved if existing is None else _merged(existing, moved)
        self._services = {
            (new if who is old else who, name, value): ev for (who, name, value), ev in self._services.items()
        }
        injections: dict[tuple[ProcessNode, ProcessNode], _Evidence] = {}
        for (source, target), evidence in self._injections.items():
            key = (new if source is old else source, new if target is old else target)
            injections[key] = _merged(injections[key], evidence) if key in injections else evidence
        self._injections = injections

    # ------------------------------------------------------------------------------------------- resolve

    def resolve(
        self, nodes: Iterable[ProcessNode], by_path: Mapping[tuple[str, str], list[ProcessNode]]
    ) -> list[Relation]:
        """Turn the evidence into relations; ``by_path`` maps ``(host, normalized path)`` to observed processes."""
        relations: list[Relation] = []
        for (source, target), evidence in self._injections.items():
            details: dict[str, Any] = {"api": evidence.text.split(",") if evidence.text else [], "via": evidence.kinds}
            relations.append(
                Relation("injection", source, target, sorted(evidence.sns, key=sn_key), evidence.count, details)
            )
        for table in (self._written, self._recent):
            for key, writers in table.items():
                for runner in by_path.get(key, ()):
                    for writer, evidence in writers.items():
                        if writer is runner or not _before(evidence.first(runner.zone), runner.start_epoch):
                            continue
                        details = {"path": evidence.text, "writes": evidence.kinds}
                        relations.append(
                            Relation(
                                "wrote-then-ran",
                                writer,
                                runner,
                                _evidence(evidence, runner),
                                evidence.count + 1,
                                details,
                            )
                        )
        by_name: dict[tuple[str, str], list[ProcessNode]] = {}
        for (host, path), runners in by_path.items():
            by_name.setdefault((host, path.rsplit("\\", 1)[-1]), []).extend(runners)
        for (registrar, service, value), evidence in self._services.items():
            for image in image_candidates(value):
                started = _service_runner(registrar.host, image, evidence.first(registrar.zone), by_path, by_name)
                if started is not None and started is not registrar:
                    about = {"service": service, "image_path": value, "image": image}
                    relations.append(
                        Relation("service", registrar, started, _evidence(evidence, started), evidence.count + 1, about)
                    )
        relations.sort(key=_relation_key)
        self.relations = relations
        return relations

    def counts(self) -> dict[str, int]:
        table = {kind: 0 for kind in RELATION_KINDS}
        for relation in self.relations:
            table[relation.kind] += 1
        return table


def sn_key(sn: Any) -> tuple[Any, ...]:
    """Record numbers sort numerically; a non-numeric one (kept as text by the reader) after them."""
    return (0, sn, "") if isinstance(sn, int) else (1, 0, str(sn))


def _relation_key(relation: Relation) -> tuple[Any, ...]:
    source, target = relation.source, relation.target
    return (
        RELATION_KINDS.index(relation.kind),
        source.sort_time is None,
        source.sort_time or 0.0,
        source.id,
        target.sort_time is None,
        target.sort_time or 0.0,
        target.id,
    )


def _evidence(evidence: _Evidence, runner: ProcessNode) -> list[Any]:
    """The records of the write or registration, then the start of the process that ran it."""
    return [*sorted(evidence.sns, key=sn_key), runner.start_sn]


def _merged(first: _Evidence, second: _Evidence) -> _Evidence:
    merged = _Evidence(
        first.first_zoned, first.first_naive, list(first.sns), first.count, list(first.kinds), first.text
    )
    merged.sns.extend(second.sns[: max(0, EVIDENCE_CAP - len(merged.sns))])
    merged.count += second.count
    for name in ("first_zoned", "first_naive"):
        values = [value for value in (getattr(first, name), getattr(second, name)) if value is not None]
        setattr(merged, name, min(values) if values else None)
    merged.kinds.extend(kind for kind in second.kinds if kind not in merged.kinds)
    return merged


def _before(first: float | None, second: float | None) -> bool:
    """``first`` is not after ``second`` (unknown times do not rule a relation out)."""
    return first is None or second is None or first <= second


def _service_runner(
    host: str,
    image: str,
    registered: float | None,
    by_path: Mapping[tuple[str, str], list[ProcessNode]],
    by_name: Mapping[tuple[str, str], list[ProcessNode]],
) -> ProcessNode | None:
    """The process that ran a registered image: started by services.exe if any, else the first later start."""
    bare = "\\" not in image
    pool = by_name.get((host, image), []) if bare else by_path.get((host, image), [])
    later = sorted((node for node in pool if _before(registered, node.start_epoch)), key=lambda node: node.sort_key())
    by_services = [node for node in later if node.parent is not None and node.parent.name.lower() == "services.exe"]
    if by_services:
        return by_services[0]
    if bare:
        return None
    return later[0] if later else None
