from __future__ import annotations

from mk2ds.core import ExitCode, Fact, Finding, Report, Severity
from mk2ds.core.schemas import validate_document


def _report(*findings: Finding) -> Report:
    report = Report(command="verify", target={"location": "x"}, tool={"name": "mk2ds", "version": "0"})
    report.add(findings)
    return report


def test_exit_codes_follow_the_worst_finding() -> None:
    assert _report().exit_code() is ExitCode.OK
    assert _report(Finding("a", Severity.WARNING, "w")).exit_code() is ExitCode.OK
    assert _report(Finding("a", Severity.ERROR, "e")).exit_code() is ExitCode.FINDINGS
    assert (
        _report(Finding("a", Severity.ERROR, "e"), Finding("plugin-error", Severity.ERROR, "p")).exit_code()
        is ExitCode.INTERNAL_ERROR
    )


def test_fail_on_warning_makes_warnings_fail() -> None:
    report = _report(Finding("a", Severity.WARNING, "w"))
    report.fail_on = Severity.WARNING
    assert report.exit_code() is ExitCode.FINDINGS


def test_document_validates_and_groups_by_sample() -> None:
    report = _report(
        Finding("b", Severity.ERROR, "e", path="z", subject="s1"),
        Finding("a", Severity.WARNING, "w", path="a", line=3),
    )
    report.subjects = ["s0", "s1"]
    report.add([Fact("host", "PC1", subject="s1"), Fact("files", 3)])
    document = report.to_dict()
    assert validate_document(document, "report") == []
    assert [finding["path"] for finding in document["findings"]] == ["a", "z"]
    assert document["samples"] == [
        {"id": "s0", "findings": {"error": 0, "warning": 0, "info": 0}, "facts": {}},
        {"id": "s1", "findings": {"error": 1, "warning": 0, "info": 0}, "facts": {"host": "PC1"}},
    ]
    assert document["facts"] == {"files": 3}
    assert document["summary"] == {"error": 1, "warning": 1, "info": 0}
