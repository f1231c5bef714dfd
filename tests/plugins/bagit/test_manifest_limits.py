"""Manifests are streamed line by line in bounded memory; what cannot be streamed is capped, with a finding."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.plugins.bagit import manifests
from mk2ds.plugins.bagit.manifests import parse_bagit_manifest, parse_sums

DIGEST = "ab" * 32


def _peak_while(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_huge_sparse_manifest_is_read_in_bounded_memory(tmp_path: Path) -> None:
    sums = tmp_path / "SHA256SUMS"
    with open(sums, "wb") as handle:
        handle.write(f"{DIGEST}  a.log\n".encode())
        handle.truncate(64 << 20)  # 64 MiB of NUL bytes on one line, stored sparse
    result: list[manifests.Manifest] = []

    def parse() -> None:
        with open(sums, "rb") as stream:
            result.append(parse_sums(stream, "SHA256SUMS"))

    assert _peak_while(parse) < 8 << 20
    (manifest,) = result
    assert [entry.path for entry in manifest.entries] == ["a.log"]
    assert [(problem.line, problem.kind) for problem in manifest.problems] == [(2, "malformed")]
    assert "longer than" in manifest.problems[0].message


def test_streamed_and_whole_parsing_agree() -> None:
    data = (
        "\ufeff"
        + f"{DIGEST}  a.log\r\n\n# comment\n{DIGEST} *b c.log\n\\{DIGEST}  new\\nline\nbroken\n"
        + f"{DIGEST}  a.log"
    ).encode()
    whole = parse_sums(data, "SHA256SUMS")
    streamed = parse_sums(io.BufferedReader(io.BytesIO(data), buffer_size=7), "SHA256SUMS")  # type: ignore[arg-type]
    assert whole == streamed
    assert [entry.path for entry in whole.entries] == ["a.log", "b c.log"]
    assert [(problem.line, problem.kind) for problem in whole.problems] == [
        (5, "unsafe"),
        (6, "malformed"),
        (7, "duplicate"),
    ]
    bagit = f"{DIGEST}  data/a%0Ab\n".encode()
    assert parse_bagit_manifest(io.BytesIO(bagit), "manifest-sha256.txt", "sha256") == parse_bagit_manifest(
        bagit, "manifest-sha256.txt", "sha256"
    )  # type: ignore[arg-type]


def test_entries_beyond_the_cap_are_not_read_and_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "MAX_ENTRIES", 3)
    data = "".join(f"{DIGEST}  f{index}\n" for index in range(10)).encode()
    for manifest in (parse_sums(data, "SHA256SUMS"), parse_bagit_manifest(data, "manifest-sha256.txt", "sha256")):
        assert len(manifest.entries) == 3
        assert [(problem.line, problem.kind) for problem in manifest.problems] == [(4, "limit")]


def test_problems_beyond_the_cap_are_counted_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "MAX_PROBLEMS", 5)
    manifest = parse_sums(b"junk\n" * 1000, "SHA256SUMS")
    assert [problem.kind for problem in manifest.problems] == ["malformed"] * 5 + ["limit"]


def test_verify_reports_a_capped_manifest(
    tmp_path: Path, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifests, "MAX_ENTRIES", 1)
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "b.txt").write_text("b", encoding="utf-8")
    (tmp_path / "SHA256SUMS").write_text(f"{DIGEST}  a.txt\n{DIGEST}  b.txt\n", encoding="utf-8")
    result = run_cli("verify", tmp_path, "--format", "json", "--quiet")
    codes = {finding["code"] for finding in json.loads(result.out)["findings"]}
    assert result.code == 1 and "checksum-manifest-too-large" in codes and "plugin-error" not in codes
