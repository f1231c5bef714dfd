"""Regenerate ``ssdeep_vectors.json`` with the reference implementation (libfuzzy), NOT run by the tests.

Needs Debian's ``libfuzzy2`` (``apt-get install libfuzzy-dev``). The answers were produced with libfuzzy
2.14.1; the tests then check mk2ds's ssdeep backend (ppdeep) and its compare against them, without libfuzzy.

    python tests/data/pe/make_ssdeep_vectors.py [REAL_PE_FILE...] > tests/data/pe/ssdeep_vectors.json

Real PE files given on the command line contribute their import strings (text only, never the binaries).
"""

from __future__ import annotations

import ctypes
import json
import random
import sys

from mk2ds.plugins.pe.impfuzzy import impfuzzy_of_bytes, vector_input

library = ctypes.CDLL("libfuzzy.so.2")
library.fuzzy_hash_buf.argtypes = [ctypes.c_char_p, ctypes.c_uint32, ctypes.c_char_p]
library.fuzzy_compare.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def fuzzy_hash(data: bytes) -> str:
    out = ctypes.create_string_buffer(148)
    if library.fuzzy_hash_buf(data, len(data), out) != 0:
        raise RuntimeError("fuzzy_hash_buf failed")
    return out.value.decode()


def fuzzy_compare(first: str, second: str) -> int:
    return int(library.fuzzy_compare(first.encode(), second.encode()))


WORDS = [
    "kernel32.getprocaddress", "kernel32.loadlibrarya", "user32.messageboxa", "advapi32.regopenkeyexa",
    "ws2_32.socket", "kernel32.createfilew", "kernel32.writefile", "kernel32.closehandle", "msvcrt.malloc",
    "msvcrt.free", "kernel32.virtualalloc", "ntdll.rtlunwind", "wsock32.ord10", "oleaut32.sysallocstring",
]


def main(paths: list[str]) -> None:
    rng = random.Random(20180101)
    specs: list[dict[str, object]] = [
        {"text": ""},
        {"text": "a"},
        {"text": "kernel32.getprocaddress"},
        {"text": "kernel32.getprocaddress,", "repeat": 200},
        {"text": "ws2_32.socket,ws2_32.connect,wsock32.recv,", "repeat": 57},
        {"text": "\u65e5\u672c\u8a9e.dll,", "repeat": 33},
    ]
    specs += [{"seed": f"mk2ds-{size}", "length": size} for size in (1, 7, 64, 191, 192, 193, 4096, 20000, 60000)]
    for index in range(8):
        text = ",".join(rng.choice(WORDS) for _ in range(rng.randint(1, 150)))
        specs.append({"text": text})
    for path in paths:
        with open(path, "rb") as handle:
            _hash, text = impfuzzy_of_bytes(handle.read())
        specs.append({"text": text, "source": path.rsplit("/", 1)[-1]})
    hashes = [{"input": spec, "hash": fuzzy_hash(vector_input(spec))} for spec in specs]

    pool = [item["hash"] for item in hashes]
    for _ in range(120):
        base = [rng.choice(WORDS) for _ in range(rng.randint(20, 300))]
        mutated = list(base)
        for _ in range(rng.randint(1, 12)):
            mutated[rng.randrange(len(mutated))] = rng.choice(WORDS)
        if rng.random() < 0.3:
            mutated += [rng.choice(WORDS) for _ in range(rng.randint(1, 80))]
        pool += [fuzzy_hash(",".join(base).encode()), fuzzy_hash(",".join(mutated).encode())]
    pairs = [(pool[index], pool[index + 1]) for index in range(len(pool) - 1)]
    pairs += [(rng.choice(pool), rng.choice(pool)) for _ in range(150)]
    pairs += [
        ("3:aaaaaaab:x", "3:aaab:x"),
        ("3:aaaaaaabcdefghij:x", "3:aaabcdefghij:y"),
        ("6:abcdefghijkl:mnopqrstuv", "3:zzz:abcdefghijkx"),
        ("3:abcdefgh:ijklmnop", "3:abcdefgh:ijklmnoq"),
        ("3::", "3::"),
        ("3:abcdefgh:x", "12:abcdefgh:x"),
        ("96:abcdefghijklmnop:qrstuvwx", "96:abcdefghijklmnoX:qrstuvwx,file.exe"),
    ]
    scores = [{"first": first, "second": second, "score": fuzzy_compare(first, second)} for first, second in pairs]
    json.dump(
        {"reference": "libfuzzy 2.14.1 (Debian libfuzzy2)", "hashes": hashes, "scores": scores},
        sys.stdout,
        indent=1,
        ensure_ascii=False,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
