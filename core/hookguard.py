"""Guards around every hook implementation: one failing plugin never takes the run down, and its failure
always names it.

Hooks are called through pluggy (so ``wrapper=True``/``hookwrapper=True`` implementations and
``add_hookcall_monitoring`` work), but each implementation's function is replaced, when the plugin is
registered, by a guard that knows the plugin's name and the hook:

* **check hooks** (``mk2ds_check_dataset``, ``mk2ds_check_entry``, ``mk2ds_check_container``): the guard
  calls the implementation *and iterates its result*, validates every finding and fact, stamps findings with
  the plugin's name and returns a list. An exception (also ``SystemExit``, and a ``KeyboardInterrupt`` that
  is not the user's Ctrl-C) becomes a ``plugin-error`` finding in that list; an entry check that runs past
  the time limit (:func:`time_limit`) becomes ``plugin-timeout``. The other plugins' results are kept.
* **every other hook**: a failure, or a result of the wrong shape, raises :class:`HookFailed`, which names
  the plugin and the hook; the host turns it into a ``plugin-error`` (in ``verify``) or a one-line message
  and exit code 3. A record reader from ``mk2ds_open_log`` is watched while it is read, so a reader that
  fails half-way is blamed, not the check that used it.

Wrappers are guarded too: a wrapper that raises fails the whole hook call with :class:`HookFailed` naming
the wrapper's plugin.

Telling the user's Ctrl-C from a plugin's failure, and the time limit, are in :mod:`mk2ds.core.hooklimits`
(re-exported here).
"""

from __future__ import annotations

import functools
import math
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import Any

import pluggy

from mk2ds.core.contract import reader_problem, reader_stats_problem, tree_problem
from mk2ds.core.findings import Fact, Finding, Severity, finding_problem
from mk2ds.core.hooklimits import (
    PluginTimeout,
    alarm,
    entry_check_seconds,
    is_plugin_failure,
    note_user_interrupt,
    reset_user_interrupt,
    time_limit,
    user_interrupted,
)

__all__ = [
    "CHECK_HOOKS",
    "HookFailed",
    "PluginTimeout",
    "Registered",
    "guard_hook",
    "guard_plugin",
    "note_user_interrupt",
    "plugin_error",
    "plugin_timeout",
    "reset_user_interrupt",
    "time_limit",
    "user_interrupted",
]

#: Hooks whose implementations yield findings and facts.
CHECK_HOOKS = frozenset({"mk2ds_check_dataset", "mk2ds_check_entry", "mk2ds_check_container"})
#: The hook whose calls :func:`time_limit` bounds.
TIMED_HOOK = "mk2ds_check_entry"
_GUARDED = "__mk2ds_guarded__"


class HookFailed(Exception):
    """A plugin's hook implementation failed, or gave a result that breaks the contract."""

    def __init__(self, plugin: str, hook: str, error: BaseException | None = None, problem: str | None = None) -> None:
        self.plugin = plugin
        self.hook = hook
        self.error = error
        self.problem = problem or (f"{type(error).__name__}: {error}" if error is not None else "failed")
        super().__init__(f"plugin {plugin!r} failed in {hook}: {self.problem}")


# -- findings that name the plugin ------------------------------------------------------------------------------


def plugin_error(
    plugin: str, hook: str, error: BaseException, path: str | None = None, *, called_by: str | None = None
) -> Finding:
    """A ``plugin-error`` finding for ``error`` in ``plugin``'s ``hook`` (a :class:`HookFailed` names its own)."""
    problem = f"{type(error).__name__}: {error}"
    if isinstance(error, HookFailed):
        if error.plugin != plugin:
            called_by = called_by or f"{plugin} ({hook})"
        plugin, hook, problem = error.plugin, error.hook, error.problem
        error = error.error or error
    details: dict[str, Any] = {
        "plugin": plugin,
        "hook": hook,
        "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__))[-4000:],
    }
    if called_by:
        details["called_by"] = called_by
    return Finding(
        "plugin-error",
        Severity.ERROR,
        f"plugin {plugin!r} failed in {hook}: {problem}",
        path=path,
        details=details,
        plugin=plugin,
    )


def plugin_timeout(plugin: str, hook: str, seconds: float, path: str | None) -> Finding:
    return Finding(
        "plugin-timeout",
        Severity.ERROR,
        f"plugin {plugin!r} did not finish {hook} within {seconds:g} s (--check-timeout); its results for this file are lost",
        path=path,
        details={"plugin": plugin, "hook": hook, "seconds": seconds},
        plugin=plugin,
    )


# -- the guards -------------------------------------------------------------------------------------------------


def _path_of(kwargs: Mapping[str, Any]) -> str | None:
    entry = kwargs.get("entry")
    path = getattr(entry, "path", None)
    return path if isinstance(path, str) else None


def _collect(
    items: list[Finding | Fact], plugin: str, hook: str, result: object, path: str | None
) -> list[Finding | Fact]:
    """Append ``result``'s findings and facts to ``items`` one by one (so a failure half-way keeps the first)."""
    if result is None:
        return items
    for item in [result] if isinstance(result, (Finding, Fact)) else _iterable(result):
        problem = finding_problem(item)
        if problem is not None:
            items.append(plugin_error(plugin, hook, TypeError(problem), path))
        elif isinstance(item, Finding):
            items.append(item.with_plugin(plugin))
        else:
            items.append(item)  # type: ignore[arg-type]  # a Fact: finding_problem checked the type
    return items


def _iterable(result: object) -> Iterable[object]:
    if not isinstance(result, Iterable) or isinstance(result, (str, bytes, Mapping)):
        raise TypeError(f"returned {type(result).__name__}, expected an iterable of findings and facts")
    return result


def _guard_check(function: Callable[..., Any], plugin: str, hook: str, argnames: tuple[str, ...]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **options: Any) -> list[Finding | Fact]:
        kwargs = {**dict(zip(argnames, args, strict=False)), **options}
        path = _path_of(kwargs)
        seconds = entry_check_seconds() if hook == TIMED_HOOK else None
        if seconds:
            size = getattr(kwargs.get("entry"), "size", 0) or 0
            seconds = float(seconds) + size / (1 << 20)  # generous: one more second per MiB of the file
        items: list[Finding | Fact] = []
        try:
            with alarm(seconds):
                return _collect(items, plugin, hook, function(*args, **options), path)
        except PluginTimeout:
            return [*items, plugin_timeout(plugin, hook, math.ceil(seconds or 0), path)]
        except BaseException as error:
            if not is_plugin_failure(error):
                raise
            return [*items, plugin_error(plugin, hook, error, path)]

    return guarded


class _WatchedReader:
    """A plugin's record reader, watched: a failure while reading, or stats that break the contract at the
    end, raise :class:`HookFailed` naming the plugin that opened the log."""

    def __init__(self, reader: Any, plugin: str) -> None:
        self._reader = reader
        self._plugin = plugin

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            yield from self._reader
        except GeneratorExit:
            raise
        except BaseException as error:
            if not is_plugin_failure(error) or isinstance(error, HookFailed):
                raise
            raise HookFailed(
                self._plugin, "mk2ds_open_log", error, f"its reader failed: {type(error).__name__}: {error}"
            ) from error
        problem = reader_stats_problem(getattr(self._reader, "stats", None))
        if problem:
            raise HookFailed(self._plugin, "mk2ds_open_log", problem=problem)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() sees the plugin's reader class, as without the watch
        return type(self._reader)


def _checked_open_log(result: Any, plugin: str) -> Any:
    problem = reader_problem(result)
    if problem:
        raise HookFailed(plugin, "mk2ds_open_log", problem=problem)
    return _WatchedReader(result, plugin)


def _checked_tree(result: Any, plugin: str) -> Any:
    problem = tree_problem(result)
    if problem:
        raise HookFailed(plugin, "mk2ds_build_process_tree", problem=problem)
    return result


def _checked_pe(result: Any, plugin: str) -> Any:
    if not isinstance(result, Mapping) or not isinstance(result.get("status"), str) or "name" not in result:
        raise HookFailed(
            plugin,
            "mk2ds_recompute_pe",
            problem=f"returned {type(result).__name__}, not a PE document (with name and status)",
        )
    return result


def _checked_text(hook: str) -> Callable[[Any, str], Any]:
    def check(result: Any, plugin: str) -> Any:
        if not isinstance(result, str):
            raise HookFailed(plugin, hook, problem=f"returned {type(result).__name__}, expected a string or None")
        return result

    return check


class Registered(list):  # type: ignore[type-arg]
    """The items one plugin registered (a list), with the plugin's name."""

    def __init__(self, items: Iterable[object], plugin: str) -> None:
        super().__init__(items)
        self.plugin = plugin


def _registered_type(hook: str) -> type | tuple[type, ...]:
    """What each item of a registration hook must be (imported late: those modules use this one)."""
    from mk2ds.core.engines import Engine
    from mk2ds.core.findings import CodeInfo
    from mk2ds.core.outputs import OutputFormat

    return {
        "mk2ds_register_codes": CodeInfo,
        "mk2ds_register_outputs": OutputFormat,
        "mk2ds_register_engines": Engine,
    }.get(hook, Mapping)


def _checked_iterable(hook: str) -> Callable[[Any, str], Any]:
    def check(result: Any, plugin: str) -> Any:
        try:
            items = Registered(_iterable(result), plugin)
        except TypeError as error:
            raise HookFailed(plugin, hook, problem=str(error)) from None
        expected = _registered_type(hook)
        wrong = [type(item).__name__ for item in items if not isinstance(item, expected)]
        if wrong:
            name = expected.__name__ if isinstance(expected, type) else "/".join(kind.__name__ for kind in expected)
            raise HookFailed(plugin, hook, problem=f"registered {', '.join(wrong)} where {name} belongs")
        return items

    return check


#: Checks of a non-``None`` result, where it is received (the check may wrap the result).
RESULT_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "mk2ds_open_log": _checked_open_log,
    "mk2ds_build_process_tree": _checked_tree,
    "mk2ds_recompute_pe": _checked_pe,
    "mk2ds_classify_entry": _checked_text("mk2ds_classify_entry"),
    "mk2ds_locate_payload": _checked_text("mk2ds_locate_payload"),
    **{
        hook: _checked_iterable(hook)
        for hook in (
            "mk2ds_register_codes",
            "mk2ds_register_outputs",
            "mk2ds_register_profiles",
            "mk2ds_register_schemas",
            "mk2ds_register_engines",
        )
    },
}


def _guard_call(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    check = RESULT_CHECKS.get(hook)

    @functools.wraps(function)
    def guarded(*args: Any, **options: Any) -> Any:
        try:
            result = function(*args, **options)
        except HookFailed:
            raise
        except BaseException as error:
            if not is_plugin_failure(error):
                raise
            raise HookFailed(plugin, hook, error) from error
        return check(result, plugin) if check is not None and result is not None else result

    return guarded


def _guard_wrapper(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **options: Any) -> Generator[Any, Any, Any]:
        try:
            return (yield from function(*args, **options))
        except (HookFailed, GeneratorExit):
            raise
        except BaseException as error:
            if not is_plugin_failure(error):
                raise
            raise HookFailed(plugin, hook, error) from error

    return guarded


def guard_impl(impl: pluggy.HookImpl, plugin: str, hook: str) -> None:
    """Replace ``impl``'s function by its guard (once)."""
    function = impl.function
    if getattr(function, _GUARDED, False):
        return
    if impl.wrapper or impl.hookwrapper:
        guarded = _guard_wrapper(function, plugin, hook)
    elif hook in CHECK_HOOKS:
        guarded = _guard_check(function, plugin, hook, tuple(impl.argnames))
    else:
        guarded = _guard_call(function, plugin, hook)
    setattr(guarded, _GUARDED, True)
    setattr(impl, "function", guarded)  # noqa: B010 - HookImpl.function is typed Final; it is a plain slot


def guard_hook(pm: pluggy.PluginManager, hook: str) -> None:
    """Guard every implementation of ``hook`` that is not guarded yet."""
    caller = getattr(pm.hook, hook, None)
    if caller is None:
        return
    for impl in caller.get_hookimpls():
        guard_impl(impl, pm.get_name(impl.plugin) or impl.plugin_name, hook)


def guard_plugin(pm: pluggy.PluginManager, plugin: object) -> None:
    """Guard every hook implementation of a registered plugin."""
    name = pm.get_name(plugin) or repr(plugin)
    for caller in pm.get_hookcallers(plugin) or []:
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                guard_impl(impl, name, caller.name)
