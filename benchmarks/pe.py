"""Files per second for imphash + impfuzzy on a folder of generated PE files, with and without the
child-process guard, next to the way pyimpfuzzy does it (full pefile load), measured in the same run.

    python benchmarks/pe.py [--files 200] [--imports typical|many] [--repeat 3] [--workdir DIR] [--keep]

The files are realistic in shape, built by ``mk2ds.plugins.synthetic.pe_builder`` (never executed): 32- and 64-bit,
40-600 KB, code and data sections of random bytes, some with a resource-like blob, imports named and by
ordinal. ``--imports typical``: 4-12 DLLs, about 100 functions (an import string of ~2-3 KB, like most
executables); ``--imports many``: 6-24 DLLs, about 400 functions (~7 KB strings, the heavy end).
Rows (best of ``--repeat``, files read from a warm page cache):

* baseline: ``pefile.PE(data)`` (full load) + ``get_imphash()`` + impfuzzy of the same import string;
* fast path in-process: headers + import directory only (``fast_load``), imphash + impfuzzy;
* fast path guarded: the same in one child process with time and memory limits (``pe_guard``);
* ``mk2ds pe`` facts guarded (adds sections with entropy, signer, ...), one child and two children.

Target (issue 5): at least 100 files/s for imphash + impfuzzy on typical executables.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pefile

from mk2ds.plugins.pe.guard import GuardedParser
from mk2ds.plugins.pe.impfuzzy import fuzzy_hash, import_string, parse_imports_only
from mk2ds.plugins.synthetic.pe_builder import SECTION_READONLY, Section, build_pe

DLLS = [
    "KERNEL32.dll",
    "USER32.dll",
    "ADVAPI32.dll",
    "GDI32.dll",
    "SHELL32.dll",
    "ole32.dll",
    "OLEAUT32.dll",
    "WS2_32.dll",
    "WSOCK32.dll",
    "WININET.dll",
    "CRYPT32.dll",
    "msvcrt.dll",
    "ntdll.dll",
    "SHLWAPI.dll",
    "COMCTL32.dll",
    "VERSION.dll",
    "urlmon.dll",
    "IPHLPAPI.DLL",
    "PSAPI.DLL",
    "WINHTTP.dll",
    "MPR.dll",
    "NETAPI32.dll",
    "USERENV.dll",
    "RPCRT4.dll",
]
ORDINAL_DLLS = {"WS2_32.dll", "WSOCK32.dll", "OLEAUT32.dll"}


IMPORT_PROFILES = {"typical": ((4, 12), (3, 25)), "many": ((6, 24), (3, 40))}


def generate(root: Path, count: int, imports_profile: str = "typical", seed: int = 2018) -> list[Path]:
    rng = random.Random(seed)
    (dll_low, dll_high), (function_low, function_high) = IMPORT_PROFILES[imports_profile]
    paths = []
    for index in range(count):
        imports = []
        for dll in rng.sample(DLLS, rng.randint(dll_low, dll_high)):
            functions: list[str | int] = []
            for number in range(rng.randint(function_low, function_high)):
                if dll in ORDINAL_DLLS and rng.random() < 0.7:
                    functions.append(rng.randint(1, 120))
                else:
                    functions.append(f"{dll.split('.')[0].title()}Function{number}{'AW'[rng.randrange(2)]}")
            imports.append((dll, functions))
        code = rng.randbytes(rng.randint(40_000, 400_000))
        sections = [Section(".data", rng.randbytes(rng.randint(4_000, 60_000)))]
        if rng.random() < 0.5:
            sections.append(Section(".rsrc", rng.randbytes(rng.randint(10_000, 150_000)), SECTION_READONLY))
        data = build_pe(
            machine=rng.choice(["i386", "amd64"]),  # type: ignore[arg-type]
            imports=imports,
            code=code,
            sections=sections,
            timestamp=0x58000000 + index * 3600,
        )
        path = root / f"{index:04d}.exe"
        path.write_bytes(data)
        paths.append(path)
    return paths


def baseline(data: bytes) -> tuple[str, str]:
    pe = pefile.PE(data=data)  # what pyimpfuzzy does (it never closes the PE either)
    return pe.get_imphash(), fuzzy_hash(import_string(pe))


def best_of(repeat: int, work: Callable[[], int]) -> tuple[float, int]:
    times = []
    done = 0
    for _ in range(repeat):
        started = time.perf_counter()
        done = work()
        times.append(time.perf_counter() - started)
    return min(times), done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--imports", choices=sorted(IMPORT_PROFILES), default="typical")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    root = Path(args.workdir or tempfile.mkdtemp(prefix="mk2ds-pe-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        paths = generate(root, args.files, args.imports)
        blobs = [path.read_bytes() for path in paths]
        sizes = sorted(len(blob) for blob in blobs)
        strings = sorted(len(import_string(parse_imports_only(blob))) for blob in blobs)
        print(
            f"{len(paths)} PE files, {sizes[0] // 1000}-{sizes[-1] // 1000} KB (median {sizes[len(sizes) // 2] // 1000} KB), "
            f"import strings median {strings[len(strings) // 2]} chars; pefile {pefile.__version__}, "
            f"Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}"
        )

        def in_process() -> int:
            for blob in blobs:
                baseline(blob)
            return len(blobs)

        def guarded(task: str, jobs: int, guard: bool = True) -> Callable[[], int]:
            parsers = [GuardedParser(timeout=60, memory_mb=1024, guarded=guard) for _ in range(jobs)]

            def run_share(share: int) -> int:
                for blob in blobs[share::jobs]:
                    result = parsers[share].run(task, blob)  # type: ignore[arg-type]
                    assert result.status == "ok", result
                return len(blobs[share::jobs])

            def work() -> int:
                if jobs == 1:
                    return run_share(0)
                with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
                    return sum(pool.map(run_share, range(jobs)))

            work.parsers = parsers  # type: ignore[attr-defined]
            return work

        rows: list[tuple[str, Callable[[], int]]] = [
            ("baseline: full pefile load + get_imphash + impfuzzy", in_process),
            ("fast path (imports only), in-process", guarded("impfuzzy", 1, guard=False)),
            ("fast path, guarded child (time + memory limit)", guarded("impfuzzy", 1)),
            ("mk2ds pe facts, guarded, 1 child", guarded("facts", 1)),
            ("mk2ds pe facts, guarded, 2 children", guarded("facts", 2)),
        ]
        results = []
        for label, work in rows:
            work()  # warm-up (starts children, imports)
            seconds, done = best_of(args.repeat, work)
            results.append((label, done / seconds))
            for parser_ in getattr(work, "parsers", []):
                parser_.close()
        base = results[0][1]
        print(f"{'':56} {'files/s':>9} {'vs baseline':>12}")
        for label, rate in results:
            print(f"{label:56} {rate:9.1f} {rate / base:11.2f}x")
        guarded_rate = results[2][1]
        verdict = "met" if guarded_rate >= 100 else "NOT met"
        print(f"target >= 100 files/s for guarded imphash + impfuzzy: {verdict} ({guarded_rate:.0f} files/s)")
        return 0
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
