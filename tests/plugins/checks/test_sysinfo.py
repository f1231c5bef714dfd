from __future__ import annotations

from pathlib import Path

import pytest

from mk2ds.core import Profile, VerifyContext
from mk2ds.core.dataset import Entry, FolderDataset
from mk2ds.plugins.checks import sysinfo
from mk2ds.plugins.checks.profile import load

SYSTEMINFO_JA = """
ホスト名:                   PC1
OS 名:                      Microsoft Windows 10 Pro
OS バージョン:              10.0.16299 N/A ビルド 16299
システム起動時間:           2018/03/01, 19:40:12
タイム ゾーン:              (UTC+09:00) 大阪、札幌、東京
"""
SYSTEMINFO_EN = "Host Name:                 PC2\r\nOS Name:                   Microsoft Windows 7 Enterprise\r\nTime Zone:                 (UTC) Coordinated Universal Time\r\n"
W32TM_JA = """172.24.0.1 [172.24.0.1:123] を追跡しています。
5 サンプルを収集しています。
現在の時刻は 2018/03/01 19:40:12 です。
19:40:12, d:+00.0009994s o:-00.0012000s  [                           *                           ]
19:40:14, d:+00.0009994s o:+00.0030000s  [                           *                           ]
19:40:16, d:+00.0009994s o:+00.0010000s  [                           *                           ]
"""
HASH = "d" * 64


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (SYSTEMINFO_JA.encode("cp932"), "cp932"),
        (SYSTEMINFO_JA.encode("utf-16"), "utf-16"),
        (SYSTEMINFO_JA.encode("utf-16-le"), "utf-16-le"),
        (b"\xef\xbb\xbf" + SYSTEMINFO_JA.encode("utf-8"), "utf-8-sig"),
        (SYSTEMINFO_JA.encode("utf-8"), "utf-8"),
    ],
)
def test_decode_windows_encodings(data: bytes, encoding: str) -> None:
    assert sysinfo.decode(data) == (SYSTEMINFO_JA, encoding)


def test_systeminfo_japanese_and_english() -> None:
    assert sysinfo.parse_systeminfo(SYSTEMINFO_JA) == {
        "host_name": "PC1",
        "os_name": "Microsoft Windows 10 Pro",
        "os_version": "10.0.16299 N/A ビルド 16299",
        "boot_time": "2018/03/01, 19:40:12",
        "time_zone": "(UTC+09:00) 大阪、札幌、東京",
        "utc_offset": "+09:00",
    }
    english = sysinfo.parse_systeminfo(SYSTEMINFO_EN)
    assert (english["host_name"], english["utc_offset"]) == ("PC2", "+00:00")


def test_w32tm_stripchart_offset_is_the_median() -> None:
    assert sysinfo.classify_text(W32TM_JA) == "w32tm"
    assert sysinfo.parse_w32tm(W32TM_JA) == {"clock_offset_seconds": 0.001, "clock_offset_samples": 3}


def _check(tmp_path: Path, name: str, data: bytes) -> list[tuple[str, object, object]]:
    path = tmp_path / "Sysinfo" / HASH / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    relative = f"Sysinfo/{HASH}/{name}"
    context = VerifyContext(profile=Profile(load()), shared={"samples": [{"id": HASH, "sha256": HASH}]})
    items = sysinfo.mk2ds_check_entry(Entry(relative, len(data)), "sysinfo", FolderDataset(tmp_path), context)
    return [(getattr(item, "code", None) or item.key, getattr(item, "value", None), item.subject) for item in items]


def test_check_reports_facts_for_the_sample(tmp_path: Path) -> None:
    items = _check(tmp_path, "systeminfo.txt", SYSTEMINFO_JA.replace("\n", "\r\n").encode("cp932"))
    assert ("systeminfo.host_name", "PC1", HASH) in items
    assert ("systeminfo.utc_offset", "+09:00", HASH) in items


def test_unrecognized_and_undecodable_files_are_warnings(tmp_path: Path) -> None:
    assert _check(tmp_path, "a.txt", b"just some notes") == [("sysinfo-unrecognized", None, HASH)]
    assert _check(tmp_path, "b.txt", b"\x81\x00\xff\xfe\x80" * 3) == [("sysinfo-undecodable", None, HASH)]
    assert _check(tmp_path, "c.txt", b"") == []


@pytest.mark.parametrize("text", [SYSTEMINFO_EN, SYSTEMINFO_JA])
def test_utf16_big_endian_without_bom_is_decoded(text: str) -> None:
    assert sysinfo.decode(text.encode("utf-16-be")) == (text, "utf-16-be")
    assert sysinfo.classify_text(sysinfo.decode(text.encode("utf-16-be"))[0]) == "systeminfo"  # type: ignore[index]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-16", "utf-16-le"])
def test_time_zone_offset_in_every_windows_encoding(encoding: str) -> None:
    assert sysinfo.time_zone_offset(SYSTEMINFO_JA.replace("\n", "\r\n").encode(encoding)) == "+09:00"
    assert sysinfo.time_zone_offset(SYSTEMINFO_EN.encode(encoding)) == "+00:00"
    assert sysinfo.time_zone_offset(W32TM_JA.encode(encoding)) is None
    assert sysinfo.time_zone_offset(b"") is None


def test_time_zones_per_sample_and_for_the_whole_distribution() -> None:
    files = {
        f"Sysinfo/{'a' * 64}/systeminfo.txt": SYSTEMINFO_JA.encode("cp932"),
        f"Sysinfo/{'b' * 64}/systeminfo.txt": SYSTEMINFO_JA.encode("utf-16"),
        f"Sysinfo/{'b' * 64}/w32tm.txt": W32TM_JA.encode("utf-16"),
        f"Sysinfo/{'c' * 64}/systeminfo.txt": b"",
    }
    zones = sysinfo.sysinfo_time_zones(files.__getitem__, files)
    assert zones.offset_for(f"MK2Log/30m/{'a' * 64}.log") == "+09:00"
    assert zones.offset_for("MK2Log/OlympicDestroyer/PC1.log") == "+09:00"  # every Sysinfo file agrees
    assert zones.sample_offset("MK2Log/OlympicDestroyer/PC1.log") is None
    files[f"Sysinfo/{'d' * 64}/systeminfo.txt"] = SYSTEMINFO_EN.encode("utf-8")
    zones = sysinfo.sysinfo_time_zones(files.__getitem__, files)
    assert zones.common is None and zones.offset_for("MK2Log/OlympicDestroyer/PC1.log") is None
    assert zones.offset_for(f"MK2Log/30m/{'d' * 64}.log") == "+00:00"
    assert sysinfo.SysinfoTimeZones.from_dict(zones.to_dict()) == zones


def test_a_clock_offset_beyond_the_bound_is_reported(tmp_path: Path) -> None:
    far = W32TM_JA.replace("o:+00.0010000s", "o:+05.2500000s").replace("o:-00.0012000s", "o:+05.0000000s")
    items = _check(tmp_path, "w32tm.txt", far.encode("utf-16"))
    assert ("sysinfo-clock-offset", None, HASH) in items
    assert ("sysinfo-clock-offset", None, HASH) not in _check(tmp_path, "w32tm.txt", W32TM_JA.encode("utf-16"))
