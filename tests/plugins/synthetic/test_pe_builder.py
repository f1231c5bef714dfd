"""The PE builder writes files that pefile parses exactly as asked (it is the basis of every other PE test)."""

from __future__ import annotations

import struct

import pefile
import pytest

from mk2ds.plugins.pe.authenticode import signer_of
from mk2ds.plugins.synthetic.pe_builder import SECTION_CODE, Section, build_pe, signed_data_blob

IMPORTS = [("KERNEL32.dll", ["GetProcAddress", "LoadLibraryA"]), ("WS2_32.dll", [1, 23]), ("foo.exe", ["Bar"])]


def imports_of(pe: pefile.PE) -> list[tuple[bytes, list[tuple[bytes | None, int | None, bool]]]]:
    return [
        (
            entry.dll,
            [
                (symbol.name, symbol.ordinal if symbol.import_by_ordinal else None, symbol.struct_iat is not None)
                for symbol in entry.imports
            ],
        )
        for entry in pe.DIRECTORY_ENTRY_IMPORT
    ]


@pytest.mark.parametrize(("machine", "magic", "code"), [("i386", 0x10B, 0x14C), ("amd64", 0x20B, 0x8664)])
def test_headers_for_both_machines(machine: str, magic: int, code: int) -> None:
    data = build_pe(machine=machine, imports=IMPORTS, timestamp=0x12345678)  # type: ignore[arg-type]
    pe = pefile.PE(data=data)
    assert pe.FILE_HEADER.Machine == code
    assert pe.OPTIONAL_HEADER.Magic == magic
    assert pe.FILE_HEADER.TimeDateStamp == 0x12345678
    assert [section.Name.rstrip(b"\0") for section in pe.sections] == [b".text", b".rdata"]
    assert pe.sections[0].get_data()[:1] == b"\xc3"  # a single ret, nothing else runs
    assert not [warning for warning in pe.get_warnings() if "Byte 0x00" not in warning and "packed" not in warning]


def test_named_and_ordinal_imports_in_file_order() -> None:
    pe = pefile.PE(data=build_pe(imports=IMPORTS))
    assert imports_of(pe) == [
        (b"KERNEL32.dll", [(b"GetProcAddress", None, False), (b"LoadLibraryA", None, False)]),
        (b"WS2_32.dll", [(b"accept", 1, False), (b"socket", 23, False)]),  # pefile names ws2_32 ordinals
        (b"foo.exe", [(b"Bar", None, False)]),
    ]


def test_no_imports_means_no_import_directory() -> None:
    pe = pefile.PE(data=build_pe())
    assert not hasattr(pe, "DIRECTORY_ENTRY_IMPORT")
    assert len(pe.sections) == 1


def test_bound_imports_fill_the_iat_and_the_bound_directory() -> None:
    pe = pefile.PE(data=build_pe(imports=IMPORTS, bound=True))
    assert all(bound for _, symbols in imports_of(pe) for _, _, bound in symbols)
    assert [entry.name for entry in pe.DIRECTORY_ENTRY_BOUND_IMPORT] == [b"KERNEL32.dll", b"WS2_32.dll", b"foo.exe"]
    assert all(entry.struct.TimeDateStamp == 0xFFFFFFFF for entry in pe.DIRECTORY_ENTRY_IMPORT)


def test_partly_bound_dll_keeps_ilt_values_for_unbound_slots() -> None:
    pe = pefile.PE(data=build_pe(imports=IMPORTS, bound={"KERNEL32.dll": [True, False]}, bound_address=0x10000))
    kernel32 = imports_of(pe)[0][1]
    assert [bound for _, _, bound in kernel32] == [True, False]
    assert [entry.name for entry in pe.DIRECTORY_ENTRY_BOUND_IMPORT] == [b"KERNEL32.dll"]


def test_pefile_ignores_a_partly_bound_iat_with_far_addresses() -> None:
    """Real system-DLL addresses next to RVAs exceed pefile's 128 MiB spread check: the IAT is dropped."""
    pe = pefile.PE(data=build_pe(imports=IMPORTS, bound={"KERNEL32.dll": [True, False]}))
    assert [bound for _, _, bound in imports_of(pe)[0][1]] == [False, False]


def test_extra_sections_aliases_data_directories_and_overlay() -> None:
    reloc = struct.pack("<II", 0x1000, 12) + struct.pack("<HH", 0x3010, 0x3020)
    data = build_pe(
        sections=[
            Section(".reloc", reloc, 0x42000040),
            Section(".alias", b"", alias_of=".reloc"),
            Section(".code2", b"\xc3" * 3, SECTION_CODE),
        ],
        data_directories={5: ".reloc"},
        extra=b"OVERLAY!",
    )
    pe = pefile.PE(data=data)
    names = [section.Name.rstrip(b"\0") for section in pe.sections]
    assert names == [b".text", b".reloc", b".alias", b".code2"]
    assert pe.sections[1].PointerToRawData == pe.sections[2].PointerToRawData
    assert pe.sections[1].VirtualAddress != pe.sections[2].VirtualAddress
    assert [entry.rva for entry in pe.DIRECTORY_ENTRY_BASERELOC[0].entries] == [0x1010, 0x1020]
    assert pe.get_overlay() == b"OVERLAY!"


def test_unknown_alias_or_directory_section_is_refused() -> None:
    with pytest.raises(ValueError, match="aliases unknown section"):
        build_pe(sections=[Section(".a", b"", alias_of=".nope")])
    with pytest.raises(ValueError, match="unknown section"):
        build_pe(data_directories={5: ".nope"})
    with pytest.raises(ValueError, match="unknown machine"):
        build_pe(machine="mips")  # type: ignore[arg-type]


def test_certificate_lands_in_the_security_directory() -> None:
    blob = signed_data_blob("Example Signer", "Example CA", serial=0xABCD, organization="Example Ltd")
    data = build_pe(imports=IMPORTS, certificate=blob, extra=b"x" * 3)
    pe = pefile.PE(data=data)
    directory = pe.OPTIONAL_HEADER.DATA_DIRECTORY[4]
    assert directory.VirtualAddress % 8 == 0 and directory.VirtualAddress + directory.Size == len(data)
    length, revision, kind = struct.unpack_from("<IHH", data, directory.VirtualAddress)
    assert (revision, kind) == (0x0200, 0x0002)
    signer = signer_of(data[directory.VirtualAddress + 8 : directory.VirtualAddress + length])
    assert signer["subject"] == {"CN": "Example Signer", "O": "Example Ltd"}
    assert signer["issuer"] == {"CN": "Example CA"}
    assert signer["serial"] == "00abcd"


def test_output_is_deterministic_and_parameters_change_the_hash() -> None:
    assert build_pe(imports=IMPORTS) == build_pe(imports=IMPORTS)
    assert build_pe(imports=IMPORTS) != build_pe(imports=IMPORTS, timestamp=1)
    assert build_pe(imports=IMPORTS) != build_pe(imports=IMPORTS, extra=b"\0")
