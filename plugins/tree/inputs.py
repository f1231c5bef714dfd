"""Where ``mk2ds tree`` gets its records: Mark II logs, mk2ds JSON/JSONL records, or a dataset sample.

Everything streams: logs through the ``mk2ds_open_log`` reader, JSON Lines line by line, and a JSON array
item by item (an incremental decoder), so a 1 GB input is never held in memory. Lines that cannot be used are
*rejects*, reported with file and line (never dropped silently); :class:`InputTally` counts them per input.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pluggy

from mk2ds.core.dataset import Dataset, open_dataset
from mk2ds.core.errors import UsageError

__all__ = ["REJECTS_SHOWN", "InputTally", "Source", "file_sources", "read_source", "sample_sources"]

#: Rejected lines described on stderr per input (all are counted).
REJECTS_SHOWN = 10
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
#: An MD5, SHA-1 or SHA-256 hex digest in a file name (two samples' logs must not be merged into one tree).
_HEX_RUN = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})(?![0-9a-f])")
_CHUNK = 1 << 20


@dataclass
class InputTally:
    """What one input contributed: records used, lines rejected, and the first few reasons."""

    name: str
    records: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)

    def reject(self, where: str, reason: str) -> None:
        self.rejected += 1
        if len(self.problems) < REJECTS_SHOWN:
            self.problems.append(f"{self.name}:{where}: {reason}")

    def count_reject(self) -> None:
        """A rejected line the reader explains in its own findings."""
        self.rejected += 1

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "records": self.records, "rejected": self.rejected}


@dataclass
class Source:
    """An input to read: its display name and how to open it as a binary stream."""

    name: str
    open: Callable[[], BinaryIO]
    #: The Sysinfo time zone of the log's sample, when it is read as part of a distribution.
    sysinfo_offset: str | None = None


def file_sources(paths: list[str]) -> list[Source]:
    sources = []
    for path in paths:
        file = Path(path)
        if file.is_dir():
            raise UsageError(f"{path}: is a folder; give log or record files, or a dataset with --sample HASH")
        if not file.is_file():
            raise UsageError(f"{path}: no such file")
        sources.append(Source(path, lambda file=file: open(file, "rb")))  # type: ignore[misc]  # noqa: SIM115 - read_source closes
    return sources


def sample_sources(location: str, sample: str, log_folder: str | None, notes: Callable[[str], None]) -> list[Source]:
    """The logs of one sample in a dataset (folder or zip): every file under ``MK2Log/`` whose name contains
    the hash, from one sub-folder (``30m`` unless ``log_folder`` names another; 30m and Verbose are separate
    recordings, so they are never merged into one tree)."""
    try:
        dataset: Dataset = open_dataset(location)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    wanted = sample.strip().lower()
    groups: dict[str, list[str]] = {}
    for entry in dataset.walk():
        path = entry.path
        parts = path.split("/")
        if getattr(entry, "is_dir", True) or len(parts) < 3 or parts[0].lower() != "mk2log":
            continue
        if wanted in parts[-1].lower():
            groups.setdefault(parts[1], []).append(path)
    if not groups:
        raise UsageError(f"{location}: no log under MK2Log/ whose name contains {sample!r}")
    by_lower = {folder.lower(): folder for folder in groups}
    if log_folder is not None:
        chosen = by_lower.get(log_folder.lower())
        if chosen is None:
            raise UsageError(
                f"{location}: no log of {sample!r} in MK2Log/{log_folder} (found in: {', '.join(sorted(groups))})"
            )
    elif "30m" in by_lower or len(groups) == 1:
        chosen = by_lower.get("30m") or next(iter(groups))
    else:
        raise UsageError(
            f"{location}: logs of {sample!r} in several folders ({', '.join(sorted(groups))}); choose with --log-folder"
        )
    named = sorted(
        {
            digest
            for path in groups[chosen]
            for digest in _HEX_RUN.findall(path.rsplit("/", 1)[-1].lower())
            if wanted in digest
        }
    )
    if len(named) > 1:
        raise UsageError(
            f"{location}: {sample!r} is part of {len(named)} sample hashes in MK2Log/{chosen} ({', '.join(named)}); give more of the hash"
        )
    for folder in sorted(set(groups) - {chosen}):
        notes(f"also in MK2Log/{folder} (not used; --log-folder {folder}): {', '.join(groups[folder])}")
    return [Source(f"{location}/{path}", lambda path=path: dataset.open(path)) for path in sorted(groups[chosen])]  # type: ignore[misc]


def read_source(
    source: Source, tally: InputTally, pm: pluggy.PluginManager, options: argparse.Namespace
) -> Iterator[dict[str, Any]]:
    """Records of one input, in file order; rejects go to ``tally``."""
    with source.open() as handle:
        if source.name.lower().endswith(_JSON_SUFFIXES):
            records = _json_records(handle, tally)
        else:
            records = _log_records(handle, source.name, tally, pm, options, source.sysinfo_offset)
        for record in records:
            tally.records += 1
            yield record


def _log_records(
    handle: BinaryIO,
    name: str,
    tally: InputTally,
    pm: pluggy.PluginManager,
    options: argparse.Namespace,
    sysinfo_offset: str | None = None,
) -> Iterator[dict[str, Any]]:
    reader_options = argparse.Namespace(**vars(options))
    reader_options.reject_sink = lambda line, raw: tally.count_reject()
    reader_options.sysinfo_offset = sysinfo_offset
    reader = pm.hook.mk2ds_open_log(stream=handle, name=name, options=reader_options)
    if reader is None:
        raise UsageError(f"{name}: not a log any reader plugin accepts (is the Mark II reader blocked?)")
    yield from reader
    for _line, _raw in getattr(reader, "rejects", []):
        tally.count_reject()
    # The reader explains every rejected line in a finding (with line and column).
    tally.findings.extend(getattr(reader, "findings", []))


def _json_records(handle: BinaryIO, tally: InputTally) -> Iterator[dict[str, Any]]:
    head = handle.read(_CHUNK)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.lstrip().startswith(b"["):
        with io.TextIOWrapper(
            io.BufferedReader(_Prepended(head, handle)), encoding="utf-8", errors="strict", newline=""
        ) as text:
            try:
                yield from _json_array(text.read(_CHUNK), text, tally)
            except UnicodeDecodeError as error:
                tally.reject("array", f"bytes that are not UTF-8 ({error.reason}); the rest of the array is not read")
        return
    # JSON Lines: split bytes, decode line by line, so that one line that is not UTF-8 rejects only itself.
    number, carry, chunk = 0, b"", head
    while chunk:
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        for line in lines:
            number += 1
            yield from _json_line(line, number, tally)
        chunk = handle.read(_CHUNK)
    if carry:
        yield from _json_line(carry, number + 1, tally)


class _Prepended(io.RawIOBase):
    """A binary stream: ``head`` first, then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head = head
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.head[: len(buffer)] if self.head else self.stream.read(len(buffer))
        self.head = self.head[len(data) :]
        buffer[: len(data)] = data
        return len(data)


def _json_line(raw: bytes, number: int, tally: InputTally) -> Iterator[dict[str, Any]]:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        tally.reject(str(number), f"bytes that are not UTF-8 at byte {error.start + 1}")
        return
    if not line.strip():
        return
    try:
        value = json.loads(line)
    except ValueError as error:
        tally.reject(str(number), f"not JSON ({error})")
        return
    yield from _checked(value, str(number), tally)


def _checked(value: Any, where: str, tally: InputTally) -> Iterator[dict[str, Any]]:
    if not isinstance(value, dict):
        tally.reject(where, f"not a record object but {type(value).__name__}")
    elif not isinstance(value.get("time"), str):
        tally.reject(where, "record without a 'time' string (schemas/record.schema.json)")
    else:
        yield value


def _json_array(head: str, text: io.TextIOWrapper, tally: InputTally) -> Iterator[dict[str, Any]]:
    """Items of a top-level JSON array, decoded one at a time."""
    decoder = json.JSONDecoder()
    buffer, position, item, finished = head, head.index("[") + 1, 0, False
    while True:
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n,":
                position += 1
            if position < len(buffer) or finished:
                break
            more = text.read(_CHUNK)
            buffer, position, finished = buffer[position:] + more, 0, not more
        if position >= len(buffer):
            tally.reject(f"item {item + 1}", "the JSON array is not closed")
            return
        if buffer[position] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, position)
        except ValueError as error:
            more = "" if finished else text.read(_CHUNK)
            if more:
                buffer, position = buffer[position:] + more, 0
                continue
            tally.reject(f"item {item + 1}", f"not JSON ({error})")
            return
        item += 1
        position = end
        if position > _CHUNK:
            buffer, position = buffer[position:], 0
        yield from _checked(value, f"item {item}", tally)
