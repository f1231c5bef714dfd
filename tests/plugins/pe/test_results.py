"""Reading the shipped impfuzzy/PEfile files liberally, and telling pefile-version drift from real mismatch."""

from __future__ import annotations

from pathlib import Path

import pefile
import pytest

from mk2ds.plugins.pe.results import compare_dumps, find_ssdeep_hashes, looks_like_dump, parse_dump
from mk2ds.plugins.synthetic.pe_builder import build_pe

DUMPS = Path(__file__).parents[2] / "data" / "pe" / "dumps"


def dump(name: str) -> str:
    return (DUMPS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24:abcDEF+/x:yz\n", ["24:abcDEF+/x:yz"]),
        ("impfuzzy: 3:sU9KTXzW:HGDW", ["3:sU9KTXzW:HGDW"]),
        ('"file.exe","96:aaa:bbb","x"', ["96:aaa:bbb"]),
        ("sha256,impfuzzy\nabc,6:ab:c\nabc,6:ab:c\n", ["6:ab:c"]),
        ("3::", ["3::"]),
        ("started 12:30:45, ended 3:04:05", []),  # times: 12 is no block size, all-digit parts are rejected
        ("7:abc:def 1536:x:y", ["1536:x:y"]),  # 7 is not 3 * 2^n
        ("no hash here", []),
        ("", []),
        ("x3:abc:def", []),  # glued to a word
    ],
)
def test_ssdeep_hashes_found_anywhere(text: str, expected: list[str]) -> None:
    assert find_ssdeep_hashes(text) == expected


def test_looks_like_dump() -> None:
    assert looks_like_dump(dump("t32-pefile-2018.8.8.txt"))
    assert looks_like_dump(pefile.PE(data=build_pe()).dump_info())
    assert not looks_like_dump("3:abc:def\n")
    assert not looks_like_dump("----------DOS_HEADER----------\nno fields\n")


def test_parse_dump_keys_fields_by_offset_and_name() -> None:
    blocks = parse_dump(pefile.PE(data=build_pe(timestamp=0x1234)).dump_info())
    assert {"DOS_HEADER", "NT_HEADERS", "FILE_HEADER", "OPTIONAL_HEADER", "PE Sections", "Directories"} <= set(blocks)
    assert blocks["FILE_HEADER"].fields[(0x88, "TimeDateStamp")] == "0x1234"  # the date after it is presentation
    assert ("IMAGE_FILE_HEADER", 0x84) in blocks["FILE_HEADER"].structures


@pytest.mark.parametrize("name", ["t32", "t64"])
def test_real_dumps_from_pefile_2018_and_2024_differ_only_by_drift(name: str) -> None:
    result = compare_dumps(dump(f"{name}-pefile-2018.8.8.txt"), dump(f"{name}-pefile-2024.8.26.txt"))
    assert result.verdict == "drift", result.mismatches
    # CodeView signature printed as text rather than hex, GUID split differently
    assert any(
        "CvSignature: shipped '0x53445352', recomputed 'RSDS'" in message
        for message in result.drift["Debug information"]
    )
    if name == "t32":
        assert "0xFBCE: field Reserved1 is called DependentLoadFlags by this pefile" in result.drift["LOAD_CONFIG"]
    else:
        assert "Unwind data for exception handling" in result.drift  # a block pefile added in 2021


@pytest.mark.parametrize("name", ["t32", "t64"])
def test_same_version_is_identical(name: str) -> None:
    text = dump(f"{name}-pefile-2024.8.26.txt")
    assert compare_dumps(text, text).verdict == "identical"


def test_a_changed_header_value_is_a_mismatch() -> None:
    old = dump("t32-pefile-2018.8.8.txt")
    tampered = old.replace("AddressOfEntryPoint:           0x", "AddressOfEntryPoint:           0x1", 1)
    assert tampered != old
    result = compare_dumps(tampered, dump("t32-pefile-2024.8.26.txt"))
    assert result.verdict == "mismatch"
    assert any("AddressOfEntryPoint" in message for message in result.mismatches["OPTIONAL_HEADER"])


def test_a_changed_section_hash_is_a_mismatch() -> None:
    old = dump("t64-pefile-2018.8.8.txt")
    lines = old.splitlines()
    index = next(number for number, line in enumerate(lines) if line.startswith("SHA-256 hash"))
    lines[index] = lines[index][:-4] + "0000"
    result = compare_dumps("\n".join(lines), dump("t64-pefile-2024.8.26.txt"))
    assert result.verdict == "mismatch" and "PE Sections" in result.mismatches


def test_a_truncated_dump_is_a_mismatch() -> None:
    old = dump("t32-pefile-2018.8.8.txt").splitlines()
    result = compare_dumps("\n".join(old[: len(old) // 2]), dump("t32-pefile-2024.8.26.txt"))
    assert result.verdict == "mismatch"


def test_the_dump_of_another_file_is_a_mismatch() -> None:
    result = compare_dumps(dump("t32-pefile-2018.8.8.txt"), dump("t64-pefile-2024.8.26.txt"))
    assert result.verdict == "mismatch"
    assert {"FILE_HEADER", "OPTIONAL_HEADER", "PE Sections"} <= set(result.mismatches)


def test_wsock32_ordinal_names_are_drift() -> None:
    fresh = pefile.PE(data=build_pe(imports=[("WSOCK32.dll", [10, "send"])])).dump_info()
    assert "WSOCK32.dll.inet_addr Ordinal[10]" in fresh
    old = fresh.replace("WSOCK32.dll.inet_addr Ordinal[10]", "WSOCK32.dll.ioctlsocket Ordinal[10]")
    result = compare_dumps(old, fresh)
    assert result.verdict == "drift"
    assert "ordinal 10: named ioctlsocket in the shipped dump, inet_addr" in result.drift["Imported symbols"][0]
    renamed_import = fresh.replace("WSOCK32.dll.send Hint", "WSOCK32.dll.recv Hint")
    assert compare_dumps(renamed_import, fresh).verdict == "mismatch"


def test_parsing_warnings_and_new_fields_are_drift() -> None:
    fresh = pefile.PE(data=build_pe(machine="amd64")).dump_info()
    old = fresh.replace("Byte 0x00 makes up", "Something else makes up")
    assert compare_dumps(old, fresh).verdict == "drift"
    lines = [line for line in fresh.splitlines() if "SizeOfStackCommit" not in line]
    result = compare_dumps("\n".join(lines), fresh)
    assert result.verdict == "drift"
    assert any("SizeOfStackCommit is new in this pefile" in message for message in result.drift["OPTIONAL_HEADER"])


def test_details_are_bounded() -> None:
    result = compare_dumps(dump("t32-pefile-2018.8.8.txt"), dump("t64-pefile-2024.8.26.txt"))
    details = result.to_details()
    assert details["verdict"] == "mismatch"
    assert all(len(messages) <= 8 for messages in details["mismatch_blocks"].values())
