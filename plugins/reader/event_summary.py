"""A short human summary of one record: ``ps start C:\\Windows\\System32\\cmd.exe (parent explorer.exe)``.

Timelines show one line per event, so the summary names the event kind (``evt subEvt``), the object acted on
(the started executable, the file, the registry value, the connection) and the acting process by its file
name. The record keeps every field; the summary only makes a timeline readable, so it may leave things out
and is cut at :data:`MAX_LENGTH` characters (very long values break some uploaders, Timesketch #3243).

Used by the ``timesketch`` output (``message``) and the ``ecs`` output (``message``), and reusable by any
other output. This is a library; it implements no hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MAX_LENGTH", "executable_name", "summarize"]

#: Longest summary; longer ones end with an ellipsis.
MAX_LENGTH = 300

Record = Mapping[str, Any]


def executable_name(path: Any) -> str:
    """The last component of a Windows path (``C:\\Windows\\explorer.exe`` → ``explorer.exe``)."""
    text = str(path).rstrip("\\/")
    return text.replace("/", "\\").rsplit("\\", 1)[-1] or str(path)


def _text(record: Record, key: str) -> str | None:
    """The value as text, or ``None`` when absent, empty, or the product's no-value marker ``-``."""
    value = record.get(key)
    if value is None:
        return None
    text = str(value)
    return None if text in ("", "-") else text


def _by(record: Record) -> str:
    actor = _text(record, "psPath")
    return f" by {executable_name(actor)}" if actor else ""


def _endpoint(record: Record, ip_key: str, port_key: str) -> str | None:
    address, port = _text(record, ip_key), _text(record, port_key)
    if address is None:
        return None
    if port is None:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _process(record: Record) -> str:
    subject = _text(record, "psPath") or _text(record, "psGUID") or "?"
    subevent = record.get("subEvt")
    if subevent == "start":
        parent = _text(record, "parentPath")
        text = subject + (f" (parent {executable_name(parent)})" if parent else "")
        command = _text(record, "cmd")
        return text + (f": {command}" if command else "")
    if subevent in ("inject", "guardInject"):
        target = _text(record, "tpsPath") or _text(record, "tpsGUID") or "?"
        api = _text(record, "api")
        return f"{subject} -> {target}" + (f" ({api})" if api else "")
    return subject


def _file(record: Record) -> str:
    text = _text(record, "path") or "?"
    destination = _text(record, "dstPath")
    if destination:
        text += f" -> {destination}"
    text += _by(record)
    amounts = [f"{key} {record[key]}" for key in ("read", "write") if _text(record, key) is not None]
    if record.get("new") == 1:
        amounts.append("new")
    return text + (f" ({', '.join(amounts)})" if amounts else "")


def _registry(record: Record) -> str:
    text = _text(record, "path") or "?"
    entry = _text(record, "entry")
    if entry:
        text += f"\\{entry}"
    data = _text(record, "valStr") if "valStr" in record else _text(record, "valNum")
    if data is not None:
        text += f" = {data}"
    return text + _by(record)


def _network(record: Record) -> str:
    if record.get("subEvt") == "webURL":
        return (_text(record, "decode") or _text(record, "url") or "?") + _by(record)
    source = _endpoint(record, "srcIP", "srcPort")
    destination = _endpoint(record, "dstIP", "dstPort")
    if source or destination:
        text = f"{source or '?'} -> {destination or '?'}"
        host = _text(record, "dstHost")
        if host:
            text += f" ({host})"
    else:
        port = _text(record, "port")
        text = f"port {port}" if port else ""
    text += _by(record)
    amounts = [f"{key} {record[key]}" for key in ("send", "recv") if _text(record, key) is not None]
    return text.strip() + (f" ({', '.join(amounts)})" if amounts else "")


def _account(record: Record, user_key: str, domain_key: str) -> str | None:
    user, domain = _text(record, user_key), _text(record, domain_key)
    if user is None:
        return None
    return f"{domain}\\{user}" if domain else user


def _session(record: Record) -> str:
    parts = [_account(record, "usr", "usrDomain") or ""]
    origin = _text(record, "srcCom") or _text(record, "srcIP")
    if origin:
        parts.append(f"from {origin}")
    return " ".join(part for part in parts if part)


def _os(record: Record) -> str:
    if record.get("subEvt") != "evtLog":
        return ""
    parts = [_text(record, "channel") or "", _text(record, "evtID") or ""]
    account = _account(record, "evtUsr", "evtDomain")
    if account:
        parts.append(account)
    logon = _text(record, "logonType")
    if logon:
        parts.append(logon)
    origin = _text(record, "wsName") or _text(record, "wsIp") or _text(record, "srcIP")
    if origin:
        parts.append(f"from {origin}")
    reason = _text(record, "failReason")
    if reason:
        parts.append(f"({reason})")
    return " ".join(part for part in parts if part)


def _powershell(record: Record) -> str:
    command, kind = _text(record, "shCmd"), _text(record, "cmdType")
    return (command or "?") + (f" ({kind})" if kind else "") + _by(record)


def _quoted_value(key: str) -> Callable[[Record], str]:
    def summary(record: Record) -> str:
        value = _text(record, key) if key in record else None
        shown = f'"{value}"' if value is not None else ('""' if key in record else "")
        return (shown + _by(record)).strip()

    return summary


def _actor_only(record: Record) -> str:
    return _by(record).strip()


_BY_EVENT: dict[str, Callable[[Record], str]] = {
    "ps": _process,
    "file": _file,
    "reg": _registry,
    "net": _network,
    "session": _session,
    "os": _os,
    "powerShell": _powershell,
    "clip": _quoted_value("clipData"),
    "win": _quoted_value("winTitle"),
}


def summarize(record: Record, limit: int | None = MAX_LENGTH) -> str:
    """The one-line summary of a record (never empty, never longer than ``limit``; ``None``: whole)."""
    event = str(record.get("evt", "?"))
    subevent = str(record.get("subEvt", "?"))
    detail = _BY_EVENT.get(event, _actor_only)(record)
    text = f"{event} {subevent}" + (f" {detail}" if detail else "")
    text = " ".join(text.split())  # values may hold line breaks or runs of spaces
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
