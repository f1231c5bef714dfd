from __future__ import annotations

import hashlib
import json
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.plugins.bagit.manifests import format_bagit_manifest, format_sums

PROFILE = Path(__file__).parents[2] / "data" / "pack" / "tiny.profile.json"
FIXITY_CODES = {
    "checksum-mismatch",
    "checksum-file-missing",
    "checksum-file-unlisted",
    "checksum-manifest-malformed",
    "checksum-manifest-duplicate",
    "checksum-unsafe-path",
    "name-normalization-differs",
    "name-normalization-conflict",
    "unreadable-file",
}


def make_tree(root: Path) -> dict[str, bytes]:
    contents = {
        "README.txt": b"a tiny distribution\n",
        "logs/a.log": b"line 1\nline 2\n" * 100,
        "logs/b.log": b"\x00\x01" * 5000,
        "logs/deep/c.log": b"c\n",
    }
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "empty").mkdir()
    return contents


def sums(contents: dict[str, bytes]) -> bytes:
    return format_sums({name: hashlib.sha256(data).hexdigest() for name, data in contents.items()})


def verify(run_cli: Callable[..., Any], path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("verify", path, "--profile", PROFILE, "--format", "json", *extra)
    return result.code, json.loads(result.out)


def fixity_findings(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (finding["code"], finding.get("path", ""))
        for finding in document["findings"]
        if finding["code"] in FIXITY_CODES
    }


def snapshot(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_a_distribution_matching_its_sha256sums_is_valid(
    tmp_path: Path, run_cli: Callable[..., Any], read_only: Any
) -> None:
    contents = make_tree(tmp_path)
    (tmp_path / "SHA256SUMS").write_bytes(sums(contents))
    before = snapshot(tmp_path)
    with read_only(tmp_path):
        code, document = verify(run_cli, tmp_path)
    assert code == 0, document["findings"]
    assert fixity_findings(document) == set()
    assert document["facts"]["fixity"]["checked"] == len(contents)
    assert document["facts"]["fixity"]["bytes"] == sum(len(data) for data in contents.values())
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_tampered_missing_and_extra_files_are_each_named(
    tmp_path: Path, run_cli: Callable[..., Any], jobs: str
) -> None:
    contents = make_tree(tmp_path)
    (tmp_path / "SHA256SUMS").write_bytes(sums(contents))
    (tmp_path / "logs/a.log").write_bytes(b"tampered")
    (tmp_path / "logs/b.log").unlink()
    (tmp_path / "logs/new.log").write_bytes(b"extra")
    code, document = verify(run_cli, tmp_path, "-j", jobs)
    assert code == 1
    assert fixity_findings(document) == {
        ("checksum-mismatch", "logs/a.log"),
        ("checksum-file-missing", "logs/b.log"),
        ("checksum-file-unlisted", "logs/new.log"),
    }
    mismatch = next(finding for finding in document["findings"] if finding["code"] == "checksum-mismatch")
    detail = mismatch["details"]["mismatches"][0]
    assert detail == {
        "manifest": "SHA256SUMS",
        "line": 2,
        "algorithm": "sha256",
        "expected": hashlib.sha256(contents["logs/a.log"]).hexdigest(),
        "found": hashlib.sha256(b"tampered").hexdigest(),
    }


def test_fast_level_compares_names_but_does_not_hash(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    contents = make_tree(tmp_path)
    (tmp_path / "SHA256SUMS").write_bytes(sums(contents))
    (tmp_path / "logs/a.log").write_bytes(b"tampered")
    (tmp_path / "logs/b.log").unlink()
    code, document = verify(run_cli, tmp_path, "--level", "fast")
    assert fixity_findings(document) == {("checksum-file-missing", "logs/b.log")}
    assert "not hashed" in document["facts"]["fixity"]["contents"]
    assert code == 1


def test_bagit_style_sidecar_manifest_is_checked_too(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    contents = make_tree(tmp_path)
    digests = {name: hashlib.sha512(data).hexdigest() for name, data in contents.items()}
    digests["logs/deep/c.log"] = "0" * 128
    (tmp_path / "manifest-sha512.txt").write_bytes(format_bagit_manifest(digests))
    code, document = verify(run_cli, tmp_path)
    assert fixity_findings(document) == {("checksum-mismatch", "logs/deep/c.log")}
    assert code == 1


def test_per_file_sidecars_cover_only_what_they_name(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    contents = make_tree(tmp_path)
    (tmp_path / "logs/a.log.sha256").write_text(hashlib.sha256(contents["logs/a.log"]).hexdigest() + "\n")
    (tmp_path / "logs/b.log.sha256").write_text(hashlib.sha256(b"something else").hexdigest() + "  b.log\n")
    code, document = verify(run_cli, tmp_path)
    assert fixity_findings(document) == {("checksum-mismatch", "logs/b.log")}
    assert document["facts"]["fixity"]["checked"] == 2
    assert code == 1


def test_external_checksums_for_a_read_only_folder(tmp_path: Path, run_cli: Callable[..., Any], read_only: Any) -> None:
    root = tmp_path / "dist"
    contents = make_tree(root)
    external = tmp_path / "dist.SHA256SUMS"
    external.write_bytes(sums({**contents, "README.txt": b"old readme\n"}))
    with read_only(root):
        code, document = verify(run_cli, root, "--checksums", str(external))
    assert fixity_findings(document) == {("checksum-mismatch", "README.txt")}
    assert code == 1


def test_manifest_problems_name_the_line_and_unsafe_paths_are_never_opened(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    root = tmp_path / "dist"
    contents = make_tree(root)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside")
    lines = sums(contents) + b"garbage line\n" + format_sums({"../secret.txt": hashlib.sha256(b"outside").hexdigest()})
    (root / "SHA256SUMS").write_bytes(lines)
    code, document = verify(run_cli, root)
    problems = {(f["code"], f["path"], f.get("line")) for f in document["findings"] if f["code"] in FIXITY_CODES}
    assert problems == {
        ("checksum-manifest-malformed", "SHA256SUMS", len(contents) + 1),
        ("checksum-unsafe-path", "SHA256SUMS", len(contents) + 2),
    }
    assert code == 1


def test_zipped_distribution_is_hashed_in_place(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    contents = make_tree(tmp_path / "tree")
    archive = tmp_path / "dist.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("dist/SHA256SUMS", sums(contents))
        for name, data in contents.items():
            handle.writestr(f"dist/{name}", b"changed" if name == "logs/b.log" else data)
    code, document = verify(run_cli, archive, "-j", "2")
    assert fixity_findings(document) == {("checksum-mismatch", "logs/b.log")}
    assert code == 1


def test_names_in_another_unicode_form_are_matched_and_reported(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    contents = make_tree(tmp_path)
    nfd = unicodedata.normalize("NFD", "logs/café.log")
    (tmp_path / nfd).write_bytes(b"cafe")
    listed = {**contents, unicodedata.normalize("NFC", "logs/café.log"): b"cafe"}
    (tmp_path / "SHA256SUMS").write_bytes(sums(listed))
    code, document = verify(run_cli, tmp_path)
    assert fixity_findings(document) == {("name-normalization-differs", nfd)}
    assert code == 0


def test_a_distribution_without_checksums_gets_no_fixity_findings(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    make_tree(tmp_path)
    code, document = verify(run_cli, tmp_path)
    assert code == 0 and fixity_findings(document) == set() and "fixity" not in document["facts"]
