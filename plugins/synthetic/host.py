"""The host a synthetic log is recorded on, and the value syntax every generated line uses (quoting, times).

A helper library of :mod:`mk2ds.plugins.synthetic.world` (which re-exports these names): ``PCn`` gets the
address ``172.24.1.n``; everything else about a host derives from a hash of its name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["DOMAIN", "JST", "Host", "quote", "short_user_name", "stamp", "uuid_text"]

JST = timezone(timedelta(hours=9))
DOMAIN = "LAB"


def quote(text: str) -> str:
    """A Mark II quoted value: the text in double quotes, inner quotes doubled. Backslashes stay as they are."""
    return '"' + text.replace('"', '""') + '"'


def stamp(moment: datetime) -> str:
    """``MM/DD/YYYY HH:MM:SS.mmm``: the header's clock part and the shape of in-value times (``sTime``)."""
    return (
        f"{moment.month:02d}/{moment.day:02d}/{moment.year:04d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}"
    )


def short_user_name(user: str) -> str:
    """The 8.3 name Windows gives a profile folder such as ``taro.yamada`` (``TARO~1.YAM``), as seen in cmd lines."""
    base, _, extension = user.rpartition(".")
    if not base:
        base, extension = user, ""
    short = base.replace(".", "").replace(" ", "").upper()[:6] + "~1"
    return f"{short}.{extension.upper()[:3]}" if extension else short


@dataclass(frozen=True)
class Host:
    """The terminal a log is recorded on. ``PCn`` gets the address ``172.24.1.n`` (as in the dataset's presentation slides)."""

    name: str
    index: int
    user: str
    ip: str
    ipv6: str
    mac: str
    tmid: str
    csid: str
    domain: str = DOMAIN

    @classmethod
    def create(cls, name: str, user: str | None = None) -> Host:
        digits = "".join(character for character in name if character.isdigit())
        digest = hashlib.sha256(f"mk2-host:{name}".encode()).digest()
        index = int(digits) if digits and 0 < int(digits) < 255 else 100 + digest[0] % 150
        users = ("taro.yamada", "hanako.suzuki", "ichiro.sato", "yuki.takahashi")
        words = [int.from_bytes(digest[i : i + 2], "big") for i in range(0, 16, 2)]
        return cls(
            name=name,
            index=index,
            user=user or users[index % len(users)],
            ip=f"172.24.1.{index}",
            ipv6="fe80::" + ":".join(f"{word:x}" for word in words[:4]),
            mac="00:0c:29:" + ":".join(f"{byte:02x}" for byte in digest[8:11]),
            tmid=str(uuid_text(digest[16:32])).lower(),
            csid=f"S-1-5-21-3542310187-1402335471-{2779421600 + index}",
        )

    @property
    def profile_folder(self) -> str:
        return f"C:\\Users\\{self.user}"


def uuid_text(raw: bytes) -> str:
    """The first 16 bytes of ``raw`` as an upper-case version-4 UUID (``8-4-4-4-12`` hex digits)."""
    value = bytearray(raw[:16])
    value[6] = (value[6] & 0x0F) | 0x40  # version 4
    value[8] = (value[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = value.hex().upper()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
