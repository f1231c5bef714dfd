"""Exceptions, only for "cannot continue". Everything that can be reported is a finding instead."""

from __future__ import annotations

__all__ = ["Mk2dsError", "UsageError", "DatasetUnreadable"]


class Mk2dsError(Exception):
    """Base class of mk2ds exceptions."""


class UsageError(Mk2dsError):
    """The command line asks for something impossible (unknown format, missing file). Exit code 2."""


class DatasetUnreadable(Mk2dsError):
    """The dataset cannot be opened at all (not a folder, a broken zip). Exit code 2, message names the path."""
