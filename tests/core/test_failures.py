"""Every failure has a defined exit code: plugins that fail to load are left out, an uncaught exception is
exit 3 with one line naming the plugin, blocking what the host needs is a usage error."""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core import CodeInfo, Severity, hookimpl

COMMANDS = [
    "verify",
    "convert",
    "format",
    "validate",
    "tree",
    "pe",
    "pack",
    "manifest",
    "sample",
    "plugins",
    "codes",
    "schemas",
    "profile",
]


def _crash(*args: Any) -> None:
    raise RuntimeError("plugin bug")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_exits_3_with_a_crashing_plugin(
    run_cli: Callable[..., Any], install: Callable[..., None], command: str
) -> None:
    install("crash", types.SimpleNamespace(mk2ds_add_commands=hookimpl(_crash)))
    result = run_cli(command, "x")
    assert result.code == 3
    assert result.err.strip().splitlines()[-1] == (
        "mk2ds: internal error in plugin 'crash' (mk2ds_add_commands): RuntimeError: plugin bug "
        "(run with --traceback or MK2DS_DEBUG=1 for the traceback)"
    )


@pytest.mark.parametrize("how", [("--traceback",), ()])
def test_the_traceback_on_request(
    run_cli: Callable[..., Any], install: Callable[..., None], monkeypatch: pytest.MonkeyPatch, how: tuple[str, ...]
) -> None:
    if not how:
        monkeypatch.setenv("MK2DS_DEBUG", "1")
    install("crash", types.SimpleNamespace(mk2ds_add_commands=hookimpl(_crash)))
    result = run_cli(*how, "codes")
    assert result.code == 3 and "Traceback (most recent call last)" in result.err and "in _crash" in result.err


def test_a_crash_in_a_plugins_own_command_names_the_plugin(
    run_cli: Callable[..., Any], install: Callable[..., None]
) -> None:
    def handler(args: Any, pm: Any) -> int:
        return {}["missing"]  # type: ignore[no-any-return]

    def mk2ds_add_commands(subparsers: Any) -> None:
        subparsers.add_parser("boom", help="fails").set_defaults(handler=handler)

    plugin = types.ModuleType("acme_boom")
    plugin.handler = handler  # type: ignore[attr-defined]
    plugin.mk2ds_add_commands = hookimpl(mk2ds_add_commands)  # type: ignore[attr-defined]
    handler.__module__ = "acme_boom"
    install("acme", plugin)
    result = run_cli("boom")
    assert result.code == 3 and "internal error in plugin 'acme': KeyError: 'missing'" in result.err


def test_a_plugin_failing_at_import_is_left_out_and_reported_once(
    run_cli: Callable[..., Any], install: Callable[..., None], tmp_path: Path
) -> None:
    install("broken", "mk2ds_no_such_module_for_a_test")
    listing = run_cli("plugins", "--json")
    assert listing.code == 0
    assert listing.err.count("plugin 'broken'") == 1 and "entry point mk2ds_no_such_module_for_a_test" in listing.err
    broken = next(item for item in json.loads(listing.out) if item["name"] == "broken")
    assert broken["failed"].startswith("ModuleNotFoundError") and not broken["blocked"]
    assert run_cli("codes").code == 0
    report = run_cli("verify", tmp_path, "--format", "json", "--level", "structure")
    assert report.code == 3  # the report says a plugin is missing from the run
    assert [f["plugin"] for f in json.loads(report.out)["findings"] if f["code"] == "plugin-error"] == ["broken"]


def test_a_plugin_failing_in_a_registration_hook_is_left_out(
    run_cli: Callable[..., Any], install: Callable[..., None]
) -> None:
    install("bad", types.SimpleNamespace(mk2ds_register_codes=hookimpl(_crash), mk2ds_check_dataset=hookimpl(_crash)))
    install(
        "good",
        types.SimpleNamespace(mk2ds_register_codes=hookimpl(lambda: [CodeInfo("good/fine", Severity.INFO, "fine")])),
    )
    result = run_cli("codes", "--json")
    assert result.code == 0
    assert "plugin 'bad'" in result.err and "mk2ds_register_codes: RuntimeError: plugin bug" in result.err
    assert "good/fine" in {item["code"] for item in json.loads(result.out)}
    listing = run_cli("plugins")
    assert "bad" in listing.out and "FAILED: mk2ds_register_codes" in listing.out


def test_a_registration_hook_giving_garbage_is_left_out(
    run_cli: Callable[..., Any], install: Callable[..., None]
) -> None:
    install("junk", types.SimpleNamespace(mk2ds_register_outputs=hookimpl(lambda: 42)))
    result = run_cli("plugins", "--json")
    assert (
        result.code == 0
        and "expected an iterable" in next(item for item in json.loads(result.out) if item["name"] == "junk")["failed"]
    )


@pytest.mark.parametrize("name", ["reports.text", "reports.json"])
def test_blocking_an_essential_plugin_is_a_usage_error_saying_what_needs_it(
    run_cli: Callable[..., Any], name: str
) -> None:
    result = run_cli("-p", f"no:{name}", "codes")
    assert result.code == 2
    assert f"plugin {name!r} cannot be blocked: it is " in result.err and "report" in result.err


def test_blocking_an_essential_plugin_through_the_environment_too(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MK2DS_BLOCK_PLUGINS", "reports.text")
    assert run_cli("codes").code == 2


def test_blocking_an_unknown_name_warns(run_cli: Callable[..., Any]) -> None:
    result = run_cli("-p", "no:report_text", "codes")
    assert result.code == 0
    assert "warning: -p no:report_text / MK2DS_BLOCK_PLUGINS names no known plugin" in result.err


@pytest.mark.parametrize("error", [SystemExit(0), KeyboardInterrupt(), RuntimeError("bug")], ids=repr)
def test_pack_refuses_to_pack_when_a_check_fails(
    run_cli: Callable[..., Any], install: Callable[..., None], tmp_path: Path, error: BaseException
) -> None:
    def mk2ds_check_dataset(dataset: object, context: object) -> None:
        raise error

    source = tmp_path / "src"
    source.mkdir()
    (source / "README.txt").write_text("x\n")
    install("exits", types.SimpleNamespace(mk2ds_check_dataset=hookimpl(mk2ds_check_dataset)))
    result = run_cli("pack", source, tmp_path / "bag", "--force")
    assert result.code == 3
    assert "plugin 'exits' failed in mk2ds_check_dataset" in result.err
    assert not (tmp_path / "bag").exists()


@pytest.mark.parametrize(
    "hook", ["mk2ds_register_codes", "mk2ds_register_outputs", "mk2ds_register_engines", "mk2ds_register_profiles"]
)
def test_a_registration_of_the_wrong_type_is_left_out_naming_the_hook(
    run_cli: Callable[..., Any], install: Callable[..., None], hook: str
) -> None:
    install("wrong", types.SimpleNamespace(**{hook: hookimpl(lambda: ["a string"])}))
    result = run_cli("plugins", "--json")
    failed = next(item for item in json.loads(result.out) if item["name"] == "wrong")["failed"]
    assert result.code == 0 and failed.startswith(f"{hook}: registered str where ")
    assert run_cli("codes").code == 0
