"""The compiled fast path and the pure-Python reader agree on everything, on any input.

Records, JSON bytes, findings (code, severity, message, line, column, details), rejects byte for byte,
statistics and finding counts are compared between a reader on the compiled path and one on the pure path,
over random bytes, mutated real lines, hostile line shapes and every committed log.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mk2ds.plugins.reader import LogReader, compiled, open_log
from mk2ds.plugins.reader import blocks as mk2_blocks
from mk2ds.plugins.records.jsonl import encode_record_bytes

DATA = Path(__file__).parents[2] / "data"
LOGS = sorted(DATA.rglob("*.log"))
HEADER = "03/05/2018 10:12:03.114 +0900"

MODULE = compiled.compiled_module()
pytestmark = pytest.mark.skipif(MODULE is None, reason=f"compiled path not active: {compiled.reader_path()}")


@pytest.fixture(autouse=True)
def reader_path() -> str:
    """These tests compare both paths themselves (overrides the parametrized fixture of conftest.py)."""
    return "both"


def _read(data: bytes, module: Any, *, as_json: bool = False, **options: Any) -> tuple[Any, ...]:
    reader = open_log(io.BytesIO(data), "x.log", argparse.Namespace(**options))
    reader._compiled = module
    items = list(reader.encoded(encode_record_bytes)) if as_json else list(reader)
    return items, reader


def _outcome(reader: LogReader) -> tuple[Any, ...]:
    findings = [(f.code, f.severity, f.message, f.path, f.line, f.column, f.details) for f in reader.findings]
    return findings, reader.rejects, reader.stats, dict(reader.finding_counts)


def assert_paths_agree(data: bytes, **options: Any) -> list[dict[str, Any]]:
    """Compiled vs pure, records and JSON; returns the records."""
    module = MODULE
    expected, pure = _read(data, None, **options)
    records, fast = _read(data, module, **options)
    assert records == expected
    assert [list(record) for record in records] == [list(record) for record in expected]  # key order too
    assert [[type(value) for value in record.values()] for record in records] == [
        [type(value) for value in record.values()] for record in expected
    ]
    assert _outcome(fast) == _outcome(pure)
    encoded, fast_json = _read(data, module, as_json=True, **options)
    assert b"\n".join(encoded) == b"\n".join(map(encode_record_bytes, expected))
    assert _outcome(fast_json) == _outcome(pure)
    stats = pure.stats
    assert stats["lines"] == stats["records"] + stats["rejected"] + stats["blank"]
    return expected


_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "provenance": st.booleans(),
        "encoding": st.sampled_from(["auto", "utf-8", "cp932"]),
        "assume_offset": st.sampled_from(["+0900", "-05:30", "Z"]),
        "sysinfo_offset": st.sampled_from(["+09:00", "-0330"]),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), _OPTIONS)
@example(data=b"03/05/2018 10:12:03.114 a=1", options={})
@example(data=b"03/05/2018 10:12:03.114 +0900", options={})
@example(data=b"03/05/2018 10:12:03.114 ", options={})
def test_random_bytes(data: bytes, options: dict[str, Any]) -> None:
    assert_paths_agree(data, **options)


_PIECES = [
    " sn=1",
    " sn=-5",
    " sn=-0",
    " sn=007",
    " sn=0",
    " psID=",
    " psID=-",
    ' psID="12"',
    ' psID="-"',
    ' psID=""',
    " a=",
    ' b=""',
    ' c="x ""y"""',
    ' c="x',
    " d=\\",
    ' e="\\"',
    "  f=1",
    " g",
    "=",
    '"',
    " ",
    "\x1a",
    "\r",
    "\t",
    "\x00",
    "\x7f",
    "日本",
    "\u2028",
    " lv=x",
    " time=1",
    " _file=a",
    " _line=2",
    " h=a=b",
    ' i=a"b',
    ' j="a"b',
    " 1k=2",
    " K_9=v",
    " sn=" + "9" * 30,
    " sn=" + "9" * 4301,
    " valNum=18446744073709551616",
    " evt=ps",
    " subEvt=start",
    " evt=-",
    ' subEvt=""',
    " time_offset=+01:00",
    " time_offset_source=x",
    " sn=1 evt=ps subEvt=start",
    " sn=2 evt=net subEvt=con",
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    HEADER,
                    "03/05/2018 10:12:03.114",
                    "02/29/2016 23:59:59.999 -2359",
                    "02/29/2018 10:00:00.000",
                    "13/01/2018 10:00:00.000",
                    "03/05/2018 24:00:00.000",
                    "03/05/2018 10:00:00.000 +2400",
                    "03/05/2018 10:00:00.000 +09",
                    "x",
                    "",
                ]
            ),
            st.lists(st.sampled_from(_PIECES), max_size=8),
        ),
        max_size=8,
    ),
    st.sampled_from([b"\n", b"\r\n"]),
    _OPTIONS,
)
def test_grammar_pieces(lines: list[tuple[str, list[str]]], ending: bytes, options: dict[str, Any]) -> None:
    data = ending.join((header + "".join(pieces)).encode("utf-8") for header, pieces in lines)
    assert_paths_agree(data, **options)


def _real_lines() -> list[bytes]:
    lines: list[bytes] = []
    for path in LOGS:
        lines += path.read_bytes().splitlines()[:40]
    return lines


REAL_LINES = _real_lines()
_BYTES = st.sampled_from(
    [
        b" ",
        b'"',
        b"=",
        b"\r",
        b"\n",
        b"\x1a",
        b"0",
        b"9",
        b"-",
        b"_",
        b"a",
        b"\x80",
        b"\xff",
        b"\xe6\x97",
        b"\x00",
        b"\\",
        b"  ",
    ]
)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    line = bytearray(draw(st.sampled_from(REAL_LINES)))
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(line)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(_BYTES | st.binary(min_size=1, max_size=3))
        if action == "insert":
            line[position:position] = piece
        elif action == "delete":
            del line[position : position + draw(st.integers(1, 8))]
        else:
            line[position : position + len(piece)] = piece
    return bytes(line)


@settings(max_examples=400, deadline=None)
@given(st.lists(_mutated(), min_size=1, max_size=6), _OPTIONS)
def test_mutated_real_lines(lines: list[bytes], options: dict[str, Any]) -> None:
    assert_paths_agree(b"\n".join(lines) + b"\n", **options)


@pytest.mark.parametrize("path", LOGS, ids=[path.name for path in LOGS])
@pytest.mark.parametrize("provenance", [False, True])
def test_every_committed_log(path: Path, provenance: bool) -> None:
    records = assert_paths_agree(path.read_bytes(), provenance=provenance)
    assert records


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_chunk_boundaries(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    data = b"".join(path.read_bytes() for path in LOGS)
    monkeypatch.setattr(mk2_blocks, "CHUNK_SIZE", chunk)
    assert_paths_agree(data)


def test_many_fields_and_hostile_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mk2_blocks, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(mk2_blocks, "CHUNK_SIZE", 1024)
    lines = [HEADER + "".join(f" k{index}=v" for index in range(count)) for count in (63, 64, 65, 300)]
    lines += [HEADER + " a=" + "x" * size for size in (4000, 4066, 4067, 4068, 5000, 9000)]
    lines += [HEADER + ' a="' + '""' * 2100 + '"']
    data = "\n".join(lines).encode() + b"\n" + HEADER.encode() + b" z=1\x1a"
    assert_paths_agree(data)
    assert_paths_agree(data, provenance=True)


def test_every_byte_value_in_a_value() -> None:
    values = [bytes([byte]) for byte in range(256) if byte not in b" \n"]
    data = b"\n".join(HEADER.encode() + b" a=x" + value + b' b="' + value + b'y"' for value in values)
    assert_paths_agree(data)
    assert_paths_agree(data, encoding="cp932")


def test_the_compiled_path_takes_the_common_lines() -> None:
    line = f'{HEADER} sn=1 evt=file subEvt=close path="C:\\a ""b""" size=12 psID='
    data = (line + "\n").encode() * 3
    module = MODULE
    assert module is not None
    unknown = {"time_offset_source": "unknown"}
    unknown_json = b',"time_offset_source":"unknown"'
    items, lines, blank, records, zone_less = module.convert_block(
        data, 0, frozenset({"sn", "size", "psID"}), unknown, unknown_json, False, False, 1 << 20, False, "x", b""
    )
    assert (lines, blank, records, zone_less) == (3, 0, 3, 0)
    assert items[0] == {
        "time": "2018-03-05T10:12:03.114+09:00",
        "sn": 1,
        "evt": "file",
        "subEvt": "close",
        "path": 'C:\\a "b"',
        "size": 12,
        "psID": "",
    }
    odd = module.convert_block(
        b"x\n\r\n" + data, 5, frozenset(), unknown, unknown_json, True, False, 1 << 20, True, "x", b'"x"'
    )
    assert odd[0][0] == (0, 0, 1)  # an unusual line: its index, start and end, for the reference path
    assert odd[1:] == (5, 1, 3, 0)
    assert odd[0][1].count(b"\n") == 2 and odd[0][1].endswith(b',"_file":"x","_line":10}')


def test_the_compiled_path_gives_zone_less_lines_their_offset_keys_and_leaves_odd_ones_to_the_reference() -> None:
    module = MODULE
    assert module is not None
    settled = {"time_offset": "+09:00", "time_offset_source": "sysinfo"}
    settled_json = b',"time_offset":"+09:00","time_offset_source":"sysinfo"'
    zone_less = b"03/05/2018 10:12:03.114 sn=1 evt=ps subEvt=start\n"
    items, _lines, _blank, records, counted = module.convert_block(
        zone_less, 0, frozenset({"sn"}), settled, settled_json, False, False, 1 << 20, False, "x", b""
    )
    assert (records, counted) == (1, 1)
    assert list(items[0].items()) == [
        ("time", "2018-03-05T10:12:03.114"),
        ("time_offset", "+09:00"),
        ("time_offset_source", "sysinfo"),
        ("sn", 1),
        ("evt", "ps"),
        ("subEvt", "start"),
    ]
    as_json = module.convert_block(
        zone_less, 0, frozenset({"sn"}), settled, settled_json, True, False, 1 << 20, False, "x", b""
    )
    assert as_json[0] == [
        b'{"time":"2018-03-05T10:12:03.114","time_offset":"+09:00","time_offset_source":"sysinfo","sn":1,"evt":"ps","subEvt":"start"}'
    ]
    odd_lines = [
        b"03/05/2018 10:12:03.114 sn=1 evt=ps",  # no subEvt
        b"03/05/2018 10:12:03.114 sn=1 evt=- subEvt=start",  # evt without a value
        b"03/05/2018 10:12:03.114 sn=-1 evt=ps subEvt=start",  # a negative sn
        b"03/05/2018 10:12:03.114 sn=1 evt=ps subEvt=start time_offset=+01:00",  # a key the record adds itself
    ]
    for odd in odd_lines:
        items, _lines, _blank, records, counted = module.convert_block(
            odd, 0, frozenset({"sn"}), settled, settled_json, False, False, 1 << 20, False, "x", b""
        )
        assert (items, records, counted) == ([(0, 0, len(odd))], 0, 0), odd


def _run(code: str, **env: str) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "MK2DS_PURE_PYTHON"} | env
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    return done.stdout.strip()


def test_pure_python_can_be_forced() -> None:
    code = (
        "from mk2ds.plugins.reader import compiled; print(compiled.compiled_module() is None, compiled.reader_path())"
    )
    assert _run(code, MK2DS_PURE_PYTHON="1") == "True pure Python (MK2DS_PURE_PYTHON is set)"
    assert _run(code) == "False compiled (C extension)"


def test_version_and_plugins_name_the_path(run_cli: Any) -> None:
    version = _run("import sys; from mk2ds.core.cli import main; sys.exit(main(['--version']))")
    assert version.endswith("; reader path: compiled (C extension)")
    listing = run_cli("plugins")
    assert f"reader path: {compiled.reader_path()}" in listing.out


_UTF8_EDGES = [
    b"\xc0\x80",
    b"\xc1\xbf",
    b"\xc2\x80",
    b"\xdf\xbf",
    b"\xe0\x80\x80",
    b"\xe0\x9f\xbf",
    b"\xe0\xa0\x80",
    b"\xed\x9f\xbf",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xee\x80\x80",
    b"\xef\xbf\xbf",
    b"\xf0\x8f\xbf\xbf",
    b"\xf0\x90\x80\x80",
    b"\xf4\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf5\x80\x80\x80",
    b"\xff",
    b"\x80",
    b"\xbf",
    b"\xc2",
    b"\xe6\x97",
    b"\xf0\x90\x80",
    b"\xe6\x97\xa5\xe6",
]


@pytest.mark.parametrize("sequence", _UTF8_EDGES, ids=[sequence.hex() for sequence in _UTF8_EDGES])
def test_utf8_edges_are_judged_like_python(sequence: bytes) -> None:
    """Valid UTF-8 is exactly what Python's strict decoder accepts, wherever the sequence stands."""
    lines = [
        HEADER.encode() + b" a=" + sequence,
        HEADER.encode() + b" a=" + sequence + b" b=1",
        HEADER.encode() + b' a="' + sequence + b'" b=' + sequence + b"x",
        HEADER.encode() + b" a=12345678" + sequence + b"abcdefgh",
    ]
    assert_paths_agree(b"\n".join(lines) + b"\n", encoding="utf-8")
