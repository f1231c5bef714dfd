"""The ``ecs`` record output: NDJSON documents in Elastic Common Schema, ready for an Elasticsearch bulk load.

Each record becomes one JSON object per line with nested ECS fields (``@timestamp``, ``event.*``,
``process.*``, ``file.*``, ``registry.*``, ``source.*``, ``destination.*``, ``host.*``, ...) following the
data table in :mod:`mk2ds.plugins.records.ecs_mapping`; every Mark II key the table does not map is kept unchanged
under ``mk2.<key>``. Documents validate against ``schemas/ecs-subset.schema.json``.

``@timestamp`` of a zone-less record uses the offset the reader resolved (``--assume-offset``, or the sample's
Sysinfo time zone), kept with its source in ``mk2.time_offset``/``mk2.time_offset_source``; when the offset is
unknown it is UTC, and ``mk2.time_zone_assumed`` (``+00:00``) says so (see
:mod:`mk2ds.plugins.reader.timestamps`). Types (:mod:`mk2ds.plugins.records.typed`): an integer field under
``mk2.*`` is a ``long`` or absent; text there (the no-value marker ``-``) and integers beyond signed 64 bits
(a ``REG_QWORD`` ``valNum``) are kept as text in ``mk2.<key>_raw``; mapped ECS fields never get them.

The mapping table is printed by ``mk2ds ecs-mapping`` and by ``mk2ds convert --format ecs --show-mapping``
(an option of this format that prints the table and exits, like ``--version``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import pluggy

from mk2ds.core import CommandRegistry, OutputFormat, hookimpl
from mk2ds.core.terminal import pad
from mk2ds.plugins.reader.event_summary import summarize
from mk2ds.plugins.reader.timestamps import assumed_offset_option, resolve_time
from mk2ds.plugins.records.ecs_mapping import ECS_VERSION, RULES, event_fields, mapping_rows
from mk2ds.plugins.records.typed import typed_record

__all__ = ["EcsWriter", "mapping_text", "show_mapping", "to_ecs"]

#: Top-level order of the fields in a document (others follow in the order they were set).
_GROUP_ORDER = (
    "@timestamp",
    "message",
    "ecs",
    "event",
    "host",
    "process",
    "user",
    "file",
    "registry",
    "source",
    "destination",
    "url",
    "log",
    "mk2",
)


def _put(document: dict[str, Any], dotted: str, value: Any) -> bool:
    """Set a dotted field in a nested document; ``False`` (nothing changed) when it is already set."""
    *parents, leaf = dotted.split(".")
    node = document
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return False
        node = child
    if leaf in node:
        return False
    node[leaf] = value
    return True


def to_ecs(record: Mapping[str, Any], assume_offset: str | None = None) -> dict[str, Any]:
    """Map one record to an ECS document (nested dicts), keeping unmapped keys under ``mk2``.

    :raises ValueError: the record's ``time`` is missing or malformed (the message names the record).
    """
    when = resolve_time(record, assume_offset)
    document: dict[str, Any] = {
        "@timestamp": when.iso,
        "message": summarize(record),
        "ecs": {"version": ECS_VERSION},
    }
    derived_event = event_fields(record)
    for field, value in derived_event.items():
        _put(document, field, value)
    mapped: set[str] = {"time"}
    mapped.update(
        key for key, field in (("evt", "event.dataset"), ("subEvt", "event.action")) if field in derived_event
    )
    event = record.get("evt")
    for rule in RULES:
        if rule.source not in record or not rule.applies_to(event):
            continue
        converted = rule.apply(record[rule.source], record)
        if converted is None:
            continue
        fields = list(converted.items())
        if any(_exists(document, field) for field, _ in fields):
            continue  # another key already filled this field: keep this one under mk2
        for field, value in fields:
            _put(document, field, value)
        if not rule.derived:
            mapped.add(rule.source)
    extras = typed_record({key: value for key, value in record.items() if key not in mapped})
    if when.assumed is not None:
        extras["time_zone_assumed"] = when.assumed
    if extras:
        document["mk2"] = extras
    ordered = {key: document[key] for key in _GROUP_ORDER if key in document}
    ordered.update((key, value) for key, value in document.items() if key not in ordered)
    return ordered


def _exists(document: Mapping[str, Any], dotted: str) -> bool:
    node: Any = document
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


class EcsWriter:
    """Writes one ECS document per record, one per line (UTF-8, LF)."""

    def __init__(self, stream: BinaryIO, assume_offset: str | None) -> None:
        self._stream = stream
        self._assume_offset = assume_offset

    def write(self, record: Mapping[str, Any]) -> None:
        document = to_ecs(record, self._assume_offset)
        self._stream.write(
            json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        )

    def close(self) -> None:
        self._stream.flush()


def open_writer(stream: BinaryIO, options: argparse.Namespace) -> EcsWriter:
    return EcsWriter(stream, assumed_offset_option(options))


def mapping_text() -> str:
    """The mapping table as aligned text columns."""
    rows = [("Mark II key", "ECS field", "applies to (evt)", "note"), *mapping_rows()]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        f"{pad(row[0], widths[0])}  {pad(row[1], widths[1])}  {pad(row[2], widths[2])}  {row[3]}".rstrip()
        for row in rows
    ]
    header = f"Mark II → ECS {ECS_VERSION} (unmapped keys are kept under mk2.<key>)"
    return "\n".join([header, "", *lines]) + "\n"


def show_mapping(stream: Any = None, as_json: bool = False) -> None:
    """Print the mapping table (text, or JSON rows with ``--json``); what ``--show-mapping`` calls."""
    stream = stream or sys.stdout
    if as_json:
        keys = ("mk2", "ecs", "events", "note")
        stream.write(
            json.dumps([dict(zip(keys, row)) for row in mapping_rows()], indent=2, ensure_ascii=False) + "\n"
        )
    else:
        stream.write(mapping_text())
    stream.flush()


class ShowMappingAction(argparse.Action):
    """``--show-mapping``: print the table and exit at once, whatever else the command line says."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the Mark II → ECS field mapping of --format ecs and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        show_mapping()
        parser.exit(0)


ECS_FORMAT = OutputFormat(
    "ecs",
    "records",
    ".ndjson",
    "Elastic Common Schema NDJSON (unmapped Mark II keys under mk2.*)",
    open_writer,
    options=((("--show-mapping",), {"action": ShowMappingAction}),),
)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [ECS_FORMAT]


def _cmd_ecs_mapping(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    show_mapping(as_json=args.json)
    return 0


@hookimpl
def mk2ds_add_commands(
    subparsers: CommandRegistry, pm: pluggy.PluginManager
) -> None:
    parser = subparsers.add_parser(
        "ecs-mapping", help="print how Mark II fields map to Elastic Common Schema fields"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=_cmd_ecs_mapping)
