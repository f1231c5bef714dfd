from __future__ import annotations

import types
from pathlib import Path

import pluggy
import pytest

from mk2ds.core import CodeInfo, Finding, Severity, UsageError, get_plugin_manager, hookimpl
from mk2ds.core.hookcalls import collect_results
from mk2ds.core.pluginmanager import BUILTIN_PLUGINS, plugin_failures, plugin_infos


def _plugin(**hooks: object) -> types.SimpleNamespace:
    return types.SimpleNamespace(**hooks)


def test_every_builtin_is_registered_under_its_short_name(pm: pluggy.PluginManager) -> None:
    names = {name for name, _ in pm.list_name_plugin()}
    assert {module.removeprefix("mk2ds.plugins.") for module in BUILTIN_PLUGINS} <= names


def test_blocking_a_plugin_by_name() -> None:
    pm = get_plugin_manager(load_entrypoints=False, blocked=["checks.layout"])
    assert pm.get_plugin("checks.layout") is None
    info = {item.name: item for item in plugin_infos(pm)}
    assert info["checks.layout"].blocked


def test_blocking_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MK2DS_BLOCK_PLUGINS", "checks.layout, checks.sysinfo")
    pm = get_plugin_manager(load_entrypoints=False)
    assert pm.get_plugin("checks.layout") is None and pm.get_plugin("checks.sysinfo") is None
    assert pm.get_plugin("checks.logs") is not None


def test_essential_plugins_cannot_be_blocked() -> None:
    with pytest.raises(UsageError, match="cannot be blocked: it is the JSON report"):
        get_plugin_manager(load_entrypoints=False, blocked=["reports.json"])


def test_misspelt_hook_leaves_the_plugin_out_loudly() -> None:
    @hookimpl
    def mk2ds_register_codez() -> list[CodeInfo]:
        return []

    pm = get_plugin_manager(
        load_entrypoints=False, extra_plugins=[("typo", _plugin(mk2ds_register_codez=mk2ds_register_codez))]
    )
    assert pm.get_plugin("typo") is None
    [failure] = plugin_failures(pm)
    assert failure.name == "typo" and "mk2ds_register_codez" in failure.error
    assert {info.name: info for info in plugin_infos(pm)}["typo"].failed == failure.error


def test_a_misspelt_hook_in_a_builtin_is_a_start_up_error() -> None:
    def mk2ds_register_codez() -> list[CodeInfo]:
        return []

    module = types.ModuleType("mk2ds.plugins.typo")
    module.mk2ds_register_codez = hookimpl(mk2ds_register_codez)  # type: ignore[attr-defined]
    pm = get_plugin_manager(load_entrypoints=False, builtins=())
    pm.register(module, name="typo")
    with pytest.raises(pluggy.PluginValidationError, match="mk2ds_register_codez"):
        from mk2ds.core.pluginmanager import _check_pending

        _check_pending(pm)  # type: ignore[arg-type]


def test_a_raising_plugin_becomes_a_plugin_error_and_others_still_run(tmp_path: Path) -> None:
    @hookimpl
    def mk2ds_check_dataset(dataset: object, context: object) -> list[Finding]:
        raise RuntimeError("boom")

    broken = _plugin(mk2ds_check_dataset=mk2ds_check_dataset)
    fine = _plugin(mk2ds_check_dataset=hookimpl(lambda dataset, context: [Finding("x-ok", Severity.INFO, "fine")]))
    pm = get_plugin_manager(load_entrypoints=False, builtins=(), extra_plugins=[("broken", broken), ("fine", fine)])
    results = list(collect_results(pm, "mk2ds_check_dataset", dataset=None, context=None))
    codes = sorted((item.code, item.plugin) for item in results)
    assert codes == [("plugin-error", "broken"), ("x-ok", "fine")]
    error = next(item for item in results if item.code == "plugin-error")
    assert "boom" in error.message and error.details["hook"] == "mk2ds_check_dataset"


def test_a_plugin_failing_while_its_generator_runs_is_caught() -> None:
    def generate(dataset: object, context: object) -> object:
        yield Finding("x-first", Severity.INFO, "before")
        raise KeyError("later")

    pm = get_plugin_manager(
        load_entrypoints=False, builtins=(), extra_plugins=[("gen", _plugin(mk2ds_check_dataset=hookimpl(generate)))]
    )
    codes = [item.code for item in collect_results(pm, "mk2ds_check_dataset", dataset=None, context=None)]
    assert codes == ["x-first", "plugin-error"]


def test_plugin_infos_list_hooks_and_versions(pm: pluggy.PluginManager) -> None:
    layout = next(info for info in plugin_infos(pm) if info.name == "checks.layout")
    assert layout.builtin and layout.version and "mk2ds_check_dataset" in layout.hooks
