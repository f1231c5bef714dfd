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
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mk2ds.plugins.tree.html import embed_json, render
from mk2ds.plugins.tree.model import build_model

DATA = Path(__file__).parents[2] / "data" / "tree"
CHROMIUM = next((path for path in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if path), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
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


class DevTools:
    """The Chrome DevTools protocol over one WebSocket (RFC 6455 client frames, standard library only)."""

    def __init__(self, url: str) -> None:
        match = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        assert match, url
        self.socket = socket.create_connection((match.group(1), int(match.group(2))), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        request = (
            f"GET {match.group(3)} HTTP/1.1\r\nHost: {match.group(1)}:{match.group(2)}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.socket.sendall(request.encode("ascii"))
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.socket.recv(1)
        assert b" 101 " in response.split(b"\r\n", 1)[0], response
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def _send(self, text: str) -> None:
        payload = text.encode("utf-8")
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.socket.sendall(header + mask + masked)

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.socket.recv(count - len(data))
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            data += chunk
        return data

    def _receive(self) -> dict[str, Any]:
        message = b""
        while True:
            first, second = self._exactly(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._exactly(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._exactly(8))[0]
            payload = self._exactly(length)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0x9, 0xA):
                continue  # ping / pong
            message += payload
            if first & 0x80:
                return json.loads(message.decode("utf-8"))  # type: ignore[no-any-return]

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})  # type: ignore[no-any-return]
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")

    def click(self, selector_expression: str) -> None:
        """A real mouse click in the middle of the element the expression returns."""
        box = self.evaluate(
            f"(() => {{ const e = {selector_expression}; e.scrollIntoView({{block: 'center'}}); "
            "const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type_text(self, text: str) -> None:
        self.call("Input.insertText", text=text)

    def close(self) -> None:
        self.socket.close()


@contextlib.contextmanager
def browser(page: Path) -> Iterator[DevTools]:
    assert CHROMIUM is not None
    profile = tempfile.mkdtemp(prefix="mk2ds-chromium-")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "--window-size=1400,1000",
        "about:blank",
    ]
    process = subprocess.Popen([CHROMIUM, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tools = None
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.loads(response.read())
        target = next(item for item in targets if item["type"] == "page")
        tools = DevTools(target["webSocketDebuggerUrl"])
        tools.call("Network.enable")
        tools.call("Runtime.enable")
        tools.call("Page.navigate", url=page.as_uri())
        tools.wait_for("document.readyState === 'complete' && document.querySelectorAll('#tree .row').length > 0")
        yield tools
    finally:
        if tools is not None:
            tools.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


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
