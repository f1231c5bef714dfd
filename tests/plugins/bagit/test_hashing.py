from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from mk2ds.core.dataset import FolderDataset, SubDataset, ZipDataset
from mk2ds.plugins.bagit import hashing
from mk2ds.plugins.bagit.hashing import DatasetSource, FolderSource, hash_files, source_for


def make_files(root: Path) -> dict[str, bytes]:
    contents = {
        "a.txt": b"alpha\n",
        "empty.bin": b"",
        "sub/big.bin": os.urandom(3 * hashing.BLOCK_SIZE + 17),
        "sub/deeper/c.log": b"x" * 1000,
    }
    for name, data in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return contents


def expected(contents: dict[str, bytes], algorithm: str) -> dict[str, str]:
    return {name: hashlib.new(algorithm, data).hexdigest() for name, data in contents.items()}


@pytest.mark.parametrize("jobs", [1, 2])
def test_hashes_every_file_with_every_algorithm(tmp_path: Path, jobs: int) -> None:
    contents = make_files(tmp_path)
    files = [(name, len(data)) for name, data in contents.items()]
    results = hash_files(FolderSource(str(tmp_path)), files, ("sha256", "sha512"), jobs=jobs, show_progress=False)
    assert sorted(results) == sorted(contents)
    for algorithm in ("sha256", "sha512"):
        assert {name: result.digests[algorithm] for name, result in results.items()} == expected(contents, algorithm)
    assert {name: result.size for name, result in results.items()} == {
        name: len(data) for name, data in contents.items()
    }
    assert all(result.error is None for result in results.values())


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_unreadable_file_is_a_result_with_an_error_not_an_exception(tmp_path: Path, jobs: int) -> None:
    contents = make_files(tmp_path)
    files = [(name, len(data)) for name, data in contents.items()] + [("gone.txt", 5)]
    results = hash_files(FolderSource(str(tmp_path)), files, ("sha256",), jobs=jobs, show_progress=False)
    assert results["gone.txt"].error and "FileNotFoundError" in results["gone.txt"].error
    assert results["a.txt"].digests["sha256"] == expected(contents, "sha256")["a.txt"]


def test_unknown_algorithm_fails_before_any_work(tmp_path: Path) -> None:
    make_files(tmp_path)
    with pytest.raises(ValueError):
        hash_files(FolderSource(str(tmp_path)), [("a.txt", 6)], ("no-such-hash",), show_progress=False)


@pytest.mark.parametrize("jobs", [1, 2])
def test_copy_while_hashing_keeps_bytes_and_times_and_never_overwrites(tmp_path: Path, jobs: int) -> None:
    source = tmp_path / "src"
    contents = make_files(source)
    os.utime(source / "a.txt", (1_500_000_000, 1_500_000_000))
    target = tmp_path / "copy"
    files = [(name, len(data)) for name, data in contents.items()]
    results = hash_files(
        FolderSource(str(source)), files, ("sha256",), jobs=jobs, copy_to=str(target), show_progress=False
    )
    assert all(result.error is None for result in results.values())
    for name, data in contents.items():
        assert (target / name).read_bytes() == data
    assert (target / "a.txt").stat().st_mtime == 1_500_000_000


def test_copy_refuses_an_existing_target_file(tmp_path: Path) -> None:
    source = tmp_path / "src"
    make_files(source)
    target = tmp_path / "copy"
    target.mkdir()
    (target / "a.txt").write_bytes(b"keep me")
    results = hash_files(
        FolderSource(str(source)), [("a.txt", 6)], ("sha256",), copy_to=str(target), show_progress=False
    )
    assert "FileExistsError" in str(results["a.txt"].error)
    assert (target / "a.txt").read_bytes() == b"keep me"


@pytest.mark.parametrize("jobs", [1, 2])
def test_zip_members_hash_like_the_files(tmp_path: Path, jobs: int) -> None:
    contents = make_files(tmp_path / "tree")
    archive = tmp_path / "tree.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for name, data in contents.items():
            handle.writestr(f"tree/{name}", data)
    dataset = ZipDataset(archive)
    source = source_for(dataset)
    dataset.close()
    assert source == DatasetSource(str(archive))
    results = hash_files(
        source, [(name, len(data)) for name, data in contents.items()], ("sha256",), jobs=jobs, show_progress=False
    )
    assert {name: result.digests["sha256"] for name, result in results.items()} == expected(contents, "sha256")


def test_source_for_reads_folders_straight_from_disk(tmp_path: Path) -> None:
    folder = FolderDataset(tmp_path)
    assert source_for(folder) == FolderSource(str(tmp_path))
    assert source_for(SubDataset(folder, "data")) == FolderSource(os.path.join(str(tmp_path), "data"))


def test_batches_put_big_files_first_and_group_small_ones() -> None:
    files = [(f"small{index}", 10) for index in range(600)] + [("huge", hashing.BATCH_BYTES * 2)]
    batches = list(hashing._batches(files))
    assert batches[0] == (["huge"], hashing.BATCH_BYTES * 2)
    assert sum(len(names) for names, _size in batches) == 601
    assert all(len(names) <= hashing.BATCH_FILES for names, _size in batches)


def test_progress_shows_bytes_and_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    contents = make_files(tmp_path)
    hash_files(
        FolderSource(str(tmp_path)),
        [(name, len(data)) for name, data in contents.items()],
        ("sha256",),
        show_progress=True,
        label="fixity",
    )
    err = capsys.readouterr().err
    assert "fixity" in err and "MB/s" in err and "4 files" in err
