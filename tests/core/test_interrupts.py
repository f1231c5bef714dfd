"""SIGTERM is handled like SIGINT, and stale parts of killed runs are cleaned up (issue 13 item 22)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core import atomic

LINE = b"03/05/2018 10:12:03.114 +0900 sn=1 evt=ps subEvt=start cmd=abc\r\n"


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True, text=True
    )
    return int(child.stdout)


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # generous: a loaded machine is slow; never a speed assertion
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_terminated_convert_removes_its_parts_and_exits_130(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, "-c", "import sys; from mk2ds.core.cli import main; sys.exit(main())"]
    process = subprocess.Popen(
        [*command, "convert", "-", "-o", str(out / "a.jsonl"), "--rejects", str(out / "r.txt"), "--quiet"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(LINE * 20000 + b"rejected line\n" + LINE * 20000)
        process.stdin.flush()
        _wait_for(lambda: any(out.iterdir()), "the output's part")  # (the reader waits for more input)
        assert all(path.name.endswith(".part") for path in out.iterdir())
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert b"interrupted" in err
    assert list(out.iterdir()) == []


def test_the_next_run_removes_stale_parts_of_killed_runs(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(LINE + b"bad\n")
    out = tmp_path / "out"
    out.mkdir()
    gone = dead_pid()
    stale = [
        f".a.jsonl.mk2ds-{gone}-k3x9_q1z.part",
        f".a.jsonl.rejects.mk2ds-{gone}-abcd1234.part",
        f".old.csv.mk2ds-{gone}-zz.part",
    ]
    for name in stale:
        (out / name).write_bytes(b"torn")
    alive = f".a.jsonl.mk2ds-{os.getpid()}-mine0000.part"  # a run still going (this process): kept
    foreign = [".a.jsonl.part", "a.jsonl.mk2ds-1-x.part", ".notes.mk2ds-abc-x.part"]  # not mk2ds parts: kept
    for name in [alive, *foreign]:
        (out / name).write_bytes(b"keep")
    result = run_cli("convert", tmp_path / "a.log", "-o", out / "a.jsonl", "--quiet")
    assert result.code == 1
    assert sorted(path.name for path in out.iterdir()) == sorted([alive, *foreign, "a.jsonl", "a.jsonl.rejects"])


def test_pack_removes_a_stale_bag_part_folder(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "README.txt").write_text("readme")
    out = tmp_path / "out"
    stale = out / f".bag.mk2ds-{dead_pid()}-a1b2c3d4.part"
    (stale / "data").mkdir(parents=True)
    (stale / "data" / "README.txt").write_text("torn")
    profile = Path(__file__).parents[1] / "data" / "pack" / "tiny.profile.json"
    result = run_cli("pack", src, out / "bag", "--profile", profile, "--quiet", "--force")
    assert result.code == 0, result.err
    assert sorted(path.name for path in out.iterdir()) == ["bag"]


def test_a_part_that_is_a_link_is_removed_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / f".x.mk2ds-{dead_pid()}-link.part").symlink_to(victim, target_is_directory=True)
    assert len(atomic.remove_stale_parts(folder)) == 1
    assert not any(folder.iterdir())
    assert (victim / "keep.txt").read_text() == "keep"
    with atomic.atomic_writer(folder / "y.txt") as handle:
        handle.write(b"y")
    assert (folder / "y.txt").read_bytes() == b"y"
