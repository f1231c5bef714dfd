"""The ``junit`` report output: one test case per sample (plus one for the dataset), for CI dashboards.

A sample's test case fails when it has findings at the failing severity; every finding is listed in the
failure text (or in ``system-out`` when below the failing severity) with its code and location.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from mk2ds.core import OutputFormat, hookimpl

RANK = {"error": 2, "warning": 1, "info": 0}


def _describe(finding: Mapping[str, Any]) -> str:
    where = str(finding.get("path", "-"))
    if "line" in finding:
        where += f":{finding['line']}"
    return f"[{finding['severity']}] {finding['code']} {where}: {finding['message']}"


def render(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    from xml.etree import ElementTree  # here, not at the top: start-up of every other command

    fail_rank = RANK[report.get("fail_on", "error")]
    groups: dict[str, list[Mapping[str, Any]]] = {"dataset": []}
    for sample in report.get("samples", []):
        groups.setdefault(f"sample {sample['id']}", [])
    for finding in report.get("findings", []):
        name = f"sample {finding['subject']}" if finding.get("subject") else "dataset"
        groups.setdefault(name, []).append(finding)
    target = report.get("target", {})
    suite_name = f"mk2ds {report['command']} {target.get('location', '')}".strip()
    suites = ElementTree.Element("testsuites", name="mk2ds")
    suite = ElementTree.SubElement(suites, "testsuite", name=suite_name)
    failures = errors = 0
    for name, findings in groups.items():
        case = ElementTree.SubElement(suite, "testcase", classname=f"mk2ds.{report['command']}", name=name)
        failing = [finding for finding in findings if RANK[finding["severity"]] >= fail_rank]
        crashed = [finding for finding in findings if finding["code"] == "plugin-error"]
        if crashed:
            errors += 1
            element = ElementTree.SubElement(case, "error", message=f"{len(crashed)} plugin error(s)", type="plugin-error")
            element.text = "\n".join(_describe(finding) for finding in crashed)
        elif failing:
            failures += 1
            element = ElementTree.SubElement(case, "failure", message=f"{len(failing)} finding(s)", type=failing[0]["code"])
            element.text = "\n".join(_describe(finding) for finding in failing)
        others = [finding for finding in findings if finding not in failing and finding not in crashed]
        if others:
            ElementTree.SubElement(case, "system-out").text = "\n".join(_describe(finding) for finding in others)
    suite.set("tests", str(len(groups)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("time", str(report.get("stats", {}).get("seconds", 0)))
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [OutputFormat("junit", "report", ".xml", "JUnit XML: one test case per sample, for CI dashboards", render)]
