"""``convert`` on an engine, with an in-process engine: ranges, merging, failures and cleanup (no cluster needed).

The engine here runs each task in this process, but sends every function, argument, shared object and result
through pickle (as a real cluster would) and completes the tasks in reverse order, so that merging cannot
lean on the order of completion. The same conversion on a real Dask cluster is in ``test_dask_engine.py``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mk2ds.core import get_plugin_manager, hookimpl, registry
from mk2ds.core.cli import build_parser
from mk2ds.core.engines import Engine, EngineTask, TaskFunction, TaskOutcome
from mk2ds.core.errors import UsageError
from mk2ds.core.walker import PluginSettings
from mk2ds.plugins.convert.engine import convert_on_engine, output_concatenates, reader_reads_parts
from mk2ds.plugins.convert.jobs import ConvertJob
from mk2ds.plugins.convert.one_file import convert_file
from mk2ds.plugins.reader import blocks as mk2_blocks
from mk2ds.plugins.synthetic.generator import write_log

DATA = Path(__file__).parents[2] / "data" / "mk2log"
COMPOSED = (DATA / "composed.log").read_bytes()
VALID = COMPOSED.splitlines()[0]
JAPANESE = 'path="C:\\Users\\山田\\デスクトップ\\メモ.txt"'


class InProcessSession:
    """An engine session that runs tasks here, through pickle, completing them in reverse order."""

    def __init__(self, pm: pluggy.PluginManager, fail: Sequence[str] = (), interrupt_after: int | None = None) -> None:
        self.pm = pm
        self.fail = fail
        self.interrupt_after = interrupt_after
        self.runs: list[tuple[str, list[str]]] = []
        self.closed = False

    def run(
        self,
        function: TaskFunction,
        tasks: Sequence[EngineTask],
        *,
        shared: Any = None,
        label: str = "work",
        show_progress: bool | None = None,
    ) -> Iterator[TaskOutcome]:
        self.runs.append((label, [task.key for task in tasks]))
        remote = pickle.loads(pickle.dumps(function))
        for done, task in enumerate(reversed(list(tasks))):
            if label == "convert" and self.interrupt_after is not None and done >= self.interrupt_after:
                raise KeyboardInterrupt
            if any(word in task.key for word in self.fail):
                yield TaskOutcome(task, error=f"task {task.key!r} failed: KilledWorker: its workers died")
                continue
            result = remote(self.pm, pickle.loads(pickle.dumps(shared)), pickle.loads(pickle.dumps(task.argument)))
            yield TaskOutcome(task, pickle.loads(pickle.dumps(result)), worker="here")

    def summary(self) -> list[str]:
        return ["in-process: done"]

    def close(self) -> None:
        self.closed = True


@dataclass
class InProcessEngine:
    """Registers the engine ``here`` (a plugin object)."""

    fail: Sequence[str] = ()
    interrupt_after: int | None = None
    sessions: list[InProcessSession] = field(default_factory=list)

    @hookimpl
    def mk2ds_register_engines(self) -> list[Engine]:
        return [Engine("here", "in this process, through pickle (tests)", self.start)]

    def start(
        self, options: argparse.Namespace, pm: pluggy.PluginManager, settings: PluginSettings
    ) -> InProcessSession:
        session = InProcessSession(pm, self.fail, self.interrupt_after)
        self.sessions.append(session)
        return session


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(pm: pluggy.PluginManager, capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Run:
    """``mk2ds ARGS`` with a given plugin manager (the real handler, usage errors as exit code 2)."""
    args = build_parser(pm).parse_args([str(arg) for arg in argv])
    capsys.readouterr()
    try:
        code = int(args.handler(args, pm))
    except UsageError as error:
        print(f"mk2ds: error: {error}", file=sys.stderr)
        code = 2
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def files_below(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def without_engine_lines(text: str) -> str:
    return "\n".join(
        line for line in text.splitlines() if not line.startswith(("mk2ds convert: in-process", "mk2ds convert: merge"))
    )


def fleet(root: Path) -> Path:
    """Generated logs of several hosts, a CP932 one, one with BOM and end-of-file marker, and broken lines."""
    folder = root / "fleet"
    for number in range(3):
        write_log(
            folder / f"pc{number}.log",
            seed=number,
            host=f"PC{number + 1}",
            scenario="wannacry",
            header="mixed",
            target_bytes=60_000,
        )
    write_log(folder / "sjis.log", seed=7, host="PC9", encoding="cp932", target_bytes=30_000, newline="\n")
    write_log(folder / "bom.log", seed=8, bom=True, eof_marker=True, target_bytes=20_000)
    (folder / "broken.log").write_bytes(COMPOSED * 40 + b"\r\nnot a line\r\n\r\n" + VALID + b"\x1a")
    (folder / "small.log").write_bytes(VALID + b"\n")
    return folder


@pytest.fixture
def engine() -> InProcessEngine:
    return InProcessEngine()


@pytest.fixture
def engine_pm(engine: InProcessEngine) -> pluggy.PluginManager:
    return get_plugin_manager(load_entrypoints=False, extra_plugins=[("in_process_engine", engine)])


# ---------------------------------------------------------------------------------------------- the same outputs


@pytest.mark.parametrize(
    "extra", [[], ["--provenance"], ["--encoding", "cp932"], ["--format", "json"], ["--format", "csv"]]
)
def test_a_fleet_converts_identically(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    engine: InProcessEngine,
    engine_pm: pluggy.PluginManager,
    extra: list[str],
) -> None:
    source = fleet(tmp_path)
    local = run(
        engine_pm, capsys, "convert", source, "-o", tmp_path / "local", "--report", tmp_path / "local.json", *extra
    )
    ranged = run(
        engine_pm,
        capsys,
        "convert",
        source,
        "-o",
        tmp_path / "ranged",
        "--report",
        tmp_path / "ranged.json",
        "--engine",
        "here",
        "--range-size",
        "4K",
        *extra,
    )
    assert local.code == ranged.code == 1
    assert files_below(tmp_path / "local") == files_below(tmp_path / "ranged")
    assert without_engine_lines(local.err.replace("local", "X")) == without_engine_lines(
        ranged.err.replace("ranged", "X")
    )
    reports = [json.loads((tmp_path / name).read_text(encoding="utf-8")) for name in ("local.json", "ranged.json")]
    for report in reports:
        report["target"]["output"] = "X"
        for sample in report["samples"]:
            sample["facts"] = {
                key: str(value).replace("ranged", "X").replace("local", "X") for key, value in sample["facts"].items()
            }
    assert reports[0] == reports[1]
    [session] = engine.sessions
    labels = [label for label, _keys in session.runs]
    splits = "--format" not in extra  # JSON Lines parts concatenate; a JSON array or CSV does not
    assert labels == (["scan", "convert"] if splits else ["convert"]) and session.closed
    convert_keys = session.runs[-1][1]
    assert (sum("[" in key for key in convert_keys) > 20) == splits  # many ranges, or whole files only
    assert not list(tmp_path.rglob(".*"))  # no part files left behind


LONG_LINE = b"03/05/2018 10:12:09.000 +0900 sn=7 note=" + b"z" * 100  # over the shrunk limit by less than a chunk
LINE_KINDS = st.sampled_from(
    [
        VALID,
        VALID,
        b"03/05/2018 10:12:05.000 +0900 sn=1 sn=2",
        b"not a Mark II line",
        b"",
        b"03/05/2018 10:12:06.000 +0900 sn=3 " + JAPANESE.encode("utf-8"),
        b"03/05/2018 10:12:07.000 +0900 sn=4 " + JAPANESE.encode("cp932"),
        b"03/05/2018 10:12:08.000 +0900 sn=5 bad=\xff\xfe",
        b"03/05/2018 10:12:09.000 +0900 sn=6 note=" + b"z" * 150,  # over the shrunk line limit, by more than a chunk
        LONG_LINE,  # how the reader measures it depends on where chunks end: ranges must end theirs there too
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(LINE_KINDS, min_size=1, max_size=40),
    newline=st.sampled_from([b"\n", b"\r\n"]),
    bom=st.booleans(),
    tail=st.sampled_from([b"", b"\x1a", b"\r\n\x1a", b"last without terminator"]),
    range_size=st.integers(16, 600),
    provenance=st.booleans(),
)
@example(lines=[b"p" * 8, LONG_LINE, b"end"], newline=b"\r\n", bom=False, tail=b"", range_size=10, provenance=False)
def test_any_split_gives_the_whole_file_result(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    newline: bytes,
    bom: bool,
    tail: bytes,
    range_size: int,
    provenance: bool,
) -> None:
    """Records, rejects, findings and statistics of a file cut anywhere equal those of the whole file, with
    chunks and the line limit shrunk so that long lines straddle chunk ends inside ranges."""
    folder = tmp_path_factory.mktemp("split")
    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(line + newline for line in lines) + tail
    source = folder / "in.log"
    source.write_bytes(data)
    pm = get_plugin_manager(load_entrypoints=False)
    args = build_parser(pm).parse_args(
        ["convert", str(source), "-o", str(folder / "x"), *(["--provenance"] if provenance else [])]
    )
    args.range_size = range_size
    output = registry.find_output(pm, "records", "jsonl")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mk2_blocks, "CHUNK_SIZE", 64)
        patch.setattr(mk2_blocks, "MAX_LINE_BYTES", 120)
        whole = convert_file(
            pm,
            ConvertJob(str(source), "in.log", str(folder / "whole.jsonl"), str(folder / "whole.rejects"), len(data)),
            output,
            args,
        )
        session = InProcessSession(pm)
        job = ConvertJob(str(source), "in.log", str(folder / "split.jsonl"), str(folder / "split.rejects"), len(data))
        [split], _lines = convert_on_engine(pm, session, [job], output, args)
    assert whole.error is None and split.error is None
    assert (folder / "whole.jsonl").read_bytes() == (folder / "split.jsonl").read_bytes()
    assert (folder / "whole.rejects").exists() == (folder / "split.rejects").exists()
    if (folder / "whole.rejects").exists():
        assert (folder / "whole.rejects").read_bytes() == (folder / "split.rejects").read_bytes()
    assert whole.stats == split.stats
    assert sorted(finding.to_dict().items() for finding in whole.findings) == sorted(
        finding.to_dict().items() for finding in split.findings
    )


def test_findings_beyond_the_limit_are_counted_over_the_whole_file(tmp_path: Path) -> None:
    source = tmp_path / "in.log"
    source.write_bytes(b"not a line\n" * 250)
    pm = get_plugin_manager(load_entrypoints=False)
    args = build_parser(pm).parse_args(["convert", str(source), "-o", str(tmp_path / "x")])
    args.range_size = 300
    output = registry.find_output(pm, "records", "jsonl")
    [result], _lines = convert_on_engine(
        pm,
        InProcessSession(pm),
        [ConvertJob(str(source), "in.log", str(tmp_path / "o.jsonl"), str(tmp_path / "o.rejects"), 2750)],
        output,
        args,
    )
    listed = [finding.line for finding in result.findings if finding.code == "log-unparseable"]
    [truncated] = [finding for finding in result.findings if finding.code == "log-findings-truncated"]
    assert listed == list(range(1, 101)) and truncated.details == {
        "code": "log-unparseable",
        "count": 250,
        "listed": 100,
    }
    assert (tmp_path / "o.rejects").read_bytes() == b"".join(b"%d\tnot a line\n" % number for number in range(1, 251))


def test_unknown_offsets_are_one_finding_counted_over_the_whole_file(tmp_path: Path) -> None:
    source = tmp_path / "in.log"
    source.write_bytes(
        b"".join(b"03/27/2018 19:44:53.926 sn=%d evt=ps subEvt=start\n" % number for number in range(1, 301))
    )
    pm = get_plugin_manager(load_entrypoints=False)
    args = build_parser(pm).parse_args(["convert", str(source), "-o", str(tmp_path / "x")])
    args.range_size = 1000
    output = registry.find_output(pm, "records", "jsonl")
    job = ConvertJob(
        str(source), "in.log", str(tmp_path / "o.jsonl"), str(tmp_path / "o.rejects"), source.stat().st_size
    )
    [result], _lines = convert_on_engine(pm, InProcessSession(pm), [job], output, args)
    [unknown] = [finding for finding in result.findings if finding.code == "time-offset-unknown"]
    assert unknown.details == {"count": 300} and result.stats["time_offset_unknown"] == 300


def test_standard_output_gets_the_merged_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine_pm: pluggy.PluginManager
) -> None:
    source = fleet(tmp_path) / "pc0.log"
    local = run(engine_pm, capsys, "convert", source, "-o", "-")
    ranged = run(engine_pm, capsys, "convert", source, "-o", "-", "--engine", "here", "--range-size", "8K")
    assert local.code == ranged.code == 0 and local.out == ranged.out and local.out.count("\n") > 100
    assert not list(Path(tempfile_root()).glob("mk2ds-parts-*"))


def tempfile_root() -> str:
    import tempfile

    return tempfile.gettempdir()


# ---------------------------------------------------------------------------------------------- failures


def test_a_failed_range_fails_only_its_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = fleet(tmp_path)
    engine = InProcessEngine(fail=[f"convert {source}/pc1.log [0,"])
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("in_process_engine", engine)])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "pc1.jsonl").write_text("previous complete output\n")
    result = run(pm, capsys, "convert", source, "-o", tmp_path / "out", "--engine", "here", "--range-size", "4K")
    assert result.code == 3
    assert "pc1.log: worker failed: task 'convert" in result.err and "KilledWorker" in result.err
    assert (tmp_path / "out" / "pc1.jsonl").read_text() == "previous complete output\n"  # the old one stays, whole
    run(pm, capsys, "convert", source, "-o", tmp_path / "local")
    written = files_below(tmp_path / "out")
    assert written.pop("pc1.jsonl") and written == {
        name: data for name, data in files_below(tmp_path / "local").items() if name != "pc1.jsonl"
    }
    assert not list((tmp_path / "out").glob(".*"))


def test_an_interrupted_run_leaves_no_part_and_no_half_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fleet(tmp_path)
    engine = InProcessEngine(interrupt_after=12)
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("in_process_engine", engine)])
    with pytest.raises(KeyboardInterrupt):
        run(pm, capsys, "convert", source, "-o", tmp_path / "out", "--engine", "here", "--range-size", "4K")
    assert engine.sessions[0].closed
    run(pm, capsys, "convert", source, "-o", tmp_path / "local")
    written, complete = files_below(tmp_path / "out"), files_below(tmp_path / "local")
    assert written and len(written) < len(complete)  # stopped half-way: some files were done
    assert all(complete[name] == data for name, data in written.items())  # and those are whole
    assert not list((tmp_path / "out").glob(".*"))  # no part file left


def test_standard_input_needs_the_local_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine_pm: pluggy.PluginManager
) -> None:
    result = run(engine_pm, capsys, "convert", "-", "-o", tmp_path / "a.jsonl", "--engine", "here")
    assert result.code == 2 and "standard input" in result.err and "--engine local" in result.err


def test_bad_range_size_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine_pm: pluggy.PluginManager
) -> None:
    result = run(
        engine_pm,
        capsys,
        "convert",
        DATA / "seed-lines.log",
        "-o",
        tmp_path / "a.jsonl",
        "--engine",
        "here",
        "--range-size",
        "big",
    )
    assert result.code == 2 and "--range-size" in result.err


# ---------------------------------------------------------------------------------------------- what may be split


def test_only_outputs_that_concatenate_are_split(pm: pluggy.PluginManager) -> None:
    args = build_parser(pm).parse_args(["convert", "x", "-o", "y"])
    verdicts = {name: output_concatenates(output, args) for name, output in registry.outputs(pm, "records").items()}
    assert verdicts["jsonl"] and not verdicts["json"] and not verdicts["csv"] and not verdicts["mk2log"]


class _WholeFileReader:
    """A third-party reader that knows nothing of byte ranges: one record per non-empty line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.findings: list[Any] = []
        self.rejects: list[Any] = []
        self.stats: dict[str, Any] = {
            "lines": 0,
            "records": 0,
            "rejected": 0,
            "blank": 0,
            "bytes": 0,
            "encoding": "utf-8",
        }

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for line in self.stream.read().splitlines():
            self.stats["lines"] += 1
            self.stats["records"] += 1
            yield {"time": "2018-01-01T00:00:00.000", "line": line.decode("utf-8", "replace")}


class _ThirdPartyReader:
    @hookimpl(tryfirst=True)
    def mk2ds_open_log(self, stream: Any, name: str, options: argparse.Namespace) -> _WholeFileReader:
        return _WholeFileReader(stream)


def test_a_reader_without_ranges_gets_whole_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: InProcessEngine
) -> None:
    pm = get_plugin_manager(
        load_entrypoints=False, extra_plugins=[("in_process_engine", engine), ("acme_reader", _ThirdPartyReader())]
    )
    assert not reader_reads_parts(pm) and reader_reads_parts(get_plugin_manager(load_entrypoints=False))
    source = fleet(tmp_path)
    local = run(pm, capsys, "convert", source, "-o", tmp_path / "local")
    ranged = run(pm, capsys, "convert", source, "-o", tmp_path / "ranged", "--engine", "here", "--range-size", "4K")
    assert local.code == ranged.code == 0 and files_below(tmp_path / "local") == files_below(tmp_path / "ranged")
    assert [label for label, _keys in engine.sessions[0].runs] == ["convert"]


def test_whole_files_are_grouped_biggest_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: InProcessEngine, engine_pm: pluggy.PluginManager
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(200):
        (folder / f"{number:03d}.log").write_bytes(VALID + b"\n" * (1 + number % 7))
    shutil.copy(DATA / "composed.log", folder / "big.log")
    result = run(engine_pm, capsys, "convert", folder, "-o", tmp_path / "out", "--engine", "here")
    assert result.code == 1 and len(files_below(tmp_path / "out")) == 202  # 201 outputs and big.jsonl.rejects
    keys = engine.sessions[0].runs[-1][1]
    assert 10 < len(keys) < 200 and keys[0].startswith(f"convert {folder}/big.log")


def test_a_log_that_cannot_be_cut_is_converted_whole(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    engine: InProcessEngine,
    engine_pm: pluggy.PluginManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreadable(*args: Any) -> list[int]:
        raise PermissionError(13, "Permission denied", str(args[0]))

    monkeypatch.setattr("mk2ds.plugins.convert.engine.line_boundaries", unreadable)
    source = fleet(tmp_path) / "pc0.log"
    local = run(engine_pm, capsys, "convert", source, "-o", tmp_path / "local.jsonl")
    whole = run(
        engine_pm, capsys, "convert", source, "-o", tmp_path / "whole.jsonl", "--engine", "here", "--range-size", "4K"
    )
    assert (
        local.code == whole.code == 0
        and (tmp_path / "local.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    )
    assert [label for label, _keys in engine.sessions[0].runs] == ["convert"]


def test_a_utf16_log_is_converted_whole_like_the_local_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: InProcessEngine, engine_pm: pluggy.PluginManager
) -> None:
    source = tmp_path / "wide.log"
    source.write_bytes(((VALID.decode() + "\r\n") * 300).encode("utf-16"))
    local = run(engine_pm, capsys, "convert", source, "-o", tmp_path / "local.jsonl")
    ranged = run(
        engine_pm, capsys, "convert", source, "-o", tmp_path / "ranged.jsonl", "--engine", "here", "--range-size", "4K"
    )
    assert (
        local.code == ranged.code == 0
        and (tmp_path / "local.jsonl").read_bytes() == (tmp_path / "ranged.jsonl").read_bytes()
    )
    assert len((tmp_path / "ranged.jsonl").read_bytes().splitlines()) == 300
    assert [label for label, _keys in engine.sessions[0].runs] == ["convert"]  # no scan: not split
