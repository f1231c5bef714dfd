"""What a verification could not check because plugins are blocked or missing.

A verify run must never look cleaner than it is. Two host-level gaps are reported here (checks that depend
on another plugin's hook report their own gap with :func:`mk2ds.core.verify_context.check_not_run`):

* a **blocked plugin that has checks** (``-p no:NAME``, ``MK2DS_BLOCK_PLUGINS``): a ``check-blocked``
  warning names it and the verification hooks it implements. Built-in modules are inspected without being
  registered; a blocked third-party plugin is never loaded, so it is named without its hooks.
* **nobody classifies files** (``mk2ds_classify_entry``): every file is ``other`` and no per-file check
  knows its files; that is a ``check-not-run`` error.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pluggy

from mk2ds.core.findings import Finding, Severity
from mk2ds.core.hookcalls import providers
from mk2ds.core.hookspecs import PROJECT_NAME
from mk2ds.core.pluginmanager import BUILTIN_PLUGINS, BUILTIN_PREFIX, plugin_failures
from mk2ds.core.verify_context import check_not_run

__all__ = ["VERIFY_HOOKS", "coverage_findings"]

#: The hooks through which a plugin takes part in a verification.
VERIFY_HOOKS = (
    "mk2ds_classify_entry",
    "mk2ds_check_dataset",
    "mk2ds_check_entry",
    "mk2ds_check_container",
    "mk2ds_locate_payload",
    "mk2ds_register_profiles",
    "mk2ds_open_log",
    "mk2ds_recompute_pe",
    "mk2ds_build_process_tree",
)


def _builtin_verify_hooks(short_name: str) -> list[str] | None:
    """The verification hooks a built-in plugin module implements (``None`` for a name that is no built-in)."""
    module_name = BUILTIN_PREFIX + short_name
    if module_name not in BUILTIN_PLUGINS:
        return None
    module = importlib.import_module(module_name)
    marker = f"{PROJECT_NAME}_impl"
    return [hook for hook in VERIFY_HOOKS if getattr(getattr(module, hook, None), marker, None) is not None]


def coverage_findings(pm: pluggy.PluginManager) -> Iterator[Finding]:
    """``check-blocked`` for every blocked plugin with verification hooks; ``check-not-run`` when no plugin
    classifies files; a ``plugin-error`` for every third-party plugin that failed to load."""
    for failure in plugin_failures(pm):
        yield Finding(
            "plugin-error",
            Severity.ERROR,
            failure.describe(),
            details={"plugin": failure.name, "distribution": failure.distribution, "entry_point": failure.entry_point},
            plugin=failure.name,
        )
    unknown = set(getattr(pm, "unknown_blocked", ()))
    for name, plugin in pm.list_name_plugin():
        if plugin is not None or name in unknown:
            continue
        hooks = _builtin_verify_hooks(name)
        if hooks == []:
            continue
        what = f"it implements {', '.join(hooks)}" if hooks else "a third-party plugin, not loaded"
        yield Finding(
            "check-blocked",
            Severity.WARNING,
            f"plugin {name!r} is blocked ({what}): what it checks or provides was not checked in this run",
            details={"plugin": name, "hooks": hooks or []},
        )
    if not providers(pm, "mk2ds_classify_entry"):
        yield check_not_run(
            "the kind of every file (and so every per-file check)", "mk2ds_classify_entry", "checks.classifier"
        )
