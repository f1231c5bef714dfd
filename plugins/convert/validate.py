"""``mk2ds validate FILE... --schema NAME``: every schema violation with file and line, for CI.

FILE is JSON Lines, a JSON array (each element is a document) or one JSON document, or ``-`` for standard
input (see :mod:`mk2ds.plugins.convert.json_documents`). Every violation becomes a ``schema-violation`` finding with
the file, the line where the document starts and the JSON path inside it; text that is not JSON becomes
``not-json``. The report is printed with the chosen report output (``--format text|json|…``); the exit
code is 1 when anything is wrong. After ``--max-findings`` findings in one file (1000 by default, 0 for no
limit) the rest are counted in one ``validate-truncated`` finding, so a broken multi-GB file cannot exhaust
memory.

Bulk speed for records: :class:`RecordChecker` is derived from ``schemas/record.schema.json`` (its
integer-field list, its patterns, the ``_line`` minimum) in two forms: a regular expression compiled from the
schema that recognizes a compact JSON line of a valid record without parsing it (:meth:`accepts_text`, used
for JSON Lines), and a hand-written check of a parsed record (``checker(record)``, used for JSON arrays and
for lines the expression does not recognize). Both answer only "certainly valid" (``True``); anything else is
handed to jsonschema, which decides and writes the messages. So the verdict is always jsonschema's, and the
fast paths only have to be right when they say ``True``; the tests check that with hypothesis on valid and
invalid records and on arbitrary text. The checker refuses to build (and jsonschema alone is used) if the
schema's shape is not the one it understands.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, BinaryIO

import pluggy

from mk2ds.core import (
    CodeInfo,
    CommandRegistry,
    Finding,
    Report,
    Severity,
    UsageError,
    emit_report,
    hookimpl,
    registry,
    tool_description,
)
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.schemas import builtin_schemas, validator_for
from mk2ds.plugins.convert.json_documents import ACCEPTED, JsonDocumentError, iter_json_documents

if TYPE_CHECKING:
    import jsonschema  # imported where a validator is built (slow to import)

__all__ = ["DEFAULT_MAX_FINDINGS", "RecordChecker", "record_checker", "validate_stream"]

DEFAULT_MAX_FINDINGS = 1000
#: Keys of ``convert --lossless`` records (not text): the fast checker leaves records with them to jsonschema.
LAYOUT_KEYS = ("_quoted", "_spaces", "_header")
INTEGER_FIELD_REF = "#/$defs/integerField"


class RecordChecker:
    """``checker(record) -> bool``: ``True`` only for records that certainly satisfy the record schema.

    :raises ValueError: when built from a schema whose shape differs from the one this checker mirrors.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        properties = schema["properties"]
        integer_fields = {key for key, rule in properties.items() if rule == {"$ref": INTEGER_FIELD_REF}}
        expected_defs = {"oneOf": [{"type": "integer"}, {"type": "string", "not": {"pattern": _pattern_of(schema)}}]}
        others = {key: rule for key, rule in properties.items() if key not in integer_fields}
        if (
            schema.get("type") != "object"
            or schema.get("required") != ["time"]
            or set(schema.get("x-integer-fields", ())) != integer_fields
            or schema["$defs"].get("integerField") != expected_defs
            or schema.get("additionalProperties") != {"type": "string"}
            or set(schema["propertyNames"]) != {"pattern"}
            or others.get("_file") != {"type": "string"}
            or set(others.get("_line", {})) != {"type", "minimum"}
            or others["_line"]["type"] != "integer"
            or set(others.get("time", {})) != {"type", "pattern"}
            or others["time"]["type"] != "string"
            or set(others) != {"time", "_file", "_line", *OFFSET_RULES, *LAYOUT_KEYS}
            or any(set(others[key]) != keys for key, keys in OFFSET_RULES.items())
            or set(schema)
            - {
                "$schema",
                "$id",
                "title",
                "description",
                "type",
                "required",
                "properties",
                "propertyNames",
                "additionalProperties",
                "$defs",
                "x-integer-fields",
            }
        ):
            raise ValueError("record schema shape not understood by the fast checker")
        self.integer_fields = frozenset(integer_fields)
        self._time = re.compile(others["time"]["pattern"]).search
        self._key = re.compile(schema["propertyNames"]["pattern"]).search
        self._canonical = re.compile(_pattern_of(schema)).search
        self._line_minimum = others["_line"]["minimum"]
        self._offset = re.compile(others["time_offset"]["pattern"]).search
        self._offset_sources = frozenset(others["time_offset_source"]["enum"])
        self._known_keys: set[str] = set()
        self._line_match = _line_pattern(schema, sorted(integer_fields)).fullmatch

    def accepts_text(self, text: str) -> bool:
        """``True`` only for one line of JSON that certainly parses into a valid record (no parsing needed)."""
        return self._line_match(text) is not None

    def __call__(self, record: Any) -> bool:
        if type(record) is not dict:
            return False
        time = record.get("time")
        if type(time) is not str or self._time(time) is None:
            return False
        if any(key in record for key in LAYOUT_KEYS):
            return False  # not certain: checked the long way
        if not record.keys() <= self._known_keys and not self._new_keys_valid(record):
            return False
        if ("time_offset" in record or "time_offset_source" in record) and not self._offset_keys_valid(record):
            return False
        return self._value_types_valid(record)

    def _new_keys_valid(self, record: Mapping[str, Any]) -> bool:
        """Every key not seen before matches the schema's key pattern (valid keys are remembered, up to 100,000)."""
        for key in record:
            if key not in self._known_keys:
                if self._key(key) is None:
                    return False
                if len(self._known_keys) < 100_000:
                    self._known_keys.add(key)
        return True

    def _value_types_valid(self, record: Mapping[str, Any]) -> bool:
        """Values are text, but integers where the schema allows them (integer fields and ``_line``); an integer
        field's text is not a canonical decimal (that would have been converted)."""
        types = list(map(type, record.values()))
        integers = types.count(int)
        if integers + types.count(str) != len(types):
            return False
        allowed = 0
        for key in self.integer_fields.intersection(record):
            value = record[key]
            if type(value) is int:
                allowed += 1
            elif self._canonical(value) is not None:
                return False
        if "_line" in record:
            line = record["_line"]
            if type(line) is not int or line < self._line_minimum:
                return False
            allowed += 1
        return allowed == integers

    def _offset_keys_valid(self, record: Mapping[str, Any]) -> bool:
        offset = record.get("time_offset", "+00:00")
        source = record.get("time_offset_source", "option")
        return (
            type(offset) is str
            and self._offset(offset) is not None
            and type(source) is str
            and source in self._offset_sources
        )


#: The record schema's rules for the keys a zone-less record gets after ``time`` (their shape, as checked).
OFFSET_RULES = {"time_offset": {"type", "pattern", "description"}, "time_offset_source": {"enum", "description"}}

#: JSON text pieces of the line pattern: a string without control characters (escapes allowed), an integer.
_JSON_STRING = r'"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"'
_JSON_INTEGER = r"-?(?:0|[1-9][0-9]*)"
_KEY_NAMES = "^(time|_file|_line|[A-Za-z_][A-Za-z0-9_]*)$"


def _anchored_core(pattern: str) -> str:
    if not (pattern.startswith("^") and pattern.endswith("$")) or "^" in pattern[1:-1] or "$" in pattern[1:-1]:
        raise ValueError(f"pattern {pattern!r} is not of the form ^...$")
    return pattern[1:-1]


def _alternatives(words: list[str]) -> str:
    """A regular expression matching exactly one of ``words``, as a trie (one branch per first letter)."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[:1], []).append(word[1:])
    branches = []
    for first, rests in sorted(groups.items()):
        tails = [rest for rest in rests if rest]
        branch = re.escape(first)
        if tails:
            inner = _alternatives(tails)
            branch += f"(?:{inner})?" if "" in rests else inner
        branches.append(branch)
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _line_pattern(schema: Mapping[str, Any], integer_fields: list[str]) -> re.Pattern[str]:
    """The record schema compiled to one regular expression over a compact JSON line, as ``convert`` writes it.

    ``{"time":"…"`` first, then ``,"key":value`` pairs: integer fields hold a JSON integer or a string
    without escapes that is not a canonical decimal; ``_line`` an integer of at least 1; every other key (a
    Mark II name, never ``time`` again) a JSON string. A line that matches is valid JSON and parses
    (``json.loads``, where the last of repeated keys wins, and each of them matched its rule) into a record
    the schema accepts. Anything else is parsed and checked the long way.
    """
    if schema["propertyNames"]["pattern"] != _KEY_NAMES or schema["properties"]["_line"]["minimum"] != 1:
        raise ValueError("record schema shape not understood by the fast checker")
    time = _anchored_core(schema["properties"]["time"]["pattern"])
    canonical = _anchored_core(_pattern_of(schema))
    integers = _alternatives(integer_fields)
    reserved = _alternatives([*integer_fields, "time", "_line", *OFFSET_RULES, *LAYOUT_KEYS])
    plain_string = r'"[^"\\\x00-\x1f]*"'
    offset = _anchored_core(schema["properties"]["time_offset"]["pattern"])
    sources = _alternatives(sorted(schema["properties"]["time_offset_source"]["enum"]))
    pair = (
        f'"{integers}":(?:{_JSON_INTEGER}|(?!"{canonical}"){plain_string})'
        f'|"time_offset":"{offset}"|"time_offset_source":"{sources}"'
        r'|"_line":[1-9][0-9]*'
        f'|"(?!{reserved}")[A-Za-z_][A-Za-z0-9_]*":{_JSON_STRING}'
    )
    return re.compile(r'\{"time":"' + time + '"(?:,(?:' + pair + r"))*\}[ \t\r]*")


def _pattern_of(schema: Mapping[str, Any]) -> str:
    try:
        return str(schema["$defs"]["integerField"]["oneOf"][1]["not"]["pattern"])
    except (KeyError, IndexError, TypeError):
        raise ValueError("record schema shape not understood by the fast checker") from None


def record_checker() -> RecordChecker | None:
    """The fast checker for the built-in record schema, or ``None`` if the schema's shape changed."""
    try:
        return RecordChecker(builtin_schemas()["record"])
    except (ValueError, KeyError):
        return None


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo("schema-violation", Severity.ERROR, "A JSON document does not satisfy its schema (mk2ds validate)"),
        CodeInfo(
            "not-json", Severity.ERROR, "Text that is not JSON where a JSON document was expected (mk2ds validate)"
        ),
        CodeInfo(
            "validate-truncated", Severity.INFO, "More findings in one file than --max-findings; the rest are counted"
        ),
    ]


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    reports = registry.outputs(pm, "report")
    parser = subparsers.add_parser(
        "validate",
        help="check JSON / JSON Lines files against a schema; every violation with file:line",
        description="Validate every document of every FILE (JSON Lines, a JSON array of documents, or one "
        "JSON document; - for standard input) against a schema listed by 'mk2ds schemas'.",
        epilog="Exit codes: 0 all valid, 1 violations found, 2 usage error.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--schema", required=True, metavar="NAME", help="schema name, e.g. record, report, tree")
    parser.add_argument("--format", default="text", help=f"report format ({', '.join(sorted(reports))})")
    parser.add_argument("-o", "--output", help="write the report to this file (atomically)")
    parser.add_argument(
        "--max-findings",
        type=int,
        default=DEFAULT_MAX_FINDINGS,
        metavar="N",
        help=f"list at most N findings per file, count the rest (default {DEFAULT_MAX_FINDINGS}; 0 = all)",
    )
    for output in reports.values():
        try:
            output.add_options(parser)
        except argparse.ArgumentError:
            pass  # two report outputs offering the same option: the first one's definition serves both
    parser.set_defaults(handler=run_validate)


def _validator(pm: pluggy.PluginManager, name: str) -> jsonschema.protocols.Validator:
    table = registry.schemas(pm)
    if name not in table:
        raise UsageError(f"no schema named {name!r} (known: {', '.join(sorted(table))})")
    if name in builtin_schemas():
        return validator_for(name)
    document = table[name]
    import jsonschema

    cls = jsonschema.validators.validator_for(document)
    return cls(document, format_checker=cls.FORMAT_CHECKER)  # type: ignore[call-arg]


def validate_stream(
    stream: BinaryIO,
    name: str,
    validator: jsonschema.protocols.Validator,
    fast: Callable[[Any], bool] | None = None,
    max_findings: int = DEFAULT_MAX_FINDINGS,
) -> tuple[list[Finding], dict[str, int]]:
    """Validate every document of one file; return the findings and ``documents``/``valid``/``invalid`` counts."""
    findings: list[Finding] = []
    counts = {"documents": 0, "valid": 0, "invalid": 0}
    problems = 0
    accept = getattr(fast, "accepts_text", None)
    for line, document in iter_json_documents(stream, name, accept):
        counts["documents"] += 1
        if document is ACCEPTED or (fast is not None and fast(document)):
            counts["valid"] += 1
            continue
        if isinstance(document, JsonDocumentError):
            new = [Finding("not-json", Severity.ERROR, f"not JSON: {document}", path=name, line=line)]
        else:
            new = [
                Finding(
                    "schema-violation",
                    Severity.ERROR,
                    f"at {'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}",
                    path=name,
                    line=line,
                    details={"json_path": list(error.absolute_path), "keyword": str(error.validator)},
                )
                for error in sorted(
                    validator.iter_errors(document), key=lambda error: list(map(str, error.absolute_path))
                )
            ]
        if not new:
            counts["valid"] += 1
            continue
        counts["invalid"] += 1
        for finding in new:
            problems += 1
            if not max_findings or problems <= max_findings:
                findings.append(finding)
    if max_findings and problems > max_findings:
        findings.append(
            Finding(
                "validate-truncated",
                Severity.INFO,
                f"{problems} findings in this file; the first {max_findings} are listed",
                path=name,
                details={"count": problems, "listed": max_findings},
            )
        )
    return findings, counts


def run_validate(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    validator = _validator(pm, args.schema)
    guard_outputs([("-o", getattr(args, "output", None))], args.files, pm=pm)
    fast = record_checker() if args.schema == "record" and args.schema in builtin_schemas() else None
    report = Report(
        command="validate", target={"location": ", ".join(args.files), "schema": args.schema}, tool=tool_description(pm)
    )
    totals = {"files": 0, "documents": 0, "valid": 0, "invalid": 0}
    for path in args.files:
        name = "<stdin>" if path == "-" else path
        with ExitStack() as stack:
            if path == "-":
                stream: BinaryIO = sys.stdin.buffer
            else:
                try:
                    stream = stack.enter_context(open(path, "rb"))
                except OSError as error:
                    raise UsageError(f"cannot read {path}: {error.strerror}") from None
            findings, counts = validate_stream(stream, name, validator, fast, max(args.max_findings, 0))
        report.findings.extend(findings)
        totals["files"] += 1
        for key, value in counts.items():
            totals[key] += value
    report.stats.update(totals)
    return int(emit_report(pm, report, args))
