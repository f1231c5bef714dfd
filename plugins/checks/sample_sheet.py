"""Reading the sample index (List.xlsx) safely: the container, the workbook, the header row and each row.

openpyxl reads the file in read-only mode; with defusedxml installed (a dependency) it refuses XML entity
attacks, and the zip container is checked for decompression bombs before openpyxl sees it. The header row is
the first row (of the first :data:`HEADER_SEARCH_ROWS`) that names a hash column; what each cell means is in
:mod:`mk2ds.plugins.checks.sample_columns`. Columns we do not know are kept in each sample's ``columns``,
never dropped. Bad content never raises: problems become findings in the :class:`SampleList`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mk2ds.core import Finding, Severity
from mk2ds.plugins.checks.sample_columns import (
    HASH_LENGTHS,
    HEX,
    extension_is_pe,
    normalize_extension,
    parse_flag,
    role_of,
)

__all__ = [
    "HEADER_SEARCH_ROWS",
    "MAX_COMPRESSION_RATIO",
    "MAX_ROWS",
    "MAX_SHARED_STRINGS_BYTES",
    "MAX_UNCOMPRESSED_BYTES",
    "SHARED_STRINGS",
    "SampleList",
    "check_zip_container",
    "read_sample_list",
]

#: Refuse to open a List.xlsx whose parts inflate beyond this (a real one is a few hundred KB).
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
HEADER_SEARCH_ROWS = 30
#: Bounds that keep reading a hostile list cheap (the Soliton list: 117 rows, tens of KB). Rows beyond
#: :data:`MAX_ROWS` are not read; a larger shared-string table is not opened (``list-too-large``).
MAX_ROWS = 20_000
MAX_SHARED_STRINGS_BYTES = 8 * 1024 * 1024
SHARED_STRINGS = "xl/sharedStrings.xml"


@dataclass
class SampleList:
    """The parsed sheet: header mapping, samples and the problems found on the way."""

    sheet: str = ""
    header_row: int = 0
    headers: list[str] = field(default_factory=list)
    roles: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def check_zip_container(data: bytes, path: str) -> Finding | None:
    """A finding when the xlsx container is not a zip or would inflate suspiciously; else None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                if (
                    info.compress_size
                    and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO
                    and info.file_size > 10_000_000
                ):
                    return Finding(
                        "list-unreadable",
                        Severity.ERROR,
                        f"{info.filename} inflates {info.file_size // info.compress_size}x: refused as a decompression bomb",
                        path=path,
                    )
                if info.filename.lower() == SHARED_STRINGS.lower() and info.file_size > MAX_SHARED_STRINGS_BYTES:
                    message = f"its shared-string table inflates to {info.file_size} bytes (limit {MAX_SHARED_STRINGS_BYTES}): not read"
                    return Finding("list-too-large", Severity.ERROR, message, path=path)
            if total > MAX_UNCOMPRESSED_BYTES:
                return Finding(
                    "list-unreadable",
                    Severity.ERROR,
                    f"parts inflate to {total} bytes (limit {MAX_UNCOMPRESSED_BYTES}): refused",
                    path=path,
                )
    except zipfile.BadZipFile:
        return Finding("list-unreadable", Severity.ERROR, "not an xlsx file (not a zip container)", path=path)
    return None


def read_sample_list(data: bytes, path: str) -> SampleList:
    """Parse List.xlsx bytes. Never raises for bad content: problems become findings in the result."""
    result = SampleList()
    problem = check_zip_container(data, path)
    if problem:
        result.findings.append(problem)
        return result
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many types for broken files
        cause = error.__cause__ or error.__context__ or error
        reason = f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
        result.findings.append(Finding("list-unreadable", Severity.ERROR, f"cannot read workbook: {reason}", path=path))
        return result
    try:
        _read_sheets(workbook, path, result)
    except Exception as error:  # noqa: BLE001 - malformed sheet XML: ParseError, TypeError, ValueError, ...
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        result.findings.append(Finding("list-unreadable", Severity.ERROR, f"cannot read sheet: {reason}", path=path))
    finally:
        workbook.close()
    return result


def _read_sheets(workbook: Any, path: str, result: SampleList) -> None:
    for sheet in workbook.worksheets:
        if _read_sheet(sheet.title, _rows(sheet), path, result):
            break
    else:
        result.findings.append(
            Finding(
                "list-no-header",
                Severity.ERROR,
                "no sheet has a header row naming a hash column (SHA256, MD5, ハッシュ, ...)",
                path=path,
            )
        )
    for sheet in workbook.worksheets:
        if sheet.title != result.sheet and _header_row(_rows(sheet)) is not None:
            message = (
                f"sheet {sheet.title!r} also has a header row naming a hash column; only sheet {result.sheet!r} is read"
            )
            result.findings.append(
                Finding("list-sheet-ignored", Severity.WARNING, message, path=path, details={"sheet": sheet.title})
            )


def _rows(sheet: Any) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows as written, not padded to the sheet's declared size.

    A hostile or sloppy file can declare a dimension of ``A1:XFD1048576`` (openpyxl would then pad every row
    to 16,384 cells and take minutes) or one smaller than its data (openpyxl would cut the extra columns).
    """
    sheet.reset_dimensions()
    return sheet.iter_rows(values_only=True)  # type: ignore[no-any-return]


def _header_row(rows: Iterator[tuple[Any, ...]]) -> int | None:
    """The number of the first row (of the first :data:`HEADER_SEARCH_ROWS`) that names a hash column."""
    for number, row in enumerate(rows, start=1):
        if number > HEADER_SEARCH_ROWS:
            return None
        if any(
            role_of(str(cell)) in ("sha256", "sha1", "md5", "hash")
            for cell in row
            if cell is not None and str(cell).strip()
        ):
            return number
    return None


def _read_sheet(title: str, rows: Iterator[tuple[Any, ...]], path: str, result: SampleList) -> bool:
    """Read one sheet into ``result`` if it has a header row naming a hash column; whether it had one."""
    header: tuple[Any, ...] | None = None
    for number, row in enumerate(rows, start=1):
        if header is None:
            if number > HEADER_SEARCH_ROWS:
                return False
            if _read_header(title, number, row, path, result):
                header = row
            continue
        if number - result.header_row > MAX_ROWS:
            message = f"more than {MAX_ROWS} rows below the header: rows from {number} on are not read"
            result.findings.append(Finding("list-too-large", Severity.ERROR, message, path=path, line=number))
            break
        _read_row(number, row, path, result)
    return header is not None


def _read_header(title: str, number: int, row: tuple[Any, ...], path: str, result: SampleList) -> bool:
    """Take ``row`` as the header if it names a hash column (and say which wanted columns it lacks)."""
    roles = {role_of(str(cell)): index for index, cell in enumerate(row) if cell is not None and str(cell).strip()}
    if not any(role in roles for role in ("sha256", "sha1", "md5", "hash")):
        return False
    result.sheet, result.header_row = title, number
    result.headers = [str(cell).strip() if cell is not None else "" for cell in row]
    result.roles = {role: index for role, index in roles.items() if role is not None}
    if "extension" not in result.roles:
        result.findings.append(
            Finding(
                "list-missing-column",
                Severity.WARNING,
                "no file-extension column (拡張子): PE / non-PE cannot be told from the list",
                path=path,
                line=number,
            )
        )
    for role in ("verbose", "report"):
        if role not in result.roles:
            result.findings.append(
                Finding(
                    "list-missing-column",
                    Severity.WARNING,
                    f"no {role} flag column: its cross-reference is skipped",
                    path=path,
                    line=number,
                )
            )
    return True


def _cell(row: tuple[Any, ...], index: int | None) -> Any:
    if index is None or index >= len(row):
        return None
    return row[index]


def _read_row(number: int, row: tuple[Any, ...], path: str, result: SampleList) -> None:
    """One row below the header: a sample (with its findings), a finding, or nothing for an empty row."""
    if all(cell is None or str(cell).strip() == "" for cell in row):
        return
    hashes, malformed = _read_hashes(number, row, path, result)
    columns = {
        header or f"column {index + 1}": _json_value(cell)
        for index, (header, cell) in enumerate(zip(result.headers, row, strict=False))
        if cell is not None
    }
    if not hashes:
        if not malformed:
            result.findings.append(
                Finding(
                    "list-row-without-hash",
                    Severity.WARNING,
                    "row has content but no usable hash",
                    path=path,
                    line=number,
                    details={"columns": columns},
                )
            )
        return
    sample_id = hashes.get("sha256") or hashes.get("sha1") or hashes["md5"]
    extension = normalize_extension(_cell(row, result.roles.get("extension")))
    flags = _read_flags(number, row, path, result, sample_id)
    is_pe = extension_is_pe(extension)
    if extension and is_pe is None:
        result.findings.append(
            Finding(
                "list-unknown-extension",
                Severity.INFO,
                f"extension {extension!r}: PE or not is unknown",
                path=path,
                line=number,
                subject=sample_id,
            )
        )
    result.samples.append(
        {
            "id": sample_id,
            "sha256": hashes.get("sha256"),
            "sha1": hashes.get("sha1"),
            "md5": hashes.get("md5"),
            "extension": extension,
            "is_pe": is_pe,
            "flags": flags,
            "row": number,
            "columns": columns,
        }
    )


def _read_hashes(number: int, row: tuple[Any, ...], path: str, result: SampleList) -> tuple[dict[str, str], bool]:
    """The row's well-formed hashes by kind (the first of each kind wins), and whether a hash cell was malformed."""
    hashes: dict[str, str] = {}
    malformed = False
    for role in ("sha256", "sha1", "md5", "hash"):
        value = _cell(row, result.roles.get(role))
        if value is None or str(value).strip() == "":
            continue
        kind = _hash_kind(role, str(value), number, path, result)
        if kind is None:
            malformed = True
        else:
            hashes.setdefault(kind, str(value).strip().lower())
    return hashes, malformed


def _hash_kind(role: str, raw: str, number: int, path: str, result: SampleList) -> str | None:
    """The kind (md5, sha1, sha256) of the hash in a ``role`` cell, or ``None`` (and a finding) if malformed."""
    text = raw.strip()
    if raw != text:
        result.findings.append(
            Finding(
                "list-hash-whitespace",
                Severity.WARNING,
                f"{role} cell has leading/trailing white space",
                path=path,
                line=number,
            )
        )
    kind = HASH_LENGTHS.get(len(text)) if HEX.fullmatch(text) else None
    if kind is None or (role != "hash" and kind != role):
        result.findings.append(
            Finding(
                "list-bad-hash",
                Severity.ERROR,
                f"{role} cell {text[:80]!r} is not a well-formed {role if role != 'hash' else 'MD5/SHA-1/SHA-256'} hex digest",
                path=path,
                line=number,
            )
        )
        return None
    return kind


def _read_flags(
    number: int, row: tuple[Any, ...], path: str, result: SampleList, sample_id: str
) -> dict[str, bool | None]:
    """The Verbose and report flags (``None``: no such column, or a mark that is not a yes/no)."""
    flags: dict[str, bool | None] = {}
    for role in ("verbose", "report"):
        if role not in result.roles:
            flags[role] = None
            continue
        value = _cell(row, result.roles[role])
        flag = parse_flag(value)
        if flag is None:
            result.findings.append(
                Finding(
                    "list-unknown-flag",
                    Severity.WARNING,
                    f"{role} flag {str(value)[:40]!r} is not a recognized yes/no mark",
                    path=path,
                    line=number,
                    subject=sample_id,
                )
            )
        flags[role] = flag
    return flags


def _json_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
