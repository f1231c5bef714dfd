"""The typed objects that pass through the hook contract, as small structural types (``Protocol``).

Hooks hand plugins the host's objects and receive the plugins' objects back; the types here say what each
side may rely on, and nothing more. They are structural: an ``argparse`` parser satisfies
:class:`CommandParser` without knowing about it, so plugin code written against ``argparse`` keeps working,
while the contract itself names no private ``argparse`` type.

Command line (handed to plugins)
    :class:`CommandRegistry` (``mk2ds_add_commands``), :class:`CommandParser` (what ``add_parser`` returns)
    and :class:`OptionGroup` (``mk2ds_add_verify_options``).
Service results (returned by plugins)
    :class:`RecordReader` (``mk2ds_open_log``) and :class:`ProcessTree` (``mk2ds_build_process_tree``).
    The host checks a result where it receives it (:func:`reader_problem`, :func:`tree_problem`): a result
    of the wrong shape is a ``plugin-error`` naming the plugin that gave it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from mk2ds.core.findings import Finding

__all__ = [
    "READER_STATS",
    "CommandParser",
    "CommandRegistry",
    "OptionGroup",
    "ProcessTree",
    "RecordReader",
    "reader_problem",
    "reader_stats_problem",
    "tree_problem",
]


class OptionGroup(Protocol):
    """Somewhere to add command-line options: ``add_argument`` as in :mod:`argparse`."""

    def add_argument(self, *flags: str, **kwargs: Any) -> Any:
        """Add an option (``argparse.ArgumentParser.add_argument`` keywords: ``help``, ``default``, ...)."""
        ...


class CommandParser(OptionGroup, Protocol):
    """One sub-command's parser (what :meth:`CommandRegistry.add_parser` returns)."""

    def add_argument_group(self, title: str | None = ..., description: str | None = ...) -> Any:
        """A titled group of options (its ``add_argument`` works as the parser's)."""
        ...

    def add_mutually_exclusive_group(self, *, required: bool = ...) -> Any:
        """A group of options of which at most one (exactly one when ``required``) may be given."""
        ...

    def set_defaults(self, **kwargs: Any) -> None:
        """Values put into the parsed options; ``handler=FUNCTION`` makes ``FUNCTION(args, pm)`` the command."""
        ...

    def add_subparsers(self, **kwargs: Any) -> Any:
        """Sub-commands of this command (``mk2ds profile show``); the result works as a
        :class:`CommandRegistry`."""
        ...


class CommandRegistry(Protocol):
    """Where ``mk2ds_add_commands`` adds sub-commands."""

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        """Add the command ``name`` (``help=`` is required by the host's rules) and return its
        :class:`CommandParser`."""
        ...


#: Keys every :class:`RecordReader` has in ``stats`` once it has been read to the end.
READER_STATS = ("lines", "records", "rejected", "blank")


@runtime_checkable
class RecordReader(Protocol):
    """What ``mk2ds_open_log`` returns: records (dicts, file order) when iterated, once.

    After the iteration, ``findings`` holds what the reader found (unparseable lines, ...), ``rejects`` the
    rejected lines as ``(line_number, raw_bytes)``, and ``stats`` the counts named in :data:`READER_STATS`
    (and any others the reader keeps, such as ``encoding``).
    """

    findings: list[Finding]
    rejects: list[tuple[int, bytes]]
    stats: dict[str, Any]

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


@runtime_checkable
class ProcessTree(Protocol):
    """What ``mk2ds_build_process_tree`` returns: the finished process model of a log."""

    def summary(self, focus: Sequence[str] = ()) -> Mapping[str, Any]:
        """Counts for reports: ``processes``, ``missing_parents`` (a list), ``relations``, and ``focus``
        (the subtree of the processes whose image has one of the ``focus`` hashes), when given."""
        ...

    def to_document(self, options: argparse.Namespace | None = None) -> Mapping[str, Any]:
        """The whole tree as a document pinned by ``schemas/tree.schema.json``."""
        ...


def _missing(result: object, names: Sequence[str]) -> list[str]:
    return [name for name in names if not hasattr(result, name)]


def reader_problem(result: object) -> str | None:
    """Why ``result`` is not a :class:`RecordReader` (``None`` when it is one)."""
    missing = _missing(result, ("__iter__", "findings", "rejects", "stats"))
    if missing:
        return f"returned {type(result).__name__}, not a record reader (it lacks {', '.join(missing)})"
    return None


def reader_stats_problem(stats: object) -> str | None:
    """Why a reader's ``stats`` after the iteration break the contract (``None`` when they do not)."""
    if not isinstance(stats, Mapping):
        return f"its reader's stats are a {type(stats).__name__}, not a mapping"
    missing = [key for key in READER_STATS if not isinstance(stats.get(key), int)]
    if missing:
        return f"its reader's stats lack the counts {', '.join(missing)}"
    return None


def tree_problem(result: object) -> str | None:
    """Why ``result`` is not a :class:`ProcessTree` (``None`` when it is one)."""
    missing = _missing(result, ("summary", "to_document"))
    if missing:
        return f"returned {type(result).__name__}, not a process tree (it lacks {', '.join(missing)})"
    return None
