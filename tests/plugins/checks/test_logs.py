from __future__ import annotations

import argparse
from pathlib import Path

import pluggy

from mk2ds.core import Profile, VerifyContext
from mk2ds.core.dataset import Entry, FolderDataset
from mk2ds.plugins.checks import logs as log_checks
from mk2ds.plugins.checks.profile import load

SAMPLE = "ab" * 32


def _line(sn: int, minute: int, path: str = "C:\\Windows\\System32\\cmd.exe") -> str:
    return f'03/01/2018 19:{minute:02d}:00.000 +0900 sn={sn} evt=ps subEvt=start com="PC1" psGUID={{0}} psPath="{path}"'


def _check(
    tmp_path: Path, pm: pluggy.PluginManager, lines: list[str], *, level: str = "full", folder: str = "MK2Log/30m"
) -> list[tuple[str, object, object]]:
    relative = f"{folder}/{SAMPLE}.log"
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    data = ("\r\n".join(lines) + "\r\n").encode()
    target.write_bytes(data)
    context = VerifyContext(
        profile=Profile(load()),
        level=level,
        options=argparse.Namespace(),
        shared={"samples": [{"id": SAMPLE, "sha256": SAMPLE, "sha1": None, "md5": None}]},
        pm=pm,
    )
    items = log_checks.mk2ds_check_entry(Entry(relative, len(data)), "mk2log", FolderDataset(tmp_path), context)
    return [
        (
            getattr(item, "code", None) or item.key,
            getattr(item, "line", None) or getattr(item, "value", None),
            item.subject,
        )
        for item in items
    ]


def test_a_good_30m_log_gives_facts_and_the_tree_size(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    lines = [_line(1, 0, f"D:\\{SAMPLE}.exe"), _line(2, 15), _line(3, 30)]
    found = _check(tmp_path, pm, lines)
    facts = {key: value for key, value, _ in found if "." in str(key)}
    activity = facts.pop("30m-log.activity")
    assert (activity["bins"], activity["counts"], activity["expected_minutes"]) == (
        31,
        {"ps": [1] + [0] * 14 + [1] + [0] * 14 + [1]},
        30,
    )
    assert facts == {
        "30m-log.bytes": (tmp_path / "MK2Log" / "30m" / f"{SAMPLE}.log").stat().st_size,
        "30m-log.records": 3,
        "30m-log.minutes": 30.0,
        "30m-log.processes": 1,
        "30m-log.missing_parents": 1,
        "30m-log.sample_tree_processes": 1,
    }
    # The one process (psGUID {0}, started three times) has no parent start: reported once, as info.
    assert [item for item in found if "." not in str(item[0])] == [("log-parent-not-started", None, SAMPLE)]


def test_sequence_numbers_going_back_or_repeating(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    lines = [_line(5, 0, f"D:\\{SAMPLE}.exe"), _line(6, 10), _line(6, 20), _line(4, 30)]
    found = [item for item in _check(tmp_path, pm, lines) if str(item[0]).startswith("log-sn")]
    assert found == [("log-sn-backwards", 4, SAMPLE), ("log-sn-repeated", 3, SAMPLE)]


def test_many_sequence_problems_are_summarized_not_dropped(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    lines = [_line(100 - index, min(index, 30), f"D:\\{SAMPLE}.exe") for index in range(40)]
    found = [item for item in _check(tmp_path, pm, lines) if str(item[0]).startswith("log-sn")]
    assert len([item for item in found if item[0] == "log-sn-backwards"]) == log_checks.MAX_LISTED
    assert [item for item in found if item[0] == "log-sn-summary"] == [("log-sn-summary", None, SAMPLE)]


def test_short_span_and_missing_sample_are_warnings(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    found = {item[0] for item in _check(tmp_path, pm, [_line(1, 0), _line(2, 3)])}
    assert {"log-span-unusual", "log-sample-not-seen"} <= found


def test_reader_findings_carry_the_sample(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    lines = [_line(1, 0, f"D:\\{SAMPLE}.exe"), "garbage line without a header", _line(2, 30)]
    found = _check(tmp_path, pm, lines)
    assert ("log-unparseable", 2, SAMPLE) in found


def test_fast_level_reads_only_the_first_line(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    lines = [_line(1, 0), "garbage", _line(0, 1)]
    assert _check(tmp_path, pm, lines, level="fast") == []
    assert _check(tmp_path, pm, ["garbage", _line(1, 0)], level="fast") == [("log-unparseable", 1, SAMPLE)]


def test_empty_special_run_log_is_reported(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    target = tmp_path / "MK2Log" / "WannaCry" / "PC1.log"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"")
    context = VerifyContext(profile=Profile(load()), pm=pm)
    items = list(
        log_checks.mk2ds_check_entry(Entry("MK2Log/WannaCry/PC1.log", 0), "mk2log", FolderDataset(tmp_path), context)
    )
    assert [item.code for item in items] == ["log-empty"]


def _check_times(
    tmp_path: Path, pm: pluggy.PluginManager, lines: list[str], sysinfo_offset: str | None = "+09:00", **options: object
) -> dict[str, list[object]]:
    from mk2ds.plugins.checks.shared import SYSINFO_TIME_ZONES as SHARED_KEY_NAME

    relative = f"MK2Log/30m/{SAMPLE}.log"
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    data = ("\r\n".join(lines) + "\r\n").encode()
    target.write_bytes(data)
    zones = {
        "by_hash": {SAMPLE: sysinfo_offset} if sysinfo_offset else {},
        "seen": {sysinfo_offset: "x"} if sysinfo_offset else {},
    }
    context = VerifyContext(
        profile=Profile(load()), options=argparse.Namespace(**options), shared={SHARED_KEY_NAME.name: zones}, pm=pm
    )
    found: dict[str, list[object]] = {}
    for item in log_checks.mk2ds_check_entry(Entry(relative, len(data)), "mk2log", FolderDataset(tmp_path), context):
        if getattr(item, "code", "").startswith(("log-time", "log-offset", "time-offset")):
            found.setdefault(item.code, []).append(item)
    return found


def _zone_less(sn: int, clock: str) -> str:
    return f'03/01/2018 {clock} sn={sn} evt=ps subEvt=start com="PC1" psGUID={{0}} psPath="C:\\x.exe"'


def test_mixed_zones_resolved_to_one_offset_are_info_else_a_warning(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    lines = [_line(1, 40), _zone_less(2, "19:41:00.000"), _line(3, 42)]
    (mixed,) = _check_times(tmp_path, pm, lines)["log-time-zones-mixed"]
    assert mixed.severity.value == "info" and mixed.line == 2 and mixed.details["zone_less"] == 1
    found = _check_times(tmp_path, pm, lines, sysinfo_offset=None)
    assert found["log-time-zones-mixed"][0].severity.value == "warning"
    assert found["time-offset-unknown"][0].details == {"count": 1}  # no Sysinfo time zone: the reader says so
    assert "log-time-backwards" not in found  # times with no offset are not compared


def test_header_offset_disagreeing_with_sysinfo(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    found = _check_times(tmp_path, pm, [_line(1, 40), _line(2, 41)], sysinfo_offset="+01:00")
    (finding,) = found["log-offset-disagrees-sysinfo"]
    assert (
        finding.line == 1
        and finding.details["count"] == 2
        and "+09:00" in finding.message
        and "+01:00" in finding.message
    )
    assert "log-offset-disagrees-sysinfo" not in _check_times(tmp_path, pm, [_line(1, 40)])


def test_times_going_backwards_beyond_the_tolerance(tmp_path: Path, pm: pluggy.PluginManager) -> None:
    # the zone-less line is read in the Sysinfo time zone: 19:41 +09:00 sits between its neighbors
    assert "log-time-backwards" not in _check_times(
        tmp_path, pm, [_line(1, 40), _zone_less(2, "19:41:00.000"), _line(3, 42)]
    )
    # read as UTC (what outputs did before) it is nine hours late, and the next line goes backwards
    found = _check_times(
        tmp_path, pm, [_line(1, 40), _zone_less(2, "19:41:00.000"), _line(3, 42), _line(4, 43)], assume_offset="+00:00"
    )
    (finding,) = found["log-time-backwards"]
    assert finding.line == 3 and finding.details["count"] == 2 and finding.details["lines"] == [3, 4]
    assert finding.details["first"]["latest_line"] == 2
    lines = [_zone_less(1, "19:41:00.500"), _zone_less(2, "19:41:00.000")]
    assert "log-time-backwards" not in _check_times(tmp_path, pm, lines)  # half a second: within the default 1 s
    assert "log-time-backwards" in _check_times(tmp_path, pm, lines, time_backwards_tolerance=0.1)
