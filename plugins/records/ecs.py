"""The ``ecs`` record output: NDJSON documents in Elastic Common Schema, ready for an Elasticsearch bulk load.

Each record becomes one JSON object per line with nested ECS fields (``@timestamp``, ``event.*``,
``process.*``, ``file.*``, ``registry.*``, ``source.*``, ``destination.*``, ``host.*``, ...) following the
data table in :mod:`mk2ds.plugins.records.ecs_mapping`; every Mark II key the table does not map is kept unchanged
under ``mk2.<key>``. Documents validate against ``schemas/ecs-subset.schema.json``.

``@timestamp`` of a zone-less record uses the offset the reader resolved (``--assume-offset``, or the sample's
Sysinfo time zone), kept with its source in ``mk2.time_offset``/``mk2.time_offset_source`` and, as ECS asks
for timestamps that had no zone, in ``event.timezone`` (``+09:00``); when the offset is
unknown it is UTC, and ``mk2.time_zone_assumed`` (``+00:00``) says so (see
:mod:`mk2ds.plugins.reader.timestamps`). Types (:mod:`mk2ds.plugins.records.typed`): an integer field under
``mk2.*`` is a ``long`` or absent; text there (the no-value marker ``-``) and integers beyond signed 64 bits
(a ``REG_QWORD`` ``valNum``) are kept as text in ``mk2.<key>_raw``; mapped ECS fields never get them.

Fields that need more than one key (:mod:`mk2ds.plugins.records.ecs_enrich`): ``observer.*``, ``network.*``
(with the direction of a connection, which decides whose bytes are ``source.bytes``), file and process times
as dates with the record's offset, ``related.*``, and ``host.os.*`` from ``--sysinfo FILE`` (the host's
``systeminfo.exe`` output, used for the records of that host only) or, without it, from the log's sample's
Sysinfo when ``convert`` reads the log as part of a distribution (:func:`host_os_option`). ``--ecs-original`` adds
``event.original``: the Mark II line itself, exactly (the conversion then reads the log losslessly and writes
the line back with :func:`mk2ds.plugins.convert.format.format_record`).

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
from mk2ds.plugins.records.ecs_enrich import (
    OBSERVER,
    ConnectionDirections,
    host_os_fields,
    initiator_view,
    network_fields,
    related_fields,
    time_fields,
)
from mk2ds.plugins.records.ecs_mapping import ECS_VERSION, RULES, event_fields, mapping_rows
from mk2ds.plugins.records.typed import typed_record

__all__ = ["EcsWriter", "host_os_option", "mapping_text", "show_mapping", "to_ecs"]

#: Top-level order of the fields in a document (others follow in the order they were set).
_GROUP_ORDER = (
    "@timestamp",
    "message",
    "ecs",
    "event",
    "observer",
    "host",
    "process",
    "user",
    "file",
    "registry",
    "source",
    "destination",
    "network",
    "url",
    "related",
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


#: Keys of a lossless record (``convert --lossless``, ``--ecs-original``): the line's layout, not data.
LAYOUT_KEYS = ("_quoted", "_spaces", "_header")


def to_ecs(
    record: Mapping[str, Any],
    assume_offset: str | None = None,
    *,
    directions: ConnectionDirections | None = None,
    host_os: Mapping[str, Any] | None = None,
    original: bool = False,
) -> dict[str, Any]:
    """Map one record to an ECS document (nested dicts), keeping unmapped keys under ``mk2``.

    :param directions: the connections seen so far (a writer keeps one for the whole log); ``None``: each
        record on its own (``est``/``dcon`` count as outbound).
    :param host_os: ``systeminfo`` facts (``host_name``, ``os_name``, ``os_version``) of the recorded host.
    :param original: add ``event.original`` (exact for records read with ``lossless``).
    :raises ValueError: the record's ``time`` is missing or malformed (the message names the record).
    """
    when = resolve_time(record, assume_offset)
    layout = {key: record[key] for key in LAYOUT_KEYS if key in record}
    if layout:
        record = {key: value for key, value in record.items() if key not in LAYOUT_KEYS}
    document: dict[str, Any] = {
        "@timestamp": when.iso,
        "message": summarize(record),
        "ecs": {"version": ECS_VERSION},
    }
    mapped = _event_part(document, record, layout, original)
    view, used = _context_part(document, record, when.offset, directions)
    mapped |= used | _apply_rules(document, view, record.get("evt"))
    _host_part(document, record, host_os)
    for field, values in related_fields(document).items():
        _put(document, field, values)
    extras = typed_record({key: value for key, value in record.items() if key not in mapped})
    if when.assumed is not None:
        extras["time_zone_assumed"] = when.assumed
    elif when.source in ("option", "sysinfo"):  # a zone-less header whose offset was settled from evidence
        _put(document, "event.timezone", when.offset)
    if extras:
        document["mk2"] = extras
    ordered = {key: document[key] for key in _GROUP_ORDER if key in document}
    ordered.update((key, value) for key, value in document.items() if key not in ordered)
    return ordered


def _event_part(
    document: dict[str, Any], record: Mapping[str, Any], layout: Mapping[str, Any], original: bool
) -> set[str]:
    """``event.*`` (with ``event.original`` when asked) and ``observer.*``; the keys this mapped."""
    derived_event = event_fields(record)
    line = _original_line(record, layout) if original else None
    if line is not None:
        derived_event["event.original"] = line
    for field, value in [*derived_event.items(), *OBSERVER.items()]:
        _put(document, field, value)
    mapped: set[str] = {"time"}
    mapped.update(
        key for key, field in (("evt", "event.dataset"), ("subEvt", "event.action")) if field in derived_event
    )
    return mapped


def _context_part(
    document: dict[str, Any], record: Mapping[str, Any], offset: str, directions: ConnectionDirections | None
) -> tuple[Mapping[str, Any], set[str]]:
    """``network.*`` and the in-value times; the record as ECS sees it (initiator as source) and the keys used."""
    is_net = record.get("evt") == "net"
    direction, swap = directions.direction(record) if directions is not None and is_net else _direction(record)
    for field, value in network_fields(record, direction).items():
        _put(document, field, value)
    times, used = time_fields(record, offset)
    for field, value in times.items():
        _put(document, field, value)
    return (initiator_view(record) if swap else record), used


def _apply_rules(document: dict[str, Any], view: Mapping[str, Any], event: Any) -> set[str]:
    """Apply the mapping table; the Mark II keys a primary rule mapped."""
    mapped: set[str] = set()
    for rule in RULES:
        if rule.source not in view or not rule.applies_to(event):
            continue
        converted = rule.apply(view[rule.source], view)
        if converted is None:
            continue
        fields = list(converted.items())
        if any(_exists(document, field) for field, _ in fields):
            continue  # another key already filled this field: keep this one under mk2
        for field, value in fields:
            _put(document, field, value)
        if not rule.derived:
            mapped.add(rule.source)
    return mapped


def _host_part(document: dict[str, Any], record: Mapping[str, Any], host_os: Mapping[str, Any] | None) -> None:
    """``host.os.*`` from ``systeminfo`` facts, for records of that host (or naming none); facts that name no
    host (the OS every Sysinfo file of a distribution agrees on) go to every record."""
    if not host_os:
        return
    host = str(record.get("com") or "")
    expected = str(host_os.get("host_name") or "")
    if host and expected and host.lower() != expected.lower():
        return
    for field, value in host_os_fields(host_os).items():
        _put(document, field, value)


def _direction(record: Mapping[str, Any]) -> tuple[str | None, bool]:
    """The direction of a ``net`` record judged on its own (no earlier ``acpt`` known)."""
    if record.get("evt") != "net":
        return None, False
    return ConnectionDirections().direction(record)


def _original_line(record: Mapping[str, Any], layout: Mapping[str, Any]) -> str | None:
    """The Mark II line of a lossless record (its ``layout`` keys), exactly; ``None`` for any other record,
    whose line could only be approximated."""
    from mk2ds.plugins.convert.format import FormatError, format_record

    if "_quoted" not in layout:
        return None
    try:
        return format_record({**record, **layout})
    except FormatError:
        return None


def _exists(document: Mapping[str, Any], dotted: str) -> bool:
    node: Any = document
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


class EcsWriter:
    """Writes one ECS document per record, one per line (UTF-8, LF)."""

    def __init__(
        self,
        stream: BinaryIO,
        assume_offset: str | None,
        *,
        host_os: Mapping[str, Any] | None = None,
        original: bool = False,
    ) -> None:
        self._stream = stream
        self._assume_offset = assume_offset
        self._directions = ConnectionDirections()
        self._host_os = host_os
        self._original = original

    def write(self, record: Mapping[str, Any]) -> None:
        document = to_ecs(
            record, self._assume_offset, directions=self._directions, host_os=self._host_os, original=self._original
        )
        self._stream.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")

    def close(self) -> None:
        self._stream.flush()


def open_writer(stream: BinaryIO, options: argparse.Namespace) -> EcsWriter:
    original = bool(getattr(options, "ecs_original", False))
    return EcsWriter(stream, assumed_offset_option(options), host_os=host_os_option(options), original=original)


def host_os_option(options: Any) -> dict[str, Any] | None:
    """The host facts for ``host.os.*``, in order of evidence: ``--sysinfo FILE`` (given by the user: it wins),
    else ``options.sysinfo_host`` (the facts of the log's sample's Sysinfo, which ``convert`` passes in dataset
    context), else ``None`` (no ``host.os``, never a guess)."""
    given = sysinfo_option(options)
    if given is not None:
        return given
    found = getattr(options, "sysinfo_host", None)
    return dict(found) if isinstance(found, Mapping) and found else None


def sysinfo_option(options: Any) -> dict[str, Any] | None:
    """The facts of ``--sysinfo FILE`` (``systeminfo.exe`` output in any encoding Windows writes), or ``None``."""
    path = getattr(options, "sysinfo", None)
    return read_sysinfo(path) if path else None


def read_sysinfo(path: str) -> dict[str, Any]:
    """``host_name``, ``os_name``, ``os_version``... of a ``systeminfo.exe`` output file.

    :raises argparse.ArgumentTypeError: the file cannot be read, or is not ``systeminfo.exe`` output (so that
        ``--sysinfo`` is a usage error, exit code 2).
    """
    from mk2ds.plugins.checks.sysinfo import decode, parse_systeminfo

    try:
        with open(path, "rb") as handle:
            data = handle.read(4 << 20)
    except OSError as error:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {error.strerror}") from None
    decoded = decode(data)
    facts = parse_systeminfo(decoded[0]) if decoded else {}
    if not facts.get("os_name"):
        raise argparse.ArgumentTypeError(f"{path} is not systeminfo.exe output (no OS name found)")
    return facts


def _sysinfo_argument(path: str) -> str:
    read_sysinfo(path)
    return path


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
            json.dumps([dict(zip(keys, row, strict=True)) for row in mapping_rows()], indent=2, ensure_ascii=False)
            + "\n"
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
    options=(
        (("--show-mapping",), {"action": ShowMappingAction}),
        (
            ("--sysinfo",),
            {
                "metavar": "FILE",
                "type": _sysinfo_argument,
                "help": "ecs: the host's systeminfo.exe output, for host.os.* (records of that host); default: the sample's Sysinfo when the log is read as part of a distribution",
            },
        ),
        (
            ("--ecs-original",),
            {"action": "store_true", "help": "ecs: add event.original, the Mark II line exactly as read"},
        ),
    ),
)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [ECS_FORMAT]


def _cmd_ecs_mapping(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    show_mapping(as_json=args.json)
    return 0


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    parser = subparsers.add_parser("ecs-mapping", help="print how Mark II fields map to Elastic Common Schema fields")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=_cmd_ecs_mapping)
