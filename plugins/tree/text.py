"""The ``text`` tree output: a pstree-like view for the terminal.

One line per process: the tree branch and the image name, then aligned columns (start time, offset from the
parent's start, lifetime, activity counts, network peers). Japanese names are aligned by display width
(:func:`mk2ds.core.terminal.display_width`). The command line follows on a second, dimmed line; relations are
listed under both ends (``→`` outgoing, ``←`` incoming) with their evidence. ``--events`` lists the kept
activity events under each process. Color only on a TTY (``--color``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.core.terminal import color, display_width, escape_text, pad, truncate, use_color

__all__ = ["event_summary", "render"]

NAME_COLUMN_MAX = 56
#: Branches are drawn this many levels deep; deeper processes are drawn at this indentation with their depth
#: (``⋯[depth 65]``). Without a limit a chain of 100,000 processes would need 100,000²-character prefixes.
MAX_DRAWN_DEPTH = 48
COMMAND_WIDTH = 160
_EVT_ORDER = ("file", "reg", "net", "win", "ps")


def visible(text: str) -> str:
    """``text`` with control and bidi characters replaced by visible escapes (:func:`mk2ds.core.terminal.escape_text`):
    a process name must not be able to move the cursor, recolor the terminal or reverse its own extension."""
    return escape_text(text)


def _visible_document(value: Any) -> Any:
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {key: _visible_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_visible_document(item) for item in value]
    return value


def _clock(time: str | None) -> str:
    """``2018-03-01T19:55:17.836+09:00`` → ``19:55:17.836`` (the date is in the host header)."""
    if not time or "T" not in time:
        return "?"
    return time.split("T", 1)[1][:12]


def _seconds(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.3f}s" if sign else f"{value:.3f}s"


def _activity(process: Mapping[str, Any]) -> str:
    by_evt: dict[str, int] = {}
    for kind, count in process["activity"]["counts"].items():
        evt = kind.split("/", 1)[0]
        by_evt[evt] = by_evt.get(evt, 0) + count
    ordered = sorted(by_evt, key=lambda evt: (_EVT_ORDER.index(evt) if evt in _EVT_ORDER else len(_EVT_ORDER), evt))
    return " ".join(f"{evt} {by_evt[evt]}" for evt in ordered)


def _peers(process: Mapping[str, Any]) -> str:
    parts = []
    for peer in process["peers"][:3]:
        arrow = {"out": "→", "in": "←", "listen": "listen "}[peer["direction"]]
        where = f"{peer['ip']}:{peer['port']}" if peer["ip"] else f"{peer['port']}"
        service = f"({peer['service']})" if peer["service"] else ""
        parts.append(f"{arrow}{where}{service}×{peer['connections']}")
    more = len(process["peers"]) - 3 + process["peers_omitted"]
    if more > 0:
        parts.append(f"+{more} peers")
    return " ".join(parts)


def event_summary(event: Mapping[str, Any]) -> str:
    """One line for an activity event: kind and its most telling fields."""
    kind = str(event.get("kind"))
    bits = [kind]
    if "path" in event:
        bits.append(str(event["path"]))
    if "dstPath" in event:
        bits.append(f"→ {event['dstPath']}")
    if "entry" in event:
        bits.append(f"[{event['entry']}]")
    for key in ("valStr", "valNum"):
        if key in event:
            bits.append(f"= {event[key]}")
    if "dstIP" in event or "srcIP" in event:
        service = event.get("dstServ") or event.get("srcServ")
        bits.append(
            f"{event.get('srcIP', '?')}:{event.get('srcPort', '?')} → {event.get('dstIP', '?')}:{event.get('dstPort', '?')}"
        )
        if service:
            bits.append(f"({service})")
    elif "port" in event:
        bits.append(f"port {event['port']}" + (f" ({event['serv']})" if event.get("serv") else ""))
    for key in ("url", "winTitle", "tpsPath", "shCmd", "clipData"):
        if key in event:
            bits.append(str(event[key]))
    for key in ("write", "recv", "send"):
        if event.get(key):
            bits.append(f"{key}={event[key]}")
    return " ".join(bits)


def render(document: Mapping[str, Any], options: argparse.Namespace) -> str:
    document = _visible_document(document)
    enabled = use_color(sys.stdout, getattr(options, "color", "auto")) and not getattr(options, "output", None)
    show_events = bool(getattr(options, "events", False))
    processes = {process["id"]: process for process in document["processes"]}
    outgoing: dict[str, list[Mapping[str, Any]]] = {}
    incoming: dict[str, list[Mapping[str, Any]]] = {}
    for relation in document["relations"]:
        outgoing.setdefault(relation["from"], []).append(relation)
        incoming.setdefault(relation["to"], []).append(relation)

    rows: list[tuple[str, str, Mapping[str, Any]]] = []  # (branch prefix, continuation prefix, process)
    roots_by_host: dict[str, list[str]] = {}
    for root in document["roots"]:
        roots_by_host.setdefault(processes[root]["host"], []).append(root)

    lines = [_header(document, enabled)]
    for host, roots in roots_by_host.items():
        count = sum(1 for process in processes.values() if process["host"] == host)
        lines.append("")
        lines.append(color(f"{host or '(no host name)'} — {count} processes", "bold", enabled))
        rows = _rows(roots, processes)
        width = min(NAME_COLUMN_MAX, max(display_width(prefix + _label(process)) for prefix, _, process in rows))
        heading = f"{pad('process', width)}  {'start':12}  {'offset':>11}  {'lifetime':>11}  activity, peers"
        lines.append(color(heading, "dim", enabled))
        for prefix, continuation, process in rows:
            # Detail lines keep the branch to the children drawn.
            inner = continuation + ("│ " if process["children"] else "  ")
            lines.extend(_process_lines(prefix, inner, process, width, enabled))
            for relation in outgoing.get(process["id"], []):
                lines.append(
                    inner + color(_relation_text("→", relation, relation["to"], processes), "magenta", enabled)
                )
            for relation in incoming.get(process["id"], []):
                lines.append(
                    inner + color(_relation_text("←", relation, relation["from"], processes), "magenta", enabled)
                )
            if show_events:
                lines.extend(_event_lines(inner, process, enabled))
    lines.extend(_footer(document, processes, enabled))
    return "\n".join(lines) + "\n"


def _header(document: Mapping[str, Any], enabled: bool) -> str:
    stats = document["stats"]
    relations = ", ".join(f"{kind} {count}" for kind, count in stats["relations"].items())
    text = (
        f"mk2ds tree: {stats['shown']} of {stats['processes']} processes shown "
        f"({stats['observed']} observed, {stats['placeholders']} not observed), {stats['records']} records; "
        f"relations: {relations}"
    )
    return color(text, "bold", enabled)


def _rows(roots: Sequence[str], processes: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, Mapping[str, Any]]]:
    rows: list[tuple[str, str, Mapping[str, Any]]] = []
    stack: list[tuple[str, str, str, int]] = [(root, "", "", 0) for root in reversed(roots)]
    while stack:
        node_id, prefix, continuation, depth = stack.pop()
        process = processes[node_id]
        rows.append((prefix, continuation, process))
        children = process["children"]
        for index in range(len(children) - 1, -1, -1):
            last = index == len(children) - 1
            if depth < MAX_DRAWN_DEPTH:
                branch, below = continuation + ("└─ " if last else "├─ "), continuation + ("   " if last else "│  ")
            else:  # too deep to indent further: same column, depth written out
                branch, below = continuation + f"⋯[depth {depth + 1}] ", continuation
            stack.append((children[index], branch, below, depth + 1))
    return rows


def _label(process: Mapping[str, Any]) -> str:
    return process["name"] if process["observed"] else f"? {process['name']}"


def _process_lines(prefix: str, continuation: str, process: Mapping[str, Any], width: int, enabled: bool) -> list[str]:
    label = _label(process)  # never cut: the name (often the sample hash) is what people search for
    if not process["observed"]:
        name = color(label, "yellow", enabled)
    elif process["role"] == "focus":
        name = color(label, "bold", enabled)
    else:
        name = label
    filler = " " * max(0, width - display_width(prefix + label))
    if process["observed"]:
        lifetime = _seconds(process["lifetime"]) if process["lifetime"] is not None else "running"
        if process["lifetime"] is not None and process["lifetime"] < 0:
            lifetime = color("!" + lifetime, "yellow", enabled)  # stopped before it started: see the footer
        columns = f"{_clock(process['start']):12}  {_seconds(process['offset'], sign=True):>11}  {lifetime:>11}"
    else:
        columns = pad(f"not observed ({process['placeholder']})", 38)
    extras = [part for part in (_activity(process), _peers(process)) if part]
    hidden = process["hidden_children"]
    if hidden:
        extras.append(f"[{hidden} child processes hidden]")
    line = f"{prefix}{name}{filler}  {columns}  {'  '.join(extras)}".rstrip()
    lines = [line]
    detail = process["cmd"] if process["cmd"] and process["cmd"] != process["path"] else process["path"]
    if detail and detail != process["name"]:
        lines.append(continuation + color(truncate(detail, COMMAND_WIDTH), "dim", enabled))
    return lines


def _relation_text(
    arrow: str, relation: Mapping[str, Any], other: str, processes: Mapping[str, Mapping[str, Any]]
) -> str:
    evidence = ", ".join(str(sn) for sn in relation["evidence"][:6])
    if relation["evidence_count"] > 6:
        evidence += f", … ({relation['evidence_count']} records)"
    details = relation["details"]
    note = details.get("path") or details.get("service") or ",".join(details.get("api", []))
    note = f" [{note}]" if note else ""
    return f"{arrow} {relation['kind']} {processes[other]['name']}{note} (sn {evidence})"


def _event_lines(continuation: str, process: Mapping[str, Any], enabled: bool) -> list[str]:
    lines = []
    for event in process["activity"]["events"]:
        offset = _seconds(event["offset"], sign=True)
        text = f"· {_clock(event['time'])} {offset:>10} {event_summary(event)}"
        lines.append(continuation + color(truncate(text, COMMAND_WIDTH), "dim", enabled))
    if process["activity"]["omitted"]:
        lines.append(
            continuation + color(f"· … {process['activity']['omitted']} more events (--max-events)", "dim", enabled)
        )
    return lines


def _footer(document: Mapping[str, Any], processes: Mapping[str, Mapping[str, Any]], enabled: bool) -> list[str]:
    stats, lines = document["stats"], []
    if document["missing_parents"]:
        lines.append("")
        lines.append(
            color(
                f"{len(document['missing_parents'])} processes whose parent's start is not in the log:",
                "yellow",
                enabled,
            )
        )
        for node_id in document["missing_parents"]:
            process = processes[node_id]
            lines.append(
                f"  {process['name']} (sn {process['start_sn']}) parent {process['parent_guid'] or '-'} {process['parent_path'] or ''}".rstrip()
            )
    notes = []
    if stats["events_omitted"]:
        notes.append(f"{stats['events_omitted']} activity events counted but not listed (--max-events)")
    if stats["open_events_skipped"]:
        notes.append(f"{stats['open_events_skipped']} 'open' events left out (--all shows them)")
    if stats["events_outside_window"]:
        notes.append(f"{stats['events_outside_window']} events outside --since/--until")
    if stats["write_paths_evicted"]:
        notes.append(
            f"{stats['write_paths_evicted']} written non-executable paths no longer tracked for wrote-then-ran"
        )
    if stats["stops_before_start"]:
        lines.append("")
        lines.append(
            color(
                f"{stats['stops_before_start']} processes stop before they start (negative lifetime, marked !): clock or logging fault",
                "yellow",
                enabled,
            )
        )
    if stats["anomalies"]:
        notes.append(f"{stats['anomalies']} anomalies (see --format json)")
    if notes:
        lines.append("")
        lines.extend(color("note: " + note, "dim", enabled) for note in notes)
    return lines


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    events = (("--events",), {"action": "store_true", "help": "text: list the kept activity events under each process"})
    color = (
        ("--color",),
        {"choices": ["auto", "always", "never"], "default": "auto", "help": "text: color (auto = on a TTY)"},
    )
    return [
        OutputFormat("text", "tree", ".txt", "a pstree-like view for the terminal", render, options=(events, color))
    ]
