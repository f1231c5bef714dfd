"""Hook calls go through pluggy, guarded: wrappers and monitoring work, every failure names its plugin."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
import time
import types
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mk2ds.core import Finding, HookFailed, Severity, call_service, get_plugin_manager, hookimpl
from mk2ds.core.hookcalls import collect_results, trace_hook_calls


def _plugin(**hooks: object) -> types.SimpleNamespace:
    return types.SimpleNamespace(**hooks)


def _check(code: str) -> Callable[..., list[Finding]]:
    return hookimpl(lambda dataset, context: [Finding(code, Severity.INFO, code)])


def _pm(*plugins: tuple[str, object]) -> pluggy.PluginManager:
    return get_plugin_manager(load_entrypoints=False, builtins=(), extra_plugins=plugins)


def test_a_new_style_wrapper_sees_every_result_and_may_add_to_them() -> None:
    seen: list[Any] = []

    @hookimpl(wrapper=True)
    def mk2ds_check_dataset(
        dataset: object, context: object
    ) -> Generator[None, list[list[Finding]], list[list[Finding]]]:
        results = yield
        seen.append([[item.code for item in result] for result in results])
        return [*results, [Finding("x-wrapped", Severity.INFO, "added by the wrapper")]]

    broken = _plugin(mk2ds_check_dataset=hookimpl(lambda dataset, context: 1 / 0))
    pm = _pm(
        ("one", _plugin(mk2ds_check_dataset=_check("x-one"))),
        ("broken", broken),
        ("wrap", _plugin(mk2ds_check_dataset=mk2ds_check_dataset)),
    )
    codes = sorted(item.code for item in collect_results(pm, "mk2ds_check_dataset", dataset=None, context=None))
    assert codes == ["plugin-error", "x-one", "x-wrapped"]
    assert sorted(map(tuple, seen[0])) == [("plugin-error",), ("x-one",)]


def test_an_old_style_hookwrapper_is_called_too() -> None:
    calls: list[str] = []

    @hookimpl(hookwrapper=True)
    def mk2ds_check_dataset(dataset: object, context: object) -> Iterator[None]:
        calls.append("before")
        outcome = yield
        calls.append(f"after {len(outcome.get_result())}")

    pm = _pm(
        ("one", _plugin(mk2ds_check_dataset=_check("x-one"))), ("old", _plugin(mk2ds_check_dataset=mk2ds_check_dataset))
    )
    assert [item.code for item in collect_results(pm, "mk2ds_check_dataset", dataset=None, context=None)] == ["x-one"]
    assert calls == ["before", "after 1"]


def test_a_failing_wrapper_is_a_plugin_error_naming_it() -> None:
    @hookimpl(wrapper=True)
    def mk2ds_check_dataset(dataset: object, context: object) -> Generator[None, Any, Any]:
        yield
        raise RuntimeError("wrapper bug")

    pm = _pm(
        ("one", _plugin(mk2ds_check_dataset=_check("x-one"))),
        ("wrap", _plugin(mk2ds_check_dataset=mk2ds_check_dataset)),
    )
    [finding] = collect_results(pm, "mk2ds_check_dataset", dataset=None, context=None)
    assert (finding.code, finding.plugin) == ("plugin-error", "wrap") and "wrapper bug" in finding.message


def test_a_wrapper_of_a_check_runs_in_a_real_verification(
    run_cli: Callable[..., Any], tmp_path: Path, install: Callable[..., None]
) -> None:
    @hookimpl(wrapper=True)
    def mk2ds_check_entry(entry: Any, kind: str, dataset: object, context: object) -> Generator[None, Any, Any]:
        results = yield
        return [*results, [Finding("plugin-error", Severity.ERROR, f"wrapped {entry.path}")]]

    (tmp_path / "a.txt").write_text("x")
    install("wrap", _plugin(mk2ds_check_entry=mk2ds_check_entry))
    result = run_cli("verify", tmp_path, "--format", "json")
    assert [f["message"] for f in json.loads(result.out)["findings"] if f["code"] == "plugin-error"] == [
        "wrapped a.txt"
    ]


def test_hook_calls_are_traced_on_request(run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MK2DS_TRACE_PLUGINS", "1")
    result = run_cli("codes")
    assert result.code == 0
    assert "mk2ds trace: mk2ds_register_codes() -> plugins [" in result.err
    assert "mk2ds trace: mk2ds_register_codes returned" in result.err


def test_tracing_names_the_plugins_called_and_the_outcome() -> None:
    pm = _pm(("one", _plugin(mk2ds_check_dataset=_check("x-one"))))
    stream = io.StringIO()
    trace_hook_calls(pm, stream)
    list(collect_results(pm, "mk2ds_check_dataset", dataset=None, context=None))
    assert "mk2ds_check_dataset(dataset=None, context=None) -> plugins ['one']" in stream.getvalue()


@pytest.mark.parametrize("error", [SystemExit(0), SystemExit(1), KeyboardInterrupt()], ids=repr)
def test_system_exit_and_keyboard_interrupt_from_a_plugin_are_plugin_errors(error: BaseException) -> None:
    def mk2ds_check_dataset(dataset: object, context: object) -> None:
        raise error

    pm = _pm(
        ("one", _plugin(mk2ds_check_dataset=_check("x-one"))),
        ("exits", _plugin(mk2ds_check_dataset=hookimpl(mk2ds_check_dataset))),
    )
    codes = sorted(
        (item.code, item.plugin) for item in collect_results(pm, "mk2ds_check_dataset", dataset=None, context=None)
    )
    assert codes == [("plugin-error", "exits"), ("x-one", "one")]


@pytest.mark.parametrize("error", [SystemExit(0), KeyboardInterrupt()], ids=repr)
def test_verify_ends_with_exit_3_and_a_report_when_a_check_exits(
    run_cli: Callable[..., Any], tmp_path: Path, install: Callable[..., None], error: BaseException
) -> None:
    def mk2ds_check_dataset(dataset: object, context: object) -> None:
        raise error

    install("exits", _plugin(mk2ds_check_dataset=hookimpl(mk2ds_check_dataset)))
    result = run_cli("verify", tmp_path, "--format", "json", "--level", "structure")
    report = json.loads(result.out)
    assert result.code == 3
    assert [(f["code"], f["plugin"]) for f in report["findings"] if f["code"] == "plugin-error"] == [
        ("plugin-error", "exits")
    ]


def test_the_users_ctrl_c_still_interrupts(
    run_cli: Callable[..., Any], tmp_path: Path, install: Callable[..., None]
) -> None:
    def mk2ds_check_dataset(dataset: object, context: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)  # the signal arrives long before

    install("slow", _plugin(mk2ds_check_dataset=hookimpl(mk2ds_check_dataset)))
    result = run_cli("verify", tmp_path, "--level", "structure")
    assert result.code == 130 and "interrupted" in result.err


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"path": 7}, "path of type int"),
        ({"line": "12"}, "line of type str"),
        ({"details": {"when": object()}}, "details that are not JSON data"),
        ({"details": {"x": float("nan")}}, "details that are not JSON data"),
    ],
)
def test_a_malformed_finding_is_a_plugin_error_and_the_rest_stays(
    run_cli: Callable[..., Any], tmp_path: Path, install: Callable[..., None], fields: dict[str, Any], problem: str
) -> None:
    def mk2ds_check_dataset(dataset: object, context: object) -> list[Finding]:
        return [Finding("x-good", Severity.ERROR, "fine"), Finding("x-bad", Severity.ERROR, "bad", **fields)]

    install("sloppy", _plugin(mk2ds_check_dataset=hookimpl(mk2ds_check_dataset)))
    for fmt in ("json", "text", "junit", "sarif"):
        result = run_cli("verify", tmp_path, "--format", fmt, "--level", "structure")
        assert result.code == 3, (fmt, result.err)
    report = json.loads(run_cli("verify", tmp_path, "--format", "json", "--level", "structure").out)
    found = {(f["code"], f["plugin"]) for f in report["findings"]}
    assert {("x-good", "sloppy"), ("plugin-error", "sloppy")} <= found and ("x-bad", "sloppy") not in found
    assert any(problem in f["message"] for f in report["findings"] if f["code"] == "plugin-error")


def test_a_fact_with_a_non_json_value_is_refused() -> None:
    from mk2ds.core import Fact

    pm = _pm(("facts", _plugin(mk2ds_check_dataset=hookimpl(lambda dataset, context: [Fact("when", {1, 2})]))))
    [finding] = collect_results(pm, "mk2ds_check_dataset", dataset=None, context=None)
    assert finding.code == "plugin-error" and "'when'" in finding.message


class _Garbage:
    """What a broken reader plugin might return: no records, no stats."""


@pytest.mark.parametrize("answer", [_Garbage(), 42, "text"], ids=["object", "int", "str"])
def test_a_garbage_reader_is_blamed_where_it_is_received(answer: object) -> None:
    pm = get_plugin_manager(
        load_entrypoints=False,
        extra_plugins=[("junk", _plugin(mk2ds_open_log=hookimpl(tryfirst=True)(lambda stream, name, options: answer)))],
    )
    with pytest.raises(HookFailed) as failure:
        call_service(pm, "mk2ds_open_log", stream=io.BytesIO(b""), name="x.log", options=argparse.Namespace())
    assert (failure.value.plugin, failure.value.hook) == ("junk", "mk2ds_open_log")
    assert "not a record reader" in str(failure.value)


class _NoStats:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.rejects: list[tuple[int, bytes]] = []
        self.stats: dict[str, Any] = {}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield {"sn": 1}


def test_a_reader_with_broken_stats_is_blamed_after_reading() -> None:
    pm = get_plugin_manager(
        load_entrypoints=False,
        extra_plugins=[
            ("junk", _plugin(mk2ds_open_log=hookimpl(tryfirst=True)(lambda stream, name, options: _NoStats())))
        ],
    )
    reader = call_service(pm, "mk2ds_open_log", stream=io.BytesIO(b""), name="x.log", options=argparse.Namespace())
    with pytest.raises(
        HookFailed, match="plugin 'junk' failed in mk2ds_open_log: its reader's stats lack the counts lines"
    ):
        list(reader)


def test_verify_blames_the_reader_not_the_log_check(
    run_cli: Callable[..., Any], tmp_path: Path, install: Callable[..., None]
) -> None:
    (tmp_path / "MK2Log").mkdir()
    (tmp_path / "MK2Log" / "a.log").write_text("x\n")
    install("junk", _plugin(mk2ds_open_log=hookimpl(tryfirst=True)(lambda stream, name, options: _Garbage())))
    result = run_cli("verify", tmp_path, "--format", "json")
    errors = [f for f in json.loads(result.out)["findings"] if f["code"] == "plugin-error"]
    assert result.code == 3
    assert [(f["plugin"], f["details"]["hook"], f["details"]["called_by"], f["path"]) for f in errors] == [
        ("junk", "mk2ds_open_log", "checks.logs (mk2ds_check_entry)", "MK2Log/a.log")
    ]


def test_convert_names_the_plugin_of_a_garbage_reader(
    run_cli: Callable[..., Any], tmp_path: Path, install: Callable[..., None]
) -> None:
    (tmp_path / "a.log").write_text("x\n")
    install("junk", _plugin(mk2ds_open_log=hookimpl(tryfirst=True)(lambda stream, name, options: _NoStats())))
    result = run_cli("convert", tmp_path / "a.log", "-o", tmp_path / "out.jsonl")
    assert result.code == 3
    assert "plugin 'junk'" in result.err and "mk2ds_open_log" in result.err and "Traceback" not in result.err


def _hang(entry: Any, kind: str, dataset: object, context: object) -> Iterator[Finding]:
    if entry.path == "hang.txt":
        time.sleep(60)
    yield Finding("x-checked", Severity.INFO, "checked", path=entry.path)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_hanging_entry_check_becomes_plugin_timeout(
    run_cli: Callable[..., Any], tmp_path: Path, install: Callable[..., None], jobs: str
) -> None:
    for name in ("hang.txt", "fine.txt", "more.txt"):
        (tmp_path / name).write_text(name)
    install("hangs", _plugin(mk2ds_check_entry=hookimpl(_hang)))
    result = run_cli("verify", tmp_path, "--format", "json", "-j", jobs, "--check-timeout", "0.5", "--quiet")
    findings = json.loads(result.out)["findings"]
    assert result.code == 3
    assert [(f["path"], f["plugin"]) for f in findings if f["code"] == "plugin-timeout"] == [("hang.txt", "hangs")]
    assert sorted(f["path"] for f in findings if f["code"] == "x-checked") == ["fine.txt", "more.txt"]


def test_a_guarded_call_is_transparent_for_correct_plugins(pm: pluggy.PluginManager) -> None:
    reader = call_service(pm, "mk2ds_open_log", stream=io.BytesIO(b""), name="x.log", options=argparse.Namespace())
    assert list(reader) == [] and reader.stats["lines"] == 0


def test_the_hook_contract_names_no_private_argparse_type() -> None:
    source = Path(sys.modules["mk2ds.core.hookspecs"].__file__ or "").read_text(encoding="utf-8")
    assert "argparse._" not in source and "-> Any" not in source


def test_an_implementation_with_a_defaulted_argument_is_called_through_the_guard() -> None:
    def mk2ds_check_dataset(dataset: object, context: object = None) -> list[Finding]:
        return [Finding("x-defaulted", Severity.INFO, f"context={context!r}")]

    pm = _pm(("defaults", _plugin(mk2ds_check_dataset=hookimpl(mk2ds_check_dataset))))
    [finding] = collect_results(pm, "mk2ds_check_dataset", dataset=None, context="given")
    assert finding.code == "x-defaulted"


def test_a_sigterm_handled_like_ctrl_c_is_the_users_interrupt_too(
    run_cli: Callable[..., Any], tmp_path: Path, install: Callable[..., None]
) -> None:
    def as_interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def mk2ds_check_dataset(dataset: object, context: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # the signal arrives long before

    install("slow", _plugin(mk2ds_check_dataset=hookimpl(mk2ds_check_dataset)))
    previous = signal.signal(signal.SIGTERM, as_interrupt)
    try:
        result = run_cli("verify", tmp_path, "--level", "structure")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.code == 130 and "interrupted" in result.err
