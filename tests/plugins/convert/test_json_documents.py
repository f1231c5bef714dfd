"""Reading JSON Lines, JSON arrays and single documents back, streaming, with the line of each document."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mk2ds.plugins.convert import json_documents
from mk2ds.plugins.convert.json_documents import JsonDocumentError, iter_json_documents


def documents(data: bytes, name: str = "x.jsonl") -> list[tuple[int, Any]]:
    return [
        (line, str(document) if isinstance(document, JsonDocumentError) else document)
        for line, document in iter_json_documents(io.BytesIO(data), name)
    ]


def test_json_lines_skip_blank_lines_and_keep_numbers() -> None:
    data = b'\xef\xbb\xbf{"a": 1}\n\n  {"b": 2}  \r\n[1]\n"x"'
    assert documents(data) == [(1, {"a": 1}), (3, {"b": 2}), (4, [1]), (5, "x")]


def test_json_lines_errors_do_not_stop_reading() -> None:
    found = documents(b'{"a": 1} x\n{"b":\n\xff\xfe\n{"c": 3}\n')
    assert [line for line, _ in found] == [1, 2, 3, 4] and found[-1] == (4, {"c": 3})
    assert "Extra data" in found[0][1] and "column" in found[1][1] and found[2][1] == "bytes that are not UTF-8"


def test_too_long_line_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_documents, "CHUNK_SIZE", 8)
    monkeypatch.setattr(json_documents, "MAX_DOCUMENT_BYTES", 20)
    found = documents(b'{"a": 1}\n{"b": "' + b"x" * 100 + b'"}\n{"c": 3}\n')
    assert found[0] == (1, {"a": 1}) and found[1][0] == 2 and "longer than" in found[1][1] and found[2] == (3, {"c": 3})


def test_array_elements_with_their_start_lines() -> None:
    data = json.dumps([{"a": 1}, {"b": [1, 2]}, 3], indent=2).encode()
    assert documents(data, "x.json") == [(2, {"a": 1}), (5, {"b": [1, 2]}), (11, 3)]


def test_array_in_any_file_name_and_empty_array() -> None:
    assert documents(b'[{"a": 1},\n{"b": 2}]', "records.txt") == [(1, {"a": 1}), (2, {"b": 2})]
    assert documents(b" [ ] ", "x.json") == []


def test_broken_array_stops_with_the_line() -> None:
    assert documents(b'[{"a": 1},\n{"b": }\n, {"c": 3}]', "x.json") == [
        (1, {"a": 1}),
        (2, "Expecting value (column 7)"),
    ]
    assert documents(b'[{"a": 1} {"b": 2}]', "x.json")[-1] == (
        1,
        "expected ',' or ']' after an array element, found '{'",
    )
    assert documents(b"[1]\n[2]", "x.json")[-1] == (2, "text after the end of the array")
    assert documents(b"[1, 2", "x.json")[-1] == (
        1,
        "expected ',' or ']' after an array element, found the end of the file",
    )


def test_single_document() -> None:
    assert documents(b'\n{\n  "a": 1\n}\n', "report.json") == [(2, {"a": 1})]
    assert documents(b'{\n  "a": \n}\n', "report.json") == [(3, "Expecting value (column 1)")]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.text(max_size=3), st.one_of(st.integers(), st.text(max_size=5), st.floats(allow_nan=False))),
        max_size=6,
    ),
    st.integers(1, 16),
    st.sampled_from([None, 1]),
)
def test_array_reading_does_not_depend_on_chunks(items: list[dict[str, Any]], chunk: int, indent: int | None) -> None:
    data = json.dumps(items, indent=indent, ensure_ascii=False).encode()
    original = json_documents.CHUNK_SIZE
    try:
        json_documents.CHUNK_SIZE = chunk
        found = [document for _, document in iter_json_documents(io.BytesIO(data), "x.json")]
    finally:
        json_documents.CHUNK_SIZE = original
    assert found == items


_json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(10**25), 10**25), st.floats(allow_nan=False), st.text(max_size=5)
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _json_values, max_size=5), st.sampled_from(["", " ", "\t", "\r"]))
def test_json_lines_give_what_json_loads_gives(document: dict[str, Any], padding: str) -> None:
    text = padding + json.dumps(document, ensure_ascii=bool(len(document) % 2)) + padding
    assert [found for _, found in iter_json_documents(io.BytesIO(text.encode() + b"\n"), "x.jsonl")] == [
        json.loads(text)
    ]


def test_numbers_beyond_64_bits_stay_integers() -> None:
    assert documents(b'{"sn": 123456789012345678901234567890}\n') == [(1, {"sn": 123456789012345678901234567890})]
