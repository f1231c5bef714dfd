"""The Mark II log reader: :class:`LogReader`, records of one log read once, streaming (see the package
documentation, :mod:`mk2ds.plugins.reader`, for the contract and the three conversion paths).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from mk2ds.core import Finding, Severity
from mk2ds.plugins.reader import blocks as mk2_blocks
from mk2ds.plugins.reader.blocks import BlockStream, EncodingSniffer, RawLines, eof_marker_length
from mk2ds.plugins.reader.blocks import raw_lines as raw_lines_of
from mk2ds.plugins.reader.compiled import compiled_module
from mk2ds.plugins.reader.fast_path import FastPath
from mk2ds.plugins.reader.findings import (
    MAX_FINDINGS_PER_CODE,
    encoding_detected_finding,
    offset_unknown_finding,
    truncation_findings,
)
from mk2ds.plugins.reader.record import record_from_line
from mk2ds.plugins.reader.timestamps import offset_fields
from mk2ds.plugins.reader.tokenizer import INTEGER_FIELDS, normalize_offset

__all__ = ["ENCODINGS", "LogReader", "open_log"]

#: Without a ``reject_sink``, rejected lines kept in memory are capped at this many bytes in total.
MAX_KEPT_REJECT_BYTES = 64 << 20
ENCODINGS = ("auto", "utf-8", "cp932")


def open_log(stream: BinaryIO, name: str, options: Any = None) -> LogReader:
    """Open a Mark II log for reading records (library use; the same as the ``mk2ds_open_log`` hook)."""
    return LogReader(stream, name, options)


class LogReader:
    """Records of one Mark II log, read once, streaming. See the module documentation for the contract."""

    def __init__(self, stream: BinaryIO, name: str, options: Any = None) -> None:
        encoding = getattr(options, "encoding", None) or "auto"
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown log encoding {encoding!r} (known: {', '.join(ENCODINGS)})")
        assume = getattr(options, "assume_offset", None)
        sysinfo = getattr(options, "sysinfo_offset", None)
        self.stream = stream
        self.name = name
        self.assume_offset: str | None = normalize_offset(assume) if assume else None
        #: What a zone-less record gets after ``time`` (``time_offset``, ``time_offset_source``).
        self.zone_less = offset_fields(self.assume_offset, normalize_offset(sysinfo) if sysinfo else None)
        self._unknown_offset = self.zone_less["time_offset_source"] == "unknown"
        self.provenance = bool(getattr(options, "provenance", False))
        self.lossless = bool(getattr(options, "lossless", False))
        self.reject_sink: Callable[[int, bytes], None] | None = getattr(options, "reject_sink", None)
        self.max_findings = int(getattr(options, "max_findings_per_code", None) or MAX_FINDINGS_PER_CODE)
        self.line_offset = int(getattr(options, "line_offset", None) or 0)
        self.at_file_start = bool(getattr(options, "at_file_start", True))
        self.at_file_end = bool(getattr(options, "at_file_end", True))
        self.whole_file = self.at_file_start and self.at_file_end and not self.line_offset
        if not self.whole_file and encoding == "auto":
            raise ValueError(
                f"{name}: a byte range of a log needs the file's encoding, decided once for the file, not 'auto'"
            )
        self.findings: list[Finding] = []
        self.rejects: list[tuple[int, bytes]] = []
        self.stats: dict[str, Any] = {
            "lines": 0,
            "records": 0,
            "rejected": 0,
            "blank": 0,
            "bytes": 0,
            "encoding": encoding if encoding != "auto" else None,
            "bom": False,
            "eof_marker": False,
            "time_offset_unknown": 0,
        }
        self._encoding: str | None = None if encoding == "auto" else encoding
        #: Findings per code, also those beyond ``max_findings`` that are only counted (merging parts needs it).
        self.finding_counts: Counter[str] = Counter()
        self._kept_reject_bytes = 0
        self._fast_path = FastPath(name, self.zone_less, self.provenance, self.lossless)
        self._started = False
        self._detected = False
        self._held: list[tuple[bytes, bool, tuple[bytes, int] | None]] = []
        self._compiled = compiled_module()
        self._encode: Callable[[dict[str, Any]], bytes] | None = None

    # ---------------------------------------------------------------------------------------------- reading

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._started:
            raise RuntimeError(f"{self.name}: a log reader can be iterated only once")
        self._started = True
        return self._records()

    def encoded(self, encode: Callable[[dict[str, Any]], bytes]) -> Iterator[bytes]:
        """The records as JSON, for JSON Lines outputs: each item is one or more records joined by LF.

        ``encode`` must give the bytes of ``json.dumps(record, ensure_ascii=False, separators=(",", ":"))``
        (:func:`mk2ds.plugins.records.jsonl.encode_record_bytes`): the compiled path writes exactly those bytes
        without building Python objects, every other record goes through ``encode``. Iterate a reader once,
        either way.
        """
        if self._started:
            raise RuntimeError(f"{self.name}: a log reader can be iterated only once")
        self._started = True
        self._encode = encode
        return self._records()  # type: ignore[return-value]

    def _records(self) -> Iterator[dict[str, Any]]:
        skip_bom = self._encoding != "cp932" and self.at_file_start
        source = BlockStream(self.stream, skip_bom=skip_bom, on_long_line=self._long_line, utf16=skip_bom)
        sniffer = EncodingSniffer()
        held = self._held  # blocks (and over-long lines between them) waiting for the encoding to be decided
        for block, end_of_stream in source:
            final = end_of_stream and self.at_file_end  # the 0x1A rule holds at the end of the file only
            if source.bom and not self.stats["bom"]:
                self.stats["bom"] = True
                self._encoding = self._encoding or "utf-8"
                if source.utf16 is not None:
                    if not self.whole_file:
                        raise ValueError(
                            f"{self.name}: a UTF-16 log cannot be read in byte ranges; read the whole file"
                        )
                    self._encoding = "utf-8"  # the blocks are transcoded to UTF-8
                    self.stats["encoding"] = source.utf16
            if self._encoding is None and (held or not block.isascii()):
                held.append((block, final, None))
                verdict = sniffer.feed(block)
                if verdict is None and not end_of_stream:
                    continue
                self._set_encoding(verdict or sniffer.finish())
                for waiting, last, long_line in held:
                    if long_line is not None:
                        self._count_long_line(*long_line)
                    else:
                        yield from self._convert_block(waiting, last)
                held.clear()
            else:
                yield from self._convert_block(block, final)
            self.stats["bytes"] = source.bytes_read
        self._finish()

    def _set_encoding(self, encoding: str) -> None:
        self._encoding = encoding
        self._detected = encoding == "cp932"  # reported at the end, so findings keep line order

    def _long_line(self, head: bytes, length: int) -> None:
        if self._held:  # earlier lines wait for the encoding: this one waits with them, to keep line numbers
            self._held.append((b"", False, (head, length)))
            return
        self._count_long_line(head, length)

    def _count_long_line(self, head: bytes, length: int) -> None:
        self.stats["lines"] += 1
        self._reject_too_long(self.line_offset + self.stats["lines"], head, length)

    def _reject_too_long(self, number: int, head: bytes, length: int) -> None:
        limit = mk2_blocks.MAX_LINE_BYTES
        message = f"line of {length} bytes is longer than {limit} bytes; rejected (the rejects keep its first {len(head)} bytes)"
        self._finding("log-line-too-long", Severity.ERROR, message, number, None, {"bytes": length})
        self._reject(number, head)

    # ---------------------------------------------------------------------------------------------- blocks

    def _convert_block(self, block: bytes, final: bool) -> list[Any]:
        if not block:
            return []
        encoding = self._encoding or "utf-8"  # still undecided only while every line is ASCII
        if self._compiled is not None and not self.lossless:  # lossless: the reference path keeps the layout
            return self._convert_block_compiled(block, final, encoding)
        if self._encode is not None:
            return list(map(self._encode, self._convert_block_pure(block, final, encoding)))
        return self._convert_block_pure(block, final, encoding)

    def _convert_block_pure(self, block: bytes, final: bool, encoding: str) -> list[dict[str, Any]]:
        try:
            text = block.decode(encoding)
        except UnicodeDecodeError:
            return self._convert_block_carefully(block, final, encoding)
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        eof_marker = eof_marker_length(block, final)
        if eof_marker:
            lines[-1] = lines[-1][:-eof_marker]
            self.stats["eof_marker"] = True
        limit = mk2_blocks.MAX_LINE_BYTES
        if len(block) > limit and max(map(len, lines), default=0) > limit // 4:
            return self._convert_block_carefully(block, final, encoding)
        return self._convert_lines(lines, block, eof_marker)

    def _convert_lines(self, lines: list[str], block: bytes, eof_marker: int) -> list[dict[str, Any]]:
        """The decoded lines of ``block``: the fast path converts the common ones, the reference path the others.

        ``eof_marker`` is the number of 0x1A bytes removed from the end of the last line (of the file).
        """
        stats = self.stats
        counted = stats["lines"]
        raw_lines = RawLines(block, eof_marker)

        def reference_path(number: int, line: str, index: int) -> list[dict[str, Any]]:
            if not line:
                return []  # a blank line: counted below
            record = self._slow_line(number, line)
            if record is None:
                self._reject(number, raw_lines[index])
                return []
            return [record]

        records = self._fast_path.convert(lines, self.line_offset + counted, reference_path)
        self._count_unknown_offsets(records)
        stats["lines"] = counted + len(lines)
        stats["blank"] += lines.count("")
        stats["records"] += len(records)
        return records

    def _convert_block_compiled(self, block: bytes, final: bool, encoding: str) -> list[Any]:
        """The compiled path: common lines in C, every other line by :meth:`_careful_line`, in line order.

        The last line of the file goes through :meth:`_convert_block_carefully` (the 0x1A rule).
        """
        tail = b""
        if final:
            cut = block.rfind(b"\n", 0, len(block) - 1) + 1 if block.endswith(b"\n") else block.rfind(b"\n") + 1
            block, tail = block[:cut], block[cut:]
        encode = self._encode
        out: list[Any] = []
        if block:
            stats = self.stats
            counted = stats["lines"]
            base = self.line_offset + counted
            items, lines, blank, records, zone_less_records = self._compiled.convert_block(  # type: ignore[union-attr]
                block,
                base,
                INTEGER_FIELDS,
                self.zone_less,
                self._zone_less_json(),
                encode is not None,
                encoding != "utf-8",
                mk2_blocks.MAX_LINE_BYTES,
                self.provenance,
                self.name,
                self._name_json(),
            )
            stats["lines"] = counted + lines
            stats["blank"] += blank
            if self._unknown_offset:
                stats["time_offset_unknown"] += zone_less_records
            for item in items:
                if type(item) is tuple:
                    index, start, end = item
                    record = self._careful_line(block[start:end], base + index + 1, encoding)
                    if record is None:
                        continue
                    records += 1
                    self._count_unknown_offsets([record])
                    item = record if encode is None else encode(record)
                out.append(item)
            stats["records"] += records
        if tail:
            last = self._convert_block_carefully(tail, final, encoding)
            out.extend(last if encode is None else map(encode, last))
        return out

    def _zone_less_json(self) -> bytes:
        """The keys a zone-less record gets after ``time``, as JSON object members with their leading commas."""
        return "".join(f",{json.dumps(key)}:{json.dumps(value)}" for key, value in self.zone_less.items()).encode()

    def _name_json(self) -> bytes:
        if self._encode is None or not self.provenance:
            return b""
        encoded = self._encode({"_file": self.name})
        return encoded[len(b'{"_file":') : -1]

    def _convert_block_carefully(self, block: bytes, final: bool, encoding: str) -> list[dict[str, Any]]:
        """Line by line, for blocks with undecodable bytes or over-long lines."""
        records: list[dict[str, Any]] = []
        raw_lines = raw_lines_of(block)
        last = len(raw_lines) - 1
        eof_marker = eof_marker_length(block, final)
        for index, raw in enumerate(raw_lines):
            self.stats["lines"] += 1
            number = self.line_offset + self.stats["lines"]
            if eof_marker and index == last:
                self.stats["eof_marker"] = True
                raw = raw[:-eof_marker]
            if not raw:
                self.stats["blank"] += 1
                continue
            record = self._careful_line(raw, number, encoding)
            if record is not None:
                records.append(record)
        self.stats["records"] += len(records)
        self._count_unknown_offsets(records)
        return records

    def _count_unknown_offsets(self, records: list[dict[str, Any]]) -> None:
        if self._unknown_offset:
            self.stats["time_offset_unknown"] += sum(1 for record in records if len(record["time"]) == 23)

    def _careful_line(self, raw: bytes, number: int, encoding: str) -> dict[str, Any] | None:
        """One non-blank line as bytes by the reference path; ``None``: rejected (with its finding)."""
        if len(raw) > mk2_blocks.MAX_LINE_BYTES:
            self._reject_too_long(number, raw[: mk2_blocks.MAX_LINE_BYTES], len(raw))
            return None
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError as error:
            column = len(raw[: error.start].decode(encoding)) + 1
            bad = raw[error.start : error.end].hex(" ")
            self._finding(
                "log-encoding-error",
                Severity.ERROR,
                f"bytes not valid {encoding.upper()} at byte {error.start + 1} ({bad}); line rejected",
                number,
                column,
                {"byte_offset": error.start, "encoding": encoding},
            )
            self._reject(number, raw)
            return None
        record = self._slow_line(number, line)
        if record is None:
            self._reject(number, raw)
        return record

    # ---------------------------------------------------------------------------------------------- lines

    def _slow_line(self, number: int, line: str) -> dict[str, Any] | None:
        """Convert one line by the reference path (:mod:`mk2ds.plugins.reader.record`); ``None``: rejected."""
        record, problems = record_from_line(
            line, number, zone_less=self.zone_less, provenance=self.provenance, name=self.name, lossless=self.lossless
        )
        for problem in problems:
            self._finding(problem.code, problem.severity, problem.message, number, problem.column, problem.details)
        return record

    # ---------------------------------------------------------------------------------------------- results

    def _finding(
        self,
        code: str,
        severity: Severity,
        message: str,
        line: int | None,
        column: int | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.finding_counts[code] += 1
        if self.finding_counts[code] > self.max_findings:
            return
        self.findings.append(
            Finding(code, severity, message, path=self.name, line=line, column=column, details=details or {})
        )

    def _reject(self, number: int, raw: bytes) -> None:
        self.stats["rejected"] += 1
        if self.reject_sink is not None:
            self.reject_sink(number, raw)
            return
        self._kept_reject_bytes += len(raw)
        if self._kept_reject_bytes <= MAX_KEPT_REJECT_BYTES:
            self.rejects.append((number, raw))

    def _finish(self) -> None:
        stats = self.stats
        if stats["encoding"] is None:
            stats["encoding"] = self._encoding or "utf-8"
        if self._detected:
            detected = encoding_detected_finding(self.name)
            self._finding(detected.code, detected.severity, detected.message, None, None, detected.details)
        if self.whole_file:  # a part's counts are merged over the whole file by the caller
            self.findings.extend(truncation_findings(self.name, self.finding_counts, self.max_findings))
            if stats["time_offset_unknown"]:
                self.findings.append(offset_unknown_finding(self.name, stats["time_offset_unknown"]))
        if self._kept_reject_bytes > MAX_KEPT_REJECT_BYTES:
            kept = len(self.rejects)
            self.findings.append(
                Finding(
                    "log-findings-truncated",
                    Severity.INFO,
                    f"{stats['rejected']} rejected lines; only the first {kept} are kept in memory (pass a reject sink)",
                    path=self.name,
                    details={"code": "rejects", "count": stats["rejected"], "listed": kept},
                )
            )
