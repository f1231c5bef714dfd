"""The end of a process-model build: parents, placeholders, loops, order.

Runs once after the last record, so the order of lines in the log does not matter. Works on the model's
``nodes`` table (``(host, GUID) → ProcessNode``) in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mk2ds.plugins.tree.node import ProcessNode, epoch_of
from mk2ds.plugins.tree.relations import RelationTracker, normalize_path

__all__ = ["link_parents", "merge_hostless", "observed_by_path", "order_tree", "preorder"]

NodeTable = dict[tuple[str, str], ProcessNode]
Anomaly = Callable[[str, str, Any, "ProcessNode | None"], None]


def merge_hostless(nodes: NodeTable, relations: RelationTracker, max_events: int | None, max_peers: int | None) -> None:
    """Records without ``com`` join the process of the same GUID on the one host that has it, if unique."""
    hosts_by_guid: dict[str, list[str]] = {}
    for host, guid in nodes:
        if host:
            hosts_by_guid.setdefault(guid, []).append(host)
    for (host, guid), node in list(nodes.items()):
        if host or len(hosts_by_guid.get(guid, ())) != 1:
            continue
        target = nodes[(hosts_by_guid[guid][0], guid)]
        _merge_into(target, node, max_events, max_peers)
        del nodes[(host, guid)]
        relations.rename(node, target)


def _merge_into(target: ProcessNode, node: ProcessNode, max_events: int | None, max_peers: int | None) -> None:
    if node.observed and not target.observed:
        for name in (
            "observed",
            "placeholder",
            "start",
            "start_sn",
            "cmd",
            "sha256",
            "signer",
            "user",
            "pid",
            "parent_guid",
            "parent_path",
        ):
            setattr(target, name, getattr(node, name))
    target.path = target.path or node.path
    if target.stop is None:
        target.stop, target.stop_sn = node.stop, node.stop_sn
    for kind, count in node.counts.items():
        target.add_count(kind, count)
    room = len(node.events) if max_events is None else max(0, max_events - len(target.events))
    events = target.event_list()
    events.extend(node.events[:room])
    events.sort(key=lambda event: epoch_of(event[1]) or 0.0)
    target.omitted += node.omitted + max(0, len(node.events) - room)
    target.open_skipped += node.open_skipped
    target.outside_window += node.outside_window
    peers = target.peer_dict()
    for key, peer in node.peers.items():
        if key in peers:
            for total in ("connections", "recv", "send"):
                peers[key][total] += peer[total]
        elif max_peers is None or len(peers) < max_peers:
            peers[key] = peer
        else:
            target.peers_omitted += 1
    target.peers_omitted += node.peers_omitted


def observed_by_path(nodes: NodeTable) -> dict[tuple[str, str], list[ProcessNode]]:
    """``(host, normalized path)`` → observed processes of that image, by start time."""
    table: dict[tuple[str, str], list[ProcessNode]] = {}
    for node in nodes.values():
        if node.observed and node.path:
            table.setdefault((node.host, normalize_path(node.path)), []).append(node)
    for candidates in table.values():
        candidates.sort(key=ProcessNode.sort_key)
    return table


def link_parents(nodes: NodeTable, by_path: dict[tuple[str, str], list[ProcessNode]]) -> None:
    """Give every observed process its parent; create placeholders for parents that never start."""
    for node in [node for node in nodes.values() if node.observed]:
        if node.parent_guid:
            parent = nodes.get((node.host, node.parent_guid))
            if parent is None:
                parent = ProcessNode(node.host, node.parent_guid, placeholder="parent-reference", zone=node.zone)
                parent.path = node.parent_path
                nodes[(node.host, node.parent_guid)] = parent
            elif parent.path is None:
                parent.path = node.parent_path
            node.parent, node.parent_link, node.parent_guid = parent, "guid", parent.guid or node.parent_guid
        elif node.parent_path:
            node.parent, node.parent_link = _parent_by_path(nodes, node, by_path), "path"


def _parent_by_path(
    nodes: NodeTable, node: ProcessNode, by_path: dict[tuple[str, str], list[ProcessNode]]
) -> ProcessNode:
    """No ``parentGUID`` (as in some 2018-style lines): the latest process of that image alive at the
    child's start, else one placeholder per host and parent image."""
    start = node.start_epoch
    alive = [
        candidate
        for candidate in by_path.get((node.host, normalize_path(node.parent_path or "")), ())
        if candidate is not node
        and (start is None or (candidate.start_epoch or 0.0) <= start)
        and (start is None or candidate.stop_epoch is None or candidate.stop_epoch >= start)
    ]
    if alive:
        return alive[-1]
    key = (node.host, "PATH:" + normalize_path(node.parent_path or ""))
    parent = nodes.get(key)
    if parent is None:
        parent = ProcessNode(node.host, None, placeholder="parent-path", path=node.parent_path, zone=node.zone)
        nodes[key] = parent
    return parent


def order_tree(nodes: NodeTable, anomaly: Anomaly) -> list[ProcessNode]:
    """Fill children lists (by start time), cut parent loops, count descendants; return the roots."""
    lists: dict[ProcessNode, list[ProcessNode]] = {}
    for node in nodes.values():
        node.children = ()  # a leaf shares the empty tuple; a parent gets its own list
    for node in nodes.values():
        if node.parent is not None:
            children = lists.get(node.parent)
            if children is None:
                children = lists[node.parent] = node.parent.children = []
            children.append(node)
    del lists
    roots = [node for node in nodes.values() if node.parent is None]
    _sort_children(roots, nodes)
    # Every node is reached from the roots unless parent links loop: then (only) a set of the reached ones.
    looped = _count_reached(roots) < len(nodes)
    reached: set[ProcessNode] = set(preorder(roots)) if looped else set()
    while looped and len(reached) < len(nodes):
        # Parent links that form a loop (bad data): cut the loop at its earliest member.
        loose = min((node for node in nodes.values() if node not in reached), key=ProcessNode.sort_key)
        anomaly("parent-cycle", "parent links form a loop; cut here", loose.start_sn, loose)
        assert loose.parent is not None
        siblings = loose.parent.children
        assert isinstance(siblings, list)
        siblings.remove(loose)
        loose.parent, loose.parent_link = None, None
        roots.append(loose)
        reached.update(preorder([loose]))
    roots.sort(key=lambda node: (node.host, *_tree_key(node)))
    for node in reversed(preorder(roots)):
        node.descendants = sum(1 + child.descendants for child in node.children)
    return roots


def _count_reached(roots: Sequence[ProcessNode]) -> int:
    """How many nodes a walk from ``roots`` reaches (without a list of them)."""
    count, stack = 0, list(roots)
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.children)
    return count


def _tree_key(node: ProcessNode) -> tuple[Any, ...]:
    """Start time first; ties and unknown times by id, so the order never depends on the order of lines."""
    return (node.sort_time is None, node.sort_time or 0.0, node.id)


def _sort_children(roots: list[ProcessNode], nodes: NodeTable) -> None:
    """Order children by start time. A node without a known start (a placeholder) sorts by the earliest
    start below it, so that an unobserved explorer.exe sits where its first child starts."""
    unknown = []
    for node in nodes.values():
        node.sort_time = node.start_epoch
        if node.sort_time is None:
            unknown.append(node)
    changed, rounds = True, 0
    while changed and rounds < 64:  # placeholders above placeholders are rare; loops cannot spin forever
        changed, rounds = False, rounds + 1
        for node in unknown:
            times = [child.sort_time for child in node.children if child.sort_time is not None]
            best = min(times) if times else None
            if best is not None and (node.sort_time is None or best < node.sort_time):
                node.sort_time, changed = best, True
    for node in nodes.values():
        if isinstance(node.children, list):
            node.children.sort(key=_tree_key)


def preorder(roots: Sequence[ProcessNode]) -> list[ProcessNode]:
    """Depth-first order from ``roots`` (no recursion: trees can be deep)."""
    order: list[ProcessNode] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(node.children))
    return order
