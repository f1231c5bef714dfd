"""Logs that are not Mark II text as the reader expects it: UTF-16 and CR-only line ends get one clear finding."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pluggy
import pytest

from mk2ds.core import Profile, VerifyContext
from mk2ds.core.dataset import Entry, FolderDataset
from mk2ds.plugins.checks import logs as log_checks
from mk2ds.plugins.checks.log_observer import first_line
from mk2ds.plugins.checks.profile import load

SAMPLE = "ab" * 32
LINES = [
    f'03/01/2018 19:{minute:02d}:00.000 +0900 sn={minute} evt=ps subEvt=start com="PC1" psGUID={{0}} psPath="D:\\{SAMPLE}.exe"'
    for minute in range(0, 31, 10)
]


def _codes(tmp_path: Path, pm: pluggy.PluginManager, data: bytes, **options: str) -> dict[str, str]:
    relative = f"MK2Log/30m/{SAMPLE}.log"
    (tmp_path / "MK2Log" / "30m").mkdir(parents=True)
    (tmp_path / relative).write_bytes(data)
    context = VerifyContext(
        profile=Profile(load()),
        options=argparse.Namespace(**options),
        shared={"samples": [{"id": SAMPLE, "sha256": SAMPLE, "sha1": None, "md5": None}]},
        pm=pm,
    )
    items = log_checks.mk2ds_check_entry(Entry(relative, len(data)), "mk2log", FolderDataset(tmp_path), context)
    return {item.code: item.message for item in items if hasattr(item, "code")}


@pytest.mark.parametrize(
    ("encoding", "name"), [("utf-16-le", "little-endian, no BOM"), ("utf-16-be", "big-endian, no BOM")]
)
def test_a_utf16_log_without_bom_gets_one_finding_naming_the_encoding(
    tmp_path: Path, pm: pluggy.PluginManager, encoding: str, name: str
) -> None:
    codes = _codes(tmp_path, pm, "\r\n".join(LINES).encode(encoding))
    assert name in codes["log-utf16"]
    assert codes["log-utf16"].endswith(f"; {len(LINES)} lines rejected")


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_a_utf16_log_with_bom_is_read_and_gets_no_finding(tmp_path: Path, pm: pluggy.PluginManager, bom: bytes) -> None:
    codec = "utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"
    codes = _codes(tmp_path, pm, bom + "\r\n".join(LINES).encode(codec))
    assert not {"log-utf16", "log-unparseable", "log-encoding-error", "log-empty"} & set(codes)


def test_a_utf16_log_with_bom_read_as_cp932_gets_one_finding(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    codes = _codes(tmp_path, pm, "\r\n".join(LINES).encode("utf-16"), encoding="cp932")
    assert "with BOM" in codes["log-utf16"] and "--encoding auto" in codes["log-utf16"]
    assert codes["log-utf16"].endswith(f"; {len(LINES)} lines rejected")


def test_cr_only_line_ends_get_one_finding(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    codes = _codes(tmp_path, pm, "\r".join(LINES).encode() + b"\r")
    assert "lone CR" in codes["log-cr-line-ends"]
    assert "log-utf16" not in codes


def test_a_good_log_gets_neither(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    codes = _codes(tmp_path, pm, "\r\n".join(LINES).encode())
    assert not {"log-utf16", "log-cr-line-ends", "log-unparseable"} & set(codes)


def test_the_sniffer_leaves_utf8_and_cp932_alone() -> None:
    japanese = '03/01/2018 19:00:00.000 +0900 sn=1 evt=win subEvt=active winTitle="無題 - メモ帳"\n'
    assert log_checks.text_layout_problem(japanese.encode("utf-8") * 10) is None
    assert log_checks.text_layout_problem(japanese.encode("cp932") * 10) is None
    assert log_checks.text_layout_problem(b"") is None


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-8"])
def test_level_fast_reads_the_whole_first_line_also_in_utf16(codec: str) -> None:
    first = LINES[0].replace("PC1", "上\u0a05") + "\r\n"  # 上 is 0A 4E in UTF-16-LE; U+0A05 has a 0A byte too
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-8": b""}[codec]
    data = bom + (first + LINES[1]).encode(codec)
    assert first_line(io.BytesIO(data)) == bom + first.encode(codec)
