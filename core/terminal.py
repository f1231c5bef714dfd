"""Terminal helpers: color only on a TTY (and never with NO_COLOR), display width that counts East Asian
wide characters as two columns so that Japanese paths line up, and :func:`escape_text`, the one escaping
helper for every untrusted string (a file name, a host name, a command line) on its way to a terminal.

Why escape: mk2ds prints names that come from malware datasets. A file named
``x\x1b]0;…\x1b[2J\nOK: 0 errors.log`` would otherwise retitle the window, clear the screen and print a forged
``OK:`` line; ``invoice\u202egpj.exe`` would show as ``invoiceexe.jpg``. Every character that can move the
cursor, start an escape sequence, end a line or reorder text is shown as a visible escape instead.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from typing import TextIO

__all__ = [
    "UNSAFE_CHARACTERS",
    "color",
    "display_width",
    "escape_lines",
    "escape_surrogates",
    "escape_text",
    "pad",
    "truncate",
    "unsafe_character",
    "use_color",
    "xml_text",
]

#: Bidirectional formatting characters: marks (LRM, RLM, ALM), embeddings and overrides, isolates.
BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])

#: Code points never printed raw: C0 controls (TAB and LF included), DEL, C1 controls (U+009B is a one-byte
#: CSI on some terminals), the bidi controls, and the line and paragraph separators.
UNSAFE_CHARACTERS = frozenset([*range(0x20), *range(0x7F, 0xA0), *BIDI_CONTROLS, 0x2028, 0x2029])

_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in UNSAFE_CHARACTERS}
#: Everything :func:`escape_text` changes (the unsafe characters and lone surrogates), for a fast "nothing to do".
_NEEDS_ESCAPE = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(UNSAFE_CHARACTERS)) + "\ud800-\udfff]")

_CODES = {
    "red": "31",
    "yellow": "33",
    "green": "32",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "dim": "2",
    "bold": "1",
}


def use_color(stream: TextIO | None = None, setting: str = "auto") -> bool:
    """``setting`` is ``auto``, ``always`` or ``never``; ``auto`` means a TTY without ``NO_COLOR``."""
    if setting == "always":
        return True
    if setting == "never" or os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def color(text: str, name: str, enabled: bool) -> str:
    if not enabled or name not in _CODES:
        return text
    return f"\x1b[{_CODES[name]}m{text}\x1b[0m"


def display_width(text: str) -> int:
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` display columns."""
    return text + " " * max(0, width - display_width(text))


def truncate(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` display columns, marking the cut with an ellipsis."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        step = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used + step > width - 1:
            break
        out.append(char)
        used += step
    return "".join(out) + "…"


def escape_text(text: object) -> str:
    """``text`` (``str()`` of it) with every unsafe character shown as a visible escape (``\\x1b``,
    ``\\u202e``); lone surrogates (undecodable bytes of a file name) become ``\\udcff`` and never make printing
    fail. Safe text comes back unchanged. Use it on every untrusted string printed to a terminal."""
    value = text if isinstance(text, str) else str(text)
    if _NEEDS_ESCAPE.search(value) is None:
        return value  # the usual case, at the speed of one regular-expression scan
    return _NEEDS_ESCAPE.sub(_escape_one, value)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return _ESCAPES.get(code) or f"\\u{code:04x}"


def escape_lines(text: object) -> str:
    """:func:`escape_text` line by line: a message of several lines keeps its line ends (only LF), nothing else."""
    return "\n".join(escape_text(line) for line in str(text).split("\n"))


def unsafe_character(text: str) -> str | None:
    """Describe the first character of ``text`` that :func:`escape_text` would escape, or ``None``."""
    for char in text:
        code = ord(char)
        if code in UNSAFE_CHARACTERS:
            kind = "bidirectional control" if code in BIDI_CONTROLS else "control character"
            return f"{kind} {escape_text(char)}"
    return None


# ---------------------------------------------------------------------------------------------------------
# Text that report files can carry (the same visible escapes, for XML and JSON documents)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def xml_text(text: object) -> str:
    """:func:`escape_text`, plus U+FFFE and U+FFFF: what an XML 1.0 document (JUnit) can carry, readable.

    XML 1.0 cannot hold most C0 controls or lone surrogates at all, not even as character references; a file
    name with an ESC would make the whole report ill-formed.
    """
    return escape_text(text).replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")


def escape_surrogates(json_text: str) -> str:
    """A ``json.dumps(..., ensure_ascii=False)`` result with each lone surrogate (an undecodable byte of a file
    name) written as its ``\\udcXX`` JSON escape: the document stays valid JSON, encodes to UTF-8, and
    parses back to the same string."""
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)
