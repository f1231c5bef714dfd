"""The generated hook reference: complete, correctly converted, and equal to the committed guide."""

from __future__ import annotations

import importlib.util
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from mk2ds.core import hookdocs, hookspecs
from mk2ds.core.hookdocs import (
    BEGIN,
    END,
    hook_functions,
    render_reference,
    replace_generated,
    rst_to_markdown,
)

GUIDE = Path(__file__).parents[2] / "docs" / "plugin-guide.md"


def test_committed_guide_equals_the_generated_reference() -> None:
    document = GUIDE.read_text(encoding="utf-8")
    assert replace_generated(document, render_reference()) == document, (
        "docs/plugin-guide.md is stale: run python -m mk2ds.core.hookdocs --write docs/plugin-guide.md"
    )


def test_every_hookspec_is_documented_with_how_it_is_called() -> None:
    reference = render_reference()
    names = [name for name in vars(hookspecs) if name.startswith("mk2ds_")]
    assert names and [name for name, _, _ in hook_functions(hookspecs)] == names
    for name, _function, options in hook_functions(hookspecs):
        section = reference.split(f"#### {name}\n", 1)[1].split("\n#### ", 1)[0]
        assert f"def {name}(" in section
        assert ("*First result wins*" in section) == bool(options.get("firstresult"))
    assert "never renamed or removed" in reference  # the stability promise, from the module docstring


def test_rst_fields_roles_and_literal_blocks() -> None:
    text = textwrap.dedent(
        """\
        Do a thing with ``x`` and :class:`mk2ds.core.findings.Finding`.

        Example::

            call(x)
                nested

        :param entry: the file,
            over two lines.
        :return: a :func:`list` or ``None``.
        :raises UsageError: when asked.
        """
    )
    assert rst_to_markdown(text) == textwrap.dedent(
        """\
        Do a thing with `x` and `mk2ds.core.findings.Finding`.

        Example:

        ```
        call(x)
            nested
        ```

        - **`entry`**: the file, over two lines.
        - **returns**: a `list` or `None`.
        - **raises `UsageError`**: when asked.
        """
    )


def _module(tmp_path: Path, source: str) -> ModuleType:
    path = tmp_path / "fake_hookspecs.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("fake_hookspecs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sections_order_and_calling_kinds(tmp_path: Path) -> None:
    module = _module(
        tmp_path,
        '''\
        """Fake contract.

        Rules here.
        """
        import pluggy

        PROJECT_NAME = "mk2ds"
        hookspec = pluggy.HookspecMarker(PROJECT_NAME)

        # ------------------------------------------------------------------------------------
        # Second group first
        # ------------------------------------------------------------------------------------

        @hookspec(firstresult=True)
        def mk2ds_zeta(a: int) -> str | None:
            """Zeta."""

        # ------------------------------------------------------------------------------------
        # Later group
        # ------------------------------------------------------------------------------------

        @hookspec(historic=True)
        def mk2ds_alpha() -> None:
            """Alpha."""

        def mk2ds_not_a_hook() -> None:
            """No marker: not documented."""
        ''',
    )
    reference = render_reference(module)
    assert (
        reference.index("### Second group first")
        < reference.index("#### mk2ds_zeta")
        < reference.index("### Later group")
        < reference.index("#### mk2ds_alpha")
    )
    assert "def mk2ds_zeta(a: int) -> str | None" in reference
    assert "*First result wins*" in reference and "*Historic*" in reference
    assert "mk2ds_not_a_hook" not in reference
    assert reference.startswith("## The contract\n\nFake contract.\n\nRules here.\n")


def test_replace_generated_needs_the_markers() -> None:
    with pytest.raises(ValueError, match="no generated part"):
        replace_generated("# Guide\n", "x\n")
    assert replace_generated(f"a\n{BEGIN}\nold\n{END}\nb\n", "new\n") == f"a\n{BEGIN}\n\nnew\n\n{END}\nb\n"


def test_check_and_write_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text(f"# Guide\n\n{BEGIN}\nstale\n{END}\n", encoding="utf-8")
    assert hookdocs.main(["--check", str(guide)]) == 1
    assert "stale" in capsys.readouterr().err
    assert hookdocs.main(["--write", str(guide)]) == 0
    assert hookdocs.main(["--check", str(guide)]) == 0
    assert render_reference() in guide.read_text(encoding="utf-8")
    assert hookdocs.main([]) == 0
    assert capsys.readouterr().out == render_reference()
