"""Untrusted strings never reach the terminal raw (issue 13 item 5): text report, convert, pe, pack messages."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from mk2ds.core.findings import Fact, Finding, Severity
from mk2ds.core.report import Report
from mk2ds.plugins.reports.text import render

FORGED = "x\x1b]0;pwned\x07\x1b[2J\nOK: 0 errors\u202e"
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def assert_inert(text: str) -> None:
    """No control character except LF, no bidi control, and no forged ``OK:`` line."""
    assert not RAW.search(text), repr(text)
    assert not any(line.startswith("OK:") for line in text.splitlines()), text


def test_the_text_report_escapes_names_messages_and_facts() -> None:
    report = Report(command="verify", target={"location": f"ds{FORGED}", "profile": "p"})
    report.add([Fact("host_name", f"WIN{FORGED}"), Fact(f"key{FORGED}", "v", subject=f"sample{FORGED}")])
    report.add(
        [
            Finding(
                "unsafe-path",
                Severity.ERROR,
                f"message {FORGED}",
                path=f"MK2Log/{FORGED}.log",
                subject=f"sample{FORGED}",
            )
        ]
    )
    text = render(report.to_dict(), argparse.Namespace(color="never", output=None, show_info=True, facts=True))
    assert_inert(text)
    assert "host_name: WINx\\x1b]0;pwned\\x07" in text
    assert "keyx\\x1b]0;pwned\\x07" in text  # a sample's facts
    assert text.rstrip().splitlines()[-1].startswith("FAILED:")


def test_verify_prints_a_hostile_file_name_escaped(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    dataset = tmp_path / "ds"
    dataset.mkdir()
    (dataset / f"{FORGED}.log").write_text("x")
    (dataset / "invoice\u202egpj.exe").write_text("x")
    (dataset / "csi\u009b.exe").write_text("x")
    result = run_cli("verify", dataset, "--quiet")
    assert result.code == 1
    assert_inert(result.out)
    assert "invoice\\u202egpj.exe: bidirectional control" in result.out
    assert "csi\\x9b.exe: control character" in result.out


def test_convert_messages_escape_file_names(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    log = tmp_path / f"{FORGED}.log"
    log.write_bytes(b"garbage line\r\n")
    result = run_cli("convert", log, "-o", tmp_path / "out.jsonl", "--quiet")
    assert_inert(result.err)
    assert "\\x1b]0;pwned" in result.err


def test_pe_text_output_and_errors_escape_names(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    sample = tmp_path / f"{FORGED}.exe"
    sample.write_bytes(b"not a pe")
    result = run_cli("pe", sample)
    assert result.code == 0
    assert_inert(result.out)
    missing = run_cli("pe", tmp_path / f"missing{FORGED}")
    assert missing.code == 2
    assert_inert(missing.err)


def _hostile_dataset(root: Path) -> Path:
    dataset = root / "ds"
    dataset.mkdir()
    for name in (f"{FORGED}.log", "form\x0cfeed\x01.txt", "bom\ufeff\ufffe.txt"):
        (dataset / name).write_text("x")
    os.close(os.open(os.fsencode(dataset) + b"/undecodable\xff\xfe.log", os.O_CREAT | os.O_WRONLY, 0o644))
    return dataset


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif"])
def test_every_report_format_parses_back_with_hostile_names(
    run_cli: Callable[..., Any], tmp_path: Path, fmt: str
) -> None:
    """Issue 13 item 14: ESC, other XML-illegal characters and undecodable bytes in names; every format is
    written, is valid UTF-8, parses back, and names each hostile file (escaped) instead of breaking."""
    dataset = _hostile_dataset(tmp_path)
    output = tmp_path / f"report.{fmt}"
    result = run_cli("verify", dataset, "--quiet", "--show-info", "--format", fmt, "-o", output)
    assert result.code == 1, result.err
    text = output.read_bytes().decode("utf-8")  # strict: no lone surrogate, no invalid byte
    if fmt == "junit":
        root = ElementTree.fromstring(output.read_bytes())
        shown = "\n".join(element.text or "" for element in root.iter())
        assert "x\\x1b]0;pwned\\x07" in shown and "undecodable\\udcff\\udcfe.log" in shown
    elif fmt == "json":
        document = json.loads(text)
        paths = json.dumps(document, ensure_ascii=False)
        assert FORGED.replace("\n", "\\n").replace("\x1b", "\\u001b").replace("\x07", "\\u0007") in paths
        names = {finding.get("path") for finding in document["findings"]}
        assert "undecodable\udcff\udcfe.log" in names  # the JSON report keeps the exact name
    elif fmt == "sarif":  # artifact locations are URI references: percent-encoded
        uris = {
            location["physicalLocation"]["artifactLocation"]["uri"]
            for result in json.loads(text)["runs"][0]["results"]
            for location in result.get("locations", [])
        }
        assert any("x%1B%5D0%3Bpwned%07%1B%5B2J%0AOK%3A%200%20errors%E2%80%AE" in uri for uri in uris), uris
        assert any(uri.endswith("undecodable%FF%FE.log") for uri in uris), uris
    else:
        assert_inert(text)
        assert "undecodable\\udcff\\udcfe.log" in text


class _HostilePlugin:
    """A third-party plugin whose code description carries terminal escapes."""

    from mk2ds.core import hookimpl as _hookimpl

    @_hookimpl
    def mk2ds_register_codes(self) -> list[Any]:
        from mk2ds.core.findings import CodeInfo

        return [CodeInfo("hostile/code", Severity.WARNING, f"described as {FORGED}")]


def test_plugins_and_codes_listings_escape_what_third_parties_registered(capsys: pytest.CaptureFixture[str]) -> None:
    from mk2ds.core import cli
    from mk2ds.core.pluginmanager import get_plugin_manager

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(_HostilePlugin(), name=f"hostile{FORGED}")
    cli._cmd_codes(argparse.Namespace(json=False), pm)
    cli._cmd_plugins(argparse.Namespace(json=False), pm)
    printed = capsys.readouterr().out
    assert_inert(printed)
    assert "described as x\\x1b]0;pwned" in printed and "hostilex\\x1b]0;pwned" in printed
