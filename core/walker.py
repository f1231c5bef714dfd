"""The manifest walker: one pass over the dataset, then checks from cheapest to most thorough.

1. Walk every entry once (unsafe names become findings, never followed).
2. Classify every file (``mk2ds_classify_entry``, first result wins).
3. Dataset checks (``mk2ds_check_dataset``): layout, indexes, cross-references, fixity.
4. Entry checks (``mk2ds_check_entry``) for every file, in ``jobs`` worker processes, biggest files first.
5. Filter by ``--select``/``--ignore``; flag unregistered codes; build the report.

The walker knows nothing about Mark II, PE files or impfuzzy: all of that lives in plugins.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from mk2ds.core.dataset import Dataset, Entry, SubDataset, UnsafeName, ZipDataset, open_dataset
from mk2ds.core.findings import Fact, Finding, Severity
from mk2ds.core.hookcalls import call_each, collect_results, plugin_error
from mk2ds.core.pluginmanager import get_plugin_manager
from mk2ds.core.profile import Profile
from mk2ds.core.progress import Progress
from mk2ds.core.registry import codes as registered_codes
from mk2ds.core.report import Report
from mk2ds.core.verify_context import VerifyContext

__all__ = ["PluginSettings", "verify", "code_selected"]


@dataclass(frozen=True)
class PluginSettings:
    """How to rebuild the plugin manager in a worker process."""

    load_entrypoints: bool | None = None
    blocked: tuple[str, ...] = ()

    def build(self) -> pluggy.PluginManager:
        return get_plugin_manager(load_entrypoints=self.load_entrypoints, blocked=self.blocked)


@dataclass
class _WorkerState:
    #: Set in the parent before forking, so forked workers use the very same plugins (also ones registered
    #: programmatically); spawned workers rebuild the manager from ``PluginSettings`` instead.
    parent_pm: pluggy.PluginManager | None = None
    pm: pluggy.PluginManager | None = None
    dataset: Dataset | None = None
    context: VerifyContext | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_WORKER = _WorkerState()


def _worker_init(settings: PluginSettings, location: str, payload: str | None, context: VerifyContext) -> None:
    _WORKER.pm = _WORKER.parent_pm or settings.build()
    dataset = open_dataset(location)
    _WORKER.dataset = SubDataset(dataset, payload) if payload else dataset
    context.pm = _WORKER.pm
    _WORKER.context = context


def _worker_check(job: tuple[str, int, str]) -> list[Finding | Fact]:
    assert _WORKER.pm is not None and _WORKER.dataset is not None and _WORKER.context is not None
    return check_one_entry(_WORKER.pm, _WORKER.dataset, _WORKER.context, job)


def check_one_entry(
    pm: pluggy.PluginManager, dataset: Dataset, context: VerifyContext, job: tuple[str, int, str]
) -> list[Finding | Fact]:
    path, size, kind = job
    return list(
        collect_results(
            pm, "mk2ds_check_entry", path=path, entry=Entry(path, size), kind=kind, dataset=dataset, context=context
        )
    )


def classify(pm: pluggy.PluginManager, entry: Entry, context: VerifyContext) -> tuple[str, Finding | None]:
    """The first non-``None`` kind from ``mk2ds_classify_entry``; a raising plugin becomes a finding."""
    for name, result, error in call_each(pm, "mk2ds_classify_entry", entry=entry, context=context):
        if error is not None:
            return "other", plugin_error(name, "mk2ds_classify_entry", error, entry.path)
        if result is not None:
            return str(result), None
    return "other", None


def locate_payload(pm: pluggy.PluginManager, container: Dataset, problems: list[Finding | Fact]) -> str | None:
    """The payload folder of a packaged dataset (``mk2ds_locate_payload``), or ``None``."""
    for name, result, error in call_each(pm, "mk2ds_locate_payload", dataset=container):
        if error is not None:
            problems.append(plugin_error(name, "mk2ds_locate_payload", error))
            continue
        if result:
            return str(result).strip("/")
    return None


def code_selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """``--select``/``--ignore`` match a whole code or a prefix ending in ``-`` or ``/`` (``log-``, ``acme/``)."""

    def hit(patterns: Sequence[str]) -> bool:
        return any(code == pattern or (pattern.endswith(("-", "/")) and code.startswith(pattern)) for pattern in patterns)

    if select and not hit(select):
        return False
    return not (ignore and hit(ignore))


def verify(
    location: str,
    pm: pluggy.PluginManager,
    profile: Profile,
    *,
    level: str = "full",
    options: argparse.Namespace | None = None,
    jobs: int = 1,
    settings: PluginSettings = PluginSettings(),
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: Severity = Severity.ERROR,
    show_progress: bool | None = None,
    tool: dict[str, Any] | None = None,
) -> Report:
    """Verify the dataset at ``location`` and return the report. Never writes into the dataset.

    Raises ``FileNotFoundError`` when ``location`` is neither a folder nor a zip file.
    """
    started = time.monotonic()
    options = options or argparse.Namespace()
    report = Report(command="verify", fail_on=fail_on, tool=tool or {})
    with open_dataset(location) as container:
        items: list[Finding | Fact] = []
        payload = locate_payload(pm, container, items)
        dataset: Dataset = SubDataset(container, payload) if payload else container
        report.target = {
            "location": location,
            "container": "zip" if isinstance(container, ZipDataset) else "folder",
            "profile": profile.name,
            "level": level,
        }
        if payload:
            report.target["payload"] = payload
        context = VerifyContext(profile=profile, level=level, options=options, pm=pm)
        files: list[Entry] = []
        for item in dataset.walk():
            if isinstance(item, UnsafeName):
                items.append(
                    Finding("unsafe-path", Severity.ERROR, f"{item.reason}; not followed", path=item.path)
                )
            elif item.is_dir:
                context.folders.add(item.path)
            else:
                files.append(item)
                context.entries[item.path] = item.size
        for entry in files:
            kind, problem = classify(pm, entry, context)
            context.kinds[entry.path] = kind
            if problem:
                items.append(problem)

        if payload:
            items.extend(
                collect_results(pm, "mk2ds_check_container", container=container, payload=payload, context=context)
            )
        items.extend(collect_results(pm, "mk2ds_check_dataset", dataset=dataset, context=context))

        if context.at_least("fast"):
            items.extend(_check_entries(pm, dataset, context, files, jobs, settings, show_progress, payload))

    report.add(_filter(items, pm, select, ignore))
    kinds = Counter(context.kinds.values())
    report.stats.update(
        {
            "files": len(files),
            "folders": len(context.folders),
            "bytes": sum(entry.size for entry in files),
            "kinds": dict(sorted(kinds.items())),
            "jobs": jobs,
            "seconds": round(time.monotonic() - started, 3),
        }
    )
    subjects = context.shared.get("subjects")
    if isinstance(subjects, list):
        report.subjects = [str(subject) for subject in subjects]
    return report


def _check_entries(
    pm: pluggy.PluginManager,
    dataset: Dataset,
    context: VerifyContext,
    files: list[Entry],
    jobs: int,
    settings: PluginSettings,
    show_progress: bool | None,
    payload: str | None,
) -> Iterable[Finding | Fact]:
    jobs_list = [(entry.path, entry.size, context.kinds.get(entry.path, "other")) for entry in files]
    jobs_list.sort(key=lambda job: (-job[1], job[0]))  # biggest first keeps workers busy to the end
    progress = Progress(sum(job[1] for job in jobs_list), "verify", enabled=show_progress)
    results: list[Finding | Fact] = []
    try:
        if jobs <= 1 or len(jobs_list) < 2:
            for job in jobs_list:
                results.extend(check_one_entry(pm, dataset, context, job))
                progress.advance(job[1])
            return results
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        _WORKER.parent_pm = pm if method == "fork" else None
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context(method),
            initializer=_worker_init,
            initargs=(settings, dataset.location, payload, context),
        ) as pool:
            futures = {pool.submit(_worker_check, job): job for job in jobs_list}
            for future in concurrent.futures.as_completed(futures):
                job = futures[future]
                try:
                    results.extend(future.result())
                except Exception as error:  # noqa: BLE001 - a dead worker must not hide the other results
                    results.append(plugin_error("mk2ds", "mk2ds_check_entry", error, job[0]))
                progress.advance(job[1])
        return results
    finally:
        progress.close()


def _filter(
    items: Iterable[Finding | Fact], pm: pluggy.PluginManager, select: Sequence[str], ignore: Sequence[str]
) -> Iterable[Finding | Fact]:
    known = registered_codes(pm)
    for item in items:
        if isinstance(item, Fact):
            yield item
            continue
        if item.code not in known:
            yield Finding(
                "unregistered-code",
                Severity.WARNING,
                f"plugin {item.plugin or '?'} emitted unregistered code {item.code!r}",
                path=item.path,
                plugin=item.plugin,
            )
        if item.code in ("plugin-error",) or code_selected(item.code, select, ignore):
            yield item


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
