from __future__ import annotations

import pytest

from mk2ds.core import Finding, Severity
from mk2ds.core.findings import CodeInfo
from mk2ds.core.schemas import validate_document


def test_finding_round_trips_through_its_json_form() -> None:
    finding = Finding(
        "log-unparseable",
        Severity.ERROR,
        "bad quote",
        path="MK2Log/a.log",
        line=3,
        column=7,
        subject="ab",
        details={"raw": "x"},
    )
    data = finding.to_dict()
    assert validate_document(data, "finding") == []
    assert Finding.from_dict(data) == finding


def test_none_fields_are_left_out_of_json() -> None:
    assert Finding("missing-required", "error", "gone").to_dict() == {
        "code": "missing-required",
        "severity": "error",
        "message": "gone",
    }


@pytest.mark.parametrize("code", ["Missing", "missing_file", "-x", "a--b", "acme/", "a/b/c"])
def test_codes_must_be_kebab_case(code: str) -> None:
    with pytest.raises(ValueError, match="kebab-case"):
        Finding(code, Severity.INFO, "m")
    with pytest.raises(ValueError):
        CodeInfo(code, Severity.INFO, "d")


def test_namespaced_third_party_code_is_accepted() -> None:
    assert Finding("acme/odd-thing", Severity.WARNING, "m").code == "acme/odd-thing"


def test_with_plugin_keeps_an_existing_plugin_name() -> None:
    finding = Finding("x", Severity.INFO, "m")
    assert finding.with_plugin("layout").plugin == "layout"
    assert finding.with_plugin("layout").with_plugin("other").plugin == "layout"


def test_location_formats_path_line_column() -> None:
    assert Finding("x", Severity.INFO, "m", path="a.log", line=2, column=5).location() == "a.log:2:5"
    assert Finding("x", Severity.INFO, "m").location() == "-"
