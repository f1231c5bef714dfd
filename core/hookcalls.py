"""Calling hooks so that one failing plugin cannot take the run down.

Every call goes through pluggy, so wrapper implementations (``wrapper=True``, ``hookwrapper=True``) and
``add_hookcall_monitoring`` (``MK2DS_TRACE_PLUGINS=1``) see it. What keeps the other plugins running when one
fails is the guard that :mod:`mk2ds.core.hookguard` puts around each implementation: check hooks return
lists of findings (a failure is a ``plugin-error`` finding in them), other hooks raise
:class:`~mk2ds.core.hookguard.HookFailed`, naming the plugin and the hook.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TextIO

import pluggy

from mk2ds.core.findings import Fact, Finding
from mk2ds.core.hookguard import HookFailed, Registered, guard_hook, plugin_error

__all__ = [
    "HookFailed",
    "call_each",
    "call_service",
    "collect_registrations",
    "collect_results",
    "plugin_error",
    "providers",
    "trace_hook_calls",
]


def providers(pm: pluggy.PluginManager, hook_name: str) -> list[str]:
    """Names of the plugins that implement ``hook_name`` (wrappers not counted), in calling order."""
    caller = getattr(pm.hook, hook_name)
    return [
        pm.get_name(impl.plugin) or impl.plugin_name
        for impl in reversed(caller.get_hookimpls())
        if not (impl.wrapper or impl.hookwrapper)
    ]


def call_service(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> Any:
    """Call a hook through pluggy (a *first result wins* service, usually); its result, checked.

    :raises HookFailed: an implementation failed or gave a result of the wrong shape.
    """
    guard_hook(pm, hook_name)
    return getattr(pm.hook, hook_name)(**kwargs)


def call_each(
    pm: pluggy.PluginManager, hook_name: str, **kwargs: Any
) -> Iterator[tuple[str, Any, BaseException | None]]:
    """Call every implementation of a hook on its own; yield ``(plugin_name, result, error)`` in pluggy's
    calling order, so that one plugin's failure costs only its own result (``mk2ds export`` tables).

    Only the arguments an implementation asks for are passed (pluggy's opt-in arguments); wrappers are
    not called. ``error`` is a :class:`HookFailed` naming the plugin.
    """
    guard_hook(pm, hook_name)
    caller = getattr(pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        name = pm.get_name(impl.plugin) or impl.plugin_name
        try:
            result = impl.function(*[kwargs[argument] for argument in impl.argnames])
        except HookFailed as error:
            yield name, None, error
            continue
        yield name, result, None


def collect_results(
    pm: pluggy.PluginManager, hook_name: str, path: str | None = None, **kwargs: Any
) -> Iterator[Finding | Fact]:
    """Call a check hook on every plugin; yield the findings (stamped with the plugin name) and facts.

    Exceptions raised while calling *or while iterating* a plugin's result are ``plugin-error`` findings
    among the others' results; a wrapper that fails loses the whole call (one ``plugin-error``).
    """
    guard_hook(pm, hook_name)
    try:
        results = getattr(pm.hook, hook_name)(**kwargs)
    except HookFailed as failure:
        yield plugin_error(failure.plugin, failure.hook, failure, path)
        return
    for result in results:
        yield from result


def collect_registrations(pm: pluggy.PluginManager, hook_name: str) -> Iterator[tuple[str, Any]]:
    """Items of a ``register_*`` hook as ``(plugin_name, item)``.

    :raises HookFailed: a plugin failed (plugins that fail at start-up are dropped before any command runs,
        see :func:`mk2ds.core.pluginmanager.get_plugin_manager`).
    """
    guard_hook(pm, hook_name)
    for result in getattr(pm.hook, hook_name)():
        plugin = result.plugin if isinstance(result, Registered) else "?"
        for item in result:
            yield plugin, item


def trace_hook_calls(pm: pluggy.PluginManager, stream: TextIO | None = None) -> None:
    """Print every hook call to ``stream`` (standard error): the hook, the plugins it calls, the arguments,
    how long it took and the result (``MK2DS_TRACE_PLUGINS=1``)."""
    started: list[float] = []

    def short(value: object) -> str:
        text = repr(value)
        return text if len(text) <= 120 else text[:117] + "..."

    def before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        started.append(time.perf_counter())
        names = [impl.plugin_name for impl in reversed(impls)]
        arguments = ", ".join(f"{key}={short(value)}" for key, value in kwargs.items() if key != "pm")
        print(f"mk2ds trace: {hook_name}({arguments}) -> plugins {names}", file=stream or sys.stderr)

    def after(
        outcome: pluggy.Result[Any], hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        seconds = time.perf_counter() - started.pop() if started else 0.0
        what = (
            f"raised {outcome.exception!r}"
            if outcome.exception is not None
            else f"returned {short(outcome.get_result())}"
        )
        print(f"mk2ds trace: {hook_name} {what} in {seconds * 1000:.1f} ms", file=stream or sys.stderr)

    pm.add_hookcall_monitoring(before, after)
