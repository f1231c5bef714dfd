"""``mk2ds pe``: PE facts, imphash and impfuzzy (with its input string) for files, folders and sample zips;
``--compare`` adds pairwise impfuzzy similarity and clusters (text, JSON, CSV edges, GraphML).

Feature package ``pe``. Plugins: ``pe`` (this module: ``mk2ds_add_commands``, ``mk2ds_recompute_pe``,
``mk2ds_register_codes``) and ``pe.checks`` (``verify --samples``: ``mk2ds_add_verify_options``,
``mk2ds_check_dataset``, ``mk2ds_register_codes``). Libraries: ``facts``, ``impfuzzy`` (rules in
``docs/impfuzzy.md``), ``authenticode``, ``guard`` (the child process), ``archives`` (samples in plain files and
encrypted zips), ``results`` (the shipped impfuzzy/PEfile files), ``comparison`` (one sample against its shipped
files, for ``pe.checks``) and ``render`` (text, CSV, GraphML).

Also the default implementation of the ``mk2ds_recompute_pe`` service hook, which ``verify --samples`` uses
too: every file is parsed in a guarded child process (:mod:`mk2ds.plugins.pe.guard`).
"""

from __future__ import annotations

import argparse
import atexit
import concurrent.futures
import json
import os
import stat
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pluggy

from mk2ds.core import CodeInfo, CommandRegistry, Finding, Severity, hookimpl, mk2ds_version
from mk2ds.core.atomic import write_atomic
from mk2ds.core.errors import UsageError
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.terminal import escape_surrogates, escape_text
from mk2ds.plugins.pe import impfuzzy
from mk2ds.plugins.pe.archives import DEFAULT_PASSWORD, SampleFile, iter_samples
from mk2ds.plugins.pe.facts import IMPORTS_UNREAD, base_document, tools
from mk2ds.plugins.pe.guard import (
    DEFAULT_MAX_SIZE_MB,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT,
    GuardedParser,
    Task,
)
from mk2ds.plugins.pe.render import DEFAULT_THRESHOLD, compare_files, render_csv, render_graphml, render_text

__all__ = ["PE_CODES", "add_pe_options", "findings_for", "recompute", "ssdeep_tools"]

PE_CODES = (
    CodeInfo(
        "pe-timeout",
        Severity.WARNING,
        "Parsing a PE file took longer than --pe-timeout; it was stopped and not analyzed",
    ),
    CodeInfo(
        "pe-too-large",
        Severity.WARNING,
        "A file is larger than --pe-max-size, or parsing it needed more memory than --pe-memory",
    ),
    CodeInfo(
        "pe-malformed",
        Severity.WARNING,
        "A file has a PE signature but pefile cannot parse it (or the parser failed on it)",
    ),
    CodeInfo("pe-truncated", Severity.WARNING, "A PE file's sections run past the end of the file"),
    CodeInfo(
        "pe-imports-unread",
        Severity.WARNING,
        "A PE file has import descriptors but pefile read no import (imphash/impfuzzy then describe none)",
    ),
    CodeInfo(
        "sample-unreadable", Severity.ERROR, "A sample file or zip member cannot be read (wrong password, damaged zip)"
    ),
    CodeInfo(
        "ssdeep-self-test-failed", Severity.ERROR, "The ssdeep implementation disagrees with libfuzzy's known answers"
    ),
)

_local = threading.local()
_all_parsers: list[tuple[threading.Thread, GuardedParser]] = []
_parsers_lock = threading.Lock()


@atexit.register
def _close_parsers(only_dead_threads: bool = False) -> None:
    """Stop the parser processes (at exit; or those of finished worker threads, after a parallel run)."""
    with _parsers_lock:
        closing = [item for item in _all_parsers if not (only_dead_threads and item[0].is_alive())]
        _all_parsers[:] = [item for item in _all_parsers if item not in closing]
    for _thread, parser in closing:
        parser.close()


def _parser(options: argparse.Namespace) -> GuardedParser:
    """One guarded parser per thread and limit setting, reused across files."""
    key = (
        float(getattr(options, "pe_timeout", DEFAULT_TIMEOUT)),
        int(getattr(options, "pe_memory", DEFAULT_MEMORY_MB)),
        not getattr(options, "pe_unguarded", False),
    )
    cache: dict[tuple[float, int, bool], GuardedParser] = getattr(_local, "parsers", None) or {}
    _local.parsers = cache
    if key not in cache:
        cache[key] = GuardedParser(timeout=key[0], memory_mb=key[1] or None, guarded=key[2])
        with _parsers_lock:
            _all_parsers.append((threading.current_thread(), cache[key]))
    return cache[key]


def recompute(data: bytes, name: str, options: argparse.Namespace) -> dict[str, Any]:
    """The file's document (``schemas/pe.schema.json``); failures are ``status: "error"`` documents."""
    document = base_document(name, data)
    max_bytes = int(getattr(options, "pe_max_size", DEFAULT_MAX_SIZE_MB)) * 1024 * 1024
    if len(data) > max_bytes:
        message = f"{len(data)} bytes, more than --pe-max-size {max_bytes // (1024 * 1024)} MiB; not parsed"
        return {**document, "status": "error", "error": {"code": "pe-too-large", "message": message}}
    task: Task = "dump" if getattr(options, "pe_dump_info", False) else "facts"
    result = _parser(options).run(task, data)
    if result.status == "ok":
        return {**document, **result.value}
    code = {"timeout": "pe-timeout", "memory": "pe-too-large"}.get(result.status, "pe-malformed")
    return {**document, "status": "error", "error": {"code": code, "message": result.message}}


@hookimpl(trylast=True)
def mk2ds_recompute_pe(data: bytes, name: str, options: argparse.Namespace) -> Mapping[str, Any] | None:
    return recompute(data, name, options)


@hookimpl
def mk2ds_register_codes() -> Iterable[CodeInfo]:
    return PE_CODES


def ssdeep_tools() -> tuple[dict[str, Any], list[str]]:
    """The tool versions with the ssdeep self-test result, and its problems."""
    problems = impfuzzy.self_test()
    recorded = tools()
    recorded["ssdeep"]["compare"] = "mk2ds reimplementation of libfuzzy fuzzy_compare"
    recorded["ssdeep"]["self_test"] = "failed" if problems else "passed"
    if problems:
        recorded["ssdeep"]["self_test_problems"] = problems
    return recorded, problems


def findings_for(document: Mapping[str, Any], subject: str | None = None, path: str | None = None) -> Iterator[Finding]:
    """Findings a file's document implies (analysis failures, truncation)."""
    subject = subject or str(document["sha256"])
    path = path or str(document["name"])
    if document["status"] == "error":
        error = document["error"]
        yield Finding(error["code"], Severity.WARNING, error["message"], path=path, subject=subject)
    elif document["status"] == "pe" and document.get("truncated"):
        yield Finding(
            "pe-truncated", Severity.WARNING, "sections run past the end of the file", path=path, subject=subject
        )
    if document["status"] == "pe":
        for warning in document.get("warnings") or ():
            if str(warning).startswith(IMPORTS_UNREAD):
                yield Finding(
                    "pe-imports-unread",
                    Severity.WARNING,
                    str(warning).removeprefix("mk2ds: "),
                    path=path,
                    subject=subject,
                )


def unreadable_finding(sample: SampleFile, subject: str | None = None) -> Finding:
    if sample.too_large:
        return Finding(
            "pe-too-large", Severity.WARNING, f"not read: {sample.problem}", path=sample.origin, subject=subject
        )
    return Finding("sample-unreadable", Severity.ERROR, str(sample.problem), path=sample.origin, subject=subject)


def add_pe_options(add: Any) -> None:
    """The limits shared by ``mk2ds pe`` and ``mk2ds verify --samples`` (``add`` is ``add_argument``)."""
    add(
        "--sample-password",
        default=DEFAULT_PASSWORD,
        metavar="PASSWORD",
        help=f"password of encrypted sample zips (default: {DEFAULT_PASSWORD})",
    )
    add(
        "--pe-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop parsing a file after this long (default: {DEFAULT_TIMEOUT:g})",
    )
    add(
        "--pe-memory",
        type=int,
        default=DEFAULT_MEMORY_MB,
        metavar="MIB",
        help=f"memory limit of the parser process (default: {DEFAULT_MEMORY_MB}; 0 = none)",
    )
    add(
        "--pe-max-size",
        type=int,
        default=DEFAULT_MAX_SIZE_MB,
        metavar="MIB",
        help=f"do not read larger files (default: {DEFAULT_MAX_SIZE_MB})",
    )


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    parser = subparsers.add_parser(
        "pe",
        help="PE facts, imphash and impfuzzy (with its input string) of files, folders or sample zips; --compare for similarity",
        description="Never executes anything; zip members are read in memory. Each file is parsed in a child "
        "process with a time and memory limit.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE|DIR", help="files, folders or zip files of samples")
    parser.add_argument(
        "--format", choices=("text", "json", "csv", "graphml"), default="text", help="output format (default: text)"
    )
    parser.add_argument("--compare", action="store_true", help="pairwise impfuzzy similarity (0-100) and clusters")
    parser.add_argument(
        "--threshold",
        type=int,
        default=DEFAULT_THRESHOLD,
        metavar="N",
        help=f"report pairs scoring at least N (default: {DEFAULT_THRESHOLD})",
    )
    parser.add_argument(
        "--dump-info",
        dest="pe_dump_info",
        action="store_true",
        help="include pefile's dump_info() text (JSON only; full parse)",
    )
    parser.add_argument("-j", "--jobs", type=int, default=1, help="parser processes working in parallel (default: 1)")
    parser.add_argument("-o", "--output", help="write to this file (atomically) instead of standard output")
    add_pe_options(parser.add_argument)
    parser.set_defaults(handler=_cmd_pe)


def check_input_paths(paths: Iterable[str]) -> None:
    """Refuse inputs that are neither a folder nor a regular file (a FIFO would block, a device never ends).

    :raises UsageError: naming the input.
    """
    for raw in paths:
        try:
            mode = os.stat(raw).st_mode
        except FileNotFoundError:
            raise UsageError(f"{escape_text(raw)}: no such file or folder") from None
        except OSError as error:
            raise UsageError(f"{escape_text(raw)}: cannot read: {error.strerror or error}") from None
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            raise UsageError(
                f"{escape_text(raw)}: not a regular file or a folder (a pipe, device or socket is not read)"
            )


def _inputs(args: argparse.Namespace) -> Iterator[SampleFile]:
    max_bytes = args.pe_max_size * 1024 * 1024
    check_input_paths(args.paths)
    for raw in args.paths:
        path = Path(raw)
        for sample in iter_samples(path, password=args.sample_password, max_size=max_bytes):
            if path.is_dir():
                sample = SampleFile(
                    (path / sample.origin).as_posix(), sample.data, sample.problem, sample.too_large, sample.hashes
                )
            elif sample.origin.startswith(path.name):
                sample = SampleFile(
                    raw + sample.origin[len(path.name) :], sample.data, sample.problem, sample.too_large, sample.hashes
                )
            yield sample


def analyze_all(
    pm: pluggy.PluginManager | None, samples: Iterable[SampleFile], options: argparse.Namespace, jobs: int
) -> Iterator[tuple[SampleFile, Mapping[str, Any] | None]]:
    """``(sample, document)`` in input order, through the ``mk2ds_recompute_pe`` service (this module's
    implementation when no plugin manager is given); unreadable samples get ``None``. At most ``2 * jobs``
    files are in memory at once."""

    def work(sample: SampleFile) -> Mapping[str, Any] | None:
        if sample.data is None:
            return None
        if pm is None:
            return recompute(sample.data, sample.origin, options)
        document: Mapping[str, Any] | None = pm.hook.mk2ds_recompute_pe(
            data=sample.data, name=sample.origin, options=options
        )
        return document

    if jobs <= 1:
        for sample in samples:
            yield sample, work(sample)
        return
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            pending: list[tuple[SampleFile, concurrent.futures.Future[Mapping[str, Any] | None]]] = []
            for sample in samples:
                pending.append((sample, pool.submit(work, sample)))
                if len(pending) >= 2 * jobs:
                    first, future = pending.pop(0)
                    yield first, future.result()
            for sample, future in pending:
                yield sample, future.result()
    finally:
        _close_parsers(only_dead_threads=True)  # the pool's threads have ended: their children can go


def build_document(pm: pluggy.PluginManager, args: argparse.Namespace) -> dict[str, Any]:
    recorded, problems = ssdeep_tools()
    findings: list[Finding] = []
    if problems:
        findings.append(Finding("ssdeep-self-test-failed", Severity.ERROR, "; ".join(problems)))
    files: list[Mapping[str, Any]] = []
    for sample, document in analyze_all(pm, _inputs(args), args, max(1, args.jobs)):
        if document is None:
            findings.append(unreadable_finding(sample))
            continue
        files.append(document)
        findings.extend(findings_for(document))
    result: dict[str, Any] = {
        "pe_format": 1,
        "tool": {"name": "mk2ds", "version": mk2ds_version()},
        "tools": recorded,
        "files": files,
        "findings": [finding.with_plugin("pe").to_dict() for finding in findings],
    }
    if args.compare or args.format == "graphml":
        result["compare"] = compare_files(files, args.threshold)
    return result


def _cmd_pe(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    if not 0 <= args.threshold <= 100:
        raise UsageError(f"--threshold must be between 0 and 100, not {args.threshold}")
    if args.pe_timeout <= 0:
        raise UsageError(f"--pe-timeout must be positive, not {args.pe_timeout:g}")
    guard_outputs([("-o", args.output)], args.paths, pm=pm)
    document = build_document(pm, args)
    if args.format == "json":
        rendered = escape_surrogates(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
    elif args.format == "csv":
        rendered = render_csv(document)
    elif args.format == "graphml":
        rendered = render_graphml(document)
    else:
        rendered = render_text(document)
    if args.output:
        write_atomic(args.output, rendered)
    else:
        sys.stdout.write(rendered)
        sys.stdout.flush()
    return 1 if any(finding["severity"] == "error" for finding in document["findings"]) else 0
