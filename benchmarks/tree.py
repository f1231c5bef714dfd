"""Speed and memory of the process model behind ``mk2ds tree`` (issue 4), measured in this run.

    python benchmarks/tree.py [--records 1000000] [--processes 2000] [--memory-records 400000] [--seed 4]

1. Throughput: a generated stream of ``--records`` record dicts (a Mark II-like mix: process starts and
   stops, file/reg/net/win activity, ``open`` events, injections, executables written and run) is fed to the
   model. The baseline is the same generator consumed by an empty loop, so the model's own cost is
   ``total - baseline``. Peak resident memory (``ru_maxrss``) of each run is measured in a fresh subprocess.
2. Memory growth: peak memory allocated while building (``tracemalloc``), for a base stream, twice the
   processes (same records) and twice the records (same processes). With the default ``--max-events`` the
   second must grow about 2x and the third hardly at all: memory follows processes, not records.

Target (issue 4): at least 100,000 records/s for the model, and memory that grows with processes only.

4. Memory per process and the JSON output (issue 13 item 20): a Mark II log of ``--json-processes`` process
   starts (each the child of an earlier one; ``--json-processes 0`` skips it, ``--only json`` runs only it)
   is read by the reader alone (the baseline), by the reader feeding the model, and by ``mk2ds tree --format
   json -o FILE``, with all processes and with half of them, each in a fresh subprocess. Bytes per process in
   the model = (peak RSS of reader + model - peak RSS of the reader) / processes; the JSON output is in
   bounded memory when its peak above the model's stays flat from half to all processes. Also shown:
   ``python -c 'import mk2ds.plugins.tree'`` (the floor). Targets: model <= 1 KiB per process, JSON output
   above the model <= 0.25 KiB per process (what the view keeps per node: its role, the list of ids).
The machine may be shared: the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from mk2ds.plugins.tree.model import build_model

TARGET_RECORDS_PER_SECOND = 100_000
ZONE = timezone(timedelta(hours=9))
START = datetime(2018, 3, 1, 19, 30, tzinfo=ZONE)


def stream(records: int, processes: int, seed: int) -> Iterator[dict[str, Any]]:
    """``records`` record dicts over ``processes`` processes. The processes start during the first tenth of the
    stream (each one's image first written by its parent: a wrote-then-ran relation); afterwards every process
    keeps producing activity, so each has more records than the per-process caps, as in a 30-minute log."""
    rng = random.Random(seed)
    guids = [
        f"{{{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}-4{rng.getrandbits(12):03X}-8{rng.getrandbits(12):03X}-{rng.getrandbits(48):012X}}}"
        for _ in range(processes)
    ]
    paths = [f"C:\\Program Files\\App{index % 50}\\tool{index}.exe" for index in range(processes)]
    files = [f"C:\\Users\\taro.yamada\\Documents\\資料{index}.docx" for index in range(5000)]
    times = [(START + timedelta(milliseconds=step * 7)).isoformat(timespec="milliseconds") for step in range(4096)]
    started = 0
    every = max(1, records // 10 // processes)
    for sn in range(1, records + 1):
        time_text = times[(sn // 64) % 4096]
        if started < processes and sn % every == 1:
            parent = rng.randrange(started) if started else None
            if parent is not None:
                yield {
                    "time": time_text,
                    "sn": sn,
                    "evt": "file",
                    "subEvt": "close",
                    "com": "PC1",
                    "psGUID": guids[parent],
                    "psPath": paths[parent],
                    "path": paths[started],
                    "drvType": "HDD",
                    "read": 0,
                    "write": 4096,
                    "size": 4096,
                    "new": 1,
                }
            yield {
                "time": time_text,
                "sn": sn,
                "evt": "ps",
                "subEvt": "start",
                "com": "PC1",
                "psGUID": guids[started],
                "psPath": paths[started],
                "parentGUID": guids[parent] if parent is not None else "{00000000-0000-4000-8000-000000000000}",
                "cmd": f"{paths[started]} /run",
                "psID": 1000 + started,
            }
            started += 1
            continue
        index = rng.randrange(started)
        guid, path = guids[index], paths[index]
        kind = rng.random()
        if kind < 0.40:
            yield {
                "time": time_text,
                "sn": sn,
                "evt": "file",
                "subEvt": "close",
                "com": "PC1",
                "psGUID": guid,
                "psPath": path,
                "path": files[sn % 5000],
                "drvType": "HDD",
                "read": 100,
                "write": sn % 3,
                "size": 100,
                "new": 0,
            }
        elif kind < 0.55:
            yield {
                "time": time_text,
                "sn": sn,
                "evt": "file",
                "subEvt": "open",
                "com": "PC1",
                "psGUID": guid,
                "psPath": path,
                "path": files[sn % 5000],
            }
        elif kind < 0.70:
            yield {
                "time": time_text,
                "sn": sn,
                "evt": "reg",
                "subEvt": "setVal",
                "com": "PC1",
                "psGUID": guid,
                "psPath": path,
                "path": "HKEY_CURRENT_USER\\Software\\App",
                "entry": "Last",
                "valType": "REG_SZ",
                "valStr": files[sn % 5000],
            }
        elif kind < 0.85:
            yield {
                "time": time_text,
                "sn": sn,
                "evt": "net",
                "subEvt": "con" if sn % 2 else "dcon",
                "com": "PC1",
                "psGUID": guid,
                "psPath": path,
                "srcIP": "172.24.1.1",
                "srcPort": 49000 + sn % 1000,
                "dstIP": f"172.24.1.{2 + sn % 20}",
                "dstPort": 445 if sn % 3 else 443,
            }
        elif kind < 0.95:
            yield {
                "time": time_text,
                "sn": sn,
                "evt": "win",
                "subEvt": "active",
                "com": "PC1",
                "psGUID": guid,
                "psPath": path,
                "winTitle": "無題 - メモ帳",
            }
        elif kind < 0.995:
            yield {
                "time": time_text,
                "sn": sn,
                "evt": "file",
                "subEvt": "create",
                "com": "PC1",
                "psGUID": guid,
                "psPath": path,
                "path": f"C:\\Users\\taro.yamada\\AppData\\Local\\Temp\\~tmp{sn}.tmp",
            }
        else:
            yield {
                "time": time_text,
                "sn": sn,
                "evt": "ps",
                "subEvt": "inject",
                "com": "PC1",
                "psGUID": guid,
                "psPath": path,
                "api": "OpenProcess",
                "tpsGUID": guids[rng.randrange(started)],
            }


def run_once(mode: str, records: int, processes: int, seed: int, log: str | None = None) -> dict[str, Any]:
    """One measurement, meant to run in a fresh subprocess (so ``ru_maxrss`` is this run's peak)."""
    started = time.perf_counter()
    if mode in ("reader", "reader+model"):
        from mk2ds.plugins.reader import open_log

        assert log is not None
        with open(log, "rb") as handle:
            reader = open_log(handle, log, argparse.Namespace())
            if mode == "reader":
                summary: dict[str, Any] = {"records": sum(1 for _ in reader)}
            else:
                tree = build_model(reader)
                summary = {"records": tree.records, "processes": len(tree.nodes)}
    elif mode == "baseline":
        count = sum(1 for _ in stream(records, processes, seed))
        summary = {"records": count}
    elif mode == "model":
        model = build_model(stream(records, processes, seed))
        summary = {"records": model.records, "processes": len(model.nodes), "relations": model.relations.counts()}
    elif mode == "traced":  # tracemalloc: bytes allocated at the peak while building
        tracemalloc.start()
        model = build_model(stream(records, processes, seed))
        summary = {
            "records": model.records,
            "processes": len(model.nodes),
            "traced_peak": tracemalloc.get_traced_memory()[1],
        }
        tracemalloc.stop()
    elif mode == "import":
        import mk2ds.plugins.tree  # noqa: F401 - the floor: Python and the tree package

        summary = {}
    elif mode == "tree-json":
        from mk2ds.core.cli import main as mk2ds_main

        assert log is not None
        summary = {"exit": mk2ds_main(["tree", log, "--format", "json", "-o", log + ".json"])}
    elif mode == "write-starts":
        assert log is not None
        summary = {"bytes": write_starts(log, processes)}
    elif mode == "count-json":  # the processes of a tree document, line by line (the file may be large)
        assert log is not None
        with open(log, encoding="utf-8") as handle:
            summary = {"processes": sum(1 for line in handle if line.startswith('      "id": '))}
    else:
        raise ValueError(mode)
    summary["seconds"] = time.perf_counter() - started
    summary["max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return summary


def in_subprocess(mode: str, records: int, processes: int, seed: int, log: str | None = None) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--records",
        str(records),
        "--processes",
        str(processes),
        "--seed",
        str(seed),
    ]
    if log:
        command += ["--log", log]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=2_000)
    parser.add_argument(
        "--memory-records", type=int, default=400_000, help="records of the base stream of the memory test"
    )
    parser.add_argument(
        "--memory-processes", type=int, default=500, help="processes of the base stream of the memory test"
    )
    parser.add_argument(
        "--log-lines", type=int, default=300_000, help="lines of the generated Mark II log of part 3 (0 = skip)"
    )
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--json-processes", type=int, default=100_000, help="process starts in the log of part 4 (0 = skip)"
    )
    parser.add_argument("--only", choices=["all", "json"], default="all", help="json: run only part 4")
    parser.add_argument(
        "--child",
        choices=[
            "baseline",
            "model",
            "traced",
            "reader",
            "reader+model",
            "import",
            "tree-json",
            "write-starts",
            "count-json",
        ],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.child, args.records, args.processes, args.seed, args.log)))
        return

    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    if args.only == "json":
        json_part(args.json_processes)
        return
    baseline = in_subprocess("baseline", args.records, args.processes, args.seed)
    model = in_subprocess("model", args.records, args.processes, args.seed)
    own = max(model["seconds"] - baseline["seconds"], 1e-9)
    rate = args.records / own
    print(
        f"\n1. {args.records:,} records, {args.processes:,} processes ({model['processes']:,} nodes with placeholders), relations {model['relations']}"
    )
    print(
        f"   generator alone (baseline)  {baseline['seconds']:7.2f} s   peak RSS {baseline['max_rss'] / 2**20:7.1f} MiB"
    )
    print(f"   generator + model           {model['seconds']:7.2f} s   peak RSS {model['max_rss'] / 2**20:7.1f} MiB")
    print(
        f"   model alone                 {own:7.2f} s   {rate:,.0f} records/s "
        f"({rate / TARGET_RECORDS_PER_SECOND:.2f}x the {TARGET_RECORDS_PER_SECOND:,}/s target); "
        f"end-to-end {args.records / model['seconds']:,.0f} records/s; model memory {(model['max_rss'] - baseline['max_rss']) / 2**20:.1f} MiB"
    )

    base_records, base_processes = args.memory_records, args.memory_processes
    cases = [
        ("base", base_records, base_processes),
        ("2x processes", base_records, 2 * base_processes),
        ("2x records", 2 * base_records, base_processes),
    ]
    results = {name: in_subprocess("traced", records, processes, args.seed) for name, records, processes in cases}
    base_peak = results["base"]["traced_peak"]
    print(
        f"\n2. memory while building (tracemalloc peak), default --max-events; base = {base_records:,} records, {base_processes:,} processes"
    )
    for name, records, processes in cases:
        peak = results[name]["traced_peak"]
        print(
            f"   {name:13} {records:>9,} records {processes:>6,} processes   {peak / 2**20:7.1f} MiB   {peak / base_peak:4.2f}x base"
        )
    added_by_processes = results["2x processes"]["traced_peak"] - base_peak
    added_by_records = results["2x records"]["traced_peak"] - base_peak
    verdict = "yes" if added_by_records < 0.25 * added_by_processes else "NO"
    print(
        f"   memory follows processes (+{added_by_processes / 2**20:.1f} MiB for 2x processes), "
        f"not records (+{added_by_records / 2**20:.1f} MiB for 2x records): {verdict}"
    )
    if args.log_lines:
        log_part(args.log_lines, args.seed)
    if args.json_processes:
        json_part(args.json_processes)


def log_part(lines: int, seed: int) -> None:
    """3. The whole ``mk2ds tree`` pipeline on a generated WannaCry log: the reader alone is the baseline."""
    import tempfile

    from mk2ds.plugins.synthetic.generator import write_log

    with tempfile.TemporaryDirectory(prefix="mk2ds-tree-bench-") as folder:
        log = os.path.join(folder, "wannacry.log")
        info = write_log(log, seed=seed, scenario="wannacry", events=lines, minutes=30 * max(1, lines // 100_000))
        reader = in_subprocess("reader", 0, 0, seed, log)
        both = in_subprocess("reader+model", 0, 0, seed, log)
    own = max(both["seconds"] - reader["seconds"], 1e-9)
    print(
        f"\n3. generated WannaCry log: {info.lines:,} lines, {info.bytes / 2**20:.1f} MiB, {both['processes']:,} processes"
    )
    print(
        f"   Mark II reader alone (baseline) {reader['seconds']:6.2f} s   {info.lines / reader['seconds']:,.0f} lines/s"
    )
    print(
        f"   reader + model                  {both['seconds']:6.2f} s   {info.lines / both['seconds']:,.0f} lines/s "
        f"({both['seconds'] / reader['seconds']:.2f}x the reader alone); model {info.lines / own:,.0f} records/s; "
        f"peak RSS {both['max_rss'] / 2**20:.1f} MiB"
    )


def write_starts(path: str, processes: int) -> int:
    """A Mark II log of ``processes`` ``ps/start`` lines, each process the child of an earlier one (a few
    images and one user repeat, as in a real log); returns its size in bytes."""
    rng = random.Random(13)
    guids: list[str] = []
    with open(path, "w", encoding="utf-8", newline="\r\n") as out:
        for index in range(processes):
            guid = f"{{{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}-4{rng.getrandbits(12):03X}-8{rng.getrandbits(12):03X}-{rng.getrandbits(48):012X}}}"
            parent = guids[rng.randrange(index)] if index else "{00000000-0000-4000-8000-000000000001}"
            image = f"C:\\Program Files\\App{index % 40}\\tool{index % 300}.exe"
            clock = f"03/01/2018 19:{index // 60000 % 60:02d}:{index // 1000 % 60:02d}.{index % 1000:03d} +0900"
            out.write(
                f'{clock} sn={index + 1} evt=ps subEvt=start com="PC1" psGUID={guid} psPath="{image}" '
                f'parentGUID={parent} parentPath="C:\\Windows\\explorer.exe" cmd="""{image}"" /run {index}" '
                f'psUser="taro.yamada" psDomain="PC1" psID={1000 + index}\n'
            )
            guids.append(guid)
    return os.path.getsize(path)


def json_part(processes: int) -> None:
    """4. Peak RSS per process of the model and of ``tree --format json``, against the reader alone."""
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory(prefix="mk2ds-tree-json-") as folder:
        floor = in_subprocess("import", 0, 0, 0)
        for count in (processes // 2, processes):
            log = os.path.join(folder, f"starts-{count}.log")
            size = in_subprocess("write-starts", 0, count, 0, log)["bytes"]  # subprocesses: Linux passes a
            reader = in_subprocess("reader", 0, 0, 0, log)  # parent's peak RSS on to its children, so this one
            model = in_subprocess("reader+model", 0, 0, 0, log)  # stays small
            tree = in_subprocess("tree-json", 0, 0, 0, log)
            assert tree["exit"] == 0, tree
            shown = in_subprocess("count-json", 0, 0, 0, log + ".json")["processes"]
            assert shown == model["processes"] == count + 1, (shown, model)
            rows.append((count, size, reader, model, tree))
    print(f"\n4. logs of process starts; floor: import mk2ds.plugins.tree peaks at {floor['max_rss'] / 2**20:.1f} MiB")
    print("   processes   log MiB   reader MiB  +model MiB  tree json MiB  model B/process  json above model B/process")
    for count, size, reader, model, tree in rows:
        per_process = (model["max_rss"] - reader["max_rss"]) / count
        above = (tree["max_rss"] - model["max_rss"]) / count
        print(
            f"   {count:>9,}  {size / 2**20:8.1f}  {reader['max_rss'] / 2**20:10.1f}  {model['max_rss'] / 2**20:10.1f}"
            f"  {tree['max_rss'] / 2**20:13.1f}  {per_process:15.0f}  {above:26.0f}"
        )
    (half, _, _, half_model, half_tree), (full, _, reader, model, tree) = rows
    per_process = (model["max_rss"] - reader["max_rss"]) / full
    growth = ((tree["max_rss"] - model["max_rss"]) - (half_tree["max_rss"] - half_model["max_rss"])) / (full - half)
    print(
        f"   model {per_process:.0f} B/process ({per_process / 1024:.2f}x the 1 KiB target: {'met' if per_process <= 1024 else 'MISSED'}); "
        f"tree json peak {tree['max_rss'] / model['max_rss']:.2f}x the model's, {tree['max_rss'] / floor['max_rss']:.1f}x the floor; "
        f"its part above the model grows {growth:.0f} B per added process ({'bounded' if growth <= 256 else 'NOT bounded'}); "
        f"{full / tree['seconds']:,.0f} processes/s end to end"
    )


if __name__ == "__main__":
    main()
