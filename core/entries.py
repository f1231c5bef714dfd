"""What a dataset hands out, and the rules a name must pass before anything is read under it.

:class:`Entry` (a file or folder), :class:`UnsafeName` (a name refused, with the reason) and :class:`NameNotice`
(something to say about how names were read) are what :meth:`mk2ds.core.dataset.Dataset.walk` yields, whatever
the dataset is stored in. :func:`is_unsafe_name` and :func:`limit_reason` are the rules shared by the folder and
the zip reader. Import these names from :mod:`mk2ds.core.dataset`, which re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from mk2ds.core.terminal import unsafe_character

__all__ = ["MAX_DEPTH", "MAX_PATH_CHARS", "Entry", "NameNotice", "UnsafeName", "is_unsafe_name", "limit_reason"]


@dataclass(frozen=True)
class Entry:
    """A file or folder in the dataset."""

    path: str
    size: int
    is_dir: bool = False

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def parent(self) -> str:
        parent = str(PurePosixPath(self.path).parent)
        return "" if parent == "." else parent

    @property
    def parts(self) -> tuple[str, ...]:
        return PurePosixPath(self.path).parts


@dataclass(frozen=True)
class NameNotice:
    """Something the walker should say about how names were read (becomes an info finding)."""

    path: str
    reason: str


@dataclass(frozen=True)
class UnsafeName:
    """A name the walker refused to follow, with the reason. Becomes an ``unsafe-path`` finding."""

    path: str
    reason: str


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def is_unsafe_name(name: str) -> str | None:
    """Return why a dataset-relative name is unsafe, or ``None`` when it is fine.

    Unsafe: absolute names, drive letters, ``..`` components, backslashes (a separator on Windows, a character
    elsewhere), control characters (C0, DEL, C1), bidirectional controls (an override can make
    ``invoice\u202egpj.exe`` look like a picture), and Windows reserved device names.
    """
    if not name:
        return "empty name"
    if name.startswith(("/", "\\")):
        return "absolute name"
    if len(name) >= 2 and name[1] == ":":
        return "drive-letter name"
    if "\\" in name:
        return "backslash in name (a path separator on Windows)"
    unsafe = unsafe_character(name)
    if unsafe is not None:
        return f"{unsafe} in name"
    for part in name.split("/"):
        if part == "..":
            return "'..' component"
        stem = part.split(".")[0].upper()
        if stem in _WINDOWS_RESERVED:
            return f"Windows reserved device name {part!r}"
    return None


#: Folders nested deeper than this, or dataset paths longer than this many characters, are not descended
#: into (an ``unsafe-path`` finding says so): real datasets are a few levels deep, and hostile ones must not
#: exhaust the stack or the platform's path length.
MAX_DEPTH = 64
MAX_PATH_CHARS = 1024


def limit_reason(path: str) -> str | None:
    """Why the folder (or zip name) ``path`` is beyond the depth or path-length limit, or ``None``."""
    if path.count("/") + 1 > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} folders (limit)"
    if len(path) > MAX_PATH_CHARS:
        return f"path longer than {MAX_PATH_CHARS} characters (limit)"
    return None
