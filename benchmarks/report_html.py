"""Size and render time of the HTML report (``mk2ds verify --format html``) for a 117-sample distribution.

    python benchmarks/report_html.py [--samples 117] [--events 300] [--workdir DIR] [--keep]

1. The synthetic generator writes a distribution of ``--samples`` samples (the size of the Soliton Dataset
   2018) and ``mk2ds verify --format json`` writes its report.
2. The page is rendered from that JSON (Python render time), and loaded in headless Chromium over the
   DevTools protocol: the time from navigation to the ``load`` event and the number of DOM nodes. The
   baseline, in the same browser and run, is a plain page of the same byte size (one ``<pre>`` holding the
   JSON report, padded), so the ratio says what the page's markup, SVG and script cost over bytes alone.

Targets (issue 15): page under 5 MB and rendered in under 2 s. Printed, never asserted in the tests.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from mk2ds.core.cli import main
from mk2ds.plugins.reports.html import render
from mk2ds.plugins.synthetic import write_sample

TARGET_BYTES = 5_000_000
TARGET_SECONDS = 2.0
ROOT = Path(__file__).resolve().parents[1]


def devtools_client() -> Any:
    """The standard-library DevTools client of the tree page's tests (one implementation, not two)."""
    spec = importlib.util.spec_from_file_location(
        "tree_page_tests", ROOT / "tests" / "plugins" / "tree" / "test_html.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_seconds(chromium: str, pages: list[Path], rounds: int) -> list[tuple[float, int]]:
    """For each page: median seconds from navigation to the load event, and the DOM node count."""
    client = devtools_client()
    profile = tempfile.mkdtemp(prefix="mk2ds-bench-")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "--window-size=1400,1000",
        "about:blank",
    ]
    process = subprocess.Popen([chromium, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        while not (port_file.exists() and port_file.read_text().strip()):
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            target = next(item for item in json.loads(response.read()) if item["type"] == "page")
        tools = client.DevTools(target["webSocketDebuggerUrl"])
        results = []
        for page in pages:
            times = []
            for _ in range(rounds):
                tools.call("Page.navigate", url="about:blank")
                tools.wait_for("document.readyState === 'complete'")
                tools.call("Page.navigate", url=page.as_uri())
                tools.wait_for("document.readyState === 'complete' && performance.timing.loadEventEnd > 0")
                times.append(
                    tools.evaluate("(performance.timing.loadEventEnd - performance.timing.navigationStart) / 1000")
                )
            results.append((statistics.median(times), tools.evaluate("document.getElementsByTagName('*').length")))
        tools.close()
        return results
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def main_benchmark() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=117)
    parser.add_argument("--events", type=int, default=300, help="about N lines per 30-minute log")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", help="where to write the distribution (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    chromium = next(
        (path for path in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if path), None
    )
    work = Path(args.workdir or tempfile.mkdtemp(prefix="mk2ds-report-html-"))
    try:
        started = time.perf_counter()
        sample = write_sample(work / "ds", samples=args.samples, events_per_log=args.events)
        generated = time.perf_counter() - started
        report_json = work / "report.json"
        started = time.perf_counter()
        main(["verify", str(sample.root), "--quiet", "--format", "json", "-o", str(report_json)])
        verified = time.perf_counter() - started
        document = json.loads(report_json.read_text(encoding="utf-8"))
        started = time.perf_counter()
        page_text = render(document, argparse.Namespace())
        rendered = time.perf_counter() - started
        page = work / "report.html"
        page.write_text(page_text, encoding="utf-8")
        size = page.stat().st_size
        plain = work / "plain.html"
        body = html.escape(report_json.read_text(encoding="utf-8"))
        plain.write_text(
            "<!DOCTYPE html><meta charset=utf-8><pre>" + body + " " * max(0, size - len(body.encode())) + "</pre>",
            encoding="utf-8",
        )
        print(
            f"{args.samples} samples: generated in {generated:.1f} s, verified in {verified:.1f} s; load average {os.getloadavg()[0]:.2f}"
        )
        print(f"{'what':28} {'bytes':>10} {'x JSON':>7}")
        print(f"{'JSON report':28} {report_json.stat().st_size:>10,} {1:>7.2f}")
        print(f"{'HTML page':28} {size:>10,} {size / report_json.stat().st_size:>7.2f}   (target < {TARGET_BYTES:,})")
        print(f"render in Python: {rendered:.3f} s")
        if chromium is None:
            print("no Chromium installed: browser load time not measured")
            return 0 if size < TARGET_BYTES else 1
        (page_seconds, page_nodes), (plain_seconds, plain_nodes) = load_seconds(chromium, [page, plain], args.rounds)
        print(f"{'in Chromium':28} {'load s':>10} {'x plain':>7} {'DOM nodes':>10}")
        print(f"{'plain page, same bytes':28} {plain_seconds:>10.3f} {1:>7.2f} {plain_nodes:>10,}")
        print(
            f"{'HTML report':28} {page_seconds:>10.3f} {page_seconds / max(plain_seconds, 1e-3):>7.2f} {page_nodes:>10,}   (target < {TARGET_SECONDS} s)"
        )
        return 0 if size < TARGET_BYTES and page_seconds < TARGET_SECONDS else 1
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f"kept {work}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main_benchmark())
