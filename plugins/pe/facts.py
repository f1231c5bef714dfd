"""PE facts for one file's bytes: what ``mk2ds pe`` reports and what ``verify --samples`` compares.

This module does the parsing; it runs inside the guarded child process (:mod:`mk2ds.plugins.pe.guard`), so
every function here must be safe to kill at any moment and must not touch the file system.

Two depths:

``analyze(data)``
    headers, sections, import directory and the security directory only (pefile ``fast_load``): machine,
    timestamp, sections with entropy, imports, imphash, impfuzzy and its input string, signer.
``analyze(data, dump_info=True)``
    the same plus a full pefile load and its ``dump_info()`` text (what the dataset's ``PEfile/`` holds).
    A full load parses every data directory, which is where hostile files hang or explode.
"""

from __future__ import annotations

import datetime
import hashlib
import struct
from typing import TYPE_CHECKING, Any

from mk2ds.plugins.pe import impfuzzy
from mk2ds.plugins.pe.authenticode import security_blob, signer_of

if TYPE_CHECKING:
    import pefile  # imported where it is used: start-up of commands that need no PE stays fast

__all__ = ["MACHINE_NAMES", "analyze", "base_document", "file_hashes", "pe_signature_offset", "tools"]

MACHINE_NAMES = {0x014C: "i386", 0x8664: "amd64", 0x01C4: "arm", 0xAA64: "arm64", 0x0200: "ia64"}
SECURITY_DIRECTORY = 4
IMPORT_DIRECTORY = 1
#: Start of the warning added when pefile drops a whole import table (``pe-imports-unread``).
IMPORTS_UNREAD = "mk2ds: the import directory holds descriptors, but pefile read no import from it"


def tools() -> dict[str, Any]:
    """The versions that affect results; recorded in every document."""
    return {
        "pefile": impfuzzy.pefile_version(),
        "ssdeep": {"implementation": impfuzzy.SSDEEP_IMPLEMENTATION, "version": impfuzzy.ssdeep_version()},
    }


def file_hashes(data: bytes) -> dict[str, str]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "md5": hashlib.md5(data).hexdigest(),
    }


def base_document(name: str, data: bytes) -> dict[str, Any]:
    """The part of a file's document that needs no parsing (filled in by the parent process)."""
    return {"name": name, "size": len(data), **file_hashes(data), "tools": tools()}


def pe_signature_offset(data: bytes) -> int | None:
    """The offset of ``PE\\0\\0`` when the file has an MZ header pointing at one, else ``None``."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    (e_lfanew,) = struct.unpack_from("<I", data, 0x3C)
    if e_lfanew + 4 > len(data) or data[e_lfanew : e_lfanew + 4] != b"PE\0\0":
        return None
    return e_lfanew


def _not_pe_reason(data: bytes) -> str:
    if len(data) < 2 or data[:2] != b"MZ":
        return "no MZ header"
    if len(data) < 0x40:
        return "MZ header truncated"
    return "MZ header without a PE signature (DOS program or damaged file)"


def _timestamp(value: int) -> str:
    return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _section_name(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("latin-1")


def _sections(pe: pefile.PE, data_size: int) -> tuple[list[dict[str, Any]], bool]:
    sections = []
    truncated = False
    for section in pe.sections:
        raw_end = section.PointerToRawData + section.SizeOfRawData
        if section.SizeOfRawData and raw_end > data_size:
            truncated = True
        sections.append(
            {
                "name": _section_name(section.Name),
                "virtual_address": section.VirtualAddress,
                "virtual_size": section.Misc_VirtualSize,
                "raw_size": section.SizeOfRawData,
                "entropy": round(section.get_entropy(), 6),
                "characteristics": section.Characteristics,
            }
        )
    return sections, truncated


def _signer(pe: pefile.PE, data: bytes) -> dict[str, Any] | None:
    directories = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    if len(directories) <= SECURITY_DIRECTORY:
        return None
    entry = directories[SECURITY_DIRECTORY]
    if not entry.VirtualAddress or not entry.Size:
        return None
    blob = security_blob(data, entry.VirtualAddress, entry.Size)  # the address is a file offset here
    if blob is None:
        return {"present": True, "parsed": False, "error": "security directory does not hold a PKCS#7 certificate"}
    return signer_of(blob)


def _imports_unread(pe: pefile.PE, imports: list[Any]) -> str | None:
    """A warning when the import directory has a descriptor but pefile kept no import.

    pefile skips a DLL whose every function name is invalid (control characters, non-ASCII bytes) and says
    nothing; imphash and impfuzzy then describe a file without imports, which must not look like the truth.
    """
    import pefile

    directories = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    if imports or len(directories) <= IMPORT_DIRECTORY:
        return None
    entry = directories[IMPORT_DIRECTORY]
    if not entry.VirtualAddress or not entry.Size:
        return None
    try:
        first = pe.get_data(entry.VirtualAddress, 20)
    except pefile.PEFormatError:
        first = b""
    if not first.strip(b"\0"):
        return None
    return f"{IMPORTS_UNREAD} (invalid DLL or function names?); imphash and impfuzzy describe no imports"


def analyze(data: bytes, *, dump_info: bool = False) -> dict[str, Any]:
    """Parse a file's bytes; return the PE part of its document (see ``schemas/pe.schema.json``).

    Never raises for bad input: a non-PE file gives ``status: "not-pe"``, a PE file pefile rejects gives
    ``status: "error"`` with code ``pe-malformed``.
    """
    if pe_signature_offset(data) is None:
        return {"status": "not-pe", "not_pe_reason": _not_pe_reason(data)}
    import pefile

    try:
        # dump_info must be exactly what ``pefile.PE(data=...)`` gives: a fast load followed by full_load()
        # skips the whole-file byte-frequency warning, so the full mode parses fully from the start.
        pe = pefile.PE(data=data) if dump_info else impfuzzy.parse_imports_only(data)
    except pefile.PEFormatError as error:
        return {"status": "error", "error": {"code": "pe-malformed", "message": f"pefile: {error.value}"}}
    try:
        text = impfuzzy.import_string(pe)
        sections, truncated = _sections(pe, len(data))
        imports = list(getattr(pe, "DIRECTORY_ENTRY_IMPORT", None) or [])
        machine = pe.FILE_HEADER.Machine
        document: dict[str, Any] = {
            "status": "pe",
            "machine": MACHINE_NAMES.get(machine, f"0x{machine:04x}"),
            "pe_type": "PE32+" if pe.OPTIONAL_HEADER.Magic == pefile.OPTIONAL_HEADER_MAGIC_PE_PLUS else "PE32",
            "is_dll": bool(pe.FILE_HEADER.Characteristics & 0x2000),
            "timestamp": pe.FILE_HEADER.TimeDateStamp,
            "timestamp_utc": _timestamp(pe.FILE_HEADER.TimeDateStamp),
            "sections": sections,
            "truncated": truncated,
            "import_dlls": len(imports),
            "imports_count": sum(len(entry.imports or []) for entry in imports),
            "imphash": pe.get_imphash(),
            "impfuzzy": impfuzzy.fuzzy_hash(text),
            "import_string": text,
            "signer": _signer(pe, data),
        }
        if impfuzzy.uses_wsock32_ordinals(pe):
            legacy = impfuzzy.import_string(pe, legacy_wsock32=True)
            document["impfuzzy_pefile_2023"] = impfuzzy.fuzzy_hash(legacy)
        if dump_info:
            document["dump_info"] = pe.dump_info()
        document["warnings"] = list(pe.get_warnings())
        unread = _imports_unread(pe, imports)
        if unread:
            document["warnings"].append(unread)
        return document
    except pefile.PEFormatError as error:
        return {"status": "error", "error": {"code": "pe-malformed", "message": f"pefile: {error.value}"}}
    # No pe.close(): the data is in memory, and close() runs a full gc.collect() per file.
