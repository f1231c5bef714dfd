"""The ``jsonl`` record output and the shared record encoding."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mk2ds.plugins.records import jsonl as records_jsonl
from mk2ds.plugins.records.jsonl import JsonLinesWriter, encode_record


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=5), st.one_of(st.text(), st.integers(), st.integers(-(10**30), 10**30)), max_size=8
    )
)
def test_encoding_is_json_dumps(record: dict[str, Any]) -> None:
    assert encode_record(record) == json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def test_control_characters_and_japanese() -> None:
    record = {"time": "t", "path": 'C:\\日本\\"x"\x1a\t\u2028'}
    assert encode_record(record) == '{"time":"t","path":"C:\\\\日本\\\\\\"x\\"\\u001a\\t\u2028"}'


def test_writer_batches_and_ends_every_record_with_lf(monkeypatch: Any) -> None:
    monkeypatch.setattr(records_jsonl, "BATCH_RECORDS", 2)
    stream = io.BytesIO()
    writer = JsonLinesWriter(stream)
    for number in range(5):
        writer.write({"sn": number, "path": "日本"})
    writer.close()
    assert stream.getvalue().decode("utf-8").splitlines() == [f'{{"sn":{number},"path":"日本"}}' for number in range(5)]
    assert stream.getvalue().endswith(b"\n")


def test_empty_output() -> None:
    stream = io.BytesIO()
    JsonLinesWriter(stream).close()
    assert stream.getvalue() == b""


# ---------------------------------------------------------------------------------------------- optional orjson


def _values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(),
        st.integers(),
        st.integers(-(10**30), 10**30),
        st.floats(),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
    )


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=5), _values(), max_size=8))
def test_bytes_encoding_is_json_dumps_whatever_the_accelerator(record: dict[str, Any]) -> None:
    expected = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert records_jsonl.encode_record_bytes(record) == expected
    assert records_jsonl._pure_bytes(record) == expected


def test_orjson_fast_path_is_used_when_installed() -> None:
    orjson = __import__("pytest").importorskip("orjson")
    if records_jsonl.encode_record_bytes is records_jsonl._pure_bytes:
        __import__("pytest").skip("MK2DS_PURE_JSON is set")
    record = {"time": "t", "path": "C:\\日本\\\x1a\u2028", "sn": 2**63 - 1}
    assert records_jsonl.encode_record_bytes(record) == orjson.dumps(record)
    assert records_jsonl.encode_record_bytes({"sn": 2**64}) == b'{"sn":18446744073709551616}'  # beyond orjson: stdlib
