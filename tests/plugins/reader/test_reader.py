"""The streaming Mark II reader: bytes → lines → records, findings, rejects and conserved statistics."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mk2ds.core.findings import Severity
from mk2ds.plugins import reader as mk2_reader
from mk2ds.plugins.reader import LogReader, open_log
from mk2ds.plugins.reader import blocks as mk2_blocks
from mk2ds.plugins.reader.blocks import detect_encoding
from mk2ds.plugins.reader.record import record_from_line

DATA = Path(__file__).parents[2] / "data" / "mk2log"
HEADER = "03/05/2018 10:12:03.114 +0900"
LINE = f'{HEADER} sn=1 evt=file subEvt=close path="C:\\日本\\メモ.txt" size=12'


def read(data: bytes, **options: Any) -> tuple[list[dict[str, Any]], LogReader]:
    reader = open_log(io.BytesIO(data), "x.log", argparse.Namespace(**options))
    records = list(reader)
    stats = reader.stats
    assert stats["lines"] == stats["records"] + stats["rejected"] + stats["blank"]
    assert stats["records"] == len(records)
    return records, reader


def codes(reader: LogReader) -> list[tuple[str, int | None, int | None]]:
    return [(finding.code, finding.line, finding.column) for finding in reader.findings]


# ---------------------------------------------------------------------------------------------- records


def test_record_shape_time_first_then_line_order() -> None:
    (record,), reader = read(LINE.encode())
    assert list(record) == ["time", "sn", "evt", "subEvt", "path", "size"]
    assert record == {
        "time": "2018-03-05T10:12:03.114+09:00",
        "sn": 1,
        "evt": "file",
        "subEvt": "close",
        "path": "C:\\日本\\メモ.txt",
        "size": 12,
    }
    assert reader.findings == []
    assert reader.stats == {
        "lines": 1,
        "records": 1,
        "rejected": 0,
        "blank": 0,
        "bytes": len(LINE.encode()),
        "encoding": "utf-8",
        "bom": False,
        "eof_marker": False,
        "time_offset_unknown": 0,
    }


def test_zone_less_header_and_assumed_offset() -> None:
    line = b"03/27/2018 19:44:53.926 sn=1818 evt=ps subEvt=start"
    (record,), reader = read(line)
    assert record == {
        "time": "2018-03-27T19:44:53.926",
        "time_offset_source": "unknown",
        "sn": 1818,
        "evt": "ps",
        "subEvt": "start",
    }
    assert [(finding.code, finding.details) for finding in reader.findings] == [("time-offset-unknown", {"count": 1})]
    assert reader.stats["time_offset_unknown"] == 1
    # the time stays local; the offset and where it came from follow it
    (record,), reader = read(line, assume_offset="+0900", sysinfo_offset="+01:00")
    assert list(record)[:3] == ["time", "time_offset", "time_offset_source"]
    assert (record["time"], record["time_offset"], record["time_offset_source"]) == (
        "2018-03-27T19:44:53.926",
        "+09:00",
        "option",
    )
    assert reader.findings == [] and reader.stats["time_offset_unknown"] == 0
    (record,), _reader = read(line, sysinfo_offset="+09:00")
    assert (record["time_offset"], record["time_offset_source"]) == ("+09:00", "sysinfo")
    (record,), _reader = read(HEADER.encode() + b" sn=1 evt=ps subEvt=stop", assume_offset="-0500")
    assert record == {"time": "2018-03-05T10:12:03.114+09:00", "sn": 1, "evt": "ps", "subEvt": "stop"}


def test_zone_less_line_with_an_offset_key_is_rejected_and_zoned_keeps_it() -> None:
    records, reader = read(
        b"03/27/2018 19:44:53.926 sn=1 evt=ps subEvt=start time_offset=+01:00\n"
        + HEADER.encode()
        + b" sn=2 evt=ps subEvt=start time_offset_source=x"
    )
    assert [record["sn"] for record in records] == [2] and records[0]["time_offset_source"] == "x"
    assert [(finding.code, finding.line) for finding in reader.findings] == [("log-reserved-key", 1)]


def test_integer_fields_only_when_canonical() -> None:
    line = f'{HEADER} sn=0 evt=net subEvt=con srcPort="50388" dstPort=445 recv=-3 sha256=123 psID=007 size=-0 port=+5 wsPort=1_0 read=１ lv="5"'
    (record,), reader = read(line.encode())
    assert record["sn"] == 0 and record["srcPort"] == 50388 and record["dstPort"] == 445 and record["recv"] == -3
    assert record["lv"] == 5 and record["sha256"] == "123"  # not an integer field
    assert [record[key] for key in ("psID", "size", "port", "wsPort", "read")] == ["007", "-0", "+5", "1_0", "１"]
    assert [(finding.code, finding.severity, finding.details["key"]) for finding in reader.findings] == [
        ("log-not-integer", Severity.WARNING, key) for key in ("psID", "size", "port", "wsPort", "read")
    ]
    assert [finding.column for finding in reader.findings] == [
        line.index(key + "=") + 1 for key in ("psID", "size", "port", "wsPort", "read")
    ]


def test_no_value_markers_stay_text_without_findings() -> None:
    (record,), reader = read(
        f'{HEADER} sn=1 evt=session subEvt=loginR srcCom="-" srcIP="::1" srcPort="-" evtDomain="" sessionID= evtRecID=0'.encode()
    )
    assert (
        record["srcPort"] == "-" and record["sessionID"] == "" and record["evtDomain"] == "" and record["evtRecID"] == 0
    )
    assert reader.findings == []


def test_integer_with_too_many_digits_is_rejected() -> None:
    records, reader = read(f"{HEADER} sn={'9' * 5000} evt=x subEvt=y".encode())
    assert records == [] and codes(reader) == [("log-unparseable", 1, 31)]


@pytest.mark.parametrize(
    ("fields", "key", "column"),
    [
        ("evt=ps subEvt=start", "sn", None),
        ("sn=1 subEvt=start", "evt", None),
        ("sn=1 evt=ps", "subEvt", None),
        ("sn= evt=ps subEvt=start", "sn", 31),
        ('sn="" evt=ps subEvt=start', "sn", 31),
        ('sn="-" evt=ps subEvt=start', "sn", 31),
        ('sn=1 evt="" subEvt=start', "evt", 36),
        ("sn=1 evt=ps subEvt=", "subEvt", 43),
        ('sn=1 evt=ps subEvt="-"', "subEvt", 43),
    ],
)
def test_a_line_without_sn_evt_or_subevt_is_rejected(fields: str, key: str, column: int | None) -> None:
    line = f"{HEADER} {fields}"
    records, reader = read(f"{LINE}\n{line}\n{LINE}".encode())
    assert len(records) == 2 and reader.rejects == [(2, line.encode())]
    (finding,) = reader.findings
    assert (finding.code, finding.severity, finding.line, finding.column) == (
        "log-missing-key",
        Severity.ERROR,
        2,
        column,
    )
    assert finding.details["key"] == key and key in finding.message and finding.path == "x.log"
    assert "log-missing-key" in mk2_reader.REJECTING_CODES
    assert record_from_line(line, 2)[0] is None


def test_a_negative_or_non_canonical_sn_is_a_finding_and_the_record_is_kept() -> None:
    records, reader = read(
        f"{HEADER} sn=-5 evt=ps subEvt=start\n{HEADER} sn=010 evt=ps subEvt=start\n{HEADER} sn=+7 evt=ps subEvt=start".encode()
    )
    assert [record["sn"] for record in records] == [-5, "010", "+7"]
    assert [(finding.code, finding.severity, finding.line) for finding in reader.findings] == [
        ("log-sn-negative", Severity.WARNING, 1),
        ("log-not-integer", Severity.WARNING, 2),
        ("log-not-integer", Severity.WARNING, 3),
    ]
    assert "leading zero" in reader.findings[1].message and "not a decimal integer" not in reader.findings[1].message
    assert "plus sign" in reader.findings[2].message


def test_provenance_is_added_last() -> None:
    records, _ = read(f"{LINE}\n\n{LINE}".encode(), provenance=True)
    assert [(list(record)[-2:], record["_file"], record["_line"]) for record in records] == [
        (["_file", "_line"], "x.log", 1),
        (["_file", "_line"], "x.log", 3),
    ]


def test_underscore_keys_are_ordinary_without_provenance() -> None:
    (record,), _ = read(f"{HEADER} sn=1 evt=x subEvt=y _file=a _line=2".encode())
    assert record["_file"] == "a" and record["_line"] == "2"


@pytest.mark.parametrize(
    ("line", "provenance"),
    [(f"{HEADER} time=x sn=1", False), (f"{HEADER} sn=1 _line=3", True), (f"{HEADER} _file=a", True)],
)
def test_reserved_keys_are_rejected(line: str, provenance: bool) -> None:
    records, reader = read(line.encode(), provenance=provenance)
    assert records == [] and [finding.code for finding in reader.findings] == ["log-reserved-key"]
    assert reader.rejects == [(1, line.encode())]


def test_repeated_key_is_rejected_with_every_value() -> None:
    line = f"{HEADER} sn=2192 lv=5 psGUID= lv=7"
    records, reader = read(line.encode())
    (finding,) = reader.findings
    assert records == [] and finding.code == "log-duplicate-key" and finding.severity is Severity.ERROR
    assert finding.details == {"keys": {"lv": ["5", "7"]}} and finding.column == line.rindex("lv=") + 1
    assert reader.rejects == [(1, line.encode())]


def test_impossible_date_is_rejected() -> None:
    records, reader = read(
        b"13/45/2000 99:99:99.999 sn=1\n02/30/2018 10:00:00.000 +0900 sn=2\n03/01/2018 10:00:00.000 +2500 sn=3"
    )
    assert records == [] and [code for code, _, _ in codes(reader)] == ["log-invalid-time"] * 3
    assert [number for number, _ in reader.rejects] == [1, 2, 3]


def test_extra_space_is_tolerated_and_reported() -> None:
    line = f'{HEADER} sn=4030 evt=net subEvt=con com="PC1"  psGUID={{X}}'
    (record,), reader = read(line.encode())
    assert record["psGUID"] == "{X}"
    assert codes(reader) == [("log-extra-space", 1, line.index("  ") + 2)]
    assert reader.findings[0].severity is Severity.INFO


def test_every_rejected_line_has_exactly_one_error_finding() -> None:
    data = "\n".join([LINE, "garbage", f"{HEADER} a=1 a=2", f'{HEADER} cmd="open', "", LINE]).encode()
    records, reader = read(data)
    errors = [finding for finding in reader.findings if finding.severity is Severity.ERROR]
    assert len(records) == 2 and reader.stats["rejected"] == len(errors) == 3 and reader.stats["blank"] == 1
    assert [number for number, _ in reader.rejects] == [finding.line for finding in errors] == [2, 3, 4]
    assert reader.rejects[0] == (2, b"garbage")


# ---------------------------------------------------------------------------------------------- bytes and lines


def test_crlf_and_lf_give_the_same_records() -> None:
    lines = (DATA / "composed.log").read_bytes().splitlines()
    lf, _ = read(b"\n".join(lines) + b"\n")
    crlf, reader = read(b"\r\n".join(lines) + b"\r\n")
    assert lf == crlf and len(lf) == 44
    assert reader.rejects[0][1] == lines[44]  # raw bytes without the CR LF


def test_last_line_without_terminator() -> None:
    records, reader = read(f"{LINE}\n{LINE}".encode())
    assert len(records) == 2 and reader.stats["lines"] == 2


def test_lone_cr_is_not_a_line_end() -> None:
    (record,), _ = read(f"{HEADER} sn=1 evt=x subEvt=y a=x\ry b=1\r\n".encode())
    assert record["a"] == "x\ry"


@pytest.mark.parametrize("ending", [b"\x1a", b"\r\n\x1a", b"\n\x1a", b"\r\n\x1a\x1a"])
def test_eof_marker_at_the_physical_end(ending: bytes) -> None:
    records, reader = read(LINE.encode() + ending)
    assert len(records) == 1 and reader.stats["eof_marker"] is True and reader.stats["rejected"] == 0


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r\n" + LINE.encode() + b"\r\n"])
def test_a_0x1a_followed_by_a_line_end_is_kept(ending: bytes) -> None:
    """Issue 13 item 27: only the file's very last byte(s) are the end-of-file marker; ``cmd=abc\\x1a\\r\\n`` keeps
    its 0x1A (here an unquoted value with a control byte: rejected byte-exactly, never silently changed)."""
    line = f"{HEADER} sn=1 evt=ps subEvt=start cmd=abc".encode() + b"\x1a"
    records, reader = read(line + ending)
    assert reader.stats["eof_marker"] is False
    assert all(record.get("cmd") != "abc" for record in records)
    kept = [record for record in records if record.get("cmd") == "abc\x1a"]
    assert len(kept) + reader.stats["rejected"] == 1
    if reader.stats["rejected"]:
        assert reader.rejects[0] == (1, line)


@pytest.mark.parametrize("ending", [b"\x1a\r\n", b"\x1a\n"])
def test_a_0x1a_line_before_the_final_line_end_is_an_ordinary_line(ending: bytes) -> None:
    records, reader = read(LINE.encode() + b"\r\n" + ending)
    assert len(records) == 1 and reader.stats["eof_marker"] is False and reader.stats["rejected"] == 1


def test_eof_marker_glued_to_the_last_record() -> None:
    (record,), reader = read(LINE.encode() + b"\x1a")
    assert record["size"] == 12 and reader.stats["eof_marker"] is True and reader.stats["lines"] == 1


def test_eof_marker_elsewhere_is_an_ordinary_bad_line() -> None:
    records, reader = read(b"\x1a\n" + LINE.encode())
    assert len(records) == 1 and codes(reader) == [("log-unparseable", 1, 1)] and reader.stats["eof_marker"] is False


def test_blank_lines_are_counted() -> None:
    records, reader = read(f"\n{LINE}\n\n\r\n{LINE}\n\n".encode())
    assert len(records) == 2 and reader.stats["blank"] == 4 and reader.stats["lines"] == 6


def test_empty_input() -> None:
    records, reader = read(b"")
    assert records == [] and reader.stats["lines"] == 0 and reader.stats["encoding"] == "utf-8"


def test_bom_is_skipped() -> None:
    records, reader = read(b"\xef\xbb\xbf" + LINE.encode())
    assert len(records) == 1 and reader.stats["bom"] is True and reader.findings == []


def test_invalid_utf8_rejects_only_its_line_with_a_column() -> None:
    bad = f'{HEADER} path="C:\\日'.encode() + b"\xff\xfe" + b'"'
    records, reader = read(LINE.encode() + b"\n" + bad + b"\n" + LINE.encode())
    (finding,) = reader.findings
    assert len(records) == 2 and finding.code == "log-encoding-error" and finding.line == 2
    assert finding.column == len(f'{HEADER} path="C:\\日') + 1 and finding.details["byte_offset"] == len(
        f'{HEADER} path="C:\\日'.encode()
    )
    assert reader.rejects == [(2, bad)]


def test_cp932_when_asked() -> None:
    data = LINE.encode("cp932") + b"\r\n"
    records, reader = read(data, encoding="cp932")
    assert records[0]["path"] == "C:\\日本\\メモ.txt" and reader.stats["encoding"] == "cp932" and reader.findings == []


def test_cp932_auto_detected_when_sure() -> None:
    data = b"\r\n".join([f"{HEADER} sn=1 evt=x subEvt=y".encode()] * 3 + [LINE.encode("cp932")] * 3)
    records, reader = read(data)
    assert records[-1]["path"] == "C:\\日本\\メモ.txt" and reader.stats["encoding"] == "cp932"
    assert [finding.code for finding in reader.findings] == ["log-encoding-detected"]


def test_utf8_with_one_broken_line_stays_utf8() -> None:
    data = LINE.encode() + b"\n" + LINE.encode("cp932")
    records, reader = read(data)
    assert len(records) == 1 and reader.stats["encoding"] == "utf-8" and codes(reader)[0][0] == "log-encoding-error"


@pytest.mark.parametrize(
    ("block", "encoding"),
    [
        (b"abc\n", "utf-8"),
        ("日本\n".encode(), "utf-8"),
        ("日本\n".encode("cp932"), "cp932"),
        (b"\xff\xff\n", "utf-8"),
        ("日本\n".encode() + "日本".encode("cp932"), "utf-8"),
    ],
)
def test_detect_encoding(block: bytes, encoding: str) -> None:
    assert detect_encoding(block) == encoding


@pytest.mark.parametrize("chunk", [1, 7, 100, 1 << 20])
def test_cp932_detection_waits_for_enough_lines_whatever_the_chunks(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(mk2_blocks, "CHUNK_SIZE", chunk)
    sjis = LINE.encode("cp932")
    records, reader = read(b"\r\n".join([f"{HEADER} sn=0 evt=x subEvt=y".encode()] * 5 + [sjis] * 99 + [LINE.encode()]))
    assert reader.stats["encoding"] == "utf-8" and len(records) == 6  # the 100th non-ASCII line is UTF-8
    records, reader = read(b"\r\n".join([sjis] * 100 + [f"{HEADER} sn=2 evt=x subEvt=y".encode()]))
    assert reader.stats["encoding"] == "cp932" and len(records) == 101 and records[0]["path"] == "C:\\日本\\メモ.txt"


def test_yen_sign_is_just_a_character() -> None:
    records, _ = read((DATA / "seed-lines-yen.log").read_bytes())
    assert records[0]["psPath"].startswith("D:\u00a5") and len(records) == 12


def test_too_long_line_is_rejected_and_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mk2_blocks, "CHUNK_SIZE", 64)
    monkeypatch.setattr(mk2_blocks, "MAX_LINE_BYTES", 200)
    long_line = f"{HEADER} cmd=" + "x" * 1000
    records, reader = read(f"{LINE}\n{long_line}\n{LINE}\n{long_line}".encode())
    assert len(records) == 2 and [(code, line) for code, line, _ in codes(reader)] == [
        ("log-line-too-long", 2),
        ("log-line-too-long", 4),
    ]
    assert reader.findings[0].details == {"bytes": len(long_line)}
    assert [(number, len(raw)) for number, raw in reader.rejects] == [(2, 200), (4, 200)]


def test_long_line_inside_one_chunk_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mk2_blocks, "MAX_LINE_BYTES", 200)
    records, reader = read(f"{LINE}\n{HEADER} cmd={'y' * 300}\n{LINE}\n".encode())
    assert len(records) == 2 and codes(reader) == [("log-line-too-long", 2, None)]


@pytest.mark.parametrize("chunk", [1, 3, 17, 64, 333])
def test_chunk_boundaries_do_not_matter(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    data = (DATA / "composed.log").read_bytes().replace(b"\n", b"\r\n") + b"\xef\xbb\xbf garbage\n\xff\n\x1a"
    expected = read(data)
    monkeypatch.setattr(mk2_blocks, "CHUNK_SIZE", chunk)
    records, reader = read(data)
    assert records == expected[0]
    assert (reader.findings, reader.rejects, reader.stats) == (
        expected[1].findings,
        expected[1].rejects,
        expected[1].stats,
    )


def test_findings_per_code_are_capped() -> None:
    records, reader = read(b"\n".join([b"bad"] * 10 + [LINE.encode()]), max_findings_per_code=3)
    assert len(records) == 1 and reader.stats["rejected"] == 10 and len(reader.rejects) == 10
    assert [finding.code for finding in reader.findings] == ["log-unparseable"] * 3 + ["log-findings-truncated"]
    assert reader.findings[-1].details == {"code": "log-unparseable", "count": 10, "listed": 3}


def test_reject_sink_receives_rejects_instead_of_the_list() -> None:
    received: list[tuple[int, bytes]] = []
    _records, reader = read(
        b"bad\n" + LINE.encode() + b"\nworse", reject_sink=lambda number, raw: received.append((number, raw))
    )
    assert received == [(1, b"bad"), (3, b"worse")] and reader.rejects == [] and reader.stats["rejected"] == 2


def test_reader_is_iterated_once() -> None:
    reader = open_log(io.BytesIO(LINE.encode()), "x.log")
    list(reader)
    with pytest.raises(RuntimeError):
        list(reader)


def test_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError):
        open_log(io.BytesIO(b""), "x.log", argparse.Namespace(encoding="latin-1"))


def test_hook_returns_the_reader(pm: pluggy.PluginManager) -> None:
    reader = pm.hook.mk2ds_open_log(stream=io.BytesIO(LINE.encode()), name="a/b.log", options=argparse.Namespace())
    assert isinstance(reader, LogReader) and [record["sn"] for record in reader] == [1]


def test_codes_are_registered(pm: pluggy.PluginManager) -> None:
    from mk2ds.core.registry import codes as registered

    table = registered(pm)
    for code in (
        *mk2_reader.REJECTING_CODES,
        "log-not-integer",
        "log-extra-space",
        "log-encoding-detected",
        "log-findings-truncated",
    ):
        assert code in table
    assert all(table[code].severity is Severity.ERROR for code in mk2_reader.REJECTING_CODES)


# ---------------------------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=40))
@example(data=b"\x89@\n\xe0", chunk=1)  # the encoding must not depend on where the chunks are cut
def test_never_raises_on_arbitrary_bytes(data: bytes, chunk: int) -> None:
    records, reader = read(data)
    assert reader.stats["rejected"] == len(reader.rejects)
    assert sum(finding.severity is Severity.ERROR for finding in reader.findings) == reader.stats["rejected"]
    original = mk2_blocks.CHUNK_SIZE
    try:
        mk2_blocks.CHUNK_SIZE = chunk
        again, other = read(data)
    finally:
        mk2_blocks.CHUNK_SIZE = original
    assert (again, other.rejects, other.stats) == (records, reader.rejects, reader.stats)


_byte_pieces = st.sampled_from(
    [
        f"{HEADER} sn=1 a=".encode(),
        "日本".encode(),
        "日本".encode("cp932"),
        b"\n",
        b"\r\n",
        b'"',
        b" ",
        b"\x1a",
        b"\xef\xbb\xbf",
        b"\xff",
        b"x=1",
        b"  ",
        b"\r",
        b" lv=5",
        b' b="x""y"',
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_byte_pieces, max_size=30).map(b"".join),
    st.integers(1, 50),
    st.sampled_from(["auto", "utf-8", "cp932"]),
    st.booleans(),
)
def test_chunking_never_changes_the_result(data: bytes, chunk: int, encoding: str, provenance: bool) -> None:
    expected = read(data, encoding=encoding, provenance=provenance)
    original = mk2_blocks.CHUNK_SIZE
    try:
        mk2_blocks.CHUNK_SIZE = chunk
        records, reader = read(data, encoding=encoding, provenance=provenance)
    finally:
        mk2_blocks.CHUNK_SIZE = original
    assert (records, reader.findings, reader.rejects, reader.stats) == (
        expected[0],
        expected[1].findings,
        expected[1].rejects,
        expected[1].stats,
    )


_piece = st.sampled_from(
    [
        " sn=1",
        " a=",
        ' b=""',
        ' c="x ""y"""',
        " d=\\\\",
        "  e=1",
        " f",
        "=",
        '"',
        " ",
        "\x1a",
        "\r",
        "日",
        " lv=x",
        " lv=1",
        " time=1",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["03/05/2018 10:12:03.114", "03/05/2018 10:12:03.114 +0900", "02/30/2018 10:00:00.000", "x"]
            ),
            st.lists(_piece, max_size=6),
        ),
        max_size=6,
    )
)
def test_fast_path_and_reference_agree(lines: list[tuple[str, list[str]]]) -> None:
    texts = [header + "".join(pieces) for header, pieces in lines] + [LINE]  # the last line is never odd (0x1A)
    records, reader = read("\n".join(texts).encode(), provenance=True)
    expected: list[dict[str, Any]] = []
    problems: list[tuple[str, int, int | None]] = []
    for number, text in enumerate(texts, 1):
        if not text:
            continue
        record, found = record_from_line(text.removesuffix("\r"), number, provenance=True, name="x.log")
        expected += [record] if record is not None else []
        problems += [(problem.code, number, problem.column) for problem in found]
    assert records == expected
    assert [
        (finding.code, finding.line, finding.column)
        for finding in reader.findings
        if finding.code != "time-offset-unknown"
    ] == problems
    zone_less = sum(1 for record in records if len(record["time"]) == 23)
    assert reader.stats["time_offset_unknown"] == zone_less
