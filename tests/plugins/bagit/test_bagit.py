from __future__ import annotations

import hashlib
import json
import os
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bagit
import openpyxl
import pytest

from mk2ds.core.schemas import validate_document
from mk2ds.plugins.bagit import writer as bag_writer
from mk2ds.plugins.bagit.hashing import FolderSource
from mk2ds.plugins.bagit.manifests import parse_bagit_manifest, parse_sums
from mk2ds.plugins.bagit.writer import BagPlan, PackError, write_bag_folder, write_bag_zip

PROFILE = Path(__file__).parents[2] / "data" / "pack" / "tiny.profile.json"
Run = Callable[..., Any]


def make_tree(root: Path) -> dict[str, bytes]:
    contents = {
        "README.txt": b"a tiny distribution\n",
        "logs/a.log": b"line 1\nline 2\n" * 100,
        "logs/b.log": bytes(range(256)) * 40,
        "logs/deep/c.log": b"c\n",
    }
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "empty").mkdir()
    return contents


def snapshot(root: Path) -> dict[str, tuple[bytes, float] | None]:
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime) if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def pack(run_cli: Run, src: Path, out: Path, *extra: str) -> Any:
    return run_cli("pack", src, out, "--profile", PROFILE, "--date", "2024-05-01", "--quiet", *extra)


def info(bag: Path) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines())


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    make_tree(root)
    return root


def test_pack_writes_a_bag_that_bagit_python_validates(src: Path, tmp_path: Path, run_cli: Run, read_only: Any) -> None:
    before = snapshot(src)
    out = tmp_path / "release"
    with read_only(src):
        result = pack(
            run_cli, src, out, "--info", "Contact-Name=Jane Doe", "--info", "External-Identifier=soliton-2018-subset"
        )
    assert result.code == 0, result.err
    assert snapshot(src) == before  # SRC is never moved or modified
    bag = bagit.Bag(str(out))
    assert bag.validate(processes=2)
    assert bag.version_info == (1, 0) and bag.algorithms == ["sha256"]
    assert sorted(bag.payload_entries()) == [
        "data/README.txt",
        "data/logs/a.log",
        "data/logs/b.log",
        "data/logs/deep/c.log",
    ]
    fields = info(out)
    assert fields["Bag-Software-Agent"].startswith("mk2ds ")
    assert fields["Bagging-Date"] == "2024-05-01"
    assert fields["MK2DS-Profile"] == "tiny"
    assert fields["Contact-Name"] == "Jane Doe" and fields["External-Identifier"] == "soliton-2018-subset"
    sizes = [path.stat().st_size for path in src.rglob("*") if path.is_file()]
    assert fields["Payload-Oxum"] == f"{sum(sizes)}.{len(sizes)}"
    assert (out / "data/empty").is_dir()  # empty folders survive (profiles may require them)
    assert not list(tmp_path.glob(".release.*"))  # no temporary left behind
    assert run_cli("verify", out, "--profile", PROFILE).code == 0


def test_sha512_adds_payload_and_tag_manifests(src: Path, tmp_path: Path, run_cli: Run) -> None:
    out = tmp_path / "bag"
    assert pack(run_cli, src, out, "--sha512", "-j", "2").code == 0
    bag = bagit.Bag(str(out))
    assert sorted(bag.algorithms) == ["sha256", "sha512"]
    assert bag.validate()
    tags = parse_bagit_manifest((out / "tagmanifest-sha512.txt").read_bytes(), "tagmanifest-sha512.txt", "sha512")
    assert [entry.path for entry in tags.entries] == [
        "bag-info.txt",
        "bagit.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
    ]


def test_zip_bag_has_one_top_folder_and_validates(src: Path, tmp_path: Path, run_cli: Run) -> None:
    out = tmp_path / "release.zip"
    result = pack(run_cli, src, out, "--zip")
    assert result.code == 0, result.err
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert {name.split("/", 1)[0] for name in names} == {"release"}
        assert all(info.date_time == (2024, 5, 1, 0, 0, 0) for info in archive.infolist())
        archive.extractall(tmp_path / "unzipped")
    assert bagit.Bag(str(tmp_path / "unzipped/release")).validate()
    assert run_cli("verify", out, "--profile", PROFILE).code == 0


@pytest.mark.parametrize("extra", [("--zip",), ()])
def test_same_input_gives_byte_identical_output(
    src: Path, tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch, extra: tuple[str, ...]
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, second = tmp_path / "one" / "bag.zip", tmp_path / "two" / "bag.zip"
    assert run_cli("pack", src, first, "--profile", PROFILE, "--quiet", *extra).code == 0
    os.utime(src / "logs/a.log", (1_000_000_000, 1_000_000_000))  # times do not matter
    assert run_cli("pack", src, second, "--profile", PROFILE, "--quiet", "-j", "2", *extra).code == 0
    if extra:
        assert first.read_bytes() == second.read_bytes()
    else:
        for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"):
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert info(first)["Bagging-Date"] == "2023-11-14"
        manifest = (first / "manifest-sha256.txt").read_bytes()
        assert b"\r" not in manifest and manifest.decode().splitlines() == sorted(
            manifest.decode().splitlines(), key=lambda line: line.split("  ", 1)[1]
        )


def test_refuses_to_overwrite(src: Path, tmp_path: Path, run_cli: Run) -> None:
    out = tmp_path / "exists"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = pack(run_cli, src, out)
    assert result.code == 2 and "already exists" in result.err
    assert [path.name for path in out.iterdir()] == ["keep.txt"]


def test_refuses_on_verify_errors_and_says_why_unless_forced(src: Path, tmp_path: Path, run_cli: Run) -> None:
    (src / "README.txt").unlink()
    out = tmp_path / "bag"
    result = pack(run_cli, src, out)
    assert result.code == 1
    assert "missing-required" in result.err and "README.txt" in result.err and "--force" in result.err
    assert not out.exists() and not list(tmp_path.glob(".bag.*"))
    forced = pack(run_cli, src, out, "--force")
    assert forced.code == 0 and "despite 1 error" in forced.err
    assert bagit.Bag(str(out)).validate()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--info", "no-equals-sign"), "KEY=VALUE"),
        (("--info", "Bad:Label=x"), "':'"),
        (("--info", "Label=two\nlines"), "line breaks"),
        (("--info", "Payload-Oxum=1.1"), "written by mk2ds pack"),
        (("--info", "bagging-date=2020-01-01"), "--date"),
        (("--date", "May 1st"), "YYYY-MM-DD"),
    ],
)
def test_bad_options_are_usage_errors(
    src: Path, tmp_path: Path, run_cli: Run, args: tuple[str, ...], message: str
) -> None:
    result = pack(run_cli, src, tmp_path / "bag", *args)
    assert result.code == 2 and message in result.err
    assert not (tmp_path / "bag").exists()


def test_no_nested_bags_and_no_bag_inside_its_source(src: Path, tmp_path: Path, run_cli: Run) -> None:
    assert pack(run_cli, src, tmp_path / "bag").code == 0
    nested = pack(run_cli, tmp_path / "bag", tmp_path / "bag2")
    assert nested.code == 2 and "already a BagIt bag" in nested.err
    inside = pack(run_cli, src, src / "bag")
    assert inside.code == 2 and "inside" in inside.err and not (src / "bag").exists()


def test_name_problems_are_reported_and_conflicts_refused(src: Path, tmp_path: Path, run_cli: Run) -> None:
    (src / unicodedata.normalize("NFD", "logs/café.log")).write_bytes(b"nfd")
    (src / "logs/A.log").write_bytes(b"upper")
    warned = pack(run_cli, src, tmp_path / "warned")
    assert warned.code == 0
    assert "name-not-portable" in warned.err and "NFC" in warned.err
    assert "name-case-collision" in warned.err and "logs/A.log" in warned.err
    assert bagit.Bag(str(tmp_path / "warned")).validate()
    (src / unicodedata.normalize("NFC", "logs/café.log")).write_bytes(b"nfc")
    refused = pack(run_cli, src, tmp_path / "refused")
    assert refused.code == 1 and "name-normalization-conflict" in refused.err
    assert not (tmp_path / "refused").exists()


def test_sample_count_comes_from_the_verify_report(src: Path, tmp_path: Path, run_cli: Run) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["No", "SHA256", "Extension"])
    sheet.append([1, "a" * 64, "exe"])
    sheet.append([2, "b" * 64, "js"])
    workbook.save(src / "List.xlsx")
    assert pack(run_cli, src, tmp_path / "bag").code == 0
    assert info(tmp_path / "bag")["MK2DS-Sample-Count"] == "2"


@pytest.mark.parametrize("writer", ["folder", "zip"])
def test_a_failed_pack_leaves_nothing_behind(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    out = tmp_path / "out" / ("bag.zip" if writer == "zip" else "bag")
    plan = BagPlan(files=[("README.txt", 20), ("vanished.txt", 5)])
    write = write_bag_zip if writer == "zip" else write_bag_folder
    with pytest.raises(PackError, match="vanished.txt"):
        write(FolderSource(str(src)), plan, out)
    assert list(out.parent.iterdir()) == []

    def broken(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(bag_writer, "tag_files", broken)
    with pytest.raises(KeyboardInterrupt):
        write(FolderSource(str(src)), BagPlan(files=[("README.txt", 20)]), out)
    assert list(out.parent.iterdir()) == []


# ---------------------------------------------------------------------------------------------------------------
# mk2ds manifest
# ---------------------------------------------------------------------------------------------------------------


def test_manifest_writes_sha256sums_beside_the_files(src: Path, run_cli: Run) -> None:
    contents = {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()}
    result = run_cli("manifest", src, "-j", "2", "--quiet")
    assert result.code == 0 and "4 files" in result.out
    manifest = parse_sums((src / "SHA256SUMS").read_bytes(), "SHA256SUMS")
    assert {entry.path: entry.digest for entry in manifest.entries} == {
        name: hashlib.sha256(data).hexdigest() for name, data in contents.items()
    }
    assert run_cli("verify", src, "--profile", PROFILE).code == 0


def test_manifest_refresh_reports_what_changed(src: Path, run_cli: Run) -> None:
    assert run_cli("manifest", src, "--quiet").code == 0
    (src / "logs/a.log").write_bytes(b"changed")
    (src / "logs/b.log").unlink()
    (src / "new.txt").write_bytes(b"new")
    result = run_cli("manifest", src, "--format", "json", "--quiet")
    document = json.loads(result.out)
    assert validate_document(document, "manifest") == []
    assert document["changes"] == {
        "previous": True,
        "added": ["new.txt"],
        "removed": ["logs/b.log"],
        "changed": ["logs/a.log"],
    }
    assert "SHA256SUMS" not in [item["path"] for item in document["files"]]


def test_manifest_bagit_style_and_sha512(src: Path, run_cli: Run) -> None:
    assert run_cli("manifest", src, "--bagit", "--algorithm", "sha512", "--quiet").code == 0
    manifest = parse_bagit_manifest((src / "manifest-sha512.txt").read_bytes(), "manifest-sha512.txt", "sha512")
    assert len(manifest.entries) == 4 and manifest.problems == []
    assert run_cli("verify", src, "--profile", PROFILE).code == 0


def test_manifest_outside_a_read_only_folder(src: Path, tmp_path: Path, run_cli: Run, read_only: Any) -> None:
    before = snapshot(src)
    target = tmp_path / "elsewhere" / "src.SHA256SUMS"
    with read_only(src):
        assert run_cli("manifest", src, "-o", target, "--quiet").code == 0
        assert run_cli("verify", src, "--profile", PROFILE, "--checksums", target).code == 0
    assert snapshot(src) == before
    assert len(parse_sums(target.read_bytes(), str(target)).entries) == 4


def test_manifest_reports_what_it_cannot_list(src: Path, tmp_path: Path, run_cli: Run) -> None:
    (tmp_path / "outside.txt").write_text("outside")
    os.symlink(tmp_path / "outside.txt", src / "link.txt")
    result = run_cli("manifest", src, "--quiet")
    assert result.code == 1 and "link.txt" in result.err
    assert "link.txt" not in (src / "SHA256SUMS").read_text()
    assert run_cli("manifest", src / "README.txt").code == 2


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_pack_reads_a_zipped_distribution_in_place(src: Path, tmp_path: Path, run_cli: Run, jobs: str) -> None:
    archive = tmp_path / "dist.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                handle.write(path, f"dist/{path.relative_to(src).as_posix()}")
    out = tmp_path / "bag"
    result = pack(run_cli, archive, out, "-j", jobs)
    assert result.code == 0, result.err
    assert bagit.Bag(str(out)).validate()
    assert (out / "data/logs/b.log").read_bytes() == (src / "logs/b.log").read_bytes()


def test_a_payload_that_carries_its_own_sha256sums_is_checked_twice(src: Path, tmp_path: Path, run_cli: Run) -> None:
    assert run_cli("manifest", src, "--quiet").code == 0
    out = tmp_path / "bag"
    assert pack(run_cli, src, out).code == 0
    (out / "data/logs/a.log").write_bytes(b"tampered after packing")
    document = json.loads(run_cli("verify", out, "--profile", PROFILE, "--format", "json").out)
    mismatches = sorted(f["path"] for f in document["findings"] if f["code"] == "checksum-mismatch")
    assert mismatches == ["data/logs/a.log", "logs/a.log"]  # the bag's manifest (bag paths), the payload's SHA256SUMS


def _has_command(name: str) -> bool:
    from mk2ds.core import get_plugin_manager
    from mk2ds.core.cli import build_parser

    parser = build_parser(get_plugin_manager(load_entrypoints=False))
    return any(name in (getattr(action, "choices", None) or ()) for action in parser._actions)


@pytest.mark.slow
@pytest.mark.skipif(not _has_command("sample"), reason="the sample command is not registered yet")
def test_the_sample_distribution_packs_into_a_bag_that_verifies_like_its_source(tmp_path: Path, run_cli: Run) -> None:
    source = tmp_path / "dist"
    assert run_cli("sample", source).code == 0
    before = json.loads(run_cli("verify", source, "--format", "json").out)
    out = tmp_path / "bag.zip"
    result = run_cli(
        "pack", source, out, "--zip", "--quiet", "--date", "2024-05-01", *(() if before["valid"] else ("--force",))
    )
    assert result.code == 0, result.err
    after = json.loads(run_cli("verify", out, "--format", "json").out)
    bag_only = {"bag-oxum-missing"}

    def key(document: dict[str, Any]) -> set[tuple[str, str]]:
        return {(f["code"], f.get("path", "")) for f in document["findings"] if f["code"] not in bag_only}

    assert key(after) == key(before)  # the bag adds no finding, and loses none of the payload's
    assert after["facts"]["bag_fixity"]["mismatched"] == 0
    with zipfile.ZipFile(out) as archive:
        archive.extractall(tmp_path / "unzipped")
    assert bagit.Bag(str(tmp_path / "unzipped/bag")).validate()
    if before["samples"]:
        assert info(tmp_path / "unzipped/bag")["MK2DS-Sample-Count"] == str(len(before["samples"]))
