"""A small progress line for terminals: shown only on a TTY, never in CI logs or pipes."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``Progress(total_bytes, label)``; call ``advance(bytes, items=1)``; ``close()`` clears the line."""

    def __init__(self, total: int, label: str, *, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 0)
        self.label = label
        self.done = 0
        self.items = 0
        self.started = time.monotonic()
        self._last_draw = 0.0

    def advance(self, amount: int, items: int = 1) -> None:
        self.done += amount
        self.items += items
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and self.done < self.total:
            return
        self._last_draw = now
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed / 1e6
        percent = 100.0 * self.done / self.total if self.total else 100.0
        width = 24
        filled = int(width * min(percent, 100.0) / 100)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r{self.label} [{bar}] {percent:5.1f}% {self.done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB "
            f"{rate:,.1f} MB/s, {self.items} files"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
