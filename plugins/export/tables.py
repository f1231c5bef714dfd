"""The log tables of ``mk2ds export``: ``events``, ``processes`` and ``relations``, their fixed schemas and rows.

``events``
    One row per log record. The Mark II keys most analyzes use are typed columns named as in the log
    (``evt``, ``subEvt``, ``psGUID``, ``dstPort`` ...); the integer keys of ``schemas/record.schema.json``
    (``x-integer-fields``) are ``integer``, the others ``string``. Every other key goes, with its value, to
    the ``extra`` JSON object, so that no value is lost and the schema is the same for every dataset. The
    product's no-value marker ``-`` is null in a typed column; other text in an integer column (and an
    integer beyond 64 bits) is null there and kept as text under its key in ``extra``.
``processes``
    One row per process of each log's process model (:mod:`mk2ds.plugins.tree.model`).
``relations``
    One row per relation of the model (injection, wrote-then-ran, service) with its evidence ``sn`` s.

Times: :func:`resolve_instant` is the one place where a record time becomes an instant (see its doc).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mk2ds.core.schemas import load_schema
from mk2ds.core.tables import TableField
from mk2ds.plugins.reader.timestamps import SecondsMemo, Settled, resolve_time

__all__ = [
    "EVENT_FIELDS",
    "EVENT_INTEGER_KEYS",
    "EVENT_STRING_KEYS",
    "EVENT_TABLE_FIELDS",
    "EventRows",
    "NO_VALUE",
    "PARTITION_FIELDS",
    "PARTITION_NAMES",
    "PROCESS_FIELDS",
    "RELATION_FIELDS",
    "Instant",
    "event_row",
    "process_key",
    "process_rows",
    "relation_rows",
    "resolve_instant",
]

#: The product's marker for "no value" (``srcIP="-"``): null in a typed column.
NO_VALUE = "-"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: String keys with a column of their own, in column order (the rest go to ``extra``).
EVENT_STRING_KEYS: tuple[str, ...] = (
    "evt", "subEvt", "com", "psGUID", "psPath", "cmd", "psUser", "psDomain", "parentGUID", "parentPath",
    "tpsGUID", "tpsPath", "path", "dstPath", "srcIP", "dstIP", "dstHost", "url", "domain", "sha256", "sha1",
    "md5", "sig", "signer", "entry", "valType", "valStr", "api", "winTitle", "drvType",
)  # fmt: skip
#: Integer keys, from the record schema (``sn`` first).
EVENT_INTEGER_KEYS: tuple[str, ...] = ("sn", *(key for key in load_schema("record")["x-integer-fields"] if key != "sn"))

PARTITION_FIELDS: tuple[TableField, ...] = (
    TableField(
        "subset",
        "string",
        "the log's subset: the folder holding it (30m, Verbose, Normal, WannaCry, ...); a partition key",
        required=True,
    ),
    TableField(
        "sample",
        "string",
        "sha256 of the sample whose run the log records (samples.sha256); null for logs of no single sample (multi-host runs, Normal); a partition key",
    ),
)
EVENT_FIELDS: tuple[TableField, ...] = (
    TableField("file", "string", "the log file, relative to the dataset", required=True),
    TableField("line", "integer", "1-based line number of the record in the file", required=True),
    TableField("time", "datetime", "the instant (UTC); null when the offset is unknown (see time_offset_source)"),
    TableField("time_local", "string", "the wall-clock time exactly as logged (ISO 8601, no offset)", required=True),
    TableField("time_offset", "string", "the UTC offset of the record (+09:00), null when unknown"),
    TableField(
        "time_offset_source",
        "string",
        "where the offset comes from: header (the line), option (--assume-offset), sysinfo (the sample's systeminfo time zone), unknown (time_offset and time are then null)",
    ),
    *(TableField(key, "integer", f"Mark II key {key}") for key in EVENT_INTEGER_KEYS),
    *(TableField(key, "string", f"Mark II key {key}") for key in EVENT_STRING_KEYS),
    TableField(
        "extra",
        "json",
        "every other key of the record with its value, and text found in an integer key (an object; {} when none)",
        required=True,
    ),
)
#: The events table as written: every file also holds its partition columns (dictionary-encoded, as pyarrow
#: types partition keys it discovers), so that a single file is self-describing.
EVENT_TABLE_FIELDS: tuple[TableField, ...] = (*EVENT_FIELDS, *PARTITION_FIELDS)
PARTITION_NAMES: tuple[str, ...] = tuple(field.name for field in PARTITION_FIELDS)
_EVENT_NAMES: tuple[str, ...] = tuple(field.name for field in EVENT_FIELDS)
_NO_TIME = (None, None, None, None)
_TYPED_KEYS = frozenset(
    ("time", "time_offset", "time_offset_source", "_file", "_line", *EVENT_INTEGER_KEYS, *EVENT_STRING_KEYS)
)

PROCESS_FIELDS: tuple[TableField, ...] = (
    TableField("process_key", "string", "unique in the export: FILE#PROCESS_ID", required=True),
    TableField("file", "string", "the log file the process was seen in", required=True),
    TableField(
        "process_id",
        "string",
        "the process in its log: HOST|GUID, or HOST|path:PATH for a parent known by its path",
        required=True,
    ),
    *PARTITION_FIELDS,
    TableField("host", "string", "the host (com)"),
    TableField("guid", "string", "psGUID"),
    TableField("parent_key", "string", "process_key of the parent (processes.process_key), null for a root"),
    TableField("parent_id", "string", "process_id of the parent in the same log, null for a root"),
    TableField("parent_guid", "string", "parentGUID as logged"),
    TableField("parent_link", "string", "how the parent was found (guid, path, ...)"),
    TableField("path", "string", "the executable (psPath)"),
    TableField("name", "string", "the executable's file name"),
    TableField("cmd", "string", "the command line"),
    TableField("user", "string", "the user"),
    TableField("pid", "integer", "the process id (psID)"),
    TableField("sha256", "string", "the executable's sha256 when logged"),
    TableField("start", "datetime", "the start instant (UTC), null when unknown"),
    TableField("start_local", "string", "the start as logged"),
    TableField("start_sn", "integer", "sn of the ps/start record"),
    TableField("stop", "datetime", "the stop instant (UTC), null when unknown or never stopped"),
    TableField("stop_local", "string", "the stop as logged"),
    TableField("lifetime_seconds", "number", "stop minus start, null when either is unknown"),
    TableField("observed", "boolean", "true when its ps/start is in the log; false for a placeholder", required=True),
    TableField(
        "placeholder",
        "string",
        "why a placeholder exists (parent-reference, parent-path, activity-only, injection-target)",
    ),
    TableField("children", "integer", "number of child processes", required=True),
    TableField("descendants", "integer", "number of processes below it", required=True),
    TableField("activity", "integer", "activity records of the process (all kinds)", required=True),
    TableField("file_activity", "integer", "file/* records", required=True),
    TableField("reg_activity", "integer", "reg/* records", required=True),
    TableField("net_activity", "integer", "net/* records", required=True),
    TableField("activity_by_kind", "json", "activity records by evt/subEvt (an object)", required=True),
)
RELATION_FIELDS: tuple[TableField, ...] = (
    TableField("file", "string", "the log file the relation was seen in", required=True),
    TableField("kind", "string", "injection, wrote-then-ran or service", required=True),
    TableField("source_key", "string", "the acting process (processes.process_key)", required=True),
    TableField("target_key", "string", "the process acted on or started (processes.process_key)", required=True),
    TableField("source_id", "string", "the acting process in its log (HOST|GUID)", required=True),
    TableField("target_id", "string", "the target process in its log (HOST|GUID)", required=True),
    *PARTITION_FIELDS,
    TableField("source_path", "string", "the acting process's executable"),
    TableField("target_path", "string", "the target process's executable"),
    TableField("evidence_sn", "json", "sn of the records that show the relation (a list, at most 20)", required=True),
    TableField("evidence_count", "integer", "how many records show it", required=True),
    TableField("details", "json", "kind-specific details (path written, service name, APIs)", required=True),
)


@dataclass(frozen=True)
class Instant:
    """A record time settled: ``epoch_ms`` (UTC milliseconds) is ``None`` when the offset is unknown."""

    local: str
    offset: str | None
    source: str
    epoch_ms: int | None


def resolve_instant(
    time: Any, host_offset: str | None, assume_offset: str | None, record: Mapping[str, Any] | None = None
) -> Instant | None:
    """The instant of a record ``time``, with the vocabulary of converted records (``time_offset_source``):
    the offset the line carries (``header``); else the one the reader settled for the record (its
    ``time_offset`` and ``time_offset_source``: ``option`` for ``--assume-offset``, ``sysinfo`` for the
    sample's Sysinfo time zone); else, for a bare time (a process start in the tree), ``--assume-offset``
    (``option``), then the host's Sysinfo offset (``sysinfo``), the reader's order; else ``unknown``, with
    no offset and no instant (none is invented). ``None`` when the time is missing or malformed.
    """
    settled: dict[str, Any] = {"time": time}
    for key in ("time_offset", "time_offset_source"):
        if record is not None and key in record:
            settled[key] = record[key]
    if "time_offset_source" not in settled:
        for offset, source in ((assume_offset, "option"), (host_offset, "sysinfo")):
            if offset:
                settled.update(time_offset=offset, time_offset_source=source)
                break
    try:
        resolved = resolve_time(settled, None)
    except ValueError:
        return None
    if resolved.source == "unknown":
        return Instant(resolved.local, None, "unknown", None)
    return Instant(resolved.local, resolved.offset, resolved.source, resolved.epoch_microseconds // 1000)


def _integer_or_text(value: Any) -> tuple[int | None, Any]:
    """(the column value, the value to keep in ``extra`` or ``None``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, None) if INT64_MIN <= value <= INT64_MAX else (None, str(value))
    if value is None or value == NO_VALUE:
        return None, None
    return None, value


class EventRows:
    """``events`` rows of one log, as tuples in :data:`EVENT_TABLE_FIELDS` order (the writer's columns), with
    the log's partition values (``subset``, ``sample``) last.

    Records of a log share few seconds: each second's instant is settled once
    (:class:`~mk2ds.plugins.reader.timestamps.SecondsMemo`).
    """

    def __init__(
        self, host_offset: str | None, assume_offset: str | None, partition: tuple[str | None, ...] = ()
    ) -> None:
        self.host_offset = host_offset
        self.assume_offset = assume_offset
        self.partition = partition
        self._times = SecondsMemo(self._resolve)

    def _resolve(self, record: dict[str, Any]) -> Settled | None:
        when = resolve_instant(record["time"], self.host_offset, self.assume_offset, record)
        return None if when is None else (when.epoch_ms, when.local, when.offset, when.source)

    def _time_columns(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """``(time, time_local, time_offset, time_offset_source)`` of a record."""
        settled = self._times(record)
        return _NO_TIME if settled is None else settled

    def values(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """One row from a reader record with provenance (``_file``, ``_line``)."""
        extra: dict[str, Any] = {}
        integers: list[Any] = []
        for key in EVENT_INTEGER_KEYS:
            value = record.get(key)
            if value is None or (type(value) is int and INT64_MIN <= value <= INT64_MAX):
                integers.append(value)
                continue
            column, kept = _integer_or_text(value)
            integers.append(column)
            if kept is not None:
                extra[key] = kept
        strings: list[str | None] = []
        for key in EVENT_STRING_KEYS:
            value = record.get(key)
            if value is None or value == NO_VALUE:
                strings.append(None)
            else:
                strings.append(value if type(value) is str else str(value))
        for key, value in record.items():
            if key not in _TYPED_KEYS:
                extra[key] = value
        return (
            record.get("_file"),
            record.get("_line"),
            *self._time_columns(record),
            *integers,
            *strings,
            extra,
            *self.partition,
        )


def event_row(record: Mapping[str, Any], host_offset: str | None, assume_offset: str | None) -> dict[str, Any]:
    """One ``events`` row (without the partition columns) from a reader record with provenance, by column name."""
    return dict(zip(_EVENT_NAMES, EventRows(host_offset, assume_offset).values(record), strict=True))


def process_key(file: str, process_id: str) -> str:
    """The export-wide key of a process: its log file and its id in the log."""
    return f"{file}#{process_id}"


def _kinds(counts: Mapping[str, int], prefix: str) -> int:
    return sum(count for kind, count in counts.items() if kind.startswith(prefix))


def process_rows(
    model: Any, base: Mapping[str, Any], host_offset: str | None, assume_offset: str | None
) -> Iterator[dict[str, Any]]:
    """``processes`` rows of a finished process model, in tree order; ``base`` holds file, subset, sample."""
    for node in model.preorder():
        start = resolve_instant(node.start, host_offset, assume_offset) if node.start else None
        stop = resolve_instant(node.stop, host_offset, assume_offset) if node.stop else None
        lifetime = None
        if start is not None and stop is not None and start.epoch_ms is not None and stop.epoch_ms is not None:
            lifetime = (stop.epoch_ms - start.epoch_ms) / 1000.0
        counts = dict(sorted(node.counts.items()))
        yield {
            **base,
            "process_key": process_key(base["file"], node.id),
            "process_id": node.id,
            "host": node.host or None,
            "guid": node.guid,
            "parent_key": process_key(base["file"], node.parent.id) if node.parent is not None else None,
            "parent_id": node.parent.id if node.parent is not None else None,
            "parent_guid": node.parent_guid,
            "parent_link": node.parent_link,
            "path": node.path,
            "name": node.name if node.path else None,
            "cmd": node.cmd,
            "user": node.user,
            "pid": node.pid,
            "sha256": node.sha256,
            "start": None if start is None else start.epoch_ms,
            "start_local": None if start is None else start.local,
            "start_sn": node.start_sn if isinstance(node.start_sn, int) else None,
            "stop": None if stop is None else stop.epoch_ms,
            "stop_local": None if stop is None else stop.local,
            "lifetime_seconds": lifetime,
            "observed": bool(node.observed),
            "placeholder": node.placeholder,
            "children": len(node.children),
            "descendants": node.descendants,
            "activity": sum(counts.values()),
            "file_activity": _kinds(counts, "file/"),
            "reg_activity": _kinds(counts, "reg/"),
            "net_activity": _kinds(counts, "net/"),
            "activity_by_kind": counts,
        }


def relation_rows(model: Any, base: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """``relations`` rows of a finished process model, in the model's order."""
    for relation in model.relations.relations:
        yield {
            **base,
            "kind": relation.kind,
            "source_key": process_key(base["file"], relation.source.id),
            "target_key": process_key(base["file"], relation.target.id),
            "source_id": relation.source.id,
            "target_id": relation.target.id,
            "source_path": relation.source.path,
            "target_path": relation.target.path,
            "evidence_sn": [sn for sn in relation.evidence],
            "evidence_count": relation.evidence_count,
            "details": relation.details,
        }


def json_text(value: Any) -> str:
    """The JSON text of a ``json`` field: keys sorted, no ASCII escaping (deterministic)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
