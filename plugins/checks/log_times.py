"""Time checks of one Mark II log, fed record by record by the log checks (:mod:`mk2ds.plugins.checks.logs`).

:class:`LogTimeObserver` watches the records stream past (constant memory) and reports:

``log-time-zones-mixed``
    the log has lines with a header offset and lines without one: the zone-less ones depend on an offset
    that was resolved (or not) from other evidence, so their order against the others is only as good as that.
    A warning, or only information when every zone-less line got an offset (``--assume-offset``, Sysinfo)
    that equals every header offset of the log (the real dataset has such logs);
``log-offset-disagrees-sysinfo``
    a header offset differs from the time zone of the sample's Sysinfo output;
``log-time-backwards``
    an event's resolved instant is earlier than the latest one before it by more than
    ``--time-backwards-tolerance`` seconds (count, the first example, line numbers). Zone-less lines whose
    offset is unknown are left out of this comparison: they have no instant.

This is a library; the codes are registered by :mod:`mk2ds.plugins.checks.logs`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mk2ds.core import Finding, Severity
from mk2ds.plugins.checks.log_codes import DEFAULT_BACKWARDS_TOLERANCE, TIME_CODES
from mk2ds.plugins.reader.timestamps import SecondsMemo, settle_time

__all__ = ["DEFAULT_BACKWARDS_TOLERANCE", "TIME_CODES", "LogTimeObserver"]

#: Line numbers kept in a finding's details.
MAX_LINES = 100


@dataclass
class _Tally:
    """A count, the first example and the first line numbers of one kind of problem."""

    count: int = 0
    first: dict[str, Any] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)

    def add(self, line: int, example: Mapping[str, Any]) -> None:
        self.count += 1
        if not self.first:
            self.first = {"line": line, **example}
        if len(self.lines) < MAX_LINES:
            self.lines.append(line)

    def again(self, line: int) -> None:
        """:meth:`add` once the first example is kept (no example to build)."""
        self.count += 1
        if len(self.lines) < MAX_LINES:
            self.lines.append(line)


class LogTimeObserver:
    """Per-log time checks; call :meth:`see` for each record in file order, then :meth:`findings`."""

    def __init__(
        self, path: str, subject: str | None, sysinfo_offset: str | None, tolerance: float = DEFAULT_BACKWARDS_TOLERANCE
    ) -> None:
        self.path = path
        self.subject = subject
        self.sysinfo_offset = sysinfo_offset
        self.tolerance = tolerance
        self.zoned = _Tally()
        self.zone_less = _Tally()
        self.disagreeing = _Tally()
        self.backwards = _Tally()
        #: The latest instant so far: epoch milliseconds, its line, its time with offset.
        self._latest: tuple[int, int, str] | None = None
        self._settle = SecondsMemo(settle_time)
        self._offsets: set[str] = set()  # every offset the log's lines have or got ("" for unknown)

    def see(self, record: Mapping[str, Any], line: int) -> None:
        settled = self._settle(record)
        if settled is None:
            return
        epoch_ms, local, offset, source = settled
        self._offsets.add("" if epoch_ms is None else str(offset))
        if source == "header":
            if self.zoned.first:
                self.zoned.again(line)
            else:
                self.zoned.add(line, {"offset": offset})
            if self.sysinfo_offset and offset != self.sysinfo_offset:
                self.disagreeing.add(line, {"header_offset": offset, "sysinfo_offset": self.sysinfo_offset})
        elif self.zone_less.first:
            self.zone_less.again(line)
        else:
            self.zone_less.add(line, {"time": record.get("time")})
        if epoch_ms is None:
            return
        if self._latest is not None:
            latest, latest_line, latest_iso = self._latest
            behind = (latest - epoch_ms) / 1000
            if behind > self.tolerance:
                self.backwards.add(
                    line,
                    {
                        "time": f"{local}{offset}",
                        "seconds_behind": behind,
                        "latest": latest_iso,
                        "latest_line": latest_line,
                    },
                )
                return
        if self._latest is None or epoch_ms > self._latest[0]:
            self._latest = (epoch_ms, line, f"{local}{offset}")

    def findings(self) -> Iterator[Finding]:
        where: dict[str, Any] = {"path": self.path, "subject": self.subject}
        if self.zoned.count and self.zone_less.count:
            minority = self.zone_less if self.zone_less.count <= self.zoned.count else self.zoned
            harmless = len(self._offsets) == 1 and "" not in self._offsets
            note = f" (all resolved to {next(iter(self._offsets))})" if harmless else ""
            yield Finding(
                "log-time-zones-mixed",
                Severity.INFO if harmless else Severity.WARNING,
                f"{self.zoned.count} lines with a header offset and {self.zone_less.count} without one{note}",
                line=minority.first["line"],
                details={
                    "zoned": self.zoned.count,
                    "zone_less": self.zone_less.count,
                    "first_zoned_line": self.zoned.first["line"],
                    "first_zone_less_line": self.zone_less.first["line"],
                },
                **where,
            )
        if self.disagreeing.count:
            first = self.disagreeing.first
            yield Finding(
                "log-offset-disagrees-sysinfo",
                Severity.WARNING,
                f"{self.disagreeing.count} lines have the header offset {first['header_offset']}, the sample's Sysinfo time zone is {first['sysinfo_offset']}",
                line=first["line"],
                details={"count": self.disagreeing.count, "first": first, "lines": self.disagreeing.lines},
                **where,
            )
        if self.backwards.count:
            first = self.backwards.first
            yield Finding(
                "log-time-backwards",
                Severity.WARNING,
                f"{self.backwards.count} events are earlier than an event before them by more than {self.tolerance:g} s;"
                f" first: line {first['line']} at {first['time']}, {first['seconds_behind']:g} s before line {first['latest_line']} ({first['latest']})",
                line=first["line"],
                details={
                    "count": self.backwards.count,
                    "tolerance_seconds": self.tolerance,
                    "first": first,
                    "lines": self.backwards.lines,
                },
                **where,
            )
