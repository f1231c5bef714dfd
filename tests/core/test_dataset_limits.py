"""Hostile datasets, round two: damaged zip members, deep trees, FIFOs, aggregate zip bombs.

Each is a finding naming the file (exit 1), never a plugin error, a traceback, a hang or a blown stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core import dataset as dataset_module
from mk2ds.core import entries, ziplisting
from mk2ds.core.dataset import Entry, FolderDataset, UnsafeName, ZipDataset
from mk2ds.plugins.synthetic import SampleDistribution, write_sample


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> SampleDistribution:
    return write_sample(tmp_path_factory.mktemp("limits") / "SolitonDataset2018", samples=3, seed=7, events_per_log=20)


def _zip_of(root: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as handle:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                handle.write(path, path.relative_to(root.parent).as_posix())
    return archive


def _damage(archive: Path, fragment: str) -> str:
    """Flip one byte inside a stored member's data: its CRC no longer matches. Returns the member's path."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as handle:
        info = next(info for info in handle.infolist() if fragment in info.filename and info.file_size > 8)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 5] ^= 0xFF
    archive.write_bytes(bytes(data))
    return info.filename.split("/", 1)[1]


def _findings(run_cli: Callable[..., Any], target: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("verify", target, "--format", "json", "--quiet")
    return result.code, json.loads(result.out)["findings"]


@pytest.mark.parametrize("fragment", ["MK2Log/30m/", "List.xlsx", "Sysinfo/", "impfuzzy/"])
def test_a_zip_member_with_a_bad_crc_is_a_finding_naming_it(
    run_cli: Callable[..., Any], distribution: SampleDistribution, tmp_path: Path, fragment: str
) -> None:
    archive = _zip_of(distribution.root, tmp_path / "ds.zip")
    member = _damage(archive, fragment)
    code, findings = _findings(run_cli, archive)
    assert code == 1
    assert [f for f in findings if f["code"] == "plugin-error"] == []
    about = [f for f in findings if f.get("path") == member and f["severity"] == "error"]
    assert about and all("damaged zip member" in f["message"] and "CRC" in f["message"] for f in about)
    assert {f["code"] for f in about} <= {"unreadable-file", "list-unreadable"}


@pytest.fixture
def nest() -> Iterator[Callable[[Path, int], Path]]:
    """``nest(root, depth)``: ``root/a/a/.../a``, made one level at a time (``os.makedirs`` recurses too), and
    removed the same way afterwards (``shutil.rmtree`` would recurse while cleaning up)."""
    made: list[Path] = []

    def make(root: Path, depth: int) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        path = str(root)
        for _ in range(depth):
            path += "/a"
            os.mkdir(path)
        made.append(Path(path))
        return Path(path)

    yield make
    for deepest in made:
        path = str(deepest)
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
        while path.endswith("/a"):
            os.rmdir(path)
            path = path[:-2]


def test_folders_nested_a_thousand_deep_are_walked_without_recursion(
    tmp_path: Path, nest: Callable[[Path, int], Path]
) -> None:
    (nest(tmp_path / "top", 1000) / "x.log").write_bytes(b"x\n")
    (tmp_path / "top" / "ok.log").write_bytes(b"ok\n")
    items = list(FolderDataset(tmp_path).walk())
    limit = "/".join(["top", *["a"] * dataset_module.MAX_DEPTH])  # the first folder too deep to be read
    assert Entry("top/ok.log", 3) in items
    unsafe = [item for item in items if isinstance(item, UnsafeName)]
    assert unsafe == [
        UnsafeName(limit, f"nested deeper than {dataset_module.MAX_DEPTH} folders (limit); its contents are not read")
    ]
    assert max(len(item.path) for item in items) <= dataset_module.MAX_PATH_CHARS


def test_a_long_path_is_a_limit_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(entries, "MAX_PATH_CHARS", 40)
    (tmp_path / ("b" * 30) / ("c" * 30)).mkdir(parents=True)
    items = list(FolderDataset(tmp_path).walk())
    assert (
        UnsafeName("b" * 30 + "/" + "c" * 30, "path longer than 40 characters (limit); its contents are not read")
        in items
    )


def test_deep_zip_names_are_refused_by_the_same_limit(tmp_path: Path) -> None:
    archive = tmp_path / "deep.zip"
    deep = "/".join(["a"] * 1000) + "/x.log"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(deep, b"x")
        handle.writestr("ok.log", b"ok")
    with ZipDataset(archive) as dataset:
        items = list(dataset.walk())
    assert Entry("ok.log", 2) in items
    assert UnsafeName(deep, f"nested deeper than {dataset_module.MAX_DEPTH} folders (limit); not read") in items


def _cli(*args: str | os.PathLike[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    script = "import sys; from mk2ds.core.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def hostile_copy(distribution: SampleDistribution, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "ds"
    shutil.copytree(distribution.root, target)
    return target


def test_every_command_survives_a_thousand_nested_folders(
    hostile_copy: Path, tmp_path: Path, nest: Callable[[Path, int], Path]
) -> None:
    (nest(hostile_copy / "MK2Log", 1000) / "x.log").write_bytes(b"03/01/2018 19:00:00.000 +0900 sn=1 evt=ps\n")
    for command in (
        ["verify", hostile_copy, "--quiet"],
        ["convert", hostile_copy / "MK2Log", "-o", tmp_path / "out"],
        ["manifest", hostile_copy, "-o", tmp_path / "SUMS"],
        ["pack", hostile_copy, tmp_path / "bag"],
    ):
        result = _cli(*command)
        assert "RecursionError" not in result.stderr and "Traceback" not in result.stderr, (
            command[0],
            result.stderr[-2000:],
        )
        assert result.returncode in (0, 1), (command[0], result.stderr[-2000:])
        assert "nested deeper than" in result.stdout + result.stderr, command[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs need a POSIX system")
def test_a_fifo_named_like_an_expected_file_never_blocks(hostile_copy: Path, tmp_path: Path) -> None:
    os.mkfifo(hostile_copy / "bagit.txt")
    (hostile_copy / "SHA256SUMS").unlink()
    os.mkfifo(hostile_copy / "SHA256SUMS")
    for command in (["verify", hostile_copy, "--quiet"], ["pack", hostile_copy, tmp_path / "bag"]):
        result = _cli(*command, timeout=60)  # a blocked open() would hang here, not fail
        assert result.returncode == 1, result.stderr[-2000:]
        assert "bagit.txt" in result.stdout + result.stderr and "not a regular file" in result.stdout + result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs need a POSIX system")
def test_open_refuses_a_fifo_put_in_a_files_place(tmp_path: Path) -> None:
    import signal

    os.mkfifo(tmp_path / "bagit.txt")

    def blocked(*_: object) -> None:
        raise TimeoutError("open() blocked on a FIFO")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(10)
    try:
        with pytest.raises(FileNotFoundError, match=r"bagit\.txt: refused \(not a regular file\)"):
            FolderDataset(tmp_path).open("bagit.txt")  # O_NONBLOCK: returns at once, no writer needed
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_zip_that_inflates_far_beyond_its_size_in_total_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each member is under the per-member guard; together they are a bomb."""
    monkeypatch.setattr(ziplisting, "BOMB_MIN_BYTES", 256 * 1024)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for index in range(12):
            handle.writestr(f"ds/part{index:02}.log", bytes(200 * 1024))
    size = archive.stat().st_size
    budget = max(256 * 1024, dataset_module.BOMB_RATIO * size)
    with ZipDataset(archive) as dataset:
        items = list(dataset.walk())
        read = [item for item in items if isinstance(item, Entry)]
        refused = [item for item in items if isinstance(item, UnsafeName)]
        assert read and refused
        assert sum(item.size for item in read) <= budget
        assert all("decompression bomb" in item.reason for item in refused)
        with pytest.raises(FileNotFoundError):
            dataset.open(refused[0].path)
