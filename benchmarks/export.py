"""Benchmark of ``mk2ds export`` against its baselines, measured in the same run.

Usage::

    python benchmarks/export.py                # about 1 GB of logs (the issue's size; takes a while)
    python benchmarks/export.py --size 100     # quicker: about 100 MB of logs
    python benchmarks/export.py --keep --workdir /tmp/bench

It writes the sample distribution (``mk2ds sample``'s generator, 6 samples) with 30-minute logs sized so that
all logs together are about ``--size`` MB, then measures, each in its own child process (peak memory is per
step; with ``-j 2`` the largest process counts):

* ``convert --format parquet``: the logs to Parquet, ``-j 1`` (what export's events replace);
* ``verify --level full``: the whole distribution, ``-j 1`` (what export's findings replace);
* ``export -j 1`` and ``export -j 2``: ``mk2ds export`` of the distribution (Parquet).

Targets: export ≤ 0.8 × (convert + verify), because it reads each log once; peak memory < 500 MB whatever
the size; ``-j 2`` is reported (a speedup needs two idle cores). Exit code 0 when the targets are met.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"ratio_to_baselines": 0.8, "peak_mb": 500.0}


def run_child(arguments: list[str]) -> tuple[float, float, float]:
    """Run a command; wall seconds, CPU seconds (with its workers) and the peak RSS of its largest process (MB)."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "wall = time.perf_counter() - start\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'wall': wall, 'cpu': usage.ru_utime + usage.ru_stime, 'peak_kb': usage.ru_maxrss,"
        " 'code': done.returncode, 'err': done.stderr.decode(errors='replace')[-2000:]}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, *arguments], check=True, capture_output=True, text=True)
    data = json.loads(result.stdout)
    if data["code"] not in (0, 1):
        raise SystemExit(f"benchmark step failed: {' '.join(arguments)[:200]}\n{data['err']}")
    return data["wall"], data["cpu"], data["peak_kb"] / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=float, default=1000.0, help="MB of logs in the distribution (default 1000)")
    parser.add_argument("--workdir", help="where to write (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    from mk2ds.plugins.synthetic import write_sample

    work = Path(args.workdir or tempfile.mkdtemp(prefix="mk2ds-bench-export-"))
    work.mkdir(parents=True, exist_ok=True)
    dataset = work / "ds"
    try:
        if not dataset.exists():
            # 6 samples: 6 thirty-minute logs plus Verbose (1.5x) and special runs of about the same size.
            started = time.perf_counter()
            write_sample(dataset, log_bytes=int(args.size * 1e6 / 16))
            print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        logs = sum(path.stat().st_size for path in (dataset / "MK2Log").rglob("*.log")) / 1e6
        mk2ds = [sys.executable, "-m", "mk2ds.core.cli"]
        steps: dict[str, tuple[float, float, float]] = {}
        for name, command in (
            (
                "convert --format parquet -j 1",
                [*mk2ds, "convert", str(dataset / "MK2Log"), "-o", str(work / "parquet"), "--format", "parquet"],
            ),
            ("verify --level full -j 1", [*mk2ds, "verify", str(dataset), "--quiet", "-o", str(work / "report.txt")]),
            ("export -j 1", [*mk2ds, "export", str(dataset), str(work / "export1"), "--quiet"]),
            ("export -j 2", [*mk2ds, "export", str(dataset), str(work / "export2"), "--quiet", "-j", "2"]),
        ):
            for stale in ("parquet", "export1", "export2"):
                shutil.rmtree(work / stale, ignore_errors=True)
            steps[name] = run_child(command)
            print(f"{name}: {steps[name][0]:.1f} s", file=sys.stderr)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    baseline = steps["convert --format parquet -j 1"][0] + steps["verify --level full -j 1"][0]
    export1, export2 = steps["export -j 1"][0], steps["export -j 2"][0]
    peak = max(step[2] for name, step in steps.items() if name.startswith("export"))
    print(f"\n{logs:,.0f} MB of logs\n")
    print("| step | wall s | CPU s | MB/s | peak MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (wall, cpu, peak_mb) in steps.items():
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {logs / wall:.1f} | {peak_mb:.0f} |")
    print()
    print(f"export -j 1 / (convert + verify): {export1 / baseline:.2f} (target <= {TARGETS['ratio_to_baselines']})")
    print(f"export -j 1 / export -j 2: {export1 / export2:.2f}x")
    print(f"peak memory of export: {peak:.0f} MB (target < {TARGETS['peak_mb']:.0f})")
    met = export1 / baseline <= TARGETS["ratio_to_baselines"] and peak < TARGETS["peak_mb"]
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
