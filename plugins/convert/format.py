"""Records back to Mark II lines: the library function :func:`format_record` and ``mk2ds format``.

Converting the formatted lines again gives the same records (tested as a hypothesis property). The quoting
is chosen to look like the product's own lines: keys the product writes quoted (``com``, ``psPath``,
``cmd``, ``path`` …, §1.3 of the format notes) are quoted, ``srcIP``/``srcPort`` are quoted on ``session``
and ``os`` records only, and every other value is bare unless it must be quoted (empty, a space, a leading
``"``, a CR or a 0x1A byte). Inside quotes, ``"`` is doubled. ``time_offset``/``time_offset_source`` after a
zone-less ``time`` (added by the reader) and ``_file``/``_line`` (``--provenance``) are
not part of a line and are left out.

A *lossless* record (``mk2ds convert --lossless``: it has ``_quoted``) is written back byte for byte: exactly
the keys in ``_quoted`` are quoted, ``_spaces`` restores runs of several spaces, ``_header`` the header of a
line without an offset. Integers need nothing (only canonical decimals became numbers).

A record that no line can express is refused with a :class:`FormatError` (``mk2ds format`` reports it with
file and line and exits 1): a value with a line feed, a key that is not a Mark II key, a value that is neither
text nor an integer, an integer in a text field or decimal text in an integer field (converting back would
change its type), a ``time`` that is not the record contract's.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from typing import Any, BinaryIO

import pluggy

from mk2ds.core import CodeInfo, CommandRegistry, ExitCode, Finding, Report, Severity, UsageError, hookimpl
from mk2ds.core.atomic import atomic_writer
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.terminal import escape_text
from mk2ds.plugins.convert.json_documents import JsonDocumentError, iter_json_documents
from mk2ds.plugins.reader.tokenizer import (
    INTEGER_FIELDS,
    KEY_PATTERN,
    LineSyntaxError,
    integer_value,
    iso_time,
)

__all__ = ["QUOTED_KEYS", "FormatError", "format_record"]

#: Keys whose values the product writes in quotes (``docs/format.md`` §1.2 and the dataset's example lines).
QUOTED_KEYS: frozenset[str] = frozenset(
    [
        "com",
        "domain",
        "profile",
        "psPath",
        "parentPath",
        "tpsPath",
        "psUser",
        "psDomain",
        "cmd",
        "path",
        "dstPath",
        "entry",
        "valStr",
        "url",
        "decode",
        "url_hostname",
        "dstHost",
        "winTitle",
        "clipData",
        "usr",
        "usrDomain",
        "srcCom",
        "channel",
        "evtSrc",
        "evtUsr",
        "evtDomain",
        "evtMsg",
        "evtLogonID",
        "logonType",
        "wsName",
        "wsIp",
        "sTime",
        "crTime",
        "acTime",
        "moTime",
        "shCmd",
        "cmdType",
        "failReason",
        "company",
        "copyright",
        "fileDesc",
        "fileVer",
        "product",
        "productVer",
        "signer",
        "issuer",
        "cerSN",
        "validFrom",
        "validTo",
    ]
)
#: Keys quoted only on these event kinds (bare in ``net`` records).
QUOTED_ON_EVENTS: dict[str, frozenset[str]] = {
    "srcIP": frozenset({"session", "os"}),
    "srcPort": frozenset({"session", "os"}),
}
PROVENANCE_KEYS = ("_file", "_line")
#: Added by the reader after a zone-less ``time`` (where its offset came from), not keys of the line.
OFFSET_KEYS = ("time_offset", "time_offset_source")
#: Keys of a lossless record that describe the line's text, not values (``mk2ds convert --lossless``).
LOSSLESS_KEYS = ("_quoted", "_spaces", "_header")
_HEADER_TEXT = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\Z")
_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3})(?:([+-])([0-9]{2}):([0-9]{2}))?\Z"
)
_MUST_QUOTE = re.compile(r'\A"|[ \r\x1a]|\A\Z')


class FormatError(ValueError):
    """A record that cannot be written as a Mark II line; the message says which key and why."""


def _header(time: Any) -> str:
    match = _TIME.match(time) if isinstance(time, str) else None
    if match is None:
        raise FormatError(f"time must look like 2018-03-01T19:55:17.836+09:00 (offset optional), not {time!r}")
    year, month, day, clock, sign, hours, minutes = match.groups()
    header = f"{month}/{day}/{year} {clock}" + (f" {sign}{hours}{minutes}" if sign else "")
    try:
        iso_time(f"{month}/{day}/{year}", clock, f"{sign}{hours}{minutes}" if sign else None)
    except LineSyntaxError as error:
        raise FormatError(f"time {time!r}: {error.reason}") from None
    return header


def _value_text(key: str, value: Any, event: Any, quoted_keys: frozenset[str] | None = None) -> str:
    """The raw text of one value; ``quoted_keys`` (a lossless record's ``_quoted``) decides the quoting."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FormatError(f"{key}: a value must be text or an integer, not {type(value).__name__}")
    if isinstance(value, int):
        if key not in INTEGER_FIELDS:
            raise FormatError(f"{key}: integer {value} in a text field (it would come back as text)")
        if quoted_keys is not None:
            return f'"{value}"' if key in quoted_keys else str(value)
        return f'"{value}"' if event in QUOTED_ON_EVENTS.get(key, ()) else str(value)
    if "\n" in value:
        raise FormatError(f"{key}: a value with a line feed cannot be written on one line")
    if key in INTEGER_FIELDS:
        try:
            number = integer_value(value)
        except ValueError:
            number = 0
        if number is not None:
            raise FormatError(
                f"{key}: decimal text {value[:40]!r} in an integer field (it would come back as a number)"
            )
    if quoted_keys is not None:
        if key not in quoted_keys:
            if " " in value or value.startswith('"'):
                raise FormatError(f"{key}: _quoted says bare, but {value[:40]!r} can only be written quoted")
            return value
        quoted = True
    else:
        quoted = key in QUOTED_KEYS or event in QUOTED_ON_EVENTS.get(key, ()) or _MUST_QUOTE.search(value) is not None
    if quoted:
        return '"' + value.replace('"', '""') + '"'
    return value


def format_record(record: Mapping[str, Any]) -> str:
    """One record as a Mark II line, without terminator. :raises FormatError: see the module documentation."""
    if not isinstance(record, Mapping):
        raise FormatError(f"a record must be a JSON object, not {type(record).__name__}")
    if "time" not in record:
        raise FormatError("a record needs a time")
    header = _header(record["time"])
    quoted_keys, spaces = _lossless_layout(record)
    if quoted_keys is not None:
        header = _lossless_header(record, header)
    parts = [header]
    event = record.get("evt")
    derived = PROVENANCE_KEYS + (OFFSET_KEYS if isinstance(record["time"], str) and len(record["time"]) == 23 else ())
    for key, value in record.items():
        if key == "time" or key in derived or (quoted_keys is not None and key in LOSSLESS_KEYS):
            continue
        if not isinstance(key, str) or KEY_PATTERN.fullmatch(key) is None:
            raise FormatError(f"{key!r} is not a Mark II key (a letter or '_', then letters, digits or '_')")
        parts.append(" " * spaces.get(key, 1) + f"{key}={_value_text(key, value, event, quoted_keys)}")
    if len(parts) == 1:
        raise FormatError("a record needs at least one key besides time")
    return "".join(parts)


def _lossless_layout(record: Mapping[str, Any]) -> tuple[frozenset[str] | None, Mapping[str, int]]:
    """``(quoted keys, spaces before keys)`` of a lossless record, ``(None, {})`` for an ordinary one."""
    if "_quoted" not in record:
        for key in ("_spaces", "_header"):
            if key in record:
                raise FormatError(
                    f"{key} without _quoted: a lossless record (convert --lossless) has all of its layout keys"
                )
        return None, {}
    quoted = record["_quoted"]
    if not isinstance(quoted, list) or not all(isinstance(key, str) and key in record for key in quoted):
        raise FormatError("_quoted must list keys of the record (convert --lossless)")
    spaces = record.get("_spaces", {})
    if not isinstance(spaces, Mapping) or not all(
        key in record and isinstance(count, int) and not isinstance(count, bool) and count >= 1
        for key, count in spaces.items()
    ):
        raise FormatError("_spaces must map keys of the record to counts of spaces (convert --lossless)")
    return frozenset(quoted), spaces


def _lossless_header(record: Mapping[str, Any], header: str) -> str:
    """The header of a lossless record: ``_header`` when the line had no offset, checked against ``time``."""
    if "_header" not in record:
        return header
    written = record["_header"]
    if not isinstance(written, str) or _HEADER_TEXT.match(written) is None or header[:23] != written:
        raise FormatError(f"_header {written!r} does not agree with time {record['time']!r}")
    return written


# ------------------------------------------------------------------------------------------------ command


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo(
            "record-not-formattable", Severity.ERROR, "A record cannot be written as a Mark II line (mk2ds format)"
        )
    ]


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    parser = subparsers.add_parser(
        "format",
        help="turn records (JSON Lines or a JSON array) back into Mark II log lines",
        description="Write Mark II lines (UTF-8, LF) for records as written by 'mk2ds convert'. "
        "Converting the lines again gives the same records; records from 'mk2ds convert --lossless' give "
        "every line back byte for byte. Records that no line can express are reported "
        "with file:line (exit code 1) and left out of the output.",
    )
    parser.add_argument(
        "records", nargs="+", metavar="RECORDS", help="a .jsonl or .json file of records, or - for standard input"
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="write the lines to this file (atomically) instead of standard output"
    )
    parser.set_defaults(handler=run_format)


def _lines(sources: list[str], report: Report) -> Iterator[str]:
    for source in sources:
        name = "<stdin>" if source == "-" else source
        try:
            handle: BinaryIO = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
        except OSError as error:
            raise UsageError(f"cannot read {source}: {error.strerror}") from None
        with ExitStack() as stack:
            if source != "-":
                stack.enter_context(handle)
            for line, document in iter_json_documents(handle, name):
                if isinstance(document, JsonDocumentError):
                    report.findings.append(
                        Finding("record-not-formattable", Severity.ERROR, f"not JSON: {document}", path=name, line=line)
                    )
                    continue
                try:
                    yield format_record(document)
                except FormatError as error:
                    report.findings.append(
                        Finding("record-not-formattable", Severity.ERROR, str(error), path=name, line=line)
                    )
                    continue
                report.stats["records"] = report.stats.get("records", 0) + 1


def run_format(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    report = Report(command="format", target={"location": ", ".join(args.records)})
    guard_outputs([("-o", args.output)], args.records, pm=pm)
    with ExitStack() as stack:
        if args.output and args.output != "-":
            stream: BinaryIO = stack.enter_context(atomic_writer(args.output))
        else:
            stream = sys.stdout.buffer
        batch: list[str] = []
        for line in _lines(args.records, report):
            batch.append(line)
            if len(batch) >= 1000:
                batch.append("")
                stream.write("\n".join(batch).encode("utf-8"))
                batch.clear()
        if batch:
            batch.append("")
            stream.write("\n".join(batch).encode("utf-8"))
        stream.flush()
    for finding in report.sorted_findings():
        print(escape_text(f"mk2ds format: {finding.location()}: {finding.message}"), file=sys.stderr)
    return int(ExitCode.FINDINGS if report.findings else ExitCode.OK)
