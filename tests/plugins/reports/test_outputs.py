"""The report outputs render the same report document: text, json, junit and sarif."""

from __future__ import annotations

import argparse
import json
from typing import Any
from xml.etree import ElementTree

import pytest

from mk2ds.core import Fact, Finding, Report, Severity
from mk2ds.plugins.reports import json as report_json
from mk2ds.plugins.reports import junit as report_junit
from mk2ds.plugins.reports import sarif as report_sarif
from mk2ds.plugins.reports import text as report_text

SAMPLE = "e" * 64


def _document(with_crash: bool = False) -> dict[str, Any]:
    report = Report(
        command="verify",
        target={"location": "ds", "profile": "soliton-2018", "level": "full"},
        tool={"name": "mk2ds", "version": "0.1.0"},
    )
    report.subjects = [SAMPLE, "f" * 64]
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
            Finding("pe-results-empty", Severity.ERROR, "empty", path=f"PEfile/{SAMPLE}.txt", subject=SAMPLE),
            Fact("systeminfo.host_name", "PC1", subject=SAMPLE),
        ]
    )
    if with_crash:
        report.add([Finding("plugin-error", Severity.ERROR, "plugin 'x' failed", plugin="x")])
    return report.to_dict()


def test_junit_has_one_case_per_sample_and_the_dataset() -> None:
    xml = ElementTree.fromstring(report_junit.render(_document(), argparse.Namespace()))
    suite = xml.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"dataset", f"sample {SAMPLE}", f"sample {'f' * 64}"}
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    failure = cases[f"sample {SAMPLE}"].find("failure")
    assert failure is not None and "pe-results-empty" in (failure.text or "")
    assert "log-sn-backwards" in (cases[f"sample {SAMPLE}"].findtext("system-out") or "")
    assert cases[f"sample {'f' * 64}"].find("failure") is None


def test_junit_marks_plugin_errors_as_errors() -> None:
    suite = ElementTree.fromstring(report_junit.render(_document(with_crash=True), argparse.Namespace())).find(
        "testsuite"
    )
    assert suite is not None and suite.get("errors") == "1"


def test_sarif_results_point_at_files_and_lines() -> None:
    sarif = json.loads(report_sarif.render(_document(), argparse.Namespace()))
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        "log-sn-backwards",
        "missing-required",
        "pe-results-empty",
    ]
    by_rule = {result["ruleId"]: result for result in run["results"]}
    region = by_rule["log-sn-backwards"]["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == f"MK2Log/30m/{SAMPLE}.log" and region["region"] == {"startLine": 12}
    assert by_rule["log-sn-backwards"]["level"] == "warning" and by_rule["missing-required"]["level"] == "error"
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_json_is_the_document_itself() -> None:
    document = _document()
    assert json.loads(report_json.render(document, argparse.Namespace())) == document


@pytest.mark.parametrize("color", ["never", "always"])
def test_text_groups_findings_by_sample_and_says_failed(color: str) -> None:
    text = report_text.render(_document(), argparse.Namespace(color=color, facts=True))
    assert text.index("[dataset]") < text.index(f"[{SAMPLE}]")
    assert "systeminfo.host_name=PC1" in text
    assert "FAILED" in text and "2 errors, 1 warnings" in text
    assert ("\x1b[" in text) is (color == "always")


def test_text_lists_info_findings_only_when_asked() -> None:
    report = Report(command="verify", tool={"name": "mk2ds", "version": "0"})
    report.add([Finding("unexpected-entry", Severity.INFO, "not described by the profile", path="extra.txt")])
    document = report.to_dict()
    quiet = report_text.render(document, argparse.Namespace(color="never"))
    assert "extra.txt" not in quiet and "1 info findings not listed" in quiet
    assert "extra.txt" in report_text.render(document, argparse.Namespace(color="never", show_info=True))


def _many_samples(count: int = 40) -> dict[str, Any]:
    """A report where every sample has the same systematic warning and one sample a real error."""
    report = Report(command="verify", target={"location": "ds"}, tool={"name": "mk2ds", "version": "0"})
    report.subjects = [f"{index:064x}" for index in range(count)]
    report.add(
        Finding(
            "artifact-name-mismatch",
            Severity.WARNING,
            f"impfuzzy/{subject}.txt is not named as expected",
            path=f"impfuzzy/{subject}.txt",
            subject=subject,
        )
        for subject in report.subjects
    )
    report.add(
        [
            Finding(
                "log-sn-backwards",
                Severity.ERROR,
                "sn is lower",
                path="MK2Log/30m/x.log",
                line=3,
                subject=report.subjects[7],
            )
        ]
    )
    report.add([Fact("systeminfo.host_name", "PC1", subject=subject) for subject in report.subjects])
    return report.to_dict()


def test_text_is_compact_verdict_first_and_shows_patterns_once() -> None:
    document = _many_samples()
    assert [pattern["code"] for pattern in document["patterns"]] == ["artifact-name-mismatch"]
    assert document["patterns"][0]["samples"] == 40 and len(document["patterns"][0]["examples"]) == 3
    text = report_text.render(document, argparse.Namespace(color="never"))
    lines = text.splitlines()
    assert lines[1].startswith("FAILED: 1 errors, 40 warnings") and lines[-1] == lines[1]
    assert text.count("artifact-name-mismatch") == 1 and "40 findings on 40 of 40 samples" in text
    assert "e.g. impfuzzy/" in text and "and 38 more" in text
    assert "log-sn-backwards" in text and "PC1" not in text
    assert "39 of 40 samples without errors or warnings beyond the patterns (--facts" in text
    assert len(lines) < 25


def test_text_show_all_and_facts_list_everything() -> None:
    document = _many_samples()
    text = report_text.render(document, argparse.Namespace(color="never", show_all=True, facts=True))
    assert text.count("artifact-name-mismatch") == 41  # the pattern line and every finding
    assert text.count("systeminfo.host_name=PC1") == 40
