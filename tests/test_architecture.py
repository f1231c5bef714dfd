"""The shape of the code holds: core knows no feature, features share only public names, and nothing imports in
a circle, neither at module level nor through an import inside a function (a lazy import only hides a cycle).

A *feature* is ``mk2ds.core``, ``mk2ds.schemas`` or one subpackage of ``mk2ds.plugins`` (``reader``, ``tree``...).
Imports under ``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import mk2ds.core
import mk2ds.plugins
import mk2ds.schemas

ROOTS = {
    "mk2ds.core": Path(mk2ds.core.__file__).parent,
    "mk2ds.plugins": Path(mk2ds.plugins.__file__).parent,
    "mk2ds.schemas": Path(mk2ds.schemas.__file__).parent,
}


@dataclass
class Module:
    name: str
    path: Path
    #: Modules imported when this one is imported, and those imported by its functions when they run.
    imports: set[str] = field(default_factory=set)
    lazy_imports: set[str] = field(default_factory=set)
    #: ``(module, name)`` for every underscore name taken from a project module.
    private_uses: set[tuple[str, str]] = field(default_factory=set)


def _module_names() -> dict[str, Path]:
    names = {}
    for package, root in ROOTS.items():
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names[".".join((package, *parts))] = path
    return names


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _read_module(name: str, path: Path, known: dict[str, Path]) -> Module:
    module = Module(name, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    aliases: dict[str, str] = {}

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets = module.lazy_imports if nested else module.imports
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name in known:
                        targets.add(alias.name)
                        aliases[alias.asname or alias.name] = alias.name
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(
                        package.split(".")[: len(package.split(".")) - child.level + 1] + [base] * bool(base)
                    )
                for alias in child.names:
                    whole = f"{base}.{alias.name}"
                    if whole in known:
                        targets.add(whole)
                        aliases[alias.asname or alias.name] = whole
                    elif base in known:
                        targets.add(base)
                        if _is_private(alias.name):
                            module.private_uses.add((base, alias.name))
            elif (
                isinstance(child, ast.Attribute)
                and isinstance(child.value, ast.Name)
                and child.value.id in aliases
                and _is_private(child.attr)
            ):
                module.private_uses.add((aliases[child.value.id], child.attr))
            visit(child, nested)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return module


def _modules() -> dict[str, Module]:
    known = _module_names()
    return {name: _read_module(name, path, known) for name, path in known.items()}


def feature(module: str) -> str:
    """``mk2ds.plugins.tree.model`` → ``plugins.tree``; ``mk2ds.core.dataset`` → ``core``."""
    parts = module.split(".")
    return f"plugins.{parts[2]}" if parts[1] == "plugins" and len(parts) > 2 else parts[1]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


MODULES = _modules()


def test_the_import_graph_is_read() -> None:
    # The reader of this test must see real edges, or every check below would pass on nothing.
    convert = MODULES["mk2ds.plugins.convert"]
    assert "core" in {feature(target) for target in convert.imports}
    assert any(feature(target) == "plugins.reader" for target in convert.imports | convert.lazy_imports)
    assert len(MODULES) > 100


def test_core_imports_no_feature() -> None:
    problems = sorted(
        f"{module.name} imports {target}"
        for module in MODULES.values()
        if feature(module.name) == "core"
        for target in module.imports | module.lazy_imports
        if target.startswith("mk2ds.plugins.")
    )
    assert problems == []


def test_no_feature_uses_another_features_private_names() -> None:
    problems = sorted(
        f"{module.name} uses {owner}.{name}"
        for module in MODULES.values()
        for owner, name in module.private_uses
        if feature(owner) != feature(module.name)
    )
    assert problems == []


def test_no_import_cycle_between_modules() -> None:
    graph = {name: module.imports - {name} for name, module in MODULES.items()}
    assert _cycles(graph) == []


def test_no_import_cycle_between_features_even_through_lazy_imports() -> None:
    graph: dict[str, set[str]] = {}
    for module in MODULES.values():
        for target in module.imports | module.lazy_imports:
            if feature(target) != feature(module.name):
                graph.setdefault(feature(module.name), set()).add(feature(target))
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_private_names_are_seen_in_from_imports_and_attributes(tmp_path: Path) -> None:
    source = tmp_path / "planted.py"
    source.write_text(
        "from mk2ds.plugins.tree.model import _hidden\n"
        "import mk2ds.plugins.reader.blocks as blocks\n"
        "def later():\n"
        "    from ..core import dataset\n"
        "    return blocks._private, dataset\n",
        encoding="utf-8",
    )
    known = {name: Path() for name in ("mk2ds.core", "mk2ds.core.dataset", "mk2ds.plugins.tree.model")}
    known["mk2ds.plugins.reader.blocks"] = Path()
    planted = _read_module("mk2ds.plugins.planted", source, known)
    assert planted.private_uses == {
        ("mk2ds.plugins.tree.model", "_hidden"),
        ("mk2ds.plugins.reader.blocks", "_private"),
    }
    assert planted.imports == {"mk2ds.plugins.tree.model", "mk2ds.plugins.reader.blocks"}
    assert planted.lazy_imports == {"mk2ds.core.dataset"}  # relative, inside a function
