"""Views of a process model (``--focus``, ``--since``/``--until``, ``--depth``) and the tree document.

A view picks processes; the document (``schemas/tree.schema.json``) lists them depth-first with their facts,
activity and the relations between shown processes. Ancestors of a shown process are always shown, so every
shown process keeps its real place in the tree (their ``role`` says why they are there).

``--focus`` accepts, repeatable:

* a GUID (``{8-4-4-4-12}``, braces optional): that process on every host;
* a hash (32, 40 or 64 hex digits): processes whose ``sha256`` equals it or whose path or command line
  contains it (the dataset names samples by hash; a .dll or .js sample runs as ``rundll32.exe D:\\<hash>.dll``);
* otherwise a glob on the path, case-insensitive (``*\\tasksche.exe``); a glob without a backslash also
  matches the file name alone (``tasksche.exe``, ``task*``).

The focus set is the focus processes, their ancestors and descendants, plus every process one relation away
from the focus processes or their descendants (with its own ancestors and descendants).
"""

from __future__ import annotations

import argparse
import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mk2ds.plugins.tree.node import SERVICE_BY_PORT, ProcessNode, epoch_of, integer_of
from mk2ds.plugins.tree.relations import Relation, normalize_path, sn_key

if TYPE_CHECKING:
    from mk2ds.plugins.tree.model import ProcessModel

__all__ = [
    "DOCUMENT_FORMAT",
    "LazyItems",
    "View",
    "build_document",
    "focus_matches",
    "materialize",
    "select_view",
    "stream_document",
]

DOCUMENT_FORMAT = "mk2ds-tree"
DOCUMENT_VERSION = 1

_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
_HASH = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")


@dataclass
class View:
    """The processes a view shows, each with its role (``None`` when there is no focus)."""

    roles: dict[ProcessNode, str | None] = field(default_factory=dict)
    focus: list[ProcessNode] = field(default_factory=list)


def focus_matches(node: ProcessNode, token: str) -> bool:
    """Whether ``node`` is named by one ``--focus`` value (GUID, hash or path glob)."""
    token = token.strip()
    if _GUID.match(token):
        wanted = token.strip("{}").upper()
        return node.guid is not None and node.guid.strip("{}") == wanted
    path = normalize_path(node.path or "")
    if _HASH.match(token):
        wanted = token.lower()
        return (node.sha256 or "").lower() == wanted or wanted in path or wanted in (node.cmd or "").lower()
    pattern = normalize_path(token)
    if fnmatch.fnmatchcase(path, pattern):
        return True
    return "\\" not in pattern and fnmatch.fnmatchcase(path.rsplit("\\", 1)[-1], pattern)


def select_view(model: ProcessModel, options: argparse.Namespace) -> View:
    nodes = model.preorder()
    depth_limit = getattr(options, "depth", None)
    focus_tokens = [token for token in (getattr(options, "focus", None) or []) if token]
    view = View()
    if focus_tokens:
        view.focus = [node for node in nodes if any(focus_matches(node, token) for token in focus_tokens)]
        _select_focus(view, model.relations.relations, depth_limit)
    else:
        depth = _depths(model.roots)
        view.roles = {node: None for node in nodes if depth_limit is None or depth[node] <= depth_limit}
    since, until = _window(options)
    if since is not None or until is not None:
        inside = [node for node in view.roles if _in_window(node, since, until)]
        kept: dict[ProcessNode, str | None] = {node: view.roles[node] for node in inside}
        for node in inside:
            _add_ancestors(kept, node, "context" if focus_tokens else None)
        view.roles = kept
    return view


def _select_focus(view: View, relations: Iterable[Relation], depth_limit: int | None) -> None:
    roles = view.roles
    for node in view.focus:
        roles[node] = "focus"
    for node in view.focus:
        _add_ancestors(roles, node, "ancestor")
        _add_descendants(roles, node, "descendant", depth_limit)
    core = set(roles) - {node for node, role in roles.items() if role == "ancestor"}
    for relation in relations:
        for near, far in ((relation.source, relation.target), (relation.target, relation.source)):
            if near in core and far not in roles:
                roles[far] = "related"
                _add_ancestors(roles, far, "context")
                _add_descendants(roles, far, "related", depth_limit)


def _add_ancestors(roles: dict[ProcessNode, str | None], node: ProcessNode, role: str | None) -> None:
    parent = node.parent
    while parent is not None and parent not in roles:
        roles[parent] = role
        parent = parent.parent


def _add_descendants(
    roles: dict[ProcessNode, str | None], node: ProcessNode, role: str, depth_limit: int | None
) -> None:
    stack = [(child, 1) for child in node.children]
    while stack:
        child, level = stack.pop()
        if depth_limit is not None and level > depth_limit:
            continue
        roles.setdefault(child, role)
        stack.extend((grandchild, level + 1) for grandchild in child.children)


def _depths(roots: Iterable[ProcessNode]) -> dict[ProcessNode, int]:
    depth: dict[ProcessNode, int] = {}
    stack = [(root, 0) for root in roots]
    while stack:
        node, level = stack.pop()
        depth[node] = level
        stack.extend((child, level + 1) for child in node.children)
    return depth


def _window(options: argparse.Namespace) -> tuple[float | None, float | None]:
    values = []
    for name in ("since", "until"):
        value = getattr(options, name, None)
        values.append(value if value is None or isinstance(value, float) else epoch_of(value))
    return values[0], values[1]


def _in_window(node: ProcessNode, since: float | None, until: float | None) -> bool:
    start, stop = node.start_epoch, node.stop_epoch
    if start is None and stop is None:
        return sum(node.counts.values()) > 0  # a placeholder: shown for activity inside the window
    if until is not None and start is not None and start > until:
        return False
    return since is None or stop is None or stop >= since


# -------------------------------------------------------------------------------------------------- document


class LazyItems(Iterable[dict[str, Any]]):
    """A list of the streamed document (``processes``, ``relations``): its items are made one by one while
    it is iterated (each iteration makes them anew), so a writer can write each item and let it go. ``len``
    is known in advance. :func:`materialize` turns a streamed document into plain lists."""

    def __init__(self, make: Callable[[], Iterator[dict[str, Any]]], length: int) -> None:
        self._make = make
        self._length = length

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._make()

    def __len__(self) -> int:
        return self._length


def materialize(document: Mapping[str, Any]) -> dict[str, Any]:
    """A document with every :class:`LazyItems` made into a list (what :func:`build_document` returns)."""
    return {key: list(value) if isinstance(value, LazyItems) else value for key, value in document.items()}


def build_document(model: ProcessModel, options: argparse.Namespace) -> dict[str, Any]:
    """The tree document for the view in ``options`` (validates against ``schemas/tree.schema.json``)."""
    return materialize(stream_document(model, options))


def stream_document(model: ProcessModel, options: argparse.Namespace) -> dict[str, Any]:
    """The tree document with ``processes`` and ``relations`` as :class:`LazyItems`: every other part is
    small and made now; a process's entry (its facts, events and peers) only when it is written, so writing
    the document needs memory for the model and one process, not for the whole document."""
    view = select_view(model, options)
    roles = view.roles
    all_nodes = model.preorder()
    shown_count = sum(1 for node in all_nodes if node in roles)
    relations = [rel for rel in model.relations.relations if rel.source in roles and rel.target in roles]

    def processes() -> Iterator[dict[str, Any]]:
        for node, depth in _preorder_depths(model.roots):
            if node in roles:
                yield _process(node, view, depth)

    def relation_items() -> Iterator[dict[str, Any]]:
        return (_relation(relation) for relation in relations)

    document: dict[str, Any] = {
        "format": DOCUMENT_FORMAT,
        "version": DOCUMENT_VERSION,
        "inputs": [],
        "view": {
            "focus": list(getattr(options, "focus", None) or []),
            "since": getattr(options, "since", None),
            "until": getattr(options, "until", None),
            "depth": getattr(options, "depth", None),
            "all_events": model.all_events,
            "max_events": model.max_events or 0,
            "max_peers": model.max_peers or 0,
        },
        "stats": _stats(model, all_nodes, shown_count, len(view.focus), len(relations)),
        "missing_parents": [node.id for node in model.missing_parents() if node in roles],
        "anomalies": list(model.anomalies),
        "roots": [node.id for node in all_nodes if node in roles and (node.parent is None or node.parent not in roles)],
        "processes": LazyItems(processes, shown_count),
        "relations": LazyItems(relation_items, len(relations)),
    }
    del all_nodes
    if document["view"]["since"] is not None:
        document["view"]["since"] = str(document["view"]["since"])
    if document["view"]["until"] is not None:
        document["view"]["until"] = str(document["view"]["until"])
    return document


def _stats(
    model: ProcessModel, all_nodes: list[ProcessNode], shown: int, focus_matched: int, relations_shown: int
) -> dict[str, Any]:
    """The document's ``stats``: counts over the whole model and what the view shows of it."""
    return {
        "records": model.records,
        "records_without_process": dict(sorted(model.without_process.items())),
        "processes": len(all_nodes),
        "observed": sum(1 for node in all_nodes if node.observed),
        "placeholders": sum(1 for node in all_nodes if not node.observed),
        "shown": shown,
        "focus_matched": focus_matched,
        "hosts": sorted({node.host for node in all_nodes}),
        "relations": model.relations.counts(),
        "relations_shown": relations_shown,
        "events_omitted": sum(node.omitted for node in all_nodes),
        "open_events_skipped": sum(node.open_skipped for node in all_nodes),
        "events_outside_window": sum(node.outside_window for node in all_nodes),
        "write_paths_evicted": model.relations.evicted,
        "anomalies": model.anomaly_count,
        "stops_before_start": model.stops_before_start,
    }


def _preorder_depths(roots: Sequence[ProcessNode]) -> Iterator[tuple[ProcessNode, int]]:
    """Depth-first order from ``roots`` with each node's depth, made while iterating (no list of nodes)."""
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(node.children))


def _process(node: ProcessNode, view: View, depth: int) -> dict[str, Any]:
    start = node.start_epoch
    parent_start = node.parent.start_epoch if node.parent is not None else None
    shown_children = [child.id for child in node.children if child in view.roles]
    return {
        "id": node.id,
        "host": node.host,
        "guid": node.guid,
        "observed": node.observed,
        "placeholder": node.placeholder,
        "name": node.name,
        "path": node.path,
        "cmd": node.cmd,
        "sha256": node.sha256,
        "signer": node.signer,
        "user": node.user,
        "pid": node.pid,
        "start": node.start,
        "start_sn": node.start_sn,
        "stop": node.stop,
        "stop_sn": node.stop_sn,
        "lifetime": node.lifetime,
        "offset": None if start is None or parent_start is None else round(start - parent_start, 3),
        "parent": node.parent.id if node.parent is not None else None,
        "parent_link": node.parent_link,
        "parent_guid": node.parent_guid,
        "parent_path": node.parent_path,
        "depth": depth,
        "role": view.roles[node],
        "children": shown_children,
        "child_count": len(node.children),
        "descendant_count": node.descendants,
        "hidden_children": len(node.children) - len(shown_children),
        "activity": {
            "total": sum(node.counts.values()),
            "counts": dict(sorted(node.counts.items())),
            "events": [
                _event(event, node, start)
                for event in sorted(node.event_dicts(), key=lambda event: _event_order(event, node))
            ],
            "omitted": node.omitted,
            "open_skipped": node.open_skipped,
            "outside_window": node.outside_window,
        },
        "peers": sorted(node.peers.values(), key=lambda peer: (peer["direction"], str(peer["ip"]), str(peer["port"]))),
        "peers_omitted": node.peers_omitted,
    }


def _event(event: dict[str, Any], node: ProcessNode, start: float | None) -> dict[str, Any]:
    out = dict(event)
    when = node.epoch(event.get("time"))
    out["offset"] = None if when is None or start is None else round(when - start, 3)
    for key, name in (("dstPort", "dstServ"), ("srcPort", "srcServ"), ("port", "serv")):
        if key in event:
            service = SERVICE_BY_PORT.get(integer_of(event[key]) or -1)
            if service:
                out[name] = service
    return out


def _event_order(event: dict[str, Any], node: ProcessNode) -> tuple[Any, ...]:
    """Events by time (the kept ones; lines may be out of order), then by record number."""
    when = node.epoch(event.get("time"))
    return (when is None, when or 0.0, sn_key(event.get("sn")))


def _relation(relation: Relation) -> dict[str, Any]:
    return {
        "kind": relation.kind,
        "from": relation.source.id,
        "to": relation.target.id,
        "evidence": list(relation.evidence),
        "evidence_count": relation.evidence_count,
        "details": relation.details,
    }
