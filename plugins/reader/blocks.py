"""The byte layer of the Mark II reader: a binary stream as blocks of whole lines, in bounded memory.

A library (no hooks). :class:`BlockStream` reads :data:`CHUNK_SIZE` bytes at a time and yields blocks that
end at a line feed, so a block can be decoded and split at once; the last block holds whatever follows the
last line feed (a last line without terminator). Memory stays within a few chunks whatever the file size: a
line that grows beyond :data:`MAX_LINE_BYTES` without a line feed is not accumulated; its first
:data:`MAX_LINE_BYTES` bytes and its length go to the ``on_long_line`` callback and the rest is skipped.

UTF-16 with a byte-order mark (``FF FE`` or ``FE FF`` at the very start; ``utf16=True``) is transcoded to
UTF-8 chunk by chunk (an incremental decoder, so memory stays bounded), and the blocks are UTF-8: everything
above this layer (line splitting, line numbers, the UTF-8 decoder) works unchanged, and the BOM is not a line.
A lone surrogate, or an odd last byte, becomes bytes that are invalid UTF-8, so only its line is rejected.
``bytes_read`` still counts the bytes of the stream itself.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

__all__ = [
    "BOM",
    "CHUNK_SIZE",
    "MAX_LINE_BYTES",
    "UTF16_BOMS",
    "BlockStream",
    "EncodingSniffer",
    "RawLines",
    "cp932_only",
    "detect_encoding",
    "eof_marker_length",
    "raw_lines",
]

CHUNK_SIZE = 1 << 20
MAX_LINE_BYTES = 1 << 20
BOM = b"\xef\xbb\xbf"
#: UTF-16 byte-order marks and the codec that reads what follows them.
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
#: What an odd last byte of a UTF-16 stream becomes: invalid UTF-8, so its line is rejected, not lost.
_TRUNCATED_UTF16 = b"\xff"
_JAPANESE = re.compile("[\u3000-\uffef]")
_NOT_JAPANESE = re.compile("[\x80-\x9f\ue000-\uf8ff]")


class BlockStream:
    """``for block, final in BlockStream(stream, ...)``; ``bytes_read`` and ``bom`` say what was read.

    :param skip_bom: drop a UTF-8 byte-order mark at the very start (``bom`` then becomes ``True``).
    :param utf16: with ``skip_bom``, also take a UTF-16 byte-order mark at the very start: ``bom`` becomes
        ``True``, ``utf16`` names the codec (``utf-16-le`` or ``utf-16-be``) and the blocks are UTF-8.
    :param on_long_line: called as ``on_long_line(first_bytes, length)`` for every over-long line, in line
        order with respect to the blocks (all earlier blocks have been yielded and consumed).
    """

    def __init__(
        self, stream: BinaryIO, *, skip_bom: bool, on_long_line: Callable[[bytes, int], None], utf16: bool = False
    ) -> None:
        self.stream = stream
        self.skip_bom = skip_bom
        self.read_utf16 = utf16
        self.on_long_line = on_long_line
        self.bytes_read = 0
        self.bom = False
        self.utf16: str | None = None
        self._decoder: codecs.IncrementalDecoder | None = None

    def _read(self) -> bytes:
        data = self.stream.read(CHUNK_SIZE)
        self.bytes_read += len(data)
        if self._decoder is None:
            return data
        return self._transcode(data)

    def _transcode(self, data: bytes) -> bytes:
        """UTF-8 for the UTF-16 ``data`` and the next reads: empty only at the end of the stream."""
        assert self._decoder is not None
        while True:
            if not data:
                try:
                    return self._decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")
                except UnicodeDecodeError:  # an odd last byte
                    self._decoder.reset()
                    return _TRUNCATED_UTF16
            text = self._decoder.decode(data)
            if text:
                return text.encode("utf-8", "surrogatepass")
            data = self.stream.read(CHUNK_SIZE)  # one byte read: half a code unit
            self.bytes_read += len(data)

    def _start(self, data: bytes) -> bytes:
        """Take a byte-order mark off the first data (reading more while it could still be one)."""
        marks = (BOM, *UTF16_BOMS) if self.read_utf16 else (BOM,)
        while data and any(len(data) < len(mark) and mark.startswith(data) for mark in marks):
            more = self.stream.read(CHUNK_SIZE)
            self.bytes_read += len(more)
            if not more:
                break
            data += more
        if data.startswith(BOM):
            self.bom = True
            return data[len(BOM) :] or self._read()
        if self.read_utf16 and data[:2] in UTF16_BOMS:
            self.bom = True
            self.utf16 = UTF16_BOMS[data[:2]]
            self._decoder = codecs.getincrementaldecoder(self.utf16)(errors="surrogatepass")
            return self._transcode(data[2:])
        return data

    def __iter__(self) -> Iterator[tuple[bytes, bool]]:
        pending = b""
        data = self._read()
        if self.skip_bom:
            data = self._start(data)
        while data:
            following = self._read()  # read ahead: the block before the end of the stream is the final one
            buffer = pending + data if pending else data
            if not following:
                pending = buffer
                break
            cut = buffer.rfind(b"\n")
            if cut >= 0:
                yield buffer[: cut + 1], False
                pending = buffer[cut + 1 :]
            else:
                pending = buffer
            if len(pending) > MAX_LINE_BYTES:
                pending, following = self._skip_long_line(pending, following)
            data = following
        yield pending, True

    def _skip_long_line(self, head: bytes, following: bytes) -> tuple[bytes, bytes]:
        length = len(head)
        data = following
        rest = b""
        while data:
            cut = data.find(b"\n")
            if cut >= 0:
                length += cut
                rest = data[cut + 1 :]
                break
            length += len(data)
            data = self._read()
        self.on_long_line(head[:MAX_LINE_BYTES], length)
        return rest, self._read() if data else b""


def raw_lines(block: bytes) -> list[bytes]:
    """A block's lines as bytes, without the LF and without a CR directly before an LF."""
    pieces = block.split(b"\n")
    terminated = pieces[-1] == b""
    if terminated:
        pieces.pop()
    lines = [piece[:-1] if piece.endswith(b"\r") else piece for piece in pieces]
    if not terminated:
        lines[-1] = pieces[-1]  # no LF after the last line: a CR there is part of the line
    return lines


def eof_marker_length(block: bytes, final: bool) -> int:
    """How many 0x1A bytes end ``block`` when it is the last block of the file (the DOS end-of-file marker).

    Only the file's very last bytes count: ``cmd=abc\x1a\r\n`` keeps its 0x1A (the line is then judged like
    any other), so that nothing is stripped silently.
    """
    if not final or not block.endswith(b"\x1a"):
        return 0
    return len(block) - len(block.rstrip(b"\x1a"))


class RawLines:
    """``raw_lines(block)`` without the end-of-file marker, split on first use (a rejected line keeps its bytes)."""

    def __init__(self, block: bytes, eof_marker: int) -> None:
        self.block = block
        self.eof_marker = eof_marker
        self.lines: list[bytes] | None = None

    def __getitem__(self, index: int) -> bytes:
        if self.lines is None:
            self.lines = raw_lines(self.block)
            if self.eof_marker:
                self.lines[-1] = self.lines[-1][: -self.eof_marker]
        return self.lines[index]


class EncodingSniffer:
    """Decides between UTF-8 and CP932 from the first lines with non-ASCII bytes, whatever the chunking.

    The answer is ``cp932`` only when auto-detection is *sure*: each of the first :attr:`lines` lines with
    non-ASCII bytes (or fewer, if :attr:`max_bytes` bytes from the first of them, or the end of the file,
    come first) is invalid UTF-8 *and* decodes cleanly as CP932 into Japanese-looking text (at least one
    character from U+3000 up, and no C1 control or private-use character, which is what Python's CP932 codec
    makes of stray bytes such as 0x80 or 0xFF). Japanese text in CP932 is practically never valid UTF-8 (its
    lead bytes 0x81–0x9F and 0xE0–0xFC are followed by bytes that do not form UTF-8 sequences), while a UTF-8
    file with a few damaged lines still has valid non-ASCII lines among the first ones and so stays UTF-8 (the
    damaged lines are then rejected one by one). Any doubt gives ``utf-8``. Once decided, the whole file is
    read in that encoding (``--encoding`` forces one).

    Feed it whole-line blocks in order (:meth:`feed` returns the answer as soon as it is known), then call
    :meth:`finish` at the end of the file. The sample is defined by lines, so the answer does not depend on
    where the blocks were cut.
    """

    def __init__(self, lines: int = 100, max_bytes: int = 4 << 20) -> None:
        self.lines = lines
        self.max_bytes = max_bytes
        self.verdict: str | None = None
        self._seen = 0
        self._bytes = 0
        self._started = False

    def feed(self, block: bytes) -> str | None:
        if self.verdict is not None:
            return self.verdict
        pieces = block.split(b"\n")
        if pieces[-1] == b"":
            pieces.pop()  # the block ended with a line feed: no line after it
        for line in pieces:
            if not self._started:
                if line.isascii():
                    continue
                self._started = True
            self._bytes += len(line) + 1
            if not line.isascii():
                if not cp932_only(line):
                    self.verdict = "utf-8"
                    return self.verdict
                self._seen += 1
            if self._seen >= self.lines or self._bytes >= self.max_bytes:
                self.verdict = "cp932"
                return self.verdict
        return None

    def finish(self) -> str:
        if self.verdict is None:
            self.verdict = "cp932" if self._seen else "utf-8"
        return self.verdict


def cp932_only(line: bytes) -> bool:
    """Invalid UTF-8, but clean, Japanese-looking CP932."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return False
    try:
        text = line.decode("cp932")
    except UnicodeDecodeError:
        return False
    return _NOT_JAPANESE.search(text) is None and _JAPANESE.search(text) is not None


def detect_encoding(data: bytes) -> str:
    """The :class:`EncodingSniffer` answer for ``data`` taken as a whole file."""
    sniffer = EncodingSniffer()
    sniffer.feed(data)
    return sniffer.finish()
