"""Fuzz the compiled reader built under AddressSanitizer and UBSan, against the pure-Python reader.

Usage (``tox -e sanitize`` runs it; CI with a small budget)::

    python tests/plugins/reader/fuzz_compiled.py --budget 60

It compiles ``plugins/reader/_speedups.c`` with ``-fsanitize=address,undefined`` into a temporary folder,
re-runs itself with the ASan runtime preloaded (CPython is not built with ASan), and then, until the budget in
seconds is spent: feeds random bytes, every byte value, mutated real lines and hostile grammar pieces to
``convert_block`` directly (both output modes, lines of 0 bytes up to a few MiB, and one block holding a
100 MB line) and through the reader, where every result must equal the pure-Python reader's
(``test_compiled.assert_paths_agree``). Any read past a buffer aborts the process with the sanitizer's report;
exit code 0 means no finding. Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "plugins" / "reader" / "_speedups.c"
CHILD_ENV = "MK2DS_FUZZ_MODULE"
FLAGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-g", "-O1"]
SETTLED = {"time_offset": "+09:00", "time_offset_source": "sysinfo"}
SETTLED_JSON = b',"time_offset":"+09:00","time_offset_source":"sysinfo"'
UNKNOWN = {"time_offset_source": "unknown"}
UNKNOWN_JSON = b',"time_offset_source":"unknown"'


def build(folder: Path) -> Path:
    """Compile the extension with the sanitizers; return the shared object."""
    compiler = os.environ.get("CC", "cc")
    target = folder / ("_speedups" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
    include = sysconfig.get_paths()["include"]
    command = [
        compiler,
        *FLAGS,
        "-shared",
        "-fPIC",
        "-Wall",
        "-Werror",
        "-Wno-missing-field-initializers",
        f"-I{include}",
        str(SOURCE),
        "-o",
        str(target),
    ]
    subprocess.run(command, check=True)
    return target


def asan_runtime() -> str:
    compiler = os.environ.get("CC", "cc")
    path = subprocess.run(
        [compiler, "-print-file-name=libasan.so"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not os.path.isabs(path):
        raise SystemExit(f"no AddressSanitizer runtime found for {compiler} (is libasan installed?)")
    return path


def load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_speedups", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fuzz(module: ModuleType, budget: float) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(Path(__file__).parent))
    import test_compiled  # the agreement oracle of the test suite

    from mk2ds.plugins.reader import compiled
    from mk2ds.plugins.reader.tokenizer import INTEGER_FIELDS

    compiled._MODULE = module  # type: ignore[attr-defined]
    test_compiled.MODULE = module
    header = b"03/05/2018 10:12:03.114 +0900"

    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]

    def direct(data: bytes, max_line: int = 1 << 20) -> None:
        # The block is copied into a malloc'ed buffer of exactly its size: a bytes object carries a hidden NUL
        # after its data, so a read one byte past the end would go unnoticed; ASan's malloc puts a red zone there.
        address = libc.malloc(max(len(data), 1))
        ctypes.memmove(address, data, len(data))
        block = (ctypes.c_char * len(data)).from_address(address)
        try:
            for as_json in (False, True):
                for provenance in (False, True):
                    module.convert_block(
                        block,
                        0,
                        INTEGER_FIELDS,
                        SETTLED,
                        SETTLED_JSON,
                        as_json,
                        False,
                        max_line,
                        provenance,
                        "x.log",
                        b'"x.log"',
                    )
                    module.convert_block(
                        block,
                        7,
                        INTEGER_FIELDS,
                        UNKNOWN,
                        UNKNOWN_JSON,
                        as_json,
                        True,
                        max_line,
                        provenance,
                        "x",
                        b'"x"',
                    )
        finally:
            del block
            libc.free(address)

    # Bounded hostile shapes, once: every byte value, lines of 0 bytes to a few MiB, a 100 MB line in a block.
    full = header + b' a="x""y" sn=12 b=\xe6\x97\xa5'
    for length in range(len(full) + 1):  # every prefix of a line, alone and before a line feed
        direct(full[:length])
        direct(full[:length] + b"\r\n" + full[:length])
        direct(b"03/05/2018 10:12:03.114 " + full[24:length])
    for byte in range(256):
        direct(bytes([byte]) * 3)
        direct(header + b" a=" + bytes([byte]) + b' b="' + bytes([byte]) + b'"')
    for size in (0, 1, 23, 24, 25, 29, 30, 1 << 10, 1 << 16, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 << 20):
        direct(b"x" * size)
        direct(header + b" a=" + b"x" * size, max_line=4 << 20)
        direct(header + b' a="' + b'""' * (size // 2), max_line=4 << 20)
        direct(header + b" a=1" * (size // 4), max_line=4 << 20)
    direct(header + b" a=" + b"\xe6\x97\xa5" * (1 << 20), max_line=4 << 20)
    huge = header + b" a=" + b"y" * (100 * 1000 * 1000) + b"\n" + header + b" b=2\n"
    direct(huge)
    del huge
    print("fixed hostile cases: no sanitizer finding", flush=True)

    options = test_compiled._OPTIONS
    every = settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))

    @every
    @given(st.binary(max_size=2000), options)
    def random_bytes(data: bytes, chosen: dict) -> None:  # type: ignore[type-arg]
        direct(data)
        test_compiled.assert_paths_agree(data, **chosen)

    @every
    @given(st.lists(test_compiled._mutated(), min_size=1, max_size=8), options)
    def mutated(lines: list[bytes], chosen: dict) -> None:  # type: ignore[type-arg]
        data = b"\n".join(lines)
        direct(data)
        test_compiled.assert_paths_agree(data, **chosen)

    @every
    @given(st.lists(st.lists(st.sampled_from(test_compiled._PIECES), max_size=10).map("".join), max_size=8))
    def pieces(tails: list[str]) -> None:
        data = b"\n".join(header + tail.encode() for tail in tails)
        direct(data)
        test_compiled.assert_paths_agree(data)

    rounds = 0
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        for test in (random_bytes, mutated, pieces):
            test()
        rounds += 1
    print(f"{rounds} rounds of 300 generated inputs: no sanitizer finding, both paths agree", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of generated inputs after the fixed cases")
    args = parser.parse_args()
    module_path = os.environ.get(CHILD_ENV)
    if module_path:
        return fuzz(load(module_path), args.budget)
    with tempfile.TemporaryDirectory() as folder:
        target = build(Path(folder))
        environment = dict(os.environ)
        environment.update(
            {
                CHILD_ENV: str(target),
                "LD_PRELOAD": asan_runtime(),
                "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:" + os.environ.get("ASAN_OPTIONS", ""),
                "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
                "PYTHONMALLOC": "malloc",  # so ASan sees Python's allocations too
            }
        )
        environment.pop("MK2DS_PURE_PYTHON", None)
        return subprocess.run(
            [sys.executable, __file__, "--budget", str(args.budget)], env=environment, check=False
        ).returncode


if __name__ == "__main__":
    sys.exit(main())
