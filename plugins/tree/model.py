"""The process model behind ``mk2ds tree``: processes, their activity and the relations between them.

Built in one streaming pass over records (dicts pinned by ``schemas/record.schema.json``). Memory grows with
the number of *processes*, not of records:

* a process node keeps its facts, activity counts by kind (always complete), the first ``max_events``
  activity events in stream order (the rest are counted in ``omitted``, never dropped silently) and at most
  ``max_peers`` aggregated network peers (the rest counted in ``peers_omitted``);
* relation evidence keeps at most :data:`mk2ds.plugins.tree.relations.EVIDENCE_CAP` record numbers per edge;
* written paths are remembered for the wrote-then-ran relation as described in
  :mod:`mk2ds.plugins.tree.relations`.

Processes are keyed by ``(com, psGUID)``: the same GUID on two hosts is two processes. Parents are resolved
*after* the last record, so a child whose ``ps/start`` line comes before its parent's still links. A parent
that never starts becomes a *placeholder* node (``observed: false``) built from ``parentGUID``/``parentPath``.
``--since``/``--until`` limit the activity that is counted and listed; relations use every record.

The ``mk2ds_build_process_tree`` hook returns a finished :class:`ProcessModel`; ``mk2ds tree`` only calls its
``to_document(options)`` (the document of ``schemas/tree.schema.json``), so a plugin replacing the model needs
just that method; ``stream_document(options)``, when a model has it, is used instead for outputs that write
the document as it is made (``json``). :func:`summarize` is what ``mk2ds verify`` reports per sample.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mk2ds.core import hookimpl
from mk2ds.plugins.tree.linking import link_parents, merge_hostless, observed_by_path, order_tree, preorder
from mk2ds.plugins.tree.node import (
    SERVICE_BY_PORT,
    ProcessNode,
    epoch_of,
    guid_of,
    integer_of,
    new_event,
    text_of,
    zone_of,
)
from mk2ds.plugins.tree.relations import RelationTracker
from mk2ds.plugins.tree.summary import model_summary

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "DEFAULT_MAX_PEERS",
    "SERVICE_BY_PORT",
    "ProcessModel",
    "ProcessNode",
    "build_model",
    "epoch_of",
    "summarize",
]

#: Activity events kept in order per process (``--max-events``); counts by kind are always complete.
DEFAULT_MAX_EVENTS = 200
#: Distinct network peers kept per process (``--max-peers``).
DEFAULT_MAX_PEERS = 100
#: Anomalies (duplicate starts, parent cycles) listed in the document; more are only counted.
ANOMALY_CAP = 200
#: Distinct names (hosts, paths, users, ...) shared between nodes before the table starts over.
_NAMES_CAP = 1 << 16

#: Net sub-events that open a connection (counted once per connection; ``dcon`` only adds byte counts).
_CONNECTS = frozenset({"con", "acpt"})


class ProcessModel:
    """Streaming builder and, after :meth:`finish`, the finished model (nodes, roots, relations).

    ``since``/``until`` (epoch seconds) limit which *activity* is counted and kept; processes are always
    modelled in full so that the tree stays correct. Views (focus, depth, window) are chosen later by
    :func:`mk2ds.plugins.tree.view.build_document`.
    """

    def __init__(
        self,
        *,
        all_events: bool = False,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_peers: int = DEFAULT_MAX_PEERS,
        since: float | None = None,
        until: float | None = None,
    ) -> None:
        self.all_events = all_events
        self.max_events = max_events if max_events > 0 else None
        self.max_peers = max_peers if max_peers > 0 else None
        self.since = since
        self.until = until
        self.nodes: dict[tuple[str, str], ProcessNode] = {}
        self.relations = RelationTracker()
        self.records = 0
        self.without_process: dict[str, int] = {}
        self.anomalies: list[dict[str, Any]] = []
        self.anomaly_count = 0
        #: Processes whose ``ps/stop`` time is before their ``ps/start`` time (negative lifetime).
        self.stops_before_start = 0
        self.roots: list[ProcessNode] = []
        self.finished = False
        self.zones: dict[str, float] = {}
        self._shared: dict[Any, Any] = {}  # one object per distinct time or kind text among kept events
        self._time_cache: dict[tuple[Any, str], float | None] = {}
        self._names: dict[str, str] = {}  # one object per distinct host, path, user, signer or hash kept on nodes

    # ---------------------------------------------------------------------------------------------- ingest

    def add_all(self, records: Iterable[Mapping[str, Any]]) -> ProcessModel:
        add = self.add
        for record in records:
            add(record)
        return self

    def add(self, record: Mapping[str, Any]) -> None:
        """Take one record into the model (records may come in any order)."""
        self.records += 1
        evt = record.get("evt")
        sub = record.get("subEvt")
        host = record.get("com") or ""
        if host not in self.zones:
            self._learn_zone(host, record.get("time"), record.get("time_offset"))
        if evt == "ps" and (sub == "start" or sub == "stop"):
            self._lifecycle(record, sub, host)
            return
        guid = guid_of(record.get("psGUID"))
        if guid is None:
            label = f"{evt}/{sub}"
            self.without_process[label] = self.without_process.get(label, 0) + 1
            return
        node = self._node(host, guid, record)
        if sub == "open" and not self.all_events:
            node.open_skipped += 1
            return
        if evt == "file" or evt == "reg" or evt == "ps":
            # Relations use every record, also those outside --since/--until: they explain what is shown.
            self._relation_evidence(node, evt, sub, record)
        if (self.since is not None or self.until is not None) and not self._in_window(record.get("time"), host):
            node.outside_window += 1
            return
        self._activity(node, evt, sub, record)

    def _activity(self, node: ProcessNode, evt: Any, sub: Any, record: Mapping[str, Any]) -> None:
        """Count one activity record of ``node``, keep it as an event while there is room, aggregate its peer."""
        kind = f"{evt}/{sub}"
        node.add_count(kind)
        if self.max_events is None or len(node.events) < self.max_events:
            node.event_list().append(new_event(kind, record, self._shared))
            if len(self._shared) > 65536:
                self._shared.clear()
        else:
            node.omitted += 1
        if evt == "net":
            self._peer(node, sub, record)

    def _relation_evidence(self, node: ProcessNode, evt: Any, sub: Any, record: Mapping[str, Any]) -> None:
        if evt == "file":
            self.relations.file_event(node, sub, record)
        elif evt == "reg":
            if sub == "setVal":
                self.relations.registry_value(node, record)
        elif sub == "inject" or sub == "guardInject":
            target = guid_of(record.get("tpsGUID"))
            if target:
                path = text_of(record.get("tpsPath"))
                target_node = self._node(node.host, target, None, path=path, reason="injection-target")
                self.relations.injection(node, target_node, sub, record)

    def _node(
        self,
        host: str,
        guid: str,
        record: Mapping[str, Any] | None,
        *,
        path: str | None = None,
        reason: str = "activity-only",
    ) -> ProcessNode:
        """The node of ``(host, guid)`` (``guid`` already normalized), created as a placeholder if new."""
        node = self.nodes.get((host, guid))
        if node is None:
            host = self._name(host) or "" if isinstance(host, str) else host
            node = ProcessNode(host, guid, placeholder=reason)
            if record is not None:
                node.path = self._name(record.get("psPath"))
                node.first_sn = record.get("sn")
            else:
                node.path = self._name(path)
            self.nodes[(host, guid)] = node
        elif node.path is None:
            node.path = self._name(record.get("psPath") if record is not None else path)
        return node

    def _name(self, value: Any) -> str | None:
        """``text_of(value)``, one shared object per distinct text: hosts, image paths, users, signers and
        hashes repeat across processes, and each node would otherwise keep its own copy."""
        text = text_of(value)
        if text is None:
            return None
        names = self._names
        shared = names.get(text)
        if shared is None:
            if len(names) >= _NAMES_CAP:
                names.clear()  # many distinct names (a hostile log): sharing stops paying, memory stays bounded
            shared = names[text] = text
        return shared

    def _learn_zone(self, host: str, time: Any, resolved: Any = None) -> None:
        """Remember the UTC offset a host's lines carry (for its zone-less lines), or the one the reader
        resolved for a zone-less line (``time_offset``: ``--assume-offset`` or the Sysinfo time zone)."""
        zone = zone_of(time)
        if zone is None and isinstance(resolved, str) and isinstance(time, str):
            zone = zone_of(time + resolved)
        if zone is not None:
            self.zones[host] = zone
            self._time_cache.clear()

    def _lifecycle(self, record: Mapping[str, Any], sub: str, host: str) -> None:
        guid = guid_of(record.get("psGUID"))
        if guid is None:
            self.without_process[f"ps/{sub}"] = self.without_process.get(f"ps/{sub}", 0) + 1
            self._anomaly("no-guid", f"ps/{sub} record without psGUID", record.get("sn"), None)
            return
        node = self._node(host, guid, record)
        if sub == "stop":
            if node.stop is None:
                node.stop, node.stop_sn = text_of(record.get("time")), record.get("sn")
            else:
                self._anomaly("duplicate-stop", "a second ps/stop for this process", record.get("sn"), node)
            return
        if node.observed:
            message = "a second ps/start for this process (the first is kept)"
            self._anomaly("duplicate-start", message, record.get("sn"), node)
            return
        node.observed, node.placeholder = True, None
        node.start, node.start_sn = text_of(record.get("time")), record.get("sn")
        node.path = self._name(record.get("psPath")) or node.path
        node.cmd = text_of(record.get("cmd"))
        node.sha256 = self._name(record.get("sha256"))
        node.signer = self._name(record.get("signer"))
        user, domain = text_of(record.get("psUser")), text_of(record.get("psDomain"))
        node.user = self._name(f"{domain}\\{user}" if user and domain else user)
        node.pid = integer_of(record.get("psID"))
        parent_guid = guid_of(record.get("parentGUID"))
        parent = self.nodes.get((host, parent_guid)) if parent_guid else None
        node.parent_guid = parent.guid if parent is not None else parent_guid  # the parent's own copy
        node.parent_path = self._name(record.get("parentPath"))

    def _peer(self, node: ProcessNode, sub: Any, record: Mapping[str, Any]) -> None:
        if sub == "acpt":
            key: tuple[str, str | None, Any] = ("in", text_of(record.get("srcIP")), record.get("dstPort"))
        elif sub in ("con", "dcon", "est"):
            key = ("out", text_of(record.get("dstIP")), record.get("dstPort"))
        elif sub in ("lsn", "openUDP"):
            key = ("listen", None, record.get("port"))
        else:
            return
        peers = node.peer_dict()
        peer = peers.get(key)
        if peer is None:
            if self.max_peers is not None and len(peers) >= self.max_peers:
                node.peers_omitted += 1
                return
            port = integer_of(key[2])
            peer = {"direction": key[0], "ip": key[1], "port": key[2], "service": SERVICE_BY_PORT.get(port or -1)}
            peer.update(connections=0, recv=0, send=0, first_sn=record.get("sn"))
            peers[key] = peer
        if sub in _CONNECTS or sub in ("lsn", "openUDP"):
            peer["connections"] += 1
        elif sub == "dcon":
            peer["recv"] += integer_of(record.get("recv")) or 0
            peer["send"] += integer_of(record.get("send")) or 0

    def _in_window(self, time: Any, host: str) -> bool:
        cache = self._time_cache
        key = (time, host)
        if key in cache:
            epoch = cache[key]
        else:
            epoch = epoch_of(time, self.zones.get(host))
            if len(cache) > 65536:
                cache.clear()
            cache[key] = epoch
        if epoch is None:
            return True  # an unreadable time is kept rather than hidden
        if self.since is not None and epoch < self.since:
            return False
        return self.until is None or epoch <= self.until

    def _anomaly(self, kind: str, message: str, sn: Any, node: ProcessNode | None) -> None:
        self.anomaly_count += 1
        if len(self.anomalies) < ANOMALY_CAP:
            process = node.id if node else None
            self.anomalies.append({"kind": kind, "message": message, "sn": sn, "process": process})

    # ---------------------------------------------------------------------------------------------- finish

    def finish(self) -> ProcessModel:
        """Resolve parents (placeholders where needed), break loops, count descendants, resolve relations."""
        if self.finished:
            return self
        self.finished = True
        for node in self.nodes.values():
            node.zone = self.zones.get(node.host)
        merge_hostless(self.nodes, self.relations, self.max_events, self.max_peers)
        by_path = observed_by_path(self.nodes)
        link_parents(self.nodes, by_path)
        self.roots = order_tree(self.nodes, self._anomaly)
        self.relations.resolve(self.nodes.values(), by_path)
        self._flag_stops_before_starts()
        return self

    def _flag_stops_before_starts(self) -> None:
        """A ``ps/stop`` whose time is before its ``ps/start`` (negative lifetime): a clock or logging fault."""
        for node in self.preorder():
            lifetime = node.lifetime
            if lifetime is not None and lifetime < 0:
                self.stops_before_start += 1
                message = f"ps/stop (sn {node.stop_sn}) logged {-lifetime:.3f}s before its ps/start (sn {node.start_sn}): negative lifetime"
                self._anomaly("stop-before-start", message, node.stop_sn, node)

    def preorder(self) -> list[ProcessNode]:
        """Every node, depth-first from the roots, children by start time."""
        return preorder(self.roots)

    # ---------------------------------------------------------------------------------------------- results

    def missing_parents(self) -> list[ProcessNode]:
        """Observed processes whose parent's start is not in the input (placeholder or no parent reference)."""
        return [node for node in self.preorder() if node.observed and (node.parent is None or not node.parent.observed)]

    def to_document(self, options: argparse.Namespace | None = None) -> dict[str, Any]:
        """The tree document (``schemas/tree.schema.json``) for the view chosen in ``options``."""
        from mk2ds.plugins.tree.view import build_document

        return build_document(self, options or argparse.Namespace())

    def stream_document(self, options: argparse.Namespace | None = None) -> dict[str, Any]:
        """The same document with ``processes`` and ``relations`` made while they are written (see
        :func:`mk2ds.plugins.tree.view.stream_document`): what ``mk2ds tree`` hands to a streaming output."""
        from mk2ds.plugins.tree.view import stream_document

        return stream_document(self, options or argparse.Namespace())

    def summary(self, focus: Sequence[str] = ()) -> dict[str, Any]:
        """What ``mk2ds verify`` reports about this model (see :func:`summarize`)."""
        return model_summary(self, focus)


def build_model(records: Iterable[Mapping[str, Any]], options: argparse.Namespace | None = None) -> ProcessModel:
    """Build and finish a model from records, with the tree options in ``options`` (missing = defaults)."""
    options = options or argparse.Namespace()
    model = ProcessModel(
        all_events=bool(getattr(options, "all_events", False)),
        max_events=_option_int(options, "max_events", DEFAULT_MAX_EVENTS),
        max_peers=_option_int(options, "max_peers", DEFAULT_MAX_PEERS),
        since=_option_time(options, "since"),
        until=_option_time(options, "until"),
    )
    return model.add_all(records).finish()


def _option_int(options: argparse.Namespace, name: str, default: int) -> int:
    value = getattr(options, name, None)
    return default if value is None else int(value)


def _option_time(options: argparse.Namespace, name: str) -> float | None:
    value = getattr(options, name, None)
    if value is None or isinstance(value, float):
        return value
    epoch = epoch_of(value)
    if epoch is None:
        raise ValueError(f"--{name}: not an ISO 8601 time: {value!r}")
    return epoch


def summarize(
    records: Iterable[Mapping[str, Any]], options: argparse.Namespace | None = None, *, focus: Sequence[str] = ()
) -> dict[str, Any]:
    """What ``mk2ds verify`` reports about one sample's log(s).

    :param records: record dicts of one sample (several files of one host may be chained).
    :param options: tree options (see :func:`build_model`); ``None`` for the defaults.
    :param focus: ``--focus`` values (e.g. the sample hash); adds ``focus: {matched, processes}``.
    :return: ``{"records", "processes", "observed", "placeholders", "hosts", "roots", "max_depth",
        "missing_parents": [{"id", "host", "guid", "path", "sn", "parent_guid", "parent_path"}],
        "relations": {kind: count}, "anomalies", "stops_before_start": [{"id", "path", "start_sn", "stop_sn",
        "lifetime"}], "stops_before_start_count"}`` (plus ``focus`` when asked).
    """
    return build_model(records, options).summary(focus)


@hookimpl
def mk2ds_build_process_tree(records: Iterable[Mapping[str, Any]], options: argparse.Namespace) -> ProcessModel:
    return build_model(records, options)
