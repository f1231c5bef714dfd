"""The ``json`` record output: one streamed array, one record per line."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from mk2ds.plugins.records import jsonl as records_jsonl
from mk2ds.plugins.records.json import JsonArrayWriter


@pytest.mark.parametrize("count", [0, 1, 5])
def test_array_is_valid_json_with_one_record_per_line(count: int, monkeypatch: Any) -> None:
    monkeypatch.setattr(records_jsonl, "BATCH_RECORDS", 2)
    monkeypatch.setattr("mk2ds.plugins.records.json.BATCH_RECORDS", 2)
    stream = io.BytesIO()
    writer = JsonArrayWriter(stream)
    records = [{"time": "t", "sn": number} for number in range(count)]
    for record in records:
        writer.write(record)
    writer.close()
    text = stream.getvalue().decode("utf-8")
    assert json.loads(text) == records
    assert text == (
        "[]\n" if not count else "[\n" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in records) + "\n]\n"
    )
