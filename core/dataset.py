"""The dataset model: one read-only view over a folder or a zip file of one.

The walker and every check read the dataset only through this module, so that a folder, a zip file and a
BagIt bag look the same to them, nothing is ever written into the dataset, and unsafe names (``..``, absolute
paths, links that point outside the root) are reported instead of being followed.

Paths handed out are dataset-relative POSIX strings (``MK2Log/30m/abc.log``), compared as given.
"""

from __future__ import annotations

import io
import os
import stat
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from mk2ds.core.terminal import unsafe_character
from mk2ds.core.zipmembers import MEMBER_ERRORS, MemberStream, UnreadableEntry, inflation_budget

__all__ = [
    "Dataset",
    "Entry",
    "FolderDataset",
    "NameNotice",
    "SubDataset",
    "UnreadableEntry",
    "UnsafeName",
    "ZipDataset",
    "is_unsafe_name",
    "limit_reason",
    "open_dataset",
    "open_regular_file",
]


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


class Dataset:
    """Base class: list entries, open files, never write."""

    #: What the user named (shown in reports).
    location: str

    def walk(self) -> Iterator[Entry | UnsafeName]:
        """Every entry, folders included, depth-first with names sorted; unsafe names come as :class:`UnsafeName`."""
        raise NotImplementedError

    def open(self, path: str) -> BinaryIO:
        """Open a file for binary reading. Raises ``FileNotFoundError`` for unknown or unsafe paths."""
        raise NotImplementedError

    def read_bytes(self, path: str) -> bytes:
        with self.open(path) as handle:
            return handle.read()

    def close(self) -> None:
        """Release handles (zip files)."""

    def reopen(self) -> Dataset:
        """A fresh instance over the same location (for worker processes)."""
        return open_dataset(self.location)

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FolderDataset(Dataset):
    """A dataset that is a folder on disk. Links are never followed out of the root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.location = str(root)
        self.root = Path(root)
        self._real_root = self.root.resolve()

    def walk(self) -> Iterator[Entry | UnsafeName]:
        # Iterative (a stack of folders being listed), never recursive: a hostile tree may nest 1,000 deep.
        stack: list[tuple[str, Iterator[str]]] = []
        listed = self._list("")
        if isinstance(listed, UnsafeName):
            yield listed
            return
        stack.append(("", iter(listed)))
        while stack:
            relative, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            child = f"{relative}/{name}" if relative else name
            item = self._entry(relative, name, child)
            yield item
            if isinstance(item, Entry) and item.is_dir:
                reason = limit_reason(child)
                if reason:
                    yield UnsafeName(child, f"{reason}; its contents are not read")
                    continue
                listed = self._list(child)
                if isinstance(listed, UnsafeName):
                    yield listed
                else:
                    stack.append((child, iter(listed)))

    def _list(self, relative: str) -> list[str] | UnsafeName:
        try:
            return sorted(os.listdir(self.root / relative if relative else self.root))
        except OSError as error:
            return UnsafeName(relative or ".", f"cannot list folder: {error.strerror or error}")

    def _entry(self, relative: str, name: str, child: str) -> Entry | UnsafeName:
        """What one name in a folder is: a folder, a regular file, or an unsafe name with the reason."""
        full = self.root / child
        reason = is_unsafe_name(name)
        if reason:
            return UnsafeName(child, reason)
        try:
            info = full.lstat()
        except OSError as error:
            return UnsafeName(child, f"cannot stat: {error.strerror or error}")
        if stat.S_ISLNK(info.st_mode):
            try:
                resolved = full.resolve()
            except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links
                return UnsafeName(child, "symbolic link loop")
            if not _is_within(resolved, self._real_root):
                return UnsafeName(child, "symbolic link pointing outside the dataset")
            try:
                info = full.stat()
            except OSError:
                return UnsafeName(child, "broken symbolic link")
            if stat.S_ISDIR(info.st_mode):
                # A link to a folder inside the root is reported, not descended into: no loops.
                return UnsafeName(child, "symbolic link to a folder (not followed)")
        if stat.S_ISDIR(info.st_mode):
            return Entry(child, 0, is_dir=True)
        if stat.S_ISREG(info.st_mode):
            return Entry(child, info.st_size)
        return UnsafeName(child, "not a regular file or folder")

    def open(self, path: str) -> BinaryIO:
        reason = is_unsafe_name(path)
        if reason:
            raise FileNotFoundError(f"{path}: refused ({reason})")
        full = self.root / path
        try:
            resolved = full.resolve()
        except RuntimeError:  # a loop of symbolic links
            raise FileNotFoundError(f"{path}: refused (symbolic link loop)") from None
        if not _is_within(resolved, self._real_root):
            raise FileNotFoundError(f"{path}: refused (resolves outside the dataset)")
        return open_regular_file(full, path)

    def local_path(self, path: str) -> Path:
        """The on-disk path of an entry (folder datasets only; used for fast hashing)."""
        return self.root / path


def open_regular_file(full: str | os.PathLike[str], shown: str, buffering: int = -1) -> BinaryIO:
    """Open ``full`` for reading only if it is a regular file; raise ``FileNotFoundError`` naming ``shown`` if not.

    Opened with ``O_NONBLOCK`` and checked on the open descriptor: a FIFO (or a device) put in the file's place
    after it was listed must neither block the run in ``open()`` nor be read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(full, flags)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise FileNotFoundError(f"{shown}: refused (not a regular file)")
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb", buffering=buffering)
    except BaseException:
        os.close(descriptor)
        raise


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


#: A zip member that inflates more than this many times and to more than :data:`BOMB_MIN_BYTES` is refused as a
#: decompression bomb (Mark II logs compress about 10x; DEFLATE cannot exceed about 1032x).
BOMB_RATIO = 200
BOMB_MIN_BYTES = 64 * 1024 * 1024


class ZipDataset(Dataset):
    """A dataset inside a zip file, read in place: nothing is extracted to disk.

    A zip made of a single top-level folder (``SolitonDataset2018/...``) is treated as that folder.
    Members that cannot be read safely are reported (:class:`UnsafeName`) instead of listed: encrypted members
    (no password is known for a distribution), decompression bombs, and a name that occurs more than once (tools
    disagree on which copy they extract, so no copy is read).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.location = str(path)
        self._zip = zipfile.ZipFile(path)
        self._names: dict[int, str] = {}
        self.notices: list[NameNotice] = []
        recoded = backslashed = 0
        for index, info in enumerate(self._zip.infolist()):
            name, was_recoded, had_backslash = _member_name(info)
            self._names[index] = name
            recoded += was_recoded
            backslashed += had_backslash
        if recoded:
            self.notices.append(
                NameNotice(
                    "",
                    f"{recoded} member names were stored without the UTF-8 flag and read as CP932 (Japanese Windows zip tools)",
                )
            )
        if backslashed:
            self.notices.append(
                NameNotice(
                    "", f"{backslashed} member names used '\\' as the folder separator (Windows zip tools); read as '/'"
                )
            )
        names = [name for name in self._names.values() if is_unsafe_name(name.rstrip("/")) is None]
        self.prefix = _single_top_folder(names)
        self._infos: dict[str, zipfile.ZipInfo] = {}

    def walk(self) -> Iterator[Entry | UnsafeName | NameNotice]:  # type: ignore[override]
        seen_dirs: set[str] = set()
        items: list[Entry | UnsafeName] = []
        infos: dict[str, zipfile.ZipInfo] = {}
        copies = Counter(
            self._names[index][len(self.prefix) :].rstrip("/")
            if self.prefix and self._names[index].startswith(self.prefix)
            else self._names[index].rstrip("/")
            for index, info in enumerate(self._zip.infolist())
            if not info.is_dir()
        )
        yield from self.notices
        budget = inflation_budget(_file_size(self.location), BOMB_RATIO, BOMB_MIN_BYTES)
        inflated = 0
        for index, info in enumerate(self._zip.infolist()):
            raw = self._names[index]
            reason = is_unsafe_name(raw.rstrip("/")) if raw.rstrip("/") else "empty name"
            if reason:
                items.append(UnsafeName(raw, reason))
                continue
            name = raw[len(self.prefix) :] if self.prefix and raw.startswith(self.prefix) else raw
            name = name.rstrip("/")
            if not name:
                continue
            reason = limit_reason(name)
            if reason:
                items.append(UnsafeName(name, f"{reason}; not read"))
                continue
            parts = name.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                if folder not in seen_dirs:
                    seen_dirs.add(folder)
                    items.append(Entry(folder, 0, is_dir=True))
            if info.is_dir():
                if name not in seen_dirs:
                    seen_dirs.add(name)
                    items.append(Entry(name, 0, is_dir=True))
                continue
            refusal = _member_refusal(info, inflated, budget)
            if refusal:
                items.append(UnsafeName(name, refusal))
                continue
            inflated += info.file_size
            if copies[name] > 1:
                if name not in infos:
                    infos[name] = info  # reported once, never opened
                    items.append(
                        UnsafeName(
                            name,
                            f"name occurs {copies[name]} times in the zip (tools disagree on which copy they extract)",
                        )
                    )
                continue
            infos[name] = info
            items.append(Entry(name, info.file_size))
        self._infos = {name: info for name, info in infos.items() if copies[name] <= 1}
        items.sort(key=lambda item: item.path)
        yield from items

    def open(self, path: str) -> BinaryIO:
        if not self._infos:
            for _ in self.walk():
                pass
        info = self._infos.get(path)
        if info is None:
            raise FileNotFoundError(f"{path}: not in {self.location}")
        try:
            stream = self._zip.open(info)
        except MEMBER_ERRORS as error:  # a damaged local header
            raise UnreadableEntry(f"{path}: damaged zip member ({type(error).__name__}: {error})") from error
        return io.BufferedReader(MemberStream(stream, path))  # type: ignore[return-value]

    def close(self) -> None:
        self._zip.close()


def _member_refusal(info: zipfile.ZipInfo, inflated: int, budget: int) -> str | None:
    """Why a file member is not read (a link, encrypted, a bomb alone or with the members before it), or ``None``."""
    if _zip_is_symlink(info):
        return "symbolic link inside the zip (not followed)"
    if info.flag_bits & 0x1:
        return "encrypted zip member (a password is needed to read it)"
    if info.file_size > BOMB_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        return f"decompression bomb ({info.file_size} bytes from {info.compress_size}, {ratio}x)"
    if inflated + info.file_size > budget:
        return f"decompression bomb (the zip would inflate beyond {budget} bytes, {BOMB_RATIO}x its size; this member is not read)"
    return None


def _member_name(info: zipfile.ZipInfo) -> tuple[str, bool, bool]:
    """The member's name as the zip's author meant it: ``(name, read as CP932, had backslashes)``.

    Zip names without the UTF-8 flag are decoded by :mod:`zipfile` as CP437; Japanese Windows tools write
    them in CP932. Windows tools also write ``\\`` as the separator, which the zip format does not allow.
    """
    name = info.filename
    recoded = False
    if not info.flag_bits & 0x800 and not name.isascii():
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = b""
        for encoding in ("utf-8", "cp932"):
            try:
                name = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            recoded = encoding == "cp932"
            break
    backslashed = "\\" in name
    if backslashed:
        name = name.replace("\\", "/")
    return name, recoded, backslashed


class SubDataset(Dataset):
    """A folder inside another dataset, seen as a dataset of its own (the payload of a BagIt bag)."""

    def __init__(self, container: Dataset, prefix: str) -> None:
        self.container = container
        self.prefix = prefix.strip("/")
        self.location = container.location

    def walk(self) -> Iterator[Entry | UnsafeName]:
        start = self.prefix + "/"
        for item in self.container.walk():
            if isinstance(item, NameNotice):
                yield item
                continue
            if not item.path.startswith(start):
                continue
            relative = item.path[len(start) :]
            if isinstance(item, UnsafeName):
                yield UnsafeName(relative, item.reason)
            else:
                yield Entry(relative, item.size, item.is_dir)

    def open(self, path: str) -> BinaryIO:
        return self.container.open(f"{self.prefix}/{path}")

    def local_path(self, path: str) -> Path:
        return self.container.local_path(f"{self.prefix}/{path}")  # type: ignore[attr-defined,no-any-return]

    def close(self) -> None:
        self.container.close()

    def reopen(self) -> Dataset:
        return SubDataset(self.container.reopen(), self.prefix)


def _zip_is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _single_top_folder(names: list[str]) -> str:
    tops = {name.split("/", 1)[0] for name in names if name}
    if len(tops) != 1:
        return ""
    top = tops.pop()
    if all(name == top + "/" or name.startswith(top + "/") for name in names) and is_unsafe_name(top) is None:
        return top + "/"
    return ""


def _file_size(location: str) -> int:
    try:
        return os.path.getsize(location)
    except OSError:
        return 0


def _is_within(target: Path, root: Path) -> bool:
    try:
        target.relative_to(root)
    except ValueError:
        return False
    return True


#: Signatures a zip file starts with: a local file header, an empty archive, a spanned archive.
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def _looks_like_zip(path: Path) -> bool:
    """A regular file named ``*.zip`` or starting like one (zipfile wants its end, which a truncated one lacks)."""
    if path.suffix.lower() == ".zip":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(4) in _ZIP_SIGNATURES
    except OSError:
        return False


def open_dataset(location: str | os.PathLike[str]) -> Dataset:
    """Open a folder or a ``.zip`` file as a :class:`Dataset`. Raises ``FileNotFoundError`` if neither."""
    path = Path(location)
    if path.is_dir():
        return FolderDataset(path)
    if path.is_file() and zipfile.is_zipfile(path):
        try:
            return ZipDataset(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
            raise FileNotFoundError(f"{location}: a damaged zip file ({error})") from None
    if path.is_file() and _looks_like_zip(path):
        raise FileNotFoundError(
            f"{location}: a damaged zip file (no end-of-central-directory record: truncated or incomplete download?)"
        )
    if path.exists():
        raise FileNotFoundError(f"{location}: not a folder or a zip file")
    raise FileNotFoundError(f"{location}: no such file or folder")


def nfc(name: str) -> str:
    """Unicode NFC form, used to match names that differ only in normalization (macOS NFD vs NFC)."""
    return unicodedata.normalize("NFC", name)


def read_text_head(handle: BinaryIO, limit: int = 65536) -> bytes:
    """Read at most ``limit`` bytes (for sniffing)."""
    return handle.read(limit) if not isinstance(handle, io.TextIOBase) else b""
