"""The Sysinfo time zone of each log that ``mk2ds convert`` reads as part of a distribution.

A zone-less Mark II header has no offset; when the log belongs to a distribution, the sample's Sysinfo
``systeminfo`` output says the PC's time zone, which the reader then uses (``time_offset_source: sysinfo``,
below the header's own offset and ``--assume-offset``: :mod:`mk2ds.plugins.reader.timestamps`).

A log is read as part of a distribution when ``--dataset DIR`` names it (a folder or zip), or when the input
lies inside a folder that a registered profile recognizes: every ``required`` entry of the profile exists
there (the layout check's rule). The Sysinfo files are those the profile classifies as ``sysinfo``; the
lookup is :class:`mk2ds.plugins.checks.sysinfo.SysinfoTimeZones` (the sample named by a hash in the log's
path, else the time zone all Sysinfo files agree on).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from mk2ds.core import Profile, UsageError
from mk2ds.core.dataset import Entry, open_dataset
from mk2ds.plugins.checks.sysinfo import MAX_SYSINFO_BYTES, SysinfoTimeZones, sysinfo_time_zones

__all__ = ["attach_time_zones", "find_distribution", "recognizes", "sysinfo_offsets"]


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


def _zones_of(location: str, profile: Profile) -> SysinfoTimeZones:
    try:
        with open_dataset(location) as dataset:
            paths = [
                item.path
                for item in dataset.walk()
                if isinstance(item, Entry)
                and not item.is_dir
                and 0 < item.size <= MAX_SYSINFO_BYTES
                and profile.kind_of(item.path) == "sysinfo"
            ]
            return sysinfo_time_zones(dataset.read_bytes, paths)
    except (OSError, ValueError) as error:
        raise UsageError(f"--dataset {location}: {error}") from None


def _relative(source: str, root: Path) -> str:
    try:
        return Path(source).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(source).name  # outside the distribution: only a hash in its name can name a sample


def sysinfo_offsets(sources: list[str], dataset: str | None, profiles: list[Profile]) -> list[str | None]:
    """The Sysinfo time zone for each log in ``sources`` (file paths; ``-`` has none), see the module documentation.

    :raises UsageError: ``dataset`` does not exist or cannot be read.
    """
    if not profiles:
        return [None] * len(sources)
    if dataset is not None and not os.path.exists(dataset):
        raise UsageError(f"--dataset {dataset}: no such folder or zip file")
    cache: dict[tuple[str, str], SysinfoTimeZones] = {}

    def zones(location: str, profile: Profile) -> SysinfoTimeZones:
        key = (os.path.abspath(location), profile.name)
        if key not in cache:
            cache[key] = _zones_of(location, profile)
        return cache[key]

    given = (Path(dataset), _best_profile(dataset, profiles)) if dataset is not None else None
    by_folder: dict[Path, tuple[Path, Profile] | None] = {}  # thousands of logs share a few folders

    def distribution_of(source: str) -> tuple[Path, Profile] | None:
        folder = Path(source).resolve().parent
        if folder not in by_folder:
            by_folder[folder] = find_distribution(folder, profiles)
        return by_folder[folder]

    offsets: list[str | None] = []
    for source in sources:
        found = None if source == "-" else given or distribution_of(source)
        if found is None:
            offsets.append(None)
            continue
        root, profile = found
        offsets.append(zones(str(root), profile).offset_for(_relative(source, root)))
    return offsets


def attach_time_zones(jobs: list[Any], dataset: str | None, profiles: list[Profile]) -> list[Any]:
    """``jobs`` (:class:`~mk2ds.plugins.convert.ConvertJob`) with ``sysinfo_offset`` set where a distribution gives one."""
    offsets = sysinfo_offsets([job.source for job in jobs], dataset, profiles)
    return [replace(job, sysinfo_offset=offset) if offset else job for job, offset in zip(jobs, offsets, strict=True)]
