"""Engines in the core: the registry, ``--engine`` on both commands, task packing, plugin settings for workers,
and ``verify`` with an engine giving exactly the local report (an in-process engine, through pickle)."""

from __future__ import annotations

import argparse
import json
import pickle
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mk2ds.core import get_plugin_manager, hookimpl
from mk2ds.core.cli import build_parser
from mk2ds.core.engines import (
    LOCAL_ENGINE,
    Engine,
    EngineTask,
    TaskFunction,
    TaskOutcome,
    engines,
    open_engine,
    pack_tasks,
)
from mk2ds.core.errors import UsageError
from mk2ds.core.registry import find_profile
from mk2ds.core.walker import PluginSettings, verify
from mk2ds.plugins.synthetic import SampleDistribution, write_sample


class InProcess:
    """An engine plugin whose sessions run tasks here, through pickle, in reverse order."""

    def __init__(self, fail: Sequence[str] = ()) -> None:
        self.fail = fail
        self.tasks: list[EngineTask] = []
        self.closed = 0

    @hookimpl
    def mk2ds_register_engines(self) -> list[Engine]:
        return [
            Engine(
                "here",
                "in this process (tests)",
                self.start,
                options=((("--here-option",), {"help": "an engine option"}),),
            )
        ]

    def start(self, options: argparse.Namespace, pm: pluggy.PluginManager, settings: PluginSettings) -> InProcess:
        self.pm = pm
        return self

    def run(
        self,
        function: TaskFunction,
        tasks: Sequence[EngineTask],
        *,
        shared: Any = None,
        label: str = "",
        show_progress: bool | None = None,
    ) -> Iterator[TaskOutcome]:
        self.tasks += tasks
        for task in reversed(list(tasks)):
            if any(word in task.key for word in self.fail):
                yield TaskOutcome(task, error="KilledWorker: gone")
                continue
            result = pickle.loads(pickle.dumps(function))(
                self.pm, pickle.loads(pickle.dumps(shared)), pickle.loads(pickle.dumps(task.argument))
            )
            yield TaskOutcome(task, pickle.loads(pickle.dumps(result)))

    def summary(self) -> list[str]:
        return []

    def close(self) -> None:
        self.closed += 1


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleDistribution:
    return write_sample(tmp_path_factory.mktemp("sample") / "dist", samples=6, seed=3, events_per_log=120)


def test_engines_are_registered_by_plugins(pm: pluggy.PluginManager) -> None:
    table = engines(pm)
    assert "dask" in table and LOCAL_ENGINE not in table
    extra = get_plugin_manager(load_entrypoints=False, extra_plugins=[("here", InProcess())])
    assert set(engines(extra)) == {"dask", "here"}


def test_a_second_engine_of_the_same_name_is_refused() -> None:
    class Impostor:
        @hookimpl
        def mk2ds_register_engines(self) -> list[Engine]:
            return [Engine("local", "not allowed", lambda *args: None)]

    with pytest.raises(RuntimeError, match="engine 'local'"):
        engines(get_plugin_manager(load_entrypoints=False, extra_plugins=[("impostor", Impostor())]))


@pytest.mark.parametrize("command", [["verify", "x"], ["convert", "x", "-o", "y"]])
def test_both_commands_offer_every_engine_and_its_options(command: list[str]) -> None:
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("here", InProcess())])
    parser = build_parser(pm)
    assert parser.parse_args(command).engine == LOCAL_ENGINE
    args = parser.parse_args([*command, "--engine", "here", "--here-option", "v", "--workers", "3"])
    assert (args.engine, args.here_option, args.workers) == ("here", "v", 3)
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--engine", "nowhere"])


def test_open_engine_local_is_none_and_sessions_are_closed() -> None:
    plugin = InProcess()
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("here", plugin)])
    with open_engine(pm, argparse.Namespace(engine="local"), PluginSettings()) as session:
        assert session is None
    with open_engine(pm, argparse.Namespace(engine="here"), PluginSettings()) as session:
        assert session is plugin
    assert plugin.closed == 1
    with (
        pytest.raises(UsageError, match="unknown engine 'nowhere'"),
        open_engine(pm, argparse.Namespace(engine="nowhere"), PluginSettings()),
    ):
        pass


def test_pack_tasks_groups_small_items_and_keeps_big_ones_alone() -> None:
    weights = [1000, 500, *([10] * 100)]
    groups = pack_tasks(weights, 100, 8)
    assert groups[0] == [0] and groups[1] == [1]
    assert [index for group in groups for index in group] == list(range(len(weights)))  # all, in order
    assert all(len(group) <= 8 for group in groups) and all(
        sum(weights[index] for index in group) <= 100 for group in groups[2:]
    )
    assert len(pack_tasks([10] * 100, 1 << 30, 64)) > 50  # a small run is still spread out


def test_resolved_settings_fold_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MK2DS_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("MK2DS_BLOCK_PLUGINS", "tree.html, pe.checks")
    resolved = PluginSettings(blocked=("pe.checks", "tree.dot")).resolved()
    assert resolved == PluginSettings(load_entrypoints=False, blocked=("pe.checks", "tree.dot", "tree.html"))
    monkeypatch.delenv("MK2DS_DISABLE_PLUGIN_AUTOLOAD")
    assert PluginSettings().resolved().load_entrypoints is True
    assert PluginSettings(load_entrypoints=False).resolved().load_entrypoints is False


def test_verify_on_an_engine_gives_the_local_report(sample: SampleDistribution) -> None:
    plugin = InProcess()
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("here", plugin)])
    plugin.pm = pm
    profile = find_profile(pm, "soliton-2018")
    options = build_parser(pm).parse_args(["verify", str(sample.root)])
    local = verify(str(sample.root), pm, profile, options=options).to_dict()
    remote = verify(str(sample.root), pm, profile, options=options, engine=plugin).to_dict()
    for report in (local, remote):
        report["stats"].pop("seconds")
    assert json.dumps(local, sort_keys=False) == json.dumps(remote, sort_keys=False)
    assert len(plugin.tasks) > 5 and sum(len(task.argument) for task in plugin.tasks) == local["stats"]["files"]


def test_an_entry_check_that_never_finished_is_an_internal_error(sample: SampleDistribution) -> None:
    plugin = InProcess(fail=["check MK2Log/30m"])
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("here", plugin)])
    plugin.pm = pm
    report = verify(str(sample.root), pm, find_profile(pm, "soliton-2018"), engine=plugin)
    errors = [finding for finding in report.findings if finding.code == "plugin-error"]
    assert errors and report.exit_code() == 3
    assert all("never finished: KilledWorker: gone" in finding.message and finding.path for finding in errors)


def test_verify_prints_where_time_went_unless_quiet(
    sample: SampleDistribution, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = InProcess()
    plugin.summary = lambda: ["here: 3 tasks"]  # type: ignore[method-assign]
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("here", plugin)])
    for quiet, shown in (([], True), (["--quiet"], False)):
        args = build_parser(pm).parse_args(
            ["verify", str(sample.root), "--engine", "here", "-o", str(tmp_path / "r.txt"), *quiet]
        )
        assert args.handler(args, pm) == 0
        assert ("mk2ds verify: here: 3 tasks" in capsys.readouterr().err) == shown
