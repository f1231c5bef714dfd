"""The Mark II reader: bytes → lines → records, with findings, rejects and statistics, streaming.

Feature package ``reader`` (plugin ``reader``: ``mk2ds_open_log``, ``mk2ds_register_codes``). Its modules:
``log_reader`` (:class:`LogReader`, the three conversion paths), ``findings`` (findings about a whole log),
``fast_path`` (the pure-Python fast path), ``compiled`` and ``_speedups`` (the optional C fast path),
``tokenizer`` (the line grammar), ``blocks`` (bytes, encodings, bounded-memory blocks of lines), ``record`` (one
line to one record, every problem explained), ``byte_ranges`` (line-aligned parts of a large log for parallel
readers), ``timestamps`` (a record's instant for outputs that need one) and ``event_summary`` (a one-line human
summary of a record). The format itself is described in ``docs/format.md``.

``open_log(stream, name, options)`` (and the ``mk2ds_open_log`` hook, which returns the same object) reads a
binary stream in 1 MiB chunks, so memory stays bounded whatever the file size. Iterating the reader yields
records in file order: ``{"time": …, <every key of the line in line order>}`` as pinned by
``schemas/record.schema.json``. After iteration:

``findings``
    :class:`~mk2ds.core.findings.Finding` objects with ``path=name``, ``line`` and ``column``. Every rejected
    line has exactly one *error* finding; kept records may carry warnings (``log-not-integer``) or info
    (``log-extra-space``). After :data:`MAX_FINDINGS_PER_CODE` findings of one code, the rest are only
    counted (``log-findings-truncated`` says how many), so a broken multi-GB file cannot exhaust memory.
``rejects``
    ``(line_number, raw_bytes)`` of every rejected line (raw bytes without the line terminator). A caller
    that must not hold them all (``mk2ds convert``) passes ``options.reject_sink``, a callable that receives
    each pair instead; ``rejects`` then stays empty. Without a sink, at most 64 MiB of rejected lines are
    kept (a ``log-findings-truncated`` finding says when more were rejected; ``stats`` counts them all).
``stats``
    ``lines``, ``records``, ``rejected``, ``blank`` (conservation: ``lines == records + rejected + blank``),
    ``bytes``, ``encoding``, ``bom``, ``eof_marker``, ``time_offset_unknown`` (zone-less records whose
    offset no evidence gave; one ``time-offset-unknown`` warning per file says how many).

Zone-less headers: the record's ``time`` stays the local time, and ``time_offset``/``time_offset_source``
follow it, from ``options.assume_offset`` (``--assume-offset``), else ``options.sysinfo_offset`` (the
sample's Sysinfo time zone, given by callers that read the log as part of a distribution), else
``time_offset_source: "unknown"`` alone (:mod:`mk2ds.plugins.reader.timestamps`).

Every record has ``sn``, ``evt`` and ``subEvt`` with a value: a line without one is rejected
(``log-missing-key``). With ``options.lossless`` every line takes the reference path, and records carry
``_quoted`` (and ``_spaces``/``_header`` when needed) so that ``mk2ds format`` writes each line back byte for
byte (see :mod:`mk2ds.plugins.reader.record`).

Line handling: LF or CR LF (a CR is removed only directly before LF); a last line without terminator; a DOS
end-of-file byte 0x1A that is the file's very last byte (or a run of them: the end of the file; alone on the last
line it counts as a blank line, glued to the end of the last record it is removed). A 0x1A anywhere else, even
one followed only by CR LF, is an ordinary byte of its line (never silently stripped). Lines longer than 1 MiB
(:data:`mk2ds.plugins.reader.blocks.MAX_LINE_BYTES`) are rejected without being held in memory (the rejects keep
their first MiB, the finding gives the full length).

Encodings (``options.encoding``): ``utf-8`` (a BOM at the start is skipped), ``cp932``, or ``auto`` (the
default: UTF-8, or CP932 when :class:`~mk2ds.plugins.reader.blocks.EncodingSniffer` is sure, from the first
lines with non-ASCII bytes). Bytes that are invalid in the chosen encoding reject only their line.
A UTF-16 BOM (``FF FE`` or ``FE FF``) at the start of the file, with ``auto`` or ``utf-8``, means UTF-16:
the file is transcoded to UTF-8 as it is read (:class:`~mk2ds.plugins.reader.blocks.BlockStream`), line numbers
are the file's, ``stats["encoding"]`` is ``utf-16-le`` or ``utf-16-be``, and rejected lines are kept in their
UTF-8 form (byte positions in findings count UTF-8 bytes). A UTF-16 file is read whole, never in byte ranges.

Byte ranges (:mod:`mk2ds.plugins.reader.byte_ranges`): a stream may be one line-aligned part of a larger file.
``options.line_offset`` is the number of lines before it (line numbers in findings, rejects and ``_line``
stay those of the file; ``stats["lines"]`` counts the part's own); ``options.at_file_start`` (a BOM is
skipped only there) and ``options.at_file_end`` (the 0x1A rule applies only there) say where the part lies.
A part needs the file's encoding decided beforehand (``auto`` is refused: each part would otherwise decide
on its own lines), and its per-file summary (``log-findings-truncated``) is left to the caller, who merges
the parts with :func:`truncation_findings` over the parts' :attr:`LogReader.finding_counts`.

Speed: each chunk is decoded at once and split on ``\\n``; every line first goes through a regular-expression
fast path (:data:`~mk2ds.plugins.reader.tokenizer.FIELD_PATTERN`); anything unusual (a malformed line, an
impossible date, a repeated key, a non-integer in an integer field, extra spaces) is handled by the reference
path (:func:`mk2ds.plugins.reader.record.record_from_line`), which explains the problem with a column. The tests
check with hypothesis that both paths give the same records and findings. When the optional C extension is
built (:mod:`mk2ds.plugins.reader.compiled`, ``docs/fast-path.md``), it takes the place of the regular-expression
fast path: it converts the common lines of a block and hands every other line back to the reference path, and
:meth:`LogReader.encoded` gives JSON Lines bytes without building records. ``MK2DS_PURE_PYTHON=1`` turns it off.
"""

from __future__ import annotations

import argparse
from typing import Any

from mk2ds.core import CodeInfo, Severity, hookimpl
from mk2ds.plugins.reader.blocks import detect_encoding
from mk2ds.plugins.reader.compiled import READER_PATH
from mk2ds.plugins.reader.findings import (
    MAX_FINDINGS_PER_CODE,
    REJECTING_CODES,
    encoding_detected_finding,
    offset_unknown_finding,
    truncation_findings,
)
from mk2ds.plugins.reader.log_reader import ENCODINGS, LogReader, open_log

__all__ = [
    "ENCODINGS",
    "MAX_FINDINGS_PER_CODE",
    "REJECTING_CODES",
    "LogReader",
    "detect_encoding",
    "encoding_detected_finding",
    "offset_unknown_finding",
    "open_log",
    "truncation_findings",
]

#: Shown by ``mk2ds plugins`` and ``mk2ds --version``: which path converts the common lines.
MK2DS_PLUGIN_DETAIL = f"reader path: {READER_PATH}"


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo(
            "log-unparseable", Severity.ERROR, "A log line does not follow the Mark II line grammar; it is rejected"
        ),
        CodeInfo(
            "log-invalid-time",
            Severity.ERROR,
            "A line header names a date, time or offset that cannot exist; it is rejected",
        ),
        CodeInfo(
            "log-duplicate-key",
            Severity.ERROR,
            "A key occurs more than once in a line; it is rejected (all values in the details)",
        ),
        CodeInfo(
            "log-reserved-key",
            Severity.ERROR,
            "A line has a key the record itself uses (time; _file/_line with --provenance); rejected",
        ),
        CodeInfo(
            "log-missing-key",
            Severity.ERROR,
            "A line has no sn, evt or subEvt, or one without a value: not an event record; it is rejected",
        ),
        CodeInfo("log-sn-negative", Severity.WARNING, "A line's sequence number (sn) is negative; the record is kept"),
        CodeInfo(
            "log-encoding-error", Severity.ERROR, "A line's bytes are not valid in the file's encoding; it is rejected"
        ),
        CodeInfo("log-line-too-long", Severity.ERROR, "A line longer than 1 MiB; it is rejected"),
        CodeInfo(
            "log-not-integer",
            Severity.WARNING,
            "An integer field holds text that is not a decimal integer; kept as text",
        ),
        CodeInfo(
            "log-extra-space",
            Severity.INFO,
            "More than one space between fields (the grammar has one); tolerated, record kept",
        ),
        CodeInfo(
            "log-encoding-detected",
            Severity.INFO,
            "A log was decoded as CP932 because auto-detection was sure it is not UTF-8",
        ),
        CodeInfo(
            "log-findings-truncated",
            Severity.INFO,
            "More findings of one code in one log than listed; the rest are counted",
        ),
        CodeInfo(
            "time-offset-unknown",
            Severity.WARNING,
            "Zone-less log lines whose UTC offset no evidence gives (no --assume-offset, no Sysinfo time zone)",
        ),
    ]


@hookimpl
def mk2ds_open_log(stream: Any, name: str, options: argparse.Namespace) -> LogReader:
    return LogReader(stream, name, options)
