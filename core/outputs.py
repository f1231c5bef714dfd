"""Output formats are descriptors that plugins register; the core only looks them up by kind and name.

Three kinds exist:

``records``
    Converted log records (``mk2ds convert --format NAME``). ``factory(stream, options)`` receives a binary
    stream opened for writing and returns a :class:`RecordWriter`.
``report``
    A verification report (``mk2ds verify --format NAME``). ``factory(report, options)`` receives the report
    as a JSON-ready dict (pinned by ``schemas/report.schema.json``) and returns ``str`` or ``bytes``.
``tree``
    A process tree (``mk2ds tree --format NAME``). ``factory(tree, options)`` receives the tree document
    (pinned by ``schemas/tree.schema.json``) and returns ``str`` or ``bytes``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal, Protocol

__all__ = ["OutputFormat", "OutputKind", "RecordWriter"]

OutputKind = Literal["records", "report", "tree"]


class RecordWriter(Protocol):
    """What a ``records`` output returns: it receives records one by one (streaming) and is closed once."""

    def write(self, record: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class OutputFormat:
    """A registered output format.

    ``suffix`` is the file extension written by ``convert`` (with the dot). ``options`` lists extra
    command-line options the format understands, as ``(flags, argparse-keyword-arguments)`` pairs; they are
    added to the command that uses this kind of output.
    """

    name: str
    kind: OutputKind
    suffix: str
    description: str
    factory: Callable[..., Any]
    options: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = field(default=())

    def add_options(self, parser: argparse.ArgumentParser | Any) -> None:
        for flags, kwargs in self.options:
            parser.add_argument(*flags, **kwargs)


def open_record_writer(output: OutputFormat, stream: BinaryIO, options: argparse.Namespace) -> RecordWriter:
    """Create the writer of a ``records`` output (a helper so callers do not depend on factory details)."""
    if output.kind != "records":
        raise ValueError(f"output {output.name!r} renders {output.kind}, not records")
    writer: RecordWriter = output.factory(stream, options)
    return writer
