"""The last line of defense of the command line: every exception ends in a defined exit code.

``mk2ds`` exits 2 on a usage error, 130 on the user's Ctrl-C, and 3 on anything else that escapes, from
mk2ds or a plugin: one line on standard error that names the plugin and hook when known (a
:class:`~mk2ds.core.hookguard.HookFailed` names them; otherwise the innermost traceback frame that belongs
to a plugin's module does) and says how to see the traceback (``--traceback`` or ``MK2DS_DEBUG=1``).
Never exit 1 for an internal failure: 1 means "the data has problems".
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from types import FrameType, ModuleType
from typing import Any

import pluggy

from mk2ds.core.errors import DatasetUnreadable, UsageError
from mk2ds.core.hookguard import HookFailed, note_user_interrupt, reset_user_interrupt, user_interrupted
from mk2ds.core.pluginmanager import plugin_failures
from mk2ds.core.report import ExitCode
from mk2ds.core.terminal import escape_text

__all__ = ["announce_plugin_problems", "blame", "run_guarded"]

DEBUG_ENV = "MK2DS_DEBUG"


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    note_user_interrupt()
    raise KeyboardInterrupt


def _interrupting(handler: Callable[[int, FrameType | None], Any]) -> Callable[[int, FrameType | None], Any]:
    """A signal handler of someone else's (SIGTERM handled like Ctrl-C, say), that first marks what it may
    raise as the user's interrupt, not a plugin's ``KeyboardInterrupt``."""

    def handle(signum: int, frame: FrameType | None) -> Any:
        note_user_interrupt()
        return handler(signum, frame)

    return handle


def announce_plugin_problems(pm: pluggy.PluginManager) -> None:
    """Say once, on standard error, which plugins failed to load and which blocked names match no plugin."""
    for failure in plugin_failures(pm):
        print(f"mk2ds: warning: {failure.describe()}", file=sys.stderr)
    for name in getattr(pm, "unknown_blocked", []):
        print(
            f"mk2ds: warning: -p no:{name} / MK2DS_BLOCK_PLUGINS names no known plugin (see mk2ds plugins)",
            file=sys.stderr,
        )


def _plugin_modules(pm: pluggy.PluginManager | None) -> dict[str, str]:
    modules: dict[str, str] = {}
    for name, plugin in pm.list_name_plugin() if pm is not None else []:
        if plugin is None:
            continue
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        modules[module] = name
    return modules


def blame(
    error: BaseException, pm: pluggy.PluginManager | None, handler: object = None
) -> tuple[str | None, str | None]:
    """``(plugin, hook)`` responsible for ``error``, as far as can be told."""
    if isinstance(error, HookFailed):
        return error.plugin, error.hook
    modules = _plugin_modules(pm)
    for frame, _line in reversed(list(traceback.walk_tb(error.__traceback__))):
        module = str(frame.f_globals.get("__name__", ""))
        owners = [name for prefix, name in modules.items() if module == prefix or module.startswith(prefix + ".")]
        if owners:
            return max(owners, key=len), None
    handler_module = getattr(handler, "__module__", None)
    owners = [name for prefix, name in modules.items() if handler_module == prefix]
    return (owners[0], None) if owners else (None, None)


def _internal_error(error: BaseException, pm: pluggy.PluginManager | None, handler: object, argv: Sequence[str]) -> int:
    plugin, hook = blame(error, pm, handler)
    where = f" in plugin {plugin!r}" + (f" ({hook})" if hook else "") if plugin else ""
    problem = error.problem if isinstance(error, HookFailed) else f"{type(error).__name__}: {error}"
    debug = "--traceback" in argv or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")
    if debug:
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    hint = "" if debug else " (run with --traceback or MK2DS_DEBUG=1 for the traceback)"
    print(f"mk2ds: internal error{where}: {escape_text(problem)}{hint}", file=sys.stderr)
    return int(ExitCode.INTERNAL_ERROR)


def run_guarded(run: Callable[[dict[str, Any]], int], argv: Sequence[str]) -> int:
    """Run a command (``run(state)``; it puts ``pm`` and ``handler`` into ``state`` as it learns them) and
    turn whatever it raises into an exit code."""
    state: dict[str, Any] = {}
    previous = signal.getsignal(signal.SIGINT)
    installed = previous is signal.default_int_handler and threading.current_thread() is threading.main_thread()
    previous_term = signal.getsignal(signal.SIGTERM) if installed else None
    if installed:
        signal.signal(signal.SIGINT, _on_sigint)
        if callable(previous_term):
            signal.signal(signal.SIGTERM, _interrupting(previous_term))
    try:
        return run(state)
    except (UsageError, DatasetUnreadable) as error:
        print(f"mk2ds: error: {escape_text(error)}", file=sys.stderr)
        return int(ExitCode.USAGE_ERROR)
    except KeyboardInterrupt as error:
        if not user_interrupted() and not installed:
            note_user_interrupt()  # no handler of ours: it can only be taken as the user's
        if user_interrupted():
            print("mk2ds: interrupted", file=sys.stderr)
            return int(ExitCode.INTERRUPTED)
        return _internal_error(error, state.get("pm"), state.get("handler"), argv)
    except BrokenPipeError:
        # Output piped into `head` and closed: not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return int(ExitCode.OK)
    except SystemExit:
        raise  # argparse (--help, usage errors) and sys.exit in a command's own code
    except Exception as error:  # noqa: BLE001 - the catch-all: exit 3, never a traceback, never exit 1
        return _internal_error(error, state.get("pm"), state.get("handler"), argv)
    finally:
        if installed:
            signal.signal(signal.SIGINT, previous)
            if callable(previous_term):
                signal.signal(signal.SIGTERM, previous_term)
        reset_user_interrupt()
