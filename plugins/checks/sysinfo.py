"""Sysinfo files: ``systeminfo.exe`` and ``w32tm.exe`` output captured on each run, in Japanese or English,
encoded as Windows wrote them (UTF-16 with BOM, UTF-8, or CP932).

A few facts are extracted for the report (host name, OS, time zone, clock offset); a file that is neither
output is reported, an undecodable one too. Empty files are the cross-reference check's business (malware can
prevent their collection). A w32tm clock offset beyond ``--max-clock-offset`` seconds is reported
(``sysinfo-clock-offset``): the log times of that run are off by as much.

Time zones for the logs: :func:`time_zone_offset` reads the UTC offset of one systeminfo output
(``タイム ゾーン: (UTC+09:00) 大阪、札幌、東京`` or ``Time Zone: (UTC+09:00) Osaka, Sapporo, Tokyo``), and
:func:`sysinfo_time_zones` collects them over a distribution (:class:`SysinfoTimeZones`): a log whose path names
a sample (its hash) gets that sample's time zone, any other log the time zone every Sysinfo file agrees on.
Verify leaves them under the shared key ``SYSINFO_TIME_ZONES`` for the log checks; ``convert``/``tree``
with ``--dataset`` use them too. They resolve the offset of zone-less log lines
(:mod:`mk2ds.plugins.reader.timestamps`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mk2ds.core import CodeInfo, Dataset, Entry, Fact, Finding, OptionGroup, Severity, VerifyContext, hookimpl
from mk2ds.plugins.checks.cross_references import hashes_in
from mk2ds.plugins.checks.shared import SAMPLES, SYSINFO_TIME_ZONES

MAX_SYSINFO_BYTES = 4 * 1024 * 1024
#: Default of ``--max-clock-offset``: a w32tm clock offset beyond this many seconds is reported.
DEFAULT_MAX_CLOCK_OFFSET = 2.0

SYSTEMINFO_KEYS = {
    "hostname": "host_name",
    "ホスト名": "host_name",
    "osname": "os_name",
    "os名": "os_name",
    "osversion": "os_version",
    "osバージョン": "os_version",
    "timezone": "time_zone",
    "タイムゾーン": "time_zone",
    "systemboottime": "boot_time",
    "システム起動時間": "boot_time",
    "domain": "domain",
    "ドメイン": "domain",
    "systemlocale": "system_locale",
    "システムロケール": "system_locale",
}
W32TM_MARKERS = (
    "w32tm",
    "stratum",
    "階層",
    "leap indicator",
    "閏インジケーター",
    "うるう",
    "tracking",
    "を追跡しています",
    "referenceid",
    "参照id",
    "d:+",
    "d:-",
    "o:+",
    "o:-",
)
OFFSET_SAMPLE = re.compile(r"\bo:\s*([+-]?\d+(?:\.\d+)?)s")
PHASE_OFFSET = re.compile(r"(?:phase offset|位相オフセット)\s*[:：]\s*([+-]?\d+(?:\.\d+)?)s", re.IGNORECASE)
SOURCE = re.compile(r"^(?:source|ソース)\s*[:：]\s*(.+)$", re.IGNORECASE | re.MULTILINE)
UTC_OFFSET = re.compile(r"\(UTC([+-]\d{2}:\d{2})?\)")


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo(
            "sysinfo-undecodable",
            Severity.WARNING,
            "A Sysinfo file is in no known text encoding (UTF-16, UTF-8, CP932)",
        ),
        CodeInfo(
            "sysinfo-unrecognized", Severity.WARNING, "A Sysinfo file is neither systeminfo.exe nor w32tm.exe output"
        ),
        CodeInfo("sysinfo-too-large", Severity.WARNING, "A Sysinfo file is implausibly large and was not parsed"),
        CodeInfo(
            "sysinfo-clock-offset",
            Severity.WARNING,
            "A w32tm clock offset larger than --max-clock-offset: the run's log times are off by as much",
        ),
    ]


@hookimpl
def mk2ds_add_verify_options(group: OptionGroup) -> None:
    group.add_argument(
        "--max-clock-offset",
        type=float,
        metavar="SECONDS",
        default=DEFAULT_MAX_CLOCK_OFFSET,
        help=f"report a w32tm clock offset larger than this (default {DEFAULT_MAX_CLOCK_OFFSET:g} s)",
    )


def decode(data: bytes) -> tuple[str, str] | None:
    """Text and the encoding used, or ``None`` when no candidate decodes cleanly."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    sample = data[:4096]
    # Without a BOM, UTF-16 text of mostly ASCII characters has a zero in every second byte: odd ones for
    # little-endian (what Windows writes), even ones for big-endian.
    for zeros, encoding in ((sample[1::2], "utf-16-le"), (sample[0::2], "utf-16-be")):
        if len(sample) >= 4 and len(data) % 2 == 0 and zeros.count(0) > len(sample) // 4:
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                pass
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def _key(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).lower()


def parse_systeminfo(text: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for line in text.splitlines():
        if ":" not in line and "：" not in line:
            continue
        key, _, value = re.split(r"([:：])", line, maxsplit=1)
        name = SYSTEMINFO_KEYS.get(_key(key))
        if name and value.strip() and name not in facts:
            facts[name] = value.strip()
    zone = facts.get("time_zone")
    if isinstance(zone, str):
        match = UTC_OFFSET.search(zone)
        if match:
            facts["utc_offset"] = match.group(1) or "+00:00"
    return facts


def systeminfo_facts(data: bytes) -> dict[str, Any]:
    """The facts (``host_name``, ``os_name``, ``os_version``, ``utc_offset``...) of one systeminfo output
    (CP932, UTF-8 or UTF-16; the first :data:`MAX_SYSINFO_BYTES`); empty when the bytes are no systeminfo output."""
    decoded = decode(data[:MAX_SYSINFO_BYTES])
    return parse_systeminfo(decoded[0]) if decoded is not None else {}


def time_zone_offset(data: bytes) -> str | None:
    """The UTC offset (``+09:00``) of the time zone in one systeminfo output (CP932, UTF-8 or UTF-16), or
    ``None`` when the bytes are no systeminfo output with a time zone."""
    offset = systeminfo_facts(data).get("utc_offset")
    return str(offset) if offset else None


@dataclass
class SysinfoTimeZones:
    """The Sysinfo time zones of a distribution: per sample hash, and the one all files agree on."""

    by_hash: dict[str, str] = field(default_factory=dict)
    #: Every offset seen, with the Sysinfo file that says so first.
    seen: dict[str, str] = field(default_factory=dict)

    @property
    def common(self) -> str | None:
        """The offset every Sysinfo file with a time zone agrees on, or ``None``."""
        return next(iter(self.seen)) if len(self.seen) == 1 else None

    def offset_for(self, path: str) -> str | None:
        """The time zone for the log at ``path``: its sample's (a hash in the path), else :attr:`common`."""
        for digest in sorted(hashes_in(path)):
            if digest in self.by_hash:
                return self.by_hash[digest]
        return self.common

    def sample_offset(self, path: str) -> str | None:
        """The time zone of the sample named in ``path`` (its hash) only, or ``None``."""
        return next((self.by_hash[digest] for digest in sorted(hashes_in(path)) if digest in self.by_hash), None)

    def add(self, path: str, offset: str) -> None:
        """Count the time zone ``offset`` of the Sysinfo file at ``path`` (the first one per sample stays)."""
        self.seen.setdefault(offset, path)
        for digest in hashes_in(path):
            self.by_hash.setdefault(digest, offset)

    def to_dict(self) -> dict[str, Any]:
        return {"by_hash": dict(self.by_hash), "seen": dict(self.seen)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SysinfoTimeZones:
        data = data or {}
        return cls(dict(data.get("by_hash") or {}), dict(data.get("seen") or {}))


def sysinfo_time_zones(read_bytes: Any, paths: Iterable[str]) -> SysinfoTimeZones:
    """Read the time zone of every systeminfo output among ``paths`` (Sysinfo files, dataset-relative).

    :param read_bytes: ``path -> bytes`` (``Dataset.read_bytes``). Files that are no systeminfo output, empty
        or unreadable ones add nothing.
    """
    zones = SysinfoTimeZones()
    for path in sorted(paths):
        try:
            offset = time_zone_offset(read_bytes(path))
        except OSError:
            continue
        if offset is not None:
            zones.add(path, offset)
    return zones


@hookimpl
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    """Collect the Sysinfo time zones for the log checks (``context.shared``)."""
    if not context.at_least("fast"):
        return
    paths = [
        path
        for path, kind in context.kinds.items()
        if kind == "sysinfo" and 0 < context.entries.get(path, 0) <= MAX_SYSINFO_BYTES
    ]
    zones = sysinfo_time_zones(dataset.read_bytes, paths)
    context.put(SYSINFO_TIME_ZONES, zones.to_dict())
    if zones.common:
        yield Fact("sysinfo.time_zone_offset", zones.common)


def parse_w32tm(text: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    offsets = [float(value) for value in OFFSET_SAMPLE.findall(text)]
    phase = PHASE_OFFSET.search(text)
    if phase:
        offsets.append(float(phase.group(1)))
    if offsets:
        ordered = sorted(offsets)
        facts["clock_offset_seconds"] = ordered[len(ordered) // 2]
        facts["clock_offset_samples"] = len(offsets)
    source = SOURCE.search(text)
    if source:
        facts["time_source"] = source.group(1).strip()
    return facts


def classify_text(text: str) -> str | None:
    lowered = unicodedata.normalize("NFKC", text).lower()
    info = parse_systeminfo(text)
    if "host_name" in info or "os_name" in info:
        return "systeminfo"
    if any(marker in lowered for marker in W32TM_MARKERS):
        return "w32tm"
    return None


@hookimpl
def mk2ds_check_entry(entry: Entry, kind: str, dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    if kind != "sysinfo" or entry.size == 0:
        return
    subjects = sorted(hashes_in(entry.path))
    subject = _subject(subjects, context)
    if entry.size > MAX_SYSINFO_BYTES:
        yield Finding(
            "sysinfo-too-large", Severity.WARNING, f"{entry.size} bytes: not parsed", path=entry.path, subject=subject
        )
        return
    try:
        data = dataset.read_bytes(entry.path)
    except OSError as error:  # a damaged zip member: a finding about the file, not a plugin failure
        yield Finding("unreadable-file", Severity.ERROR, f"cannot be read: {error}", path=entry.path, subject=subject)
        return
    decoded = decode(data)
    if decoded is None:
        yield Finding(
            "sysinfo-undecodable", Severity.WARNING, "not UTF-16, UTF-8 or CP932 text", path=entry.path, subject=subject
        )
        return
    text, encoding = decoded
    what = classify_text(text)
    if what is None:
        yield Finding(
            "sysinfo-unrecognized",
            Severity.WARNING,
            f"{encoding} text, but neither systeminfo.exe nor w32tm.exe output",
            path=entry.path,
            subject=subject,
        )
        return
    facts = parse_systeminfo(text) if what == "systeminfo" else parse_w32tm(text)
    for key, value in facts.items():
        yield Fact(f"{what}.{key}", value, subject=subject)
    yield from _clock_offset_findings(entry.path, subject, facts, context)


def _clock_offset_findings(
    path: str, subject: str | None, facts: Mapping[str, Any], context: VerifyContext
) -> Iterator[Finding]:
    offset = facts.get("clock_offset_seconds")
    given = context.option("max_clock_offset")
    bound = DEFAULT_MAX_CLOCK_OFFSET if given is None else float(given)
    if isinstance(offset, float) and abs(offset) > bound:
        yield Finding(
            "sysinfo-clock-offset",
            Severity.WARNING,
            f"the clock was {offset:+.3f} s off (w32tm, median of {facts.get('clock_offset_samples')} samples); more than {bound:g} s: the run's log times are off by as much",
            path=path,
            subject=subject,
            details={"clock_offset_seconds": offset, "bound_seconds": bound},
        )


def _subject(hashes: list[str], context: VerifyContext) -> str | None:
    samples = context.get(SAMPLES) or []
    for sample in samples:
        if any(sample.get(kind) in hashes for kind in ("sha256", "sha1", "md5")):
            return str(sample["id"])
    return hashes[0] if hashes else None
