"""Exceptions, only for "cannot continue". Everything that can be reported is a finding instead."""

from __future__ import annotations

__all__ = ["DatasetUnreadable", "Mk2dsError", "OutputNotWritable", "UsageError"]


class Mk2dsError(Exception):
    """Base class of mk2ds exceptions."""


class UsageError(Mk2dsError):
    """The command line asks for something impossible (unknown format, missing file). Exit code 2."""


class DatasetUnreadable(Mk2dsError):
    """The dataset cannot be opened at all (not a folder, a broken zip). Exit code 2, message names the path."""


class OutputNotWritable(UsageError, OSError):
    """An output file cannot be written (missing or read-only folder, full disk). Exit code 2, no traceback.

    Also an ``OSError`` (``errno``, ``strerror``, ``filename``), so callers that already handle OS errors
    per file keep doing so.
    """

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}"
