"""The sample index (List.xlsx): one row per sample, read safely and understood by column names.

The sheet's layout is not documented, so nothing depends on positions: the header row is the first row (of the
first 30) that names a hash column, in Japanese or English; flags are parsed from whatever the sheet uses
(○, ✓, yes, 1, 有, ...). Columns we do not know are kept in the report, never dropped.

openpyxl reads the file in read-only mode; with defusedxml installed (a dependency) it refuses XML entity
attacks, and the zip container is checked for decompression bombs before openpyxl sees it.

The rows are left for other checks under :data:`mk2ds.plugins.checks.shared.SAMPLES`, and the sample ids,
in sheet order, in ``context.subjects`` (the report lists every sample, also those without findings).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mk2ds.core import CodeInfo, Dataset, Fact, Finding, Severity, VerifyContext, hookimpl
from mk2ds.plugins.checks.shared import SAMPLES

#: Refuse to open a List.xlsx whose parts inflate beyond this (a real one is a few hundred KB).
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
HEADER_SEARCH_ROWS = 30
#: Bounds that keep reading a hostile list cheap (the Soliton list: 117 rows, tens of KB). Rows beyond
#: :data:`MAX_ROWS` are not read; a larger file or shared-string table is not opened (``list-too-large``).
MAX_LIST_BYTES = 32 * 1024 * 1024
MAX_ROWS = 20_000
MAX_SHARED_STRINGS_BYTES = 8 * 1024 * 1024
SHARED_STRINGS = "xl/sharedStrings.xml"

PE_EXTENSIONS = frozenset({"exe", "dll", "sys", "ocx", "scr", "cpl", "drv", "efi", "mui", "ax", "acm", "tsp", "pe"})
NON_PE_EXTENSIONS = frozenset(
    {
        "js",
        "jse",
        "vbs",
        "vbe",
        "wsf",
        "wsh",
        "hta",
        "ps1",
        "bat",
        "cmd",
        "lnk",
        "jar",
        "py",
        "sh",
        "doc",
        "docx",
        "docm",
        "dot",
        "dotm",
        "xls",
        "xlsx",
        "xlsm",
        "xlsb",
        "ppt",
        "pptx",
        "pptm",
        "rtf",
        "pdf",
        "zip",
        "rar",
        "7z",
        "iso",
        "img",
        "txt",
        "html",
        "htm",
        "chm",
        "msi",
        "apk",
        "elf",
        "swf",
        "xml",
        "one",
    }
)
TRUE_FLAGS = frozenset(
    {"○", "◯", "〇", "●", "◎", "✓", "✔", "☑", "y", "yes", "true", "1", "有", "有り", "あり", "ok", "on", "済"}
)
FALSE_FLAGS = frozenset(
    {"", "×", "✗", "✘", "☐", "-", "－", "ー", "—", "n", "no", "false", "0", "無", "無し", "なし", "none", "off", "n/a"}
)

# Column roles and the header words that name them (compared after NFKC, lower-case, spaces removed).
COLUMN_ROLES: dict[str, tuple[str, ...]] = {
    "sha256": ("sha256", "sha-256", "sha256hash", "sha256ハッシュ", "ハッシュ値(sha256)", "sha256値"),
    "sha1": ("sha1", "sha-1", "sha1hash"),
    "md5": ("md5", "md5hash"),
    "hash": ("hash", "hashes", "ハッシュ", "ハッシュ値", "検体ハッシュ", "ファイルハッシュ", "filehash"),
    "extension": (
        "拡張子",
        "extension",
        "ext",
        "fileextension",
        "ファイル拡張子",
        "filetype",
        "ファイルタイプ",
        "種別",
        "type",
    ),
    "labels": (
        "ウイルス対策ベンダーのラベル",
        "label",
        "labels",
        "avlabel",
        "avlabels",
        "ラベル",
        "検知名",
        "detection",
        "detectionname",
        "マルウェア名",
        "name",
        "family",
    ),
    "url": ("url", "参照url", "参照", "参考url", "reference", "references", "参考"),
    "verbose": (
        "verbose",
        "verboseログ",
        "verboseログ有無",
        "verbose有無",
        "verboselog",
        "詳細ログ",
        "詳細出力",
        "詳細",
    ),
    "report": ("report", "reports", "レポート", "レポート有無", "レポート有", "解析レポート", "ログ解析サンプル"),
    "number": ("no", "no.", "番号", "#", "通番", "項番", "id"),
}

HEX = re.compile(r"[0-9a-fA-F]+")
HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256"}


def normalize_header(text: str) -> str:
    return re.sub(r"[\s_:：]", "", unicodedata.normalize("NFKC", text)).lower()


def role_of(header: str) -> str | None:
    key = normalize_header(header)
    for role, names in COLUMN_ROLES.items():
        if key in names:
            return role
    for role in ("sha256", "sha1", "md5", "verbose", "report"):
        if role in key:
            return role
    if "ハッシュ" in key or "hash" in key:
        return "hash"
    if "拡張子" in key:
        return "extension"
    return None


def parse_flag(value: Any) -> bool | None:
    """True/False for recognized flag spellings, None when the cell says something else."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in TRUE_FLAGS or unicodedata.normalize("NFKC", str(value)).strip() in TRUE_FLAGS:
        return True
    if text in FALSE_FLAGS:
        return False
    return None


def extension_is_pe(extension: str | None) -> bool | None:
    if not extension:
        return None
    if extension in PE_EXTENSIONS:
        return True
    if extension in NON_PE_EXTENSIONS:
        return False
    return None


def normalize_extension(value: Any) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if not text:
        return None
    text = text.split()[0].lstrip("*").lstrip(".")
    return text or None


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
    header: tuple[Any, ...] | None = None
    for number, row in enumerate(rows, start=1):
        if header is None:
            if number > HEADER_SEARCH_ROWS:
                return False
            roles = {
                role_of(str(cell)): index for index, cell in enumerate(row) if cell is not None and str(cell).strip()
            }
            if any(role in roles for role in ("sha256", "sha1", "md5", "hash")):
                header = row
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
            continue
        if number - result.header_row > MAX_ROWS:
            message = f"more than {MAX_ROWS} rows below the header: rows from {number} on are not read"
            result.findings.append(Finding("list-too-large", Severity.ERROR, message, path=path, line=number))
            break
        _read_row(number, row, path, result)
    return header is not None


def _cell(row: tuple[Any, ...], index: int | None) -> Any:
    if index is None or index >= len(row):
        return None
    return row[index]


def _read_row(number: int, row: tuple[Any, ...], path: str, result: SampleList) -> None:
    if all(cell is None or str(cell).strip() == "" for cell in row):
        return
    hashes: dict[str, str] = {}
    malformed = False
    for role in ("sha256", "sha1", "md5", "hash"):
        value = _cell(row, result.roles.get(role))
        if value is None or str(value).strip() == "":
            continue
        raw = str(value)
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
            malformed = True
            continue
        hashes.setdefault(kind, text.lower())
    columns = {
        header or f"column {index + 1}": _json_value(cell)
        for index, (header, cell) in enumerate(zip(result.headers, row, strict=False))
        if cell is not None
    }
    if not hashes:
        if malformed:
            return
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


def _json_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


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
