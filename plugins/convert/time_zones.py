"""The Sysinfo time zone (and host facts) of each log that ``mk2ds convert`` reads as part of a distribution.

A zone-less Mark II header has no offset; when the log belongs to a distribution, the sample's Sysinfo
``systeminfo`` output says the PC's time zone, which the reader then uses (``time_offset_source: sysinfo``,
below the header's own offset and ``--assume-offset``: :mod:`mk2ds.plugins.reader.timestamps`).

A log is read as part of a distribution when ``--dataset DIR`` names it (a folder or zip), or when the input
lies inside a folder that a registered profile recognizes: every ``required`` entry of the profile exists
there (the layout check's rule). The Sysinfo files are those the profile classifies as ``sysinfo``; the
lookup is :class:`mk2ds.plugins.checks.sysinfo.SysinfoTimeZones` (the sample named by a hash in the log's
path, else the time zone all Sysinfo files agree on). The same reading gives each log the facts of its host
(OS name and version, host name) for outputs that describe the host
(:class:`mk2ds.plugins.convert.sysinfo_hosts.SysinfoHosts`). Every Sysinfo file is read once per run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from mk2ds.core import Dataset, Profile, UsageError
from mk2ds.core.dataset import Entry, open_dataset
from mk2ds.plugins.checks.sysinfo import MAX_SYSINFO_BYTES, SysinfoTimeZones, systeminfo_facts
from mk2ds.plugins.convert.sysinfo_hosts import SysinfoHosts

__all__ = ["attach_sysinfo", "find_distribution", "recognizes", "sysinfo_offsets"]


def recognizes(profile: Profile, folder: Path) -> bool:
    """Every ``required`` entry of ``profile`` exists in ``folder`` (with its type)."""
    required = profile.required
    if not required:
        return False
    for item in required:
        path = folder / str(item["path"])
        if not (path.is_dir() if item.get("type") == "folder" else path.is_file()):
            return False
    return True


def find_distribution(path: Path, profiles: Iterable[Profile]) -> tuple[Path, Profile] | None:
    """The nearest folder at or above ``path`` that a profile recognizes, with that profile."""
    candidates = list(profiles)
    start = path.resolve()
    for folder in [start, *start.parents] if start.is_dir() else list(start.parents):
        for profile in candidates:
            if recognizes(profile, folder):
                return folder, profile
    return None


def _best_profile(location: str, profiles: list[Profile]) -> Profile:
    """For ``--dataset``: the profile that recognizes it, else the one most of whose required entries exist."""
    folder = Path(location)
    if not folder.is_dir():
        return profiles[0]

    def present(profile: Profile) -> int:
        return sum(1 for item in profile.required if (folder / str(item["path"])).exists())

    return max(profiles, key=present)


def _evidence_of(location: str, profile: Profile) -> tuple[SysinfoTimeZones, SysinfoHosts]:
    """Read every Sysinfo file of the distribution at ``location`` once: its time zone and host facts."""
    zones, hosts = SysinfoTimeZones(), SysinfoHosts()
    try:
        with open_dataset(location) as dataset:
            files = sorted(
                (item.path, item.size)
                for item in dataset.walk()
                if isinstance(item, Entry) and not item.is_dir and profile.kind_of(item.path) == "sysinfo"
            )
            for path, size in files:
                facts = _facts_of(dataset, path, size)
                if facts.get("utc_offset"):
                    zones.add(path, str(facts["utc_offset"]))
                hosts.add(path, facts)
    except (OSError, ValueError) as error:
        raise UsageError(f"--dataset {location}: {error}") from None
    return zones, hosts


def _facts_of(dataset: Dataset, path: str, size: int) -> dict[str, Any]:
    """The systeminfo facts of one Sysinfo file; empty for an empty, too large or unreadable one."""
    if not 0 < size <= MAX_SYSINFO_BYTES:
        return {}
    try:
        return systeminfo_facts(dataset.read_bytes(path))
    except OSError:
        return {}


def _relative(source: str, root: Path) -> str:
    try:
        return Path(source).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(source).name  # outside the distribution: only a hash in its name can name a sample


def _evidence_per_source(
    sources: list[str], dataset: str | None, profiles: list[Profile]
) -> list[tuple[str, SysinfoTimeZones, SysinfoHosts] | None]:
    """For each log in ``sources``: its path in its distribution and that distribution's Sysinfo evidence.

    :raises UsageError: ``dataset`` does not exist or cannot be read.
    """
    if not profiles:
        return [None] * len(sources)
    if dataset is not None and not os.path.exists(dataset):
        raise UsageError(f"--dataset {dataset}: no such folder or zip file")
    cache: dict[tuple[str, str], tuple[SysinfoTimeZones, SysinfoHosts]] = {}  # each file read once per run

    def evidence(location: str, profile: Profile) -> tuple[SysinfoTimeZones, SysinfoHosts]:
        key = (os.path.abspath(location), profile.name)
        if key not in cache:
            cache[key] = _evidence_of(location, profile)
        return cache[key]

    given = (Path(dataset), _best_profile(dataset, profiles)) if dataset is not None else None
    by_folder: dict[Path, tuple[Path, Profile] | None] = {}  # thousands of logs share a few folders

    def distribution_of(source: str) -> tuple[Path, Profile] | None:
        folder = Path(source).resolve().parent
        if folder not in by_folder:
            by_folder[folder] = find_distribution(folder, profiles)
        return by_folder[folder]

    found: list[tuple[str, SysinfoTimeZones, SysinfoHosts] | None] = []
    for source in sources:
        distribution = None if source == "-" else given or distribution_of(source)
        if distribution is None:
            found.append(None)
            continue
        root, profile = distribution
        found.append((_relative(source, root), *evidence(str(root), profile)))
    return found


def sysinfo_offsets(sources: list[str], dataset: str | None, profiles: list[Profile]) -> list[str | None]:
    """The Sysinfo time zone for each log in ``sources`` (file paths; ``-`` has none), see the module documentation.

    :raises UsageError: ``dataset`` does not exist or cannot be read.
    """
    return [
        None if found is None else found[1].offset_for(found[0])
        for found in _evidence_per_source(sources, dataset, profiles)
    ]


def attach_sysinfo(
    jobs: list[Any], dataset: str | None, profiles: list[Profile], *, offsets: bool = True, hosts: bool = False
) -> list[Any]:
    """``jobs`` (:class:`~mk2ds.plugins.convert.ConvertJob`) with what a distribution's Sysinfo gives each log:
    ``sysinfo_offset`` (with ``offsets``) and ``sysinfo_host`` (with ``hosts``). Each Sysinfo file is read once."""
    if not (offsets or hosts):
        return jobs
    attached = []
    for job, found in zip(jobs, _evidence_per_source([job.source for job in jobs], dataset, profiles), strict=True):
        changes: dict[str, Any] = {}
        if found is not None:
            relative, zones, facts = found
            changes["sysinfo_offset"] = zones.offset_for(relative) if offsets else None
            changes["sysinfo_host"] = facts.facts_for(relative) if hosts else None
        attached.append(replace(job, **{key: value for key, value in changes.items() if value}))
    return attached
