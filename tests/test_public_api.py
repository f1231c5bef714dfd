"""Built-in plugins use only the public API of ``mk2ds.core``, as the plugin guide promises third parties."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import mk2ds.core
import mk2ds.plugins

PLUGINS = Path(mk2ds.plugins.__file__).parent
CORE = Path(mk2ds.core.__file__).parent


def _sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def test_no_plugin_imports_the_command_line_module_or_private_core_names() -> None:
    problems = []
    for path in _sources(PLUGINS):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mk2ds.core"):
                if node.module == "mk2ds.core.cli":
                    problems.append(f"{path.name}: imports mk2ds.core.cli")
                problems += [
                    f"{path.name}: imports {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_")
                ]
    assert problems == []


def test_no_plugin_uses_undocumented_attributes_or_undeclared_shared_data() -> None:
    pattern = re.compile(r"_plugin_settings|context\.shared\[|context\.shared\.(get|setdefault)|argparse\._")
    found = [
        f"{path.relative_to(PLUGINS)}:{number}"
        for path in _sources(PLUGINS)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_the_walker_reads_no_data_that_only_a_plugin_writes() -> None:
    source = (CORE / "walker.py").read_text(encoding="utf-8")
    assert re.search(r"\.shared\b", source) is None


def test_everything_exported_is_importable_and_documented() -> None:
    for name in mk2ds.core.__all__:
        value = getattr(mk2ds.core, name)
        assert value is not None
        if callable(value) and name != "hookimpl":
            assert (getattr(value, "__doc__", None) or "").strip(), f"{name} has no docstring"
