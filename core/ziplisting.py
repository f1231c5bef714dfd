"""Listing a zip file's members as dataset entries, refusing those that cannot be read safely.

:class:`mk2ds.core.dataset.ZipDataset` reads its names and its listing from here. A member is refused (an
:class:`~mk2ds.core.entries.UnsafeName` with the reason) when its name is unsafe or beyond the limits, when it
is a symbolic link, encrypted, a decompression bomb (alone, or with the members before it), or when its name
occurs more than once (tools disagree on which copy they extract, so no copy is read).
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from mk2ds.core.entries import Entry, NameNotice, UnsafeName, is_unsafe_name, limit_reason
from mk2ds.core.zipmembers import inflation_budget

__all__ = ["BOMB_MIN_BYTES", "BOMB_RATIO", "ZipListing", "list_members", "read_member_names", "single_top_folder"]

#: A zip member that inflates more than this many times and to more than :data:`BOMB_MIN_BYTES` is refused as a
#: decompression bomb (Mark II logs compress about 10x; DEFLATE cannot exceed about 1032x).
BOMB_RATIO = 200
BOMB_MIN_BYTES = 64 * 1024 * 1024


def read_member_names(archive: zipfile.ZipFile) -> tuple[dict[int, str], list[NameNotice]]:
    """Every member's name as its author meant it (by index), and a notice for each way names were repaired."""
    names: dict[int, str] = {}
    notices: list[NameNotice] = []
    recoded = backslashed = 0
    for index, info in enumerate(archive.infolist()):
        name, was_recoded, had_backslash = _member_name(info)
        names[index] = name
        recoded += was_recoded
        backslashed += had_backslash
    if recoded:
        notices.append(
            NameNotice(
                "",
                f"{recoded} member names were stored without the UTF-8 flag and read as CP932 (Japanese Windows zip tools)",
            )
        )
    if backslashed:
        notices.append(
            NameNotice(
                "", f"{backslashed} member names used '\\' as the folder separator (Windows zip tools); read as '/'"
            )
        )
    return names, notices


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


def single_top_folder(names: list[str]) -> str:
    """``"top/"`` when every name is inside one safe top-level folder (the zip is treated as that folder), else ``""``."""
    tops = {name.split("/", 1)[0] for name in names if name}
    if len(tops) != 1:
        return ""
    top = tops.pop()
    if all(name == top + "/" or name.startswith(top + "/") for name in names) and is_unsafe_name(top) is None:
        return top + "/"
    return ""


@dataclass
class ZipListing:
    """One pass over a zip's members: the entries and refusals in member order, and the members that may be read."""

    prefix: str
    copies: Counter[str]
    budget: int
    items: list[Entry | UnsafeName] = field(default_factory=list)
    infos: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    seen_dirs: set[str] = field(default_factory=set)
    inflated: int = 0

    def relative(self, raw: str) -> str:
        """The member's name inside the dataset: without the single top folder and a trailing ``/``."""
        name = raw[len(self.prefix) :] if self.prefix and raw.startswith(self.prefix) else raw
        return name.rstrip("/")

    def add(self, raw: str, info: zipfile.ZipInfo) -> None:
        """List one member (named ``raw``), its folders first; refused members become :class:`UnsafeName`."""
        reason = is_unsafe_name(raw.rstrip("/")) if raw.rstrip("/") else "empty name"
        if reason:
            self.items.append(UnsafeName(raw, reason))
            return
        name = self.relative(raw)
        if not name:
            return
        reason = limit_reason(name)
        if reason:
            self.items.append(UnsafeName(name, f"{reason}; not read"))
            return
        parts = name.split("/")
        for depth in range(1, len(parts)):
            self._add_folder("/".join(parts[:depth]))
        if info.is_dir():
            self._add_folder(name)
        else:
            self._add_file(name, info)

    def _add_folder(self, folder: str) -> None:
        if folder not in self.seen_dirs:
            self.seen_dirs.add(folder)
            self.items.append(Entry(folder, 0, is_dir=True))

    def _add_file(self, name: str, info: zipfile.ZipInfo) -> None:
        refusal = _member_refusal(info, self.inflated, self.budget)
        if refusal:
            self.items.append(UnsafeName(name, refusal))
            return
        self.inflated += info.file_size
        if self.copies[name] > 1:
            if name not in self.infos:
                self.infos[name] = info  # reported once, never opened
                self.items.append(
                    UnsafeName(
                        name,
                        f"name occurs {self.copies[name]} times in the zip (tools disagree on which copy they extract)",
                    )
                )
            return
        self.infos[name] = info
        self.items.append(Entry(name, info.file_size))

    def readable(self) -> dict[str, zipfile.ZipInfo]:
        """The members that may be opened, by dataset path (a name that occurs more than once is not)."""
        return {name: info for name, info in self.infos.items() if self.copies[name] <= 1}

    def sorted_items(self) -> list[Entry | UnsafeName]:
        """The entries and refusals sorted by path, as :meth:`~mk2ds.core.dataset.Dataset.walk` yields them."""
        return sorted(self.items, key=lambda item: item.path)


def list_members(archive: zipfile.ZipFile, names: dict[int, str], prefix: str, location: str) -> ZipListing:
    """List every member of ``archive`` (named by :func:`read_member_names`) under the bomb budget of ``location``."""
    members = archive.infolist()
    listing = ZipListing(prefix, Counter(), inflation_budget(_file_size(location), BOMB_RATIO, BOMB_MIN_BYTES))
    listing.copies.update(listing.relative(names[index]) for index, info in enumerate(members) if not info.is_dir())
    for index, info in enumerate(members):
        listing.add(names[index], info)
    return listing


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


def _zip_is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _file_size(location: str) -> int:
    try:
        return os.path.getsize(location)
    except OSError:
        return 0
