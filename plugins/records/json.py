"""The ``json`` record output: one JSON array, streamed (never built in memory), one record per line.

The file is ``[`` LF, then the records separated by ``,`` LF, then LF ``]`` LF (``[]`` LF when there are
none), so it is valid JSON for tools that want a document and still diff and grep line by line. Records are
encoded as in the ``jsonl`` output (:func:`mk2ds.plugins.records.jsonl.encode_record_bytes`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, BinaryIO

from mk2ds.core import OutputFormat, hookimpl
from mk2ds.plugins.records.jsonl import BATCH_RECORDS, encode_record_bytes

__all__ = ["JsonArrayWriter"]


class JsonArrayWriter:
    """Writes records as the elements of one JSON array; :meth:`close` writes the closing bracket."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._pending: list[bytes] = []
        self._count = 0

    def write(self, record: Mapping[str, Any]) -> None:
        self._pending.append(encode_record_bytes(record))
        if len(self._pending) >= BATCH_RECORDS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._stream.write((b",\n" if self._count else b"[\n") + b",\n".join(self._pending))
            self._count += len(self._pending)
            self._pending.clear()

    def close(self) -> None:
        self._flush()
        self._stream.write(b"\n]\n" if self._count else b"[]\n")
        self._stream.flush()


def open_writer(stream: BinaryIO, options: argparse.Namespace) -> JsonArrayWriter:
    return JsonArrayWriter(stream)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat(
            "json", "records", ".json", "one JSON array of records, streamed, one record per line", open_writer
        )
    ]
