"""The ``junit`` report output: JUnit XML for CI dashboards.

``--junit-cases samples`` (the default): one test case per sample (plus one for the dataset). A sample's test
case fails when it has findings at the failing severity; every finding is listed in the failure text (or in
``system-out`` when below the failing severity) with its code and location.

``--junit-cases findings``: every finding at the failing severity is its own failed test case, with ``file``
and ``line`` attributes (what GitLab, CircleCI and Jenkins link to), named ``code path:line``; findings below
the failing severity are passing test cases that carry their text in ``system-out``; a sample or the dataset
without failing findings is one passing test case, so dashboards that count failures count findings.

The ``testsuite`` carries ``timestamp`` (UTC, when the run started: the end of rendering minus its
``seconds``, or ``SOURCE_DATE_EPOCH`` when set, for reproducible output) and ``hostname``.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xml.etree import ElementTree

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.terminal import xml_text

RANK = {"error": 2, "warning": 1, "info": 0}
CASE_MODES = ("samples", "findings")


def _describe(finding: Mapping[str, Any]) -> str:
    return xml_text(
        f"[{finding['severity']}] {finding['code']} {_where(finding)}: {finding['message']}"
    )  # XML 1.0 safe


def _where(finding: Mapping[str, Any]) -> str:
    where = str(finding.get("path", "-"))
    if "line" in finding:
        where += f":{finding['line']}"
    return where


def _timestamp(report: Mapping[str, Any]) -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    try:
        started = float(epoch) if epoch else time.time() - float(report.get("stats", {}).get("seconds", 0) or 0)
    except ValueError:
        started = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started))


def _groups(report: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {"dataset": []}
    for sample in report.get("samples", []):
        groups.setdefault(f"sample {sample['id']}", [])
    for finding in report.get("findings", []):
        name = f"sample {finding['subject']}" if finding.get("subject") else "dataset"
        groups.setdefault(name, []).append(finding)
    return groups


def _sample_cases(suite: ElementTree.Element, report: Mapping[str, Any], fail_rank: int) -> tuple[int, int, int]:
    """One test case per sample and one for the dataset; ``(tests, failures, errors)``."""
    from xml.etree import ElementTree  # here, not at the top: start-up of every other command

    groups = _groups(report)
    failures = errors = 0
    for name, findings in groups.items():
        case = ElementTree.SubElement(suite, "testcase", classname=f"mk2ds.{report['command']}", name=xml_text(name))
        failing = [finding for finding in findings if RANK[finding["severity"]] >= fail_rank]
        crashed = [finding for finding in findings if finding["code"] == "plugin-error"]
        if crashed:
            errors += 1
            element = ElementTree.SubElement(
                case, "error", message=f"{len(crashed)} plugin error(s)", type="plugin-error"
            )
            element.text = "\n".join(_describe(finding) for finding in crashed)
        elif failing:
            failures += 1
            element = ElementTree.SubElement(
                case, "failure", message=f"{len(failing)} finding(s)", type=xml_text(failing[0]["code"])
            )
            element.text = "\n".join(_describe(finding) for finding in failing)
        others = [finding for finding in findings if finding not in failing and finding not in crashed]
        if others:
            ElementTree.SubElement(case, "system-out").text = "\n".join(_describe(finding) for finding in others)
    return len(groups), failures, errors


def _finding_cases(suite: ElementTree.Element, report: Mapping[str, Any], fail_rank: int) -> tuple[int, int, int]:
    """One test case per finding (failed at the failing severity), one passing case per clean group."""
    from xml.etree import ElementTree  # here, not at the top: start-up of every other command

    tests = failures = errors = 0
    for group, findings in _groups(report).items():
        classname = f"mk2ds.{report['command']}.{group.replace(' ', '.')}"
        if not any(RANK[finding["severity"]] >= fail_rank or finding["code"] == "plugin-error" for finding in findings):
            ElementTree.SubElement(suite, "testcase", classname=xml_text(classname), name=xml_text(group))
            tests += 1
        for finding in findings:
            tests += 1
            attributes = {"classname": xml_text(classname), "name": xml_text(f"{finding['code']} {_where(finding)}")}
            if finding.get("path"):
                attributes["file"] = xml_text(str(finding["path"]))
            if "line" in finding:
                attributes["line"] = str(finding["line"])
            case = ElementTree.SubElement(suite, "testcase", attributes)
            if finding["code"] == "plugin-error":
                errors += 1
                ElementTree.SubElement(
                    case, "error", message=xml_text(finding["message"]), type=finding["code"]
                ).text = _describe(finding)
            elif RANK[finding["severity"]] >= fail_rank:
                failures += 1
                ElementTree.SubElement(
                    case, "failure", message=xml_text(finding["message"]), type=finding["code"]
                ).text = _describe(finding)
            else:
                ElementTree.SubElement(case, "system-out").text = _describe(finding)
    return tests, failures, errors


def render(report: Mapping[str, Any], options: argparse.Namespace) -> str:
    from xml.etree import ElementTree  # here, not at the top: start-up of every other command

    fail_rank = RANK[report.get("fail_on", "error")]
    target = report.get("target", {})
    suite_name = f"mk2ds {report['command']} {target.get('location', '')}".strip()
    suites = ElementTree.Element("testsuites", name="mk2ds")
    suite = ElementTree.SubElement(
        suites,
        "testsuite",
        name=xml_text(suite_name),
        timestamp=_timestamp(report),
        hostname=socket.gethostname() or "localhost",
    )
    mode = getattr(options, "junit_cases", None) or "samples"
    build = _finding_cases if mode == "findings" else _sample_cases
    tests, failures, errors = build(suite, report, fail_rank)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("time", str(report.get("stats", {}).get("seconds", 0)))
    suites.set("tests", str(tests))
    suites.set("failures", str(failures))
    suites.set("errors", str(errors))
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    cases = (
        ("--junit-cases",),
        {
            "choices": CASE_MODES,
            "default": "samples",
            "help": "junit: one test case per sample (default), or per finding (file and line attributes; each failing finding a failure)",
        },
    )
    return [
        OutputFormat(
            "junit",
            "report",
            ".xml",
            "JUnit XML: one test case per sample or per finding, for CI dashboards",
            render,
            options=(cases,),
        )
    ]
