"""Blocking a plugin never makes a verification look cleaner than it is.

The sample distribution gets one planted defect in the domain of every plugin that takes part in
``verify`` (layout, sample list, cross-references, logs and their reader, process trees, Sysinfo, PE
results, fixity). Then every built-in plugin that can be blocked is blocked in turn: each finding code of
the unblocked run must either still be reported, or the report must say that the blocked plugin's part
did not run (``check-blocked`` naming it, or ``check-not-run`` naming it as the provider of what a check
needed). A run that found errors must not pass once a plugin is blocked.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from mk2ds.core.cli import main
from mk2ds.core.pluginmanager import BUILTIN_PLUGINS, BUILTIN_PREFIX, ESSENTIAL_PLUGINS
from mk2ds.plugins.synthetic import SampleDistribution, write_sample

BLOCKABLE = sorted(
    name.removeprefix(BUILTIN_PREFIX)
    for name in BUILTIN_PLUGINS
    if name.removeprefix(BUILTIN_PREFIX) not in ESSENTIAL_PLUGINS
)

#: The planted defect of each plugin's domain, by the code it is reported with.
PLANTED = {
    "checks.layout": "missing-required",
    "checks.sample_list": "list-bad-hash",
    "checks.cross_references": "sample-artifact-missing",
    "reader": "log-unparseable",
    "tree.model": "log-parent-not-started",
    "checks.sysinfo": "sysinfo-unrecognized",
    "pe.checks": "impfuzzy-mismatch",
    "bagit.fixity": "checksum-mismatch",
}


def _plant(root: Path, distribution: SampleDistribution) -> None:
    pe_samples = [spec.sha256 for spec in distribution.samples if spec.extension == "exe"]
    (root / "Format" / "MK2LogFormat.txt").unlink()
    shutil.rmtree(root / "Format")
    workbook = openpyxl.load_workbook(root / "List.xlsx")
    sheet = workbook.worksheets[0]
    header = next(row for row in sheet.iter_rows() if any(str(cell.value).upper() == "SHA256" for cell in row))
    column = next(cell.column for cell in header if str(cell.value).upper() == "MD5")
    sheet.cell(header[0].row + 1, column).value = "not-a-hash"
    workbook.save(root / "List.xlsx")
    next((root / "MK2Log" / "30m").glob(f"{pe_samples[0]}*")).unlink()
    log = next((root / "MK2Log" / "30m").glob(f"{pe_samples[1]}*"))
    lines = log.read_bytes().split(b"\n")
    lines[9] = lines[9].rstrip(b"\r") + b' cmd="unterminated quote\r'
    log.write_bytes(b"\n".join(lines))
    sysinfo = next(path for path in sorted((root / "Sysinfo").rglob("*.txt")) if path.stat().st_size)
    sysinfo.write_text("nothing a Windows tool would print\n", encoding="utf-8")
    (next((root / "impfuzzy").glob(f"{pe_samples[2]}*"))).write_text("3:abcdefgh:ij\n", encoding="utf-8")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    distribution = write_sample(
        tmp_path_factory.mktemp("blocking") / "SolitonDataset2018", samples=6, seed=11, events_per_log=120
    )
    _plant(distribution.root, distribution)
    return distribution.root


def _verify(run_cli: Callable[..., Any], root: Path, *blocked: str) -> tuple[int, list[dict[str, Any]], str]:
    flags = [f"-p=no:{name}" for name in blocked]
    try:
        result = run_cli(*flags, "verify", root, "--samples", root / "samples", "--format", "json", "--quiet")
    except SystemExit as stop:  # argparse: an option of the blocked plugin is unknown now
        return int(stop.code or 0), [], "unrecognized arguments: --samples"
    findings = json.loads(result.out)["findings"] if result.out else []
    return result.code, findings, result.err


@pytest.fixture(scope="module")
def baseline(planted: Path) -> tuple[int, set[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["verify", str(planted), "--samples", str(planted / "samples"), "--format", "json", "--quiet"])
    return code, {finding["code"] for finding in json.loads(out.getvalue())["findings"]}


def test_every_planted_defect_is_found_with_nothing_blocked(baseline: tuple[int, set[str]]) -> None:
    code, codes = baseline
    assert code == 1
    assert set(PLANTED.values()) <= codes
    assert not codes & {"check-not-run", "check-blocked", "plugin-error"}


def _names_plugin(finding: dict[str, Any], plugin: str) -> bool:
    details = finding.get("details") or {}
    return (finding["code"] == "check-blocked" and details.get("plugin") == plugin) or (
        finding["code"] == "check-not-run" and details.get("provider") == plugin
    )


@pytest.mark.parametrize("plugin", BLOCKABLE)
def test_blocking_a_plugin_reports_its_defect_or_that_it_did_not_run(
    run_cli: Callable[..., Any], planted: Path, baseline: tuple[int, set[str]], plugin: str
) -> None:
    code, findings, err = _verify(run_cli, planted, plugin)
    if code == 2:  # the run cannot start at all, and the message says why
        assert (plugin, plugin == "checks.profile" and "no profile named 'soliton-2018'" in err) in (
            ("checks.profile", True),
            ("pe.checks", False),  # --samples is pe.checks' option
        ), err
        assert plugin != "pe.checks" or "--samples" in err
        return
    assert code in (1, 3), err  # errors were found without blocking: a blocked run never passes
    codes = {finding["code"] for finding in findings}
    lost = baseline[1] - codes
    said = [finding for finding in findings if _names_plugin(finding, plugin)]
    assert not lost or said, f"blocking {plugin} silently lost {sorted(lost)}"
    if plugin in PLANTED:
        assert PLANTED[plugin] in codes or said


#: Each service a check depends on: the check's finding when the provider is not there at all (not even
#: blocked: not installed), as ``(code, what its details name as needed)``.
DEPENDENCIES = {
    "pe": ("check-not-run", "mk2ds_recompute_pe"),
    "tree.model": ("check-not-run", "mk2ds_build_process_tree"),
    "checks.classifier": ("check-not-run", "mk2ds_classify_entry"),
    "checks.sample_list": ("check-not-run", "the rows of List.xlsx (shared data 'samples')"),
    "reader": ("log-no-reader", None),
}


@pytest.mark.parametrize("provider", sorted(DEPENDENCIES))
def test_a_missing_provider_is_reported_by_the_check_that_needs_it(planted: Path, provider: str) -> None:
    from mk2ds.core import get_plugin_manager, verify
    from mk2ds.core.registry import find_profile

    pm = get_plugin_manager(
        load_entrypoints=False, builtins=[name for name in BUILTIN_PLUGINS if name != BUILTIN_PREFIX + provider]
    )
    options = argparse.Namespace(samples=str(planted / "samples"))
    report = verify(str(planted), pm, find_profile(pm, "soliton-2018"), options=options, show_progress=False)
    code, needs = DEPENDENCIES[provider]
    found = [finding for finding in report.findings if finding.code == code]
    assert found, f"without {provider}, nothing says what was not checked"
    assert not any(finding.code == "check-blocked" for finding in report.findings)
    if needs:
        assert {finding.details["needs"] for finding in found} == {needs}
        assert all(finding.details["provider"] == provider for finding in found)
    if provider == "pe":
        assert report.facts["dataset"].get("samples-checked") is None  # never "checked" when they were not
