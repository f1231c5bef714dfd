"""The ``mk2ds`` command line: a thin shell over the library and the plugin hooks.

The host owns ``verify``, ``plugins``, ``codes``, ``schemas`` and ``profile``; every other command
(``convert``, ``tree``, ``pe``, ``sample``, ``demo``, ...) is added by a plugin through ``mk2ds_add_commands``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pluggy

from mk2ds.core import registry
from mk2ds.core.atomic import forget_cleaned_folders
from mk2ds.core.commands import emit_report, tool_description
from mk2ds.core.engines import add_engine_arguments, open_engine
from mk2ds.core.errors import UsageError
from mk2ds.core.failures import announce_plugin_problems, run_guarded
from mk2ds.core.findings import Severity
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.pluginmanager import (
    BLOCK_ENV,
    DISABLE_AUTOLOAD_ENV,
    PluginSettings,
    mk2ds_version,
    plugin_infos,
    plugin_settings,
)
from mk2ds.core.report import ExitCode
from mk2ds.core.terminal import escape_text
from mk2ds.core.verify_context import LEVELS
from mk2ds.core.walker import DEFAULT_CHECK_TIMEOUT, default_jobs, verify

__all__ = ["build_parser", "emit_report", "main", "tool_description"]  # the last two moved to mk2ds.core.commands


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        dest="plugin_flags",
        action="append",
        default=[],
        metavar="no:NAME",
        help=f"block a plugin by name (repeatable); also {BLOCK_ENV}=a,b",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="on an internal error, print the whole traceback (also MK2DS_DEBUG=1)",
    )
    parser.add_argument(
        "--disable-plugin-autoload",
        action="store_true",
        help=f"do not load third-party plugins from the 'mk2ds' entry-point group; also {DISABLE_AUTOLOAD_ENV}=1",
    )


def _plugin_settings(argv: Sequence[str]) -> PluginSettings:
    pre = argparse.ArgumentParser(add_help=False)
    _global_options(pre)
    known, _ = pre.parse_known_args(argv)
    blocked = []
    for flag in known.plugin_flags:
        if not flag.startswith("no:") or len(flag) <= 3:
            raise UsageError(f"-p takes no:NAME to block a plugin, not {flag!r}")
        blocked.append(flag[3:])
    return PluginSettings(load_entrypoints=False if known.disable_plugin_autoload else None, blocked=tuple(blocked))


def build_parser(pm: pluggy.PluginManager) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mk2ds",
        description="Verify, convert and package InfoTrace Mark II malware-behavior datasets.",
        epilog="Exit codes: 0 ok, 1 findings at the failing severity, 2 usage error, 3 internal error.",
    )
    # plugins' own notes (MK2DS_PLUGIN_DETAIL), e.g. "reader path: compiled (C extension)"
    details = [
        detail
        for _name, plugin in pm.list_name_plugin()
        if isinstance(detail := getattr(plugin, "MK2DS_PLUGIN_DETAIL", None), str)
    ]
    parser.add_argument("--version", action="version", version="; ".join([f"mk2ds {mk2ds_version()}", *details]))
    _global_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")

    reports = registry.outputs(pm, "report")
    verify_parser = subparsers.add_parser(
        "verify", help="check a dataset distribution (folder or zip): layout, cross-references, every file"
    )
    verify_parser.add_argument("path", help="dataset folder or .zip file")
    verify_parser.add_argument("--profile", default="soliton-2018", help="profile name or JSON file")
    verify_parser.add_argument("--level", choices=LEVELS, default="full", help="how thorough (default: full)")
    verify_parser.add_argument("--format", default="text", choices=sorted(reports), help="report format")
    verify_parser.add_argument("-o", "--output", help="write the report to this file (atomically)")
    verify_parser.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (0 = one per core)")
    verify_parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="CODE",
        help="report only these codes (prefix with trailing '-')",
    )
    verify_parser.add_argument(
        "--ignore", action="append", default=[], metavar="CODE", help="do not report these codes"
    )
    verify_parser.add_argument(
        "--fail-on", choices=[s.value for s in Severity], default="error", help="lowest severity that fails the run"
    )
    verify_parser.add_argument("--quiet", action="store_true", help="no progress bar (and no engine summary)")
    verify_parser.add_argument(
        "--check-timeout",
        type=float,
        default=DEFAULT_CHECK_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit of each plugin's check of one file, plus 1 s per MiB of the file (default {DEFAULT_CHECK_TIMEOUT:g}; "
        "0: none); past it the check is a plugin-timeout finding",
    )
    add_engine_arguments(verify_parser, pm)
    group = _RecordingGroup(verify_parser.add_argument_group("plugin options"))
    pm.hook.mk2ds_add_verify_options(group=group)
    verify_parser.set_defaults(plugin_option_dests=tuple(group.dests))
    for output in reports.values():
        output.add_options(verify_parser)
    verify_parser.set_defaults(handler=_cmd_verify)

    plugins_parser = subparsers.add_parser("plugins", help="list plugins with versions and hooks")
    plugins_parser.add_argument("--json", action="store_true", help="machine-readable output")
    plugins_parser.set_defaults(handler=_cmd_plugins)

    codes_parser = subparsers.add_parser("codes", help="list every finding code with its description")
    codes_parser.add_argument("--json", action="store_true", help="machine-readable output")
    codes_parser.set_defaults(handler=_cmd_codes)

    schemas_parser = subparsers.add_parser("schemas", help="list the JSON Schemas, or print one")
    schemas_parser.add_argument("name", nargs="?", help="print this schema")
    schemas_parser.set_defaults(handler=_cmd_schemas)

    profile_parser = subparsers.add_parser("profile", help="show layout profiles")
    profile_sub = profile_parser.add_subparsers(dest="profile_command", metavar="ACTION")
    show = profile_sub.add_parser("show", help="print a profile as JSON")
    show.add_argument("name", help="profile name or file")
    show.set_defaults(handler=_cmd_profile_show)
    listing = profile_sub.add_parser("list", help="list profile names")
    listing.set_defaults(handler=_cmd_profile_list)
    profile_parser.set_defaults(handler=_cmd_profile_list)

    pm.hook.mk2ds_add_commands(subparsers=subparsers, pm=pm)
    return parser


class _RecordingGroup:
    """The option group handed to ``mk2ds_add_verify_options``, noting each option's ``dest``: a plugin option
    that names an existing file or folder (``--samples DIR``) is an input the report may not be written into."""

    def __init__(self, group: Any) -> None:
        self._group = group
        self.dests: list[str] = []

    def add_argument(self, *flags: str, **kwargs: Any) -> Any:
        action = self._group.add_argument(*flags, **kwargs)
        self.dests.append(str(action.dest))
        return action


def _input_options(args: argparse.Namespace) -> list[str]:
    """The plugin options of this run whose values are existing paths (read, so never written into)."""
    values = [getattr(args, dest, None) for dest in getattr(args, "plugin_option_dests", ())]
    return [value for value in values if isinstance(value, str) and value and os.path.exists(value)]


def _cmd_verify(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    # The dataset is only ever read: a report may not land inside it, nor replace a zipped one; nor inside a
    # folder a plugin option points at (the samples of --samples DIR).
    guard_outputs([("-o", args.output)], [args.path, *_input_options(args)], pm=pm)
    profile = registry.find_profile(pm, args.profile)
    jobs = default_jobs() if args.jobs == 0 else max(1, args.jobs)
    summary: list[str] = []
    try:
        settings = plugin_settings(pm)
        with open_engine(pm, args, settings) as engine:
            report = verify(
                args.path,
                pm,
                profile,
                level=args.level,
                options=args,
                jobs=jobs,
                settings=settings,
                select=args.select,
                ignore=args.ignore,
                fail_on=Severity(args.fail_on),
                show_progress=False if args.quiet else None,
                tool=tool_description(pm),
                engine=engine,
            )
            summary = engine.summary() if engine is not None else []
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    if summary and not args.quiet:
        print("\n".join(f"mk2ds verify: {escape_text(line)}" for line in summary), file=sys.stderr)
    return int(emit_report(pm, report, args))


def _cmd_plugins(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    infos = plugin_infos(pm)
    if args.json:
        print(json.dumps([info.to_dict() for info in infos], indent=2, ensure_ascii=False))
        return 0
    for info in infos:
        origin = "built-in" if info.builtin else (info.distribution or "external")
        # names, versions and messages come from third-party distributions: printed escaped
        state = " (blocked)" if info.blocked else f" (FAILED: {escape_text(info.failed)})" if info.failed else ""
        print(f"{escape_text(info.name):22} {escape_text(info.version or '-'):10} {escape_text(origin)}{state}")
        if info.hooks:
            print(f"{'':22} hooks: {escape_text(', '.join(info.hooks))}")
        if info.detail:
            print(f"{'':22} {escape_text(info.detail)}")
    return 0


def _cmd_codes(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    table = registry.codes(pm)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "code": info.code,
                        "severity": info.severity.value,
                        "description": info.description,
                        "plugin": info.plugin,
                    }
                    for info in sorted(table.values(), key=lambda info: info.code)
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    for info in sorted(table.values(), key=lambda info: info.code):
        print(f"{escape_text(info.code):32} {info.severity.value:8} {escape_text(info.description)}")
    return 0


def _cmd_schemas(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    table = registry.schemas(pm)
    if args.name:
        if args.name not in table:
            raise UsageError(f"no schema named {args.name!r} (known: {', '.join(sorted(table))})")
        print(json.dumps(table[args.name], indent=2, ensure_ascii=False))
        return 0
    for name, document in sorted(table.items()):
        print(f"{name:12} {document.get('$id', '')}")
    return 0


def _cmd_profile_show(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    profile = registry.find_profile(pm, args.name)
    print(json.dumps(profile.to_dict(), indent=2, ensure_ascii=False))
    return 0


def _cmd_profile_list(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    for name in sorted(registry.profiles(pm)):
        print(name)
    return 0


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill``, a CI timeout, a container stop) is handled like Ctrl-C: ``KeyboardInterrupt``, so that
    every atomic output removes its part and the run ends with exit 130. A forked worker that gets SIGTERM
    dies as it always did (its parent cleans up)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def interrupt(signum: int, frame: object) -> None:
        if os.getpid() != owner:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mk2ds`` console script; returns the exit code.

    Exit codes (:class:`~mk2ds.core.report.ExitCode`): a usage error is 2, the user's Ctrl-C 130, and any
    other exception, from mk2ds or a plugin, 3 with a one-line message naming the plugin and hook when known
    (``--traceback`` or ``MK2DS_DEBUG=1`` print the traceback).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    forget_cleaned_folders()
    with _terminate_as_interrupt():
        return run_guarded(lambda state: _run(argv, state), argv)


def _run(argv: list[str], state: dict[str, Any]) -> int:
    settings = _plugin_settings(argv)
    pm = settings.build()
    state["pm"] = pm
    announce_plugin_problems(pm)
    parser = build_parser(pm)
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return int(ExitCode.USAGE_ERROR)
    state["handler"] = handler
    return int(handler(args, pm))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
