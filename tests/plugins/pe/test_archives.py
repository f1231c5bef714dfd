"""Samples are read from plain files and from (encrypted) zips in memory; nothing is extracted to disk."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
import pyzipper

from mk2ds.plugins.pe.archives import SampleFile, iter_samples, name_hashes
from mk2ds.plugins.synthetic.pe_builder import build_pe

DATA = Path(__file__).parents[2] / "data" / "pe"
COMMITTED_SHA256 = "dbfde53035ad612ff7ea6caec011a7bef051e1eb74d1258ed2c1b2b050d04d37"
LIMIT = 1 << 20


def aes_zip(path: Path, members: dict[str, bytes], password: bytes = b"infected") -> None:
    with pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(password)
        for name, data in members.items():
            archive.writestr(name, data)


def listing(root: Path, **kwargs: object) -> list[SampleFile]:
    return list(iter_samples(root, max_size=kwargs.pop("max_size", LIMIT), **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("archive", ["zipcrypto-infected.zip", "aes256-infected.zip"])
def test_committed_password_zips_from_real_tools(archive: str, tmp_path: Path) -> None:
    samples = listing(DATA / archive)
    assert [sample.origin for sample in samples] == [f"{archive}!{COMMITTED_SHA256}.exe"]
    sample = samples[0]
    assert sample.problem is None and sample.data is not None
    assert sample.hashes["sha256"] == COMMITTED_SHA256 == hashlib.sha256(sample.data).hexdigest()
    assert sample.data[:2] == b"MZ"
    assert sample.name_hashes == [COMMITTED_SHA256]


@pytest.mark.parametrize("archive", ["zipcrypto-infected.zip", "aes256-infected.zip"])
def test_wrong_password_is_a_problem_not_an_exception(archive: str) -> None:
    (sample,) = listing(DATA / archive, password="not-it")
    assert sample.data is None and not sample.too_large
    assert "'not-it'" in str(sample.problem)


def test_plain_files_and_folders_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.bin").write_bytes(b"two")
    (tmp_path / "a.exe").write_bytes(build_pe())
    aes_zip(tmp_path / "c.zip", {"inner/x.exe": build_pe(timestamp=1), "y.txt": b"y"})
    os.symlink(tmp_path / "a.exe", tmp_path / "link.exe")
    origins = [sample.origin for sample in listing(tmp_path)]
    assert origins == ["a.exe", "b/two.bin", "c.zip!inner/x.exe", "c.zip!y.txt"]  # links are not followed


def test_unencrypted_zip_and_a_zip_that_is_itself_a_sample(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("doc.js", b"WScript.Echo(1)")
    (tmp_path / "sample.zip").write_bytes(buffer.getvalue())
    assert [sample.origin for sample in listing(tmp_path)] == ["sample.zip!doc.js"]
    listed = hashlib.sha256(buffer.getvalue()).hexdigest()
    samples = listing(tmp_path, is_listed=lambda sample: sample.hashes["sha256"] == listed)
    assert [(sample.origin, sample.hashes["sha256"]) for sample in samples] == [("sample.zip", listed)]
    assert [sample.origin for sample in listing(tmp_path, open_archives=False)] == ["sample.zip"]


def test_size_limits_for_files_and_members(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 2000)
    aes_zip(tmp_path / "bomb.zip", {"zeros.bin": b"\0" * 5000, "small.bin": b"ok"})
    samples = {sample.origin: sample for sample in listing(tmp_path, max_size=1000)}
    assert samples["big.bin"].too_large and samples["big.bin"].data is None
    assert samples["bomb.zip!zeros.bin"].too_large
    assert samples["bomb.zip!small.bin"].data == b"ok"


def test_member_inflating_beyond_its_declared_size_is_stopped(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("liar.bin", b"\0" * 50_000)
    data = bytearray(buffer.getvalue())
    # declare a tiny uncompressed size in the central directory (a classic zip-bomb trick)
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    (tmp_path / "liar.zip").write_bytes(bytes(data))
    (sample,) = listing(tmp_path, max_size=1000)
    assert sample.data is None
    assert sample.too_large or "cannot read" in str(sample.problem)


def test_damaged_zip_is_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    (sample,) = listing(tmp_path)
    assert sample.data is None and "damaged zip" in str(sample.problem)


def test_nothing_is_written_to_disk(tmp_path: Path) -> None:
    aes_zip(tmp_path / "s.zip", {"a.exe": build_pe()})
    before = sorted(path.name for path in tmp_path.rglob("*"))
    assert listing(tmp_path)[0].data == build_pe()
    assert sorted(path.name for path in tmp_path.rglob("*")) == before


def test_name_hashes() -> None:
    sha256 = "A" * 64
    assert name_hashes(f"dir/{sha256}.exe") == ["a" * 64]
    assert name_hashes("x/" + "b" * 32 + "_" + "c" * 40) == ["b" * 32, "c" * 40]
    assert name_hashes("d" * 63) == []
    assert name_hashes("e" * 65) == []


def test_reading_an_aes_zip_runs_no_program(tmp_path: Path) -> None:
    """pycryptodomex's loader would run ``file -b <python>`` through PATH: a stub ``file`` proves it does not."""
    import subprocess
    import sys

    stubs = tmp_path / "bin"
    stubs.mkdir()
    marker = tmp_path / "ran"
    stub = stubs / "file"
    stub.write_text(f"#!/bin/sh\necho \"$0 $*\" >> '{marker}'\n", encoding="utf-8")
    stub.chmod(0o755)
    environment = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}"}
    script = "import sys; from mk2ds.core.cli import main; sys.exit(main(['pe', sys.argv[1]]))"
    result = subprocess.run(
        [sys.executable, "-c", script, str(DATA / "aes256-infected.zip")],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert COMMITTED_SHA256 in result.stdout
    assert not marker.exists(), marker.read_text(encoding="utf-8")


def test_sample_zips_have_an_aggregate_inflation_budget(tmp_path: Path) -> None:
    """8 members each under the per-file limit, together far beyond what a zip of this size may inflate to."""
    archive = tmp_path / "set.zip"
    member = 1 << 20
    aes_zip(archive, {f"m{index}.bin": bytes(member) for index in range(8)})
    allowed = max(2 * member, 200 * archive.stat().st_size)  # one sample of the allowed size always fits
    samples = listing(tmp_path, max_size=2 * member)
    read = [sample for sample in samples if sample.data is not None]
    refused = [sample for sample in samples if sample.data is None]
    assert read and refused
    assert sum(len(sample.data or b"") for sample in read) <= allowed
    assert all(sample.too_large and "decompression bomb" in str(sample.problem) for sample in refused)


def test_the_run_budget_is_shared_by_every_sample_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mk2ds.plugins.pe import archives

    monkeypatch.setattr(archives, "RUN_INFLATION_BYTES", 3 * 1000)
    for index in range(3):
        aes_zip(
            tmp_path / f"z{index}.zip", {"a.bin": deterministic(index, 1000), "b.bin": deterministic(index + 10, 1000)}
        )
    samples = listing(tmp_path)
    assert sum(sample.data is not None for sample in samples) == 3
    assert sum(sample.too_large for sample in samples) == 3


def test_a_sample_folder_nested_a_thousand_deep_is_walked(tmp_path: Path) -> None:
    path = str(tmp_path / "samples")
    os.mkdir(path)
    (tmp_path / "samples" / "a.exe").write_bytes(b"MZ")
    for _ in range(1000):
        path += "/d"
        os.mkdir(path)
    try:
        samples = listing(tmp_path / "samples")
        assert samples[0].origin == "a.exe" and samples[0].data == b"MZ"
        assert [sample.problem for sample in samples[1:]] == [
            "not read: nested deeper than 64 folders (limit); its contents are not read"
        ]
    finally:
        while path.endswith("/d"):
            os.rmdir(path)
            path = path[:-2]


def deterministic(seed: int, size: int) -> bytes:
    return hashlib.sha256(str(seed).encode()).digest() * (size // 32) + bytes(size % 32)
