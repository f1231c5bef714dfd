from __future__ import annotations

import json
import os
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bagit
import pytest

from mk2ds.core.dataset import FolderDataset
from mk2ds.core.schemas import validate_document
from mk2ds.plugins.bagit.payload import mk2ds_locate_payload

PROFILE = Path(__file__).parents[2] / "data" / "pack" / "tiny.profile.json"
LAYOUT_CODES = {"unexpected-entry", "missing-required"}


def make_tree(root: Path) -> None:
    contents = {
        "README.txt": b"a tiny distribution\n",
        "logs/a.log": b"line 1\nline 2\n" * 100,
        "logs/b.log": b"\x00\x01" * 5000,
        "logs/deep/c.log": b"c\n",
    }
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    """A bag made by the Library of Congress bagit-python (sha256 + sha512, BagIt 0.97)."""
    root = tmp_path / "bag"
    make_tree(root)
    bagit.make_bag(str(root), {"Contact-Name": "Test"}, checksums=["sha256", "sha512"])
    return root


def verify(run_cli: Callable[..., Any], path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("verify", path, "--profile", PROFILE, "--format", "json", *extra)
    return result.code, json.loads(result.out)


def bag_findings(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["code"], f.get("path", "")) for f in document["findings"] if f["code"] not in LAYOUT_CODES}


def test_locate_payload_only_for_bags(tmp_path: Path, bag: Path) -> None:
    plain = tmp_path / "plain"
    make_tree(plain)
    assert mk2ds_locate_payload(FolderDataset(plain)) is None
    assert mk2ds_locate_payload(FolderDataset(bag)) == "data"


def test_a_bag_made_by_bagit_python_is_valid(bag: Path, run_cli: Callable[..., Any], read_only: Any) -> None:
    with read_only(bag):
        code, document = verify(run_cli, bag)
    assert code == 0, document["findings"]
    assert bag_findings(document) == set()
    assert document["target"]["payload"] == "data"
    facts = document["facts"]
    assert facts["bag"]["version"] == "0.97" and facts["bag"]["algorithms"] == ["sha256", "sha512"]
    assert facts["bag"]["info"]["Contact-Name"] == "Test"
    assert facts["bag_fixity"]["checked"] == 4 + 4  # payload files, and bagit.txt, bag-info.txt, two manifests
    assert document["stats"]["files"] == 4  # the profile checks saw the payload only


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_tampered_missing_and_extra_files_are_all_named_after_the_oxum_signal(
    bag: Path, run_cli: Callable[..., Any], jobs: str
) -> None:
    (bag / "data/logs/a.log").write_bytes(b"tampered")
    (bag / "data/logs/b.log").unlink()
    (bag / "data/logs/extra.log").write_bytes(b"not listed")
    code, document = verify(run_cli, bag, "-j", jobs)
    assert code == 1
    assert bag_findings(document) == {
        ("bag-oxum-mismatch", "bag-info.txt"),
        ("checksum-mismatch", "data/logs/a.log"),
        ("checksum-file-missing", "data/logs/b.log"),
        ("checksum-file-unlisted", "data/logs/extra.log"),
    }
    assert validate_document(document, "report") == []
    oxum = next(f for f in document["findings"] if f["code"] == "bag-oxum-mismatch")
    assert oxum["details"]["expected"]["files"] == 4 and oxum["details"]["found"]["files"] == 4
    # bagit-python stops at the Oxum and names no file: the reason this plugin exists.
    with pytest.raises(bagit.BagValidationError) as raised:
        bagit.Bag(str(bag)).validate()
    assert "Payload-Oxum" in str(raised.value) and not raised.value.details


def test_same_size_tampering_is_found_by_checksums(bag: Path, run_cli: Callable[..., Any]) -> None:
    data = bytearray((bag / "data/logs/b.log").read_bytes())
    data[100] ^= 0xFF
    (bag / "data/logs/b.log").write_bytes(bytes(data))
    code, document = verify(run_cli, bag)
    mismatch = [f for f in document["findings"] if f["code"] == "checksum-mismatch"]
    assert [f["path"] for f in mismatch] == ["data/logs/b.log"]
    assert {item["algorithm"] for item in mismatch[0]["details"]["mismatches"]} == {"sha256", "sha512"}
    assert code == 1


def test_zipped_bag_is_checked_in_place(bag: Path, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    (bag / "data/README.txt").write_bytes(b"changed readme\n")
    archive = tmp_path / "bag.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                handle.write(path, f"release/{path.relative_to(bag).as_posix()}")
    code, document = verify(run_cli, archive, "-j", "2")
    assert ("checksum-mismatch", "data/README.txt") in bag_findings(document)
    assert document["target"]["container"] == "zip"
    assert code == 1


def test_fast_level_checks_completeness_without_hashing(bag: Path, run_cli: Callable[..., Any]) -> None:
    (bag / "data/logs/a.log").write_bytes(b"tampered")
    (bag / "data/logs/b.log").unlink()
    code, document = verify(run_cli, bag, "--level", "fast")
    assert bag_findings(document) == {
        ("bag-oxum-mismatch", "bag-info.txt"),
        ("checksum-file-missing", "data/logs/b.log"),
    }
    assert code == 1


def test_tag_manifests_protect_the_tag_files(bag: Path, run_cli: Callable[..., Any]) -> None:
    with open(bag / "bag-info.txt", "a", encoding="utf-8") as handle:
        handle.write("Contact-Email: someone@example.org\n")
    code, document = verify(run_cli, bag)
    assert bag_findings(document) == {("checksum-mismatch", "bag-info.txt")}
    assert code == 1


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"Tag-File-Character-Encoding: UTF-8\n", None),
        (b"\xef\xbb\xbfBagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n", 1),
    ],
)
def test_bad_declarations_are_findings(
    bag: Path, run_cli: Callable[..., Any], content: bytes, line: int | None
) -> None:
    (bag / "bagit.txt").write_bytes(content)
    code, document = verify(run_cli, bag)
    declaration = [f for f in document["findings"] if f["code"] == "bag-declaration"]
    assert declaration and all(f["path"] == "bagit.txt" for f in declaration)
    assert [f.get("line") for f in declaration] == [line]
    assert ("checksum-mismatch", "bagit.txt") in bag_findings(document)
    assert code == 1


def test_missing_manifests_and_payload_are_findings(bag: Path, run_cli: Callable[..., Any]) -> None:
    for name in ("manifest-sha256.txt", "manifest-sha512.txt", "tagmanifest-sha256.txt", "tagmanifest-sha512.txt"):
        (bag / name).unlink()
    shutil.rmtree(bag / "data")
    code, document = verify(run_cli, bag)
    codes = {code for code, _path in bag_findings(document)}
    assert {"bag-no-manifest", "bag-payload-missing", "bag-oxum-mismatch"} <= codes
    assert code == 1


def test_bagit_1_0_requires_every_payload_file_in_every_manifest(bag: Path, run_cli: Callable[..., Any]) -> None:
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    lines = (bag / "manifest-sha512.txt").read_text().splitlines(keepends=True)
    (bag / "manifest-sha512.txt").write_text("".join(line for line in lines if "logs/a.log" not in line))
    for name in ("tagmanifest-sha256.txt", "tagmanifest-sha512.txt"):
        (bag / name).unlink()
    code, document = verify(run_cli, bag)
    unlisted = [f for f in document["findings"] if f["code"] == "checksum-file-unlisted"]
    assert [(f["path"], f["details"]["manifest"]) for f in unlisted] == [("data/logs/a.log", "manifest-sha512.txt")]
    assert code == 1


def test_fetch_txt_files_are_pending_not_missing(bag: Path, run_cli: Callable[..., Any]) -> None:
    (bag / "data/logs/b.log").unlink()
    (bag / "fetch.txt").write_text("https://example.org/b.log 10000 data/logs/b.log\nhttps://example.org/x 1 ../x\n")
    code, document = verify(run_cli, bag)
    found = bag_findings(document)
    assert ("bag-fetch-pending", "data/logs/b.log") in found
    assert ("checksum-file-missing", "data/logs/b.log") not in found
    assert ("checksum-unsafe-path", "fetch.txt") in found
    assert code == 1


def test_malformed_oxum_and_bag_info(bag: Path, run_cli: Callable[..., Any]) -> None:
    text = (bag / "bag-info.txt").read_text().replace("Payload-Oxum: ", "Payload-Oxum: x")
    (bag / "bag-info.txt").write_text(text + "no colon here\n")
    code, document = verify(run_cli, bag)
    found = {(f["code"], f.get("line")) for f in document["findings"] if f["code"].startswith("bag-")}
    assert ("bag-oxum-malformed", None) in found
    assert ("bag-info-malformed", len(text.splitlines()) + 1) in found
    assert code == 1


@pytest.mark.parametrize(("bagged_form", "disk_form"), [("NFC", "NFD"), ("NFD", "NFC")])
def test_unicode_normalization_is_matched_and_reported(
    tmp_path: Path, run_cli: Callable[..., Any], bagged_form: str, disk_form: str
) -> None:
    """A bag made on Linux and copied to macOS (NFC listed, NFD on disk), and the reverse."""
    root = tmp_path / "bag"
    make_tree(root)
    (root / "logs" / unicodedata.normalize(bagged_form, "café.log")).write_bytes(b"cafe")
    bagit.make_bag(str(root), checksums=["sha256"])
    on_disk = unicodedata.normalize(disk_form, "data/logs/café.log")
    os.rename(root / unicodedata.normalize(bagged_form, "data/logs/café.log"), root / on_disk)
    if bagged_form == "NFC":
        assert bagit.Bag(str(root)).is_valid()  # bagit-python matches this direction too
    code, document = verify(run_cli, root)
    assert bag_findings(document) == {("name-normalization-differs", on_disk)}
    assert code == 0
