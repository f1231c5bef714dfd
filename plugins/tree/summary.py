"""What ``mk2ds verify`` reports per sample about its process model (a library of the ``tree.model`` plugin).

:func:`model_summary` is :meth:`mk2ds.plugins.tree.model.ProcessModel.summary`, in figures: processes,
placeholders, hosts, depth, missing parents, relations, anomalies and negative lifetimes
(:func:`mk2ds.plugins.tree.model.summarize` builds the model and returns this).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mk2ds.plugins.tree.node import ProcessNode
from mk2ds.plugins.tree.view import select_view

if TYPE_CHECKING:
    from mk2ds.plugins.tree.model import ProcessModel

__all__ = ["MAX_LISTED_STOPS", "model_summary"]

#: Processes with a negative lifetime listed in the summary (all are counted).
MAX_LISTED_STOPS = 20


def model_summary(model: ProcessModel, focus: Sequence[str] = ()) -> dict[str, Any]:
    """The summary of a finished model; with ``focus`` (``--focus`` values) also ``focus: {matched, processes}``."""
    nodes = model.preorder()
    summary: dict[str, Any] = {
        "records": model.records,
        "processes": len(nodes),
        "observed": sum(1 for node in nodes if node.observed),
        "placeholders": sum(1 for node in nodes if not node.observed),
        "hosts": sorted({node.host for node in nodes}),
        "roots": len(model.roots),
        "max_depth": _max_depth(model.roots),
        "missing_parents": [
            {
                "id": node.id,
                "host": node.host,
                "guid": node.guid,
                "path": node.path,
                "sn": node.start_sn,
                "parent_guid": node.parent_guid,
                "parent_path": node.parent_path,
            }
            for node in model.missing_parents()
        ],
        "relations": model.relations.counts(),
        "anomalies": model.anomaly_count,
        "stops_before_start": [
            {
                "id": node.id,
                "path": node.path,
                "start_sn": node.start_sn,
                "stop_sn": node.stop_sn,
                "lifetime": node.lifetime,
            }
            for node in model.preorder()
            if node.lifetime is not None and node.lifetime < 0
        ][:MAX_LISTED_STOPS],
        "stops_before_start_count": model.stops_before_start,
    }
    if focus:
        view = select_view(model, argparse.Namespace(focus=list(focus)))
        summary["focus"] = {"matched": len(view.focus), "processes": len(view.roles)}
    return summary


def _max_depth(roots: Sequence[ProcessNode]) -> int:
    deepest, stack = -1, [(root, 0) for root in roots]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children)
    return deepest
