"""The ``dot`` tree output: a Graphviz digraph (``dot -Tsvg tree.dot > tree.svg``).

One cluster per host; solid edges are parent → child, dashed colored edges are relations (labeled with the
kind and the first evidence records). Processes that were never seen starting are dashed and gray. Every
string from the log is escaped for DOT's quoted strings, so a crafted path or command line cannot break out.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.terminal import truncate
from mk2ds.plugins.tree.text import visible

__all__ = ["quote", "render"]

RELATION_COLORS = {"injection": "#c0392b", "wrote-then-ran": "#d35400", "service": "#8e44ad"}
LABEL_WIDTH = 80


def quote(text: str) -> str:
    """A DOT double-quoted string: control and bidi characters shown as escapes, backslashes and quotes
    escaped, line breaks as ``\\n``."""
    shown = "\n".join(visible(line) for line in text.split("\n"))
    escaped = shown.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _label(process: Mapping[str, Any]) -> str:
    lines = [truncate(process["name"], LABEL_WIDTH)]
    if process["observed"]:
        start = (process["start"] or "?").split("T", 1)[-1][:12]
        lifetime = f"{process['lifetime']:.3f}s" if process["lifetime"] is not None else "running"
        lines.append(f"{start}  {lifetime}")
    else:
        lines.append(f"not observed ({process['placeholder']})")
    counts: dict[str, int] = {}
    for kind, count in process["activity"]["counts"].items():
        evt = kind.split("/", 1)[0]
        counts[evt] = counts.get(evt, 0) + count
    if counts:
        lines.append(" ".join(f"{evt} {count}" for evt, count in sorted(counts.items())))
    return "\n".join(lines)


def render(document: Mapping[str, Any], options: argparse.Namespace) -> str:
    index = {process["id"]: f"n{number}" for number, process in enumerate(document["processes"])}
    hosts: dict[str, list[Mapping[str, Any]]] = {}
    for process in document["processes"]:
        hosts.setdefault(process["host"], []).append(process)
    out = [
        "digraph mk2ds_tree {",
        '  graph [rankdir=LR, fontname="sans-serif", fontsize=10];',
        '  node [shape=box, style="rounded", fontname="sans-serif", fontsize=10];',
        '  edge [color="#555555"];',
    ]
    for number, (host, processes) in enumerate(hosts.items()):
        out.append(f"  subgraph cluster_{number} {{")
        out.append(f"    label={quote(host or '(no host name)')};")
        for process in processes:
            attributes = [
                f"label={quote(_label(process))}",
                f"tooltip={quote(process['cmd'] or process['path'] or process['id'])}",
            ]
            if not process["observed"]:
                attributes.append('style="rounded,dashed", color="#999999", fontcolor="#666666"')
            elif process["role"] == "focus":
                attributes.append('penwidth=2.5, color="#1f618d"')
            out.append(f"    {index[process['id']]} [{', '.join(attributes)}];")
        out.append("  }")
    for process in document["processes"]:
        for child in process["children"]:
            out.append(f"  {index[process['id']]} -> {index[child]};")
    for relation in document["relations"]:
        evidence = ",".join(str(sn) for sn in relation["evidence"][:3])
        label = quote(f"{relation['kind']}\nsn {evidence}")
        color = RELATION_COLORS.get(relation["kind"], "#000000")
        out.append(
            f"  {index[relation['from']]} -> {index[relation['to']]} "
            f'[style=dashed, color="{color}", fontcolor="{color}", label={label}, constraint=false];'
        )
    out.append("}")
    return "\n".join(out) + "\n"


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [OutputFormat("dot", "tree", ".dot", "a Graphviz digraph with relation edges", render)]
