"""The example third-party plugin, for real: built and installed with pip, found through its entry point.

The plugin is installed with ``pip install --target`` into a temporary folder that only the ``mk2ds``
subprocesses of these tests see (``PYTHONPATH``), so the shared environment never changes: test runs in
parallel never meet the plugin, and a killed run leaves nothing to uninstall. Everything else is what a user
gets: a wheel built from ``examples/mk2ds-example-plugin``, its ``.dist-info`` with the ``mk2ds`` entry point.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).parents[1] / "examples" / "mk2ds-example-plugin"
RECORD = {
    "time": "2018-03-05T10:12:03.114+09:00",
    "sn": 2101,
    "evt": "ps",
    "psPath": "C:\\Windows\\cmd.exe",
    "cmd": 'a "b"',
    "x": "",
}


def _can_build_without_isolation() -> bool:
    """setuptools builds wheels by itself from 70.1 on; before that it needs the ``wheel`` package."""
    import setuptools

    version = tuple(int(part) for part in setuptools.__version__.split(".")[:2] if part.isdigit())
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin installed with pip into a private folder (built from a copy: no build/ left in git)."""
    work = tmp_path_factory.mktemp("example-plugin")
    source = work / "source"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = work / "site"
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-input",
        "--quiet",
        "--target",
        str(target),
    ]
    if _can_build_without_isolation():
        command.append("--no-build-isolation")  # offline: uses the setuptools already installed
    result = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(target.glob("mk2ds_example_plugin-0.1.0.dist-info/entry_points.txt"))
    return target


@pytest.fixture
def mk2ds(site: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``mk2ds ARGS`` in a subprocess that sees the plugin, with plugin autoload on (the default)."""

    def run(*args: str | os.PathLike[str], **environment: str) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MK2DS_")}
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.update(environment)
        return subprocess.run(
            [sys.executable, "-m", "mk2ds.core.cli", *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    return run


def _plugin(listing: str) -> dict[str, Any] | None:
    return next((entry for entry in json.loads(listing) if entry["name"] == "example"), None)


def test_listed_with_version_and_hooks(mk2ds: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    result = mk2ds("plugins", "--json")
    assert result.returncode == 0, result.stderr
    assert _plugin(result.stdout) == {
        "name": "example",
        "version": "0.1.0",
        "distribution": "mk2ds-example-plugin",
        "hooks": ["mk2ds_check_entry", "mk2ds_export_tables", "mk2ds_register_codes", "mk2ds_register_outputs"],
        "builtin": False,
        "blocked": False,
        "failed": None,
    }
    codes = json.loads(mk2ds("codes", "--json").stdout)
    assert {
        "code": "example/non-ascii-name",
        "severity": "info",
        "description": "A file name that is not plain ASCII (example plugin)",
        "plugin": "example",
    } in codes


def test_its_output_format_works(mk2ds: Callable[..., subprocess.CompletedProcess[str]], site: Path) -> None:
    script = (
        "import io, json, sys\n"
        "from argparse import Namespace\n"
        "from mk2ds.core import get_plugin_manager\n"
        "from mk2ds.core.outputs import open_record_writer\n"
        "from mk2ds.core.registry import find_output\n"
        "output = find_output(get_plugin_manager(), 'records', 'logfmt')\n"
        "stream = io.BytesIO()\n"
        "writer = open_record_writer(output, stream, Namespace())\n"
        "writer.write(json.loads(sys.argv[1]))\n"
        "writer.close()\n"
        "sys.stdout.write(output.suffix + '|' + stream.getvalue().decode('utf-8'))\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("MK2DS_")}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(RECORD)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        '.logfmt|time=2018-03-05T10:12:03.114+09:00 sn=2101 evt=ps psPath=C:\\Windows\\cmd.exe cmd="a \\"b\\"" x=""\n'
    )


def _dataset(root: Path) -> Path:
    (root / "MK2Log").mkdir(parents=True)
    (root / "MK2Log" / "ログ.log").write_text("x\n", encoding="utf-8")
    (root / "README.txt").write_text("x\n", encoding="utf-8")
    return root


def _example_findings(report: str) -> list[dict[str, Any]]:
    return [finding for finding in json.loads(report)["findings"] if finding["code"].startswith("example/")]


def test_its_check_works_and_blocking_works(
    mk2ds: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    dataset = _dataset(tmp_path / "dataset")
    report = mk2ds("verify", dataset, "--format", "json", "--quiet")
    assert report.returncode in (0, 1), report.stderr
    assert _example_findings(report.stdout) == [
        {
            "code": "example/non-ascii-name",
            "severity": "info",
            "message": "file name is not plain ASCII",
            "path": "MK2Log/ログ.log",
            "plugin": "example",
        }
    ]
    blocked = mk2ds("-p", "no:example", "verify", dataset, "--format", "json", "--quiet")
    assert blocked.returncode in (0, 1), blocked.stderr
    assert _example_findings(blocked.stdout) == []
    assert _plugin(mk2ds("-p", "no:example", "plugins", "--json").stdout) == {
        "name": "example",
        "version": None,
        "distribution": None,
        "hooks": [],
        "builtin": False,
        "blocked": True,
        "failed": None,
    }
    by_environment = _plugin(mk2ds("plugins", "--json", MK2DS_BLOCK_PLUGINS="example").stdout)
    assert by_environment is not None and by_environment["blocked"] is True
    assert _plugin(mk2ds("plugins", "--json", MK2DS_DISABLE_PLUGIN_AUTOLOAD="1").stdout) is None


START = '03/05/2018 10:12:03.114 +0900 sn={sn} evt=ps subEvt=start com="PC2" psPath="C:\\Windows\\System32\\cmd.exe" cmd="{cmd}"'


def test_its_log_check_reads_logs_through_another_plugins_hook(
    mk2ds: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    root = tmp_path / "dataset"
    (root / "MK2Log").mkdir(parents=True)
    lines = [START.format(sn=1, cmd="cmd.exe /c dir"), START.format(sn=2, cmd="")]
    (root / "MK2Log" / "ps.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = mk2ds("verify", root, "--format", "json", "--quiet")
    findings = json.loads(report.stdout)["findings"]
    assert [(f["code"], f["path"], f["line"]) for f in findings if f.get("plugin") == "example"] == [
        ("example/empty-command", "MK2Log/ps.log", 2)
    ]
    assert json.loads(report.stdout)["facts"]["example.process-starts.MK2Log/ps.log"] == 2
    # Without the reader plugin the check cannot run, and says so instead of passing quietly.
    blocked = json.loads(mk2ds("-p", "no:reader", "verify", root, "--format", "json", "--quiet").stdout)["findings"]
    assert [
        (f["code"], f["details"]["needs"], f["details"]["provider"]) for f in blocked if f.get("plugin") == "example"
    ] == [("check-not-run", "mk2ds_open_log", "reader")]


def test_its_export_table_is_written_and_described(
    mk2ds: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    pytest.importorskip("pyarrow")
    from pyarrow import parquet

    from mk2ds.plugins.synthetic import write_sample

    dataset = write_sample(tmp_path / "dataset").root
    result = mk2ds("export", dataset, tmp_path / "out", "--quiet")
    assert result.returncode == 0, result.stderr
    rows = parquet.read_table(tmp_path / "out" / "example_subsets.parquet").to_pylist()
    events = parquet.read_table(tmp_path / "out" / "events").num_rows
    assert [row["subset"] for row in rows] == sorted(path.name for path in (dataset / "MK2Log").iterdir())
    assert sum(row["events"] for row in rows) == events
    package = json.loads((tmp_path / "out" / "datapackage.json").read_text())
    assert "example_subsets" in [resource["name"] for resource in package["resources"]]
    assert "example_subsets" in (tmp_path / "out" / "README.md").read_text()
    blocked = mk2ds("-p", "no:example", "export", dataset, tmp_path / "blocked", "--quiet")
    assert blocked.returncode == 0, blocked.stderr
    assert not (tmp_path / "blocked" / "example_subsets.parquet").exists()
