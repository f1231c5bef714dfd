"""A small, dependency-free writer of harmless but valid PE files, for tests, benchmarks and the sample dataset.

The files are never executed: the code section holds a single ``ret`` unless the caller says otherwise. What
matters is that pefile (and any PE parser) sees a well-formed image with exactly the imports asked for, so
that imphash and impfuzzy can be checked against known pre-images.

Layout of a built file (offsets are file offsets; RVAs start at ``0x1000`` and advance by ``0x1000`` per
section)::

    0x000  DOS header + tiny stub        e_lfanew = 0x80
    0x080  "PE\\0\\0", COFF header, optional header (PE32 or PE32+), section table
    ....   bound-import directory (only when ``bound``; pefile reads it by file offset, as Windows does,
           so it lives in the headers where RVA == file offset)
    0x200+ .text   (code: ``ret``)
           .rdata  (only with imports: IAT, import descriptors, ILTs, hint/name entries, DLL names)
           caller's extra sections
           overlay (``extra``)

Binding (``bound``) mimics what BIND.EXE does to an image: each IAT slot holds a made-up address in the
imported DLL instead of a copy of the ILT entry, the descriptor's TimeDateStamp is ``0xFFFFFFFF`` and a
bound-import directory names the DLLs. Slots left unbound keep the ILT value, as forwarded functions do in
real bound images; that is what impfuzzy's bound-IAT rule looks at.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from mk2ds.plugins.synthetic.pe_signature import signed_data_blob

__all__ = ["MACHINES", "SECTION_CODE", "SECTION_DATA", "SECTION_READONLY", "Section", "build_pe", "signed_data_blob"]

MACHINES: dict[str, int] = {"i386": 0x014C, "amd64": 0x8664}

FILE_ALIGNMENT = 0x200
SECTION_ALIGNMENT = 0x1000
DOS_STUB_END = 0x80

#: Section characteristics: code (execute/read), initialized read-only data, initialized read-write data.
SECTION_CODE = 0x60000020
SECTION_READONLY = 0x40000040
SECTION_DATA = 0xC0000040

IMPORT_DIRECTORY = 1
SECURITY_DIRECTORY = 4
BOUND_IMPORT_DIRECTORY = 11
IAT_DIRECTORY = 12

ImportSpec = Sequence[tuple[str, Sequence["str | int"]]]


@dataclass(frozen=True)
class Section:
    """An extra section: its name (at most 8 ASCII bytes), its raw data and its characteristics."""

    name: str
    data: bytes
    characteristics: int = SECTION_DATA
    virtual_size: int | None = None  # defaults to len(data)
    #: Map the raw data of an earlier section instead of having its own (overlapping sections, as packers
    #: and hostile files make); ``data`` is then ignored for the file layout.
    alias_of: str | None = None


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


def _dos_header() -> bytes:
    header = bytearray(DOS_STUB_END)
    header[0:2] = b"MZ"
    struct.pack_into("<HHHHHHHHHH", header, 2, 0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0)
    struct.pack_into("<H", header, 0x18, 0x40)  # e_lfarlc
    struct.pack_into("<I", header, 0x3C, DOS_STUB_END)  # e_lfanew
    stub = b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
    header[0x40 : 0x40 + len(stub)] = stub
    return bytes(header)


@dataclass
class _ImportTables:
    """The .rdata content and the directory entries that point into it."""

    data: bytes
    import_rva: int
    import_size: int
    iat_rva: int
    iat_size: int
    bound_dlls: list[str]


def _import_tables(
    imports: ImportSpec,
    base_rva: int,
    pe32_plus: bool,
    bound: bool | Mapping[str, Sequence[bool]],
    bound_address: int | None,
) -> _ImportTables:
    thunk_size = 8 if pe32_plus else 4
    ordinal_flag = 1 << 63 if pe32_plus else 1 << 31
    thunk_format = "<Q" if pe32_plus else "<I"

    # Sizes first, so every RVA is known before anything is written.
    iat_size = sum((len(functions) + 1) * thunk_size for _, functions in imports)
    descriptors_size = (len(imports) + 1) * 20
    ilt_size = iat_size
    descriptors_rva = base_rva + iat_size
    ilt_rva = descriptors_rva + descriptors_size
    names_rva = ilt_rva + ilt_size

    iat = bytearray()
    ilt = bytearray()
    descriptors = bytearray()
    names = bytearray()
    bound_dlls: list[str] = []
    fake_address = bound_address if bound_address is not None else (0x7FF800000000 if pe32_plus else 0x7C800000)

    def add_name(blob: bytes) -> int:
        rva = names_rva + len(names)
        names.extend(blob)
        if len(names) % 2:
            names.append(0)
        return rva

    hint_rvas: list[list[int | None]] = []
    for _, functions in imports:
        row: list[int | None] = []
        for hint, function in enumerate(functions):
            if isinstance(function, int):
                row.append(None)
            else:
                row.append(add_name(struct.pack("<H", hint) + function.encode("ascii") + b"\0"))
        hint_rvas.append(row)

    for (dll, functions), row in zip(imports, hint_rvas, strict=True):
        dll_rva = add_name(dll.encode("ascii") + b"\0")
        if isinstance(bound, Mapping):
            flags = list(bound.get(dll, [False] * len(functions)))
        else:
            flags = [bound] * len(functions)
        flags += [False] * (len(functions) - len(flags))
        dll_bound = any(flags)
        if dll_bound:
            bound_dlls.append(dll)
        this_ilt_rva = ilt_rva + len(ilt)
        this_iat_rva = base_rva + len(iat)
        for function, hint_rva, is_bound in zip(functions, row, flags, strict=True):
            value = ordinal_flag | (function & 0xFFFF) if isinstance(function, int) else hint_rva
            assert value is not None
            ilt += struct.pack(thunk_format, value)
            if is_bound:
                fake_address += 0x10
                iat += struct.pack(thunk_format, fake_address)
            else:
                iat += struct.pack(thunk_format, value)
        ilt += bytes(thunk_size)
        iat += bytes(thunk_size)
        timestamp = 0xFFFFFFFF if dll_bound else 0
        descriptors += struct.pack("<IIIII", this_ilt_rva, timestamp, 0, dll_rva, this_iat_rva)
    descriptors += bytes(20)

    data = bytes(iat) + bytes(descriptors) + bytes(ilt) + bytes(names)
    return _ImportTables(data, descriptors_rva, descriptors_size, base_rva, iat_size, bound_dlls)


def _bound_import_directory(dlls: Sequence[str], timestamp: int) -> bytes:
    """IMAGE_BOUND_IMPORT_DESCRIPTOR entries (module-name offsets are relative to the directory start)."""
    header_size = (len(dlls) + 1) * 8
    entries = bytearray()
    names = bytearray()
    for dll in dlls:
        entries += struct.pack("<IHH", timestamp, header_size + len(names), 0)
        names += dll.encode("ascii") + b"\0"
    entries += bytes(8)
    return bytes(entries + names)


def build_pe(
    *,
    machine: Literal["i386", "amd64"] = "i386",
    imports: ImportSpec = (),
    bound: bool | Mapping[str, Sequence[bool]] = False,
    sections: Sequence[Section] = (),
    timestamp: int = 0x5A000000,
    extra: bytes = b"",
    code: bytes = b"\xc3",
    dll: bool = False,
    subsystem: int = 2,
    certificate: bytes | None = None,
    data_directories: Mapping[int, str] | None = None,
    bound_address: int | None = None,
) -> bytes:
    """Return the bytes of a valid, harmless PE image.

    :param machine: ``"i386"`` (PE32) or ``"amd64"`` (PE32+).
    :param imports: ``[(dll_name, [function_name_or_ordinal, ...]), ...]`` in file order; an ``int`` is an
        import by ordinal. A DLL with an empty list gets a descriptor with an empty thunk table.
    :param bound: ``True`` binds every import; a mapping ``{dll_name: [bound?, ...]}`` binds only the flagged
        imports (missing DLLs and missing positions stay unbound).
    :param bound_address: the first made-up address written into bound IAT slots (default: a typical
        system-DLL address). pefile discards an IAT whose values spread over more than 128 MiB, so a partly
        bound table is only visible to pefile when these addresses lie near the ILT's RVAs.
    :param sections: extra sections, appended after ``.text`` and ``.rdata``.
    :param timestamp: the COFF TimeDateStamp (also used for the bound-import entries).
    :param extra: an overlay appended after the last section.
    :param code: the content of ``.text`` (a single ``ret`` by default).
    :param dll: set IMAGE_FILE_DLL in the characteristics.
    :param subsystem: 2 = Windows GUI, 3 = console.
    :param certificate: raw WIN_CERTIFICATE content (a PKCS#7 SignedData blob); it is wrapped in a
        WIN_CERTIFICATE header, placed after ``extra`` and pointed to by the security directory.
    :param data_directories: ``{directory index: section name}``: point a data directory at the whole
        content of a section (for example ``{5: ".reloc"}`` for base relocations).
    """
    if machine not in MACHINES:
        raise ValueError(f"unknown machine {machine!r}; expected one of {sorted(MACHINES)}")
    pe32_plus = machine == "amd64"
    optional_header_size = 0xF0 if pe32_plus else 0xE0
    section_plan: list[Section] = [Section(".text", code, SECTION_CODE)]

    rdata_rva = SECTION_ALIGNMENT + _align(max(len(code), 1), SECTION_ALIGNMENT)
    tables = _import_tables(imports, rdata_rva, pe32_plus, bound, bound_address) if imports else None
    if tables is not None:
        section_plan.append(Section(".rdata", tables.data, SECTION_READONLY))
    section_plan.extend(sections)

    headers_end = DOS_STUB_END + 4 + 20 + optional_header_size + 40 * len(section_plan)
    bound_directory = b""
    bound_offset = 0
    if tables is not None and tables.bound_dlls:
        bound_offset = headers_end
        bound_directory = _bound_import_directory(tables.bound_dlls, timestamp)
        headers_end += len(bound_directory)
    size_of_headers = _align(headers_end, FILE_ALIGNMENT)

    layout = _place_sections(section_plan, size_of_headers)
    if tables is not None:
        assert layout.placements[1][1] == rdata_rva

    directories = _data_directories(layout, tables, bound_offset, len(bound_directory), data_directories)
    certificate_blob = b""
    if certificate is not None:
        certificate_blob = _win_certificate(certificate)
        certificate_offset = _align(layout.end_of_sections + len(extra), 8)
        directories[SECURITY_DIRECTORY] = (certificate_offset, len(certificate_blob))

    characteristics = 0x0002 | (0x0020 if pe32_plus else 0x0100) | (0x2000 if dll else 0)
    file_header = struct.pack(
        "<HHIIIHH",
        MACHINES[machine],
        len(section_plan),
        timestamp & 0xFFFFFFFF,
        0,
        0,
        optional_header_size,
        characteristics,
    )
    optional = _optional_header(pe32_plus, layout, rdata_rva, size_of_headers, subsystem, directories)
    assert len(optional) == optional_header_size

    image = bytearray(_dos_header())
    image += b"PE\0\0" + file_header + optional + _section_table(layout) + bound_directory
    image += bytes(size_of_headers - len(image))
    for section, _, raw_offset, raw_size in layout.placements:
        if section.alias_of is not None:
            continue
        assert len(image) == raw_offset
        image += section.data + bytes(raw_size - len(section.data))
    image += extra
    if certificate_blob:
        image += bytes(_align(len(image), 8) - len(image)) + certificate_blob
    return bytes(image)


@dataclass(frozen=True)
class _Layout:
    """Where each section lies: ``placements`` are (section, rva, raw offset, raw size) in table order."""

    placements: list[tuple[Section, int, int, int]]
    raw_places: dict[str, tuple[int, int, int]]  # name: raw offset, raw size, data length
    size_of_image: int
    end_of_sections: int  # file offset after the last section's raw data


def _place_sections(section_plan: Sequence[Section], size_of_headers: int) -> _Layout:
    """Raw data aligned to FILE_ALIGNMENT, RVAs to SECTION_ALIGNMENT; an alias shares its target's bytes."""
    placements: list[tuple[Section, int, int, int]] = []
    raw_places: dict[str, tuple[int, int, int]] = {}
    rva = SECTION_ALIGNMENT
    offset = size_of_headers
    for section in section_plan:
        if section.alias_of is not None:
            if section.alias_of not in raw_places:
                raise ValueError(f"section {section.name!r} aliases unknown section {section.alias_of!r}")
            raw_offset, raw_size, length = raw_places[section.alias_of]
            placements.append((section, rva, raw_offset, raw_size))
            rva += _align(max(section.virtual_size or 0, length, 1), SECTION_ALIGNMENT)
            continue
        raw_size = _align(len(section.data), FILE_ALIGNMENT)
        placements.append((section, rva, offset, raw_size))
        raw_places[section.name] = (offset, raw_size, len(section.data))
        virtual = max(section.virtual_size or 0, len(section.data), 1)
        rva += _align(virtual, SECTION_ALIGNMENT)
        offset += raw_size
    return _Layout(placements, raw_places, rva, offset)


def _data_directories(
    layout: _Layout,
    tables: _ImportTables | None,
    bound_offset: int,
    bound_size: int,
    data_directories: Mapping[int, str] | None,
) -> list[tuple[int, int]]:
    """The 16 (address, size) data directory entries: imports, IAT, bound imports, and the asked-for ones."""
    directories = [(0, 0)] * 16
    if tables is not None:
        directories[IMPORT_DIRECTORY] = (tables.import_rva, tables.import_size)
        directories[IAT_DIRECTORY] = (tables.iat_rva, tables.iat_size)
        if bound_size:
            directories[BOUND_IMPORT_DIRECTORY] = (bound_offset, bound_size)
    for index, section_name in (data_directories or {}).items():
        matches = [(rva, section) for section, rva, _, _ in layout.placements if section.name == section_name]
        if not matches:
            raise ValueError(f"data directory {index} names unknown section {section_name!r}")
        directories[index] = (matches[0][0], len(matches[0][1].data))
    return directories


def _win_certificate(certificate: bytes) -> bytes:
    """A WIN_CERTIFICATE (revision 2, PKCS#7) around ``certificate``, padded to 8 bytes."""
    length = 8 + len(certificate)
    blob = struct.pack("<IHH", length, 0x0200, 0x0002) + certificate
    return blob + bytes(_align(length, 8) - length)


def _optional_header(
    pe32_plus: bool,
    layout: _Layout,
    rdata_rva: int,
    size_of_headers: int,
    subsystem: int,
    directories: Sequence[tuple[int, int]],
) -> bytes:
    """IMAGE_OPTIONAL_HEADER32 or IMAGE_OPTIONAL_HEADER64, data directories included."""
    code_size = sum(raw for section, _, _, raw in layout.placements if section.characteristics & 0x20)
    data_size = sum(raw for section, _, _, raw in layout.placements if section.characteristics & 0x40)
    if pe32_plus:
        optional = struct.pack(
            "<HBBIIIIIQIIHHHHHHIIIIHHQQQQII",
            0x20B, 14, 0, code_size, data_size, 0, SECTION_ALIGNMENT, SECTION_ALIGNMENT,
            0x140000000, SECTION_ALIGNMENT, FILE_ALIGNMENT, 6, 0, 0, 0, 6, 0, 0,
            layout.size_of_image, size_of_headers, 0, subsystem, 0x8160,
            0x100000, 0x1000, 0x100000, 0x1000, 0, 16,
        )  # fmt: skip
    else:
        optional = struct.pack(
            "<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
            0x10B, 14, 0, code_size, data_size, 0, SECTION_ALIGNMENT, SECTION_ALIGNMENT, rdata_rva,
            0x400000, SECTION_ALIGNMENT, FILE_ALIGNMENT, 6, 0, 0, 0, 6, 0, 0,
            layout.size_of_image, size_of_headers, 0, subsystem, 0x8140,
            0x100000, 0x1000, 0x100000, 0x1000, 0, 16,
        )  # fmt: skip
    return optional + b"".join(struct.pack("<II", address, size) for address, size in directories)


def _section_table(layout: _Layout) -> bytes:
    """One IMAGE_SECTION_HEADER per placed section."""
    table = bytearray()
    for section, section_rva, raw_offset, raw_size in layout.placements:
        name = section.name.encode("ascii")
        if len(name) > 8:
            raise ValueError(f"section name {section.name!r} is longer than 8 bytes")
        length = layout.raw_places[section.alias_of][2] if section.alias_of else len(section.data)
        virtual = section.virtual_size if section.virtual_size is not None else max(length, 1)
        table += struct.pack(
            "<8sIIIIIIHHI", name, virtual, section_rva, raw_size, raw_offset, 0, 0, 0, 0, section.characteristics
        )
    return bytes(table)
