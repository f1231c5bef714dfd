from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from mk2ds.core.dataset import (
    Entry,
    FolderDataset,
    SubDataset,
    UnsafeName,
    ZipDataset,
    is_unsafe_name,
    open_dataset,
)


def _tree(root: Path) -> None:
    (root / "MK2Log" / "30m").mkdir(parents=True)
    (root / "MK2Log" / "30m" / "a.log").write_bytes(b"12345")
    (root / "README.txt").write_text("hello", encoding="utf-8")


def test_folder_walk_lists_files_and_folders_sorted(tmp_path: Path) -> None:
    _tree(tmp_path)
    items = list(FolderDataset(tmp_path).walk())
    assert items == [
        Entry("MK2Log", 0, True),
        Entry("MK2Log/30m", 0, True),
        Entry("MK2Log/30m/a.log", 5),
        Entry("README.txt", 5),
    ]


def test_link_leaving_the_root_is_reported_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("no", encoding="utf-8")
    os.symlink(secret, root / "escape.txt")
    items = list(FolderDataset(root).walk())
    assert items == [UnsafeName("escape.txt", "symbolic link pointing outside the dataset")]
    with pytest.raises(FileNotFoundError):
        FolderDataset(root).open("escape.txt")


def test_link_inside_the_root_is_a_file(tmp_path: Path) -> None:
    _tree(tmp_path)
    os.symlink(tmp_path / "README.txt", tmp_path / "alias.txt")
    assert Entry("alias.txt", 5) in list(FolderDataset(tmp_path).walk())


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x", "'..' component"),
        ("/etc/passwd", "absolute name"),
        ("C:/x", "drive-letter name"),
        ("a\\b", "backslash"),
        ("a/CON.txt", "reserved"),
    ],
)
def test_unsafe_names(name: str, reason: str) -> None:
    assert reason in (is_unsafe_name(name) or "")


def test_zip_dataset_reads_in_place_and_strips_single_top_folder(tmp_path: Path) -> None:
    archive = tmp_path / "ds.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("SolitonDataset2018/README.txt", "hi")
        handle.writestr("SolitonDataset2018/MK2Log/30m/a.log", "line")
        handle.writestr("../evil.txt", "x")
    dataset = open_dataset(archive)
    assert isinstance(dataset, ZipDataset)
    items = list(dataset.walk())
    assert UnsafeName("../evil.txt", "'..' component") in items
    assert Entry("MK2Log/30m/a.log", 4) in items
    assert dataset.read_bytes("README.txt") == b"hi"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds.zip"], "nothing extracted"
    dataset.close()


def test_sub_dataset_sees_payload_as_root(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "README.txt").write_text("x", encoding="utf-8")
    (tmp_path / "bagit.txt").write_text("BagIt-Version: 1.0\n", encoding="utf-8")
    sub = SubDataset(FolderDataset(tmp_path), "data")
    assert list(sub.walk()) == [Entry("README.txt", 1)]
    assert sub.read_bytes("README.txt") == b"x"


def test_open_dataset_names_the_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        open_dataset(tmp_path / "nope")
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="not a folder or a zip"):
        open_dataset(plain)
