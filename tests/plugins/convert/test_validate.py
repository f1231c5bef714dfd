"""``mk2ds validate`` and the fast record checker, which must never call an invalid record valid."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mk2ds.core.schemas import load_schema, validate_document, validator_for
from mk2ds.plugins.convert.validate import RecordChecker, record_checker, validate_stream
from mk2ds.plugins.reader import open_log

DATA = Path(__file__).parents[2] / "data" / "mk2log"


def converted(name: str, **options: Any) -> list[dict[str, Any]]:
    with (DATA / name).open("rb") as handle:
        import argparse

        return list(open_log(handle, name, argparse.Namespace(**options)))


@pytest.fixture(scope="module")
def checker() -> RecordChecker:
    built = record_checker()
    assert built is not None
    return built


# ---------------------------------------------------------------------------------------------- fast checker


def test_checker_accepts_every_converted_record(checker: RecordChecker) -> None:
    records = (
        converted("composed.log")
        + converted("seed-lines.log", provenance=True)
        + converted("seed-lines-yen.log", assume_offset="+0900")
    )
    assert len(records) == 68 and all(checker(record) for record in records)


@pytest.mark.parametrize(
    "record",
    [
        {"sn": 1},
        {"time": "2018-03-05 10:12:03.114"},
        {"time": 5},
        {"time": "2018-03-05T10:12:03.114", "sn": "12"},
        {"time": "2018-03-05T10:12:03.114", "sn": True},
        {"time": "2018-03-05T10:12:03.114", "pid": 5},
        {"time": "2018-03-05T10:12:03.114", "bad-key": "x"},
        {"time": "2018-03-05T10:12:03.114", "_line": 0},
        {"time": "2018-03-05T10:12:03.114", "_file": 3},
        {"time": "2018-03-05T10:12:03.114", "cmd": None},
        {"time": "2018-03-05T10:12:03.114", "sn": 1.5},
        [],
        "record",
    ],
)
def test_checker_refuses_invalid_records(checker: RecordChecker, record: Any) -> None:
    assert not checker(record)
    assert list(validator_for("record").iter_errors(record))


def test_offset_keys_are_checked_by_both_fast_paths(checker: RecordChecker) -> None:
    from mk2ds.plugins.records.jsonl import encode_record

    good = {"time": "2018-03-27T19:44:53.926", "time_offset": "+09:00", "time_offset_source": "sysinfo", "sn": 1}
    assert checker(good) and checker.accepts_text(encode_record(good))
    for bad in (
        {**good, "time_offset": "+0900"},
        {**good, "time_offset_source": "header"},
        {**good, "time_offset_source": 1},
    ):
        assert not checker(bad) and not checker.accepts_text(encode_record(bad))
        assert list(validator_for("record").iter_errors(bad))


def test_checker_defers_unusual_but_valid_records(checker: RecordChecker) -> None:
    record = {"time": "2018-03-05T10:12:03.114", "sn": 5.0}  # jsonschema counts 5.0 as an integer
    assert not checker(record) and validate_document(record, "record") == []


def test_checker_refuses_a_schema_it_does_not_mirror() -> None:
    schema = copy.deepcopy(dict(load_schema("record")))
    schema["additionalProperties"] = {"type": ["string", "integer"]}
    with pytest.raises(ValueError):
        RecordChecker(schema)
    schema = copy.deepcopy(dict(load_schema("record")))
    schema["x-integer-fields"] = schema["x-integer-fields"][:-1]
    with pytest.raises(ValueError):
        RecordChecker(schema)


_keys = st.one_of(
    st.sampled_from(
        [
            "time",
            "_file",
            "_line",
            "sn",
            "lv",
            "srcPort",
            "cmd",
            "psPath",
            "bad-key",
            "9x",
            "ok_1",
            "time\n",
            "sn\n",
            "time_offset",
            "time_offset_source",
        ]
    ),
    st.text(max_size=4),
)
_values = st.one_of(
    st.text(max_size=6),
    st.sampled_from(
        [
            "0",
            "12",
            "-3",
            "007",
            "-",
            "",
            "12\n",
            "2018-03-05T10:12:03.114",
            "2018-03-05T10:12:03.114+09:00",
            "2018-03-05T10:12:03.114\n",
            "+09:00",
            "+0900",
            "option",
            "sysinfo",
            "unknown",
            "header",
        ]
    ),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6), st.booleans())
def test_checker_agrees_with_jsonschema(document: dict[str, Any], with_time: bool) -> None:
    checker = record_checker()
    assert checker is not None
    if with_time:
        document = {"time": "2018-03-05T10:12:03.114", **document}
    valid = not list(validator_for("record").iter_errors(document))
    fast = checker(document)
    assert not fast or valid  # "certainly valid" is never wrong
    findings, counts = validate_stream(
        io.BytesIO(json.dumps(document).encode() + b"\n"), "x.jsonl", validator_for("record"), checker
    )
    assert counts["valid"] == int(valid) and bool(findings) == (not valid)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["sn", "lv", "port", "cmd", "evt", "_line"]),
            st.one_of(st.integers(-3, 9), st.text(max_size=4)),
        ),
        max_size=6,
    )
)
def test_checker_agrees_on_record_like_documents(pairs: list[tuple[str, Any]]) -> None:
    checker = record_checker()
    assert checker is not None
    document = {"time": "2018-03-05T10:12:03.114", **dict(pairs)}
    valid = not list(validator_for("record").iter_errors(document))
    assert checker(document) == valid  # on the record shape the fast path decides alone


# ---------------------------------------------------------------------------------------------- line pattern


def test_line_pattern_accepts_every_converted_line(checker: RecordChecker) -> None:
    from mk2ds.plugins.records.jsonl import encode_record

    records = converted("composed.log") + converted("seed-lines.log", provenance=True)
    assert all(checker.accepts_text(encode_record(record)) for record in records)


@pytest.mark.parametrize(
    "text",
    [
        '{"time":"2018-03-05T10:12:03.114","sn":"12"}',  # canonical decimal text in an integer field
        '{"time":"2018-03-05T10:12:03.114","sn":"1\\u0032"}',  # the same, escaped
        '{"time":"2018-03-05T10:12:03.114","sn":1,"sn":"12"}',  # the last of repeated keys wins
        '{"time":"2018-03-05T10:12:03.114","time":"x"}',
        '{"time":"2018-03-05T10:12:03.114","t\\u0069me":"x"}',
        '{"time":"2018-03-05T10:12:03.114","_line":0}',
        '{"time":"2018-03-05T10:12:03.114","pid":5}',
        '{"time":"2018-03-05T10:12:03.114","sn":1.0}',
        '{"time":"2018-03-05T10:12:03.114","a":"\x01"}',
        '{"time":"2018-03-05T10:12:03.114\\n"}',
        '{"time":"2018-03-05T10:12:03.114"} x',
    ],
)
def test_line_pattern_refuses_what_is_not_certainly_valid(checker: RecordChecker, text: str) -> None:
    assert not checker.accepts_text(text)


_line_keys = st.sampled_from(
    ["time", "_file", "_line", "sn", "lv", "srcPort", "cmd", "psPath", "bad-key", "ok_1", "timex", "snx", "_lin"]
)
_line_values = st.one_of(
    st.text(max_size=5),
    st.sampled_from(["0", "12", "-3", "007", "-", "", "2018-03-05T10:12:03.114", "2018-03-05T10:12:03.114+09:00"]),
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_line_keys, _line_values), max_size=6), st.booleans(), st.data())
def test_line_pattern_never_accepts_an_invalid_record(
    pairs: list[tuple[str, Any]], ascii_only: bool, data: st.DataObject
) -> None:
    checker = record_checker()
    assert checker is not None
    body = ",".join(f"{json.dumps(key)}:{json.dumps(value, ensure_ascii=ascii_only)}" for key, value in pairs)
    text = '{"time":"2018-03-05T10:12:03.114"' + ("," + body if body else "") + "}"
    position = data.draw(st.integers(0, len(text)))
    mutated = data.draw(
        st.sampled_from(
            [
                text,
                text[:position] + data.draw(st.sampled_from(['"', "\\", ",", "1", "}", "\\u0031"])) + text[position:],
            ]
        )
    )
    if checker.accepts_text(mutated):
        assert list(validator_for("record").iter_errors(json.loads(mutated))) == []


# ---------------------------------------------------------------------------------------------- command


def write_jsonl(path: Path, documents: list[Any]) -> Path:
    path.write_text(
        "".join(json.dumps(document, ensure_ascii=False) + "\n" for document in documents), encoding="utf-8"
    )
    return path


def test_valid_file(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    path = write_jsonl(tmp_path / "ok.jsonl", converted("composed.log"))
    result = run_cli("validate", path, "--schema", "record")
    assert result.code == 0 and "documents: 44, valid: 44, invalid: 0" in result.out


def test_every_violation_with_file_and_line(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    good = converted("seed-lines.log")[0]
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(good)
        + "\n"
        + json.dumps({**good, "sn": "4028"})
        + "\n"
        + "\n"
        + "{not json\n"
        + json.dumps({"sn": 1, "bad-key": 2})
        + "\n",
        encoding="utf-8",
    )
    result = run_cli("validate", path, "--schema", "record", "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert validate_document(report, "report") == []
    located = [(finding["code"], finding["line"], finding["message"].split(":")[0]) for finding in report["findings"]]
    assert located == [
        ("schema-violation", 2, "at sn"),
        ("not-json", 4, "not JSON"),
        ("schema-violation", 5, "at (top)"),
        ("schema-violation", 5, "at (top)"),
        ("schema-violation", 5, "at bad-key"),
    ]
    assert all(finding["path"] == str(path) for finding in report["findings"])
    assert report["stats"] == {"files": 1, "documents": 4, "valid": 1, "invalid": 3}


def test_json_array_elements_have_their_lines(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"time": "2018-03-05T10:12:03.114", "sn": 1}, {"sn": 2}], indent=2), encoding="utf-8")
    result = run_cli("validate", path, "--schema", "record")
    assert result.code == 1 and f"{path}:6: at (top): 'time' is a required property" in result.out


def test_other_schemas_and_unknown_schema(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    report_path = tmp_path / "report.json"
    run_cli(
        "validate",
        write_jsonl(tmp_path / "x.jsonl", [{"time": "x"}]),
        "--schema",
        "record",
        "--format",
        "json",
        "-o",
        report_path,
    )
    assert run_cli("validate", report_path, "--schema", "report").code == 0
    assert run_cli("validate", report_path, "--schema", "profile").code == 1
    result = run_cli("validate", report_path, "--schema", "nope")
    assert result.code == 2 and "no schema named 'nope'" in result.err
    assert run_cli("validate", tmp_path / "missing.jsonl", "--schema", "record").code == 2


def test_findings_are_capped_per_file(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [{"sn": index} for index in range(7)])
    result = run_cli("validate", path, "--schema", "record", "--max-findings", "3", "--format", "json")
    report = json.loads(result.out)
    assert [finding["code"] for finding in report["findings"]].count("schema-violation") == 3
    (truncated,) = [finding for finding in report["findings"] if finding["code"] == "validate-truncated"]
    assert truncated["details"] == {"count": 7, "listed": 3}
    assert report["stats"]["invalid"] == 7


def test_standard_input(monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Any]) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"time": "2018-03-05T10:12:03.114"}\n{"sn": 1}\n')))
    result = run_cli("validate", "-", "--schema", "record")
    assert result.code == 1 and "<stdin>:2" in result.out
