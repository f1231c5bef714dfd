"""Hostile List.xlsx files: a declared size of a whole sheet, a lying dimension, a second sheet of samples."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from mk2ds.plugins.checks import sample_list, sample_sheet
from mk2ds.plugins.checks.sample_list import read_sample_list

SHA_A = "a" * 64
SHA_B = "b" * 64


def _save(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _with_dimension(data: bytes, reference: str) -> bytes:
    """The same workbook with the first sheet's ``<dimension ref>`` replaced (as a sloppy or hostile writer may)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + reference.encode() + b'"', content)
            target.writestr(info, content)
    return buffer.getvalue()


def test_a_declared_dimension_of_a_whole_sheet_does_not_pad_every_row() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["SHA256", "拡張子", "Verbose", "Report"])
    sheet.append([SHA_A, "exe", "○", None])
    data = _with_dimension(_save(workbook), "A1:XFD1048576")
    parsed = read_sample_list(data, "List.xlsx")
    assert [sample["id"] for sample in parsed.samples] == [SHA_A]
    assert parsed.findings == []
    assert parsed.samples[0]["columns"] == {"SHA256": SHA_A, "拡張子": "exe", "Verbose": "○"}


def test_a_dimension_smaller_than_the_data_does_not_cut_columns() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["No.", "SHA256", "拡張子", "Verbose", "Report"])
    sheet.append([1, SHA_A, "exe", "○", "○"])
    parsed = read_sample_list(_with_dimension(_save(workbook), "A1:A2"), "List.xlsx")
    assert [sample["id"] for sample in parsed.samples] == [SHA_A]
    assert parsed.samples[0]["flags"] == {"verbose": True, "report": True}
    assert parsed.findings == []


def test_a_second_sheet_with_hashes_is_reported_not_silently_ignored() -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "一覧"
    first.append(["SHA256", "拡張子", "Verbose", "Report"])
    first.append([SHA_A, "exe", None, None])
    second = workbook.create_sheet("追加")
    second.append(["SHA256", "拡張子"])
    second.append([SHA_B, "exe"])
    notes = workbook.create_sheet("メモ")
    notes.append(["備考", "2018年版"])  # names no hash column: not a header row
    parsed = read_sample_list(_save(workbook), "List.xlsx")
    assert [sample["id"] for sample in parsed.samples] == [SHA_A]
    assert [(finding.code, finding.details) for finding in parsed.findings] == [
        ("list-sheet-ignored", {"sheet": "追加"})
    ]
    assert "'追加'" in parsed.findings[0].message and "'一覧'" in parsed.findings[0].message


def _replace_part(data: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, content if info.filename == name else source.read(info))
    return buffer.getvalue()


def _list(rows: int) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["SHA256", "拡張子", "Verbose", "Report"])
    for index in range(rows):
        sheet.append([f"{index:064x}", "exe", "○", None])
    return _save(workbook)


@pytest.mark.parametrize(
    "sheet_xml",
    [
        b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'><sheetData><row r='1'><c r='A1'",
        (
            b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'><sheetData>"
            b"<row r='1'><c r='A1' t='s'><v>not-a-number</v></c></row></sheetData></worksheet>"
        ),
        (
            b"<worksheet xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'><sheetData>"
            b"<row r='x'><c r='?!'><v>1</v></c></row></sheetData></worksheet>"
        ),
    ],
    ids=["truncated-xml", "bad-shared-string-index", "bad-cell-reference"],
)
def test_malformed_sheet_xml_is_list_unreadable(sheet_xml: bytes) -> None:
    data = _replace_part(_list(2), "xl/worksheets/sheet1.xml", sheet_xml)
    parsed = read_sample_list(data, "List.xlsx")
    assert [finding.code for finding in parsed.findings] == ["list-unreadable"]
    assert parsed.findings[0].message.startswith(("cannot read sheet: ", "cannot read workbook: "))


def test_rows_beyond_the_cap_are_not_read_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sample_sheet, "MAX_ROWS", 50)
    parsed = read_sample_list(_list(80), "List.xlsx")
    assert len(parsed.samples) == 50
    (finding,) = [finding for finding in parsed.findings if finding.code == "list-too-large"]
    assert finding.line == 52 and "more than 50 rows" in finding.message


def test_a_huge_shared_string_table_is_refused_before_it_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sample_sheet, "MAX_SHARED_STRINGS_BYTES", 4096)
    loaded: list[object] = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *args, **kwargs: loaded.append(args))
    strings = (
        b"<sst xmlns='http://schemas.openxmlformats.org/spreadsheetml/2006/main'>"
        + b"<si><t>x</t></si>" * 1000
        + b"</sst>"
    )
    buffer = io.BytesIO(_list(2))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", strings)
    parsed = read_sample_list(buffer.getvalue(), "List.xlsx")
    assert [finding.code for finding in parsed.findings] == ["list-too-large"]
    assert "shared-string table" in parsed.findings[0].message
    assert loaded == []


def test_a_list_file_beyond_the_size_cap_is_not_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    from mk2ds.plugins.synthetic import write_sample

    distribution = write_sample(tmp_path / "ds", samples=3, seed=7, events_per_log=20)
    monkeypatch.setattr(sample_list, "MAX_LIST_BYTES", 1000)
    result = run_cli("verify", distribution.root, "--format", "json", "--quiet", "--level", "fast")
    findings = [f for f in json.loads(result.out)["findings"] if f["code"] == "list-too-large"]
    assert result.code == 1 and findings and findings[0]["path"] == "List.xlsx"
