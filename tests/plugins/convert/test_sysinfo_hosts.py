"""Host facts from a distribution's Sysinfo files: per sample, what they all agree on, and nothing else."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core import Profile, registry
from mk2ds.plugins.convert import time_zones
from mk2ds.plugins.convert.jobs import ConvertJob
from mk2ds.plugins.convert.sysinfo_hosts import SysinfoHosts
from mk2ds.plugins.convert.time_zones import attach_sysinfo
from mk2ds.plugins.records.ecs import host_os_option, to_ecs

A, B, C, D = (letter * 64 for letter in "abcd")
WINDOWS_10 = {"host_name": "PC1", "os_name": "Microsoft Windows 10 Pro", "os_version": "10.0.14393"}
TIME = "2018-03-05T10:12:03.114+09:00"


def test_each_sample_gets_its_own_facts_and_a_log_naming_none_what_all_agree_on() -> None:
    hosts = SysinfoHosts()
    hosts.add(f"Sysinfo/{A}/systeminfo.txt", WINDOWS_10)
    hosts.add(f"Sysinfo/{A}/w32tm.txt", {})
    hosts.add(f"Sysinfo/{B}/systeminfo.txt", {**WINDOWS_10, "host_name": "PC2", "utc_offset": "+09:00"})
    assert dict(hosts.facts_for(f"MK2Log/30m/{A}.log") or ()) == WINDOWS_10
    assert dict(hosts.facts_for(f"MK2Log/Verbose/{B}.log") or ())["host_name"] == "PC2"
    common = dict(hosts.facts_for("MK2Log/Normal/PC1.log") or ())
    assert common == {"os_name": "Microsoft Windows 10 Pro", "os_version": "10.0.14393"}  # two hosts: no name
    assert dict(hosts.facts_for(f"MK2Log/30m/{D}.log") or ()) == common  # a sample without Sysinfo files


def test_a_sample_whose_sysinfo_says_nothing_gets_nothing() -> None:
    hosts = SysinfoHosts()
    hosts.add(f"Sysinfo/{A}/systeminfo.txt", WINDOWS_10)
    hosts.add(f"Sysinfo/{B}/systeminfo.txt", None)  # empty: malware blocked the collection
    hosts.add(f"Sysinfo/{B}/w32tm.txt", {})
    hosts.add(f"Sysinfo/{C}/systeminfo.txt", WINDOWS_10)
    hosts.add(f"Sysinfo/{C}/systeminfo-again.txt", {**WINDOWS_10, "os_name": "Microsoft Windows 7 Enterprise"})
    assert hosts.facts_for(f"MK2Log/30m/{B}.log") is None
    assert hosts.facts_for(f"MK2Log/30m/{C}.log") is None  # two outputs that disagree: no guess
    assert hosts.facts_for("MK2Log/Normal/PC1.log") is None  # the files do not agree either


def test_one_host_everywhere_keeps_its_name() -> None:
    hosts = SysinfoHosts()
    hosts.add(f"Sysinfo/{A}/systeminfo.txt", WINDOWS_10)
    hosts.add(f"Sysinfo/{B}/systeminfo.txt", {**WINDOWS_10, "host_name": "pc1"})
    assert dict(hosts.common or ())["host_name"] in ("PC1", "pc1")


def test_facts_with_a_host_name_describe_only_that_hosts_records() -> None:
    record = {"time": TIME, "sn": 1, "evt": "ps", "subEvt": "start", "com": "PC2"}
    assert "os" not in to_ecs(record, host_os=WINDOWS_10).get("host", {})
    assert to_ecs({**record, "com": "pc1"}, host_os=WINDOWS_10)["host"]["os"]["version"] == "10.0.14393"
    agreed = {"os_name": "Microsoft Windows 10 Pro", "os_version": "10.0.14393"}
    assert to_ecs(record, host_os=agreed)["host"]["os"]["name"] == "Windows 10 Pro"


def test_the_users_sysinfo_file_comes_first(tmp_path: Path) -> None:
    given = tmp_path / "systeminfo.txt"
    given.write_text("Host Name: PC9\nOS Name: Microsoft Windows 8.1 Pro\n", encoding="utf-8")
    dataset = {"sysinfo_host": WINDOWS_10}
    assert host_os_option(argparse.Namespace(**dataset)) == WINDOWS_10
    assert (host_os_option(argparse.Namespace(sysinfo=str(given), **dataset)) or {})["host_name"] == "PC9"
    assert host_os_option(argparse.Namespace()) is None


def test_every_sysinfo_file_is_read_once_per_run(
    tmp_path: Path, make_distribution: Any, pm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "dist"
    make_distribution(dist)
    (dist / "Sysinfo" / C).mkdir()
    (dist / "Sysinfo" / C / "systeminfo.txt").write_bytes(b"")
    logs = [dist / "MK2Log" / "30m" / f"{sha}.log" for sha in (A, B, C)] + [dist / "MK2Log" / "Normal" / "PC1.log"]
    for log in logs:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_bytes(b"")
    reads: list[int] = []
    real = time_zones.systeminfo_facts
    monkeypatch.setattr(time_zones, "systeminfo_facts", lambda data: reads.append(len(data)) or real(data))
    profiles = [Profile(document) for document in registry.profiles(pm).values()]
    jobs = [ConvertJob(str(log), log.name, str(tmp_path / f"{number}.ndjson"), None) for number, log in enumerate(logs)]
    attached = attach_sysinfo(jobs, None, profiles, hosts=True)
    assert len(reads) == 2  # two non-empty Sysinfo files; the empty one is not even opened
    a, b, c, normal = attached
    assert dict(a.sysinfo_host or ()) == {"host_name": "PC1", "os_name": "Microsoft Windows 7 Professional"}
    assert b.sysinfo_host is None and b.sysinfo_offset == "+09:00"  # PC2's systeminfo names no OS
    assert c.sysinfo_host is None and c.sysinfo_offset == "+09:00"  # empty Sysinfo: no OS; the time zone agreed on
    assert dict(normal.sysinfo_host or ()) == {"host_name": "PC1", "os_name": "Microsoft Windows 7 Professional"}
    assert attach_sysinfo(jobs, None, profiles)[0].sysinfo_host is None  # only when asked for
