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
from mk2ds.core.errors import UsageError
from mk2ds.core.hookguard import HookFailed, guard_hook, guard_plugin
from mk2ds.core.hookspecs import PROJECT_NAME

__all__ = [
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "ESSENTIAL_PLUGINS",
    "Mk2dsPluginManager",
    "PluginFailure",
    "PluginInfo",
    "PluginSettings",
    "blocked_from_environment",
    "get_plugin_manager",
    "mk2ds_version",
    "plugin_failures",
    "plugin_infos",
    "plugin_settings",
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
    "mk2ds.plugins.reports.html",
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
    # the whole dataset as analysis-ready tables
    "mk2ds.plugins.export",
)

#: Plugins that cannot be blocked: without them the host cannot report at all.
ESSENTIAL_PLUGINS: frozenset[str] = frozenset({"reports.text", "reports.json"})

DISABLE_AUTOLOAD_ENV = "MK2DS_DISABLE_PLUGIN_AUTOLOAD"
BLOCK_ENV = "MK2DS_BLOCK_PLUGINS"
TRACE_ENV = "MK2DS_TRACE_PLUGINS"

#: Why an essential plugin is needed (said when someone tries to block it).
ESSENTIAL_BECAUSE = {
    "reports.text": "verify's default report format (--format text) and every text summary",
    "reports.json": "the JSON report that every other report format and `pack` build on",
}


def blocked_from_environment() -> list[str]:
    value = os.environ.get(BLOCK_ENV, "")
    return [name.strip() for name in value.split(",") if name.strip()]


def autoload_disabled_by_environment() -> bool:
    return _flag(DISABLE_AUTOLOAD_ENV)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


@functools.lru_cache(maxsize=1)
def mk2ds_version() -> str:  # cached: a metadata lookup costs ~2 ms and every built-in plugin asks
    """The installed mk2ds version (``0+unknown`` when running from a bare checkout)."""
    try:
        return importlib.metadata.version("mk2ds")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


_mk2ds_version = mk2ds_version  # the old private name, kept for code written before it became public


@dataclass(frozen=True)
class PluginSettings:
    """How a plugin manager was built, so that worker processes (``-j``, engines) build the same one."""

    load_entrypoints: bool | None = None
    blocked: tuple[str, ...] = ()

    def build(self) -> pluggy.PluginManager:
        return get_plugin_manager(load_entrypoints=self.load_entrypoints, blocked=self.blocked)

    def resolved(self) -> PluginSettings:
        """The same settings with this process's environment folded in (``MK2DS_DISABLE_PLUGIN_AUTOLOAD``,
        ``MK2DS_BLOCK_PLUGINS``), for workers on other machines or started with another environment."""
        load = not autoload_disabled_by_environment() if self.load_entrypoints is None else self.load_entrypoints
        blocked = tuple(dict.fromkeys([*self.blocked, *blocked_from_environment()]))
        return PluginSettings(load_entrypoints=load, blocked=blocked)


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded or failed at start-up; the run goes on without it."""

    name: str
    error: str
    distribution: str | None = None
    entry_point: str | None = None

    def describe(self) -> str:
        origin = (
            f" (distribution {self.distribution}, entry point {self.entry_point})"
            if self.distribution or self.entry_point
            else ""
        )
        return f"plugin {self.name!r}{origin} failed to load and is left out: {self.error}"


class Mk2dsPluginManager(pluggy.PluginManager):
    """A pluggy plugin manager that guards every hook implementation it registers
    (:mod:`mk2ds.core.hookguard`) and remembers how it was built and which plugins failed."""

    def __init__(self, settings: PluginSettings = PluginSettings()) -> None:
        super().__init__(PROJECT_NAME)
        self.settings = settings
        self.failures: list[PluginFailure] = []
        self.unknown_blocked: list[str] = []
        self.distributions: dict[str, tuple[str, str]] = {}

    def register(self, plugin: object, name: str | None = None) -> str | None:
        registered = super().register(plugin, name)
        if registered is not None:
            guard_plugin(self, plugin)
        return registered

    def fail(self, name: str, error: str, distribution: str | None = None, entry_point: str | None = None) -> None:
        """Record a failed plugin and unregister it, if it got that far."""
        plugin = self.get_plugin(name)
        if plugin is not None:
            self.unregister(plugin)
        if not any(failure.name == name for failure in self.failures):
            dist = self.distributions.get(name)
            self.failures.append(PluginFailure(name, error, distribution or (dist[0] if dist else None), entry_point))


def plugin_settings(pm: pluggy.PluginManager) -> PluginSettings:
    """How ``pm`` was built: pass it to :func:`mk2ds.core.walker.verify` and engines so workers match."""
    return pm.settings if isinstance(pm, Mk2dsPluginManager) else PluginSettings()


def plugin_failures(pm: pluggy.PluginManager) -> list[PluginFailure]:
    """Plugins left out because they failed to load or failed in a registration hook."""
    return list(pm.failures) if isinstance(pm, Mk2dsPluginManager) else []


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
        ``MK2DS_BLOCK_PLUGINS`` environment variable adds to them.
    :param extra_plugins: ``(name, plugin)`` pairs registered after the built-ins (used by tests).
    :param builtins: the built-in module names to register (tests may pass a subset).
    :raises UsageError: an essential plugin is blocked.

    A third-party plugin (entry point or extra plugin) that fails to import, to register (a hook with a
    wrong signature, an unknown ``mk2ds_*`` hook name) or in a ``mk2ds_register_*`` hook is left out and
    recorded (:func:`plugin_failures`; ``mk2ds plugins`` lists it, the command line reports it once).
    ``MK2DS_TRACE_PLUGINS=1`` prints every hook call to standard error.
    """
    blocked = tuple(blocked)
    pm = Mk2dsPluginManager(PluginSettings(load_entrypoints, blocked))
    pm.add_hookspecs(hookspecs)
    blocked_all = [*blocked, *blocked_from_environment()]
    for name in blocked_all:
        if name in ESSENTIAL_PLUGINS:
            raise UsageError(f"plugin {name!r} cannot be blocked: it is {ESSENTIAL_BECAUSE.get(name, 'essential')}")
        pm.set_blocked(name)
    for module_name in builtins:
        short = module_name.removeprefix(BUILTIN_PREFIX)
        if pm.is_blocked(short):
            continue
        module = importlib.import_module(module_name)
        pm.register(module, name=short)
    if load_entrypoints is None:
        load_entrypoints = not autoload_disabled_by_environment()
    entry_points = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)) if load_entrypoints else []
    for entry_point in entry_points:
        _load_entry_point(pm, entry_point)
    for name, plugin in extra_plugins:
        if not pm.is_blocked(name):
            _register_third_party(pm, name, plugin)
    _check_pending(pm)
    _probe_registrations(pm)
    known = {module.removeprefix(BUILTIN_PREFIX) for module in BUILTIN_PLUGINS}
    known |= {entry_point.name for entry_point in entry_points} | {name for name, _ in extra_plugins}
    pm.unknown_blocked = [name for name in dict.fromkeys(blocked_all) if name not in known]
    if _flag(TRACE_ENV):
        from mk2ds.core.hookcalls import trace_hook_calls

        trace_hook_calls(pm)
    return pm


def _load_entry_point(pm: Mk2dsPluginManager, entry_point: importlib.metadata.EntryPoint) -> None:
    if pm.get_plugin(entry_point.name) is not None or pm.is_blocked(entry_point.name):
        return
    dist = getattr(entry_point, "dist", None)
    if dist is not None:
        pm.distributions[entry_point.name] = (str(dist.metadata["Name"]), str(dist.version))
    try:
        plugin = entry_point.load()
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        pm.fail(entry_point.name, f"{type(error).__name__}: {error}", entry_point=entry_point.value)
        return
    _register_third_party(pm, entry_point.name, plugin, entry_point.value)


def _register_third_party(pm: Mk2dsPluginManager, name: str, plugin: object, entry_point: str | None = None) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as error:
        pm.fail(name, str(error), entry_point=entry_point)


def _check_pending(pm: Mk2dsPluginManager) -> None:
    """``check_pending``, leaving out each third-party plugin that implements an unknown ``mk2ds_*`` hook."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as error:
            name = pm.get_name(error.plugin)
            if name is None or _is_builtin(error.plugin):
                raise
            pm.fail(name, str(error))


def _probe_registrations(pm: Mk2dsPluginManager) -> None:
    """Call every ``mk2ds_register_*`` implementation once; leave out third-party plugins that fail."""
    for hook_name in REGISTRATION_HOOKS:
        guard_hook(pm, hook_name)
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            name = pm.get_name(impl.plugin) or impl.plugin_name
            if _is_builtin(impl.plugin) or impl.wrapper or impl.hookwrapper:
                continue
            try:
                impl.function()
            except HookFailed as failure:
                pm.fail(name, f"{hook_name}: {failure.problem}")


REGISTRATION_HOOKS = (
    "mk2ds_register_codes",
    "mk2ds_register_outputs",
    "mk2ds_register_profiles",
    "mk2ds_register_schemas",
    "mk2ds_register_engines",
)


@dataclass(frozen=True)
class PluginInfo:
    """What ``mk2ds plugins`` shows about one plugin."""

    name: str
    version: str | None
    distribution: str | None
    hooks: tuple[str, ...]
    builtin: bool
    blocked: bool = False
    #: Why the plugin was left out (failed to load or to register), or ``None``.
    failed: str | None = None
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
            "failed": self.failed,
        }
        if self.detail is not None:
            document["detail"] = self.detail
        return document


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every registered plugin with its version and hooks, plus blocked and failed ones, built-ins first."""
    distinfo = {id(plugin): (dist.project_name, dist.version) for plugin, dist in pm.list_plugin_distinfo()}
    own = pm.distributions if isinstance(pm, Mk2dsPluginManager) else {}
    failures = {failure.name: failure for failure in plugin_failures(pm)}
    infos: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            infos.append(PluginInfo(name, None, None, (), builtin=name in _builtin_short_names(), blocked=True))
            continue
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or []))
        builtin = _is_builtin(plugin)
        dist = distinfo.get(id(plugin)) or own.get(name)
        if builtin:
            version: str | None = mk2ds_version()
            distribution: str | None = "mk2ds"
        elif dist is not None:
            distribution, version = dist
        else:
            version, distribution = None, None
        detail = getattr(plugin, "MK2DS_PLUGIN_DETAIL", None)
        infos.append(
            PluginInfo(
                name, version, distribution, hooks, builtin=builtin, detail=detail if isinstance(detail, str) else None
            )
        )
    for name, failure in failures.items():
        version = own[name][1] if name in own else None
        infos.append(PluginInfo(name, version, failure.distribution, (), builtin=False, failed=failure.error))
    infos.sort(key=lambda info: (not info.builtin, info.name))
    return infos


def _is_builtin(plugin: object) -> bool:
    """A module of mk2ds itself (its failures are mk2ds bugs, not a third party's: they stop the run)."""
    module_name = getattr(plugin, "__name__", "")
    return isinstance(module_name, str) and module_name.startswith(BUILTIN_PREFIX)


def _builtin_short_names() -> set[str]:
    return {name.removeprefix(BUILTIN_PREFIX) for name in BUILTIN_PLUGINS}


def python_description() -> str:
    return f"Python {sys.version.split()[0]}"
