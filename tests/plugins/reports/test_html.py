"""The ``html`` report page: self-contained, rendered from the JSON report, inert against hostile names, and
working in a real browser (filters, sorting, search, charts).

The browser tests drive headless Chromium over the DevTools protocol with the small client of the tree page's
tests; they are marked ``browser`` and skipped only when no Chromium is installed. They leave screenshots of
the page on the sample distribution in ``$MK2DS_ARTIFACTS`` (or a pytest temporary folder) and print where.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from chromium import DevTools, needs_chromium, open_page

from mk2ds.core.cli import main
from mk2ds.core.schemas import validate_document
from mk2ds.plugins.reports.html import render
from mk2ds.plugins.synthetic import SampleDistribution, write_sample

HOSTILE_FILE = '<img src=x onerror="window.__pwned=1">\u202egpj.exe\x07.txt'
HOSTILE_HOST = "</script><script>window.__pwned=2</script>"
HOSTILE_OS = "<svg onload=window.__pwned=3>\x1b[2J Windows"
MK2_TIME = re.compile(rb"^(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):")


def verify_json(root: Path, out: Path) -> dict[str, Any]:
    code = main(["verify", str(root), "--quiet", "--format", "json", "-o", str(out)])
    assert code in (0, 1), code
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> tuple[SampleDistribution, dict[str, Any]]:
    sample = write_sample(tmp_path_factory.mktemp("html") / "SolitonDataset2018", seed=0)
    return sample, verify_json(sample.root, sample.root.parent / "report.json")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample distribution with a hostile file name and hostile Sysinfo values."""
    sample = write_sample(tmp_path_factory.mktemp("hostile") / "ds", seed=0)
    (sample.root / "MK2Log" / HOSTILE_FILE).write_bytes(b"not a log\n")
    victim = sample.samples[0].sha256
    info = sample.root / "Sysinfo" / victim / "systeminfo.txt"
    text = info.read_bytes().decode("cp932")
    lines = text.split("\r\n")
    lines[1] = re.sub(r"(:\s+).*$", lambda match: match.group(1) + HOSTILE_HOST, lines[1])
    lines[2] = re.sub(r"(:\s+).*$", lambda match: match.group(1) + HOSTILE_OS, lines[2])
    info.write_bytes("\r\n".join(lines).encode("cp932"))
    return verify_json(sample.root, sample.root.parent / "report.json")


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[SampleDistribution, dict[str, Any]]:
    """The sample distribution with every impfuzzy file renamed (a systematic problem) and one 30m log cut
    to its first 40 % (a duration outlier)."""
    sample = write_sample(tmp_path_factory.mktemp("damaged") / "ds", seed=0)
    for path in (sample.root / "impfuzzy").iterdir():
        path.rename(path.with_suffix(".impfuzzy"))
    log = sample.root / "MK2Log" / "30m" / f"{sample.samples[1].sha256}.log"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[: len(lines) * 4 // 10]))
    return sample, verify_json(sample.root, sample.root.parent / "report.json")


def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = (
        Path(os.environ["MK2DS_ARTIFACTS"])
        if os.environ.get("MK2DS_ARTIFACTS")
        else tmp_path_factory.mktemp("artifacts")
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clock_minutes(log: Path) -> int:
    """Clock minutes from the first record's minute to the last's, read straight from the Mark II lines."""
    minutes = set()
    for line in log.read_bytes().splitlines():
        match = MK2_TIME.match(line)
        if match:
            month, day, year, hour, minute = (int(part) for part in match.groups())
            minutes.add((year, month, day, hour, minute))
    first, last = min(minutes), max(minutes)
    return int((time.mktime((*last, 0, 0, 0, -1)) - time.mktime((*first, 0, 0, 0, -1))) // 60) + 1


# ----------------------------------------------------------------------------------------------- static checks


def test_report_document_carries_what_the_page_shows(distribution: tuple[SampleDistribution, dict[str, Any]]) -> None:
    sample, document = distribution
    assert validate_document(document, "report") == []
    facts = document["samples"][0]["facts"]
    for key in (
        "labels",
        "extension",
        "is_pe",
        "flags.verbose",
        "flags.report",
        "30m-log.bytes",
        "30m-log.records",
        "30m-log.minutes",
        "30m-log.processes",
        "30m-log.activity",
        "systeminfo.host_name",
        "systeminfo.time_zone",
    ):
        assert key in facts, key
    assert (
        facts["30m-log.bytes"]
        == (sample.root / "MK2Log" / "30m" / f"{document['samples'][0]['id']}.log").stat().st_size
    )
    assert document["target"]["profile_title"] == "Soliton Dataset 2018" and document["checks"]["level"] == "full"
    assert {item["name"] for item in document["checks"]["ran"]} >= {"checks.logs", "checks.layout"}
    assert [item["name"] for item in document["checks"]["not_run"]] == ["pe.checks"]  # no --samples DIR
    assert "no --samples DIR" in document["checks"]["not_run"][0]["reason"] and not any(
        key.startswith("not-run:") for key in document["facts"]
    )
    assert set(document["codes"]) == {finding["code"] for finding in document["findings"]}
    assert any(key.startswith("activity:MK2Log/Normal/") for key in document["facts"])


def test_page_is_self_contained_and_its_csp_matches(distribution: tuple[SampleDistribution, dict[str, Any]]) -> None:
    page = render(distribution[1], argparse.Namespace())
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import|url\(|\bstyle=", page, flags=re.IGNORECASE)
    assert page.count("<script") == 1 and page.count("<style") == 1
    script = re.search(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    style = re.search(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    assert script and style
    for block in (script.group(1), style.group(1)):
        digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in page
    assert "default-src 'none'" in page and "connect-src 'none'" in page


def test_page_is_rendered_from_the_json_document_alone(
    distribution: tuple[SampleDistribution, dict[str, Any]], tmp_path: Path
) -> None:
    sample, document = distribution
    from_file = json.loads(json.dumps(document))
    page = render(from_file, argparse.Namespace())
    assert page == render(document, argparse.Namespace())
    for item in document["samples"]:
        assert f'data-sample="{item["id"]}"' in page
    assert "大阪、札幌、東京" in page  # Japanese text as is, for the system fonts
    out = tmp_path / "report.html"
    assert main(["verify", str(sample.root), "--quiet", "--format", "html", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count('<tbody class="sample"') == len(document["samples"])


def test_tree_pages_are_linked_when_they_exist(
    distribution: tuple[SampleDistribution, dict[str, Any]], tmp_path: Path
) -> None:
    document = distribution[1]
    first, second = document["samples"][0]["id"], document["samples"][1]["id"]
    (tmp_path / "trees").mkdir()
    (tmp_path / "trees" / f"{first}.html").write_text("tree", encoding="utf-8")
    page = render(document, argparse.Namespace(tree_pages="trees", output=str(tmp_path / "report.html")))
    assert f'href="trees/{first}.html"' in page and f"trees/{second}.html" not in page


def test_hostile_strings_are_escaped_in_the_markup(hostile: dict[str, Any]) -> None:
    page = render(hostile, argparse.Namespace())
    assert page.count("<script") == 1 and "<img" not in page and "<svg onload" not in page
    assert "\u202e" not in page and "\x1b" not in page and "\x07" not in page
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=2&lt;/script&gt;" in page
    assert "\\u202egpj.exe\\x07.txt" in page


# ----------------------------------------------------------------------------------------------- the browser


def browser(page: Path, width: int = 1400, height: int = 1000) -> contextlib.AbstractContextManager[DevTools]:
    return open_page(
        page,
        "document.readyState === 'complete' && !!document.getElementById('verdict')",
        width=width,
        height=height,
        domains=("Network", "Runtime", "Log", "Page"),
        flags=("--hide-scrollbars",),
    )


def problems(tools: Any, page: Path) -> tuple[list[str], list[Any]]:
    """Requests other than the page itself, and console errors, exceptions and CSP violations."""
    requests = [
        event["params"]["request"]["url"]
        for event in tools.events
        if event.get("method") == "Network.requestWillBeSent"
    ]
    errors = [
        event
        for event in tools.events
        if event.get("method") == "Runtime.exceptionThrown"
        or (event.get("method") == "Runtime.consoleAPICalled" and event["params"].get("type") == "error")
        or (event.get("method") == "Log.entryAdded" and event["params"]["entry"].get("level") == "error")
    ]
    return [url for url in requests if url != page.as_uri()], errors


def screenshot(tools: Any, path: Path, full: bool = True) -> None:
    params: dict[str, Any] = {"format": "png"}
    if full:
        params["captureBeyondViewport"] = True
        size = tools.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": min(size[1], 6000), "scale": 1}
    path.write_bytes(base64.b64decode(tools.call("Page.captureScreenshot", **params)["data"]))


def shown_rows(tools: Any, column: int) -> list[str]:
    return tools.evaluate(  # type: ignore[no-any-return]
        f"[...document.querySelectorAll('#sample-table tbody.sample')].filter(b => !b.hidden).map(b => b.querySelector('tr.sample-row').children[{column}].dataset.sort)"
    )


@pytest.mark.browser
@needs_chromium
def test_page_in_a_browser_filters_sorts_and_draws(
    distribution: tuple[SampleDistribution, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    sample, document = distribution
    artifacts = artifacts_dir(tmp_path_factory)
    page = artifacts / "report.html"
    page.write_text(render(document, argparse.Namespace()), encoding="utf-8")
    total = len(document["findings"])
    with browser(page) as tools:
        assert tools.evaluate("document.querySelector('.verdict .word').textContent") == "OK"
        screenshot(tools, artifacts / "report-top.png", full=False)
        screenshot(tools, artifacts / "report-full.png")

        # the findings filter: real clicks on the severity boxes, then a code and a sample
        assert tools.evaluate("document.getElementById('finding-count').textContent") == f"{total} of {total} shown"
        tools.click("document.querySelector('input[data-severity-filter=info]')")
        non_info = sum(1 for finding in document["findings"] if finding["severity"] != "info")
        tools.wait_for(f"document.getElementById('finding-count').textContent === '{non_info} of {total} shown'")
        shown = tools.evaluate(
            "[...document.querySelectorAll('details.finding')].filter(f => !f.hidden).map(f => f.dataset.severity)"
        )
        assert shown and set(shown) == {"warning"}
        tools.click("document.getElementById('reset-filters')")
        victim = next(
            finding["subject"]
            for finding in document["findings"]
            if finding.get("subject") and finding["severity"] == "warning"
        )
        tools.evaluate(
            f"(() => {{ const s = document.getElementById('sample-filter'); s.value = {json.dumps(victim)}; s.dispatchEvent(new Event('change')); }})()"
        )
        expected = sum(1 for finding in document["findings"] if finding.get("subject") == victim)
        tools.wait_for(f"document.getElementById('finding-count').textContent === '{expected} of {total} shown'")
        tools.click("[...document.querySelectorAll('details.finding')].find(f => !f.hidden).querySelector('summary')")
        assert tools.evaluate("[...document.querySelectorAll('details.finding')].filter(f => f.open).length") == 1
        screenshot(tools, artifacts / "report-findings-filtered.png", full=False)
        tools.click("document.getElementById('reset-filters')")

        # sorting by records, both ways (a real click on the column title)
        records = {item["id"]: item["facts"]["30m-log.records"] for item in document["samples"]}
        tools.click("document.querySelector('button.sort[data-column=\"7\"]')")
        assert [float(value) for value in shown_rows(tools, 7)] == sorted(records.values())
        tools.click("document.querySelector('button.sort[data-column=\"7\"]')")
        assert [float(value) for value in shown_rows(tools, 7)] == sorted(records.values(), reverse=True)

        # search by host name
        hosts = {item["facts"].get("systeminfo.host_name") for item in document["samples"]}
        host = max(host for host in hosts if host)
        tools.click("document.getElementById('sample-search')")
        tools.type_text(host)
        matching = [item["id"] for item in document["samples"] if item["facts"].get("systeminfo.host_name") == host]
        tools.wait_for(
            f"document.getElementById('sample-count').textContent === '{len(matching)} of {len(document['samples'])} shown'"
        )
        assert sorted(shown_rows(tools, 0)) == sorted(matching)
        tools.evaluate(
            "(() => { const s = document.getElementById('sample-search'); s.value = ''; s.dispatchEvent(new Event('input')); })()"
        )

        # a sample's detail: its chart has one bar group per clock minute of its log
        chosen = document["samples"][0]["id"]
        tools.click(f"document.querySelector('tbody[data-sample=\"{chosen}\"] tr.sample-row')")
        tools.wait_for(f"!document.querySelector('tbody[data-sample=\"{chosen}\"] tr.detail').hidden")
        groups = tools.evaluate(
            f'document.querySelectorAll(\'tbody[data-sample="{chosen}"] figure[data-log="30m-log"] svg.activity g.bin\').length'
        )
        assert groups == clock_minutes(sample.root / "MK2Log" / "30m" / f"{chosen}.log")
        assert tools.evaluate(f"document.querySelectorAll('tbody[data-sample=\"{chosen}\"] svg.spark path').length") > 0
        tools.evaluate(f"document.querySelector('tbody[data-sample=\"{chosen}\"]').scrollIntoView()")
        screenshot(tools, artifacts / "report-sample-detail.png", full=False)

        extra, errors = problems(tools, page)
        assert extra == [] and errors == []
    print(f"\nHTML report screenshots: {artifacts}")


@pytest.mark.browser
@needs_chromium
def test_hostile_strings_stay_text_in_a_browser(hostile: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(render(hostile, argparse.Namespace()), encoding="utf-8")
    with browser(page) as tools:
        assert tools.evaluate("window.__pwned === undefined")
        assert tools.evaluate("document.querySelectorAll('img, script:not(:last-of-type), svg[onload]').length") == 0
        tools.click("document.querySelector('tr.sample-row')")  # the first sample carries the hostile Sysinfo
        body = tools.evaluate("document.body.innerText")
        assert HOSTILE_HOST in body and "<svg onload=window.__pwned=3>\\x1b[2J Windows" in body
        assert "\\u202egpj.exe\\x07.txt" in body and "\u202e" not in body and "\x1b" not in body
        tools.click("document.querySelector('details.finding summary')")
        assert tools.evaluate("window.__pwned === undefined")
        extra, errors = problems(tools, page)
        assert extra == [] and errors == []


@pytest.mark.browser
@needs_chromium
def test_a_damaged_distribution_shows_patterns_once_and_names_the_outlier(
    damaged: tuple[SampleDistribution, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    sample, document = damaged
    short_log = sample.samples[1].sha256
    assert {"checksum-file-unlisted", "checksum-file-missing"} <= {pattern["code"] for pattern in document["patterns"]}
    artifacts = artifacts_dir(tmp_path_factory)
    page = artifacts / "report-damaged.html"
    page.write_text(render(document, argparse.Namespace()), encoding="utf-8")
    with browser(page) as tools:
        assert tools.evaluate("document.querySelector('.verdict .word').textContent") == "FAILED"
        assert tools.evaluate("document.querySelectorAll('.pattern').length") == len(document["patterns"])
        # the pattern's own findings are folded: none of them is visible until asked for
        assert (
            tools.evaluate(
                "[...document.querySelectorAll('section[data-code=\"checksum-file-unlisted\"] details.finding')].filter(f => f.checkVisibility()).length"
            )
            == 0
        )
        screenshot(tools, artifacts / "report-damaged-full.png")
        outliers = tools.evaluate("[...document.querySelectorAll('.outliers a')].map(a => a.getAttribute('href'))")
        assert outliers == [f"#s-{short_log}"]
        tools.click("document.querySelector('.outliers a')")
        tools.wait_for(f"!document.querySelector('tbody[data-sample=\"{short_log}\"] tr.detail').hidden")
        groups = tools.evaluate(
            f'document.querySelectorAll(\'tbody[data-sample="{short_log}"] figure[data-log="30m-log"] g.bin\').length'
        )
        assert groups == clock_minutes(sample.root / "MK2Log" / "30m" / f"{short_log}.log") < 20
        screenshot(tools, artifacts / "report-damaged-outlier.png", full=False)
        extra, errors = problems(tools, page)
        assert extra == [] and errors == []
