"""``--engine dask`` on a real ``dask.distributed`` LocalCluster (2 worker processes, 127.0.0.1, no dashboard).

One cluster serves the module. Outputs and reports must equal the local engine's byte for byte (run times
aside); a worker killed mid-run must not change the result, and a task that kills every worker it runs on
must come back as a clear error. Skipped only when Dask's distributed scheduler is not installed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core import get_plugin_manager
from mk2ds.core.engines import EngineTask
from mk2ds.core.errors import UsageError
from mk2ds.core.walker import PluginSettings
from mk2ds.plugins.dask import local_cluster_options
from mk2ds.plugins.synthetic import SampleDistribution, write_sample
from mk2ds.plugins.synthetic.generator import write_log

DATA = Path(__file__).parents[2] / "data" / "mk2log"
COMPOSED = (DATA / "composed.log").read_bytes()
POISON = "import os, signal\n\ndef kill_worker(pm, shared, argument):\n    os.kill(os.getpid(), signal.SIGKILL)\n"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    import dask

    helpers = tmp_path_factory.mktemp("helpers")  # a module the workers can import (they inherit sys.path)
    (helpers / "mk2ds_test_poison.py").write_text(POISON)
    sys.path.insert(0, str(helpers))
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        local = distributed.LocalCluster(**{**local_cluster_options(2), "silence_logs": logging.CRITICAL})
    client = distributed.Client(local, set_as_default=False)
    try:
        yield local, client
    finally:
        client.close()
        local.close()
        sys.path.remove(str(helpers))


@pytest.fixture
def address(cluster: Any) -> str:
    local, client = cluster
    client.wait_for_workers(2, timeout=60)  # after a test that killed one
    return str(local.scheduler_address)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated logs of several hosts (one CP932, one with BOM and end-of-file marker) and a broken one."""
    folder = tmp_path_factory.mktemp("fleet") / "logs"
    for number in range(4):
        write_log(
            folder / "30m" / f"pc{number}.log",
            seed=number,
            host=f"PC{number + 1}",
            scenario="wannacry",
            header="mixed",
            target_bytes=150_000,
        )
    write_log(folder / "sjis.log", seed=11, host="PC9", encoding="cp932", target_bytes=60_000)
    write_log(folder / "bom.log", seed=12, bom=True, eof_marker=True, target_bytes=40_000, newline="\n")
    (folder / "broken.log").write_bytes(COMPOSED * 30 + b"\r\nnot a line\r\n\r\n")
    (folder / "tiny.log").write_bytes(COMPOSED.splitlines()[0] + b"\r\n")
    return folder


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleDistribution:
    return write_sample(tmp_path_factory.mktemp("sample") / "SolitonDataset2018", samples=6, seed=7, events_per_log=150)


def files_below(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def report_of(path: Path, *names: str) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    for name in names:
        text = text.replace(name, "OUT")
    report = json.loads(text)
    report["stats"].pop("seconds", None)
    return dict(report)


def problems(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith(("mk2ds convert: dask:", "mk2ds convert: merge:"))]


def convert_both(run_cli: Callable[..., Any], source: Path, tmp_path: Path, *engine: str) -> tuple[Any, Any]:
    common = ["--provenance", "--report-format", "json"]
    local = run_cli("convert", source, "-o", tmp_path / "local", "--report", tmp_path / "local.json", *common)
    remote = run_cli(
        "convert",
        source,
        "-o",
        tmp_path / "remote",
        "--report",
        tmp_path / "remote.json",
        "--engine",
        "dask",
        *engine,
        *common,
    )
    return local, remote


# ---------------------------------------------------------------------------------------------- the same results


def test_a_fleet_converts_on_the_cluster_as_locally(
    address: str, fleet: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    local, remote = convert_both(run_cli, fleet, tmp_path, "--scheduler", address, "--range-size", "16K")
    assert local.code == remote.code == 1
    assert files_below(tmp_path / "local") == files_below(tmp_path / "remote")
    assert len(files_below(tmp_path / "local")) == 9  # 8 outputs and one rejects file
    assert report_of(tmp_path / "local.json", str(tmp_path / "local")) == report_of(
        tmp_path / "remote.json", str(tmp_path / "remote")
    )
    assert problems(local.err.replace(str(tmp_path / "local"), "OUT")) == problems(
        remote.err.replace(str(tmp_path / "remote"), "OUT")
    )
    summary = [line for line in remote.err.splitlines() if line.startswith("mk2ds convert: dask:")]
    assert any("scan:" in line for line in summary) and any("convert:" in line for line in summary)
    assert sum(line.startswith("mk2ds convert: dask: worker tcp://127.0.0.1:") for line in summary) == 2
    assert "8 files (7 split into ranges)" in remote.err
    assert not list((tmp_path / "remote").rglob(".*"))


def test_verify_on_the_cluster_gives_the_local_report(
    address: str, sample: SampleDistribution, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    local = run_cli("verify", sample.root, "--format", "json", "-o", tmp_path / "local.json")
    remote = run_cli(
        "verify",
        sample.root,
        "--format",
        "json",
        "-o",
        tmp_path / "remote.json",
        "--engine",
        "dask",
        "--scheduler",
        address,
    )
    assert local.code == remote.code == 0
    assert report_of(tmp_path / "local.json") == report_of(tmp_path / "remote.json")
    assert "mk2ds verify: dask: verify:" in remote.err


def test_the_sample_distribution_converts_and_verifies_zipped_as_locally(
    address: str, sample: SampleDistribution, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    local, remote = convert_both(
        run_cli, sample.root / "MK2Log", tmp_path, "--scheduler", address, "--range-size", "20K"
    )
    assert local.code == remote.code == 0
    assert (
        files_below(tmp_path / "local") == files_below(tmp_path / "remote") and len(files_below(tmp_path / "local")) > 6
    )
    archive = shutil.make_archive(str(tmp_path / "dist"), "zip", sample.root.parent, sample.root.name)
    local_zip = run_cli("verify", archive, "--format", "json", "-o", tmp_path / "local-zip.json")
    remote_zip = run_cli(
        "verify",
        archive,
        "--format",
        "json",
        "-o",
        tmp_path / "remote-zip.json",
        "--engine",
        "dask",
        "--scheduler",
        address,
    )
    assert local_zip.code == remote_zip.code == 0
    assert report_of(tmp_path / "local-zip.json") == report_of(tmp_path / "remote-zip.json")
    assert report_of(tmp_path / "remote-zip.json")["target"]["container"] == "zip"


def test_a_cluster_started_for_the_run(tmp_path: Path, fleet: Path, run_cli: Callable[..., Any]) -> None:
    pytest.importorskip("distributed")
    source = fleet / "30m" / "pc0.log"
    local, remote = convert_both(run_cli, source, tmp_path, "--workers", "2", "--range-size", "32K")
    assert local.code == remote.code == 0
    assert (tmp_path / "local").read_bytes() == (tmp_path / "remote").read_bytes()
    assert "LocalCluster of 2 worker processes on 127.0.0.1" in remote.err


# ---------------------------------------------------------------------------------------------- plugins, Dask missing


def test_a_plugin_missing_on_the_workers_is_named(address: str) -> None:
    from mk2ds.plugins.dask import DaskSession

    class AcmeChecks:
        """A third-party plugin registered here only (the workers cannot have it)."""

    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("acme_checks", AcmeChecks())])
    with pytest.raises(
        UsageError, match=r"acme_checks loaded here but missing on worker tcp://127\.0\.0\.1:\d+: install"
    ):
        DaskSession(argparse.Namespace(scheduler=address, workers=None), pm, PluginSettings(load_entrypoints=False))
    blocked = get_plugin_manager(load_entrypoints=False, blocked=["tree.html"])
    with pytest.raises(UsageError, match="tree.html loaded on worker .* but not here"):
        DaskSession(
            argparse.Namespace(scheduler=address, workers=None), blocked, PluginSettings(load_entrypoints=False)
        )
    session = DaskSession(
        argparse.Namespace(scheduler=address, workers=None),
        blocked,
        PluginSettings(load_entrypoints=False, blocked=("tree.html",)),
    )
    session.close()


def test_without_dask_the_command_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    for command in (["convert", DATA / "seed-lines.log", "-o", tmp_path / "a.jsonl"], ["verify", tmp_path]):
        result = run_cli(*command, "--engine", "dask")
        assert result.code == 2 and "pip install 'mk2ds[dask]'" in result.err
    assert not (tmp_path / "a.jsonl").exists()


def test_a_scheduler_that_does_not_answer_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("mk2ds.plugins.dask.CONNECT_TIMEOUT", 1.0)
    result = run_cli(
        "convert",
        DATA / "seed-lines.log",
        "-o",
        tmp_path / "a.jsonl",
        "--engine",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
    )
    assert result.code == 2 and "--scheduler tcp://127.0.0.1:9: cannot connect" in result.err


# ---------------------------------------------------------------------------------------------- workers dying


def _kill_when_busy(cluster: Any, victim: str, pid: int, stop: threading.Event, killed: list[str]) -> None:
    """Kill the worker ``victim`` as soon as it runs a convert task (the scheduler lives in this process)."""
    local, _client = cluster
    while not stop.is_set():
        try:
            state = local.scheduler.workers.get(victim)
            busy = [task.key for task in list(state.processing)] if state is not None else []
        except RuntimeError:  # the scheduler changed the set while we looked
            continue
        if any(str(key).startswith("mk2ds-convert") for key in busy):
            os.kill(pid, signal.SIGKILL)
            killed.extend(str(key) for key in busy)
            return
        time.sleep(0.001)


def test_a_worker_killed_mid_run_changes_nothing(
    cluster: Any, address: str, fleet: Path, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    _local, client = cluster
    victim, pid = min(client.run(os.getpid).items())
    stop, killed = threading.Event(), []  # type: ignore[var-annotated]
    killer = threading.Thread(target=_kill_when_busy, args=(cluster, victim, pid, stop, killed), daemon=True)
    killer.start()
    try:
        local, remote = convert_both(run_cli, fleet, tmp_path, "--scheduler", address, "--range-size", "8K")
    finally:
        stop.set()
        killer.join()
    assert killed, "the worker was not killed while it converted (the run was too quick to catch)"
    assert local.code == remote.code == 1
    assert files_below(tmp_path / "local") == files_below(tmp_path / "remote")
    assert report_of(tmp_path / "local.json", str(tmp_path / "local")) == report_of(
        tmp_path / "remote.json", str(tmp_path / "remote")
    )
    assert not list((tmp_path / "remote").rglob(".*"))  # no part left by the dead worker


def test_a_task_that_kills_every_worker_comes_back_as_an_error(cluster: Any, address: str) -> None:
    import mk2ds_test_poison  # type: ignore[import-not-found]

    from mk2ds.plugins.dask import DaskSession

    session = DaskSession(
        argparse.Namespace(scheduler=address, workers=None),
        get_plugin_manager(load_entrypoints=False),
        PluginSettings(load_entrypoints=False),
    )
    try:
        [outcome] = list(
            session.run(
                mk2ds_test_poison.kill_worker,
                [EngineTask("poisoned task", 1, None)],
                label="poison",
                show_progress=False,
            )
        )
    finally:
        session.close()
    assert outcome.result is None and outcome.error is not None
    assert "poisoned task" in outcome.error and "KilledWorker" in outcome.error
    assert "poison: 1 tasks, 1 failed" in "\n".join(session.summary())


def test_clusters_started_by_mk2ds_run_workers_without_profiler_and_malloc_trimming() -> None:
    pytest.importorskip("distributed")
    from mk2ds.plugins.dask import worker_config

    config = worker_config()
    assert config["distributed.worker.profile.enabled"] is False
    assert "MALLOC_TRIM_THRESHOLD_" not in config["distributed.nanny.pre-spawn-environ"]
    assert config["distributed.nanny.pre-spawn-environ"]  # Dask's other settings (OMP_NUM_THREADS, ...) stay
    options = local_cluster_options(3)
    assert (options["n_workers"], options["threads_per_worker"], options["processes"], options["host"]) == (
        3,
        1,
        True,
        "127.0.0.1",
    )
    assert options["scheduler_kwargs"] == {"dashboard": False, "dashboard_address": "127.0.0.1:0"}


def test_ecs_on_the_cluster_gets_each_samples_host_os(
    address: str, sample: SampleDistribution, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """The host facts of each log's Sysinfo travel with its job to the workers."""
    common = ["--format", "ecs", "--quiet"]
    local = run_cli("convert", sample.root / "MK2Log", "-o", tmp_path / "local", *common)
    remote = run_cli(
        "convert",
        sample.root / "MK2Log",
        "-o",
        tmp_path / "remote",
        "--engine",
        "dask",
        "--scheduler",
        address,
        *common,
    )
    assert local.code == remote.code == 0
    outputs = files_below(tmp_path / "local")
    assert outputs == files_below(tmp_path / "remote")
    assert b'"os":{"type":"windows"' in outputs["Normal/PC1.ndjson"]
