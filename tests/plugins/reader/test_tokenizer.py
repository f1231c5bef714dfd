"""The Mark II line grammar: every rule and edge case of docs/format.md §1–§2, and the composed lines C01–C45 of tests/data/mk2log/composed.log."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mk2ds.core.schemas import load_schema
from mk2ds.plugins.reader.tokenizer import (
    FIELD_PATTERN,
    HEADER_PATTERN,
    INTEGER_FIELDS,
    LineSyntaxError,
    integer_value,
    iso_time,
    normalize_offset,
    tokenize_line,
)

DATA = Path(__file__).parents[2] / "data" / "mk2log"
COMPOSED = (DATA / "composed.log").read_text(encoding="utf-8").splitlines()
HEADER = "03/05/2018 10:12:03.114 +0900"


def values(line: str) -> dict[str, str]:
    return {field.key: field.value for field in tokenize_line(line).fields}


def error_of(line: str, **options: bool) -> LineSyntaxError:
    with pytest.raises(LineSyntaxError) as caught:
        tokenize_line(line, **options)
    return caught.value


def fast_fields(line: str) -> list[tuple[str, str]] | None:
    """The reader's fast path on its own: ``None`` when it would hand the line to the reference tokenizer."""
    match = HEADER_PATTERN.match(line)
    if match is None:
        return None
    section = line[match.end() :]
    pairs = FIELD_PATTERN.findall(section)
    if sum(len(key) + len(raw) + 2 for key, raw in pairs) != len(section):
        return None
    return pairs


# ---------------------------------------------------------------------------------------------- headers


def test_header_with_offset() -> None:
    parsed = tokenize_line(f"{HEADER} sn=1")
    assert (parsed.date, parsed.clock, parsed.zone) == ("03/05/2018", "10:12:03.114", "+0900")
    assert parsed.header == HEADER


def test_header_without_offset() -> None:
    parsed = tokenize_line("03/27/2018 19:44:53.926 sn=1818 evt=ps")
    assert parsed.zone is None
    assert [field.key for field in parsed.fields] == ["sn", "evt"]


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("3/05/2018 10:12:03.114 sn=1", 2),  # month must have two digits
        ("03-05-2018 10:12:03.114 sn=1", 3),
        ("03/05/2018T10:12:03.114 sn=1", 11),
        ("03/05/2018 10:12:03 sn=1", 20),  # milliseconds missing
        ("03/05/2018 10:12:03.11 sn=1", 23),
        ("03/05/2018 10:12:03.1145 sn=1", 24),  # four millisecond digits: byte 24 must be a space
        ("", 1),
    ],
)
def test_malformed_header_names_the_column(line: str, column: int) -> None:
    assert error_of(line).column == column


@pytest.mark.parametrize("zone", ["+09", "+09:00", "+090", "-0x00"])
def test_malformed_offset(zone: str) -> None:
    error = error_of(f"03/05/2018 10:12:03.114 {zone} sn=1")
    assert error.column == 25 and "offset" in error.reason


def test_header_alone_has_no_fields() -> None:
    assert "no fields" in error_of(HEADER).reason
    assert "no fields" in error_of("03/05/2018 10:12:03.114").reason
    assert "no fields" in error_of(HEADER + " ").reason


def test_iso_time_with_and_without_offset() -> None:
    assert iso_time("03/01/2018", "19:55:17.836", "+0900") == "2018-03-01T19:55:17.836+09:00"
    assert iso_time("03/27/2018", "19:44:53.926", None) == "2018-03-27T19:44:53.926"
    assert iso_time("03/27/2018", "19:44:53.926", None, "+09:00") == "2018-03-27T19:44:53.926+09:00"
    assert iso_time("12/31/2017", "23:59:59.999", "-0530") == "2017-12-31T23:59:59.999-05:30"


@pytest.mark.parametrize(
    ("date", "clock", "zone"),
    [
        ("13/45/2000", "10:00:00.000", None),
        ("02/29/2018", "10:00:00.000", None),  # not a leap year
        ("04/31/2018", "10:00:00.000", None),
        ("00/10/2018", "10:00:00.000", None),
        ("01/01/0000", "10:00:00.000", None),
        ("03/01/2018", "24:00:00.000", None),
        ("03/01/2018", "99:99:99.999", None),
        ("03/01/2018", "10:60:00.000", None),
        ("03/01/2018", "10:00:60.000", None),
        ("03/01/2018", "10:00:00.000", "+2400"),
        ("03/01/2018", "10:00:00.000", "+0960"),
    ],
)
def test_impossible_times_are_reported_not_crashed(date: str, clock: str, zone: str | None) -> None:
    with pytest.raises(LineSyntaxError) as caught:
        iso_time(date, clock, zone)
    assert caught.value.code == "log-invalid-time"


def test_leap_day_exists() -> None:
    assert iso_time("02/29/2016", "00:00:00.000", None) == "2016-02-29T00:00:00.000"


@pytest.mark.parametrize(
    ("given_offset", "normal"),
    [("+0900", "+09:00"), ("+09:00", "+09:00"), ("-0500", "-05:00"), ("Z", "+00:00"), (" +0000 ", "+00:00")],
)
def test_normalize_offset(given_offset: str, normal: str) -> None:
    assert normalize_offset(given_offset) == normal


@pytest.mark.parametrize("bad", ["0900", "+9", "+2400", "+0960", "JST", ""])
def test_normalize_offset_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_offset(bad)


# ---------------------------------------------------------------------------------------------- values


def test_bare_and_quoted_values() -> None:
    assert values(f'{HEADER} sn=1 com="PC 1" sig=Valid') == {"sn": "1", "com": "PC 1", "sig": "Valid"}


def test_doubled_quote_is_one_quote() -> None:
    assert values(f'{HEADER} cmd="say ""hi"" now"')["cmd"] == 'say "hi" now'


def test_quoted_empty_and_single_quote_values() -> None:
    assert values(f'{HEADER} evtDomain="" winTitle=""""') == {"evtDomain": "", "winTitle": '"'}


def test_value_starting_and_ending_with_doubled_quotes() -> None:
    parsed = values(f'{HEADER} cmd="""powershell -c x""" valStr="""C:\\a.exe"" /run"')
    assert parsed == {"cmd": '"powershell -c x"', "valStr": '"C:\\a.exe" /run'}


def test_backslash_is_never_an_escape() -> None:
    line = f'{HEADER} cmd="\\\\172.24.0.1 -u ""PC4\\taro.yamada"" x" path="C:\\Users\\dir\\" size=0'
    parsed = values(line)
    assert parsed["cmd"] == '\\\\172.24.0.1 -u "PC4\\taro.yamada" x'
    assert parsed["path"] == "C:\\Users\\dir\\"  # a backslash right before the closing quote
    assert parsed["size"] == "0"


def test_key_value_text_inside_quotes_is_not_split() -> None:
    line = f'{HEADER} cmd="netsh add rule name=""RDP"" dir=in action=allow" psID=1'
    assert list(values(line)) == ["cmd", "psID"]


def test_bare_value_may_hold_equals_braces_and_quotes() -> None:
    parsed = values(f'{HEADER} psGUID={{A-B}} url=http://x/?a=b&c=d odd=a"b mark=-')
    assert parsed == {"psGUID": "{A-B}", "url": "http://x/?a=b&c=d", "odd": 'a"b', "mark": "-"}


def test_bare_empty_value() -> None:
    assert values(f"{HEADER} psGUID= subEvt=") == {"psGUID": "", "subEvt": ""}


def test_keys_are_case_sensitive_and_keep_their_order() -> None:
    parsed = tokenize_line(f"{HEADER} subEvt=close evt=file sn=3 SN=4 url_hostname=x")
    assert [field.key for field in parsed.fields] == ["subEvt", "evt", "sn", "SN", "url_hostname"]


def test_repeated_keys_are_kept_by_the_tokenizer() -> None:
    assert [(field.key, field.value) for field in tokenize_line(f"{HEADER} lv=5 lv=7").fields] == [
        ("lv", "5"),
        ("lv", "7"),
    ]


def test_field_columns_and_raw_text() -> None:
    parsed = tokenize_line(f'{HEADER} sn=1 cmd="a ""b"""')
    assert [(field.column, field.raw, field.quoted) for field in parsed.fields] == [
        (31, "1", False),
        (36, '"a ""b"""', True),
    ]


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        (f'{HEADER} cmd="abc', 35, "not closed"),
        (f'{HEADER} cmd="abc""', 35, "not closed"),
        (f'{HEADER} cmd="x"X', 38, "followed by a space"),
        (f"{HEADER} 1sn=1", 31, "must start with a letter"),
        (f"{HEADER} -sn=1", 31, "must start with a letter"),
        (f"{HEADER} sn", 33, "followed by '='"),
        (f"{HEADER} s-n=1", 32, "followed by '='"),
        (f"{HEADER} sn=1 ", 35, "trailing space"),
        (f"{HEADER} sn=1   ", 35, "trailing space"),
        (f"{HEADER} sn=1 \t", 36, "must start with a letter"),
        (f"{HEADER}\tsn=1", 30, "space after"),
    ],
)
def test_syntax_errors_have_a_column_and_reason(line: str, column: int, words: str) -> None:
    error = error_of(line)
    assert (error.column, error.code) == (column, "log-unparseable")
    assert words in error.reason


def test_24th_character_must_be_a_space() -> None:
    assert error_of("03/05/2018 10:12:03.114+0900 sn=1").column == 24


def test_extra_spaces_are_tolerated_and_recorded() -> None:
    parsed = tokenize_line(f'{HEADER} com="PC1"  psGUID={{X}}   sn=1')
    assert [field.key for field in parsed.fields] == ["com", "psGUID", "sn"]
    assert parsed.extra_spaces == (41, 53)


def test_extra_space_after_header_is_tolerated() -> None:
    assert tokenize_line("03/27/2018 19:44:53.926  sn=1").extra_spaces == (25,)


def test_extra_spaces_can_be_refused() -> None:
    assert "more than one space" in error_of(f'{HEADER} com="PC1"  sn=1', tolerate_extra_spaces=False).reason


# ---------------------------------------------------------------------------------------------- integers


@pytest.mark.parametrize(
    ("text", "number"), [("0", 0), ("7", 7), ("-12", -12), ("4028", 4028), ("9" * 30, int("9" * 30))]
)
def test_canonical_integers(text: str, number: int) -> None:
    assert integer_value(text) == number


@pytest.mark.parametrize("text", ["", "-", "-0", "007", "+5", " 5", "5 ", "1_000", "１２", "²", "0x10", "1.0", "1e3"])
def test_not_canonical_integers(text: str) -> None:
    assert integer_value(text) is None


def test_too_many_digits_is_an_error() -> None:
    with pytest.raises(ValueError):
        integer_value("1" * 5000)


def test_integer_fields_are_the_schema_list() -> None:
    assert INTEGER_FIELDS == set(load_schema("record")["x-integer-fields"])
    assert {
        "sn",
        "srcPort",
        "dstPort",
        "port",
        "read",
        "write",
        "size",
        "recv",
        "send",
        "psID",
        "sessionID",
        "valNum",
        "valSize",
        "evtID",
        "evtRecID",
        "wsPort",
        "hide",
        "new",
        "lv",
    } == INTEGER_FIELDS


# ---------------------------------------------------------------------------------------------- C01–C45


def test_composed_lines_are_45() -> None:
    assert len(COMPOSED) == 45


@pytest.mark.parametrize("number", range(1, 46), ids=lambda number: f"C{number:02d}")
def test_composed_line_parses_and_rejoins(number: int) -> None:
    line = COMPOSED[number - 1]
    parsed = tokenize_line(line)
    assert parsed.extra_spaces == ()
    assert parsed.header + "".join(f" {field.key}={field.raw}" for field in parsed.fields) == line
    assert fast_fields(line) == [(field.key, field.raw) for field in parsed.fields]


def test_composed_notable_values() -> None:
    c01, c02, c20, c21, c35, c42, c43, c44 = (values(COMPOSED[index - 1]) for index in (1, 2, 20, 21, 35, 42, 43, 44))
    assert c01["cmd"] == 'cmd.exe /c "whoami /all > C:\\Users\\hanako.suzuki\\AppData\\Local\\Temp\\w.txt"'
    assert c02["cmd"].startswith('\\\\172.24.1.11 -u "PC1\\hanako.suzuki" -p "Passw0rd!"')
    assert tokenize_line(COMPOSED[1]).zone is None
    assert c20["path"].endswith("\\")
    assert c21["valStr"].startswith('"')
    assert c35["clipData"] == '接続先: "\\\\172.24.1.11\\C$" / ID=hanako.suzuki'
    assert "dir" not in c42 and "action" not in c42 and 'name="Remote Desktop (TCP-In)"' in c42["cmd"]
    assert c43["winTitle"] == '"'
    assert list(c44)[:3] == ["subEvt", "evt", "sn"] and c44["path"].endswith("メモ.txt")
    c45_fields = tokenize_line(COMPOSED[44]).fields
    assert [(field.key, field.value) for field in c45_fields if field.key in ("psGUID", "lv")] == [
        ("psGUID", ""),
        ("lv", "5"),
        ("lv", "7"),
    ]


def test_seed_lines_parse() -> None:
    for name in ("seed-lines.log", "seed-lines-yen.log"):
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) == 12
        parsed = [tokenize_line(line) for line in lines]
        assert [bool(item.extra_spaces) for item in parsed] == [False, False, True, True] + [False] * 8
        assert parsed[-1].zone is None and parsed[0].zone == "+0900"


# ---------------------------------------------------------------------------------------------- properties

_line_text = st.text(alphabet=st.sampled_from(list('ab=" \\\tk_1-{}') + ["あ", "\x1a", "\r"]), max_size=40)


@settings(max_examples=400, deadline=None)
@given(tail=_line_text, zone=st.sampled_from(["", " +0900", " -0130"]))
@example(tail=' a="x"!b=1', zone="")
@example(tail=' a=""""', zone="")
@example(tail=' a="b""c" d=', zone=" +0900")
def test_fast_path_agrees_with_reference(tail: str, zone: str) -> None:
    line = "03/05/2018 10:12:03.114" + zone + tail
    fast = fast_fields(line)
    try:
        parsed = tokenize_line(line, tolerate_extra_spaces=False)
    except LineSyntaxError:
        assert fast is None
        return
    assert fast == [(field.key, field.raw) for field in parsed.fields]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_tokenizer_raises_only_line_syntax_errors(text: str) -> None:
    try:
        tokenize_line(text)
    except LineSyntaxError as error:
        assert 1 <= error.column <= len(text) + 1
