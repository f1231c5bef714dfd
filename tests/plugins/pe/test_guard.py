"""The child-process guard: hostile files that hang or explode pefile are stopped, and the next file works."""

from __future__ import annotations

import os
import signal
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mk2ds.plugins.pe.guard import GuardedParser
from mk2ds.plugins.pe.impfuzzy import deterministic_bytes
from mk2ds.plugins.synthetic.pe_builder import Section, build_pe

NORMAL = build_pe(imports=[("KERNEL32.dll", ["ExitProcess"])])


def overlapping_sections(count: int = 2000, size: int = 1 << 20) -> bytes:
    """``count`` sections all mapping the same 1 MiB: pefile computes each one's entropy anew (minutes)."""
    blob = Section(".blob", deterministic_bytes("blob", size))
    return build_pe(sections=[blob, *(Section(f".a{index}", b"", alias_of=".blob") for index in range(count))])


def relocation_bomb(blocks: int = 4) -> bytes:
    """Base-relocation blocks of 65,536 distinct entries each: a full pefile load builds ~1 KB of Python
    objects per 2-byte entry, so half a megabyte of file asks for hundreds of megabytes of memory."""
    entries = b"".join(struct.pack("<H", (kind << 12) | offset) for kind in range(16) for offset in range(4096))
    block = struct.pack("<II", 0x1000, 8 + len(entries)) + entries
    return build_pe(sections=[Section(".reloc", block * blocks, 0x42000040)], data_directories={5: ".reloc"})


@pytest.fixture
def parser() -> Iterator[GuardedParser]:
    with GuardedParser(timeout=20, memory_mb=512) as guarded:
        yield guarded


def test_a_normal_file_is_parsed_in_the_child(parser: GuardedParser) -> None:
    result = parser.run("facts", NORMAL)
    assert result.status == "ok"
    assert result.value["import_string"] == "kernel32.exitprocess"
    assert parser.run("facts", b"not a pe").value == {"status": "not-pe", "not_pe_reason": "no MZ header"}
    assert parser.restarts == 1  # one child serves every file


def test_guarded_and_unguarded_results_are_identical(parser: GuardedParser) -> None:
    data = build_pe(machine="amd64", imports=[("WS2_32.dll", [1, 2]), ("USER32.dll", ["MessageBoxW"])])
    with GuardedParser(guarded=False) as unguarded:
        assert parser.run("dump", data) == unguarded.run("dump", data)


def test_a_file_that_hangs_pefile_times_out_and_the_next_one_works() -> None:
    with GuardedParser(timeout=1, memory_mb=512) as guarded:
        result = guarded.run("facts", overlapping_sections())
        assert result.status == "timeout"
        assert "1 s" in result.message
        assert guarded.run("facts", NORMAL).status == "ok"
        assert guarded.restarts == 2  # the hung child was killed and replaced


def test_a_file_that_explodes_pefile_hits_the_memory_limit() -> None:
    bomb = relocation_bomb()
    with GuardedParser(timeout=180, memory_mb=100) as guarded:  # generous timeout: a loaded machine is slow
        assert guarded.run("dump", NORMAL).status == "ok"  # the limit leaves room for normal work
        result = guarded.run("dump", bomb)
        assert result.status == "memory"
        assert "100 MiB" in result.message
        assert guarded.run("facts", NORMAL).status == "ok"
    with GuardedParser(timeout=180, memory_mb=100) as guarded:  # generous timeout: a loaded machine is slow
        assert guarded.run("facts", bomb).status == "ok"  # headers and imports only: relocations unread


def test_a_child_that_dies_is_reported_as_crashed() -> None:
    with GuardedParser(timeout=30, memory_mb=512) as guarded:
        assert guarded.run("facts", NORMAL).status == "ok"
        child = guarded._process
        assert child is not None
        # the child (which this test's parser started) dies in the middle of a long parse
        killer = threading.Timer(0.5, os.kill, args=(child.pid, signal.SIGKILL))
        killer.start()
        try:
            result = guarded.run("facts", overlapping_sections())
        finally:
            killer.join()
        assert result.status == "crashed"
        assert "killed by signal 9" in result.message
        assert guarded.run("facts", NORMAL).status == "ok"


def test_close_is_idempotent_and_restarts_lazily() -> None:
    guarded = GuardedParser(timeout=20, memory_mb=256)
    guarded.close()
    assert guarded.run("facts", NORMAL).status == "ok"
    guarded.close()
    guarded.close()
    assert guarded.run("facts", NORMAL).status == "ok"
    guarded.close()


def test_the_child_starts_isolated_from_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13 item 2: planted ``argparse.py``/``pefile.py`` in the current folder (a dataset) never run."""
    marker = tmp_path / "marker"
    planted = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    for name in ("argparse", "pefile", "json", "mk2ds"):
        (tmp_path / f"{name}.py").write_text(planted)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with GuardedParser(timeout=20, memory_mb=512) as guarded:
        result = guarded.run("facts", NORMAL)
    assert result.status == "ok", result
    assert result.value["import_string"] == "kernel32.exitprocess"
    assert not marker.exists(), marker.read_text()


def test_a_file_too_big_for_the_memory_limit_is_memory_not_a_crash() -> None:
    """The child runs out of memory while it is still receiving the file (before pefile sees it)."""
    with GuardedParser(timeout=60, memory_mb=100) as guarded:
        result = guarded.run("facts", b"MZ" + bytes(80 << 20))
        assert result.status == "memory", result.message
        assert "100 MiB" in result.message
        assert guarded.run("facts", NORMAL).status == "ok"
