"""Hostile PE files: import names pefile refuses, a DLL name without extension, many imports, overlapping
sections. Nothing may crash, and a dropped import table must not pass for a file without imports."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mk2ds.plugins.pe.facts import analyze
from mk2ds.plugins.synthetic.pe_builder import Section, build_pe


def _garbage_names() -> bytes:
    """Every function name of the only DLL is invalid for pefile (control and non-ASCII bytes)."""
    data = bytearray(build_pe(imports=[("kernel32.dll", ["ExitProcessXX", "SleepXXXXXXXX"])]))
    for name, replacement in (
        (b"ExitProcessXX", b"\xe3\x81\x82\xff\x1b[31m\x01\x02\x03"),
        (b"SleepXXXXXXXX", b"\x1b]0;t\x07\xff\xfe\x80abc"),
    ):
        start = data.find(name)
        data[start : start + len(name)] = replacement[: len(name)].ljust(len(name), b"x")
    return bytes(data)


def test_an_import_table_pefile_drops_is_a_warning_not_silence(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    sample = tmp_path / "garbage.exe"
    sample.write_bytes(_garbage_names())
    document = analyze(sample.read_bytes())
    assert document["imports_count"] == 0 and document["imphash"] == ""
    result = run_cli("pe", sample, "--format", "json")
    findings = json.loads(result.out)["findings"]
    assert [finding["code"] for finding in findings] == ["pe-imports-unread"]
    assert result.code == 0  # a warning: the numbers are still what pefile (and the dataset) computes
    assert "\x1b" not in run_cli("pe", sample).out


@pytest.mark.parametrize(
    "image",
    [
        build_pe(imports=[("KERNEL32", ["ExitProcess"]), ("user32.dll", ["MessageBoxA"])]),
        build_pe(imports=[("kernel32.dll", [f"F{index}" for index in range(9000)])]),
        build_pe(
            imports=[("kernel32.dll", ["ExitProcess"])],
            sections=[Section(".a", b"x" * 512), Section(".b", b"", alias_of=".a")],
        ),
        build_pe()[:300],
    ],
    ids=["dll-without-extension", "9000-imports", "overlapping-sections", "truncated"],
)
def test_odd_but_harmless_images_give_no_unread_imports_warning(image: bytes) -> None:
    document = analyze(image)
    assert document["status"] == "pe"
    assert not any(warning.startswith("mk2ds:") for warning in document["warnings"])


def test_a_dll_name_without_extension_is_named_like_pefile_does() -> None:
    document = analyze(build_pe(imports=[("KERNEL32", ["ExitProcess"]), ("user32.dll", ["MessageBoxA"])]))
    assert document["import_string"] == "kernel32.exitprocess,user32.messageboxa"


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_pe_refuses_a_fifo_or_a_device(run_cli: Callable[..., Any], tmp_path: Path, kind: str) -> None:
    """Issue 13 item 24: not a regular file -> exit 2 with a message (it used to print nothing, exit 0)."""
    if kind == "fifo":
        target = tmp_path / "pipe.exe"
        os.mkfifo(target)
    else:
        target = Path(os.devnull)
    result = run_cli("pe", target)
    assert result.code == 2
    assert "not a regular file" in result.err
    assert str(target) in result.err
