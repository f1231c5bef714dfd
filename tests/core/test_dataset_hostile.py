"""Hostile datasets: link loops, damaged zips, encrypted members, duplicate names, decompression bombs.

Each must become an ``unsafe-path`` finding (or a usage error naming the file), never a traceback.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pyzipper

from mk2ds.core import ziplisting
from mk2ds.core.dataset import Entry, FolderDataset, UnsafeName, ZipDataset, open_dataset


def _unsafe(items: list[Entry | UnsafeName]) -> dict[str, str]:
    return {item.path: item.reason for item in items if isinstance(item, UnsafeName)}


def test_a_loop_of_symbolic_links_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("x", encoding="utf-8")
    os.symlink("second", tmp_path / "first")
    os.symlink("first", tmp_path / "second")
    items = list(FolderDataset(tmp_path).walk())
    assert _unsafe(items) == {"first": "symbolic link loop", "second": "symbolic link loop"}
    assert Entry("README.txt", 1) in items
    with pytest.raises(FileNotFoundError, match="loop"):
        FolderDataset(tmp_path).open("first")


def test_a_damaged_zip_is_a_file_not_found_naming_it(tmp_path: Path) -> None:
    archive = tmp_path / "ds.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ds/README.txt", "hello " * 100)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2] + data[-22:])  # end record kept, central directory cut
    assert zipfile.is_zipfile(archive)
    with pytest.raises(FileNotFoundError, match=r"ds\.zip: a damaged zip file"):
        open_dataset(archive)


def test_a_damaged_zip_is_a_usage_error_for_verify(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    archive = tmp_path / "ds.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ds/README.txt", "hello " * 100)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2] + data[-22:])
    result = run_cli("verify", archive, "--quiet")
    assert result.code == 2
    assert "damaged zip file" in result.err and "Traceback" not in result.err


def test_encrypted_members_are_reported_and_never_opened(tmp_path: Path) -> None:
    archive = tmp_path / "ds.zip"
    with pyzipper.AESZipFile(archive, "w", encryption=pyzipper.WZ_AES) as handle:
        handle.setpassword(b"infected")
        handle.writestr("ds/List.xlsx", b"secret")
    with zipfile.ZipFile(archive, "a") as handle:
        handle.writestr("ds/README.txt", "plain")
    with ZipDataset(archive) as dataset:
        items = list(dataset.walk())
        assert _unsafe(items) == {"List.xlsx": "encrypted zip member (a password is needed to read it)"}
        assert Entry("README.txt", 5) in items
        assert dataset.read_bytes("README.txt") == b"plain"
        with pytest.raises(FileNotFoundError):
            dataset.open("List.xlsx")


def test_encrypted_members_give_findings_not_plugin_errors(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    archive = tmp_path / "ds.zip"
    with pyzipper.AESZipFile(archive, "w", encryption=pyzipper.WZ_AES) as handle:
        handle.setpassword(b"infected")
        handle.writestr("ds/List.xlsx", b"secret")
        handle.writestr("ds/MK2Log/30m/" + "ab" * 32 + ".log", b"03/01/2018 19:00:00.000 +0900 sn=1 evt=ps\n")
    result = run_cli("verify", archive, "--quiet", "--format", "json")
    assert result.code == 1
    assert "plugin-error" not in result.out
    assert '"unsafe-path"' in result.out


def test_a_name_stored_twice_in_a_zip_is_reported_and_not_read(tmp_path: Path) -> None:
    archive = tmp_path / "ds.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ds/README.txt", "first")
        handle.writestr("ds/ENV.txt", "env")
        with pytest.warns(UserWarning, match="Duplicate name"):
            handle.writestr("ds/README.txt", "second, different")
    with ZipDataset(archive) as dataset:
        for _ in range(2):  # walking again (workers, SubDataset) must give the same answer
            items = list(dataset.walk())
            assert _unsafe(items) == {
                "README.txt": "name occurs 2 times in the zip (tools disagree on which copy they extract)"
            }
            assert [item.path for item in items if isinstance(item, Entry)] == ["ENV.txt"]
        with pytest.raises(FileNotFoundError):
            dataset.open("README.txt")
        assert dataset.read_bytes("ENV.txt") == b"env"


def test_a_decompression_bomb_member_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ziplisting, "BOMB_MIN_BYTES", 1 << 20)  # a small bomb keeps the test fast
    archive = tmp_path / "ds.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("ds/MK2Log/Normal/PC1.log", b"\n" * (4 << 20))
        handle.writestr("ds/README.txt", b"readme " * 1000)
    with ZipDataset(archive) as dataset:
        unsafe = _unsafe(list(dataset.walk()))
    assert list(unsafe) == ["MK2Log/Normal/PC1.log"]
    assert unsafe["MK2Log/Normal/PC1.log"].startswith("decompression bomb (4194304 bytes from ")


def test_zip_from_a_japanese_windows_tool_is_read_as_meant(tmp_path: Path) -> None:
    """CP932 names without the UTF-8 flag and '\\' separators: the names the author saw, and one notice each."""
    import zipfile

    from mk2ds.core.dataset import NameNotice

    archive = tmp_path / "windows.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for name, data in (("ds\\README.txt", b"r"), ("ds\\Reports\\解析.txt", b"x")):
            info = zipfile.ZipInfo(name)
            handle.writestr(info, data)
    raw = archive.read_bytes()
    # Store the Japanese name as CP932 bytes without the UTF-8 flag, as Explorer's zip does.
    utf8, cp932 = "ds\\Reports\\解析.txt".encode(), "ds\\Reports\\解析.txt".encode("cp932")
    patched = raw.replace(utf8, cp932.ljust(len(utf8), b"_"))
    patched = patched.replace(b"\x00\x08", b"\x00\x00")  # clear the UTF-8 flag bits (general purpose flag 0x800)
    archive.write_bytes(patched)
    dataset = ZipDataset(archive)
    items = list(dataset.walk())
    notices = [item for item in items if isinstance(item, NameNotice)]
    entries = {item.path for item in items if isinstance(item, Entry)}
    assert "README.txt" in entries and any(path.startswith("Reports/解析") for path in entries)
    assert len(notices) == 2
    assert dataset.read_bytes("README.txt") == b"r"


@pytest.mark.parametrize("name", ["ds.zip", "ds.bin"])
def test_a_truncated_zip_is_called_a_damaged_zip(tmp_path: Path, name: str) -> None:
    """Issue 13 item 26: not "not a folder or a zip file"."""
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        archive.writestr("ds/README.txt", "readme " * 200)
        archive.writestr("ds/List.xlsx", b"x" * 4000)
    truncated = tmp_path / name
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(FileNotFoundError, match="damaged zip") as raised:
        open_dataset(truncated)
    assert name in str(raised.value) and "not a folder or a zip" not in str(raised.value)


def test_verify_says_a_truncated_zip_is_damaged(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    truncated = tmp_path / "ds.zip"
    truncated.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    result = run_cli("verify", truncated, "--quiet")
    assert result.code == 2
    assert "damaged zip" in result.err
