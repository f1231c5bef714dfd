"""Relations beyond parent and child: injection, wrote-then-ran, service registration, with evidence."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from mk2ds.plugins.tree import relations as tree_relations
from mk2ds.plugins.tree.model import ProcessModel, build_model
from mk2ds.plugins.tree.relations import image_candidates, normalize_path

SERVICES = "C:\\Windows\\System32\\services.exe"
SERVICE_KEY = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\evil"


def rec(sn: int, evt: str, sub: str, guid: str, second: float, host: str = "PC1", **fields: Any) -> dict[str, Any]:
    return {
        "time": f"2018-03-01T19:50:{second:06.3f}+09:00",
        "sn": sn,
        "evt": evt,
        "subEvt": sub,
        "com": host,
        "psGUID": guid,
        **fields,
    }


def edges(model: ProcessModel, kind: str) -> list[tuple[str | None, str | None, list[Any]]]:
    return [(rel.source.guid, rel.target.guid, rel.evidence) for rel in model.relations.relations if rel.kind == kind]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("C:\\Windows\\Temp\\A.EXE", "c:\\windows\\temp\\a.exe"),
        ("\\\\?\\C:\\Windows\\a.exe", "c:\\windows\\a.exe"),
        ("\\??\\C:\\Windows\\a.exe", "c:\\windows\\a.exe"),
        ("\\\\?\\UNC\\server\\share\\a.exe", "\\\\server\\share\\a.exe"),
        ('"C:/Program Files/x.exe"', "c:\\program files\\x.exe"),
    ],
)
def test_paths_compare_without_case_and_long_path_prefixes(raw: str, expected: str) -> None:
    assert normalize_path(raw) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"C:\\Program Files\\svc\\svc.exe" -k net', ["c:\\program files\\svc\\svc.exe"]),
        ("C:\\WINDOWS\\mssecsvc.exe -m security", ["c:\\windows\\mssecsvc.exe"]),
        ("%SystemRoot%\\System32\\svchost.exe -k netsvcs", ["c:\\windows\\system32\\svchost.exe"]),
        ("\\SystemRoot\\System32\\drivers\\x.sys", ["c:\\windows\\system32\\drivers\\x.sys"]),
        ("system32\\evil.exe", ["c:\\windows\\system32\\evil.exe"]),
        ('cmd.exe /c "C:\\ProgramData\\x\\tasksche.exe"', ["cmd.exe", "c:\\programdata\\x\\tasksche.exe"]),
        ("C:\\Program Files\\My App\\app.exe /service", ["c:\\program files\\my app\\app.exe"]),
    ],
)
def test_image_candidates_of_service_image_paths(value: str, expected: list[str]) -> None:
    assert image_candidates(value) == expected


def test_injection_into_an_earlier_process_with_evidence_and_apis() -> None:
    records = [
        rec(1, "ps", "start", "{T}", 1, psPath="C:\\Windows\\System32\\lsass.exe"),
        rec(2, "ps", "start", "{M}", 2, psPath="C:\\m.exe"),
        rec(3, "ps", "inject", "{M}", 3, api="OpenProcess", tpsGUID="{T}", tpsPath="C:\\Windows\\System32\\lsass.exe"),
        rec(4, "ps", "guardInject", "{M}", 4, api="WriteProcessMemory", tpsGUID="{t}"),
        rec(5, "ps", "inject", "{M}", 5, api="OpenProcess", tpsGUID="{NEVER}", tpsPath="C:\\x.exe"),
    ]
    model = build_model(records)
    assert edges(model, "injection") == [("{M}", "{T}", [3, 4]), ("{M}", "{NEVER}", [5])]
    details = model.relations.relations[0].details
    assert details == {"api": ["OpenProcess", "WriteProcessMemory"], "via": ["inject", "guardInject"]}
    target = model.nodes[("PC1", "{NEVER}")]
    assert target.placeholder == "injection-target" and target.path == "C:\\x.exe"


@pytest.mark.parametrize(
    "write",
    [
        {"evt": "file", "subEvt": "close", "path": "C:\\Temp\\Drop.EXE", "write": 100, "new": 0},
        {"evt": "file", "subEvt": "close", "path": "C:\\Temp\\drop.exe", "write": 0, "new": 1},
        {"evt": "file", "subEvt": "create", "path": "\\\\?\\C:\\TEMP\\drop.exe"},
        {"evt": "file", "subEvt": "rename", "path": "C:\\Temp\\drop.tmp", "dstPath": "C:\\Temp\\drop.exe"},
        {"evt": "file", "subEvt": "copy", "path": "C:\\x.exe", "dstPath": "c:\\temp\\DROP.exe"},
        {"evt": "file", "subEvt": "close", "path": "C:\\Temp\\drop.exe", "write": 5, "new": "1"},
    ],
)
def test_wrote_then_ran_for_every_kind_of_write(write: dict[str, Any]) -> None:
    records = [
        rec(1, "ps", "start", "{W}", 1, psPath="C:\\w.exe"),
        {**rec(2, "", "", "{W}", 2), **write},
        rec(3, "ps", "start", "{R}", 3, psPath="C:\\Temp\\drop.exe", parentGUID="{OTHER}"),
    ]
    model = build_model(records)
    assert edges(model, "wrote-then-ran") == [("{W}", "{R}", [2, 3])]


@pytest.mark.parametrize(
    "write",
    [
        {"evt": "file", "subEvt": "close", "path": "C:\\Temp\\drop.exe", "write": 0, "new": 0},  # only read
        {"evt": "file", "subEvt": "del", "path": "C:\\Temp\\drop.exe"},
        {"evt": "file", "subEvt": "rename", "path": "C:\\Temp\\drop.exe", "dstPath": "C:\\Temp\\x.bak"},  # source only
    ],
)
def test_no_wrote_then_ran_without_a_write_of_the_image(write: dict[str, Any]) -> None:
    records = [
        rec(1, "ps", "start", "{W}", 1, psPath="C:\\w.exe"),
        {**rec(2, "", "", "{W}", 2), **write},
        rec(3, "ps", "start", "{R}", 3, psPath="C:\\Temp\\drop.exe"),
    ]
    assert edges(build_model(records), "wrote-then-ran") == []


def test_wrote_then_ran_uses_record_time_not_line_order_and_host() -> None:
    records = [
        rec(3, "ps", "start", "{R}", 3, psPath="C:\\a.exe"),  # the start line comes first, the write was earlier
        rec(2, "file", "create", "{W}", 2, path="C:\\a.exe"),
        rec(9, "file", "create", "{LATE}", 9, path="C:\\a.exe"),  # written after the start: not its origin
        rec(2, "file", "create", "{OTHERHOST}", 2, host="PC2", path="C:\\a.exe"),
        rec(5, "file", "create", "{R}", 5, path="C:\\a.exe"),  # a process overwriting its own image
    ]
    assert edges(build_model(records), "wrote-then-ran") == [("{W}", "{R}", [2, 3])]


def test_non_executable_writes_are_tracked_in_a_bounded_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree_relations, "RECENT_WRITES_CAP", 3)
    records = [rec(1, "file", "close", "{W}", 1, path="C:\\payload.tmp", write=10)]
    records += [rec(2 + n, "file", "close", "{W}", 2, path=f"C:\\doc{n}.txt", write=10) for n in range(5)]
    records += [rec(8, "file", "close", "{W}", 3, path="C:\\recent.dat", write=10)]
    records += [
        rec(20, "ps", "start", "{A}", 10, psPath="C:\\payload.tmp"),
        rec(21, "ps", "start", "{B}", 11, psPath="C:\\recent.dat"),
    ]
    model = build_model(records)
    assert edges(model, "wrote-then-ran") == [("{W}", "{B}", [8, 21])]
    assert model.relations.evicted == 4  # payload.tmp and three .txt files were pushed out, and counted
    assert model.to_document()["stats"]["write_paths_evicted"] == 4


def test_service_registration_links_to_the_process_services_exe_starts() -> None:
    records = [
        rec(
            1,
            "reg",
            "setVal",
            "{SVC}",
            1,
            psPath=SERVICES,
            path=SERVICE_KEY,
            entry="ImagePath",
            valStr='cmd.exe /c "C:\\ProgramData\\x\\t.exe"',
        ),
        rec(
            2, "ps", "start", "{EARLYCMD}", 0.5, psPath="C:\\Windows\\System32\\cmd.exe", parentGUID="{SVC}"
        ),  # before the registration
        rec(3, "ps", "start", "{USERCMD}", 2, psPath="C:\\Windows\\System32\\cmd.exe", parentGUID="{EXPLORER}"),
        rec(4, "ps", "start", "{CMD}", 3, psPath="C:\\Windows\\System32\\cmd.exe", parentGUID="{SVC}"),
        rec(5, "ps", "start", "{T}", 4, psPath="C:\\ProgramData\\x\\t.exe", parentGUID="{CMD}"),
    ]
    model = build_model(records)
    assert edges(model, "service") == [("{SVC}", "{CMD}", [1, 4]), ("{SVC}", "{T}", [1, 5])]
    assert model.relations.relations[0].details == {
        "service": "evil",
        "image_path": 'cmd.exe /c "C:\\ProgramData\\x\\t.exe"',
        "image": "cmd.exe",
    }


def test_service_with_a_full_image_path_needs_no_services_parent() -> None:
    records = [
        rec(
            1,
            "reg",
            "setVal",
            "{INSTALLER}",
            1,
            path=SERVICE_KEY + "\\",
            entry="imagepath",
            valStr='"C:\\Svc\\evil.exe" -k x',
        ),
        rec(2, "ps", "start", "{E}", 2, psPath="C:\\SVC\\EVIL.EXE"),
        rec(
            3,
            "reg",
            "setVal",
            "{INSTALLER}",
            3,
            path=SERVICE_KEY + "\\Parameters",
            entry="ImagePath",
            valStr="C:\\Svc\\other.exe",
        ),
        rec(4, "reg", "setVal", "{INSTALLER}", 4, path=SERVICE_KEY, entry="Description", valStr="C:\\Svc\\evil.exe"),
    ]
    assert edges(build_model(records), "service") == [("{INSTALLER}", "{E}", [1, 2])]


def test_relations_shown_only_when_both_ends_are_in_the_view() -> None:
    records = [
        rec(1, "ps", "start", "{W}", 1, psPath="C:\\w.exe"),
        rec(2, "file", "create", "{W}", 2, path="C:\\r.exe"),
        rec(3, "ps", "start", "{R}", 3, psPath="C:\\r.exe", parentGUID="{P}"),
    ]
    model = build_model(records)
    shallow = model.to_document(argparse.Namespace(depth=0))
    assert shallow["relations"] == [] and shallow["stats"]["relations"]["wrote-then-ran"] == 1
    assert len(model.to_document(argparse.Namespace())["relations"]) == 1


def test_relations_use_records_outside_the_time_window() -> None:
    records = [
        rec(1, "file", "create", "{W}", 1, path="C:\\r.exe"),
        rec(2, "ps", "inject", "{W}", 2, tpsGUID="{T}"),
        rec(3, "ps", "start", "{R}", 30, psPath="C:\\r.exe"),
    ]
    options = argparse.Namespace(since="2018-03-01T19:50:20.000+09:00")
    model = build_model(records, options)
    assert edges(model, "wrote-then-ran") == [("{W}", "{R}", [1, 3])] and edges(model, "injection") == [
        ("{W}", "{T}", [2])
    ]
    assert model.nodes[("PC1", "{W}")].counts == {} and model.nodes[("PC1", "{W}")].outside_window == 2
