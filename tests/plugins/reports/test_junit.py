"""The ``junit`` report: suite timestamp and hostname, and one test case per finding when asked."""

from __future__ import annotations

import argparse
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from mk2ds.core import Finding, Report, Severity
from mk2ds.plugins.reports import junit as report_junit
from mk2ds.plugins.synthetic import write_sample

SAMPLE = "e" * 64


def _document() -> dict[str, Any]:
    report = Report(command="verify", target={"location": "ds"}, tool={"name": "mk2ds", "version": "0.1.0"})
    report.subjects = [SAMPLE, "f" * 64]
    report.stats["seconds"] = 2.5
    report.add(
        [
            Finding("missing-required", Severity.ERROR, "required file is missing", path="README.txt"),
            Finding(
                "log-sn-backwards",
                Severity.WARNING,
                "sn is lower",
                path=f"MK2Log/30m/{SAMPLE}.log",
                line=12,
                subject=SAMPLE,
            ),
            Finding(
                "log-missing-key", Severity.ERROR, "no 'sn'", path=f"MK2Log/30m/{SAMPLE}.log", line=40, subject=SAMPLE
            ),
            Finding("pe-results-empty", Severity.ERROR, "empty", path=f"PEfile/{SAMPLE}.txt", subject=SAMPLE),
        ]
    )
    return report.to_dict()


def suite_of(text: str) -> ElementTree.Element:
    suite = ElementTree.fromstring(text).find("testsuite")
    assert suite is not None
    return suite


def test_the_suite_has_a_timestamp_and_a_hostname(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    suite = suite_of(report_junit.render(_document(), argparse.Namespace()))
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}", suite.get("timestamp") or "")
    assert suite.get("hostname") == socket.gethostname()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1520000000")
    assert suite_of(report_junit.render(_document(), argparse.Namespace())).get("timestamp") == "2018-03-02T14:13:20"


def test_one_failed_test_case_per_finding_with_file_and_line() -> None:
    suite = suite_of(report_junit.render(_document(), argparse.Namespace(junit_cases="findings")))
    cases = suite.findall("testcase")
    failed = [case for case in cases if case.find("failure") is not None]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (str(len(cases)), "3", "0")
    assert len(failed) == 3
    missing = next(case for case in failed if case.get("name", "").startswith("log-missing-key"))
    assert missing.get("file") == f"MK2Log/30m/{SAMPLE}.log" and missing.get("line") == "40"
    assert missing.get("name") == f"log-missing-key MK2Log/30m/{SAMPLE}.log:40"
    failure = missing.find("failure")
    assert failure is not None and failure.get("type") == "log-missing-key" and failure.get("message") == "no 'sn'"
    warning = next(case for case in cases if case.get("name", "").startswith("log-sn-backwards"))
    assert warning.find("failure") is None and "sn is lower" in (warning.findtext("system-out") or "")
    assert [case.get("name") for case in cases if case.get("name", "").startswith("sample ")] == [f"sample {'f' * 64}"]


def test_the_cli_option(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    distribution = write_sample(tmp_path / "SolitonDataset2018", samples=6, seed=5, events_per_log=60)
    (distribution.root / "README.txt").unlink()
    output = tmp_path / "report.xml"
    assert (
        run_cli("verify", distribution.root, "--format", "junit", "--junit-cases", "findings", "-o", output).code == 1
    )
    suite = suite_of(output.read_text(encoding="utf-8"))
    failed = [case for case in suite.findall("testcase") if case.find("failure") is not None]
    assert any(case.get("file") == "README.txt" for case in failed) and int(suite.get("failures") or 0) == len(failed)
    assert suite.get("hostname") and suite.get("timestamp")
