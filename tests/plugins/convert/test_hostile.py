"""``mk2ds convert`` side outputs (``--rejects``, ``--report``) must not destroy the input or the output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

LOG = b"03/01/2018 19:00:00.000 +0900 sn=1 evt=ps subEvt=start\n03/01/2018 24:00:00.000 +0900 sn=2 evt=ps subEvt=stop\n"


def test_rejects_file_equal_to_the_input_is_refused(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--rejects", source)
    assert result.code == 2
    assert source.read_bytes() == LOG


def test_report_file_equal_to_the_input_is_refused(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--report", source)
    assert result.code == 2
    assert source.read_bytes() == LOG


def test_rejects_file_equal_to_the_output_is_refused(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    output = tmp_path / "a.jsonl"
    result = run_cli("convert", source, "-o", output, "--rejects", output)
    assert result.code == 2


@pytest.mark.parametrize(
    ("option", "named", "role"),
    [
        ("--rejects", "input", "input"),
        ("--report", "input", "input"),
        ("--report", "output", "output"),
        ("--rejects", "output", "output"),
    ],
)
def test_the_refusal_names_the_option_and_the_file(
    run_cli: Callable[..., Any], tmp_path: Path, option: str, named: str, role: str
) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    output = tmp_path / "a.jsonl"
    output.write_bytes(b"earlier output\n")
    target = source if named == "input" else output
    result = run_cli("convert", source, "-o", output, option, target)
    assert result.code == 2
    assert f"{option} {target}: that is the {role} {target}" in result.err
    assert source.read_bytes() == LOG and output.read_bytes() == b"earlier output\n"


def test_a_hard_link_to_the_input_is_the_input(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    (tmp_path / "link.rejects").hardlink_to(source)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--rejects", tmp_path / "link.rejects")
    assert result.code == 2 and source.read_bytes() == LOG


def test_the_report_is_refused_over_the_default_rejects_file(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl", "--report", tmp_path / "a.jsonl.rejects")
    assert result.code == 2 and "rejects file" in result.err


def test_separate_side_outputs_still_work(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(LOG)
    result = run_cli(
        "convert",
        source,
        "-o",
        tmp_path / "a.jsonl",
        "--rejects",
        tmp_path / "r.txt",
        "--report",
        tmp_path / "report.json",
    )
    assert result.code == 1 and (tmp_path / "r.txt").read_bytes() == b"2\t" + LOG.splitlines()[1] + b"\n"
    assert (tmp_path / "report.json").exists() and source.read_bytes() == LOG


def test_the_json_report_counts_errors_per_file(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    """Issue 13 item 25: a file with rejected lines shows its errors in the report's per-file counts."""
    folder = tmp_path / "logs"
    folder.mkdir()
    good = b"03/05/2018 10:12:03.114 +0900 sn=1 evt=ps subEvt=start cmd=abc\r\n"
    (folder / "bad.log").write_bytes(good + b"bad line\r\nworse line\r\n")
    (folder / "good.log").write_bytes(good)
    report = tmp_path / "report.json"
    result = run_cli("convert", folder, "-o", tmp_path / "out", "--report", report, "--quiet")
    assert result.code == 1
    document = json.loads(report.read_text(encoding="utf-8"))
    counts = {sample["id"]: sample["findings"]["error"] for sample in document["samples"]}
    assert counts == {f"{folder}/bad.log": 2, f"{folder}/good.log": 0}
    assert sum(counts.values()) == document["summary"]["error"]


def test_convert_dir_refuses_links_leaving_the_input_tree(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    """Issue 13 item 3: ``leak.log -> a system file`` is refused with a finding naming the link, not copied."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:secret line\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "other.log").write_text("other:secret\n")
    folder = tmp_path / "logs"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.log").write_bytes(b"03/05/2018 10:12:03.114 +0900 sn=1 evt=ps subEvt=start cmd=abc\r\n")
    (folder / "leak.log").symlink_to(secret)
    (folder / "sub" / "away").symlink_to(outside, target_is_directory=True)
    (folder / "inside.log").symlink_to(folder / "good.log")
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    result = run_cli("convert", folder, "-o", out, "--report", report)
    assert result.code == 1
    assert f"{folder}/leak.log" in result.err and "outside the input folder" in result.err
    written = {path.relative_to(out).as_posix(): path.read_bytes() for path in out.rglob("*") if path.is_file()}
    assert sorted(written) == ["good.jsonl", "inside.jsonl"]
    assert not any(b"secret" in data for data in written.values())
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert sorted((finding["code"], finding["path"]) for finding in findings) == [
        ("unsafe-path", f"{folder}/leak.log"),
        ("unsafe-path", f"{folder}/sub/away"),
    ]


def test_convert_dir_with_only_a_leaving_link_names_it(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "leak.log").symlink_to("/etc/passwd")
    result = run_cli("convert", folder, "-o", tmp_path / "out")
    assert result.code == 2
    assert "leak.log" in result.err and "outside the input folder" in result.err
    assert not (tmp_path / "out").exists()


GOOD_LINE = b"03/05/2018 10:12:03.114 +0900 sn=1 evt=ps subEvt=start cmd=abc\r\n"


@pytest.mark.parametrize("name", ["SHA256SUMS", "notes.txt"])
def test_a_named_rejects_file_is_never_removed(run_cli: Callable[..., Any], tmp_path: Path, name: str) -> None:
    """Issue 13 item 1: with nothing rejected, ``--rejects FILE`` used to be deleted (exit 0)."""
    log = tmp_path / "a.log"
    log.write_bytes(GOOD_LINE)
    kept = tmp_path / "elsewhere" / name
    kept.parent.mkdir()
    kept.write_bytes(b"1\tlooks like rejects but is the user's\n")
    for output in (tmp_path / "out.jsonl", "-"):
        result = run_cli("convert", log, "-o", output, "--rejects", kept)
        assert result.code == 0
        assert kept.read_bytes() == b"1\tlooks like rejects but is the user's\n"


def test_a_default_rejects_name_is_removed_only_when_it_holds_rejects(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(GOOD_LINE)
    notes = tmp_path / "out.jsonl.rejects"
    notes.write_text("my notes, not rejected lines\n")
    assert run_cli("convert", log, "-o", tmp_path / "out.jsonl").code == 0
    assert notes.read_text() == "my notes, not rejected lines\n"
    notes.write_bytes(b"12\tan old rejected line\n")
    assert run_cli("convert", log, "-o", tmp_path / "out.jsonl").code == 0
    assert not notes.exists()
