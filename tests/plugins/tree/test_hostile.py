"""``mk2ds tree`` on hostile input: very deep chains, JSON that is not UTF-8, a hash prefix shared by two samples,
control characters and markup in names."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mk2ds.plugins.tree.model import build_model
from mk2ds.plugins.tree.text import MAX_DRAWN_DEPTH, render


def _guid(number: int) -> str:
    return f"{{{number:08X}-0000-0000-0000-000000000000}}"


def _start(number: int, parent: int | None, cmd: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": f"2018-03-01T19:00:{number % 60:02d}.000+09:00",
        "sn": number,
        "evt": "ps",
        "subEvt": "start",
        "com": "PC1",
        "psGUID": _guid(number),
        "psPath": f"C:\\p{number}.exe",
    }
    if parent is not None:
        record.update(parentGUID=_guid(parent), parentPath=f"C:\\p{parent}.exe")
    if cmd is not None:
        record["cmd"] = cmd
    return record


def test_a_deep_chain_is_indented_only_to_a_limit() -> None:
    depth = MAX_DRAWN_DEPTH + 40
    records = [_start(1, None)] + [_start(number, number - 1) for number in range(2, depth + 2)]
    text = render(build_model(records).to_document(argparse.Namespace()), argparse.Namespace(color="never"))
    rows = [line for line in text.splitlines() if ".exe  " in line and "19:00:" in line]
    assert len(rows) == depth + 1  # every process is still shown
    widest = max(len(line) - len(line.lstrip(" │├└─")) for line in rows)
    assert widest <= 3 * MAX_DRAWN_DEPTH + 3
    assert f"⋯[depth {depth}] p{depth + 1}.exe" in text


def test_json_lines_that_are_not_utf8_are_rejected_one_by_one(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "records.jsonl"
    source.write_bytes(
        json.dumps(_start(1, None)).encode() + b"\n\xff\xfe not text\n" + json.dumps(_start(2, 1)).encode() + b"\n"
    )
    result = run_cli("tree", source, "--format", "json")
    assert result.code == 1
    assert "records.jsonl:2: bytes that are not UTF-8 at byte 1" in result.err
    assert json.loads(result.out)["inputs"] == [{"name": str(source), "records": 2, "rejected": 1}]


def test_a_json_array_that_is_not_utf8_is_a_reject_not_a_traceback(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "records.json"
    source.write_bytes(b"[" + json.dumps(_start(1, None)).encode() + b', {"time": "\xff"}]')
    result = run_cli("tree", source)
    assert result.code == 1
    assert "records.json:array: bytes that are not UTF-8" in result.err


def test_a_hash_prefix_shared_by_two_samples_is_refused(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    logs = tmp_path / "ds" / "MK2Log" / "30m"
    logs.mkdir(parents=True)
    line = b'03/01/2018 19:00:00.000 +0900 sn=1 evt=ps subEvt=start com="PC1" psGUID={A} psPath="C:\\a.exe"\n'
    first, second = "ab" * 31 + "01", "ab" * 31 + "02"
    for sample in (first, second):
        (logs / f"{sample}.log").write_bytes(line)
    result = run_cli("tree", tmp_path / "ds", "--sample", "abab")
    assert result.code == 2
    assert f"({first}, {second}); give more of the hash" in result.err
    assert run_cli("tree", tmp_path / "ds", "--sample", first).code == 0


def test_markup_and_terminal_escapes_from_the_log_stay_inert(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    records = [_start(1, None, cmd="\x1b[31mred\x1b[0m \x1b]0;title\x07 \x9b2J"), _start(2, 1)]
    records[1]["psPath"] = "C:\\</script><script>alert(1)</script>.exe"
    source = tmp_path / "records.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    text = run_cli("tree", source, "--color", "always")
    assert text.code == 0
    assert "\x1b]" not in text.out and "\x9b" not in text.out and "\x07" not in text.out
    assert "\\x1b[31mred" in text.out
    html = run_cli("tree", source, "--format", "html")
    assert html.code == 0
    assert "<script>alert(1)" not in html.out and "</script><script>" not in html.out
