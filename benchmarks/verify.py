"""How long `mk2ds verify --level full` takes on a Soliton-sized distribution, next to converting its logs.

    python benchmarks/verify.py [--size-mb 1024] [--samples 117] [--workdir DIR] [--keep]

Builds a distribution with the sample writer (117 samples, logs adding up to about ``--size-mb`` MB), reads
every file once (the floor, and a warm page cache for what follows), then runs as separate processes:

* ``mk2ds convert MK2Log -o OUT -j 1`` and ``-j 2`` (every log to JSONL: the baseline);
* ``mk2ds verify DIST --level full -j 1`` and ``-j 2``.

Targets (issue 16): full verify within 1.2x the time of converting all logs, and faster with two processes.
Each row gives seconds, MB/s over the distribution's bytes, the ratio to ``convert -j 1`` and the peak
resident memory of the process tree's largest process. Machines here are shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mk2ds.plugins.synthetic import write_sample


def run(command: list[str]) -> tuple[float, int, int]:
    """Wall seconds, exit code and the peak RSS (KB) of the largest process of ``command``'s tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    return elapsed, os.waitstatus_to_exitcode(status), int(usage.ru_maxrss)


def read_everything(root: Path) -> tuple[float, int]:
    started = time.perf_counter()
    total = 0
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    total += len(chunk)
    return time.perf_counter() - started, total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="about how many MB of logs (default 1024)")
    parser.add_argument("--samples", type=int, default=117)
    parser.add_argument("--workdir", help="where to build the distribution (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated distribution")
    args = parser.parse_args()

    work = Path(args.workdir or tempfile.mkdtemp(prefix="mk2ds-bench-verify-"))
    root = work / "SolitonDataset2018"
    mk2ds = [sys.executable, "-m", "mk2ds.core.cli"]
    try:
        # About 1.35 logs per sample (30m for all, Verbose for some, plus the special runs).
        log_bytes = int(args.size_mb * 1_000_000 / (args.samples * 1.35))
        started = time.perf_counter()
        write_sample(root, samples=args.samples, seed=2018, log_bytes=log_bytes)
        print(f"generated {args.samples} samples in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        read_seconds, total = read_everything(root)
        log_mb = sum(p.stat().st_size for p in (root / "MK2Log").rglob("*") if p.is_file()) / 1e6
        rows: list[tuple[str, float, int, int]] = [("read every file once (floor)", read_seconds, 0, 0)]
        for jobs in (1, 2):
            out = work / f"converted-{jobs}"
            seconds, code, rss = run(
                [*mk2ds, "convert", str(root / "MK2Log"), "-o", str(out), "-j", str(jobs), "--quiet"]
            )
            rows.append((f"convert all logs -j {jobs}", seconds, code, rss))
            shutil.rmtree(out, ignore_errors=True)
        for jobs in (1, 2):
            report = work / f"report-{jobs}.json"
            seconds, code, rss = run(
                [
                    *mk2ds,
                    "verify",
                    str(root),
                    "--level",
                    "full",
                    "-j",
                    str(jobs),
                    "--quiet",
                    "--format",
                    "json",
                    "-o",
                    str(report),
                ]
            )
            rows.append((f"verify --level full -j {jobs}", seconds, code, rss))
        baseline = rows[1][1]
        print(
            f"\ndistribution: {total / 1e6:,.0f} MB in total, {log_mb:,.0f} MB of logs; load average {os.getloadavg()[0]:.2f}"
        )
        print(f"{'what':34} {'seconds':>8} {'MB/s':>8} {'x convert -j1':>14} {'peak RSS MB':>12} {'exit':>5}")
        for name, seconds, code, rss in rows:
            print(
                f"{name:34} {seconds:8.2f} {total / 1e6 / seconds:8.1f} {seconds / baseline:14.2f} {rss / 1024:12.0f} {code:>5}"
            )
        verify_one = rows[3][1]
        print(
            f"\ntarget: verify -j 1 within 1.2x of convert -j 1: {verify_one / baseline:.2f}x; -j 2 speed-up {verify_one / rows[4][1]:.2f}x"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
