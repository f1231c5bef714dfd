"""Reading JSON documents back with line numbers, streaming: JSON Lines, a JSON array, or one document.

Used by ``mk2ds validate`` and ``mk2ds format``; implements no hooks. :func:`iter_json_documents` yields
``(line, document)`` pairs where ``line`` is the 1-based line on which the document starts, or
``(line, JsonDocumentError)`` for text that is not JSON (the error names the line and column, and reading
goes on with the next line in JSON Lines; in an array, reading stops, because nothing after a broken
element can be trusted).

Which form a file has: ``.jsonl``/``.ndjson`` names are JSON Lines; otherwise the first non-blank character
decides: ``[`` is an array whose elements are the documents (streamed: the array is never held in memory),
``{`` in a ``.json`` file is one document, and anything else is read as JSON Lines. A UTF-8 byte-order mark
at the start is skipped.

Parsing uses the standard library's C scanner directly for each line (the same result as ``json.loads``,
which is only called to produce the error message when the fast call fails).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

__all__ = ["MAX_DOCUMENT_BYTES", "JsonDocumentError", "iter_json_documents"]

CHUNK_SIZE = 1 << 20
#: A single line or array element larger than this is reported instead of being held in memory.
MAX_DOCUMENT_BYTES = 64 << 20
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined] # the C scanner json.loads itself uses
#: Yielded instead of a document for a line that the ``accept`` test of :func:`iter_json_documents` accepted.
ACCEPTED: Any = object()


class JsonDocumentError(ValueError):
    """Text that is not a JSON document; ``str()`` is the reason with its column."""


def _peek(stream: BinaryIO) -> tuple[bytes, str]:
    """Read the first chunk; return it (without a BOM) and its first non-blank character ('' if none)."""
    head = stream.read(CHUNK_SIZE)
    head = head.removeprefix(codecs.BOM_UTF8)
    stripped = head.lstrip(b" \t\r\n")
    while not stripped:
        more = stream.read(CHUNK_SIZE)
        if not more:
            return head, ""
        head += more
        stripped = head.lstrip(b" \t\r\n")
    return head, chr(stripped[0]) if stripped[0] < 128 else "?"


def iter_json_documents(
    stream: BinaryIO, name: str, accept: Callable[[str], bool] | None = None
) -> Iterator[tuple[int, Any]]:
    """Documents of a JSON Lines file, a JSON array or a single JSON document (see the module docs).

    :param accept: for JSON Lines, a test of a line's text; a line it accepts is not parsed and is yielded as
        :data:`ACCEPTED` (``mk2ds validate`` recognizes valid records this way).
    """
    head, first = _peek(stream)
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")) or first not in ("[", "{"):
        yield from _json_lines(head, stream, accept)
    elif first == "[":
        yield from _array_elements(head, stream)
    elif lower.endswith(".json"):
        yield from _single_document(head, stream)
    else:
        yield from _json_lines(head, stream, accept)


def _line_blocks(head: bytes, stream: BinaryIO) -> Iterator[bytes | None]:
    """Blocks of whole lines; ``None`` stands for one line too long to hold (it is skipped)."""
    pending = b""
    data = head
    while data:
        buffer = pending + data if pending else data
        cut = buffer.rfind(b"\n")
        if cut >= 0:
            yield buffer[: cut + 1]
            pending = buffer[cut + 1 :]
        else:
            pending = buffer
        if len(pending) > MAX_DOCUMENT_BYTES:
            yield None
            pending = _skip_to_newline(stream)
        data = stream.read(CHUNK_SIZE)
    if pending:
        yield pending


def _json_lines(head: bytes, stream: BinaryIO, accept: Callable[[str], bool] | None) -> Iterator[tuple[int, Any]]:
    number = 0
    for block in _line_blocks(head, stream):
        if block is None:
            number += 1
            yield number, JsonDocumentError(f"line longer than {MAX_DOCUMENT_BYTES} bytes")
            continue
        try:
            lines: list[str | None] = list(block.decode("utf-8").split("\n"))
        except UnicodeDecodeError:
            lines = [_decoded_or_none(raw) for raw in block.split(b"\n")]
        if lines[-1] == "":
            lines.pop()
        for text in lines:
            number += 1
            if text is None:
                yield number, JsonDocumentError("bytes that are not UTF-8")
                continue
            if accept is not None and accept(text):
                yield number, ACCEPTED
                continue
            try:
                document, end = _SCAN(text, 0)
                complete = end == len(text) or not text[end:].strip(" \t\r")
            except (StopIteration, json.JSONDecodeError):
                complete = False
            if not complete:
                if not text.strip(" \t\r"):
                    continue  # a blank line
                try:
                    document = json.loads(text)  # leading blanks, or the reason of the failure
                except json.JSONDecodeError as error:
                    yield number, JsonDocumentError(f"{error.msg} (column {error.colno})")
                    continue
            yield number, document


def _decoded_or_none(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _skip_to_newline(stream: BinaryIO) -> bytes:
    while True:
        data = stream.read(CHUNK_SIZE)
        if not data:
            return b""
        cut = data.find(b"\n")
        if cut >= 0:
            return data[cut + 1 :]


def _single_document(head: bytes, stream: BinaryIO) -> Iterator[tuple[int, Any]]:
    data = head + stream.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        yield data[: error.start].count(b"\n") + 1, JsonDocumentError("bytes that are not UTF-8")
        return
    start = _WHITESPACE.match(text).end()  # type: ignore[union-attr]
    line = text.count("\n", 0, start) + 1
    try:
        yield line, json.loads(text)
    except json.JSONDecodeError as error:
        yield error.lineno, JsonDocumentError(f"{error.msg} (column {error.colno})")


class _ArrayText:
    """A sliding text window over a stream, with the line number of the current position."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = self.decoder.decode(head)
        self.position = 0
        self.line = 1
        self.eof = False

    def fill(self) -> bool:
        if self.eof:
            return False
        data = self.stream.read(CHUNK_SIZE)
        self.eof = not data
        if self.position > CHUNK_SIZE:
            self.text = self.text[self.position :]
            self.position = 0
        self.text += self.decoder.decode(data, final=self.eof)
        return True

    def skip_blank(self) -> str:
        """Skip whitespace (counting lines); return the next character, or '' at the end."""
        while True:
            end = _WHITESPACE.match(self.text, self.position).end()  # type: ignore[union-attr]
            self.line += self.text.count("\n", self.position, end)
            self.position = end
            if end < len(self.text):
                return self.text[end]
            if not self.fill():
                return ""

    def advance(self, end: int) -> None:
        self.line += self.text.count("\n", self.position, end)
        self.position = end


def _array_elements(head: bytes, stream: BinaryIO) -> Iterator[tuple[int, Any]]:
    window = _ArrayText(head, stream)
    try:
        window.skip_blank()
        window.advance(window.position + 1)  # the "["
        if window.skip_blank() == "]":
            window.advance(window.position + 1)
        else:
            while True:
                window.skip_blank()
                line = window.line
                document = _next_element(window)
                yield line, document
                following = window.skip_blank()
                if following == ",":
                    window.advance(window.position + 1)
                    continue
                if following == "]":
                    window.advance(window.position + 1)
                    break
                found = repr(following) if following else "the end of the file"
                yield window.line, JsonDocumentError(f"expected ',' or ']' after an array element, found {found}")
                return
        if window.skip_blank():
            yield window.line, JsonDocumentError("text after the end of the array")
    except _BrokenArray as error:
        yield error.line, JsonDocumentError(str(error))
    except UnicodeDecodeError:
        yield window.line, JsonDocumentError("bytes that are not UTF-8")


class _BrokenArray(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def _next_element(window: _ArrayText) -> Any:
    while True:
        try:
            document, end = _DECODER.raw_decode(window.text, window.position)
        except json.JSONDecodeError as error:
            if len(window.text) - window.position < MAX_DOCUMENT_BYTES and window.fill():
                continue
            line = window.line + window.text.count("\n", window.position, error.pos)
            raise _BrokenArray(f"{error.msg} (column {error.colno})", line) from None
        if end == len(window.text) and window.fill():
            continue  # a number at the end of the window may go on in the next chunk
        window.advance(end)
        return document
