from __future__ import annotations

import hashlib
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mk2ds.plugins.bagit.manifests import (
    NameIndex,
    algorithm_for_digest,
    algorithm_from_name,
    format_bagit_manifest,
    format_sums,
    is_checksum_file,
    parse_bagit_manifest,
    parse_sums,
    portability_problems,
    unsafe_manifest_path,
)

A = "a" * 64
B = "b" * 64


def kinds(manifest: object) -> list[tuple[int, str]]:
    return [(problem.line, problem.kind) for problem in manifest.problems]  # type: ignore[attr-defined]


def test_sums_text_binary_tagged_and_comment_lines() -> None:
    data = (f"# made by hand\r\n{A}  plain.txt\r\n{B.upper()} *binary.bin\n\nSHA256 (tagged name.txt) = {A}\n").encode()
    manifest = parse_sums(data, "SHA256SUMS")
    assert manifest.algorithm == "sha256"
    assert [(entry.path, entry.digest, entry.line) for entry in manifest.entries] == [
        ("plain.txt", A, 2),
        ("binary.bin", B, 3),
        ("tagged name.txt", A, 5),
    ]
    assert manifest.problems == []


def test_sums_problems_name_their_line() -> None:
    data = f"{A}  ok.txt\nnot a line\n{'c' * 63}  short.txt\n{A}  ok.txt\n{B}  ok.txt\n{A}  ../../etc/passwd\n{A}  /abs\n".encode()
    manifest = parse_sums(data, "SHA256SUMS")
    assert [entry.path for entry in manifest.entries] == ["ok.txt"]
    assert kinds(manifest) == [
        (2, "malformed"),
        (3, "malformed"),
        (4, "duplicate"),
        (5, "conflict"),
        (6, "unsafe"),
        (7, "unsafe"),
    ]


def test_sums_that_are_not_utf8_are_reported_not_guessed() -> None:
    manifest = parse_sums(f"{A}  caf".encode() + b"\xe9\n", "SHA256SUMS")
    assert manifest.entries == [] and kinds(manifest) == [(1, "malformed")]


def test_algorithm_comes_from_the_name_or_the_digest_length() -> None:
    assert algorithm_from_name("SHA512SUMS") == "sha512"
    assert algorithm_from_name("sub/file.zip.sha256") == "sha256"
    assert algorithm_from_name("manifest-sha512.txt") == "sha512"
    assert algorithm_from_name("README.txt") is None
    assert algorithm_for_digest("0" * 128) == "sha512"
    assert parse_sums(f"{'d' * 128}  x\n".encode(), "checksums.txt").algorithm == "sha512"
    tagged = parse_sums(f"SHA512 (x) = {'d' * 128}\n".encode(), "list.txt")
    assert tagged.algorithm == "sha512" and tagged.entries[0].path == "x"


def test_gnu_escaped_names_are_written_and_read_back_but_refused_as_unsafe() -> None:
    names = {"back\\slash.txt": A, "new\nline.txt": B, "plain.txt": A}
    data = format_sums(names)
    assert data == f"\\{A}  back\\\\slash.txt\n\\{B}  new\\nline.txt\n{A}  plain.txt\n".encode()
    parsed = parse_sums(data, "SHA256SUMS")
    assert [entry.path for entry in parsed.entries] == ["plain.txt"]
    assert kinds(parsed) == [(1, "unsafe"), (2, "unsafe")]
    assert repr("back\\slash.txt") in parsed.problems[0].message  # the decoded name, shown unambiguously
    assert repr("new\nline.txt") in parsed.problems[1].message


def test_written_sums_are_sorted_lf_utf8_and_deterministic() -> None:
    entries = {"b.txt": B, "A.txt": A, "é.txt": A}
    data = format_sums(entries)
    assert data == f"{A}  A.txt\n{B}  b.txt\n{A}  é.txt\n".encode()
    assert format_sums(dict(reversed(list(entries.items())))) == data


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs GNU sha256sum")
def test_sha256sum_checks_what_we_write(tmp_path: Path) -> None:
    files = {"a.txt": b"alpha", "sub/b.txt": b"beta", "sp ace.txt": b"space"}
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    (tmp_path / "SHA256SUMS").write_bytes(format_sums(digests))
    (tmp_path / "manifest-sha256.txt").write_bytes(format_bagit_manifest(digests))
    for manifest in ("SHA256SUMS", "manifest-sha256.txt"):
        result = subprocess.run(
            ["sha256sum", "-c", manifest], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_bagit_percent_encoding_follows_rfc_8493() -> None:
    data = format_bagit_manifest({"data/100%.txt": A, "data/odd\nname": B})
    assert data == f"{A}  data/100%25.txt\n{B}  data/odd%0Aname\n".encode()
    parsed = parse_bagit_manifest(data, "manifest-sha256.txt", "sha256", (1, 0))
    assert [entry.path for entry in parsed.entries] == ["data/100%.txt"]
    assert kinds(parsed) == [(2, "unsafe")] and "'data/odd\\nname'" in parsed.problems[0].message


def test_bagit_097_manifests_are_decoded_like_bagit_python() -> None:
    data = f"{A} data/100%25.txt\n{B} data/odd%0Aname\n".encode()
    parsed = parse_bagit_manifest(data, "manifest-sha256.txt", "sha256", (0, 97))
    assert [entry.path for entry in parsed.entries] == ["data/100%25.txt"]
    assert "'data/odd\\nname'" in parsed.problems[0].message


def test_bagit_manifest_problems() -> None:
    data = b"\xef\xbb\xbf" + f"{A}  data/a\n{A}\n{A}  data/../../x\n{A}  *data/star\n".encode()
    parsed = parse_bagit_manifest(data, "manifest-sha256.txt", "sha256")
    assert kinds(parsed) == [(1, "bom"), (2, "malformed"), (3, "unsafe")]
    assert [entry.path for entry in parsed.entries] == ["data/a", "data/star"]


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=20
).filter(lambda name: name.strip() == name and name not in (".", "..") and not name.startswith(("#", "*", "~")))


@given(st.dictionaries(names, st.sampled_from([A, B]), min_size=1, max_size=8))
def test_bagit_manifest_round_trips_any_name(entries: dict[str, str]) -> None:
    prefixed = {f"data/{name}": digest for name, digest in entries.items()}
    parsed = parse_bagit_manifest(format_bagit_manifest(prefixed), "manifest-sha256.txt", "sha256")
    safe = {name: digest for name, digest in prefixed.items() if unsafe_manifest_path(name) is None}
    assert {entry.path: entry.digest for entry in parsed.entries} == safe


@given(st.dictionaries(names, st.sampled_from([A, B]), min_size=1, max_size=8))
def test_sums_round_trip_any_name(entries: dict[str, str]) -> None:
    parsed = parse_sums(format_sums(entries), "SHA256SUMS")
    safe = {name: digest for name, digest in entries.items() if unsafe_manifest_path(name) is None}
    assert {entry.path: entry.digest for entry in parsed.entries} == safe


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:/x", "drive"),
        ("a\\b", "backslash"),
        ("a/b:c", "':'"),
        ("folder./x", "dot or space"),
        ("x ", "dot or space"),
        ("NUL.txt", "reserved"),
        ("tab\there", "control"),
        ("what?.txt", "'?'"),
        ("100%.txt", "bagit-python"),
        (unicodedata.normalize("NFD", "café"), "NFC"),
    ],
)
def test_portability_problems(name: str, fragment: str) -> None:
    assert any(fragment in problem for problem in portability_problems(name)), portability_problems(name)


def test_portable_names_have_no_problems() -> None:
    assert portability_problems("MK2Log/30m/0a1b.log") == []
    assert portability_problems("日本語/レポート.txt") == []


def test_unsafe_manifest_paths() -> None:
    assert unsafe_manifest_path("~/.bashrc")
    assert unsafe_manifest_path("data/../../x")
    assert unsafe_manifest_path("data/ok.txt") is None


def test_name_index_matches_across_normalization_and_reports_conflicts() -> None:
    nfc, nfd = unicodedata.normalize("NFC", "café.txt"), unicodedata.normalize("NFD", "café.txt")
    index = NameIndex([nfd, "plain.txt"])
    assert index.find(nfd) == nfd
    assert index.find(nfc) == nfd
    assert index.find("other.txt") is None
    assert index.conflicts == []
    assert NameIndex([nfc, nfd]).conflicts == [sorted([nfc, nfd])]


def test_checksum_files_are_recognized() -> None:
    for name in (
        "SHA256SUMS",
        "sha512sums.txt",
        "SHA256SUMS.asc",
        "manifest-sha256.txt",
        "tagmanifest-md5.txt",
        "x/y.zip.sha256",
    ):
        assert is_checksum_file(name), name
    for name in ("README.txt", "sub/manifest-sha256.txt", "sub/SHA256SUMS", "MK2Log/30m/a.log"):
        assert not is_checksum_file(name), name
