"""ECS fields that no one-key rule of :mod:`mk2ds.plugins.records.ecs_mapping` can give: they need the record
as a whole, the resolved time offset, earlier records, or a file beside the log.

* ``observer.vendor``/``observer.product``: the product that recorded the event (InfoTrace Mark II).
* ``network.transport``/``network.type``/``network.direction`` of ``net`` records. The direction is seen
  from the host (ECS: ``ingress``/``egress`` for host-based monitoring): ``acpt`` is ingress, ``con``
  egress; ``est`` and ``dcon`` are ingress when an earlier ``acpt`` of the same host had the same endpoints
  (:class:`ConnectionDirections`, bounded), else egress. ECS puts the *initiator* in ``source.*``: Mark II
  writes the terminal as ``srcIP`` on ``dcon`` even when the peer connected, so for an accepted connection
  :func:`initiator_view` swaps the endpoints and the byte counts (``recv`` becomes ``source.bytes``).
* File times (``crTime``, ``acTime``, ``moTime`` of ``file`` records) as ECS dates ``file.created``,
  ``file.accessed``, ``file.mtime``, and ``sTime`` as ``process.start`` (``ps``) or ``event.start``
  (``file``), with the offset the record's own time resolved to (the Mark II in-value times have none).
* ``related.ip``/``related.user``/``related.hash``: every address, user name and hash of the document.
* ``host.os.*`` from the host's ``systeminfo`` output (:func:`host_os_fields`).

This is a library for the ``ecs`` record output; it implements no hooks.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

__all__ = [
    "OBSERVER",
    "TIME_RULES",
    "ConnectionDirections",
    "host_os_fields",
    "initiator_view",
    "network_fields",
    "related_fields",
    "time_fields",
]

#: The product that recorded every event.
OBSERVER = {"observer.vendor": "Soliton Systems", "observer.product": "InfoTrace Mark II"}

#: ``(Mark II key, ECS date field, evt)``: in-value times (``MM/DD/YYYY HH:MM:SS.mmm``, no offset).
TIME_RULES: tuple[tuple[str, str, str], ...] = (
    ("crTime", "file.created", "file"),
    ("acTime", "file.accessed", "file"),
    ("moTime", "file.mtime", "file"),
    ("sTime", "event.start", "file"),
    ("sTime", "process.start", "ps"),
)
_IN_VALUE_TIME = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})\Z")
_TCP_EVENTS = frozenset({"con", "acpt", "est", "dcon", "lsn"})
_SWAPPED = (("srcIP", "dstIP"), ("srcPort", "dstPort"), ("send", "recv"))


def time_fields(record: Mapping[str, Any], offset: str) -> tuple[dict[str, str], set[str]]:
    """ECS dates from the in-value times of ``record`` with ``offset`` (``+09:00``); and the keys used."""
    fields: dict[str, str] = {}
    used: set[str] = set()
    event = record.get("evt")
    for key, target, applies in TIME_RULES:
        value = record.get(key)
        if event != applies or not isinstance(value, str):
            continue
        match = _IN_VALUE_TIME.match(value)
        if match is None or not _possible(match):
            continue
        month, day, year, clock = match.groups()
        fields[target] = f"{year}-{month}-{day}T{clock}{offset}"
        used.add(key)
    return fields, used


def _possible(match: re.Match[str]) -> bool:
    from mk2ds.plugins.reader.tokenizer import iso_date

    month, day, year, clock = match.groups()
    return (
        iso_date(f"{month}/{day}/{year}") is not None
        and clock[:2] <= "23"
        and clock[3:5] <= "59"
        and clock[6:8] <= "59"
    )


class ConnectionDirections:
    """Endpoints of accepted (inbound) connections per host, to tell the direction of ``est``/``dcon``.

    Holds at most ``limit`` connections (the oldest are forgotten first), so memory stays bounded.
    """

    def __init__(self, limit: int = 65536) -> None:
        self.limit = limit
        self._accepted: OrderedDict[tuple[Any, ...], None] = OrderedDict()

    def direction(self, record: Mapping[str, Any]) -> tuple[str | None, bool]:
        """``(network.direction, swap)`` of a ``net`` record; ``swap``: the record's ``src*`` is not the initiator."""
        sub = record.get("subEvt")
        host = record.get("com")
        as_written = (host, record.get("srcIP"), record.get("srcPort"), record.get("dstIP"), record.get("dstPort"))
        if sub == "acpt":
            self._accepted[as_written] = None
            self._accepted.move_to_end(as_written)
            if len(self._accepted) > self.limit:
                self._accepted.popitem(last=False)
            return "ingress", False
        if sub == "con":
            return "egress", False
        if sub not in ("est", "dcon"):
            return None, False
        reversed_key = (host, record.get("dstIP"), record.get("dstPort"), record.get("srcIP"), record.get("srcPort"))
        for key, swap in ((as_written, False), (reversed_key, True)):
            if key in self._accepted:
                if sub == "dcon":
                    del self._accepted[key]
                return "ingress", swap
        return "egress", False


def initiator_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with source and destination (and ``send``/``recv``) swapped, keys in the same order."""
    view = dict(record)
    for left, right in _SWAPPED:
        if left in record or right in record:
            view.pop(left, None)
            view.pop(right, None)
            if right in record:
                view[left] = record[right]
            if left in record:
                view[right] = record[left]
    return {key: view[key] for key in record if key in view}


def network_fields(record: Mapping[str, Any], direction: str | None) -> dict[str, str]:
    """``network.transport``, ``network.type`` and ``network.direction`` of a ``net`` record."""
    if record.get("evt") != "net":
        return {}
    sub = record.get("subEvt")
    fields: dict[str, str] = {}
    if sub in _TCP_EVENTS:
        fields["network.transport"] = "tcp"
    elif sub == "openUDP":
        fields["network.transport"] = "udp"
    address = str(record.get("srcIP") or record.get("dstIP") or "")
    if address and address != "-":
        fields["network.type"] = "ipv6" if ":" in address else "ipv4"
    if direction:
        fields["network.direction"] = direction
    return fields


def related_fields(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """``related.ip``/``related.user``/``related.hash``: the distinct values of the document, in order."""
    related: dict[str, list[str]] = {"related.ip": [], "related.user": [], "related.hash": []}
    sources = {
        "related.ip": (("host", "ip"), ("source", "ip"), ("destination", "ip")),
        "related.user": (("user", "name"),),
        "related.hash": tuple(
            (group, "hash", kind) for group in ("process", "file") for kind in ("md5", "sha1", "sha256")
        ),
    }
    for target, paths in sources.items():
        for path in paths:
            value: Any = document
            for part in path:
                value = value.get(part) if isinstance(value, Mapping) else None
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item and item not in related[target]:
                    related[target].append(item)
    return {key: values for key, values in related.items() if values}


_OS_VERSION = re.compile(r"([0-9]+\.[0-9]+\.[0-9]+)")


def host_os_fields(systeminfo: Mapping[str, Any]) -> dict[str, str]:
    """``host.os.*`` from facts of ``systeminfo.exe`` output (``os_name``, ``os_version``; see the sysinfo check)."""
    name = str(systeminfo.get("os_name") or "").strip()
    version_text = str(systeminfo.get("os_version") or "").strip()
    if not name and not version_text:
        return {}
    fields = {"host.os.type": "windows", "host.os.family": "windows", "host.os.platform": "windows"}
    if name:
        fields["host.os.name"] = name.removeprefix("Microsoft ").strip()
        fields["host.os.full"] = f"{name} {version_text}".strip()
    version = _OS_VERSION.search(version_text)
    if version:
        fields["host.os.version"] = version.group(1)
        fields["host.os.kernel"] = version.group(1)
    return fields
