from __future__ import annotations

import argparse
import json
import types
from pathlib import Path

import pluggy
import pytest

from mk2ds.core import Entry, Finding, Profile, Severity, get_plugin_manager, hookimpl
from mk2ds.core.walker import code_selected, verify

PROFILE = Profile(
    {
        "name": "tiny",
        "required": [{"path": "README.txt", "type": "file", "may_be_empty": False}, {"path": "logs", "type": "folder"}],
        "kinds": [{"kind": "note", "pattern": "logs/**/*.txt"}],
    }
)


def _dataset(root: Path, files: int = 6) -> Path:
    (root / "logs" / "deep").mkdir(parents=True)
    (root / "README.txt").write_text("readme", encoding="utf-8")
    for index in range(files):
        (root / "logs" / ("deep" if index % 2 else "") / f"n{index}.txt").write_text(
            "x" * (index + 1), encoding="utf-8"
        )
    return root


class SizeChecker:
    """A stand-in content check: one finding per 'note' file, with its size."""

    @hookimpl
    def mk2ds_register_codes(self) -> list[object]:
        from mk2ds.core import CodeInfo

        return [CodeInfo("tiny-size", Severity.WARNING, "size of a note")]

    @hookimpl
    def mk2ds_check_entry(self, entry: Entry, kind: str) -> list[Finding]:
        if kind != "note":
            return []
        return [Finding("tiny-size", Severity.WARNING, f"{entry.size} bytes", path=entry.path)]


def _pm() -> pluggy.PluginManager:
    return get_plugin_manager(load_entrypoints=False, extra_plugins=[("size_checker", SizeChecker())])


def test_entries_are_classified_and_checked(tmp_path: Path) -> None:
    report = verify(str(_dataset(tmp_path)), _pm(), PROFILE, show_progress=False)
    document = report.to_dict()
    assert document["stats"]["kinds"] == {"note": 6, "other": 1}
    assert sorted(f["path"] for f in document["findings"] if f["code"] == "tiny-size") == sorted(
        str(p.relative_to(tmp_path)) for p in (tmp_path / "logs").rglob("*.txt")
    )
    assert report.exit_code() == 0


def test_structure_level_skips_entry_checks(tmp_path: Path) -> None:
    report = verify(str(_dataset(tmp_path)), _pm(), PROFILE, level="structure", show_progress=False)
    assert not [f for f in report.findings if f.code == "tiny-size"]


def test_parallel_run_reports_exactly_what_the_serial_run_reports(tmp_path: Path) -> None:
    root = str(_dataset(tmp_path, files=12))
    serial = verify(root, _pm(), PROFILE, jobs=1, show_progress=False).to_dict()
    parallel = verify(root, _pm(), PROFILE, jobs=2, show_progress=False).to_dict()
    for document in (serial, parallel):
        document["stats"].pop("seconds")
        document["stats"].pop("jobs")
    assert len([f for f in parallel["findings"] if f["code"] == "tiny-size"]) == 12
    assert json.dumps(parallel) == json.dumps(serial)


def test_missing_required_and_empty_file_are_findings(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("", encoding="utf-8")
    report = verify(str(tmp_path), _pm(), PROFILE, show_progress=False)
    assert sorted((f.code, f.path) for f in report.findings) == [
        ("empty-required-file", "README.txt"),
        ("missing-required", "logs"),
    ]
    assert report.exit_code() == 1


def test_select_and_ignore_filter_by_code_or_prefix(tmp_path: Path) -> None:
    root = str(_dataset(tmp_path))
    ignored = verify(root, _pm(), PROFILE, ignore=["tiny-"], show_progress=False)
    assert not ignored.findings
    selected = verify(root, _pm(), PROFILE, select=["tiny-size"], show_progress=False)
    assert {f.code for f in selected.findings} == {"tiny-size"}


@pytest.mark.parametrize(
    ("code", "select", "ignore", "expected"),
    [
        ("log-sn-repeated", ["log-"], [], True),
        ("log-sn-repeated", [], ["log-sn-repeated"], False),
        ("layout-x", ["log-"], [], False),
        ("acme/x", ["acme/"], [], True),
    ],
)
def test_code_selected(code: str, select: list[str], ignore: list[str], expected: bool) -> None:
    assert code_selected(code, select, ignore) is expected


def test_unregistered_code_is_flagged(tmp_path: Path) -> None:
    plugin = types.SimpleNamespace(
        mk2ds_check_dataset=hookimpl(lambda dataset, context: [Finding("made-up", Severity.INFO, "m")])
    )
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("sloppy", plugin)])
    report = verify(str(_dataset(tmp_path)), pm, PROFILE, show_progress=False)
    assert [(f.code, f.plugin) for f in report.findings if f.code == "unregistered-code"] == [
        ("unregistered-code", "sloppy")
    ]


def test_verify_never_writes_into_the_dataset(tmp_path: Path, read_only: object) -> None:
    root = _dataset(tmp_path / "ds")
    before = sorted((str(p), p.stat().st_mtime_ns) for p in root.rglob("*"))
    with read_only(root):  # type: ignore[operator]
        verify(str(root), _pm(), PROFILE, jobs=2, show_progress=False, options=argparse.Namespace())
    assert sorted((str(p), p.stat().st_mtime_ns) for p in root.rglob("*")) == before
