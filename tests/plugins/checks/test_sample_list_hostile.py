"""Hostile List.xlsx files: a declared size of a whole sheet, a lying dimension, a second sheet of samples."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import openpyxl

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
    assert [(finding.code, finding.details) for finding in parsed.findings] == [("list-sheet-ignored", {"sheet": "追加"})]
    assert "'追加'" in parsed.findings[0].message and "'一覧'" in parsed.findings[0].message
