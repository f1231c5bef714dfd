"""The one-line summaries used as ``message`` by the timesketch and ecs outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mk2ds.plugins.reader.event_summary import MAX_LENGTH, executable_name, summarize

DATA = Path(__file__).parents[2] / "data" / "outputs"


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {
                "evt": "ps",
                "subEvt": "start",
                "psPath": "C:\\Windows\\System32\\cmd.exe",
                "parentPath": "C:\\Windows\\explorer.exe",
            },
            "ps start C:\\Windows\\System32\\cmd.exe (parent explorer.exe)",
        ),
        (
            {"evt": "ps", "subEvt": "start", "psPath": "C:\\a\\b.exe", "cmd": "b.exe  -x\n-y"},
            "ps start C:\\a\\b.exe: b.exe -x -y",
        ),
        ({"evt": "ps", "subEvt": "stop", "psGUID": "{G}"}, "ps stop {G}"),
        (
            {
                "evt": "ps",
                "subEvt": "inject",
                "psPath": "C:\\m.exe",
                "api": "OpenProcess",
                "tpsPath": "C:\\Windows\\System32\\lsass.exe",
            },
            "ps inject C:\\m.exe -> C:\\Windows\\System32\\lsass.exe (OpenProcess)",
        ),
        (
            {
                "evt": "file",
                "subEvt": "close",
                "psPath": "C:\\x\\ps.exe",
                "path": "C:\\a.txt",
                "read": 0,
                "write": 5,
                "new": 1,
            },
            "file close C:\\a.txt by ps.exe (read 0, write 5, new)",
        ),
        (
            {"evt": "file", "subEvt": "rename", "path": "C:\\a", "dstPath": "C:\\b"},
            "file rename C:\\a -> C:\\b",
        ),
        (
            {
                "evt": "reg",
                "subEvt": "setVal",
                "path": "HKEY_LOCAL_MACHINE\\S",
                "entry": "E",
                "valNum": 0,
                "psPath": "r.exe",
            },
            "reg setVal HKEY_LOCAL_MACHINE\\S\\E = 0 by r.exe",
        ),
        (
            {
                "evt": "net",
                "subEvt": "dcon",
                "srcIP": "10.0.0.1",
                "srcPort": 5,
                "dstIP": "::1",
                "dstPort": 80,
                "recv": 1,
                "send": 2,
            },
            "net dcon 10.0.0.1:5 -> [::1]:80 (send 2, recv 1)",
        ),
        ({"evt": "net", "subEvt": "openUDP", "port": 53}, "net openUDP port 53"),
        (
            {"evt": "net", "subEvt": "webURL", "url": "http://a/%20", "decode": "http://a/ "},
            "net webURL http://a/",
        ),
        (
            {
                "evt": "session",
                "subEvt": "loginR",
                "usr": "PC1$",
                "usrDomain": "LAB",
                "srcCom": "-",
                "srcIP": "::1",
            },
            "session loginR LAB\\PC1$ from ::1",
        ),
        (
            {
                "evt": "os",
                "subEvt": "evtLog",
                "channel": "Security",
                "evtID": 4625,
                "evtUsr": "admin",
                "evtDomain": "",
                "wsName": "-",
                "wsIp": "10.0.0.2",
            },
            "os evtLog Security 4625 admin from 10.0.0.2",
        ),
        ({"evt": "win", "subEvt": "active", "winTitle": ""}, 'win active ""'),
        ({"evt": "sys", "subEvt": "start"}, "sys start"),
        ({}, "? ?"),
    ],
)
def test_summaries(record: dict[str, object], expected: str) -> None:
    assert summarize(record) == expected


def test_every_sample_record_gets_a_summary_within_the_limit() -> None:
    with open(DATA / "records.jsonl", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    for record in records:
        text = summarize(record)
        assert text.startswith(f"{record['evt']} {record['subEvt']}")
        assert "\n" not in text and len(text) <= MAX_LENGTH


def test_long_values_are_cut_with_an_ellipsis() -> None:
    text = summarize({"evt": "ps", "subEvt": "start", "psPath": "C:\\p.exe", "cmd": "x" * 1000})
    assert len(text) == MAX_LENGTH and text.endswith("…")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("C:\\Windows\\explorer.exe", "explorer.exe"),
        ("System", "System"),
        ("C:\\dir\\", "dir"),
        ("a/b.exe", "b.exe"),
    ],
)
def test_executable_name(path: str, name: str) -> None:
    assert executable_name(path) == name
