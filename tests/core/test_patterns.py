"""Patterns: a code on most samples (or often without a sample) is one systematic problem."""

from __future__ import annotations

from mk2ds.core import Finding, Report, Severity
from mk2ds.core.patterns import find_patterns, message_shape


def _on(
    subjects: list[str], code: str = "artifact-name-mismatch", severity: Severity = Severity.WARNING
) -> list[Finding]:
    return [
        Finding(code, severity, f"{subject * 8} has {index} problems", path=f"x/{subject}", subject=subject)
        for index, subject in enumerate(subjects)
    ]


SAMPLES = [f"{index:08x}" for index in range(10)]


def test_a_code_on_half_the_samples_is_a_pattern() -> None:
    patterns = find_patterns(_on(SAMPLES[:5]), sample_total=10)
    assert [(pattern.code, pattern.count, pattern.samples, pattern.sample_total) for pattern in patterns] == [
        ("artifact-name-mismatch", 5, 5, 10)
    ]
    assert [example["subject"] for example in patterns[0].to_dict()["examples"]] == SAMPLES[:3]
    assert (
        patterns[0].message == f"{SAMPLES[0] * 8} has 0 problems"
    )  # one wording once hashes and numbers are set aside


def test_a_code_on_few_samples_or_few_findings_is_not() -> None:
    assert find_patterns(_on(SAMPLES[:4]), sample_total=10) == []
    assert find_patterns(_on(SAMPLES[:4]), sample_total=4) == []  # fewer than five findings
    many_on_one = [
        Finding("log-sn-backwards", Severity.WARNING, "sn", path="a.log", line=line, subject=SAMPLES[0])
        for line in range(1, 30)
    ]
    assert find_patterns(many_on_one, sample_total=10) == []


def test_many_findings_without_a_sample_are_a_pattern_and_plugin_errors_never() -> None:
    unattributed = [
        Finding("unexpected-entry", Severity.INFO, "not described", path=f"extra/{index}") for index in range(10)
    ]
    crashes = [Finding("plugin-error", Severity.ERROR, "boom", subject=subject) for subject in SAMPLES]
    patterns = find_patterns([*unattributed, *crashes], sample_total=10)
    assert [(pattern.code, pattern.count, pattern.samples) for pattern in patterns] == [("unexpected-entry", 10, 0)]


def test_the_report_document_carries_patterns_and_keeps_every_finding() -> None:
    report = Report(command="verify")
    report.subjects = SAMPLES
    report.add(_on(SAMPLES))
    document = report.to_dict()
    assert [pattern["code"] for pattern in document["patterns"]] == ["artifact-name-mismatch"]
    assert len(document["findings"]) == 10 and "details" not in document["patterns"][0]["examples"][0]


def test_message_shape() -> None:
    assert message_shape(f"file {'ab' * 32}.log has 12 lines, 3.5 s") == "file <hash>.log has N lines, N s"


def test_findings_without_a_subject_touch_the_sample_their_path_names() -> None:
    unlisted = [
        Finding("checksum-file-unlisted", Severity.ERROR, "not listed", path=f"impfuzzy/{sample.upper()}.impfuzzy")
        for sample in SAMPLES[:6]
    ]
    elsewhere = [
        Finding("checksum-file-missing", Severity.ERROR, "missing", path=f"impfuzzy/{sample}x.txt")
        for sample in SAMPLES[:6]
    ]
    patterns = find_patterns([*unlisted, *elsewhere, *_on(SAMPLES)], sample_total=10, samples=SAMPLES)
    assert [(pattern.code, pattern.samples) for pattern in patterns] == [
        ("checksum-file-unlisted", 6),
        ("artifact-name-mismatch", 10),
    ]
