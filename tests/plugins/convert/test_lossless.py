"""``convert --lossless`` + ``mk2ds format``: every accepted line comes back byte for byte."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mk2ds.plugins.convert.format import FormatError, format_record
from mk2ds.plugins.reader import open_log
from mk2ds.plugins.reader.blocks import raw_lines
from mk2ds.plugins.synthetic import write_sample

DATA = Path(__file__).parents[2] / "data"
COMMITTED_LOGS = sorted(DATA.rglob("*.log"))


def lossless_read(data: bytes, name: str = "x.log", **options: Any) -> tuple[list[dict[str, Any]], Any]:
    reader = open_log(io.BytesIO(data), name, argparse.Namespace(lossless=True, provenance=True, **options))
    records = list(reader)
    return records, reader


def assert_every_accepted_line_comes_back(data: bytes, name: str) -> int:
    """Read ``data`` losslessly; each record formatted must equal its line, in the file's encoding, byte for byte."""
    records, reader = lossless_read(data, name)
    encoding = reader.stats["encoding"]
    if encoding.startswith("utf-16"):
        lines = data.decode(encoding).removeprefix("\ufeff").split("\n")
        originals = [line.removesuffix("\r").encode(encoding) for line in lines]
    else:
        originals = raw_lines(data.removeprefix(b"\xef\xbb\xbf") if encoding == "utf-8" else data)
    for record in records:
        original = originals[record["_line"] - 1]
        if record["_line"] == len(originals) and reader.stats["eof_marker"]:
            original = original.removesuffix(b"\x1a")
        assert format_record(record).encode(encoding) == original, (name, record["_line"])
    return len(records)


# ---------------------------------------------------------------------------------------------- known lines


def test_quoting_spacing_and_header_form_come_back() -> None:
    lines = [
        '03/05/2018 09:01:15.440 +0900 sn=1979 evt=os subEvt=evtLog channel="Security" evtID="4624" evtRecID=88213 wsPort="50388"',
        '03/27/2018 19:44:53.926 sn=1818  evt=ps subEvt=start com="PC1"   psGUID={X} psPath="C:\\a ""b"".exe" cmd=',
        '03/05/2018 09:01:15.442 -0000 evt=net subEvt=con sn="7" srcIP=10.0.0.1 srcPort=00445 x=a"b y="" z=""""',
    ]
    records, reader = lossless_read("\n".join(lines).encode())
    assert reader.stats["rejected"] == 0
    assert [format_record(record) for record in records] == lines
    assert records[0]["_quoted"] == ["channel", "evtID", "wsPort"] and records[0]["evtID"] == 4624
    assert records[1]["_spaces"] == {"evt": 2, "psGUID": 3} and records[1]["_header"] == "03/27/2018 19:44:53.926"
    assert "_header" not in records[0] and "_spaces" not in records[0]


def test_without_lossless_the_quoting_of_an_integer_is_lost() -> None:
    line = '03/05/2018 09:01:15.440 +0900 sn=1 evt=os subEvt=evtLog evtID="4624"'
    reader = open_log(io.BytesIO(line.encode()), "x.log")
    (record,) = list(reader)
    assert format_record(record) != line and "_quoted" not in record


def test_the_assumed_offset_does_not_change_the_header() -> None:
    line = "03/27/2018 19:44:53.926 sn=1818 evt=ps subEvt=start"
    (record,), _ = lossless_read(line.encode(), assume_offset="+0900")
    assert format_record(record) == line


def test_layout_keys_in_a_line_are_reserved_with_lossless() -> None:
    line = "03/05/2018 09:01:15.440 +0900 sn=1 evt=ps subEvt=start _quoted=x"
    records, reader = lossless_read(line.encode())
    assert records == [] and [finding.code for finding in reader.findings] == ["log-reserved-key"]
    (record,) = list(open_log(io.BytesIO(line.encode()), "x.log"))
    assert record["_quoted"] == "x"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"_quoted": "sn"}, "_quoted must list"),
        ({"_quoted": ["nope"]}, "_quoted must list"),
        ({"_spaces": {"evt": "2"}}, "_spaces must map"),
        ({"_header": "03/05/2018 09:01:15.441"}, "does not agree"),
        ({"cmd": "a b"}, "can only be written quoted"),
    ],
)
def test_inconsistent_lossless_records_are_refused(change: dict[str, Any], words: str) -> None:
    record = {
        "time": "2018-03-05T09:01:15.440",
        "sn": 1,
        "evt": "ps",
        "subEvt": "start",
        "cmd": "x",
        "_quoted": [],
        "_header": "03/05/2018 09:01:15.440",
    }
    record.update(change)
    with pytest.raises(FormatError, match=words):
        format_record(record)


def test_layout_keys_without_quoted_are_refused() -> None:
    with pytest.raises(FormatError, match="without _quoted"):
        format_record({"time": "2018-03-05T09:01:15.440", "sn": 1, "evt": "ps", "subEvt": "start", "_spaces": {}})


# ---------------------------------------------------------------------------------------------- property

_fields = st.sampled_from(
    [
        ' a=""',
        ' b="x ""y"""',
        " c=\\\\x\\",
        ' d=a"b',
        " e=",
        ' f=""""',
        " lv=5",
        ' lv2="5"',
        " psID=007",
        ' srcPort="50388"',
        " dstPort=-3",
        ' url="日本 語=x"',
        " g=\ry",
        " h=\x1a1",
        ' i="\x1a"',
        " port=+1",
    ]
)


@st.composite
def lines(draw: st.DrawFn) -> str:
    header = draw(
        st.sampled_from(["03/05/2018 09:01:15.440 +0900", "12/31/1999 23:59:59.999", "01/01/2018 00:00:00.000 -1130"])
    )
    required = draw(
        st.permutations([" sn=" + draw(st.sampled_from(["1", '"2"', "0", "-4", "010"])), " evt=ps", ' subEvt="start"'])
    )
    others = draw(st.lists(_fields, max_size=6, unique=True))
    fields = draw(st.permutations(required + others))
    spaced = [" " * draw(st.integers(0, 2)) + field for field in fields]
    return header + "".join(spaced)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=6))
@example(['03/05/2018 09:01:15.440 +0900 sn=1 evt=ps subEvt=start evtID="4624"'])
def test_every_accepted_generated_line_comes_back_byte_for_byte(generated: list[str]) -> None:
    data = "\n".join(generated).encode("utf-8")
    records, reader = lossless_read(data)
    assert reader.stats["rejected"] == 0, reader.findings
    assert [format_record(record) for record in records] == generated


# ---------------------------------------------------------------------------------------------- real files


@pytest.mark.parametrize("path", COMMITTED_LOGS, ids=lambda path: str(path.relative_to(DATA)))
def test_every_committed_log_comes_back_byte_for_byte(path: Path) -> None:
    assert assert_every_accepted_line_comes_back(path.read_bytes(), path.name) > 0


def test_every_log_of_the_synthetic_distribution_comes_back_byte_for_byte(tmp_path: Path) -> None:
    distribution = write_sample(tmp_path / "sample", samples=6, seed=3, events_per_log=120)
    logs = sorted(path for path in distribution.root.rglob("*") if path.suffix.lower() == ".log")
    assert logs
    assert sum(assert_every_accepted_line_comes_back(path.read_bytes(), path.name) for path in logs) > 500


def test_convert_lossless_then_format_gives_the_file_back(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    source = DATA / "mk2log" / "seed-lines.log"
    for suffix in ("jsonl", "json"):
        records = tmp_path / f"seed.{suffix}"
        assert run_cli("convert", source, "-o", records, "--lossless", "--format", suffix).code == 0
        assert run_cli("format", records, "-o", tmp_path / "back.log").code == 0
        assert (tmp_path / "back.log").read_bytes() == source.read_bytes()
    first = json.loads((tmp_path / "seed.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["_quoted"]


def test_lossless_is_refused_for_outputs_format_cannot_read(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli(
        "convert", DATA / "mk2log" / "seed-lines.log", "-o", tmp_path / "x.ndjson", "--format", "ecs", "--lossless"
    )
    assert result.code == 2 and "--lossless" in result.err


def test_lossless_records_validate_against_the_record_schema(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    records = tmp_path / "seed.jsonl"
    assert run_cli("convert", DATA / "mk2log" / "seed-lines.log", "-o", records, "--lossless").code == 0
    assert run_cli("validate", records, "--schema", "record").code == 0
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        '{"time":"2018-03-05T09:01:15.440","sn":1,"evt":"ps","subEvt":"start","_quoted":"sn"}\n', encoding="utf-8"
    )
    assert run_cli("validate", broken, "--schema", "record").code == 1
