"""The ``jsonl`` record output (the default of ``mk2ds convert``): one compact JSON object per line, UTF-8.

Every record is encoded exactly like ``json.dumps(record, ensure_ascii=False, separators=(",", ":"))``:
keys in record order, non-ASCII text as UTF-8 (Japanese paths stay readable), LF after every record.
:func:`encode_record` is shared by the other JSON-based outputs of this area.

Speed: the standard library's C encoder is called directly (``json.encoder.c_make_encoder``), which saves
the Python-level set-up that ``json.dumps`` repeats for every call; the output is the same text. When the
optional package ``orjson`` is installed (and ``MK2DS_PURE_JSON`` is not set), records whose values are all
text and integers, the record contract, are encoded by orjson, about four times faster; orjson writes exactly
the same bytes for such records (tested), and anything else (floats, integers beyond 64 bits, non-text keys,
unpaired surrogates) goes through the standard library. Records are written in batches to keep the number of
``write`` calls low.
"""

from __future__ import annotations

import argparse
import json
import json.encoder
import os
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from mk2ds.core import OutputFormat, hookimpl

__all__ = ["BATCH_RECORDS", "PURE_JSON_ENV", "JsonLinesWriter", "encode_record", "encode_record_bytes"]

BATCH_RECORDS = 1000
PURE_JSON_ENV = "MK2DS_PURE_JSON"
_CONTRACT_TYPES = frozenset({str, int})
#: Encoded runs at least this long are written at once rather than batched.
_DIRECT_BYTES = 1 << 16


def _make_encoder() -> Callable[[Mapping[str, Any]], str]:
    reference = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    basestring = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or basestring is None:  # pragma: no cover - Python built without the _json accelerator
        return reference
    try:
        encoder = make(None, json.JSONEncoder().default, basestring, None, ":", ",", False, False, True)
        probe = {"time": "2018-03-01T19:55:17.836", "sn": 1, "path": 'C:\\日本"\u001a'}
        if "".join(encoder(probe, 0)) != reference(probe):  # pragma: no cover - a Python with another signature
            return reference
    except TypeError:  # pragma: no cover
        return reference

    def encode(record: Mapping[str, Any]) -> str:
        if type(record) is not dict:
            return reference(record)
        return "".join(encoder(record, 0))

    return encode


#: ``record -> str``, the same text as ``json.dumps(record, ensure_ascii=False, separators=(",", ":"))``.
encode_record: Callable[[Mapping[str, Any]], str] = _make_encoder()


def _pure_bytes(record: Mapping[str, Any]) -> bytes:
    return encode_record(record).encode("utf-8")


def _make_bytes_encoder() -> Callable[[Mapping[str, Any]], bytes]:
    if os.environ.get(PURE_JSON_ENV, "").strip() not in ("", "0"):
        return _pure_bytes
    try:
        import orjson
    except ImportError:
        return _pure_bytes
    dumps = orjson.dumps
    error = orjson.JSONEncodeError
    contract = _CONTRACT_TYPES.issuperset

    def encode(record: Mapping[str, Any]) -> bytes:
        if type(record) is dict and contract(map(type, record.values())):
            try:
                return dumps(record)
            except error:
                pass  # integers beyond 64 bits, keys that are not text, unpaired surrogates
        return _pure_bytes(record)

    return encode


#: ``record -> bytes``: :data:`encode_record` as UTF-8, through orjson when it is installed (same bytes).
encode_record_bytes: Callable[[Mapping[str, Any]], bytes] = _make_bytes_encoder()


class JsonLinesWriter:
    """Writes one JSON object per line; call :meth:`close` to flush the last batch."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._pending: list[bytes] = []
        #: How a record becomes bytes, for callers that pass encoded records to :meth:`write_encoded` (``None``
        #: in a subclass that changes :meth:`write`: its records must go through it).
        self.encode: Callable[[Mapping[str, Any]], bytes] | None = (
            encode_record_bytes if type(self).write is JsonLinesWriter.write else None
        )

    def write(self, record: Mapping[str, Any]) -> None:
        self._pending.append(encode_record_bytes(record))
        if len(self._pending) >= BATCH_RECORDS:
            self._flush()

    def write_encoded(self, lines: bytes) -> None:
        """Write records already encoded like :data:`encode_record_bytes`: one or more, joined by LF, no final LF.

        The reader's compiled path gives them (:meth:`mk2ds.plugins.reader.LogReader.encoded`).
        """
        if len(lines) >= _DIRECT_BYTES:  # a whole block: written as it is, not copied into a batch
            self._flush()
            self._stream.write(lines)
            self._stream.write(b"\n")
            return
        self._pending.append(lines)
        if len(self._pending) >= BATCH_RECORDS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._pending.append(b"")
            self._stream.write(b"\n".join(self._pending))
            self._pending.clear()

    def close(self) -> None:
        self._flush()
        self._stream.flush()


def open_writer(stream: BinaryIO, options: argparse.Namespace) -> JsonLinesWriter:
    return JsonLinesWriter(stream)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "jsonl", "records", ".jsonl", "JSON Lines: one record per line (schemas/record.schema.json)", open_writer
        )
    ]
