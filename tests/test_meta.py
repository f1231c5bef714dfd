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
        strict=False,
    ):
        for info in results:
            assert info.code not in seen, f"{info.code} registered by {seen.get(info.code)} and {result_plugin}"
            seen[info.code] = str(result_plugin)


def _pyproject() -> dict[str, object]:
    import tomllib  # Python 3.11+; the meta tests need it only here

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_every_feature_package_is_in_the_wheel() -> None:
    """setuptools leaves an unlisted sub-package out of the wheel silently; the list must name every one."""
    setuptools = _pyproject()["tool"]["setuptools"]  # type: ignore[index]
    listed = set(setuptools["packages"])
    on_disk = {
        "mk2ds.plugins." + ".".join(init.parent.relative_to(ROOT / "plugins").parts)
        for init in (ROOT / "plugins").rglob("__init__.py")
        if init.parent != ROOT / "plugins"
    }
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    data_patterns = setuptools["package-data"]
    for path in (ROOT / "plugins").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".html", ".js", ".css"):
            package = "mk2ds.plugins." + ".".join(path.parent.relative_to(ROOT / "plugins").parts)
            assert any(path.match(pattern) for pattern in data_patterns.get(package, ())), f"{path} is not package data"


def test_every_feature_package_says_what_it_holds() -> None:
    """A newcomer reads the folder listing, then each package's docstring: what the feature is, which hooks."""
    for init in (ROOT / "plugins").glob("*/__init__.py"):
        module = importlib.import_module("mk2ds.plugins." + init.parent.name)
        doc = inspect.getdoc(module) or ""
        assert len(doc) > 120 and "mk2ds_" in doc, f"{init.parent.name}/__init__.py needs a docstring naming its hooks"


def test_the_repository_cites_nothing_outside_itself() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    pattern = re.compile(r"\.\./shared|anchors\.md|mk2-format\.md")
    offenders = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in (".py", ".md", ".toml", ".ini", ".txt", ".json", ".html", ".js", ".css") and path.is_file():
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                offenders.append(name)
    assert offenders == []


def test_the_readme_says_where_every_built_in_plugin_lives() -> None:
    """The "Layout of the code" table names every built-in plugin, so a newcomer finds it without grepping."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout of the code") :]
    missing = [name for name in BUILTIN_PLUGINS if f"`{name.removeprefix('mk2ds.plugins.')}`" not in layout]
    assert missing == []


#: British forms the codebase once mixed with American ones (finding codes are an API: one spelling).
_BRITISH = re.compile(
    r"\b(artefact\w*|behaviour\w*|colour\w*|normalis\w*|recognis\w*|summaris\w*|serialis\w*|initialis\w*"
    r"|organis\w*|analys(?:e|ed|ing)|labelled|catalogue|defence)\b",
    re.IGNORECASE,
)


def test_one_spelling_american_in_code_docs_and_finding_codes() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    suffixes = (".py", ".md", ".json", ".html", ".js", ".css", ".toml", ".ini", ".c")
    found = []
    for name in tracked:
        if name.startswith("tests/data/") or name == "tests/test_meta.py" or not name.endswith(suffixes):
            continue
        path = ROOT / name
        if path.is_file():
            found += [
                f"{name}: {match}" for match in _BRITISH.findall(path.read_text(encoding="utf-8", errors="replace"))
            ]
    assert found == []
