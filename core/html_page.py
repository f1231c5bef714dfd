"""Self-contained HTML pages: a template filled in one pass, under a Content-Security-Policy that allows only
the page's own inline style and script (by their SHA-256), nothing from the network.

The HTML outputs (the verification report, the process tree) are opened from disk by people who study
malware; the data they show comes from that malware's logs. So a page runs no script but its own, loads
nothing, and every value inserted into the template is escaped by its caller for where it goes.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Mapping

__all__ = ["content_security_policy", "fill_template"]


def _hash_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str, style: str) -> str:
    """The page's policy, escaped for a ``content="..."`` attribute: only ``script`` and ``style`` (the exact
    inline texts) may run or apply; no images, fonts, connections, base URL or form targets."""
    policy = (
        f"default-src 'none'; script-src {_hash_source(script)}; style-src {_hash_source(style)}; "
        "img-src 'none'; connect-src 'none'; font-src 'none'; base-uri 'none'; form-action 'none'"
    )
    return html.escape(policy, quote=False).replace('"', "&quot;")


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """Replace each placeholder key of ``values`` in ``template`` in one pass, so that nothing inserted is
    scanned for placeholders again (a log line holding ``@SCRIPT@`` stays text)."""
    parts: list[str] = []
    rest = template
    while True:
        positions = [(rest.find(key), key) for key in values if rest.find(key) >= 0]
        if not positions:
            parts.append(rest)
            break
        position, key = min(positions)
        parts.append(rest[:position])
        parts.append(values[key])
        rest = rest[position + len(key) :]
    return "".join(parts)
