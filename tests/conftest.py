"""Shared fixtures. Tests always exercise the installed ``mk2ds`` package (never the bare folders)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy
import pytest

import mk2ds.plugins.checks
from mk2ds.core import get_plugin_manager
from mk2ds.core.cli import main

DATA = Path(__file__).parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from the current output")


@pytest.fixture(autouse=True)
def _no_third_party_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the built-in plugins unless a test installs one on purpose."""
    monkeypatch.setenv("MK2DS_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("MK2DS_BLOCK_PLUGINS", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def install(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, object], None]:
    """``install(name, plugin)``: make ``plugin`` (a module or any object with hook functions) a third-party
    plugin found through the ``mk2ds`` entry-point group, as an installed distribution's would be (autoload on).
    A string ``plugin`` names the module the entry point imports."""
    installed: list[importlib.metadata.EntryPoint] = []
    real = importlib.metadata.entry_points

    def entry_points(**selection: Any) -> Any:
        if selection.get("group") == "mk2ds":
            return list(installed)
        return real(**selection)

    def add(name: str, plugin: object) -> None:
        module_name = f"mk2ds_test_plugin_{len(installed)}"
        if isinstance(plugin, str):
            module_name = plugin  # a module to import (one that fails, say)
        else:
            monkeypatch.setitem(sys.modules, module_name, plugin)
        installed.append(importlib.metadata.EntryPoint(name=name, value=module_name, group="mk2ds"))

    monkeypatch.delenv("MK2DS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return add


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return get_plugin_manager(load_entrypoints=False)


@pytest.fixture
def data_dir() -> Path:
    return DATA


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``mk2ds ARGS...`` in-process; returns exit code, stdout and stderr."""

    def run(*args: str | os.PathLike[str]) -> CliResult:
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[Path, str], None]:
    """``golden(path, text)``: compare ``text`` with a golden file (``--update-golden`` rewrites it)."""

    def check(path: Path, text: str) -> None:
        if request.config.getoption("--update-golden") or not path.exists():
            if not request.config.getoption("--update-golden") and os.environ.get("CI"):
                pytest.fail(f"golden file {path} is missing")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        assert text == path.read_text(encoding="utf-8"), f"output differs from golden file {path}"

    return check


def make_read_only(root: Path) -> Iterator[None]:
    """Remove write bits below ``root`` (tests prove verify never writes into a dataset)."""
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


@pytest.fixture
def read_only() -> Callable[[Path], object]:
    """``with read_only(path):`` make a tree read-only for the block (root can still write: tests also diff)."""
    import contextlib

    return contextlib.contextmanager(make_read_only)


assert "core" not in sys.modules and "plugins" not in sys.modules, "bare core/plugins imported: use mk2ds.*"


def _make_distribution(root: Path) -> None:
    """The folders and files the soliton-2018 profile requires, and two Sysinfo outputs saying UTC+09:00."""
    profile = json.loads(
        (Path(mk2ds.plugins.checks.__file__).parent / "soliton-2018.profile.json").read_text(encoding="utf-8")
    )
    for item in profile["required"]:
        path = root / item["path"]
        if item.get("type") == "folder":
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
    for name, data in (
        (
            "a" * 64,
            "ホスト名:           PC1\r\nOS 名:              Microsoft Windows 7 Professional\r\nタイム ゾーン:      (UTC+09:00) 大阪、札幌、東京\r\n".encode(
                "cp932"
            ),
        ),
        (
            "b" * 64,
            "Host Name:                 PC2\r\nTime Zone:                 (UTC+09:00) Osaka, Sapporo, Tokyo\r\n".encode(
                "utf-16"
            ),
        ),
    ):
        (root / "Sysinfo" / name).mkdir(parents=True)
        (root / "Sysinfo" / name / "systeminfo.txt").write_bytes(data)


@pytest.fixture
def make_distribution() -> Callable[[Path], None]:
    """``make_distribution(root)``: the soliton-2018 layout's required entries and Sysinfo saying UTC+09:00."""
    return _make_distribution
