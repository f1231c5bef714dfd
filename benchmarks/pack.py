"""Throughput of the fixity check and of ``mk2ds pack``, next to GNU ``sha256sum`` on the same files, same run.

    python benchmarks/pack.py [--size-mb 1024] [--repeat 3] [--with-zip] [--workdir DIR] [--keep]

Generates about ``--size-mb`` MB of files (a Soliton-like mix: 117 large "logs" and a few hundred small files),
reads them once so every measurement starts from a warm page cache, then times (best of ``--repeat``):

* ``sha256sum`` over every file (one process, and two processes each taking half the files);
* the fixity check as ``mk2ds verify`` runs it (``--checksums`` manifest, level full), with ``-j 1`` and ``-j 2``;
* ``mk2ds pack`` to a folder bag (verify at level structure, then copy + hash), ``-j 1`` and ``-j 2``;
* optionally ``mk2ds pack --zip`` (compression bound, one process).

Targets (issue 6): fixity with one process within 1.2x the time of ``sha256sum``; faster than it with two.
The machine may be shared: the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mk2ds.core import get_plugin_manager
from mk2ds.core.cli import main as mk2ds_main
from mk2ds.core.profile import Profile
from mk2ds.core.walker import verify
from mk2ds.plugins.bagit.hashing import FolderSource, hash_files
from mk2ds.plugins.bagit.manifests import format_sums

PROFILE = {"name": "bench", "required": []}


def generate(root: Path, total_mb: int, seed: int = 2018) -> list[Path]:
    """117 big files carrying ~97% of the bytes, plus 300 small ones (1-16 KB)."""
    rng = random.Random(seed)
    total = total_mb * 1_000_000
    small = [rng.randrange(1_000, 16_000) for _ in range(300)]
    big_each = max(1, (total - sum(small)) // 117)
    paths = []
    block = rng.randbytes(1 << 20)
    for index in range(117):
        path = root / "MK2Log" / "30m" / f"{index:03d}-{rng.getrandbits(64):016x}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        salted = index.to_bytes(4, "little") + block[4:]  # every file different, generated fast
        with open(path, "wb") as handle:
            remaining = big_each
            while remaining > 0:
                chunk = salted[:remaining]
                handle.write(chunk)
                remaining -= len(chunk)
        paths.append(path)
    for index, size in enumerate(small):
        path = root / "Sysinfo" / f"{index:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
        paths.append(path)
    return paths


def best_of(repeat: int, action: Callable[[], None], before: Callable[[], None] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def sha256sum(files: list[Path], processes: int) -> None:
    groups = [files[index::processes] for index in range(processes)]
    running = [subprocess.Popen(["sha256sum", *map(str, group)], stdout=subprocess.DEVNULL) for group in groups]
    for process in running:
        if process.wait() != 0:
            raise SystemExit("sha256sum failed")


def fixity(root: Path, manifest: Path, jobs: int) -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    options = argparse.Namespace(jobs=jobs, quiet=True, checksums=str(manifest))
    report = verify(str(root), pm, Profile(PROFILE), level="full", options=options, jobs=jobs, show_progress=False)
    checked = report.facts["dataset"]["fixity"]["checked"]
    bad = [finding for finding in report.findings if finding.code.startswith("checksum-")]
    if bad or not checked:
        raise SystemExit(f"fixity run went wrong: {bad[:3]} checked={checked}")


def pack(root: Path, out: Path, profile_file: Path, jobs: int, zip_output: bool = False) -> None:
    args = [
        "pack",
        str(root),
        str(out),
        "--profile",
        str(profile_file),
        "--level",
        "structure",
        "--quiet",
        "-j",
        str(jobs),
    ]
    with contextlib.redirect_stdout(io.StringIO()):  # keep the table readable
        code = mk2ds_main([*args, "--zip"] if zip_output else args)
    if code != 0:
        raise SystemExit(f"mk2ds pack exited with {code}")


def remove(path: Path) -> Callable[[], None]:
    def action() -> None:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

    return action


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--with-zip", action="store_true", help="also time pack --zip (slow: deflate)")
    parser.add_argument("--workdir", help="where to generate the files (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        raise SystemExit("needs GNU sha256sum on PATH (the baseline)")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="mk2ds-bench-pack-"))
    root = work / "dist"
    try:
        files = generate(root, args.size_mb) if not root.exists() else sorted(p for p in root.rglob("*") if p.is_file())
        total = sum(path.stat().st_size for path in files)
        relative = [(path.relative_to(root).as_posix(), path.stat().st_size) for path in files]
        digests = hash_files(FolderSource(str(root)), relative, ("sha256",), show_progress=False)
        manifest = work / "dist.SHA256SUMS"
        manifest.write_bytes(format_sums({name: result.digests["sha256"] for name, result in digests.items()}))
        profile_file = work / "bench.profile.json"
        profile_file.write_text(json.dumps(PROFILE))
        out = work / "bag"
        sha256sum(files, 1)  # warm the page cache: every row reads from memory

        rows: list[tuple[str, float]] = [
            ("sha256sum, 1 process (baseline)", best_of(args.repeat, lambda: sha256sum(files, 1))),
            ("sha256sum, 2 processes", best_of(args.repeat, lambda: sha256sum(files, 2))),
            ("fixity (verify --checksums) -j 1", best_of(args.repeat, lambda: fixity(root, manifest, 1))),
            ("fixity (verify --checksums) -j 2", best_of(args.repeat, lambda: fixity(root, manifest, 2))),
            (
                "pack to folder (copy+hash) -j 1",
                best_of(args.repeat, lambda: pack(root, out, profile_file, 1), remove(out)),
            ),
            (
                "pack to folder (copy+hash) -j 2",
                best_of(args.repeat, lambda: pack(root, out, profile_file, 2), remove(out)),
            ),
        ]
        remove(out)()
        if args.with_zip:
            zipped = work / "bag.zip"
            rows.append(
                (
                    "pack --zip (deflate) -j 1",
                    best_of(1, lambda: pack(root, zipped, profile_file, 1, True), remove(zipped)),
                )
            )
            remove(zipped)()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    baseline = rows[0][1]
    print(f"{len(files)} files, {total / 1e6:,.0f} MB, warm page cache; best of {args.repeat}")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} (may be shared)"
    )
    print(
        f"python {sys.version.split()[0]}; {subprocess.run(['sha256sum', '--version'], capture_output=True, text=True, check=True).stdout.splitlines()[0]}"
    )
    print()
    print(f"{'measurement':36} {'seconds':>8} {'MB/s':>8} {'time / sha256sum':>17}")
    for label, seconds in rows:
        print(f"{label:36} {seconds:8.2f} {total / 1e6 / seconds:8.0f} {seconds / baseline:16.2f}x")
    fixity_one, fixity_two = rows[2][1], rows[3][1]
    print()
    print(
        f"target fixity -j 1 within 1.2x of sha256sum: {fixity_one / baseline:.2f}x -> {'met' if fixity_one <= 1.2 * baseline else 'NOT met'}"
    )
    print(
        f"target fixity -j 2 faster than sha256sum:    {fixity_two / baseline:.2f}x -> {'met' if fixity_two < baseline else 'NOT met'}"
    )
    print(f"scaling fixity -j 2 vs -j 1: {fixity_one / fixity_two:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
