from __future__ import annotations

from pathlib import Path
from typing import Any

from mk2ds.core import Dataset, Profile, VerifyContext
from mk2ds.core.dataset import FolderDataset
from mk2ds.plugins.checks import cross_references
from mk2ds.plugins.checks.profile import load

PE = "1" * 64
SCRIPT = "2" * 64


def _sample(
    sample_id: str, *, is_pe: bool | None, verbose: bool | None = False, report: bool | None = False
) -> dict[str, Any]:
    return {
        "id": sample_id,
        "sha256": sample_id,
        "sha1": None,
        "md5": None,
        "extension": "exe" if is_pe else "js",
        "is_pe": is_pe,
        "flags": {"verbose": verbose, "report": report},
        "row": 2,
    }


def _run(
    files: dict[str, int], samples: list[dict[str, Any]]
) -> tuple[list[tuple[str, str | None, str | None]], VerifyContext]:
    context = VerifyContext(profile=Profile(load()), entries=files, shared={"samples": samples})
    dataset: Dataset = FolderDataset(Path("."))
    findings = [(f.code, f.path, f.subject) for f in cross_references.mk2ds_check_dataset(dataset, context)]
    return sorted(findings, key=lambda item: (item[0], item[1] or "")), context


def _complete(sample_id: str, *, pe: bool) -> dict[str, int]:
    size = 10 if pe else 0
    return {
        f"MK2Log/30m/{sample_id}.log": 100,
        f"impfuzzy/{sample_id}.txt": size,
        f"PEfile/{sample_id}.txt": size,
        f"Sysinfo/{sample_id}/systeminfo.txt": 50,
    }


def test_a_complete_dataset_has_no_findings_and_maps_files() -> None:
    files = {
        **_complete(PE, pe=True),
        **_complete(SCRIPT, pe=False),
        f"MK2Log/Verbose/{PE}.log": 5,
        f"Reports/{SCRIPT}.pdf": 5,
    }
    findings, context = _run(files, [_sample(PE, is_pe=True, verbose=True), _sample(SCRIPT, is_pe=False, report=True)])
    assert findings == []
    assert context.shared["sample_files"][PE]["verbose-log"] == [f"MK2Log/Verbose/{PE}.log"]
    assert context.shared["sample_files"][SCRIPT]["report"] == [f"Reports/{SCRIPT}.pdf"]


def test_missing_30m_log_and_flag_mismatches() -> None:
    files = _complete(PE, pe=True)
    del files[f"MK2Log/30m/{PE}.log"]
    files[f"Reports/{PE}.txt"] = 3
    findings, _ = _run(files, [_sample(PE, is_pe=True, verbose=True, report=False)])
    assert findings == [
        ("file-without-flag", f"Reports/{PE}.txt", PE),
        ("flag-without-file", "MK2Log/Verbose", PE),
        ("sample-artifact-missing", "MK2Log/30m", PE),
    ]


def test_emptiness_follows_pe_or_not() -> None:
    files = {**_complete(PE, pe=False), **_complete(SCRIPT, pe=True)}
    findings, _ = _run(files, [_sample(PE, is_pe=True), _sample(SCRIPT, is_pe=False)])
    assert findings == [
        ("non-pe-results-not-empty", f"PEfile/{SCRIPT}.txt", SCRIPT),
        ("non-pe-results-not-empty", f"impfuzzy/{SCRIPT}.txt", SCRIPT),
        ("pe-results-empty", f"PEfile/{PE}.txt", PE),
        ("pe-results-empty", f"impfuzzy/{PE}.txt", PE),
    ]


def test_unknown_pe_status_is_not_guessed() -> None:
    findings, _ = _run(_complete(PE, pe=False), [_sample(PE, is_pe=None)])
    assert findings == []


def test_empty_sysinfo_is_a_warning_and_unreferenced_files_are_reported() -> None:
    files = _complete(PE, pe=True)
    files[f"Sysinfo/{PE}/systeminfo.txt"] = 0
    files["impfuzzy/" + "9" * 64 + ".txt"] = 5
    files["MK2Log/30m/notes.txt"] = 5
    findings, _ = _run(files, [_sample(PE, is_pe=True)])
    assert findings == [
        ("artifact-empty-allowed", f"Sysinfo/{PE}/systeminfo.txt", PE),
        ("unreferenced-file", "MK2Log/30m/notes.txt", None),
        ("unreferenced-file", "impfuzzy/" + "9" * 64 + ".txt", None),
    ]


def test_matching_ignores_case_and_finds_md5_names() -> None:
    md5 = "ab" * 16
    sample = {**_sample(PE, is_pe=True), "md5": md5}
    files = _complete(PE, pe=True)
    files[f"MK2Log/30m/{md5.upper()}_30m.log"] = files.pop(f"MK2Log/30m/{PE}.log")
    findings, context = _run(files, [sample])
    assert findings == []
    assert context.shared["sample_files"][PE]["30m-log"] == [f"MK2Log/30m/{md5.upper()}_30m.log"]


def test_hash_inside_a_longer_hex_run_does_not_match() -> None:
    assert cross_references.hashes_in("x/" + "a" * 65 + ".log") == set()
    assert cross_references.hashes_in("x/" + "A" * 64 + "_v.log") == {"a" * 64}


def test_the_missing_artifact_message_keeps_its_closing_parenthesis() -> None:
    files = _complete(PE, pe=True)
    del files[f"MK2Log/30m/{PE}.log"]
    context = VerifyContext(profile=Profile(load()), entries=files, shared={"samples": [_sample(PE, is_pe=True)]})
    (finding,) = [
        f
        for f in cross_references.mk2ds_check_dataset(FolderDataset(Path(".")), context)
        if f.code == "sample-artifact-missing"
    ]
    assert finding.message == "no 30m-log file for this sample under MK2Log/30m/ (the sample's 30-minute log)"
