"""Contract tests: the hook contract is documented, modules import cleanly, every command has help,
and nothing imports the bare folder names."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pluggy
import pytest

from mk2ds.core import hookspecs
from mk2ds.core.cli import build_parser
from mk2ds.core.pluginmanager import BUILTIN_PLUGINS

ROOT = Path(__file__).resolve().parents[1]
HOOKS = [name for name, value in vars(hookspecs).items() if name.startswith("mk2ds_") and callable(value)]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_documents_each_parameter(hook: str) -> None:
    function = getattr(hookspecs, hook)
    doc = inspect.getdoc(function) or ""
    assert len(doc) > 80, f"{hook} needs a real docstring"
    for parameter in inspect.signature(function).parameters:
        assert f":param {parameter}:" in doc, f"{hook} does not document {parameter}"
    if getattr(function, "mk2ds_spec", {}).get("firstresult"):
        assert "first result wins" in doc.lower()


def test_every_module_imports_with_warnings_as_errors() -> None:
    modules = []
    for package in ("mk2ds.core", "mk2ds.plugins", "mk2ds.schemas"):
        imported = importlib.import_module(package)
        modules.append(package)
        modules += [f"{package}.{info.name}" for info in pkgutil.iter_modules(imported.__path__)]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    subprocess.run([sys.executable, "-W", "error", "-c", code, *modules], check=True, cwd="/")


def test_every_builtin_plugin_has_a_docstring() -> None:
    for name in BUILTIN_PLUGINS:
        module = importlib.import_module(name)
        assert (module.__doc__ or "").strip(), f"{name} has no module docstring"


def test_every_command_has_help(pm: pluggy.PluginManager) -> None:
    parser = build_parser(pm)
    subparsers = next(action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction")
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    assert set(helps) == set(subparsers.choices)
    assert all(text and len(text) > 10 for text in helps.values()), helps


def test_no_bare_imports_of_the_project_folders() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(core|plugins|schemas)(\.|\s|$)", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("core", "plugins", "tests", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert "core" not in sys.modules and "plugins" not in sys.modules


def test_codes_are_unique_across_plugins(pm: pluggy.PluginManager) -> None:
    seen: dict[str, str] = {}
    for result_plugin, results in zip(
        [pm.get_name(impl.plugin) for impl in pm.hook.mk2ds_register_codes.get_hookimpls()],
        [impl.function() for impl in pm.hook.mk2ds_register_codes.get_hookimpls()],
    ):
        for info in results:
            assert info.code not in seen, f"{info.code} registered by {seen.get(info.code)} and {result_plugin}"
            seen[info.code] = str(result_plugin)
