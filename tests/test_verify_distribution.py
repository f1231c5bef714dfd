"""End to end: `mk2ds verify` on the built-in sample distribution, and on copies with exactly one defect each.

Every defect must be found, named by code, path (and line), and attributed to its sample; nothing else may
change. The distribution is written once per session and copied per test.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from mk2ds.plugins.synthetic import SampleDistribution, write_sample


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> SampleDistribution:
    return write_sample(tmp_path_factory.mktemp("sample") / "SolitonDataset2018", samples=6, seed=7, events_per_log=150)


@pytest.fixture
def dataset(pristine: SampleDistribution, tmp_path: Path) -> Path:
    target = tmp_path / "SolitonDataset2018"
    shutil.copytree(pristine.root, target)
    return target


def _verify(run_cli: Callable[..., Any], path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("verify", path, "--format", "json", "--quiet", *extra)
    return result.code, json.loads(result.out)


def _codes(report: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(f["code"], f.get("path")) for f in report["findings"] if f["severity"] != "info"}


def _sample_with(pristine: SampleDistribution, extension: str) -> str:
    return next(spec for spec in pristine.samples if spec.extension == extension).sha256


def test_the_pristine_distribution_is_valid(run_cli: Callable[..., Any], pristine: SampleDistribution) -> None:
    code, report = _verify(run_cli, pristine.root)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert code == 0 and errors == []
    assert len(report["samples"]) == 6
    assert report["stats"]["kinds"]["mk2log"] > 6
    # The one expected warning kind: a sample whose Sysinfo files are empty (malware blocked collection).
    assert {f["code"] for f in report["findings"] if f["severity"] == "warning"} <= {"artifact-empty-allowed"}


def test_missing_30m_log(run_cli: Callable[..., Any], pristine: SampleDistribution, dataset: Path) -> None:
    victim = _sample_with(pristine, "exe")
    log = next((dataset / "MK2Log" / "30m").glob(f"{victim}*"))
    log.unlink()
    code, report = _verify(run_cli, dataset)
    assert code == 1
    assert ("sample-artifact-missing", "MK2Log/30m") in _codes(report)
    assert any(f["subject"] == victim for f in report["findings"] if f["code"] == "sample-artifact-missing")


def test_a_broken_log_line_is_found_with_its_line_number(
    run_cli: Callable[..., Any], pristine: SampleDistribution, dataset: Path
) -> None:
    victim = _sample_with(pristine, "exe")
    log = next((dataset / "MK2Log" / "30m").glob(f"{victim}*"))
    lines = log.read_bytes().split(b"\n")
    ending = b"\r" if lines[9].endswith(b"\r") else b""
    lines[9] = lines[9].rstrip(b"\r") + b' cmd="unterminated quote' + ending
    log.write_bytes(b"\n".join(lines))
    (dataset / "SHA256SUMS").unlink()  # only the log defect, not the checksum one
    code, report = _verify(run_cli, dataset)
    broken = [f for f in report["findings"] if f["code"] == "log-unparseable"]
    assert code == 1
    assert [(f["path"], f["line"], f["subject"]) for f in broken] == [(f"MK2Log/30m/{log.name}", 10, victim)]


def test_tampered_file_breaks_fixity(run_cli: Callable[..., Any], dataset: Path) -> None:
    readme = dataset / "README.txt"
    readme.write_bytes(readme.read_bytes() + b"\n")
    code, report = _verify(run_cli, dataset)
    assert code == 1 and _codes(report) >= {("checksum-mismatch", "README.txt")}


def test_non_pe_sample_with_pefile_results(
    run_cli: Callable[..., Any], pristine: SampleDistribution, dataset: Path
) -> None:
    script = _sample_with(pristine, "js")
    result = next((dataset / "PEfile").glob(f"{script}*"))
    result.write_text("----------DOS_HEADER----------\n", encoding="utf-8")
    (dataset / "SHA256SUMS").unlink()
    code, report = _verify(run_cli, dataset)
    assert code == 1
    assert ("non-pe-results-not-empty", f"PEfile/{result.name}") in _codes(report)


def test_list_xlsx_with_a_malformed_and_a_duplicate_hash(run_cli: Callable[..., Any], dataset: Path) -> None:
    path = dataset / "List.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    header_row = next(row for row in sheet.iter_rows() if any(str(cell.value).upper() == "SHA256" for cell in row))
    column = next(cell.column for cell in header_row if str(cell.value).upper() == "SHA256")
    first = header_row[0].row + 1
    sheet.cell(first + 1, column).value = sheet.cell(first, column).value
    sheet.cell(first + 2, column).value = "not-a-hash"
    workbook.save(path)
    (dataset / "SHA256SUMS").unlink()
    code, report = _verify(run_cli, dataset)
    lines = {(f["code"], f.get("line")) for f in report["findings"]}
    assert code == 1
    assert ("list-duplicate-hash", first + 1) in lines and ("list-bad-hash", first + 2) in lines


def test_zip_and_folder_give_the_same_findings(
    run_cli: Callable[..., Any], pristine: SampleDistribution, tmp_path: Path
) -> None:
    archive = tmp_path / "dist.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(pristine.root.rglob("*")):
            handle.write(path, f"SolitonDataset2018/{path.relative_to(pristine.root)}")
    _, folder_report = _verify(run_cli, pristine.root)
    code, zip_report = _verify(run_cli, archive)
    assert code == 0
    assert zip_report["findings"] == folder_report["findings"]
    assert zip_report["samples"] == folder_report["samples"]


def test_two_processes_report_exactly_what_one_does(run_cli: Callable[..., Any], pristine: SampleDistribution) -> None:
    _, one = _verify(run_cli, pristine.root, "-j", "1")
    _, two = _verify(run_cli, pristine.root, "-j", "2")
    for report in (one, two):
        report["stats"].pop("seconds")
        report["stats"].pop("jobs")
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


def test_verify_leaves_a_read_only_dataset_untouched(
    run_cli: Callable[..., Any], dataset: Path, read_only: Any
) -> None:
    before = {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in dataset.rglob("*")}
    with read_only(dataset):
        code, _ = _verify(run_cli, dataset, "-j", "2")
    assert code == 0
    assert {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in dataset.rglob("*")} == before


@pytest.mark.parametrize("level", ["structure", "fast"])
def test_cheaper_levels_do_not_read_logs(run_cli: Callable[..., Any], pristine: SampleDistribution, level: str) -> None:
    code, report = _verify(run_cli, pristine.root, "--level", level)
    assert code == 0 and report["target"]["level"] == level
    assert not any(key.endswith(".records") for sample in report["samples"] for key in sample["facts"])
