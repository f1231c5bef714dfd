"""Benchmark of ``mk2ds convert --engine dask`` against the local engine, and an estimate for N machines.

Usage::

    python benchmarks/scale.py                    # 2 GB of generated fleet logs (8 hosts)
    python benchmarks/scale.py --size-mb 200      # quicker
    python benchmarks/scale.py --layout one-big   # one log holding half the bytes, plus 7 smaller ones
    python benchmarks/scale.py --keep --workdir /tmp/scale

It generates Mark II logs of a fleet with the project's generator (``mk2ds.plugins.synthetic.generator``: each host
its own seed and scenario, 2018-style lines, mixed headers, CRLF), then converts them to JSON Lines, each run
in its own child process:

* ``local -j 2``: the local engine, two worker processes (the baseline);
* ``dask 2 workers``: ``--engine dask --workers 2``, a LocalCluster started for the run (its start-up is
  part of the time, as for a user), logs split into ``--range-size`` byte ranges.

It checks that both wrote the same bytes, prints MB/s and the engine's overhead (Dask wall time / local wall
time; target at most 1.25 on one machine), then measures the costs the estimate needs: the scheduling cost
of a task (no-op tasks through the same engine), the conversion rate of one worker while busy, the scan
rate, the client's merge rate (from the run's own summary), and prints the estimated throughput on N
machines. Exit code 0 when the target is met and the outputs are identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGET_OVERHEAD = 1.25
WORKERS_PER_MACHINE = 2
SCENARIOS = ("wannacry", "benign", "lateral", "olympic", "benign", "dropper", "petya", "benign")


def noop(pm: Any, shared: Any, argument: Any) -> None:
    """A task that does nothing: what remains is the engine's cost of a task."""


@dataclass
class Timed:
    wall: float
    cpu: float
    code: int
    err: str


def run_child(arguments: list[str]) -> Timed:
    """Run a command; wall seconds and CPU seconds of it and every process it started (Dask's too)."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "wall = time.perf_counter() - start\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'wall': wall, 'cpu': usage.ru_utime + usage.ru_stime, 'code': done.returncode,"
        " 'err': done.stderr.decode(errors='replace')[-20000:]}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, *arguments], check=True, capture_output=True, text=True)
    data = json.loads(result.stdout)
    if data["code"] != 0:
        raise SystemExit(f"benchmark step failed ({data['code']}): {' '.join(arguments)[:300]}\n{data['err'][-3000:]}")
    return Timed(data["wall"], data["cpu"], data["code"], data["err"])


def mk2ds(*arguments: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from mk2ds.core.cli import main; sys.exit(main())", *arguments]


def _write_one(job: tuple[str, int, int, str]) -> int:
    from mk2ds.plugins.synthetic.generator import write_log

    path, size, number, scenario = job
    return int(
        write_log(
            path, seed=100 + number, host=f"PC{number + 1}", scenario=scenario, header="mixed", target_bytes=size
        ).lines
    )


def make_fleet(folder: Path, total: int, files: int, layout: str) -> int:
    """Write the fleet's logs (in two processes); return the number of lines."""
    if layout == "one-big":
        sizes = [total // 2] + [total // 2 // (files - 1)] * (files - 1)
    else:
        sizes = [total // files] * files
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [
        (str(folder / f"pc{number + 1:03d}.log"), size, number, SCENARIOS[number % len(SCENARIOS)])
        for number, size in enumerate(sizes)
    ]
    with ProcessPoolExecutor(2) as pool:
        return sum(pool.map(_write_one, jobs))


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            with open(path, "rb") as handle:
                while chunk := handle.read(8 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


NUMBER = r"([\d,]+(?:\.\d+)?)"


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_summary(err: str) -> dict[str, float]:
    """The figures of the engine's summary lines on standard error (see mk2ds.plugins.dask.progress)."""
    found: dict[str, float] = {}
    ready = re.search(r"ready in " + NUMBER + " s", err)
    found["ready"] = _number(ready.group(1)) if ready else 0.0
    for phase in ("scan", "convert"):
        match = re.search(rf"dask: {phase}: (\d+) tasks, {NUMBER} MB in {NUMBER} s .*workers busy {NUMBER} s", err)
        if match:
            found[f"{phase}_tasks"] = _number(match.group(1))
            found[f"{phase}_mb"] = _number(match.group(2))
            found[f"{phase}_wall"] = _number(match.group(3))
            found[f"{phase}_busy"] = _number(match.group(4))
    merge = re.search(rf"merge: (\d+) files .* {NUMBER} MB copied in {NUMBER} s", err)
    if merge:
        found["files"] = _number(merge.group(1))
        found["merge_mb"] = _number(merge.group(2))
        found["merge_s"] = _number(merge.group(3))
    return found


def task_cost(tasks: int) -> tuple[float, float]:
    """Seconds per no-op task through a 2-worker LocalCluster: wall per task, and worker-slot time per task."""
    from mk2ds.core import get_plugin_manager
    from mk2ds.core.engines import EngineTask
    from mk2ds.core.walker import PluginSettings
    from mk2ds.plugins.dask import DaskSession

    session = DaskSession(
        argparse.Namespace(scheduler=None, workers=WORKERS_PER_MACHINE), get_plugin_manager(), PluginSettings()
    )
    try:
        list(session.run(noop, [EngineTask(f"warm {index}", 1, None) for index in range(20)], show_progress=False))
        started = time.perf_counter()
        outcomes = list(
            session.run(noop, [EngineTask(f"noop {index}", 1, index) for index in range(tasks)], show_progress=False)
        )
        wall = time.perf_counter() - started
    finally:
        session.close()
    assert all(outcome.error is None for outcome in outcomes)
    return wall / tasks, wall * WORKERS_PER_MACHINE / tasks


def scan_rate(path: Path) -> float:
    """MB/s of one process scanning a log for its ranges (line count and encoding evidence)."""
    from mk2ds.plugins.reader.byte_ranges import scan_range

    size = path.stat().st_size
    started = time.perf_counter()
    scan_range(path, 0, size)
    return size / 1e6 / (time.perf_counter() - started)


def merge_rate(outputs: Path, target: Path, limit: int = 1 << 30) -> float:
    """MB/s of the client appending part files into one output, as the merge does (up to ``limit`` bytes)."""
    from mk2ds.core.atomic import atomic_writer
    from mk2ds.plugins.convert.engine import append_file

    parts = sorted(path for path in outputs.rglob("*") if path.is_file())
    copied = 0
    started = time.perf_counter()
    with atomic_writer(target) as handle:
        for part in parts:
            copied += append_file(str(part), handle)
            if copied >= limit:
                break
    seconds = time.perf_counter() - started
    target.unlink()
    return copied / 1e6 / seconds


def estimate(
    costs: dict[str, float], total_mb: float, output_mb: float, files: int, range_mb: float, machines: int
) -> tuple[float, float, int]:
    """Seconds and MB/s to convert ``total_mb`` on ``machines`` × 2 workers, and the workers used.

    T = start + scan + max(convert, merge) + the last file's merge, where scan and convert spread their
    bytes and per-task costs over min(workers, tasks) workers (plus one task's time at the end), and the
    merge runs on the client, overlapped with conversion except for the last file.
    """
    workers = machines * WORKERS_PER_MACHINE
    tasks = max(files, math.ceil(total_mb / range_mb))
    used = min(workers, tasks)
    per_task = costs["task"]
    scan = (total_mb / costs["scan_rate"] + tasks * per_task) / used + range_mb / costs["scan_rate"]
    convert = (total_mb / costs["rate"] + tasks * per_task) / used + min(range_mb, total_mb / files) / costs["rate"]
    merge = output_mb / costs["merge_rate"]
    seconds = costs["ready"] + scan + max(convert, merge) + merge / files
    return seconds, total_mb / seconds, used


def main() -> int:
    from mk2ds.plugins.reader.byte_ranges import parse_size

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=2000.0, help="total MB of generated logs (default 2000)")
    parser.add_argument("--files", type=int, default=8, help="number of logs in the fleet (default 8)")
    parser.add_argument(
        "--layout", choices=["fleet", "one-big"], default="fleet", help="equal logs, or one holding half the bytes"
    )
    parser.add_argument("--range-size", default="64M", help="--range-size of the Dask run (default 64M)")
    parser.add_argument(
        "--noop-tasks", type=int, default=400, help="no-op tasks timed for the per-task cost (default 400)"
    )
    parser.add_argument("--workdir", help="where to write the logs and outputs (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="mk2ds-scale-"))
    source = workdir / f"fleet-{args.layout}-{args.size_mb:g}MB-{args.files}"
    started = time.perf_counter()
    if not source.exists():
        lines = make_fleet(source, int(args.size_mb * 1e6), args.files, args.layout)
        print(f"generated {args.files} logs, {lines:,} lines in {time.perf_counter() - started:.0f} s")
    total_mb = sum(path.stat().st_size for path in source.glob("*.log")) / 1e6
    print(
        f"input: {total_mb:,.0f} MB in {args.files} logs ({args.layout}); machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
    )

    local = run_child(mk2ds("convert", str(source), "-o", str(workdir / "local"), "-j", "2", "--quiet"))
    remote = run_child(
        mk2ds(
            "convert",
            str(source),
            "-o",
            str(workdir / "dask"),
            "--engine",
            "dask",
            "--workers",
            "2",
            "--range-size",
            args.range_size,
        )
    )
    output_mb = sum(path.stat().st_size for path in (workdir / "local").rglob("*") if path.is_file()) / 1e6
    identical = tree_digest(workdir / "local") == tree_digest(workdir / "dask")
    summary = parse_summary(remote.err)

    print()
    print(f"{'run':18} {'wall s':>8} {'CPU s':>8} {'MB/s':>8} {'x local':>8}")
    for name, timed in (("local -j 2", local), ("dask 2 workers", remote)):
        print(
            f"{name:18} {timed.wall:8.1f} {timed.cpu:8.1f} {total_mb / timed.wall:8.1f} {timed.wall / local.wall:8.3f}"
        )
    overhead = remote.wall / local.wall
    print(f"outputs identical: {identical} ({output_mb:,.0f} MB of JSON Lines each)")
    print("engine summary (stderr of the Dask run):")
    for line in remote.err.splitlines():
        if line.startswith(("mk2ds convert: dask:", "mk2ds convert: merge:")):
            print("   ", line.removeprefix("mk2ds convert: "))

    wall_per_task, slot_per_task = task_cost(args.noop_tasks)
    costs = {
        "ready": summary.get("ready", 0.0),
        "task": slot_per_task,
        "rate": summary["convert_mb"] / max(summary["convert_busy"], 1e-9),
        "scan_rate": scan_rate(min(source.glob("*.log"))),
        "merge_rate": merge_rate(workdir / "local", workdir / "merge-probe"),
    }
    accounted = summary.get("ready", 0) + summary.get("scan_wall", 0) + summary.get("convert_wall", 0)
    print()
    print("measured costs:")
    print(
        f"    scheduling: {wall_per_task * 1e3:.2f} ms per no-op task ({1 / wall_per_task:,.0f} tasks/s), {slot_per_task * 1e3:.2f} ms of a worker slot"
    )
    print(f"    one worker converts {costs['rate']:.1f} MB/s while busy; scans {costs['scan_rate']:,.0f} MB/s")
    observed = (
        f" (in the run: {summary['merge_mb']:,.0f} MB in {summary['merge_s']:.2f} s)" if summary.get("merge_mb") else ""
    )
    print(
        f"    client merge: {costs['merge_rate']:,.0f} MB/s of output{observed}; cluster start {costs['ready']:.2f} s"
    )
    print(
        f"    Dask run: {accounted:.1f} s accounted (start + scan + convert) of {remote.wall:.1f} s (the rest: Python and imports, report)"
    )
    range_mb = parse_size(args.range_size) / 1e6
    print()
    print(
        f"estimate for {total_mb:,.0f} MB ({args.files} logs, {range_mb:.0f} MB ranges), {WORKERS_PER_MACHINE} workers per machine, shared file system assumed fast enough:"
    )
    print(f"{'machines':>9} {'workers used':>13} {'seconds':>9} {'MB/s':>9} {'speed-up':>9}")
    base = estimate(costs, total_mb, output_mb, args.files, range_mb, 1)[0]
    for machines in (1, 2, 4, 8, 16, 32):
        seconds, rate, used = estimate(costs, total_mb, output_mb, args.files, range_mb, machines)
        print(f"{machines:>9} {used:>13} {seconds:>9.1f} {rate:>9.1f} {base / seconds:>9.2f}")
    terabyte = 1e6
    print(f"and for 1 TB of logs in 1,000 files ({range_mb:.0f} MB ranges, {math.ceil(terabyte / range_mb):,} tasks):")
    for machines in (1, 8, 32, 128):
        seconds, rate, used = estimate(costs, terabyte, terabyte * output_mb / total_mb, 1000, range_mb, machines)
        print(f"{machines:>9} {used:>13} {seconds / 3600:>8.2f}h {rate:>9.1f}")

    print()
    good = overhead <= TARGET_OVERHEAD
    print(f"  {'ok  ' if good else 'MISS'} dask / local wall time {overhead:.3f} (target <= {TARGET_OVERHEAD})")
    print(f"  {'ok  ' if identical else 'MISS'} identical outputs")
    if not args.keep:
        for name in ("local", "dask"):
            shutil.rmtree(workdir / name, ignore_errors=True)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if good and identical else 1


if __name__ == "__main__":
    sys.exit(main())
