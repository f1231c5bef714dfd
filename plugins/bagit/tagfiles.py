"""BagIt tag files (RFC 8493 §2.1.1, §2.2.2): ``bagit.txt`` and ``bag-info.txt``, read and written.

A tag file is ``Label: value`` lines; a line that starts with whitespace continues the previous value
(folding). Labels are compared without regard to case and may repeat. Written files are UTF-8 without a BOM,
LF line endings, fields in the order given (so that the same input gives the same bytes).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "BAGIT_VERSION",
    "PAYLOAD_FOLDER",
    "TagFile",
    "declaration",
    "format_tag_file",
    "label_problem",
    "parse_oxum",
    "parse_tag_file",
    "parse_version",
    "value_problem",
]

BAGIT_VERSION = "1.0"
PAYLOAD_FOLDER = "data"
_OXUM = re.compile(r"(\d+)\.(\d+)\Z")
_VERSION = re.compile(r"(\d+)\.(\d+)\Z")


@dataclass
class TagFile:
    """Fields in file order, plus ``(line, message)`` problems met while reading."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def values(self, label: str) -> list[str]:
        wanted = label.lower()
        return [value for name, value in self.fields if name.lower() == wanted]

    def get(self, label: str) -> str | None:
        values = self.values(label)
        return values[0] if values else None


def parse_tag_file(data: bytes, encoding: str = "utf-8") -> TagFile:
    """Read a tag file; undecodable bytes and lines that are not ``Label: value`` become problems."""
    tags = TagFile()
    if data.startswith(b"\xef\xbb\xbf"):
        tags.problems.append((1, "starts with a UTF-8 byte-order mark (not allowed by RFC 8493)"))
        data = data[3:]
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        tags.problems.append((1, f"cannot be decoded as {encoding}: {error}"))
        text = data.decode(encoding if _known(encoding) else "utf-8", errors="replace")
    pending: list[list[str]] = []
    current: list[str] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        if line[0] in " \t":
            if current is None:
                tags.problems.append((number, "continuation line without a field before it"))
            else:
                current[1] += " " + line.strip()
            continue
        if ":" not in line:
            tags.problems.append((number, f"not a 'Label: value' line: {line.strip()[:60]!r}"))
            current = None
            continue
        label, value = line.split(":", 1)
        current = [label.strip(), value.strip()]
        pending.append(current)
    tags.fields = [(label, value) for label, value in pending]
    return tags


def _known(encoding: str) -> bool:
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


def label_problem(label: str) -> str | None:
    """Why ``label`` cannot be a tag label, or ``None``."""
    if not label or label != label.strip():
        return "a label must be non-empty, without leading or trailing whitespace"
    if ":" in label:
        return "a label must not contain ':'"
    if any(ord(char) < 32 or ord(char) == 127 for char in label):
        return "a label must not contain control characters"
    return None


def value_problem(value: str) -> str | None:
    """Why ``value`` cannot be written as a tag value (line breaks would start a new field), or ``None``."""
    if any(ord(char) < 32 and char != "\t" for char in value):
        return "a value must not contain line breaks or control characters"
    return None


def format_tag_file(fields: Sequence[tuple[str, str]]) -> bytes:
    """``Label: value`` lines in the given order, UTF-8, LF. Raises ``ValueError`` for a field that cannot be written."""
    lines = []
    for label, value in fields:
        problem = label_problem(label) or value_problem(value)
        if problem:
            raise ValueError(f"tag {label!r}: {problem}")
        lines.append(f"{label}: {value}\n")
    return "".join(lines).encode("utf-8")


def declaration() -> bytes:
    """The ``bagit.txt`` of a BagIt 1.0 bag."""
    return format_tag_file([("BagIt-Version", BAGIT_VERSION), ("Tag-File-Character-Encoding", "UTF-8")])


def parse_oxum(value: str) -> tuple[int, int] | None:
    """``Payload-Oxum`` ``<octets>.<streams>`` as ``(bytes, files)``, or ``None`` if malformed."""
    match = _OXUM.match(value.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_version(value: str) -> tuple[int, int] | None:
    match = _VERSION.match(value.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None
