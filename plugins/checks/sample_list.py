"""The sample index (List.xlsx): one row per sample, read safely and understood by column names.

The sheet's layout is not documented, so nothing depends on positions: the header row is the first row (of the
first 30) that names a hash column, in Japanese or English; flags are parsed from whatever the sheet uses
(○, ✓, yes, 1, 有, ...). Columns we do not know are kept in the report, never dropped.

openpyxl reads the file in read-only mode; with defusedxml installed (a dependency) it refuses XML entity
attacks, and the zip container is checked for decompression bombs before openpyxl sees it.

How the sheet is read is in :mod:`mk2ds.plugins.checks.sample_sheet`, what its cells mean in
:mod:`mk2ds.plugins.checks.sample_columns`; this module is the check, and re-exports their public names.

The rows are left for other checks under :data:`mk2ds.plugins.checks.shared.SAMPLES`, and the sample ids,
in sheet order, in ``context.subjects`` (the report lists every sample, also those without findings).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mk2ds.core import CodeInfo, Dataset, Fact, Finding, Severity, VerifyContext, hookimpl
from mk2ds.plugins.checks.sample_columns import (
    COLUMN_ROLES,
    FALSE_FLAGS,
    HASH_LENGTHS,
    HEX,
    NON_PE_EXTENSIONS,
    PE_EXTENSIONS,
    TRUE_FLAGS,
    extension_is_pe,
    normalize_extension,
    normalize_header,
    parse_flag,
    role_of,
)
from mk2ds.plugins.checks.sample_sheet import (
    HEADER_SEARCH_ROWS,
    MAX_COMPRESSION_RATIO,
    MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_UNCOMPRESSED_BYTES,
    SHARED_STRINGS,
    SampleList,
    check_zip_container,
    read_sample_list,
)
from mk2ds.plugins.checks.shared import SAMPLES

__all__ = [
    "COLUMN_ROLES",
    "FALSE_FLAGS",
    "HASH_LENGTHS",
    "HEADER_SEARCH_ROWS",
    "HEX",
    "MAX_COMPRESSION_RATIO",
    "MAX_LIST_BYTES",
    "MAX_ROWS",
    "MAX_SHARED_STRINGS_BYTES",
    "MAX_UNCOMPRESSED_BYTES",
    "NON_PE_EXTENSIONS",
    "PE_EXTENSIONS",
    "SHARED_STRINGS",
    "TRUE_FLAGS",
    "SampleList",
    "check_zip_container",
    "duplicate_findings",
    "extension_is_pe",
    "normalize_extension",
    "normalize_header",
    "parse_flag",
    "read_sample_list",
    "role_of",
]

#: A List.xlsx larger than this is not read (``list-too-large``); the bounds of reading it are in
#: :mod:`mk2ds.plugins.checks.sample_sheet`.
MAX_LIST_BYTES = 32 * 1024 * 1024


def duplicate_findings(samples: list[dict[str, Any]], path: str) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for sample in samples:
        for kind in ("sha256", "sha1", "md5"):
            value = sample.get(kind)
            if not value:
                continue
            key = f"{kind}:{value}"
            if key in seen:
                yield Finding(
                    "list-duplicate-hash",
                    Severity.ERROR,
                    f"{kind} {value} also on row {seen[key]}",
                    path=path,
                    line=sample["row"],
                    subject=sample["id"],
                )
            else:
                seen[key] = sample["row"]


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo(
            "list-unreadable", Severity.ERROR, "List.xlsx cannot be read (not xlsx, broken, or a decompression bomb)"
        ),
        CodeInfo(
            "list-too-large",
            Severity.ERROR,
            "List.xlsx has more rows, or a larger file or shared-string table, than mk2ds reads",
        ),
        CodeInfo("list-no-header", Severity.ERROR, "No header row naming a hash column was found in List.xlsx"),
        CodeInfo(
            "list-missing-column",
            Severity.WARNING,
            "List.xlsx lacks a column a cross-reference needs (extension, flags)",
        ),
        CodeInfo("list-bad-hash", Severity.ERROR, "A hash cell is not a well-formed MD5/SHA-1/SHA-256 hex digest"),
        CodeInfo("list-hash-whitespace", Severity.WARNING, "A hash cell has leading or trailing white space"),
        CodeInfo("list-duplicate-hash", Severity.ERROR, "The same hash appears on more than one row"),
        CodeInfo("list-row-without-hash", Severity.WARNING, "A non-empty row has no usable hash"),
        CodeInfo("list-unknown-flag", Severity.WARNING, "A Verbose/report flag cell is not a recognized yes/no mark"),
        CodeInfo("list-unknown-extension", Severity.INFO, "An extension that mk2ds cannot classify as PE or not"),
        CodeInfo(
            "list-sheet-ignored",
            Severity.WARNING,
            "Another List.xlsx sheet also has a hash header row; its rows are not read",
        ),
    ]


def _row_facts(sample: dict[str, Any]) -> Iterator[Fact]:
    """Extension, PE or not, and the Verbose/report flags of a sample, as facts of that sample."""
    for key in ("extension", "is_pe"):
        if sample[key] is not None:
            yield Fact(key, sample[key], subject=sample["id"])
    for flag, value in (sample.get("flags") or {}).items():
        if value is not None:
            yield Fact(f"flags.{flag}", value, subject=sample["id"])


@hookimpl(tryfirst=True)
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    index = context.profile.sample_index
    if not index or not context.at_least("fast"):
        return
    path = next((name for name in context.entries if name.lower() == index.lower()), None)
    if path is None:
        return  # the layout check reports the missing file
    size = context.entries.get(path, 0)
    if size > MAX_LIST_BYTES:
        yield Finding("list-too-large", Severity.ERROR, f"{size} bytes (limit {MAX_LIST_BYTES}): not read", path=path)
        return
    try:
        data = dataset.read_bytes(path)
    except OSError as error:
        yield Finding("list-unreadable", Severity.ERROR, f"cannot read: {error}", path=path)
        return
    parsed = read_sample_list(data, path)
    yield from parsed.findings
    yield from duplicate_findings(parsed.samples, path)
    context.put(SAMPLES, parsed.samples)
    context.subjects.extend(dict.fromkeys(str(sample["id"]) for sample in parsed.samples))
    known_roles = {index: role for role, index in parsed.roles.items()}
    yield Fact("sample_count", len(parsed.samples))
    yield Fact("list_sheet", parsed.sheet)
    yield Fact("list_columns", parsed.headers)
    unknown = [header for index, header in enumerate(parsed.headers) if header and index not in known_roles]
    if unknown:
        yield Fact("list_unknown_columns", unknown)
    for sample in parsed.samples:
        yield from _row_facts(sample)
        labels_index = parsed.roles.get("labels")
        if labels_index is not None and labels_index < len(parsed.headers):
            label = sample["columns"].get(parsed.headers[labels_index])
            if label:
                yield Fact("labels", label, subject=sample["id"])
