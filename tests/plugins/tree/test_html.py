"""The ``html`` tree page: self-contained, safe against hostile names, and working in a real browser.

The browser tests drive headless Chromium (Debian package ``chromium``) over the DevTools protocol, with a
small WebSocket client written on the standard library: real mouse clicks and real typed text, then the page
is inspected. They are marked ``browser`` and skipped only when no Chromium is installed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
from pathlib import Path

import pytest
from chromium import DevTools, needs_chromium, open_page

from mk2ds.plugins.tree.html import embed_json, render
from mk2ds.plugins.tree.model import build_model

DATA = Path(__file__).parents[2] / "data" / "tree"
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">.exe'
HOSTILE_CMD = '</script><script>window.__pwned=2</script> & "quotes" \\u003c'


def wannacry_page() -> str:
    with open(DATA / "wannacry_like.jsonl", encoding="utf-8") as handle:
        model = build_model(json.loads(line) for line in handle)
    return render(model.to_document(argparse.Namespace()), argparse.Namespace())


def hostile_page() -> str:
    records = [
        {
            "time": "2018-03-01T10:00:00.000+09:00",
            "sn": 1,
            "evt": "ps",
            "subEvt": "start",
            "com": '<b id="x">PC</b>',
            "psGUID": "{A}",
            "psPath": f"C:\\{HOSTILE_NAME}",
            "cmd": HOSTILE_CMD,
        },
        {
            "time": "2018-03-01T10:00:01.000+09:00",
            "sn": 2,
            "evt": "win",
            "subEvt": "active",
            "com": '<b id="x">PC</b>',
            "psGUID": "{A}",
            "winTitle": "<svg onload=window.__pwned=3>\u202egpj.exe\x1b[2J",
            "path": "--></script><!--",
        },
    ]
    document = build_model(records).to_document(argparse.Namespace(focus=["*img*"]))
    return render(document, argparse.Namespace())


# ----------------------------------------------------------------------------------------------- static checks


def test_page_is_one_file_without_network_references() -> None:
    page = wannacry_page()
    without_data = re.sub(r'<script type="application/json" id="tree-data">.*?</script>', "", page, flags=re.DOTALL)
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", without_data, flags=re.IGNORECASE)
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import|url\(", without_data, flags=re.IGNORECASE)
    assert "default-src 'none'" in page and "connect-src 'none'" in page
    assert page.count("<script") == 2 and page.count("<style") == 1


def test_embedded_data_cannot_close_its_script_block() -> None:
    text = embed_json({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}
    page = hostile_page()
    assert "</script><script>" not in page and "<img" not in page and "<svg" not in page and '<b id="x">' not in page
    assert page.count("</script>") == 2


def test_csp_hashes_match_the_inline_blocks() -> None:
    import hashlib

    page = wannacry_page()
    script = re.search(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    style = re.search(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    assert script and style
    for block in (script.group(1), style.group(1)):
        digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in page


# ----------------------------------------------------------------------------------------------- the browser


def browser(page: Path) -> contextlib.AbstractContextManager[DevTools]:
    return open_page(page, "document.readyState === 'complete' && document.querySelectorAll('#tree .row').length > 0")


def visible_rows(tools: DevTools) -> list[str]:
    return tools.evaluate(  # type: ignore[no-any-return]
        "[...document.querySelectorAll('#tree .row')].filter(r => r.offsetParent !== null)"
        ".map(r => r.querySelector('.name').textContent)"
    )


def row_of(name: str, nth: int = 0) -> str:
    return f"[...document.querySelectorAll('#tree .row')].filter(r => r.querySelector('.name').textContent === {json.dumps(name)})[{nth}]"


@pytest.mark.browser
@needs_chromium
def test_page_in_a_browser_expand_search_details(tmp_path: Path) -> None:
    page = tmp_path / "tree.html"
    page.write_text(wannacry_page(), encoding="utf-8")
    with browser(page) as tools:
        rows = visible_rows(tools)
        assert "? services.exe" in rows and "cmd.exe" in rows  # roots are open, their children shown
        assert "tasksche.exe" not in rows and "@WanaDecryptor@.exe" not in rows  # grandchildren start folded
        assert tools.evaluate("document.getElementById('summary').textContent").startswith("13 of 13 processes shown")

        # expand cmd.exe (started by services.exe): its child tasksche.exe appears
        tools.click(row_of("cmd.exe") + ".querySelector('.toggle')")
        tools.wait_for(row_of("cmd.exe") + ".parentNode.getAttribute('aria-expanded') === 'true'")
        assert visible_rows(tools).count("tasksche.exe") == 1
        assert tools.evaluate(row_of("cmd.exe") + ".querySelector('.toggle').textContent") == "▾"

        # search for a file path: the process that encrypted it is revealed, marked and detailed
        tools.click("document.getElementById('search')")
        tools.type_text("D:\\transcript.txt.WNCRY")
        tools.wait_for("document.getElementById('search-count').textContent === '1 process matches'")
        matches = tools.evaluate(
            "[...document.querySelectorAll('.row.match')].map(r => r.querySelector('.name').textContent)"
        )
        assert matches == ["tasksche.exe"]
        details = tools.evaluate("document.getElementById('details').innerText")
        assert "C:\\ProgramData\\tjigppzrweclnc278\\tasksche.exe" in details
        assert "file/rename" in details and "D:\\transcript.txt.WNCRY" in details
        assert "→ injection" in details and "← wrote-then-ran" in details and "← service" in details

        # a search for a deep process path opens every folded ancestor
        tools.evaluate(
            "(() => { const s = document.getElementById('search'); s.value = ''; s.dispatchEvent(new Event('input')); })()"
        )
        tools.click("document.getElementById('search')")
        tools.type_text("@wanadecryptor@")
        tools.wait_for("document.getElementById('search-count').textContent === '1 process matches'")
        assert "@WanaDecryptor@.exe" in visible_rows(tools)

        # clicking a row shows its details; relation links jump to the other process
        tools.click(row_of("lsass.exe"))
        tools.wait_for("document.querySelector('#details h2').textContent === 'lsass.exe'")
        tools.click("[...document.querySelectorAll('#details a.jump')].find(a => a.textContent === 'tasksche.exe')")
        tools.wait_for("document.querySelector('#details h2').textContent === 'tasksche.exe'")
        assert "injection" in tools.evaluate("document.getElementById('details').innerText")

        # the relations table lists every edge with its evidence
        relations = tools.evaluate("[...document.querySelectorAll('#relations tbody tr')].map(r => r.innerText)")
        assert len(relations) == 6 and any("wrote-then-ran" in row and "106, 109" in row for row in relations)

        requests = [
            event["params"]["request"]["url"]
            for event in tools.events
            if event.get("method") == "Network.requestWillBeSent"
        ]
        assert requests == [page.as_uri()]
        errors = [event for event in tools.events if event.get("method") == "Runtime.exceptionThrown"]
        assert errors == []


@pytest.mark.browser
@needs_chromium
def test_hostile_names_stay_text_in_a_browser(tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(hostile_page(), encoding="utf-8")
    with browser(page) as tools:
        assert tools.evaluate("window.__pwned === undefined")
        assert tools.evaluate("document.querySelectorAll('img, svg, b#x').length") == 0
        assert visible_rows(tools) == [HOSTILE_NAME]
        tools.click(row_of(HOSTILE_NAME))
        details = tools.evaluate("document.getElementById('details').innerText")
        assert HOSTILE_CMD in details and "<svg onload=window.__pwned=3>\\u202egpj.exe\\x1b[2J" in details
        assert "\u202e" not in details and "\x1b" not in details
        assert tools.evaluate("document.querySelector('.host-label').textContent") == '<b id="x">PC</b>'
        assert tools.evaluate("window.__pwned === undefined")
        assert [event for event in tools.events if event.get("method") == "Runtime.exceptionThrown"] == []
