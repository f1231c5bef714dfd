"""What the log checks (:mod:`mk2ds.plugins.checks.log_check`) see of one Mark II log: :class:`LogObserver`
watches its records stream past and collects the per-file facts and problems; :func:`text_layout_problem` and
:func:`first_line` look at its bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO

from mk2ds.core import Finding, Severity
from mk2ds.plugins.checks.activity import ActivityCounter
from mk2ds.plugins.checks.log_times import LogTimeObserver
from mk2ds.plugins.reader.blocks import UTF16_BOMS

__all__ = [
    "FIELDS_NAMING_FILES",
    "FIRST_LINE_BYTES",
    "MAX_LINES_IN_DETAILS",
    "MAX_LISTED",
    "SNIFF_BYTES",
    "LogObserver",
    "first_line",
    "text_layout_problem",
]

#: Individual findings per code and file before they are summarized (the summary keeps the count and lines).
MAX_LISTED = 20
MAX_LINES_IN_DETAILS = 1000
FIELDS_NAMING_FILES = ("psPath", "parentPath", "path", "dstPath", "cmd", "tpsPath", "valStr")
#: Bytes looked at to tell why a log's lines were rejected.
SNIFF_BYTES = 64 * 1024
#: At level ``fast``, at most this many bytes of a log's first line are read.
FIRST_LINE_BYTES = 1024 * 1024


def text_layout_problem(head: bytes) -> tuple[str, str] | None:
    """``(code, message)`` when the first bytes of a log show UTF-16 text or CR-only line ends, else ``None``.

    Called only for a log with rejected lines that the reader did not read as UTF-16 (its ``stats["encoding"]``):
    the reader transcodes UTF-16 with a BOM, so a BOM here means it was told otherwise (``--encoding cp932``)
    or is another plugin's reader; UTF-16 without a BOM it does not guess.
    """
    sample = head[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        order = "little" if sample.startswith(b"\xff\xfe") else "big"
        return (
            "log-utf16",
            f"UTF-16 ({order}-endian, with BOM) text, not read as UTF-16 (read it with --encoding auto or utf-8)",
        )
    for zeros, order in ((sample[1::2], "little"), (sample[0::2], "big")):
        if len(sample) >= 4 and zeros.count(0) > len(sample) // 4:
            return (
                "log-utf16",
                f"UTF-16 ({order}-endian, no BOM) text; Mark II logs are read as UTF-8 or CP932 (convert with: iconv -f UTF-16{order[0].upper()}E -t UTF-8)",
            )
    if b"\n" not in head and head.count(b"\r") > 1:
        return (
            "log-cr-line-ends",
            "lines end with a lone CR (no LF); the reader splits lines at LF only (convert with: tr '\\r' '\\n')",
        )
    return None


def first_line(stream: BinaryIO, limit: int = FIRST_LINE_BYTES) -> bytes:
    """The first line of a log (level ``fast``), whole also in UTF-16 with a BOM, where a byte 0x0A is not
    always a line feed and a line feed is two bytes."""
    head = stream.readline(limit)
    codec = UTF16_BOMS.get(head[:2])
    if codec is None:
        return head
    newline = "\n".encode(codec)
    while len(head) < limit and not (len(head) % 2 == 0 and head.endswith(newline)):
        more = stream.read(1) if len(head) % 2 else stream.readline(limit - len(head))
        if not more:
            break
        head += more
    return head


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 23:
        return None
    try:
        return datetime.fromisoformat(value[:23])  # local clock time of the host; offsets are per file anyway
    except ValueError:
        return None


class LogObserver:
    """Watches records stream past and collects the per-file facts and problems."""

    def __init__(
        self, path: str, subject: str | None, sample_hashes: set[str], times: LogTimeObserver | None = None
    ) -> None:
        self.path = path
        self.times = times
        self.subject = subject
        self.sample_hashes = sample_hashes
        self.sample_seen = not sample_hashes
        self.last_sn: int | None = None
        self.problems: dict[str, list[int]] = {"log-sn-backwards": [], "log-sn-repeated": []}
        # ISO strings of equal shape order like the times they name: compare text, parse only at the end.
        self.first_text: str | None = None
        self.last_text: str | None = None
        self.records = 0
        self.activity = ActivityCounter()

    def watch(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for index, record in enumerate(records, start=1):
            self.records += 1
            self.activity.add(record)
            line = record.get("_line", index)
            sn = record.get("sn")
            if isinstance(sn, int):
                if self.last_sn is not None:
                    if sn < self.last_sn:
                        self.problems["log-sn-backwards"].append(int(line))
                    elif sn == self.last_sn:
                        self.problems["log-sn-repeated"].append(int(line))
                self.last_sn = sn
            if self.times is not None:
                self.times.see(record, int(line))
            moment = record.get("time")
            if isinstance(moment, str):
                local = moment[:23]
                if self.first_text is None or local < self.first_text:
                    self.first_text = local
                if self.last_text is None or local > self.last_text:
                    self.last_text = local
            if not self.sample_seen:
                for key in FIELDS_NAMING_FILES:
                    value = record.get(key)
                    if isinstance(value, str) and any(digest in value.lower() for digest in self.sample_hashes):
                        self.sample_seen = True
                        break
            yield record

    def findings(self) -> Iterator[Finding]:
        if self.times is not None:
            yield from self.times.findings()
        for code, lines in self.problems.items():
            what = "lower than" if code == "log-sn-backwards" else "equal to"
            for line in lines[:MAX_LISTED]:
                yield Finding(
                    code,
                    Severity.WARNING,
                    f"sn is {what} the previous record's",
                    path=self.path,
                    line=line,
                    subject=self.subject,
                )
            if len(lines) > MAX_LISTED:
                yield Finding(
                    "log-sn-summary",
                    Severity.WARNING,
                    f"{len(lines) - MAX_LISTED} more lines with sn {what} the previous record's (first {MAX_LISTED} listed)",
                    path=self.path,
                    subject=self.subject,
                    details={"code": code, "count": len(lines), "lines": lines[:MAX_LINES_IN_DETAILS]},
                )

    @property
    def first(self) -> datetime | None:
        return _parse_time(self.first_text)

    @property
    def last(self) -> datetime | None:
        return _parse_time(self.last_text)

    @property
    def span_minutes(self) -> float | None:
        first, last = self.first, self.last
        if first is None or last is None:
            return None
        return (last - first).total_seconds() / 60.0
