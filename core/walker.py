"""The manifest walker: one pass over the dataset, then checks from cheapest to most thorough.

1. Walk every entry once (unsafe names become findings, never followed).
2. Classify every file (``mk2ds_classify_entry``, first result wins).
3. Dataset checks (``mk2ds_check_dataset``): layout, indexes, cross-references, fixity.
4. Entry checks (``mk2ds_check_entry``) for every file, in ``jobs`` worker processes, biggest files first;
   or, given an engine session (:mod:`mk2ds.core.engines`), on its workers: one file per task, small files
   grouped, results put back in the order of a serial run.
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

from mk2ds.core.coverage import coverage_findings
from mk2ds.core.dataset import Dataset, Entry, NameNotice, SubDataset, UnsafeName, ZipDataset, open_dataset
from mk2ds.core.engines import EngineSession, EngineTask, pack_tasks
from mk2ds.core.findings import Fact, Finding, Severity
from mk2ds.core.hookcalls import HookFailed, call_service, collect_results, plugin_error
from mk2ds.core.hookguard import time_limit
from mk2ds.core.pluginmanager import PluginSettings, plugin_infos
from mk2ds.core.profile import Profile
from mk2ds.core.progress import Progress
from mk2ds.core.registry import codes as registered_codes
from mk2ds.core.report import INTERNAL_ERROR_CODES, Report
from mk2ds.core.verify_context import VerifyContext

__all__ = ["DEFAULT_CHECK_TIMEOUT", "PluginSettings", "check_entries_task", "code_selected", "verify"]

#: Seconds an entry check may take per plugin and file, plus one second per MiB of the file
#: (``verify --check-timeout``; 0 means no limit).
DEFAULT_CHECK_TIMEOUT = 600.0


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
    with time_limit(context.option("check_timeout", DEFAULT_CHECK_TIMEOUT)):
        return list(
            collect_results(
                pm, "mk2ds_check_entry", path=path, entry=Entry(path, size), kind=kind, dataset=dataset, context=context
            )
        )


def classify(pm: pluggy.PluginManager, entry: Entry, context: VerifyContext) -> tuple[str, Finding | None]:
    """The first non-``None`` kind from ``mk2ds_classify_entry``; a raising plugin becomes a finding."""
    try:
        result = call_service(pm, "mk2ds_classify_entry", entry=entry, context=context)
    except HookFailed as failure:
        return "other", plugin_error(failure.plugin, failure.hook, failure, entry.path)
    return (str(result), None) if result is not None else ("other", None)


def locate_payload(pm: pluggy.PluginManager, container: Dataset, problems: list[Finding | Fact]) -> str | None:
    """The payload folder of a packaged dataset (``mk2ds_locate_payload``), or ``None``."""
    try:
        result = call_service(pm, "mk2ds_locate_payload", dataset=container)
    except HookFailed as failure:
        problems.append(plugin_error(failure.plugin, failure.hook, failure))
        return None
    return str(result).strip("/") or None if result else None


def code_selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """``--select``/``--ignore`` match a whole code or a prefix ending in ``-`` or ``/`` (``log-``, ``acme/``)."""

    def hit(patterns: Sequence[str]) -> bool:
        return any(
            code == pattern or (pattern.endswith(("-", "/")) and code.startswith(pattern)) for pattern in patterns
        )

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
    settings: PluginSettings | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: Severity = Severity.ERROR,
    show_progress: bool | None = None,
    tool: dict[str, Any] | None = None,
    engine: EngineSession | None = None,
) -> Report:
    """Verify the dataset at ``location`` and return the report. Never writes into the dataset.

    With ``engine``, entry checks run on the engine's workers instead of ``jobs`` local processes; the
    report is the same.

    Raises ``FileNotFoundError`` when ``location`` is neither a folder nor a zip file.
    """
    started = time.monotonic()
    options = options or argparse.Namespace()
    settings = settings or PluginSettings()
    report = Report(command="verify", fail_on=fail_on, tool=tool or {})
    with open_dataset(location) as container:
        items: list[Finding | Fact] = list(coverage_findings(pm))
        payload = locate_payload(pm, container, items)
        dataset: Dataset = SubDataset(container, payload) if payload else container
        report.target = {
            "location": location,
            "container": "zip" if isinstance(container, ZipDataset) else "folder",
            "name": os.path.basename(os.path.normpath(location)),
            "profile": profile.name,
            "profile_title": str(profile.document.get("title") or profile.name),
            "level": level,
        }
        if payload:
            report.target["payload"] = payload
        context = VerifyContext(profile=profile, level=level, options=options, pm=pm)
        files: list[Entry] = []
        for item in dataset.walk():
            if isinstance(item, NameNotice):
                items.append(Finding("zip-names-normalized", Severity.INFO, item.reason, path=item.path or None))
            elif isinstance(item, UnsafeName):
                items.append(Finding("unsafe-path", Severity.ERROR, f"{item.reason}; not followed", path=item.path))
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
            if engine is not None:
                items.extend(_check_entries_on_engine(engine, location, payload, context, files, show_progress))
            else:
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
    report.subjects = [str(subject) for subject in dict.fromkeys(context.subjects)]
    report.checks = checks_description(pm, context, packaged=payload is not None)
    _move_not_run_facts(report)
    report.codes = code_descriptions(pm)
    return report


def code_descriptions(pm: pluggy.PluginManager) -> dict[str, dict[str, Any]]:
    """Every registered code's severity, description and plugin, for the report."""
    described = {}
    for code, info in registered_codes(pm).items():
        described[code] = {"severity": info.severity.value, "description": info.description}
        if info.plugin:
            described[code]["plugin"] = info.plugin
    return described


#: Why a kind of check did not run, by the level that skips it.
_SKIPPED_AT = {
    "mk2ds_check_entry": (
        "structure",
        "level structure reads names and sizes only (--level fast or full checks file contents)",
    )
}
_CHECK_HOOKS = ("mk2ds_check_container", "mk2ds_check_dataset", "mk2ds_check_entry")


#: A dataset fact ``not-run:PLUGIN`` whose value is the reason: a check that could not run says so.
NOT_RUN_PREFIX = "not-run:"


def _move_not_run_facts(report: Report) -> None:
    """Checks that said they could not run (``Fact("not-run:PLUGIN", reason)``) move from ``ran`` to ``not_run``."""
    facts = report.facts.get("dataset", {})
    for key in [key for key in facts if key.startswith(NOT_RUN_PREFIX)]:
        name, reason = key[len(NOT_RUN_PREFIX) :], str(facts.pop(key))
        report.checks["ran"] = [item for item in report.checks["ran"] if item["name"] != name]
        report.checks["not_run"].append({"name": name, "reason": reason})


def checks_description(pm: pluggy.PluginManager, context: VerifyContext, *, packaged: bool) -> dict[str, Any]:
    """Which plugins' checks ran at this level, and which did not and why (for the report)."""
    ran: dict[str, list[str]] = {}
    not_run: list[dict[str, str]] = []
    for hook in _CHECK_HOOKS:
        names = sorted({impl.plugin_name for impl in getattr(pm.hook, hook).get_hookimpls()})
        skipped = _SKIPPED_AT.get(hook)
        if hook == "mk2ds_check_container" and not packaged:
            continue
        if skipped and context.level == skipped[0]:
            not_run.extend({"name": name, "hook": hook, "reason": skipped[1]} for name in names)
            continue
        for name in names:
            ran.setdefault(name, []).append(hook)
    for info in plugin_infos(pm):
        if info.blocked:
            not_run.append({"name": info.name, "reason": "blocked (-p no:NAME or MK2DS_BLOCK_PLUGINS)"})
    return {
        "level": context.level,
        "ran": [{"name": name, "hooks": hooks} for name, hooks in sorted(ran.items())],
        "not_run": not_run,
    }


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


#: Entry checks of small files are grouped into tasks of about this many bytes (and at most this many files).
ENGINE_TASK_BYTES = 32 << 20
ENGINE_TASK_FILES = 64


def _check_entries_on_engine(
    engine: EngineSession,
    location: str,
    payload: str | None,
    context: VerifyContext,
    files: list[Entry],
    show_progress: bool | None,
) -> list[Finding | Fact]:
    """Entry checks on an engine's workers; results in the order of a serial run (biggest files first)."""
    jobs_list = [(entry.path, entry.size, context.kinds.get(entry.path, "other")) for entry in files]
    jobs_list.sort(key=lambda job: (-job[1], job[0]))
    groups = pack_tasks([job[1] for job in jobs_list], ENGINE_TASK_BYTES, ENGINE_TASK_FILES)
    tasks = [
        EngineTask(
            f"check {jobs_list[group[0]][0]}" + (f" and {len(group) - 1} more" if len(group) > 1 else ""),
            sum(jobs_list[index][1] for index in group),
            [jobs_list[index] for index in group],
        )
        for group in groups
    ]
    shared = (os.path.abspath(location), payload, context)
    by_job: dict[tuple[str, int, str], list[Finding | Fact]] = {}
    for outcome in engine.run(check_entries_task, tasks, shared=shared, label="verify", show_progress=show_progress):
        group_jobs: list[tuple[str, int, str]] = outcome.task.argument
        if outcome.error is not None:
            failure = RuntimeError(f"the task checking this file never finished: {outcome.error}")
            for job in group_jobs:
                by_job[job] = [plugin_error("mk2ds", "mk2ds_check_entry", failure, job[0])]
            continue
        for job, found in zip(group_jobs, outcome.result, strict=True):
            by_job[job] = found
    return [item for job in jobs_list for item in by_job[job]]


def check_entries_task(
    pm: pluggy.PluginManager, shared: tuple[str, str | None, VerifyContext], jobs: list[tuple[str, int, str]]
) -> list[list[Finding | Fact]]:
    """An engine task: the entry checks of ``jobs``, on a worker (``shared`` is location, payload, context)."""
    location, payload, context = shared
    context.pm = pm
    with open_dataset(location) as container:
        dataset: Dataset = SubDataset(container, payload) if payload else container
        return [check_one_entry(pm, dataset, context, job) for job in jobs]


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
        if item.code in INTERNAL_ERROR_CODES or code_selected(item.code, select, ignore):
            yield item


def default_jobs() -> int:
    """Worker processes for ``-j 0``: one per core, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))
