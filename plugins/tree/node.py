"""One process in the process model, and the small value helpers the model and the views share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

__all__ = [
    "EVENT_KEYS",
    "SERVICE_BY_PORT",
    "ProcessNode",
    "epoch_of",
    "event_dict",
    "guid_of",
    "integer_of",
    "new_event",
    "normalize_path",
    "split_epoch",
    "text_of",
    "zone_of",
]

#: Well-known ports and their IANA service names (the table the dataset's mk2tree tool used).
SERVICE_BY_PORT: dict[int, str] = {
    7: "echo",
    9: "discard",
    13: "daytime",
    19: "chargen",
    20: "ftp-data",
    21: "ftp",
    22: "ssh",
    23: "telnet",
    25: "smtp",
    53: "domain",
    67: "bootps",
    68: "bootpc",
    69: "tftp",
    80: "http",
    110: "pop3",
    113: "auth",
    123: "ntp",
    137: "netbios-ns",
    138: "netbios-dgm",
    139: "netbios-ssn",
    143: "imap",
    161: "snmp",
    162: "snmptrap",
    389: "ldap",
    443: "https",
    445: "microsoft-ds",
    514: "syslog",
    587: "submission",
    636: "ldaps",
    993: "imaps",
    995: "pop3s",
}


#: Record keys copied onto an activity event (the keys mk2tree showed, plus a few the V3 format adds); the
#: values are the canonical key objects, so that kept events share them.
_COPIED = (
    "path",
    "dstPath",
    "read",
    "write",
    "size",
    "new",
    "hide",
    "entry",
    "valType",
    "valStr",
    "valNum",
    "srcIP",
    "srcPort",
    "dstIP",
    "dstPort",
    "dstHost",
    "port",
    "recv",
    "send",
    "url",
    "decode",
    "winTitle",
    "api",
    "tpsGUID",
    "tpsPath",
    "shCmd",
    "cmdType",
    "clipData",
    "sha256",
)
EVENT_KEYS: dict[str, str] = {key: key for key in _COPIED}

_UNSET: Any = object()  # a start time never equals it
_NO_COUNTS: Mapping[str, int] = MappingProxyType({})
_NO_PEERS: Mapping[tuple[str, str | None, Any], dict[str, Any]] = MappingProxyType({})


def normalize_path(path: str) -> str:
    """A Windows path in a comparable form: lower case, backslashes, without ``\\\\?\\``-style prefixes."""
    text = path.strip().strip('"').replace("/", "\\").lower()
    if text.startswith("\\\\?\\unc\\"):
        return "\\\\" + text[8:]
    if text.startswith(("\\\\?\\", "\\??\\")):
        return text[4:]
    return text


def split_epoch(text: Any) -> tuple[float | None, bool]:
    """Seconds since the epoch of an ISO time read as UTC when it has no offset, and whether it had none."""
    if not isinstance(text, str):
        return None, False
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None, False
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc).timestamp(), True
    return value.timestamp(), False


def epoch_of(text: Any, zone: float | None = None) -> float | None:
    """Seconds since the epoch of an ISO time. A time without an offset (a zone-less Mark II header) is read
    in ``zone`` (seconds east of UTC: the offset the same host's other lines carry), else as UTC, so that times
    of one host compare correctly even when only some of its lines carry the offset."""
    epoch, naive = split_epoch(text)
    if epoch is not None and naive and zone:
        return epoch - zone
    return epoch


def zone_of(text: Any) -> float | None:
    """The UTC offset (seconds) an ISO time carries, or ``None``."""
    if not isinstance(text, str) or len(text) <= 23:
        return None
    try:
        offset = datetime.fromisoformat(text).utcoffset()
    except ValueError:
        return None
    return None if offset is None else offset.total_seconds()


def guid_of(value: Any) -> str | None:
    """A GUID as a key: trimmed, upper case; ``None`` when absent or empty."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value.upper() if value else None


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def integer_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def new_event(kind: str, record: Mapping[str, Any], shared: dict[Any, Any]) -> tuple[Any, ...]:
    """A kept activity event: a flat tuple ``(sn, time, kind, key, value, ...)``, about a third of a dict's size.

    The keys are those of :data:`EVENT_KEYS` that ``record`` has, in record order; times and kinds are shared
    through ``shared`` (one object per distinct text), so that the kept events of many processes do not repeat them.
    """
    time = record.get("time")
    event: list[Any] = [record.get("sn"), shared.setdefault(time, time), shared.setdefault(kind, kind)]
    for key, value in record.items():
        canonical = EVENT_KEYS.get(key)
        if canonical is not None:
            event.append(canonical)
            event.append(value)
    return tuple(event)


def event_dict(event: tuple[Any, ...]) -> dict[str, Any]:
    """A kept event ``(sn, time, kind, key, value, ...)`` as a dict."""
    out: dict[str, Any] = {"sn": event[0], "time": event[1], "kind": event[2]}
    for index in range(3, len(event) - 1, 2):
        out[event[index]] = event[index + 1]
    return out


@dataclass(eq=False, slots=True)
class ProcessNode:
    """One process, or a placeholder (``observed=False``) for one referenced but never seen starting.

    ``placeholder`` says why a node exists without its ``ps/start``: ``parent-reference`` (a child's
    ``parentGUID``), ``parent-path`` (a child's ``parentPath`` without a GUID), ``activity-only`` (records
    of the process, but no start: it started before the log began) or ``injection-target``.
    """

    host: str
    guid: str | None
    observed: bool = False
    placeholder: str | None = None
    path: str | None = None
    cmd: str | None = None
    sha256: str | None = None
    signer: str | None = None
    user: str | None = None
    pid: int | None = None
    start: str | None = None
    start_sn: Any = None
    stop: str | None = None
    stop_sn: Any = None
    parent_guid: str | None = None
    parent_path: str | None = None
    parent: ProcessNode | None = None
    parent_link: str | None = None
    #: Children by start time (set when the model is finished; a shared empty tuple for a leaf).
    children: list[ProcessNode] | tuple[()] = ()
    #: Activity counts by kind, kept events and network peers: ``None`` until the first one, so that the
    #: many processes without activity cost no containers (read them through ``counts``/``events``/``peers``).
    kind_counts: dict[str, int] | None = None
    kept_events: list[tuple[Any, ...]] | None = None
    omitted: int = 0
    open_skipped: int = 0
    outside_window: int = 0
    peer_table: dict[tuple[str, str | None, Any], dict[str, Any]] | None = None
    peers_omitted: int = 0
    first_sn: Any = None
    descendants: int = 0
    sort_time: float | None = None
    zone: float | None = None
    #: ``start_epoch`` cached with the ``start`` and ``zone`` it was computed from.
    _epoch_start: Any = _UNSET
    _epoch_zone: float | None = None
    _epoch: float | None = None

    @property
    def counts(self) -> Mapping[str, int]:
        """Activity counts by kind (``evt/subEvt``), read-only; :meth:`add_count` changes them."""
        return self.kind_counts if self.kind_counts is not None else _NO_COUNTS

    def add_count(self, kind: str, count: int = 1) -> None:
        counts = self.kind_counts
        if counts is None:
            counts = self.kind_counts = {}
        counts[kind] = counts.get(kind, 0) + count

    @property
    def events(self) -> Sequence[tuple[Any, ...]]:
        """The kept activity events (flat tuples, see :func:`event_dict`), read-only."""
        return self.kept_events if self.kept_events is not None else ()

    def event_list(self) -> list[tuple[Any, ...]]:
        """The kept events as a list to add to (made on first use)."""
        if self.kept_events is None:
            self.kept_events = []
        return self.kept_events

    @property
    def peers(self) -> Mapping[tuple[str, str | None, Any], dict[str, Any]]:
        """Network peers by ``(direction, ip, port)``, read-only; :meth:`peer_dict` to add one."""
        return self.peer_table if self.peer_table is not None else _NO_PEERS

    def peer_dict(self) -> dict[tuple[str, str | None, Any], dict[str, Any]]:
        """The peers as a dict to add to (made on first use)."""
        if self.peer_table is None:
            self.peer_table = {}
        return self.peer_table

    @property
    def id(self) -> str:
        """Stable node id: ``HOST|GUID``, or ``HOST|path:PATH`` for a parent known only by its path."""
        if self.guid:
            return f"{self.host}|{self.guid}"
        return f"{self.host}|path:{normalize_path(self.path or '')}"

    @property
    def name(self) -> str:
        if not self.path:
            return self.guid or "?"
        return self.path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1] or self.path

    def event_dicts(self) -> list[dict[str, Any]]:
        """The kept activity events as dicts (``sn``, ``time``, ``kind`` and the copied record keys)."""
        return [event_dict(event) for event in self.events]

    def epoch(self, time: Any) -> float | None:
        """A time of this process's host in epoch seconds (zone-less times in the host's zone)."""
        return epoch_of(time, self.zone)

    @property
    def start_epoch(self) -> float | None:
        if self._epoch_start is not self.start or self._epoch_zone != self.zone:
            self._epoch_start, self._epoch_zone = self.start, self.zone
            self._epoch = epoch_of(self.start, self.zone)
        return self._epoch

    @property
    def stop_epoch(self) -> float | None:
        return epoch_of(self.stop, self.zone)

    @property
    def lifetime(self) -> float | None:
        start, stop = self.start_epoch, self.stop_epoch
        return None if start is None or stop is None else round(stop - start, 3)

    def sort_key(self) -> tuple[Any, ...]:
        """By start time; unknown starts last; ties by id (never by the order of lines)."""
        start = self.start_epoch
        return (start is None, start or 0.0, self.id)
