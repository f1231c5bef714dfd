from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest

from mk2ds.plugins.checks.sample_list import duplicate_findings, parse_flag, read_sample_list, role_of

SHA_A = "a" * 64
SHA_B = "b" * 64
MD5_C = "c" * 32


def xlsx(rows: list[list[Any]], *, preamble: int = 0, title: str = "Sheet1") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for _ in range(preamble):
        sheet.append(["Soliton Dataset 2018 マルウェア一覧"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER_JA = ["No.", "SHA256", "拡張子", "ウイルス対策ベンダーのラベル", "参照URL", "Verboseログ", "レポート", "備考"]


def test_japanese_header_found_below_a_title_row_and_flags_parsed() -> None:
    data = xlsx(
        [
            HEADER_JA,
            [1, SHA_A, "exe", "Trojan.Win32.X", "http://x", "○", None, "memo"],
            [2, SHA_B.upper(), ".JS", "JS.Downloader", None, None, "○", None],
        ],
        preamble=2,
    )
    parsed = read_sample_list(data, "List.xlsx")
    assert parsed.findings == []
    assert parsed.header_row == 3
    first, second = parsed.samples
    assert (first["id"], first["extension"], first["is_pe"], first["flags"]) == (
        SHA_A,
        "exe",
        True,
        {"verbose": True, "report": False},
    )
    assert (second["id"], second["extension"], second["is_pe"], second["flags"]) == (
        SHA_B,
        "js",
        False,
        {"verbose": False, "report": True},
    )
    assert first["columns"]["備考"] == "memo", "unknown columns are kept"
    assert first["row"] == 4


def test_english_header_with_md5_only_rows() -> None:
    parsed = read_sample_list(
        xlsx([["md5", "Extension", "Verbose", "Report"], [MD5_C, "doc", "yes", "no"]]), "List.xlsx"
    )
    assert parsed.samples[0]["id"] == MD5_C and parsed.samples[0]["md5"] == MD5_C
    assert parsed.samples[0]["flags"] == {"verbose": True, "report": False}


@pytest.mark.parametrize("value", ["○", "◯", "✓", "yes", "Yes", 1, True, "有", "あり", "１"])
def test_true_flags(value: Any) -> None:
    assert parse_flag(value) is True


@pytest.mark.parametrize("value", [None, "", "×", "-", "no", 0, False, "無", "なし"])
def test_false_flags(value: Any) -> None:
    assert parse_flag(value) is False


def test_unknown_flag_is_reported_not_guessed() -> None:
    parsed = read_sample_list(
        xlsx([["SHA256", "拡張子", "Verbose", "レポート"], [SHA_A, "exe", "maybe", ""]]), "List.xlsx"
    )
    assert [(f.code, f.line) for f in parsed.findings] == [("list-unknown-flag", 2)]
    assert parsed.samples[0]["flags"]["verbose"] is None


def test_bad_hashes_and_rows_without_hash_are_findings_with_line_numbers() -> None:
    rows = [
        ["SHA256", "拡張子", "Verbose", "Report"],
        ["xyz", "exe", "", ""],
        ["a" * 63, "exe", "", ""],
        [None, "exe", "", "note"],
        [" " + SHA_A, "exe", "", ""],
    ]
    parsed = read_sample_list(xlsx(rows), "List.xlsx")
    codes = [(f.code, f.line) for f in parsed.findings]
    assert ("list-bad-hash", 2) in codes and ("list-bad-hash", 3) in codes
    assert ("list-row-without-hash", 2) not in codes
    assert ("list-hash-whitespace", 5) in codes
    assert [sample["id"] for sample in parsed.samples] == [SHA_A]


def test_duplicate_hashes() -> None:
    parsed = read_sample_list(
        xlsx([["SHA256", "拡張子", "Verbose", "Report"], [SHA_A, "exe", "", ""], [SHA_A, "dll", "", ""]]), "List.xlsx"
    )
    assert [(f.code, f.line) for f in duplicate_findings(parsed.samples, "List.xlsx")] == [("list-duplicate-hash", 3)]


def test_missing_columns_are_warned_once() -> None:
    parsed = read_sample_list(xlsx([["SHA256"], [SHA_A]]), "List.xlsx")
    assert sorted(f.message.split(":")[0] for f in parsed.findings) == [
        "no file-extension column (拡張子)",
        "no report flag column",
        "no verbose flag column",
    ]
    assert parsed.samples[0]["is_pe"] is None


def test_not_an_xlsx_and_no_header() -> None:
    assert [f.code for f in read_sample_list(b"plain text", "List.xlsx").findings] == ["list-unreadable"]
    assert [f.code for f in read_sample_list(xlsx([["a", "b"], [1, 2]]), "List.xlsx").findings] == ["list-no-header"]


def test_decompression_bomb_is_refused_before_parsing() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (210 * 1024 * 1024))
    findings = read_sample_list(buffer.getvalue(), "List.xlsx").findings
    assert [f.code for f in findings] == ["list-unreadable"] and "refused" in findings[0].message


def test_xml_entity_attack_is_not_expanded() -> None:
    data = xlsx([["SHA256", "拡張子", "Verbose", "Report"], [SHA_A, "exe", "", ""]])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/workbook.xml":
                content = (
                    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + content
                )
            target.writestr(info, content)
    findings = read_sample_list(out.getvalue(), "List.xlsx").findings
    assert [f.code for f in findings] == ["list-unreadable"]
    assert "Entit" in findings[0].message


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("SHA-256", "sha256"),
        ("ハッシュ値", "hash"),
        ("拡張子", "extension"),
        ("Verboseログ有無", "verbose"),
        ("ＳＨＡ２５６", "sha256"),
    ],
)
def test_header_roles(header: str, role: str) -> None:
    assert role_of(header) == role
