"""Atomic output files: complete or absent, and an unwritable target is a clear usage error (exit 2)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core import atomic
from mk2ds.core.atomic import atomic_writer, write_atomic
from mk2ds.core.errors import OutputNotWritable, UsageError


def test_a_missing_folder_that_cannot_be_made_is_output_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputNotWritable) as caught:
        write_atomic(blocker / "sub" / "out.txt", "data")
    assert isinstance(caught.value, UsageError) and isinstance(caught.value, OSError)
    assert str(caught.value).startswith(f"cannot write {blocker / 'sub' / 'out.txt'}: ")


def test_a_folder_as_target_is_output_not_writable_and_leaves_no_part_file(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputNotWritable, match="cannot write"):
        write_atomic(tmp_path / "out", "data")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_a_full_disk_while_writing_is_output_not_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    target = tmp_path / "out.txt"
    with pytest.raises(OutputNotWritable, match="No space left on device"):
        write_atomic(target, "data")
    assert list(tmp_path.iterdir()) == []


def test_an_unrelated_os_error_inside_the_block_is_left_alone(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught, atomic_writer(tmp_path / "out.txt"):
        raise FileNotFoundError(errno.ENOENT, "input gone", "input.log")
    assert not isinstance(caught.value, OutputNotWritable)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["verify", "{dataset}", "--quiet"], ["pe", "{sample}"], ["tree", "{log}"]])
def test_commands_report_an_unwritable_output_without_a_traceback(
    run_cli: Callable[..., Any], tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "dataset").mkdir()
    (tmp_path / "sample.exe").write_bytes(b"MZ")
    (tmp_path / "a.log").write_bytes(
        b'03/01/2018 19:00:00.000 +0900 sn=1 evt=ps subEvt=start psGUID={A} psPath="C:\\a.exe"\n'
    )
    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")
    places = {"dataset": tmp_path / "dataset", "sample": tmp_path / "sample.exe", "log": tmp_path / "a.log"}
    args = [part.format(**places) for part in command]
    result = run_cli(*args, "-o", blocker / "sub" / "report.txt")
    assert result.code == 2
    assert f"cannot write {blocker / 'sub' / 'report.txt'}" in result.err
