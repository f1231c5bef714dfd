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
* ``event.*`` comes from ``evt``/``subEvt`` through :data:`EVENT_CATEGORIES` (ECS allowed values, each
  type one the category expects): every event kind of the format notes is listed, any other ``subEvt`` of a
  known ``evt`` takes that ``evt``'s ``"*"`` row, and an unknown ``evt`` takes :data:`UNKNOWN_EVENT`, so no
  document is left without ``event.category``/``event.type``. Windows logon events transcribed by
  ``os/evtLog`` (4624, 4625, 4634, 4647) are ``authentication`` events (:data:`WINDOWS_EVENT_IDS`).
* ``registry.*`` understands the long (``HKEY_CURRENT_USER``) and short (``HKCU``) root names and the kernel
  form ``\\REGISTRY\\MACHINE\\…``/``\\REGISTRY\\USER\\<SID>\\…``; an empty value name is the key's
  default value, written ``(Default)`` as Windows shows it.
* ``sig`` becomes ``process.code_signature.exists/valid/trusted`` (:data:`SIGNATURE_STATES`); a value not
  in that table stays under ``mk2.sig``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mk2ds.plugins.reader.event_summary import executable_name
from mk2ds.plugins.records.ecs_enrich import TIME_RULES
from mk2ds.plugins.records.ecs_events import (
    EVENT_CATEGORIES,
    FAILURE_SUBEVENTS,
    UNKNOWN_EVENT,
    WINDOWS_EVENT_IDS,
    categories_of,
    event_fields,
)

__all__ = [
    "ECS_VERSION",
    "EVENT_CATEGORIES",
    "FAILURE_SUBEVENTS",
    "HIVES",
    "RULES",
    "SIGNATURE_STATES",
    "UNKNOWN_EVENT",
    "WINDOWS_EVENT_IDS",
    "FieldRule",
    "categories_of",
    "event_fields",
    "mapping_rows",
    "registry_parts",
]

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
    **{short: short for short in ("HKLM", "HKCU", "HKU", "HKCR", "HKCC")},
}
#: Kernel registry paths (``\REGISTRY\MACHINE\SOFTWARE``) and the hive each root stands for.
KERNEL_ROOTS: dict[str, str] = {"\\REGISTRY\\MACHINE\\": "HKLM", "\\REGISTRY\\USER\\": "HKU"}
#: How ECS names a key's default value (an empty value name), as Windows shows it.
DEFAULT_VALUE = "(Default)"

#: ``sig`` values → ``process.code_signature.*`` (other values stay under ``mk2.sig``).
SIGNATURE_STATES: dict[str, dict[str, bool]] = {
    "Valid": {"exists": True, "valid": True, "trusted": True},
    "Invalid": {"exists": True, "valid": False},
    "Untrusted": {"exists": True, "trusted": False},
    "Expired": {"exists": True, "trusted": False},
    "NotSigned": {"exists": False},
    "Unsigned": {"exists": False},
}


def _keyword(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    return {target: str(value)}


def _long(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    # ECS long is signed 64-bit: a bigger integer stays unmapped (mk2.<key>_raw, as text)
    return (
        {target: value}
        if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < (1 << 63)
        else None
    )


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


def registry_parts(path: str) -> tuple[str, str] | None:
    """``(hive, key)`` of a registry key path in any form Windows writes, or ``None`` when the root is unknown.

    ``HKEY_CURRENT_USER\\Software\\X`` and ``HKCU\\Software\\X`` → ``("HKCU", "Software\\X")``;
    ``\\REGISTRY\\MACHINE\\SOFTWARE\\X`` → ``("HKLM", "SOFTWARE\\X")``;
    ``\\REGISTRY\\USER\\S-1-5-21-…\\Software`` → ``("HKU", "S-1-5-21-…\\Software")``.
    """
    upper = path.upper()
    for prefix, kernel_hive in KERNEL_ROOTS.items():
        if upper.startswith(prefix) or upper == prefix[:-1]:
            return kernel_hive, path[len(prefix) :]
    root, _, rest = path.partition("\\")
    hive = HIVES.get(root.upper())
    return None if hive is None else (hive, rest)


def _registry_key(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    """``HKEY_CURRENT_USER\\Software\\X`` → hive ``HKCU``, key ``Software\\X``,
    path ``HKCU\\Software\\X[\\entry]`` (``(Default)`` for an empty value name)."""
    parts = registry_parts(str(value))
    if parts is None:
        return None
    hive, rest = parts
    fields: dict[str, Any] = {"registry.hive": hive, "registry.key": rest}
    entry = record.get("entry")
    full = f"{hive}\\{rest}" if rest else hive
    name = DEFAULT_VALUE if entry == "" else entry
    fields["registry.path"] = f"{full}\\{name}" if name not in (None, "-") else full
    return fields


def _registry_value(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    return {target: str(value) if value != "" else DEFAULT_VALUE}


def _signature(value: Any, record: Mapping[str, Any], target: str) -> Converted:
    state = SIGNATURE_STATES.get(str(value))
    if state is None:
        return None
    return {f"{target}.{key}": flag for key, flag in state.items()}


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
    "registry-value": _registry_value,
    "signature": _signature,
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
    #: map an empty value too (an empty registry value name is the default value)
    empty: bool = False

    def applies_to(self, event: Any) -> bool:
        return not self.events or event in self.events

    def apply(self, value: Any, record: Mapping[str, Any]) -> Converted:
        if value is None or (isinstance(value, str) and value in ("", "-") and not (self.empty and value == "")):
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
    FieldRule(
        "sig",
        "process.code_signature",
        "signature",
        events=_PROCESS,
        note="Valid → exists, valid, trusted true; Invalid → valid false; NotSigned → exists false",
    ),
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
        note="also registry.hive (HKLM, HKCU, ...; also from \\REGISTRY\\MACHINE, \\REGISTRY\\USER) and registry.path (hive\\key\\value)",
    ),
    FieldRule("entry", "registry.value", "registry-value", events=_REGISTRY, empty=True, note="empty name → (Default)"),
    FieldRule("valType", "registry.data.type", events=_REGISTRY),
    FieldRule("valStr", "registry.data.strings", "strings", events=_REGISTRY, note="one-element array"),
    FieldRule("valNum", "registry.data.strings", "strings", events=_REGISTRY, note="decimal text, one-element array"),
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
        "send",
        "source.bytes",
        "long",
        events=("net",),
        note="bytes sent by the terminal; by the peer (recv) when it connected",
    ),
    FieldRule(
        "recv",
        "destination.bytes",
        "long",
        events=("net",),
        note="bytes received by the terminal (send when the peer connected)",
    ),
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

#: Mapped without a rule: how ``evt``, ``subEvt`` and ``time`` end up in ECS (for the printed table).
FIXED_ROWS: tuple[tuple[str, str, str, str], ...] = (
    (
        "time",
        "@timestamp",
        "all",
        "zone-less: the resolved offset (mk2.time_offset_source), UTC when unknown, flagged in mk2.time_zone_assumed",
    ),
    ("evt", "event.dataset", "all", "mk2.<evt>; also event.category/event.type from (evt, subEvt)"),
    ("subEvt", "event.action", "all", "event.outcome=failure for loginFail/loginRFail and *Fail"),
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
    rows.extend(
        (source, target, event, "MM/DD/YYYY time → date with the record's offset")
        for source, target, event in TIME_RULES
    )
    rows.extend(CONTEXT_ROWS)
    rows.append(FIXED_ROWS[4])
    return rows


#: Fields that come from the record as a whole or from options (:mod:`mk2ds.plugins.records.ecs_enrich`).
CONTEXT_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("(constant)", "observer.vendor", "all", "Soliton Systems"),
    ("(constant)", "observer.product", "all", "InfoTrace Mark II"),
    ("subEvt", "network.transport", "net", "tcp; udp for openUDP"),
    ("srcIP/dstIP", "network.type", "net", "ipv4 or ipv6"),
    (
        "subEvt",
        "network.direction",
        "net",
        "acpt ingress, con egress; est/dcon ingress after a matching acpt (peer becomes source)",
    ),
    ("(document)", "related.ip", "all", "host, source and destination addresses"),
    ("(document)", "related.user", "all", "user.name"),
    ("(document)", "related.hash", "all", "process and file hashes"),
    (
        "--sysinfo FILE",
        "host.os.name",
        "all",
        "also host.os.full/version/kernel/family/platform/type; records of that host",
    ),
    ("--ecs-original", "event.original", "all", "the Mark II line exactly as read"),
)
