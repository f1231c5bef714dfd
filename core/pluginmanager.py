"""The plugin manager factory: built-in plugins and third-party ones load through the same path.

Built-ins are the modules named in :data:`BUILTIN_PLUGINS`; third-party plugins come from the ``mk2ds``
entry-point group. Any plugin except the essential ones can be blocked by name (``-p no:NAME`` on the
command line, or ``MK2DS_BLOCK_PLUGINS=a,b``). ``MK2DS_DISABLE_PLUGIN_AUTOLOAD=1`` (or
``--disable-plugin-autoload``) skips third-party entry points altogether.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from mk2ds.core import hookspecs
from mk2ds.core.hookspecs import PROJECT_NAME

__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "ESSENTIAL_PLUGINS",
    "PluginInfo",
    "blocked_from_environment",
    "get_plugin_manager",
    "plugin_infos",
]

ENTRY_POINT_GROUP = "mk2ds"
BUILTIN_PREFIX = "mk2ds.plugins."

#: Built-in plugin modules, registered under their short name (the part after ``mk2ds.plugins.``).
BUILTIN_PLUGINS: tuple[str, ...] = (
    # verify checks and the built-in layout profile
    "mk2ds.plugins.checks.classifier",
    "mk2ds.plugins.checks.profile",
    "mk2ds.plugins.checks.layout",
    "mk2ds.plugins.checks.sample_list",
    "mk2ds.plugins.checks.cross_references",
    "mk2ds.plugins.checks.logs",
    "mk2ds.plugins.checks.sysinfo",
    # reports
    "mk2ds.plugins.reports.text",
    "mk2ds.plugins.reports.json",
    "mk2ds.plugins.reports.junit",
    "mk2ds.plugins.reports.sarif",
    # the Mark II reader; convert, format and validate
    "mk2ds.plugins.reader",
    "mk2ds.plugins.records.jsonl",
    "mk2ds.plugins.records.json",
    "mk2ds.plugins.records.mk2log",
    "mk2ds.plugins.convert",
    "mk2ds.plugins.convert.format",
    "mk2ds.plugins.convert.validate",
    # the synthetic sample distribution (mk2ds sample, mk2ds demo)
    "mk2ds.plugins.synthetic",
    # process trees
    "mk2ds.plugins.tree.model",
    "mk2ds.plugins.tree",
    "mk2ds.plugins.tree.text",
    "mk2ds.plugins.tree.json",
    "mk2ds.plugins.tree.dot",
    "mk2ds.plugins.tree.html",
    # PE and impfuzzy
    "mk2ds.plugins.pe",
    "mk2ds.plugins.pe.checks",
    # packaging, checksum manifests, fixity
    "mk2ds.plugins.bagit.fixity",
    "mk2ds.plugins.bagit.payload",
    "mk2ds.plugins.bagit",
    # record outputs for other tools
    "mk2ds.plugins.records.timesketch",
    "mk2ds.plugins.records.ecs",
    "mk2ds.plugins.records.csv",
    "mk2ds.plugins.records.parquet",
    # scale-out engines
    "mk2ds.plugins.dask",
)

#: Plugins that cannot be blocked: without them the host cannot report at all.
ESSENTIAL_PLUGINS: frozenset[str] = frozenset({"reports.text", "reports.json"})

DISABLE_AUTOLOAD_ENV = "MK2DS_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "MK2DS_BLOCK_PLUGINS"


def blocked_from_environment() -> list[str]:
    value = os.environ.get(BLOCK_ENV, "")
    return [name.strip() for name in value.split(",") if name.strip()]


def autoload_disabled_by_environment() -> bool:
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def get_plugin_manager(
    *,
    load_entrypoints: bool | None = None,
    blocked: Iterable[str] = (),
    extra_plugins: Iterable[tuple[str, object]] = (),
    builtins: Iterable[str] = BUILTIN_PLUGINS,
) -> pluggy.PluginManager:
    """Build a plugin manager with the hookspecs, the built-in plugins and (unless disabled) entry points.

    :param load_entrypoints: load third-party plugins from the ``mk2ds`` entry-point group. ``None`` means
        "unless ``MK2DS_DISABLE_PLUGIN_AUTOLOAD`` is set".
    :param blocked: plugin names (short built-in names or entry-point names) not to register. The
        ``MK2DS_BLOCK_PLUGINS`` environment variable adds to them. Essential plugins cannot be blocked.
    :param extra_plugins: ``(name, plugin)`` pairs registered after the built-ins (used by tests).
    :param builtins: the built-in module names to register (tests may pass a subset).
    :raises pluggy.PluginValidationError: a plugin implements a hook with a wrong signature or an unknown
        ``mk2ds_*`` hook name.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in [*blocked, *blocked_from_environment()]:
        if name in ESSENTIAL_PLUGINS:
            raise ValueError(f"plugin {name!r} is essential and cannot be blocked")
        pm.set_blocked(name)
    for module_name in builtins:
        short = module_name.removeprefix(BUILTIN_PREFIX)
        if pm.is_blocked(short):
            continue
        module = importlib.import_module(module_name)
        pm.register(module, name=short)
    if load_entrypoints is None:
        load_entrypoints = not autoload_disabled_by_environment()
    if load_entrypoints:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for name, plugin in extra_plugins:
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    pm.check_pending()
    return pm


@dataclass(frozen=True)
class PluginInfo:
    """What ``mk2ds plugins`` shows about one plugin."""

    name: str
    version: str | None
    distribution: str | None
    hooks: tuple[str, ...]
    builtin: bool
    blocked: bool = False
    #: A plugin's own one-line note (its module attribute ``MK2DS_PLUGIN_DETAIL``), e.g. which code path is active.
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        document = {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "hooks": list(self.hooks),
            "builtin": self.builtin,
            "blocked": self.blocked,
        }
        if self.detail is not None:
            document["detail"] = self.detail
        return document


@functools.lru_cache(maxsize=1)
def _mk2ds_version() -> str:  # cached: a metadata lookup costs ~2 ms and every built-in plugin asks
    try:
        return importlib.metadata.version("mk2ds")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin with its version and hooks, plus blocked names, sorted built-ins first."""
    distinfo = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            infos.append(PluginInfo(name, None, None, (), builtin=name in _builtin_short_names(), blocked=True))
            continue
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or []))
        module_name = getattr(plugin, "__name__", "")
        builtin = isinstance(module_name, str) and module_name.startswith(BUILTIN_PREFIX)
        dist = distinfo.get(id(plugin))
        if builtin:
            version: str | None = _mk2ds_version()
            distribution: str | None = "mk2ds"
        elif dist is not None:
            version, distribution = dist.version, dist.project_name
        else:
            version, distribution = None, None
        detail = getattr(plugin, "MK2DS_PLUGIN_DETAIL", None)
        infos.append(PluginInfo(name, version, distribution, hooks, builtin=builtin, detail=detail if isinstance(detail, str) else None))
    infos.sort(key=lambda info: (not info.builtin, info.name))
    return infos


def _builtin_short_names() -> set[str]:
    return {name.removeprefix(BUILTIN_PREFIX) for name in BUILTIN_PLUGINS}


def python_description() -> str:
    return f"Python {sys.version.split()[0]}"
