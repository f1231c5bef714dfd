"""The built-in sample distribution (``mk2ds sample``, ``mk2ds demo``): reproducible, in the soliton-2018
layout, every artifact true to the samples it describes, and clean under ``mk2ds verify``.

Tests that need a broken dataset derive it from a fresh copy of the module's distribution (``fresh_copy``),
one defect each; that is the pattern other tests can follow with :func:`write_sample`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pefile
import pytest
import pyzipper

from mk2ds.plugins.checks.profile import load as load_profile
from mk2ds.plugins.pe.impfuzzy import impfuzzy_of_bytes
from mk2ds.plugins.reader import open_log
from mk2ds.plugins.synthetic import SampleDistribution, plan_samples, write_sample
from mk2ds.plugins.synthetic.artifacts import LIST_COLUMNS


def files_of(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleDistribution:
    return write_sample(tmp_path_factory.mktemp("sample") / "SolitonDataset2018", seed=0)


@pytest.fixture
def fresh_copy(sample: SampleDistribution, tmp_path: Path) -> Callable[[], Path]:
    def copy() -> Path:
        target = tmp_path / "copy"
        shutil.copytree(sample.root, target)
        return target

    return copy


def list_rows(root: Path) -> list[dict[str, Any]]:
    workbook = openpyxl.load_workbook(root / "List.xlsx", read_only=True)
    try:
        rows = list(workbook.active.iter_rows(values_only=True))
    finally:
        workbook.close()
    header_index = next(index for index, row in enumerate(rows) if row and row[0] == "No.")
    header = rows[header_index]
    return [
        dict(zip(header, row, strict=False))
        for row in rows[header_index + 1 :]
        if any(cell is not None for cell in row)
    ]


def members(zip_path: Path, password: bytes = b"infected") -> dict[str, bytes]:
    with pyzipper.AESZipFile(zip_path) as archive:
        archive.setpassword(password)
        return {name: archive.read(name) for name in archive.namelist()}


# --- reproducibility ---------------------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_samples(sample: SampleDistribution, tmp_path: Path) -> None:
    again = write_sample(tmp_path / "again", seed=0)
    assert files_of(again.root) == files_of(sample.root)
    other = write_sample(tmp_path / "other", seed=1)
    assert {spec.sha256 for spec in other.samples}.isdisjoint({spec.sha256 for spec in sample.samples})
    assert files_of(other.root)["List.xlsx"] != files_of(sample.root)["List.xlsx"]


def test_small_and_complete(sample: SampleDistribution) -> None:
    on_disk = files_of(sample.root)
    assert set(on_disk) == set(sample.files) and all(len(on_disk[path]) == size for path, size in sample.files.items())
    assert sum(sample.files.values()) < 5_000_000


# --- layout ------------------------------------------------------------------------------------------------------


def test_layout_matches_the_soliton_profile(sample: SampleDistribution) -> None:
    profile = load_profile()
    optional = [item for item in profile["optional"] if item["path"] in ("samples", "SHA256SUMS")]
    assert len(optional) == 2
    for item in [*profile["required"], *optional]:
        path = sample.root / item["path"]
        assert path.is_dir() if item["type"] == "folder" else path.is_file(), item["path"]
        if item["type"] == "file" and item.get("may_be_empty") is False:
            assert path.stat().st_size > 0
    for folder in ("OlympicDestroyer", "Petya", "WannaCry"):
        assert sorted(path.name for path in (sample.root / "MK2Log" / folder).iterdir()) == ["PC1.log", "PC2.log"]
    assert list((sample.root / "MK2Log" / "StoneDrill").iterdir()) and list(
        (sample.root / "MK2Log" / "Normal").iterdir()
    )
    assert "not redistributed" in (sample.root / "Tools" / "README.txt").read_text(encoding="utf-8")


def test_list_xlsx_describes_every_sample(sample: SampleDistribution) -> None:
    rows = list_rows(sample.root)
    assert tuple(rows[0]) == LIST_COLUMNS
    assert [row["No."] for row in rows] == list(range(1, len(sample.samples) + 1))
    for row, spec in zip(rows, sample.samples, strict=False):
        assert (row["SHA256"], row["MD5"], row["拡張子"]) == (spec.sha256, spec.md5, spec.extension)
        assert row["Verboseログ"] == ("○" if spec.verbose else None) and row["レポート"] == (
            "○" if spec.report else None
        )
        assert row["ウイルス対策ベンダーのラベル"] and str(row["参照URL"]).startswith("https://")
    families = {spec.family for spec in sample.samples}
    assert {"wannacry", "olympic", "script"} <= families and any(not spec.is_pe for spec in sample.samples)


def test_samples_are_zipped_with_the_password_and_their_hashes_are_true(sample: SampleDistribution) -> None:
    for spec in sample.samples:
        zip_path = sample.root / "samples" / f"{spec.sha256}.zip"
        content = members(zip_path)
        assert list(content) == [f"{spec.sha256}.{spec.extension}"]
        data = content[f"{spec.sha256}.{spec.extension}"]
        assert hashlib.sha256(data).hexdigest() == spec.sha256 and hashlib.md5(data).hexdigest() == spec.md5
        assert data.startswith(b"MZ") == (spec.extension in ("exe", "dll"))
        with pytest.raises(RuntimeError):
            members(zip_path, b"wrong")


def test_pe_results_are_recomputable_and_empty_for_the_script(sample: SampleDistribution) -> None:
    for spec in sample.samples:
        impfuzzy = (sample.root / "impfuzzy" / f"{spec.sha256}.txt").read_bytes()
        dump = (sample.root / "PEfile" / f"{spec.sha256}.txt").read_bytes()
        if not spec.is_pe:
            assert impfuzzy == b"" and dump == b""
            continue
        assert impfuzzy.decode("ascii").strip() == impfuzzy_of_bytes(spec.data)[0]
        assert dump.decode("utf-8") == pefile.PE(data=spec.data).dump_info()
        assert "Imported symbols" in dump.decode("utf-8")


def test_sysinfo_is_cp932_with_crlf_and_one_sample_was_blocked(sample: SampleDistribution) -> None:
    blocked = []
    for spec in sample.samples:
        folder = sample.root / "Sysinfo" / spec.sha256
        systeminfo, w32tm = (folder / "systeminfo.txt").read_bytes(), (folder / "w32tm.txt").read_bytes()
        if spec.sysinfo_blocked:
            assert systeminfo == w32tm == b""
            blocked.append(spec)
            continue
        text = systeminfo.decode("cp932")
        assert "ホスト名:" in text and spec.host in text and "(UTC+09:00)" in text
        assert systeminfo.count(b"\r\n") == systeminfo.count(b"\n")
        assert "を追跡しています" in w32tm.decode("cp932") and " o:" in w32tm.decode("cp932")
    assert len(blocked) == 1


def test_verbose_logs_and_reports_exist_exactly_for_flagged_samples(sample: SampleDistribution) -> None:
    verbose = {path.stem for path in (sample.root / "MK2Log" / "Verbose").iterdir()}
    reports = {path.stem for path in (sample.root / "Reports").iterdir()}
    assert verbose == {spec.sha256 for spec in sample.samples if spec.verbose} != set()
    assert reports == {spec.sha256 for spec in sample.samples if spec.report} != set()
    wannacry = next(spec for spec in sample.samples if spec.family == "wannacry")
    report = (sample.root / "Reports" / f"{wannacry.sha256}.txt").read_text(encoding="utf-8")
    assert "tasksche.exe" in report and "mssecsvc2.0" in report and "sn=" in report


def test_logs_read_cleanly_name_their_sample_and_span_their_window(sample: SampleDistribution) -> None:
    for path in sorted((sample.root / "MK2Log").rglob("*.log")):
        data = path.read_bytes()
        reader = open_log(
            io.BytesIO(data), path.name, argparse.Namespace(sysinfo_offset="+09:00")
        )  # the PCs' time zone
        records = list(reader)
        assert records and reader.stats["rejected"] == 0 and reader.findings == [], path
        span = (_time(records[-1]) - _time(records[0])).total_seconds() / 60
        assert (110 < span <= 120) if path.parent.name == "OlympicDestroyer" else (25 < span <= 30), (path, span)
        if path.parent.name in ("30m", "Verbose"):
            assert f"D:\\{path.stem}.".encode() in data
    olympic = next(spec for spec in sample.samples if spec.family == "olympic")
    first = (sample.root / "MK2Log" / "30m" / f"{olympic.sha256}.log").read_bytes()[:30]
    assert first[23:24] == b" " and first[24:25] == b"s", "the Olympic run has zone-less headers, as in the slides"


def _time(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["time"][:23])


def test_sha256sums_covers_every_other_file(sample: SampleDistribution) -> None:
    manifest = (sample.root / "SHA256SUMS").read_bytes()
    assert b"\r" not in manifest and manifest.endswith(b"\n")
    entries = [line.split("  ", 1) for line in manifest.decode("utf-8").splitlines()]
    paths = [path for _, path in entries]
    assert paths == sorted(paths) and set(paths) == set(files_of(sample.root)) - {"SHA256SUMS"}
    for digest, path in entries:
        assert hashlib.sha256((sample.root / path).read_bytes()).hexdigest() == digest


def test_plan_needs_the_three_kinds_of_sample() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        plan_samples(2, seed=0)
    larger = plan_samples(9, seed=0)
    assert len({spec.sha256 for spec in larger}) == 9 and [spec.extension for spec in larger[6:]] == [
        "exe",
        "vbs",
        "exe",
    ]


def test_log_size_can_be_scaled_for_benchmarks(tmp_path: Path) -> None:
    small = write_sample(tmp_path / "small", samples=3, seed=2, events_per_log=60)
    large = write_sample(tmp_path / "large", samples=3, seed=2, log_bytes=200_000)
    for spec in small.samples:
        name = f"MK2Log/30m/{spec.sha256}.log"
        assert small.files[name] < 60_000 and 150_000 < large.files[name] < 260_000


# --- verification and the commands ---------------------------------------------------------------------------------


def test_verify_finds_nothing_but_the_blocked_sysinfo(
    sample: SampleDistribution, run_cli: Callable[..., Any], read_only: Callable[[Path], Any]
) -> None:
    with read_only(sample.root):
        result = run_cli("verify", sample.root, "--samples", sample.root / "samples", "--format", "json", "--quiet")
    report = json.loads(result.out)
    assert result.code == 0, result.out[-2000:]
    blocked = next(spec for spec in sample.samples if spec.sysinfo_blocked)
    problems = {
        (finding["code"], finding.get("subject")) for finding in report["findings"] if finding["severity"] != "info"
    }
    # The sample's Petya-like run logs the spreader's ps/stop 0.108 s before its ps/start, like the real data.
    stops = [finding for finding in report["findings"] if finding["code"] == "log-stop-before-start"]
    assert (
        len(stops) == 1
        and stops[0]["details"]["processes"][0]["lifetime"] == -0.108
        and "dllhost.dat" in stops[0]["message"]
    )
    assert problems == {("artifact-empty-allowed", blocked.sha256), ("log-stop-before-start", stops[0]["subject"])}
    # Info only: processes started before recording began have no parent start in a 30-minute log; a log
    # that mixes zoned and zone-less headers, all resolved to the Sysinfo time zone +09:00.
    infos = {finding["code"] for finding in report["findings"] if finding["severity"] == "info"}
    assert infos <= {"log-parent-not-started", "log-time-zones-mixed"}
    mixed = [finding for finding in report["findings"] if finding["code"] == "log-time-zones-mixed"]
    assert mixed and all("all resolved to +09:00" in finding["message"] for finding in mixed)


def test_a_derived_bad_dataset_fails(fresh_copy: Callable[[], Path], run_cli: Callable[..., Any]) -> None:
    root = fresh_copy()
    victim = min((root / "MK2Log" / "30m").iterdir())
    victim.unlink()
    result = run_cli("verify", root, "--format", "json", "--quiet")
    missing = [
        finding for finding in json.loads(result.out)["findings"] if finding["code"] == "sample-artifact-missing"
    ]
    assert result.code == 1 and [finding.get("subject") for finding in missing] == [victim.stem]


def test_sample_command(tmp_path: Path, run_cli: Callable[..., Any], sample: SampleDistribution) -> None:
    result = run_cli("sample", tmp_path / "out", "--samples", "4", "--seed", "0")
    assert result.code == 0 and "4 samples" in result.out
    assert (
        files_of(tmp_path / "out")["MK2Log/30m/" + sample.samples[0].sha256 + ".log"]
        == files_of(sample.root)["MK2Log/30m/" + sample.samples[0].sha256 + ".log"]
    )
    again = run_cli("sample", tmp_path / "out")
    assert again.code == 2 and "out: exists and is not an empty folder" in again.err
    too_few = run_cli("sample", tmp_path / "few", "--samples", "2")
    assert too_few.code == 2 and "at least 3" in too_few.err and not (tmp_path / "few").exists()


def test_demo_verifies_a_fresh_sample(run_cli: Callable[..., Any]) -> None:
    result = run_cli("demo", "--quiet", "--color", "never", "--facts")
    assert (
        result.code == 0 and "OK: 0 errors, 3 warnings" in result.out and "impfuzzy=" in result.out
    )  # 3rd: the stop before its start
    kept = run_cli("demo", "--keep", "--format", "json", "--quiet")
    report = json.loads(kept.out)
    folder = Path(kept.err.strip().splitlines()[-1].split("kept ", 1)[1])
    try:
        assert kept.code == 0 and report["valid"] and report["stats"]["files"] == len(files_of(folder))
    finally:
        shutil.rmtree(folder.parent)


def test_sample_into_a_folder_that_cannot_be_made_is_a_usage_error(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = run_cli("sample", blocker / "sub" / "ds")
    assert result.code == 2
    assert result.err.startswith("mk2ds: error: cannot write ")
