"""``mk2ds convert``: outputs, rejects, conservation, exit codes, parallel runs, atomicity, stdin/stdout."""

from __future__ import annotations

import argparse
import io
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mk2ds.core.errors import UsageError
from mk2ds.core.outputs import OutputFormat
from mk2ds.core.schemas import validate_document
from mk2ds.plugins.convert.jobs import ConvertJob, plan_jobs
from mk2ds.plugins.convert.one_file import convert_file

DATA = Path(__file__).parents[2] / "data" / "mk2log"
GOLDEN = Path(__file__).parents[2] / "golden" / "convert"
COMPOSED = DATA / "composed.log"
SEED = DATA / "seed-lines.log"
C45 = COMPOSED.read_bytes().splitlines()[44]


def records_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------------------------------------- golden


@pytest.mark.parametrize("name", ["seed-lines", "seed-lines-yen", "composed"])
def test_golden_jsonl(
    name: str, tmp_path: Path, run_cli: Callable[..., Any], golden: Callable[[Path, str], None]
) -> None:
    output = tmp_path / f"{name}.jsonl"
    result = run_cli("convert", DATA / f"{name}.log", "-o", output)
    assert result.code == (1 if name == "composed" else 0), result.err
    golden(GOLDEN / f"{name}.jsonl", output.read_text(encoding="utf-8"))
    rejects = tmp_path / f"{name}.jsonl.rejects"
    assert rejects.exists() == (name == "composed")
    if rejects.exists():
        golden(GOLDEN / f"{name}.jsonl.rejects", rejects.read_text(encoding="utf-8"))
    for record in records_of(output):
        assert validate_document(record, "record") == []


@pytest.mark.parametrize(
    ("output_format", "golden_name"), [("json", "seed-lines.array.json"), ("mk2log", "seed-lines.mk2log.json")]
)
def test_golden_other_formats(
    output_format: str,
    golden_name: str,
    tmp_path: Path,
    run_cli: Callable[..., Any],
    golden: Callable[[Path, str], None],
) -> None:
    output = tmp_path / "seed.json"
    assert run_cli("convert", SEED, "-o", output, "--format", output_format).code == 0
    golden(GOLDEN / golden_name, output.read_text(encoding="utf-8"))


def test_json_output_is_the_jsonl_records_as_an_array(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    run_cli("convert", SEED, "-o", tmp_path / "a.jsonl")
    run_cli("convert", SEED, "-o", tmp_path / "a.json", "--format", "json")
    assert json.loads((tmp_path / "a.json").read_text(encoding="utf-8")) == records_of(tmp_path / "a.jsonl")


def test_mk2log_output_has_strings_date_and_timestamp(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    run_cli("convert", SEED, "-o", tmp_path / "a.json", "--format", "mk2log")
    documents = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    first, last = documents[0], documents[-1]
    assert list(first)[:3] == ["date", "timeStamp", "sn"] and "time" not in first
    assert first["date"] == "2018/03/01 19:55:17.836" and first["timeStamp"] == "1519901717"  # 10:55:17 UTC
    assert last["timeStamp"] == "1522179893"  # zone-less: its clock time taken as UTC
    assert all(isinstance(value, str) for document in documents for value in document.values())


# ---------------------------------------------------------------------------------------------- rejects, summary, report


def test_rejects_file_and_exit_code(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    output = tmp_path / "out.jsonl"
    result = run_cli("convert", COMPOSED, "-o", output)
    assert result.code == 1
    assert (tmp_path / "out.jsonl.rejects").read_bytes() == b"45\t" + C45 + b"\n"
    assert len(output.read_text(encoding="utf-8").splitlines()) == 44
    assert "45 lines = 44 records + 1 rejected + 0 blank" in result.err
    assert f"{COMPOSED}:45:123" in result.err and "log-duplicate-key" in result.err


def test_stale_rejects_file_is_removed(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    output = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.rejects").write_bytes(b"1\told\n")
    assert run_cli("convert", SEED, "-o", output).code == 0
    assert not (tmp_path / "out.jsonl.rejects").exists()


def test_report_proves_conservation(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    source = tmp_path / "in.log"
    source.write_bytes(SEED.read_bytes() + b"\r\n\r\nnot a line\r\n" + C45 + b"\r\n\x1a")
    report_path = tmp_path / "report.json"
    result = run_cli("convert", source, "-o", tmp_path / "out.jsonl", "--report", report_path)
    assert result.code == 1
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert validate_document(report, "report") == []
    assert report["stats"] == {
        "files": 1,
        "lines": 17,
        "records": 12,
        "rejected": 2,
        "blank": 3,
        "bytes": source.stat().st_size,
    }
    assert report["exit_code"] == 1 and report["summary"]["error"] == 2 and report["summary"]["info"] == 2
    assert report["samples"][0]["facts"]["rejects"] == str(tmp_path / "out.jsonl") + ".rejects"
    assert (tmp_path / "out.jsonl.rejects").read_bytes() == b"15\tnot a line\n16\t" + C45 + b"\n"


def test_quiet_prints_only_problems(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    assert run_cli("convert", SEED, "-o", tmp_path / "a.jsonl", "--quiet", "--assume-offset", "+0900").err == ""
    unknown = run_cli("convert", SEED, "-o", tmp_path / "a.jsonl", "--quiet")
    assert unknown.code == 0 and "time-offset-unknown" in unknown.err and "records +" not in unknown.err
    result = run_cli("convert", COMPOSED, "-o", tmp_path / "b.jsonl", "--quiet")
    assert result.code == 1 and "log-duplicate-key" in result.err and "records +" not in result.err


# ---------------------------------------------------------------------------------------------- options


def test_provenance_and_assumed_offset(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    output = tmp_path / "a.jsonl"
    assert run_cli("convert", SEED, "-o", output, "--provenance", "--assume-offset", "+09:00").code == 0
    records = records_of(output)
    assert [(record["_file"], record["_line"]) for record in records] == [
        (str(SEED), number) for number in range(1, 13)
    ]
    # the zone-less time stays local; the offset and its source follow it
    assert (records[-1]["time"], records[-1]["time_offset"], records[-1]["time_offset_source"]) == (
        "2018-03-27T19:44:53.926",
        "+09:00",
        "option",
    )


def test_zone_less_offset_from_the_distribution(
    tmp_path: Path, run_cli: Callable[..., Any], make_distribution: Callable[[Path], None]
) -> None:
    """A zone-less log converted alone has an unknown offset (one warning, with the count, in the summary);
    inside a distribution, or with --dataset, it gets the Sysinfo time zone (UTF-16, CP932 or UTF-8)."""
    dist = tmp_path / "dist"
    make_distribution(dist)
    log = dist / "MK2Log" / "OlympicDestroyer" / "PC1.log"
    log.write_bytes(
        b"03/27/2018 19:44:53.926 sn=1 evt=ps subEvt=start\n03/27/2018 19:44:54.000 sn=2 evt=ps subEvt=stop\n"
    )
    alone = tmp_path / "PC1.log"
    alone.write_bytes(log.read_bytes())
    result = run_cli("convert", alone, "-o", tmp_path / "alone.jsonl", "--format", "timesketch")
    assert result.code == 0 and "2 zone-less times have no known offset (time-offset-unknown)" in result.err
    assert "warning time-offset-unknown" in " ".join(result.err.split())
    event = records_of(tmp_path / "alone.jsonl")[0]
    assert (event["time_offset_source"], event["time_zone_assumed"]) == ("unknown", "+00:00")
    for arguments in ([log], [alone, "--dataset", dist]):
        result = run_cli("convert", *arguments, "-o", tmp_path / "in.jsonl", "--format", "timesketch")
        assert result.code == 0 and "time-offset-unknown" not in result.err, result.err
        event = records_of(tmp_path / "in.jsonl")[0]
        assert (event["datetime"], event["time_offset_source"]) == ("2018-03-27T19:44:53.926+09:00", "sysinfo")
        assert "time_zone_assumed" not in event
    result = run_cli("convert", log, "-o", tmp_path / "option.jsonl", "--assume-offset", "-0500")
    assert records_of(tmp_path / "option.jsonl")[0]["time_offset"] == "-05:00"  # the user's offset comes first


def test_cp932_input(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    source = tmp_path / "sjis.log"
    source.write_bytes(COMPOSED.read_text(encoding="utf-8").encode("cp932", errors="replace").replace(b"\n", b"\r\n"))
    result = run_cli("convert", source, "-o", tmp_path / "a.jsonl")
    assert result.code == 1 and "CP932" in result.err
    run_cli("convert", COMPOSED, "-o", tmp_path / "b.jsonl")
    cp932 = records_of(tmp_path / "a.jsonl")
    assert [record["sn"] for record in cp932] == [record["sn"] for record in records_of(tmp_path / "b.jsonl")]
    assert any("メモ" in str(record.get("path")) for record in cp932)


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["nope.log", "-o", "x.jsonl"], "nope.log: no such file"),
        ([str(SEED), "-o", "x", "--format", "nope"], "unknown records format 'nope'"),
        ([str(SEED), str(COMPOSED), "-o", "-"], "exactly one input"),
        ([str(SEED), "-o", "x.jsonl", "--assume-offset", "JST"], "--assume-offset"),
        ([str(SEED), "-o", "x", "-j", "-1"], "-j"),
        (["-", "-", "-o", "x"], "only INPUT"),
    ],
)
def test_usage_errors(
    arguments: list[str], words: str, tmp_path: Path, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("convert", *arguments)
    assert result.code == 2 and words in result.err


def test_output_over_input_is_refused(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    source = tmp_path / "a.log"
    shutil.copy(SEED, source)
    result = run_cli("convert", source, "-o", source)
    assert result.code == 2 and "overwrite the input" in result.err and source.read_bytes() == SEED.read_bytes()


def test_unwritable_output_is_a_usage_error(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    (tmp_path / "file").write_text("x")
    result = run_cli("convert", SEED, "-o", tmp_path / "file" / "sub" / "a.jsonl")
    assert result.code == 2 and "error:" in result.err


# ---------------------------------------------------------------------------------------------- folders, parallel


def make_tree(root: Path) -> Path:
    (root / "in" / "30m" / "deep").mkdir(parents=True)
    shutil.copy(COMPOSED, root / "in" / "30m" / "a.log")
    shutil.copy(SEED, root / "in" / "30m" / "deep" / "b.LOG")
    shutil.copy(DATA / "seed-lines-yen.log", root / "in" / "c.log")
    (root / "in" / "notes.txt").write_text("not a log")
    return root / "in"


def test_folder_is_mirrored(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    source = make_tree(tmp_path)
    result = run_cli("convert", source, "-o", tmp_path / "out")
    assert result.code == 1
    written = sorted(path.relative_to(tmp_path / "out").as_posix() for path in (tmp_path / "out").rglob("*"))
    assert written == ["30m", "30m/a.jsonl", "30m/a.jsonl.rejects", "30m/deep", "30m/deep/b.jsonl", "c.jsonl"]
    assert "3 files: 69 lines = 68 records + 1 rejected + 0 blank" in result.err


def test_parallel_output_is_identical(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    source = make_tree(tmp_path)
    one = run_cli("convert", source, "-o", tmp_path / "one", "--report", tmp_path / "one.json", "--provenance")
    two = run_cli(
        "convert", source, "-o", tmp_path / "two", "-j", "2", "--report", tmp_path / "two.json", "--provenance"
    )
    assert one.code == two.code == 1 and one.err.replace(str(tmp_path / "one"), "") == two.err.replace(
        str(tmp_path / "two"), ""
    )
    files_one = {
        path.relative_to(tmp_path / "one"): path.read_bytes()
        for path in (tmp_path / "one").rglob("*")
        if path.is_file()
    }
    files_two = {
        path.relative_to(tmp_path / "two"): path.read_bytes()
        for path in (tmp_path / "two").rglob("*")
        if path.is_file()
    }
    assert files_one == files_two and len(files_one) == 4
    report_one = json.loads((tmp_path / "one.json").read_text(encoding="utf-8"))
    report_two = json.loads((tmp_path / "two.json").read_text(encoding="utf-8"))
    assert report_one["findings"] == report_two["findings"] and report_one["stats"] == report_two["stats"]


def test_folder_without_logs(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli("convert", tmp_path / "empty", "-o", tmp_path / "out")
    assert result.code == 2 and "no *.log files" in result.err


def test_plan_jobs_names_outputs(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    assert plan_jobs([str(SEED)], str(tmp_path / "o.jsonl"), ".jsonl")[0].output == str(tmp_path / "o.jsonl")
    assert plan_jobs([str(SEED)], str(tmp_path / "out"), ".jsonl")[0].output == str(
        tmp_path / "out" / "seed-lines.jsonl"
    )
    assert plan_jobs([str(SEED)], "-", ".jsonl")[0].rejects is None
    assert plan_jobs([str(SEED)], "-", ".jsonl", "r.txt")[0].rejects == "r.txt"
    with pytest.raises(UsageError, match="both be written"):
        plan_jobs([str(SEED), str(DATA / "seed-lines.log")], str(tmp_path / "out"), ".jsonl")
    (tmp_path / "file.jsonl").write_text("")
    with pytest.raises(UsageError, match="names a folder"):
        plan_jobs([str(SEED), str(COMPOSED)], str(tmp_path / "file.jsonl"), ".jsonl")


# ---------------------------------------------------------------------------------------------- stdin / stdout


def test_stdin_to_stdout(monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Any]) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(COMPOSED.read_bytes())))
    result = run_cli("convert", "-", "-o", "-")
    assert result.code == 1
    assert [json.loads(line)["sn"] for line in result.out.splitlines()][:2] == [2101, 2102] and len(
        result.out.splitlines()
    ) == 44
    assert "<stdin>: 45 lines" in result.err and "not saved" in result.err and "<stdin>:45:123" in result.err


def test_stdin_to_file_with_rejects(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(COMPOSED.read_bytes())))
    result = run_cli("convert", "-", "-o", tmp_path / "a.jsonl")
    assert result.code == 1 and (tmp_path / "a.jsonl.rejects").read_bytes().startswith(b"45\t")


def test_stdout_with_rejects_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("convert", COMPOSED, "-o", "-", "--rejects", tmp_path / "r.txt")
    assert result.code == 1 and (tmp_path / "r.txt").read_bytes() == b"45\t" + C45 + b"\n"


# ---------------------------------------------------------------------------------------------- atomicity


class _Exploding:
    def __init__(self, stream: Any, after: int) -> None:
        self.stream, self.after, self.count = stream, after, 0

    def write(self, record: Mapping[str, Any]) -> None:
        self.count += 1
        if self.count > self.after:
            raise RuntimeError("disk on fire")
        self.stream.write(json.dumps(record).encode() + b"\n")

    def close(self) -> None:
        pass


def test_failure_leaves_no_half_file(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    exploding = OutputFormat(
        "boom", "records", ".jsonl", "fails after 40 records", lambda stream, options: _Exploding(stream, 40)
    )
    job = ConvertJob(str(COMPOSED), "composed.log", str(tmp_path / "out.jsonl"), str(tmp_path / "out.jsonl.rejects"))
    result = convert_file(pm, job, exploding, argparse.Namespace())
    assert result.internal and "disk on fire" in (result.error or "")
    assert list(tmp_path.iterdir()) == []  # neither the output, nor the rejects, nor a temporary file


def test_failure_keeps_the_previous_complete_output(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    (tmp_path / "out.jsonl").write_text("previous\n")
    exploding = OutputFormat(
        "boom", "records", ".jsonl", "fails at once", lambda stream, options: _Exploding(stream, 0)
    )
    convert_file(pm, ConvertJob(str(SEED), "seed", str(tmp_path / "out.jsonl"), None), exploding, argparse.Namespace())
    assert (tmp_path / "out.jsonl").read_text() == "previous\n" and len(list(tmp_path.iterdir())) == 1
