"""impfuzzy: the ssdeep of a PE file's import string, built exactly as JPCERT's pyimpfuzzy builds it.

pyimpfuzzy (GPL-2.0, unmaintained, breaks with the next pefile) is not used; the rules are reimplemented from
their description (``docs/impfuzzy.md``):

1. Imports come from pefile's ``DIRECTORY_ENTRY_IMPORT``, descriptors in file order. No import directory
   gives the empty string (whose ssdeep is ``3::``).
2. The DLL name is lower-cased and split once at the last dot; only the extensions ``dll``, ``ocx`` and
   ``sys`` are dropped (``foo.exe`` and ``foo.drv`` keep theirs).
3. Bound-IAT rule: if the DLL's first import has an IAT entry that differs from its ILT entry (pefile's
   ``struct_iat``, set only in bound images), only the imports that have one are used.
4. An import by ordinal is named from pefile's ordinal tables (``ws2_32``, ``wsock32``, ``oleaut32``; the
   lookup key is the lower-cased DLL name *with* its extension), or ``ord<N>`` otherwise.
5. Each import becomes ``dll.function`` in lower case; the items are joined with ``,`` (no sorting, no
   de-duplication). The UTF-8 bytes of that string are hashed with ssdeep.

In the unbound case the string is exactly pefile's imphash pre-image, so ``md5(string) == get_imphash()``.

ssdeep comes from ppdeep (pure Python), whose hashes are byte-identical to libfuzzy since release 20260221.
ppdeep's *compare* is not: it weighs a substitution as 1 where libfuzzy weighs it 2, so
:func:`ssdeep_compare` is a reimplementation of libfuzzy's ``fuzzy_compare``. :func:`self_test` checks both
against known answers produced by libfuzzy 2.14.1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pefile  # pefile and ppdeep are imported where they are used: fast start-up

__all__ = [
    "EMPTY_HASH",
    "SSDEEP_IMPLEMENTATION",
    "fuzzy_hash",
    "impfuzzy_of_bytes",
    "imphash_of_string",
    "import_string",
    "parse_imports_only",
    "pefile_version",
    "self_test",
    "ssdeep_compare",
    "ssdeep_version",
]

SSDEEP_IMPLEMENTATION = "ppdeep"
EMPTY_HASH = "3::"
STRIPPED_EXTENSIONS = ("dll", "ocx", "sys")

SPAMSUM_LENGTH = 64
MIN_BLOCKSIZE = 3
ROLLING_WINDOW = 7


def ssdeep_version() -> str:
    import ppdeep

    return str(getattr(ppdeep, "__version__", "unknown"))


def pefile_version() -> str:
    import pefile

    return str(getattr(pefile, "__version__", "unknown"))


def fuzzy_hash(data: bytes | str) -> str:
    """ssdeep (CTPH) of ``data``, identical to libfuzzy's ``fuzzy_hash_buf``."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    import ppdeep

    return str(ppdeep.hash(data))


# ----------------------------------------------------------------------------------------------------------
# Import string
# ----------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _ordinal_tables() -> dict[bytes, Mapping[int, bytes]]:
    """pefile's ordinal-to-name tables, keyed by lower-case DLL file name (bytes)."""
    import ordlookup  # shipped with pefile

    tables = getattr(ordlookup, "ords", None)
    if isinstance(tables, dict):
        return {bytes(name).lower(): table for name, table in tables.items()}
    result: dict[bytes, Mapping[int, bytes]] = {}  # pragma: no cover - future pefile layouts
    for module_name in ("oleaut32", "ws2_32", "wsock32"):
        module = getattr(ordlookup, module_name, None)
        if module is not None and hasattr(module, "ord_names"):
            result[f"{module_name}.dll".encode()] = module.ord_names
    return result


def _legacy_ordinal_tables() -> dict[bytes, Mapping[int, bytes]]:
    """The tables as in pefile up to 2023.2.7: ``wsock32.dll`` reused the ``ws2_32`` names."""
    tables = dict(_ordinal_tables())
    if b"ws2_32.dll" in tables:
        tables[b"wsock32.dll"] = tables[b"ws2_32.dll"]
    return tables


def ordinal_name(dll: bytes, ordinal: int, *, legacy_wsock32: bool = False) -> str:
    """The name impfuzzy uses for an import by ordinal: the table's name or ``ord<N>``."""
    tables = _legacy_ordinal_tables() if legacy_wsock32 else _ordinal_tables()
    name = tables.get(dll.lower(), {}).get(ordinal)
    if name is None:
        return f"ord{ordinal}"
    return name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else str(name)


def normalize_dll_name(dll: bytes | str) -> str:
    """Lower-case; drop the extension only when it is ``dll``, ``ocx`` or ``sys``."""
    name = dll.decode("utf-8", "backslashreplace") if isinstance(dll, bytes) else dll
    name = name.lower()
    stem, dot, extension = name.rpartition(".")
    if dot and extension in STRIPPED_EXTENSIONS:
        return stem
    return name


def import_items(pe: pefile.PE, *, legacy_wsock32: bool = False) -> list[str]:
    """The ``dll.function`` items of the import string, in order (see the module docstring)."""
    items: list[str] = []
    for entry in getattr(pe, "DIRECTORY_ENTRY_IMPORT", None) or []:
        dll_bytes = entry.dll if isinstance(entry.dll, bytes) else str(entry.dll).encode("utf-8")
        library = normalize_dll_name(dll_bytes)
        imports = list(entry.imports or [])
        if not imports:
            continue  # pyimpfuzzy would raise IndexError here; pefile never yields such an entry
        bound_only = imports[0].struct_iat is not None
        for symbol in imports:
            if bound_only and symbol.struct_iat is None:
                continue
            if symbol.import_by_ordinal and symbol.ordinal is not None:
                function = ordinal_name(dll_bytes, symbol.ordinal, legacy_wsock32=legacy_wsock32)
            elif symbol.name:
                raw = symbol.name
                function = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else str(raw)
            else:
                continue
            items.append(f"{library}.{function}".lower())
    return items


def import_string(pe: pefile.PE, *, legacy_wsock32: bool = False) -> str:
    """The exact pyimpfuzzy pre-image: ``dll.function`` items joined with ``,``.

    :param legacy_wsock32: name ``wsock32.dll`` ordinals with the ``ws2_32`` table, as pefile did up to
        2023.2.7 (and so as impfuzzy results made in 2018 did).
    """
    return ",".join(import_items(pe, legacy_wsock32=legacy_wsock32))


def imphash_of_string(text: str) -> str:
    """pefile's imphash of an import string (MD5 of its UTF-8 bytes), or ``""`` for no imports."""
    return hashlib.md5(text.encode("utf-8")).hexdigest() if text else ""


def uses_wsock32_ordinals(pe: pefile.PE) -> bool:
    """True when the file imports from ``wsock32.dll`` by ordinal: its impfuzzy depends on the pefile version."""
    for entry in getattr(pe, "DIRECTORY_ENTRY_IMPORT", None) or []:
        dll = entry.dll if isinstance(entry.dll, bytes) else str(entry.dll).encode()
        if dll.lower() == b"wsock32.dll" and any(symbol.import_by_ordinal for symbol in entry.imports or []):
            return True
    return False


def parse_imports_only(data: bytes) -> pefile.PE:
    """Parse headers, sections and the import directory only (``fast_load``; ~6x faster than a full load).

    :raises pefile.PEFormatError: the data is not a PE file.
    """
    import pefile

    pe = pefile.PE(data=data, fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"]])
    return pe


def impfuzzy_of_bytes(data: bytes) -> tuple[str, str]:
    """``(impfuzzy hash, import string)`` of a PE file's bytes.

    :raises pefile.PEFormatError: the data is not a PE file.
    """
    # No pe.close(): with in-memory data there is nothing to release, and close() runs gc.collect(), which
    # costs more than the whole parse of a typical file.
    text = import_string(parse_imports_only(data))
    return fuzzy_hash(text), text


# ----------------------------------------------------------------------------------------------------------
# Compare: libfuzzy's fuzzy_compare, reimplemented
# ----------------------------------------------------------------------------------------------------------


def _eliminate_sequences(part: str) -> str:
    """Keep at most three identical characters in a row (libfuzzy does this before comparing)."""
    kept: list[str] = []
    for character in part:
        if len(kept) >= 3 and kept[-1] == kept[-2] == kept[-3] == character:
            continue
        kept.append(character)
    return "".join(kept)


def _has_common_substring(first: str, second: str) -> bool:
    if len(first) < ROLLING_WINDOW or len(second) < ROLLING_WINDOW:
        return False
    windows = {first[index : index + ROLLING_WINDOW] for index in range(len(first) - ROLLING_WINDOW + 1)}
    return any(second[index : index + ROLLING_WINDOW] in windows for index in range(len(second) - ROLLING_WINDOW + 1))


def _edit_distance(first: str, second: str) -> int:
    """Edit distance with insertion and deletion costing 1 and substitution 2 (libfuzzy's ``edit_distn``)."""
    previous = list(range(len(second) + 1))
    for row, character in enumerate(first, start=1):
        current = [row]
        for column, other in enumerate(second, start=1):
            substitution = previous[column - 1] + (0 if character == other else 2)
            current.append(min(previous[column] + 1, current[column - 1] + 1, substitution))
        previous = current
    return previous[-1]


def _score_strings(first: str, second: str, block_size: int) -> int:
    if len(first) > SPAMSUM_LENGTH or len(second) > SPAMSUM_LENGTH:
        return 0
    if not _has_common_substring(first, second):
        return 0
    score = _edit_distance(first, second)
    score = score * SPAMSUM_LENGTH // (len(first) + len(second))
    score = 100 * score // SPAMSUM_LENGTH
    if score >= 100:
        return 0
    score = 100 - score
    if block_size >= (99 + ROLLING_WINDOW) // ROLLING_WINDOW * MIN_BLOCKSIZE:
        return score
    return min(score, block_size // MIN_BLOCKSIZE * min(len(first), len(second)))


def _split_hash(value: str) -> tuple[int, str, str]:
    block, colon, rest = value.strip().partition(":")
    first, colon2, second = rest.partition(":")
    if not colon or not colon2 or not block.isdigit():
        raise ValueError(f"not an ssdeep hash: {value!r}")
    second = second.split(",", 1)[0]  # libfuzzy ignores a trailing ",filename"
    first, second = _eliminate_sequences(first), _eliminate_sequences(second)
    if len(first) > SPAMSUM_LENGTH or len(second) > SPAMSUM_LENGTH:
        raise ValueError(f"ssdeep hash part longer than {SPAMSUM_LENGTH} characters: {value!r}")
    return int(block), first, second


def ssdeep_compare(first_hash: str, second_hash: str) -> int:
    """Similarity 0..100 of two ssdeep hashes, identical to libfuzzy's ``fuzzy_compare``.

    :raises ValueError: a hash is malformed (libfuzzy returns -1 there).
    """
    block1, first1, second1 = _split_hash(first_hash)
    block2, first2, second2 = _split_hash(second_hash)
    if block1 != block2 and block1 * 2 != block2 and block2 * 2 != block1:
        return 0
    if block1 == block2 and first1 == first2 and second1 == second2:
        return 100
    if block1 == block2:
        return max(_score_strings(first1, first2, block1), _score_strings(second1, second2, block1 * 2))
    if block1 * 2 == block2:
        return _score_strings(first2, second1, block2)
    return _score_strings(first1, second2, block1)


# ----------------------------------------------------------------------------------------------------------
# Self-test with known answers from libfuzzy 2.14.1
# ----------------------------------------------------------------------------------------------------------


def deterministic_bytes(seed: str, length: int) -> bytes:
    """Reproducible pseudo-random bytes (SHA-256 in counter mode), to build test inputs without shipping them."""
    output = bytearray()
    counter = 0
    while len(output) < length:
        output += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(output[:length])


def vector_input(spec: Mapping[str, Any]) -> bytes:
    """Build a self-test input from its description (``text`` or ``random`` seed + length)."""
    if "text" in spec:
        return str(spec["text"]).encode("utf-8") * int(spec.get("repeat", 1))
    return deterministic_bytes(str(spec["seed"]), int(spec["length"]))


#: Known answers computed with libfuzzy 2.14.1 (``fuzzy_hash_buf`` / ``fuzzy_compare``).
KNOWN_HASHES: tuple[tuple[dict[str, Any], str], ...] = (
    ({"text": ""}, "3::"),
    ({"text": "a"}, "3:E:E"),
    ({"text": "kernel32.getprocaddress"}, "3:sU9KTXzW:HGDW"),
    (
        {"text": "kernel32.getprocaddress,", "repeat": 200},
        "24:mDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFy:H",
    ),
    (
        {"text": "ws2_32.socket,ws2_32.connect,wsock32.recv,", "repeat": 57},
        "24:9y9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty9Ty91:G",
    ),
    (
        {"text": "\u65e5\u672c\u8a9e.dll,", "repeat": 33},
        "12:9DFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFDFN:9DhhhhhhhhhhhhhhhhhhhhhhhhhhhhhN",
    ),
    ({"seed": "mk2ds-1", "length": 1}, "3:h:h"),
    ({"seed": "mk2ds-64", "length": 64}, "3:qrPCu9p/7z2v2viEDef3TWYM+2:sLP2giEDXhJ"),
    (
        {"seed": "mk2ds-191", "length": 191},
        "3:Wwf40NiouNMXKE2I+8RHZOw/FiFCvtelt0PayjYfu/uSkI9BTJ5qyExM8M:Wv0NAU2I+8RQgZleb2YW/uSkI9zwM",
    ),
    (
        {"seed": "mk2ds-193", "length": 193},
        "3:m9KiaTCB6lSsTOlKOTF9vCRalfgyH3hojoC2bVwfqxiH0grWhKQ3Eg5W0ki/n:RiaeZyQzTFsslfgS3hxViKwgwg/n",
    ),
    (
        {"seed": "mk2ds-4096", "length": 4096},
        "96:1ViujmnY6Y9qYzhSk8nfDgpPF6I15TsLR5f5BkQZ/z2Icpnfyy4VnQseWuFF:DwY66yfDgpPF6IfAcQ5yIWnfL0QfWy",
    ),
    (
        {"seed": "mk2ds-20000", "length": 20000},
        "384:Y/H4WwC6VIMScRWgMHiFfyWZujvE8KUNqYlfavXFHaBuTTqFQIShoS:Y/KVIM5RWgMClyWZz8KUNqYliFHCOTzP",
    ),
)
KNOWN_SCORES: tuple[tuple[str, str, int], ...] = (
    (
        "48:YFhEeAXB09W/qYs2vRZ0hKvXKKZvPn0knqGAScU:YzAXB0Q/qYs2JZ+KfKKZvP0knq2cU",
        "96:YzAODB0Q/qYswF+KfKKZvP0knq6ceZcbqX5/n0HJ0Y6:+CeUYpf+qX",
        65,
    ),
    (
        "96:+M/PwZHvVpg7QX9Sn3a0TLG/Rq/qhbVLkly0S0qnq/NuBdwQr+xQanq6q/gIS9qL:ngWumLGUCpLqVuLKiJ4GX7",
        "96:+M/PwZHvVpg7QX9Sn3a0TLG/Rq/qhbVLkly0S0qWq/NuBdwQr+xQanq6q/gIS9qs:ngWumLGUCpLdVuLKiJ4GXZC",
        97,
    ),
    (
        "48:X+0y2+dCSV980jHXaDzPEBeA200Hm0msA20GvLZZ1adMujp90ry:X+0ydCSVnj34zPEYG0Hm0eGvLZZ1adjh",
        "96:XL0yDCSVnj34zt0EYG0Hm0e6LZZ1adjbMx6740FS4onQVI05qq/p:hlYaZDK2xu1x",
        63,
    ),
    (
        "12:oEeKDpJSyDpJm7BBJaDgJaDFDhkQwDSJmBPkUMJkA9AwDMZiwD52:oWDnSyDnS/aDMaDFDhkQwuQTIkWAw4Zu",
        "12:oEeKDpJSyDpJm7BBJaDgJaDFDhkQwDSJmBPkUMJkA9AwDMZywD3:oWDnSyDnS/aDMaDFDhkQwuQTIkWAw4ZB",
        97,
    ),
    ("3:aaaaaaab:x", "3:aaab:x", 100),
    ("3:aaaaaaabcdefghij:x", "3:aaabcdefghij:y", 12),
    ("3::", "3::", 100),
    ("3::", "3:E:E", 0),
    ("3:abcdefgh:x", "12:abcdefgh:x", 0),
)


def self_test() -> list[str]:
    """Check the ssdeep backend against libfuzzy known answers; return the problems (empty when all pass)."""
    problems: list[str] = []
    for spec, expected in KNOWN_HASHES:
        actual = fuzzy_hash(vector_input(spec))
        if actual != expected:
            problems.append(f"hash of {spec}: expected {expected}, got {actual}")
    for first, second, expected_score in KNOWN_SCORES:
        score = ssdeep_compare(first, second)
        if score != expected_score:
            problems.append(f"compare {first} / {second}: expected {expected_score}, got {score}")
    return problems
