"""Understand the dataset's shipped ``impfuzzy/`` and ``PEfile/`` files and compare them with recomputed ones.

Neither format is documented, so reading is liberal:

* an impfuzzy file is any text that contains an ssdeep hash (``blocksize:part1:part2`` with a block size of
  the form 3·2^n); several hashes are all kept, and any of them may match;
* a PEfile file is pefile ``dump_info()`` text: ``----------TITLE----------`` blocks of
  ``file_offset struct_offset Field: value`` lines and free text lines.

The PEfile comparison is version-aware (``docs/impfuzzy.md``): a field is identified by its *file offset* and
name, so a field pefile renamed between versions (``Reserved1`` → ``DependentLoadFlags``) or added
(``GuardEHContinuationTable``), a whole block added later ("Unwind data for exception handling") or a value
merely printed differently (``CvSignature`` as text rather than hex) is *drift*. A different value for the
same field at the same offset, or different section hashes or imports, means the dump is not of this file:
a *mismatch*.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DumpComparison", "compare_dumps", "find_ssdeep_hashes", "looks_like_dump", "parse_dump"]

SSDEEP_CANDIDATE = re.compile(r"(?<![\w+/:])(\d{1,10}):([A-Za-z0-9+/]{0,64}):([A-Za-z0-9+/]{0,64})(?![\w+/:])")
BLOCK_TITLE = re.compile(r"^-{5,}\s*(.+?)\s*-{5,}\s*$")
FIELD_LINE = re.compile(r"^\s*(0x[0-9A-Fa-f]+)\s+(0x[0-9A-Fa-f]+)\s+([A-Za-z_][\w.]*):\s*(.*?)\s*$")
STRUCTURE_LINE = re.compile(r"^\s*\[([A-Za-z_][\w ]*)\]\s*$")
#: An import by ordinal that pefile named from its ordinal tables (names change between pefile versions).
NAMED_ORDINAL_LINE = re.compile(
    r"^(?i:(ws2_32\.dll|wsock32\.dll|oleaut32\.dll))\.(\S+) (Ordinal\[(\d+)\] \(Imported by Ordinal\))$"
)

#: Blocks whose differences identify a different file: headers, section table and section hashes, imports.
IDENTITY_BLOCKS = frozenset(
    {
        "DOS_HEADER",
        "NT_HEADERS",
        "FILE_HEADER",
        "OPTIONAL_HEADER",
        "PE Sections",
        "Imported symbols",
        "Exported symbols",
    }
)
#: Blocks whose content depends on the pefile version or is pefile's own commentary.
VERSION_DEPENDENT_BLOCKS = frozenset({"Parsing Warnings", "Unwind data for exception handling", "Version Information"})
#: Fields printed differently by different pefile versions (hex vs text, GUID split).
FORMAT_DRIFT_FIELDS = re.compile(r"^(CvSignature|Signature_Data\d+|Signature_String|Signature)$")
#: Text lines that are pefile's presentation, not the file's content (flag lists grow with pefile versions).
PRESENTATION_LINE = re.compile(r"^(Flags:|DllCharacteristics:|ExDllCharacteristics|Characteristics:|Type:|Entropy:)")
#: Text lines of identity blocks that carry the file's content and must not differ.
CONTENT_LINE = re.compile(r"^(MD5|SHA-1|SHA-256|SHA-512)\s+hash:|^Entropy:|\.")

MAX_EXAMPLES = 8


def _block_size_valid(block_size: int) -> bool:
    while block_size > 3 and block_size % 2 == 0:
        block_size //= 2
    return block_size == 3


def find_ssdeep_hashes(text: str) -> list[str]:
    """Every distinct ssdeep-looking hash in ``text``, in order of appearance.

    Times such as ``12:30:45`` are rejected by the block-size rule; ``3:04:05``-like all-digit pairs too.
    """
    found: list[str] = []
    for match in SSDEEP_CANDIDATE.finditer(text):
        block, first, second = match.groups()
        if not _block_size_valid(int(block)):
            continue
        if first.isdigit() and second.isdigit():
            continue
        value = f"{int(block)}:{first}:{second}"
        if value not in found:
            found.append(value)
    return found


def looks_like_dump(text: str) -> bool:
    """True when ``text`` has at least one pefile block title and one structure field line."""
    has_title = any(BLOCK_TITLE.match(line) for line in text.splitlines()[:200])
    has_field = any(FIELD_LINE.match(line) for line in text.splitlines()[:400])
    return has_title and has_field


@dataclass
class DumpBlock:
    title: str
    fields: dict[tuple[int, str], str] = field(default_factory=dict)  # (file offset, name): value
    text: Counter[str] = field(default_factory=Counter)
    ordinal_names: dict[tuple[str, int], str] = field(default_factory=dict)  # (dll, ordinal): name
    #: Structures by (name, file offset of their first field). pefile versions add fields to structures but
    #: (measured on 44 real PE files, pefile 2018.8.8 to 2024.8.26) never add or drop whole structures.
    structures: set[tuple[str, int]] = field(default_factory=set)


def _normalize(value: str) -> str:
    """Compare numbers as numbers; what pefile prints after a number (a date, flags) is presentation."""
    value = " ".join(value.split())
    number = re.match(r"0x[0-9A-Fa-f]+(?=\s|$)", value)
    if number:
        return hex(int(number.group(0), 16))
    return value


def parse_dump(text: str) -> dict[str, DumpBlock]:
    """Blocks by title (a repeated title gets ``#2``, ``#3``, ...)."""
    blocks: dict[str, DumpBlock] = {}
    current: DumpBlock | None = None
    structure: str | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        title = BLOCK_TITLE.match(line)
        if title:
            name = title.group(1)
            key, number = name, 1
            while key in blocks:
                number += 1
                key = f"{name}#{number}"
            current = blocks[key] = DumpBlock(key)
            structure = None
            continue
        if current is None:
            current = blocks.setdefault("(before first block)", DumpBlock("(before first block)"))
        match = FIELD_LINE.match(line)
        structure_match = STRUCTURE_LINE.match(line)
        if match:
            offset, _struct_offset, name, value = match.groups()
            current.fields[(int(offset, 16), name)] = _normalize(value)
            if structure is not None:
                current.structures.add((structure, int(offset, 16)))
                structure = None
        elif structure_match:
            structure = structure_match.group(1)
        else:
            text = " ".join(line.split())
            named = NAMED_ORDINAL_LINE.match(text)
            if named:
                dll, function, rest, ordinal = named.groups()
                current.ordinal_names[(dll.lower(), int(ordinal))] = function
                text = f"{dll} {rest}"
            current.text[text] += 1
    return blocks


@dataclass
class DumpComparison:
    """The outcome for one dump pair: ``identical``, ``drift`` or ``mismatch``, with explanations per block."""

    verdict: str = "identical"
    mismatches: dict[str, list[str]] = field(default_factory=dict)
    drift: dict[str, list[str]] = field(default_factory=dict)

    def _add(self, bucket: dict[str, list[str]], block: str, message: str) -> None:
        examples = bucket.setdefault(block, [])
        if len(examples) < MAX_EXAMPLES:
            examples.append(message)

    def mismatch(self, block: str, message: str) -> None:
        self.verdict = "mismatch"
        self._add(self.mismatches, block, message)

    def drifted(self, block: str, message: str) -> None:
        if self.verdict == "identical":
            self.verdict = "drift"
        self._add(self.drift, block, message)

    def to_details(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "mismatch_blocks": self.mismatches, "drift_blocks": self.drift}


def _base_title(title: str) -> str:
    return title.split("#", 1)[0]


def _compare_block(name: str, shipped: DumpBlock, fresh: DumpBlock, result: DumpComparison) -> None:
    """Compare one block of two dumps: its fields by file offset, its structures, ordinal names and other lines."""
    drift_only = _base_title(name) in VERSION_DEPENDENT_BLOCKS
    _compare_fields(name, shipped, fresh, result, drift_only)
    if not drift_only:
        for structure, offset in sorted(shipped.structures - fresh.structures, key=lambda item: item[1]):
            result.mismatch(name, f"0x{offset:X}: structure [{structure}] is not in a dump of the sample")
        for structure, offset in sorted(fresh.structures - shipped.structures, key=lambda item: item[1]):
            result.mismatch(name, f"0x{offset:X}: structure [{structure}] is missing from the shipped dump")
    for key, function in shipped.ordinal_names.items():
        fresh_function = fresh.ordinal_names.get(key)
        if fresh_function is not None and fresh_function != function:
            result.drifted(
                name,
                f"{key[0]} ordinal {key[1]}: named {function} in the shipped dump, {fresh_function} by this pefile "
                "(pefile's ordinal tables changed)",
            )
    identity = _base_title(name) in IDENTITY_BLOCKS and not drift_only
    _compare_lines(name, sorted(shipped.text - fresh.text), "shipped line not recomputed", identity, result)
    _compare_lines(name, sorted(fresh.text - shipped.text), "recomputed line not shipped", identity, result)


def _compare_fields(name: str, shipped: DumpBlock, fresh: DumpBlock, result: DumpComparison, drift_only: bool) -> None:
    """Fields are matched by (file offset, name); a renamed, dropped or new field is drift, not a mismatch."""
    shipped_offsets = {offset: key for (offset, key) in shipped.fields}
    fresh_offsets = {offset: key for (offset, key) in fresh.fields}
    for (offset, field_name), value in shipped.fields.items():
        fresh_value = fresh.fields.get((offset, field_name))
        if fresh_value is None:
            renamed = fresh_offsets.get(offset)
            if renamed is not None:
                result.drifted(name, f"0x{offset:X}: field {field_name} is called {renamed} by this pefile")
            else:
                result.drifted(name, f"0x{offset:X}: field {field_name} is not printed by this pefile")
            continue
        if fresh_value == value:
            continue
        message = f"0x{offset:X} {field_name}: shipped {value!r}, recomputed {fresh_value!r}"
        if drift_only or FORMAT_DRIFT_FIELDS.match(field_name):
            result.drifted(name, message)
        else:
            result.mismatch(name, message)
    for offset, field_name in fresh.fields:
        if offset not in shipped_offsets:
            result.drifted(name, f"0x{offset:X}: field {field_name} is new in this pefile")


def _compare_lines(name: str, lines: list[str], what: str, identity: bool, result: DumpComparison) -> None:
    """Lines found on one side only: a mismatch when they carry content of an identity block, else drift."""
    for line in lines:
        if identity and not PRESENTATION_LINE.match(line) and CONTENT_LINE.search(line):
            result.mismatch(name, f"{what}: {line}")
        else:
            result.drifted(name, f"{what}: {line}")


def compare_dumps(shipped_text: str, fresh_text: str) -> DumpComparison:
    """Compare a shipped ``dump_info`` text with one made now from the sample."""
    result = DumpComparison()
    shipped = parse_dump(shipped_text)
    fresh = parse_dump(fresh_text)
    for name, block in shipped.items():
        if name in fresh:
            _compare_block(name, block, fresh[name], result)
        elif _base_title(name) in IDENTITY_BLOCKS:
            result.mismatch(name, "block is in the shipped dump but not in the recomputed one")
        else:
            result.drifted(name, "block is in the shipped dump but not in the recomputed one")
    for name in fresh:
        if name not in shipped:
            if _base_title(name) in IDENTITY_BLOCKS:
                result.mismatch(name, "block is missing from the shipped dump")
            else:
                result.drifted(name, "block is new in this pefile (or missing from the shipped dump)")
    return result
