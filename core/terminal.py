"""Terminal helpers: colour only on a TTY (and never with NO_COLOR), display width that counts East Asian
wide characters as two columns so that Japanese paths line up."""

from __future__ import annotations

import os
import sys
import unicodedata
from typing import TextIO

__all__ = ["colour", "display_width", "pad", "truncate", "use_colour"]

_CODES = {"red": "31", "yellow": "33", "green": "32", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2", "bold": "1"}


def use_colour(stream: TextIO | None = None, setting: str = "auto") -> bool:
    """``setting`` is ``auto``, ``always`` or ``never``; ``auto`` means a TTY without ``NO_COLOR``."""
    if setting == "always":
        return True
    if setting == "never" or os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def colour(text: str, name: str, enabled: bool) -> str:
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
