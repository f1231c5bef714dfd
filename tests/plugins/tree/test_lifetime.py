"""A process stop logged before its start (negative lifetime) is flagged in every tree output and in verify."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pluggy

from mk2ds.core.schemas import validate_document
from mk2ds.plugins.tree import html as tree_html
from mk2ds.plugins.tree import text as tree_text
from mk2ds.plugins.tree.model import build_model

GUID = "{9531985D-5D9D-49F8-9818-E811892F902B}"
RECORDS: list[dict[str, Any]] = [
    {
        "time": "2018-03-05T10:12:04.530+09:00",
        "sn": 2102,
        "evt": "ps",
        "subEvt": "start",
        "com": "PC2",
        "psGUID": GUID,
        "psPath": "C:\\Windows\\dllhost.dat",
    },
    {
        "time": "2018-03-05T10:12:04.422+09:00",
        "sn": 2103,
        "evt": "ps",
        "subEvt": "stop",
        "com": "PC2",
        "psGUID": GUID,
        "psPath": "C:\\Windows\\dllhost.dat",
    },
    {
        "time": "2018-03-05T10:12:05.000+09:00",
        "sn": 2104,
        "evt": "ps",
        "subEvt": "start",
        "com": "PC2",
        "psGUID": "{B}",
        "psPath": "C:\\Windows\\notepad.exe",
    },
    {
        "time": "2018-03-05T10:12:06.000+09:00",
        "sn": 2105,
        "evt": "ps",
        "subEvt": "stop",
        "com": "PC2",
        "psGUID": "{B}",
        "psPath": "C:\\Windows\\notepad.exe",
    },
]


def document() -> dict[str, Any]:
    return build_model(RECORDS).to_document(argparse.Namespace())


def test_json_counts_it_and_lists_an_anomaly() -> None:
    tree = document()
    assert validate_document(tree, "tree") == []
    assert tree["stats"]["stops_before_start"] == 1
    (anomaly,) = tree["anomalies"]
    assert anomaly["kind"] == "stop-before-start" and anomaly["sn"] == 2103 and "0.108s before" in anomaly["message"]
    lifetimes = {process["name"]: process["lifetime"] for process in tree["processes"]}
    assert lifetimes == {"dllhost.dat": -0.108, "notepad.exe": 1.0}


def test_text_marks_the_process_and_says_why() -> None:
    text = tree_text.render(document(), argparse.Namespace(color="never"))
    (row,) = [line for line in text.splitlines() if "dllhost.dat  " in line]
    assert "!-0.108s" in row
    assert "1 processes stop before they start" in text
    (other,) = [line for line in text.splitlines() if "notepad.exe  " in line]
    assert "!" not in other


def test_html_flags_it() -> None:
    page = tree_html.render(document(), argparse.Namespace())
    assert '"stops_before_start":1' in page and "stops before it starts" in page and "stop-before-start" in page


def test_verify_counts_it(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    from mk2ds.core import Profile, VerifyContext
    from mk2ds.core.dataset import Entry, FolderDataset
    from mk2ds.plugins.checks import logs as log_checks
    from mk2ds.plugins.checks.profile import load
    from mk2ds.plugins.convert.format import format_record

    data = "".join(format_record(record) + "\n" for record in RECORDS).encode()
    (tmp_path / "a.log").write_bytes(data)
    context = VerifyContext(profile=Profile(load()), level="full", options=argparse.Namespace(), shared={}, pm=pm)
    found = [
        item
        for item in log_checks.mk2ds_check_entry(Entry("a.log", len(data)), "mk2log", FolderDataset(tmp_path), context)
        if getattr(item, "code", "") == "log-stop-before-start"
    ]
    (finding,) = found
    assert finding.details["count"] == 1 and finding.details["processes"][0]["stop_sn"] == 2103
    assert "dllhost.dat" in finding.message and finding.path == "a.log"
    assert json.dumps(finding.details)
