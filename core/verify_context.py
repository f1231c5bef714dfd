"""What a check knows about the verification it is part of."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from mk2ds.core.profile import Profile

__all__ = ["LEVELS", "VerifyContext"]

#: Verification levels, cheapest first. ``structure``: names and sizes only; ``fast``: also small files and
#: indexes (List.xlsx, Sysinfo, impfuzzy); ``full``: every byte (logs parsed, checksums recomputed).
LEVELS = ("structure", "fast", "full")


@dataclass
class VerifyContext:
    """Handed to every check. Picklable, so that it travels to worker processes.

    ``shared`` is for dataset checks to leave JSON-like data (the sample list, say) for entry checks.
    ``entries`` maps every file path to its size; ``kinds`` maps every file path to its kind.
    """

    profile: Profile
    level: str = "full"
    options: argparse.Namespace = field(default_factory=argparse.Namespace)
    shared: dict[str, Any] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)
    #: The plugin manager of the current process, for checks that call service hooks (``mk2ds_open_log``).
    #: Not pickled: each worker process sets its own.
    pm: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["pm"] = None
        return state

    def at_least(self, level: str) -> bool:
        """True when the run's level is ``level`` or more thorough."""
        return LEVELS.index(self.level) >= LEVELS.index(level)

    def option(self, name: str, default: Any = None) -> Any:
        return getattr(self.options, name, default)
