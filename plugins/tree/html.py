"""The ``html`` tree output: one self-contained page (no network access, works offline).

The page has a collapsible tree, a search box (paths, command lines, GUIDs, hashes and the files a process
touched), a details panel per process (facts, activity, peers, relations) and the relation edges as badges on
both ends plus a table. Its CSS and JavaScript (``page.css``, ``page.js``) are inlined.

Safety: process names and command lines are attacker-controlled. The document is embedded as JSON in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped as ``\\u003c`` etc. (so no
``</script>`` can close it), and the script only ever puts data into the page with ``textContent``. A
Content-Security-Policy allows only the two inline blocks by their SHA-256 and nothing from the network.
"""

from __future__ import annotations

import argparse
import html
import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.html_page import content_security_policy, fill_template
from mk2ds.plugins.tree.text import visible

__all__ = ["embed_json", "render"]


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    folder = resources.files("mk2ds.plugins.tree")
    return tuple(  # type: ignore[return-value]
        (folder / name).read_text(encoding="utf-8") for name in ("template.html", "page.css", "page.js")
    )


def embed_json(document: Mapping[str, Any]) -> str:
    """JSON that is safe inside a ``<script>`` element whatever strings it holds."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def _title(document: Mapping[str, Any]) -> str:
    focus = document["view"]["focus"]
    hosts = document["stats"]["hosts"]
    subject = f"focus {', '.join(focus)}" if focus else f"hosts {', '.join(hosts) or '-'}"
    return visible(f"mk2ds process tree — {subject}")


def render(document: Mapping[str, Any], options: argparse.Namespace) -> str:
    template, style, script = _assets()
    values = {
        "@CSP@": content_security_policy(script, style),
        "@TITLE@": html.escape(_title(document), quote=True),
        "@STYLE@": style,
        "@DATA@": embed_json(document),
        "@SCRIPT@": script,
    }
    return fill_template(template, values)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat("html", "tree", ".html", "one self-contained HTML page: collapsible tree, search, details", render)
    ]
