"""``pack`` on hostile file systems (issue 13 items 10 and 22): a read-only or full target is exit 2 with a
message, never a traceback, and leaves nothing behind."""

from __future__ import annotations

import errno
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.plugins.bagit import hashing

PROFILE = Path(__file__).parents[2] / "data" / "pack" / "tiny.profile.json"
Run = Callable[..., Any]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    (root / "logs").mkdir(parents=True)
    (root / "README.txt").write_bytes(b"a tiny distribution\n")
    (root / "logs" / "a.log").write_bytes(b"line\n" * 1000)
    return root


def pack(run_cli: Run, src: Path, out: Path, *extra: str) -> Any:
    return run_cli("pack", src, out, "--profile", PROFILE, "--date", "2024-05-01", "--quiet", *extra)


class _FullDisk:
    """A file whose writes fail like a full disk."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self) -> None:
        pass

    def __enter__(self) -> _FullDisk:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.mark.parametrize("extra", [(), ("--zip",)])
def test_pack_into_a_read_only_folder_is_a_usage_error(
    src: Path, tmp_path: Path, run_cli: Run, read_only: Any, monkeypatch: pytest.MonkeyPatch, extra: tuple[str, ...]
) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    if os.geteuid() == 0:  # root writes anyway: a read-only file system is simulated

        def read_only_file_system(*args: Any, **kwargs: Any) -> Any:
            raise OSError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(tempfile, "mkdtemp", read_only_file_system)
        monkeypatch.setattr(tempfile, "mkstemp", read_only_file_system)
    with read_only(target):
        result = pack(run_cli, src, target / ("bag.zip" if extra else "bag"), *extra)
    assert result.code == 2, result.err
    assert "cannot write" in result.err and str(target / "bag") in result.err
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_pack_onto_a_full_disk_is_a_usage_error_and_leaves_nothing(
    src: Path, tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "xb":  # the copies of the payload files
            return _FullDisk()
        return open(file, mode, *args, **kwargs)

    monkeypatch.setattr(hashing, "open", fake_open, raising=False)
    result = pack(run_cli, src, tmp_path / "out" / "bag", "-j", jobs)
    assert result.code == 2, result.err
    assert "No space left on device" in result.err and "cannot read" not in result.err
    assert list((tmp_path / "out").iterdir()) == []


def test_pack_zip_onto_a_full_disk_is_a_usage_error_and_leaves_nothing(
    src: Path, tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: Any, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile._ZipWriteFile, "write", full)  # type: ignore[attr-defined]
    result = pack(run_cli, src, tmp_path / "out" / "bag.zip", "--zip")
    assert result.code == 2, result.err
    assert "No space left on device" in result.err and "cannot read" not in result.err
    assert list((tmp_path / "out").iterdir()) == []
