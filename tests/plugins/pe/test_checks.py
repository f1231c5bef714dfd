"""``verify --samples``: recomputed impfuzzy/PEfile results against the shipped ones, sample by sample."""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pefile
import pluggy
import pytest
import pyzipper

from mk2ds.core import Fact, Finding, Profile, VerifyContext
from mk2ds.core.dataset import FolderDataset
from mk2ds.core.registry import find_profile
from mk2ds.plugins.pe import checks as pe_checks
from mk2ds.plugins.pe import impfuzzy
from mk2ds.plugins.pe.impfuzzy import deterministic_bytes, impfuzzy_of_bytes
from mk2ds.plugins.synthetic.pe_builder import Section, build_pe

SCRIPT = b"WScript.Echo('not a PE');\n"


def pe_sample(index: int, **kwargs: Any) -> bytes:
    return build_pe(
        imports=kwargs.pop("imports", [("KERNEL32.dll", ["GetProcAddress", f"Function{index}"])]),
        timestamp=0x5A000000 + index,
        **kwargs,
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class World:
    """A dataset folder (impfuzzy/, PEfile/) plus a samples folder, and the shared data sample_list leaves."""

    def __init__(self, root: Path) -> None:
        self.dataset = root / "dataset"
        self.samples_dir = root / "samples"
        for folder in (self.dataset / "impfuzzy", self.dataset / "PEfile", self.samples_dir):
            folder.mkdir(parents=True)
        self.samples: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, list[str]]] = {}

    def add(
        self,
        data: bytes,
        *,
        extension: str = "exe",
        is_pe: bool | None = True,
        impfuzzy_text: str | None = None,
        dump: str | None = None,
        provide: bool = True,
    ) -> str:
        sample_id = sha256(data)
        self.samples.append(
            {
                "id": sample_id,
                "sha256": sample_id,
                "sha1": None,
                "md5": None,
                "extension": extension,
                "is_pe": is_pe,
                "flags": {},
                "row": len(self.samples) + 2,
                "columns": {},
            }
        )
        if impfuzzy_text is None:
            impfuzzy_text = f"{impfuzzy_of_bytes(data)[0]}\n" if data.startswith(b"MZ") else ""
        if dump is None:
            dump = pefile.PE(data=data).dump_info() if data.startswith(b"MZ") else ""
        (self.dataset / "impfuzzy" / f"{sample_id}.txt").write_text(impfuzzy_text, encoding="utf-8")
        (self.dataset / "PEfile" / f"{sample_id}.txt").write_text(dump, encoding="utf-8")
        self.files[sample_id] = {"impfuzzy": [f"impfuzzy/{sample_id}.txt"], "pefile": [f"PEfile/{sample_id}.txt"]}
        if provide:
            (self.samples_dir / f"{sample_id}.bin").write_bytes(data)
        return sample_id

    def context(
        self, pm: pluggy.PluginManager, profile: Profile, level: str = "full", *, shared: bool = True, **options: Any
    ) -> VerifyContext:
        namespace = argparse.Namespace(
            samples=str(self.samples_dir),
            sample_password="infected",
            pe_timeout=20.0,
            pe_memory=512,
            pe_max_size=256,
            jobs=1,
        )
        for key, value in options.items():
            setattr(namespace, key, value)
        context = VerifyContext(profile=profile, level=level, options=namespace, pm=pm)
        for path in sorted(self.dataset.rglob("*")):
            if path.is_file():
                context.entries[path.relative_to(self.dataset).as_posix()] = path.stat().st_size
        if shared:
            context.shared["samples"] = self.samples
            context.shared["sample_files"] = self.files
        return context

    def check(self, pm: pluggy.PluginManager, profile: Profile, **kwargs: Any) -> tuple[list[Finding], list[Fact]]:
        items = list(pe_checks.mk2ds_check_dataset(FolderDataset(self.dataset), self.context(pm, profile, **kwargs)))
        return [item for item in items if isinstance(item, Finding)], [item for item in items if isinstance(item, Fact)]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def profile(pm: pluggy.PluginManager) -> Profile:
    return find_profile(pm, "soliton-2018")


def codes(findings: list[Finding]) -> list[tuple[str, str | None]]:
    return sorted((finding.code, finding.subject) for finding in findings)


def test_correct_results_give_no_finding(world: World, pm: pluggy.PluginManager, profile: Profile) -> None:
    first = world.add(pe_sample(1))
    second = world.add(pe_sample(2, machine="amd64"))
    script = world.add(SCRIPT, extension="js", is_pe=False)
    findings, facts = world.check(pm, profile)
    assert findings == []
    by_key = {(fact.subject, fact.key): fact.value for fact in facts}
    assert by_key[(first, "pefile-comparison")] == by_key[(second, "pefile-comparison")] == "identical"
    assert by_key[(script, "pe-status")] == "not-pe"
    assert by_key[(None, "samples-checked")] == 3
    assert by_key[(None, "pe-tools")]["pefile"] == pefile.__version__
    assert by_key[(None, "pe-tools")]["ssdeep"]["self_test"] == "passed"


def test_impfuzzy_mismatch_drift_and_unparseable(world: World, pm: pluggy.PluginManager, profile: Profile) -> None:
    wrong = world.add(pe_sample(1), impfuzzy_text="impfuzzy,3:abcdefgh:ij\n")
    wsock = pe_sample(2, imports=[("WSOCK32.dll", [10, 11, 12])])
    legacy = impfuzzy.fuzzy_hash(impfuzzy.import_string(pefile.PE(data=wsock), legacy_wsock32=True))
    drifted = world.add(wsock, impfuzzy_text=f"{sha256(wsock)}  {legacy}\n")
    garbage = world.add(pe_sample(3), impfuzzy_text="nothing useful here\n")
    findings, _ = world.check(pm, profile, level="fast")
    assert codes(findings) == sorted(
        [("impfuzzy-mismatch", wrong), ("impfuzzy-drift", drifted), ("results-unparseable", garbage)]
    )
    mismatch = next(finding for finding in findings if finding.code == "impfuzzy-mismatch")
    assert mismatch.path == f"impfuzzy/{wrong}.txt"
    assert mismatch.details["import_string"] == "kernel32.getprocaddress,kernel32.function1"
    assert mismatch.details["shipped"] == ["3:abcdefgh:ij"]


def test_pefile_drift_and_mismatch(world: World, pm: pluggy.PluginManager, profile: Profile) -> None:
    data = pe_sample(1, machine="amd64")
    current = pefile.PE(data=data).dump_info()
    older = current.replace("SizeOfStackCommit", "StackCommitOld")  # a field pefile renamed
    drift = world.add(data, dump=older)
    other = pe_sample(2)
    tampered = pefile.PE(data=other).dump_info().replace("0x5A000002", "0x5A0000FF")
    mismatch = world.add(other, dump=tampered)
    unparseable = world.add(pe_sample(3), dump="PE32 executable (GUI) Intel 80386, for MS Windows\n")
    findings, _ = world.check(pm, profile)
    assert codes(findings) == sorted(
        [("pefile-drift", drift), ("pefile-mismatch", mismatch), ("results-unparseable", unparseable)]
    )
    details = next(finding for finding in findings if finding.code == "pefile-mismatch").details
    assert details["verdict"] == "mismatch" and "FILE_HEADER" in details["mismatch_blocks"]
    # the fast level compares impfuzzy only
    assert world.check(pm, profile, level="fast")[0] == []
    findings, facts = world.check(pm, profile, level="structure")
    assert findings == [] and [(fact.key, fact.value) for fact in facts] == [
        (
            "not-run:pe.checks",
            "level structure: the shipped impfuzzy/PEfile results are not recomputed from the samples",
        )
    ]


def test_content_decides_pe_or_not(world: World, pm: pluggy.PluginManager, profile: Profile) -> None:
    results_for_script = world.add(SCRIPT, extension="dat", is_pe=None, impfuzzy_text="3:abc:def\n")
    empty_for_pe = world.add(pe_sample(1), extension="bin", is_pe=None, impfuzzy_text="")
    misnamed = world.add(SCRIPT + b" ", extension="exe", is_pe=True)
    findings, _ = world.check(pm, profile, level="fast")
    assert codes(findings) == sorted(
        [
            ("pe-not-pe-but-results", results_for_script),
            ("pe-missing-results", empty_for_pe),
            ("pe-extension-mismatch", misnamed),
        ]
    )


def test_sample_matching_problems(world: World, pm: pluggy.PluginManager, profile: Profile) -> None:
    present = world.add(pe_sample(1))
    missing = world.add(pe_sample(2), provide=False)
    named_wrongly = world.add(pe_sample(3), provide=False)
    (world.samples_dir / f"{named_wrongly}.exe").write_bytes(b"MZ something else")
    (world.samples_dir / "unlisted.exe").write_bytes(pe_sample(99))
    with pyzipper.AESZipFile(world.samples_dir / "again.zip", "w", encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(b"infected")
        archive.writestr("copy.exe", pe_sample(1))
    with pyzipper.AESZipFile(world.samples_dir / "locked.zip", "w", encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(b"other")
        archive.writestr(f"{missing}.exe", pe_sample(2))
    findings, facts = world.check(pm, profile, level="fast")
    assert codes(findings) == sorted(
        [
            ("sample-duplicate", present),
            ("sample-name-mismatch", named_wrongly),
            ("sample-not-in-list", None),
            ("sample-unreadable", missing),
            ("samples-not-provided", None),
        ]
    )
    not_provided = next(finding for finding in findings if finding.code == "samples-not-provided")
    assert not_provided.details["samples"] == sorted([missing, named_wrongly])
    assert next(fact.value for fact in facts if fact.key == "samples-checked") == 1


def test_hostile_sample_is_a_finding_for_that_sample(world: World, pm: pluggy.PluginManager, profile: Profile) -> None:
    blob = Section(".blob", deterministic_bytes("blob", 1 << 20))
    hostile = build_pe(sections=[blob, *(Section(f".a{index}", b"", alias_of=".blob") for index in range(2000))])
    hostile_id = world.add(hostile, impfuzzy_text="3::\n", dump="x")
    fine = world.add(pe_sample(1))
    findings, facts = world.check(pm, profile, level="fast", pe_timeout=1.0)
    assert codes(findings) == [("pe-timeout", hostile_id)]
    assert (fine, "impfuzzy") in {(fact.subject, fact.key) for fact in facts}


def test_without_a_sample_list_results_are_matched_by_file_names(
    world: World, pm: pluggy.PluginManager, profile: Profile
) -> None:
    good = world.add(pe_sample(1))
    bad = world.add(pe_sample(2), impfuzzy_text="3:abcdefgh:ij\n")
    findings, _ = world.check(pm, profile, shared=False)
    assert codes(findings) == [("impfuzzy-mismatch", bad)]
    assert good != bad


def test_missing_samples_folder(world: World, pm: pluggy.PluginManager, profile: Profile) -> None:
    world.add(pe_sample(1))
    findings, _ = world.check(pm, profile, samples=str(world.samples_dir / "nope"))
    assert codes(findings) == [("sample-unreadable", None)]


def write_list(path: Path, rows: list[tuple[str, str]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["SHA256", "拡張子"])
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)


def test_verify_end_to_end(world: World, run_cli: Callable[..., Any], read_only: Callable[[Path], Any]) -> None:
    good = world.add(pe_sample(1))
    bad = world.add(pe_sample(2), impfuzzy_text="3:abcdefgh:ij\n")
    script = world.add(SCRIPT, extension="js", is_pe=False)
    write_list(world.dataset / "List.xlsx", [(good, "exe"), (bad, "exe"), (script, "js")])
    with read_only(world.dataset), read_only(world.samples_dir):
        result = run_cli(
            "verify",
            world.dataset,
            "--samples",
            world.samples_dir,
            "--format",
            "json",
            "--quiet",
            "--select",
            "impfuzzy-",
            "--select",
            "pefile-",
            "--select",
            "pe-",
            "--select",
            "sample",
        )
    report = json.loads(result.out)
    assert [(finding["code"], finding["subject"]) for finding in report["findings"]] == [("impfuzzy-mismatch", bad)]
    assert report["facts"]["pe-tools"]["ssdeep"]["implementation"] == "ppdeep"
    samples = {sample["id"]: sample for sample in report["samples"]}
    assert samples[good]["facts"]["pefile-comparison"] == "identical"
    assert samples[bad]["findings"]["error"] == 1
    assert result.code == 1
