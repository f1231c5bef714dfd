"""The Mark II → Elastic Common Schema mapping as data: one :class:`FieldRule` per (Mark II key, ECS field).

The ``ecs`` record output applies these rules; ``mk2ds ecs-mapping`` and ``mk2ds convert --format ecs
--show-mapping`` print them; ``schemas/ecs-subset.schema.json`` declares every ECS field named here (a test
keeps the two in step).

Rules of the mapping:

* A rule applies to records whose ``evt`` is in ``events`` (every record when ``events`` is empty).
* A rule's converter turns the value into ECS fields, or refuses (``None``): an IP field refuses text that is
  not an address, a port refuses what is not 0–65535. Empty values and the product's no-value marker ``-``
  are never mapped.
* A Mark II key that no *primary* rule mapped is kept, unchanged, under ``mk2.<key>``, so nothing is lost.
  *Derived* rules (``process.name`` from ``psPath``) add convenience fields and do not count as mapping.
* A target field is written once; a second key aiming at the same field stays under ``mk2.*``.
* ``event.*`` comes from ``evt``/``subEvt`` through :data:`EVENT_CATEGORIES` (ECS allowed values).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mk2ds.plugins.reader.event_summary import executable_name

__all__ = ["ECS_VERSION", "EVENT_CATEGORIES", "HIVES", "RULES", "FieldRule", "event_fields", "mapping_rows"]

#: The ECS release whose field definitions this mapping follows (written as ``ecs.version``).
ECS_VERSION = "8.11.0"

Converted = dict[str, Any] | None
Converter = Callable[[Any, Mapping[str, Any], str], Converted]

#: Registry root keys as Mark II writes them, and the abbreviations ECS uses in ``registry.hive``.
HIVES: dict[str, str] = {
    "HKEY_LOCAL_MACHINE": "HKLM",
    "HKEY_CURRENT_USER": "HKCU",
    "HKEY_USERS": "HKU",
    "HKEY_CLASSES_ROOT": "HKCR",
    "HKEY_CURRENT_CONFIG": "HKCC",
}


def _keyword(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    return {target: str(value)}


def _long(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    # ECS long is signed 64-bit: a bigger integer stays unmapped (mk2.<key>_raw, as text)
    return {target: value} if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < (1 << 63) else None


def _port(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)  # session records quote their ports
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
        return {target: value}
    return None


def _ip(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    try:
        return {target: str(ipaddress.ip_address(str(value)))}
    except ValueError:
        return None


def _ip_list(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    try:
        return {target: [str(ipaddress.ip_address(part)) for part in str(value).split(",")]}
    except ValueError:
        return None


def _mac_list(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    octets = str(value).replace("-", ":").split(":")
    if len(octets) < 6 or not all(
        len(octet) == 2 and all(c in "0123456789abcdefABCDEF" for c in octet) for octet in octets
    ):
        return None
    return {target: ["-".join(octet.upper() for octet in octets)]}  # ECS suggests RFC 7042 notation


def _strings(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    return {target: [str(value)]}


def _code(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    return {target: str(value)}


def _basename(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    return {target: executable_name(value)}


def _registry_key(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    """``HKEY_CURRENT_USER\\Software\\X`` → hive ``HKCU``, key ``Software\\X``,
    path ``HKCU\\Software\\X[\\entry]``."""
    root, _, rest = str(value).partition("\\")
    if root.upper() not in HIVES:
        return None
    hive = HIVES[root.upper()]
    fields: dict[str, Any] = {"registry.hive": hive, "registry.key": rest}
    entry = record.get("entry")
    full = f"{hive}\\{rest}" if rest else hive
    fields["registry.path"] = f"{full}\\{entry}" if entry not in (None, "", "-") else full
    return fields


CONVERTERS: dict[str, Converter] = {
    "keyword": _keyword,
    "long": _long,
    "port": _port,
    "ip": _ip,
    "ip-list": _ip_list,
    "mac-list": _mac_list,
    "strings": _strings,
    "code": _code,
    "basename": _basename,
    "registry-key": _registry_key,
}


@dataclass(frozen=True)
class FieldRule:
    """One line of the mapping table."""

    source: str
    target: str
    convert: str = "keyword"
    events: tuple[str, ...] = ()
    derived: bool = False
    note: str = ""

    def applies_to(self, event: Any) -> bool:
        return not self.events or event in self.events

    def apply(self, value: Any, record: Mapping[str, Any]) -> Converted:
        if value is None or (isinstance(value, str) and value in ("", "-")):
            return None
        return CONVERTERS[self.convert](value, record, self.target)


_PROCESS = ("ps",)
_FILE = ("file",)
_REGISTRY = ("reg",)
_ENDPOINTS = ("net", "session", "os")

#: The mapping table, in output order.
RULES: tuple[FieldRule, ...] = (
    FieldRule("sn", "event.sequence", "long", note="record sequence number"),
    FieldRule("com", "host.name", note="terminal name"),
    FieldRule("domain", "host.domain"),
    FieldRule("tmid", "host.id", note="terminal ID"),
    FieldRule("ip", "host.ip", "ip-list", note="comma-separated list → array"),
    FieldRule("mac", "host.mac", "mac-list", note="→ RFC 7042 notation (upper case, dashes)"),
    FieldRule("psGUID", "process.entity_id", note="the acting process (the injector on ps inject)"),
    FieldRule("psPath", "process.executable"),
    FieldRule("psPath", "process.name", "basename", derived=True, note="file name of psPath"),
    FieldRule("psID", "process.pid", "long"),
    FieldRule("cmd", "process.command_line"),
    FieldRule("parentGUID", "process.parent.entity_id"),
    FieldRule("parentPath", "process.parent.executable"),
    FieldRule("parentPath", "process.parent.name", "basename", derived=True, note="file name of parentPath"),
    FieldRule("sha256", "process.hash.sha256", events=_PROCESS),
    FieldRule("sha1", "process.hash.sha1", events=_PROCESS),
    FieldRule("md5", "process.hash.md5", events=_PROCESS),
    FieldRule("company", "process.pe.company", events=_PROCESS),
    FieldRule("fileDesc", "process.pe.description", events=_PROCESS),
    FieldRule("product", "process.pe.product", events=_PROCESS),
    FieldRule("fileVer", "process.pe.file_version", events=_PROCESS),
    FieldRule("sig", "process.code_signature.status", events=_PROCESS, note="e.g. Valid"),
    FieldRule("signer", "process.code_signature.subject_name", events=_PROCESS),
    FieldRule("psUser", "user.name"),
    FieldRule("psDomain", "user.domain"),
    FieldRule("path", "file.path", events=_FILE, note="source path on rename/copy"),
    FieldRule("path", "file.name", "basename", events=_FILE, derived=True, note="file name of path"),
    FieldRule("size", "file.size", "long", events=_FILE),
    FieldRule("sha256", "file.hash.sha256", events=_FILE),
    FieldRule("sha1", "file.hash.sha1", events=_FILE),
    FieldRule("md5", "file.hash.md5", events=_FILE),
    FieldRule(
        "path",
        "registry.key",
        "registry-key",
        events=_REGISTRY,
        note="also registry.hive (HKLM, HKCU, ...) and registry.path (hive\\key\\value)",
    ),
    FieldRule("entry", "registry.value", events=_REGISTRY),
    FieldRule("valType", "registry.data.type", events=_REGISTRY),
    FieldRule("valStr", "registry.data.strings", "strings", events=_REGISTRY, note="one-element array"),
    FieldRule(
        "valNum", "registry.data.strings", "strings", events=_REGISTRY, note="decimal text, one-element array"
    ),
    FieldRule("srcIP", "source.ip", "ip", events=_ENDPOINTS),
    FieldRule("srcPort", "source.port", "port", events=_ENDPOINTS),
    FieldRule("srcCom", "source.domain", events=("session",), note="host name of the remote side"),
    FieldRule("wsName", "source.domain", events=("os",), note="workstation name"),
    FieldRule("wsIp", "source.ip", "ip", events=("os",)),
    FieldRule("wsPort", "source.port", "port", events=("os",)),
    FieldRule("dstIP", "destination.ip", "ip", events=("net",)),
    FieldRule("dstPort", "destination.port", "port", events=("net",)),
    FieldRule("dstHost", "destination.domain", events=("net",)),
    FieldRule(
        "send", "source.bytes", "long", events=("net",), note="bytes sent by the terminal (the source)"
    ),
    FieldRule("recv", "destination.bytes", "long", events=("net",), note="bytes received by the terminal"),
    FieldRule("url", "url.original", events=("net",)),
    FieldRule("url_hostname", "url.domain", events=("net",)),
    FieldRule("usr", "user.name", events=("session",)),
    FieldRule("usrDomain", "user.domain", events=("session",)),
    FieldRule("evtID", "event.code", "code", events=("os",), note="Windows event ID as text"),
    FieldRule("evtSrc", "event.provider", events=("os",)),
    FieldRule("evtUsr", "user.name", events=("os",)),
    FieldRule("evtDomain", "user.domain", events=("os",)),
    FieldRule("failReason", "event.reason", events=("os",)),
    FieldRule("_file", "log.file.path", note="provenance (--provenance)"),
)

#: ``event.category`` and ``event.type`` per ``evt`` (``"*"``: any other ``subEvt`` of that ``evt``).
EVENT_CATEGORIES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "ps": {
        "start": (("process",), ("start",)),
        "stop": (("process",), ("end",)),
        "inject": (("process",), ("access",)),
        "guardInject": (("process",), ("access",)),
        "*": (("process",), ("info",)),
    },
    "file": {
        "create": (("file",), ("creation",)),
        "createDir": (("file",), ("creation",)),
        "copy": (("file",), ("creation",)),
        "download": (("file",), ("creation",)),
        "del": (("file",), ("deletion",)),
        "delDir": (("file",), ("deletion",)),
        "rename": (("file",), ("change",)),
        "renameDir": (("file",), ("change",)),
        "chgAttr": (("file",), ("change",)),
        "close": (("file",), ("access",)),
        "*": (("file",), ("info",)),
    },
    "reg": {
        "setVal": (("registry",), ("change",)),
        "renameKey": (("registry",), ("change",)),
        "create": (("registry",), ("creation",)),
        "delKey": (("registry",), ("deletion",)),
        "delVal": (("registry",), ("deletion",)),
        "*": (("registry",), ("access",)),
    },
    "net": {
        "con": (("network",), ("connection", "start")),
        "acpt": (("network",), ("connection", "start")),
        "est": (("network",), ("connection",)),
        "dcon": (("network",), ("connection", "end")),
        "webURL": (("web",), ("access",)),
        "*": (("network",), ("info",)),
    },
    "session": {
        "login": (("authentication", "session"), ("start",)),
        "loginR": (("authentication", "session"), ("start",)),
        "loginFail": (("authentication",), ("start",)),
        "loginRFail": (("authentication",), ("start",)),
        "logout": (("session",), ("end",)),
        "conR": (("session",), ("start",)),
        "dconR": (("session",), ("end",)),
        "*": (("session",), ("info",)),
    },
    "os": {
        "start": (("host",), ("start",)),
        "stop": (("host",), ("end",)),
        "chgDate": (("host",), ("change",)),
        "*": (("host",), ("info",)),
    },
    "powerShell": {"*": (("process",), ("info",))},
    "wmi": {"*": (("process",), ("info",))},
    "windowsDefender": {"*": (("malware",), ("info",))},
}

#: ``subEvt`` values that record a failure (``event.outcome: failure``).
FAILURE_SUBEVENTS = frozenset({"loginFail", "loginRFail"})


def event_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """``event.*`` fields derived from ``evt`` and ``subEvt`` (dotted names)."""
    event, subevent = record.get("evt"), record.get("subEvt")
    fields: dict[str, Any] = {"event.kind": "event", "event.module": "mk2"}
    if isinstance(event, str) and event:
        fields["event.dataset"] = f"mk2.{event}"
    if isinstance(subevent, str) and subevent:
        fields["event.action"] = subevent
    table = EVENT_CATEGORIES.get(str(event))
    if table is not None:
        categories, types = table.get(str(subevent), table["*"])
        fields["event.category"] = list(categories)
        fields["event.type"] = list(types)
    if subevent in FAILURE_SUBEVENTS:
        fields["event.outcome"] = "failure"
    return fields


#: Mapped without a rule: how ``evt``, ``subEvt`` and ``time`` end up in ECS (for the printed table).
FIXED_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("time", "@timestamp", "all", "zone-less: the resolved offset (mk2.time_offset_source), UTC when unknown, flagged in mk2.time_zone_assumed"),
    ("evt", "event.dataset", "all", "mk2.<evt>; also event.category/event.type from (evt, subEvt)"),
    ("subEvt", "event.action", "all", "event.outcome=failure for loginFail/loginRFail"),
    ("(summary)", "message", "all", "short human summary of the record"),
    ("(other keys)", "mk2.<key>", "all", "every key no primary rule mapped, unchanged"),
)


def mapping_rows() -> list[tuple[str, str, str, str]]:
    """The table as ``(Mark II key, ECS field, applies to, note)`` rows, for printing."""
    rows = list(FIXED_ROWS[:4])
    for rule in RULES:
        where = ", ".join(rule.events) if rule.events else "all"
        note = ("derived; " if rule.derived else "") + rule.note
        rows.append((rule.source, rule.target, where, note.rstrip("; ")))
    rows.append(FIXED_ROWS[4])
    return rows
