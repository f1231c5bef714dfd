"""PE facts of one file: what is reported for PE, non-PE, truncated, malformed and odd files."""

from __future__ import annotations

import struct

import pefile
import pytest

from mk2ds.core.schemas import validate_document
from mk2ds.plugins.pe.facts import analyze, base_document, pe_signature_offset
from mk2ds.plugins.pe.impfuzzy import deterministic_bytes, fuzzy_hash
from mk2ds.plugins.synthetic.pe_builder import Section, build_pe, signed_data_blob

IMPORTS = [("KERNEL32.dll", ["GetProcAddress", "LoadLibraryA"]), ("WS2_32.dll", [1])]


def document(data: bytes, **kwargs: bool) -> dict[str, object]:
    result = {**base_document("x.bin", data), **analyze(data, **kwargs)}
    assert validate_document(result, "pe") == []
    return result


def test_facts_of_a_32_bit_executable() -> None:
    data = build_pe(imports=IMPORTS, timestamp=0x5A5A5A5A, sections=[Section(".data", deterministic_bytes("d", 4096))])
    facts = document(data)
    assert facts["status"] == "pe"
    assert (facts["machine"], facts["pe_type"], facts["is_dll"]) == ("i386", "PE32", False)
    assert (facts["timestamp"], facts["timestamp_utc"]) == (0x5A5A5A5A, "2018-01-13T19:13:30Z")
    assert [section["name"] for section in facts["sections"]] == [".text", ".rdata", ".data"]  # type: ignore[attr-defined,index]
    data_section = facts["sections"][2]  # type: ignore[index]
    assert data_section["raw_size"] == 4096 and data_section["entropy"] > 7.9
    assert facts["import_string"] == "kernel32.getprocaddress,kernel32.loadlibrarya,ws2_32.accept"
    assert facts["impfuzzy"] == fuzzy_hash("kernel32.getprocaddress,kernel32.loadlibrarya,ws2_32.accept")
    assert facts["imphash"] == pefile.PE(data=data).get_imphash()
    assert (facts["imports_count"], facts["import_dlls"]) == (3, 2)
    assert facts["signer"] is None and facts["truncated"] is False
    assert "impfuzzy_pefile_2023" not in facts
    assert facts["tools"] == {
        "pefile": pefile.__version__,
        "ssdeep": {"implementation": "ppdeep", "version": "20260221"},
    }


def test_facts_of_a_64_bit_dll_with_signer_and_wsock32_ordinals() -> None:
    data = build_pe(
        machine="amd64", dll=True, imports=[("WSOCK32.dll", [10])], certificate=signed_data_blob("Signer", "CA")
    )
    facts = document(data)
    assert (facts["machine"], facts["pe_type"], facts["is_dll"]) == ("amd64", "PE32+", True)
    assert facts["signer"]["subject"] == {"CN": "Signer"}  # type: ignore[index]
    assert facts["signer"]["verified"] is False  # type: ignore[index]
    assert facts["impfuzzy_pefile_2023"] == fuzzy_hash("wsock32.ioctlsocket")
    assert facts["impfuzzy"] == fuzzy_hash("wsock32.inet_addr")


def test_a_security_directory_without_pkcs7_is_reported_not_parsed() -> None:
    data = bytearray(build_pe(certificate=b"not der at all"))
    facts = document(bytes(data))
    assert facts["signer"]["parsed"] is False  # type: ignore[index]
    # a WIN_CERTIFICATE of another type (X.509, 0x0001) is named as such
    offset = pefile.PE(data=bytes(data)).OPTIONAL_HEADER.DATA_DIRECTORY[4].VirtualAddress
    struct.pack_into("<H", data, offset + 6, 0x0001)
    assert "PKCS#7" in document(bytes(data))["signer"]["error"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no MZ header"),
        (b"#!/bin/sh\necho hi\n", "no MZ header"),
        (b"MZ" + b"\0" * 10, "MZ header truncated"),
        (
            b"MZ" + b"\0" * 0x3A + struct.pack("<I", 0x40) + b"NE\0\0" + b"\0" * 64,
            "MZ header without a PE signature (DOS program or damaged file)",
        ),
        (
            b"MZ" + b"\0" * 0x3A + struct.pack("<I", 0xFFFFFFF0),
            "MZ header without a PE signature (DOS program or damaged file)",
        ),
    ],
)
def test_non_pe_files_are_reported_as_such(data: bytes, reason: str) -> None:
    facts = document(data)
    assert facts["status"] == "not-pe" and facts["not_pe_reason"] == reason
    assert pe_signature_offset(data) is None


def test_pe_signature_but_broken_headers_is_malformed() -> None:
    data = build_pe(imports=IMPORTS)[:0x90]  # cut inside the COFF header
    facts = document(data)
    assert facts["status"] == "error"
    assert facts["error"]["code"] == "pe-malformed"  # type: ignore[index]
    assert facts["error"]["message"].startswith("pefile: ")  # type: ignore[index]


def test_truncated_file_is_flagged_and_still_analyzed() -> None:
    data = build_pe(imports=IMPORTS, sections=[Section(".data", b"x" * 5000)])
    facts = document(data[: len(data) - 3000])
    assert facts["status"] == "pe" and facts["truncated"] is True
    assert facts["import_string"] == "kernel32.getprocaddress,kernel32.loadlibrarya,ws2_32.accept"


def test_absurd_sizes_do_not_break_analysis() -> None:
    data = bytearray(build_pe(imports=IMPORTS))
    pe = pefile.PE(data=bytes(data), fast_load=True)
    text_header = pe.sections[0].get_file_offset()
    struct.pack_into("<I", data, text_header + 16, 0xFFFFFF00)  # SizeOfRawData of .text
    struct.pack_into("<I", data, text_header + 8, 0x7FFFFFFF)  # VirtualSize of .text
    size_of_image = pe.OPTIONAL_HEADER.get_file_offset() + 56
    struct.pack_into("<I", data, size_of_image, 0xFFFFFFFF)
    facts = document(bytes(data))
    assert facts["status"] == "pe"
    assert facts["sections"][0]["raw_size"] == 0xFFFFFF00  # type: ignore[index]
    assert facts["truncated"] is True
    assert facts["import_string"].startswith("kernel32.")  # type: ignore[union-attr]


def test_dump_info_is_exactly_pefiles() -> None:
    data = build_pe(machine="amd64", imports=IMPORTS)
    facts = document(data, dump_info=True)
    assert facts["dump_info"] == pefile.PE(data=data).dump_info()
    assert "Byte 0x00 makes up" in facts["dump_info"]  # the full-load warning a fast load would miss
    assert facts["import_string"] == document(data)["import_string"]


def test_no_imports() -> None:
    facts = document(build_pe())
    assert (facts["import_string"], facts["impfuzzy"], facts["imphash"], facts["imports_count"]) == ("", "3::", "", 0)
