"""Calling hooks so that one failing plugin cannot take the run down.

pluggy calls all implementations of a hook in one go, so an exception in one loses the results of the others.
For collecting hooks the host therefore calls each implementation itself, in pluggy's order, turning an
exception into a ``plugin-error`` finding that names the plugin and the hook.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import pluggy

from mk2ds.core.findings import Fact, Finding, Severity

__all__ = ["call_each", "collect_results", "plugin_error"]


def plugin_error(plugin: str, hook: str, error: BaseException, path: str | None = None) -> Finding:
    return Finding(
        code="plugin-error",
        severity=Severity.ERROR,
        message=f"plugin {plugin!r} failed in {hook}: {type(error).__name__}: {error}",
        path=path,
        details={
            "plugin": plugin,
            "hook": hook,
            "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__))[-4000:],
        },
        plugin=plugin,
    )


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> Iterator[tuple[str, Any, BaseException | None]]:
    """Call every implementation of a hook separately; yield ``(plugin_name, result, error)``.

    Results are yielded in pluggy's calling order. Only the arguments an implementation asks for are passed
    (pluggy's opt-in arguments).
    """
    caller = getattr(pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        name = pm.get_name(impl.plugin) or repr(impl.plugin)
        try:
            result = impl.function(*[kwargs[arg] for arg in impl.argnames])
        except Exception as error:  # noqa: BLE001 - any plugin bug becomes a finding
            yield name, None, error
            continue
        yield name, result, None


def collect_results(
    pm: pluggy.PluginManager, hook_name: str, path: str | None = None, **kwargs: Any
) -> Iterator[Finding | Fact]:
    """Call a findings-yielding hook on every plugin; yield its findings (stamped with the plugin name) and facts.

    Exceptions raised while calling *or while iterating* a plugin's result become ``plugin-error`` findings.
    """
    for name, result, error in call_each(pm, hook_name, **kwargs):
        if error is not None:
            yield plugin_error(name, hook_name, error, path)
            continue
        if result is None:
            continue
        try:
            for item in _iterate(result):
                if isinstance(item, Finding):
                    yield item.with_plugin(name)
                elif isinstance(item, Fact):
                    yield item
                else:
                    raise TypeError(f"yielded {type(item).__name__}, expected Finding or Fact")
        except Exception as failure:  # noqa: BLE001
            yield plugin_error(name, hook_name, failure, path)


def _iterate(result: Any) -> Iterable[Any]:
    if isinstance(result, (Finding, Fact)):
        return [result]
    return result  # type: ignore[no-any-return]


def collect_registrations(pm: pluggy.PluginManager, hook_name: str) -> Iterator[tuple[str, Any]]:
    """Items of a ``register_*`` hook as ``(plugin_name, item)``; a failing registration raises (start-up bug)."""
    for name, result, error in call_each(pm, hook_name):
        if error is not None:
            raise RuntimeError(f"plugin {name!r} failed in {hook_name}: {error}") from error
        for item in result or ():
            yield name, item
