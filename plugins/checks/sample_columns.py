"""What the cells of the sample index (List.xlsx) mean: column roles by header words, flags, hashes, extensions.

The sheet's layout is not documented, so nothing depends on positions: a column's role is told by its header,
in Japanese or English (compared after NFKC, lower-case, spaces removed), and flags are parsed from whatever
the sheet uses (○, ✓, yes, 1, 有, ...). :mod:`mk2ds.plugins.checks.sample_sheet` reads the sheet with these.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = [
    "COLUMN_ROLES",
    "FALSE_FLAGS",
    "HASH_LENGTHS",
    "HEX",
    "NON_PE_EXTENSIONS",
    "PE_EXTENSIONS",
    "TRUE_FLAGS",
    "extension_is_pe",
    "normalize_extension",
    "normalize_header",
    "parse_flag",
    "role_of",
]

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
