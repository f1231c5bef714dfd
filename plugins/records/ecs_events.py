"""``event.*`` of the ECS output: ``event.category``/``event.type``/``event.outcome`` for every Mark II event kind.

Every ``evt``/``subEvt`` pair of the format notes' event table is listed in :data:`EVENT_CATEGORIES`, any
other ``subEvt`` of a known ``evt`` takes that ``evt``'s ``"*"`` row, and an unknown ``evt`` takes
:data:`UNKNOWN_EVENT`: no document is left uncategorized. Every value is one ECS 8.11 allows, and every type
one that ECS expects for its category (``expected_event_types``); a test checks both against the ECS field
definitions. Windows logon events transcribed by ``os/evtLog`` are ``authentication`` events
(:data:`WINDOWS_EVENT_IDS`).

This is a library for the ``ecs`` record output; it implements no hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "EVENT_CATEGORIES",
    "FAILURE_SUBEVENTS",
    "UNKNOWN_EVENT",
    "WINDOWS_EVENT_IDS",
    "categories_of",
    "event_fields",
]

#: ``event.category`` and ``event.type`` per ``evt`` (``"*"``: any other ``subEvt`` of that ``evt``). Every pair
#: of the format notes' event table is listed; every type is one ECS expects for its category.
Categories = tuple[tuple[str, ...], tuple[str, ...]]
_HOST_INFO: Categories = (("host",), ("info",))
_CONFIG_CHANGE: Categories = (("configuration",), ("change",))
EVENT_CATEGORIES: dict[str, dict[str, Categories]] = {
    "sys": {  # the agent and the system it runs on
        "start": (("host",), ("start",)),
        "stop": (("host",), ("end",)),
        "restart": (("host",), ("start",)),
        "chgConf": _CONFIG_CHANGE,
        "suspendLog": _CONFIG_CHANGE,
        "resumeLog": _CONFIG_CHANGE,
        "suspendPSMon": _CONFIG_CHANGE,
        "resumePSMon": _CONFIG_CHANGE,
        "*": _HOST_INFO,  # run, outDsk, startRed, stopRed
    },
    "os": {
        "start": (("host",), ("start",)),
        "stop": (("host",), ("end",)),
        "startSafemode": (("host",), ("start",)),
        "stopSafemode": (("host",), ("end",)),
        "suspend": (("host",), ("change",)),
        "resume": (("host",), ("change",)),
        "chgDate": (("host",), ("change",)),
        "*": _HOST_INFO,  # evtLog: see WINDOWS_EVENT_IDS
    },
    "dev": {  # devices mounted and connected
        "mnt": (("host",), ("change",)),
        "mntd": (("host",), ("change",)),
        "unMnt": (("host",), ("change",)),
        "con": (("host",), ("change",)),
        "dcon": (("host",), ("change",)),
        "*": _HOST_INFO,
    },
    "session": {
        "login": (("authentication", "session"), ("start",)),
        "loginR": (("authentication", "session"), ("start",)),
        "loginFail": (("authentication",), ("start",)),
        "loginRFail": (("authentication",), ("start",)),
        "logout": (("session",), ("end",)),
        "conR": (("session",), ("start",)),
        "dconR": (("session",), ("end",)),
        "*": (("session",), ("info",)),  # lock, unlock, startSCR, stopSCR
    },
    "ps": {
        "start": (("process",), ("start",)),
        "stop": (("process",), ("end",)),
        "inject": (("process",), ("access",)),
        "guardInject": (("process",), ("access",)),
        "*": (("process",), ("info",)),  # run
    },
    "file": {
        "create": (("file",), ("creation",)),
        "createDir": (("file",), ("creation",)),
        "copy": (("file",), ("creation",)),
        "download": (("file",), ("creation",)),
        "impWPD": (("file",), ("creation",)),
        "del": (("file",), ("deletion",)),
        "delDir": (("file",), ("deletion",)),
        "delWPD": (("file",), ("deletion",)),
        "rename": (("file",), ("change",)),
        "renameDir": (("file",), ("change",)),
        "renameWPD": (("file",), ("change",)),
        "chgAttr": (("file",), ("change",)),
        "unblock": (("file",), ("change",)),
        "enableMacro": (("file",), ("change",)),
        "close": (("file",), ("access",)),
        "open": (("file",), ("access",)),
        "expWPD": (("file",), ("access",)),
        "upload": (("file",), ("access",)),
        "*": (("file",), ("info",)),
    },
    "reg": {
        "setVal": (("registry",), ("change",)),
        "renameKey": (("registry",), ("change",)),
        "create": (("registry",), ("creation",)),
        "delKey": (("registry",), ("deletion",)),
        "delVal": (("registry",), ("deletion",)),
        "*": (("registry",), ("access",)),  # open
    },
    "prt": {"*": (("host",), ("info",))},  # print jobs: ECS has no printing category
    "win": {"*": (("process",), ("info",))},  # the window a process shows is active or not
    "clip": {"*": (("process",), ("info",))},  # a process copies to or pastes from the clipboard
    "net": {
        "con": (("network",), ("connection", "start")),
        "acpt": (("network",), ("connection", "start")),
        "est": (("network",), ("connection",)),
        "dcon": (("network",), ("connection", "end")),
        "lsn": (("network",), ("start",)),
        "openUDP": (("network",), ("start",)),
        "dnsQuery": (("network",), ("protocol",)),
        "webURL": (("web",), ("access",)),
        "mailSend": (("email",), ("info",)),
        "mailRecv": (("email",), ("info",)),
        "login": (("authentication",), ("start",)),
        "*": (("network",), ("info",)),  # chgSSID, open
    },
    "wmi": {"psCreate": (("process",), ("start",)), "*": (("process",), ("info",))},
    "powerShell": {"*": (("process",), ("info",))},
    "windowsDefender": {
        "sigUpdate": _CONFIG_CHANGE,
        "sigUpdateFail": _CONFIG_CHANGE,
        "engUpdate": _CONFIG_CHANGE,
        "engUpdateFail": _CONFIG_CHANGE,
        "chgConf": _CONFIG_CHANGE,
        "ASRBlock": (("intrusion_detection",), ("denied",)),
        "ASRAudit": (("intrusion_detection",), ("allowed",)),
        "*": (("malware",), ("info",)),  # detections, scans, quarantine, SmartScreen
    },
}
#: An ``evt`` the table does not know: still categorized, as information about the host.
UNKNOWN_EVENT: Categories = _HOST_INFO
#: ``os/evtLog`` records of these Windows event IDs: categories, types and outcome.
WINDOWS_EVENT_IDS: dict[int, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {
    4624: (("authentication", "session"), ("start",), "success"),
    4625: (("authentication",), ("start",), "failure"),
    4634: (("authentication", "session"), ("end",), "success"),
    4647: (("authentication", "session"), ("end",), "success"),
    4648: (("authentication",), ("start",), None),
    4672: (("iam",), ("admin",), None),
}
#: Sub-events that fail (``event.outcome: failure``; also the ``*Fail`` names of Windows Defender).
#: ``subEvt`` values that record a failure (``event.outcome: failure``).
FAILURE_SUBEVENTS = frozenset({"loginFail", "loginRFail"})


def categories_of(event: Any, subevent: Any) -> Categories:
    """``(event.category, event.type)`` of an ``evt``/``subEvt`` pair (never empty)."""
    table = EVENT_CATEGORIES.get(str(event))
    if table is None:
        return UNKNOWN_EVENT
    return table.get(str(subevent), table["*"])


def event_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """``event.*`` fields derived from ``evt`` and ``subEvt`` (dotted names)."""
    event, subevent = record.get("evt"), record.get("subEvt")
    fields: dict[str, Any] = {"event.kind": "event", "event.module": "mk2"}
    if isinstance(event, str) and event:
        fields["event.dataset"] = f"mk2.{event}"
    if isinstance(subevent, str) and subevent:
        fields["event.action"] = subevent
    categories, types = categories_of(event, subevent)
    outcome = (
        "failure"
        if subevent in FAILURE_SUBEVENTS or (isinstance(subevent, str) and subevent.endswith("Fail"))
        else None
    )
    windows = WINDOWS_EVENT_IDS.get(record["evtID"]) if event == "os" and type(record.get("evtID")) is int else None
    if windows is not None:
        categories, types, outcome = windows
    fields["event.category"] = list(categories)
    fields["event.type"] = list(types)
    if outcome is not None:
        fields["event.outcome"] = outcome
    return fields
