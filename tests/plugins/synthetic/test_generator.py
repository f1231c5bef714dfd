"""The synthetic Mark II log generator: determinism, grammar, coverage of kinds and edge cases, scenarios,
ground truth, and log files (line ends, encodings, size targets).

Lines are checked through the real reader (``mk2_reader.open_log``): whatever the generator writes must be
read back without a reject or a finding.
"""

from __future__ import annotations

import argparse
import base64
import io
import ipaddress
import itertools
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mk2ds.plugins.reader import open_log
from mk2ds.plugins.synthetic.generator import (
    DEFAULT_START,
    SCENARIO_NAMES,
    ScenarioTruth,
    generate_lines,
    scenario_truth,
    write_log,
)

#: Every evt/subEvt the format notes (§4) list as observed, plus ``open`` for file/reg/net/win.
EXPECTED_KINDS = {
    "ps/start", "ps/stop", "ps/guardInject",
    "file/create", "file/close", "file/rename", "file/copy", "file/del", "file/createDir", "file/delDir", "file/open",
    "reg/setVal", "reg/create", "reg/delVal", "reg/delKey", "reg/open",
    "net/con", "net/acpt", "net/est", "net/dcon", "net/lsn", "net/openUDP", "net/webURL", "net/open",
    "session/login", "session/logout", "session/loginR", "session/lock", "session/unlock", "session/conR", "session/dconR",
    "os/evtLog", "win/active", "win/open", "clip/copy", "clip/paste", "powerShell/exec", "wmi/psCreate",
    "sys/chgConf", "dev/mnt", "prt/create", "windowsDefender/sigUpdate", "windowsDefender/scnComplete",
}  # fmt: skip
GUID = re.compile(r"\{[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}\}")
LAB = ipaddress.ip_network("172.24.0.0/16")


def read(lines: list[str], **options: Any) -> list[dict[str, Any]]:
    """Records of the lines through the real reader; fails on any reject or finding."""
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    reader = open_log(io.BytesIO(data), "generated.log", argparse.Namespace(**options))
    records = list(reader)
    # read alone, outside a distribution, zone-less lines have no known offset: that warning is expected
    findings = [finding for finding in reader.findings if finding.code != "time-offset-unknown"]
    assert reader.stats["rejected"] == 0 and findings == [], findings[:3]
    assert len(records) == len(lines)
    return records


def kinds(records: list[dict[str, Any]]) -> Counter[str]:
    return Counter(f"{record['evt']}/{record['subEvt']}" for record in records)


def header_time(line: str) -> datetime:
    return datetime.strptime(line[:23], "%m/%d/%Y %H:%M:%S.%f")


@pytest.fixture(scope="module")
def benign_lines() -> list[str]:
    return list(generate_lines(seed=7, scenario="benign", events=1500))


# --- determinism and arguments ------------------------------------------------------------------------------


def test_same_arguments_give_the_same_lines_and_another_seed_does_not() -> None:
    first = list(generate_lines(seed=11, scenario="wannacry", events=400))
    assert first == list(generate_lines(seed=11, scenario="wannacry", events=400))
    assert first != list(generate_lines(seed=12, scenario="wannacry", events=400))
    assert first != list(generate_lines(seed=11, scenario="wannacry", events=400, host="PC2"))


@pytest.mark.parametrize(
    ("name", "value"), [("scenario", "ransom"), ("header", "zone"), ("style", "2019"), ("level", "loud")]
)
def test_unknown_choices_are_rejected_with_the_allowed_values(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"{name} must be one of"):
        generate_lines(seed=1, **{name: value})


def test_minutes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="minutes"):
        generate_lines(seed=1, minutes=0)


# --- grammar: every scenario, style and header form reads back cleanly ---------------------------------------


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
@pytest.mark.parametrize(("style", "header"), [("2018", "offset"), ("2018", "plain"), ("v3", "mixed")])
def test_every_line_is_read_back_without_findings(scenario: str, style: str, header: str) -> None:
    lines = list(generate_lines(seed=3, scenario=scenario, style=style, header=header, events=300))
    records = read(lines)
    sns = [record["sn"] for record in records]
    assert all(later > earlier for earlier, later in itertools.pairwise(sns)), "sn must increase within a file"
    offsets = {record["time"].endswith("+09:00") for record in records}
    assert offsets == {"offset": {True}, "plain": {False}, "mixed": {True, False}}[header]
    if style == "v3":
        assert all(record["type"] == "ITM2" and record["loc"] == "ja-JP" for record in records)
    else:
        assert all("type" not in record for record in records)


def test_a_log_holds_every_event_kind_of_the_format_notes(benign_lines: list[str]) -> None:
    found = set(kinds(read(benign_lines)))
    assert EXPECTED_KINDS <= found, sorted(EXPECTED_KINDS - found)


def test_lexical_edge_cases_are_present(benign_lines: list[str]) -> None:
    records = read(benign_lines)
    assert any('"' in str(record.get("cmd", "")) for record in records), "doubled quotes inside a quoted cmd"
    assert any(record.get("winTitle") == '"' for record in records), 'a value written as """"'
    assert any(str(record.get("path", "")).endswith("\\") for record in records), "backslash before the closing quote"
    netsh = [record for record in records if "dir=in" in str(record.get("cmd", ""))]
    assert netsh and all("dir" not in record and "action" not in record for record in netsh), (
        "key=value inside a quoted cmd"
    )
    assert any(record.get("srcCom") == "-" for record in records) and any(
        record.get("evtDomain") == "" for record in records
    )
    assert any(record.get("read") == 0 for record in records) and any(
        record.get("sessionID") == 0 for record in records
    )
    assert any(re.search(r"\d subEvt=\S+ evt=\S+ sn=", line) for line in benign_lines), "varied key order"
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", str(record.get("path", ""))) for record in records), (
        "Japanese paths"
    )
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", str(record.get("winTitle", ""))) for record in records), (
        "Japanese titles"
    )


def test_identifiers_and_addresses_look_real(benign_lines: list[str]) -> None:
    for record in read(benign_lines):
        for key in ("psGUID", "parentGUID", "tpsGUID"):
            if key in record:
                assert GUID.fullmatch(record[key]), record[key]
        for key in ("srcIP", "dstIP", "wsIp"):
            value = record.get(key)
            if value and value not in ("-", "::1"):
                address = ipaddress.ip_address(value)
                assert address in LAB or address.is_link_local, value
        if "sha256" in record:
            assert re.fullmatch(r"[0-9a-f]{64}", record["sha256"])


def test_times_stay_in_the_window_and_some_lines_are_out_of_order() -> None:
    start = datetime(2018, 3, 1, 19, 30)
    lines = list(generate_lines(seed=5, scenario="wannacry", start=start, minutes=10, events=400))
    times = [header_time(line) for line in lines]
    assert times[0] == start and all(start <= moment <= start + timedelta(minutes=10) for moment in times)
    assert times[-1] > start + timedelta(minutes=9), "the log fills its window"
    assert any(later < earlier for earlier, later in itertools.pairwise(times)), (
        "real logs have lines out of time order"
    )


def test_the_header_offset_follows_the_start_time_zone() -> None:
    start = datetime(2018, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert next(iter(generate_lines(seed=1, start=start))).startswith("03/01/2018 10:00:00.000 -0500 ")


def test_events_sets_the_size_approximately() -> None:
    assert 800 <= len(list(generate_lines(seed=2, events=1000))) <= 1200
    default = list(generate_lines(seed=2, minutes=5))
    assert 400 <= len(default) <= 800  # two lines a second


def test_verbose_level_writes_many_open_records() -> None:
    normal = kinds(read(list(generate_lines(seed=4, events=800))))
    verbose = kinds(read(list(generate_lines(seed=4, events=800, level="verbose"))))
    assert verbose["file/open"] > 5 * max(1, normal["file/open"])


def test_boot_starts_with_the_system_chain() -> None:
    records = read(list(generate_lines(seed=4, events=300, boot=True)))
    assert records[0]["sn"] == 1 and (records[0]["evt"], records[0]["subEvt"]) == ("sys", "start")
    started = [record["psPath"] for record in records[:20] if record["subEvt"] == "start" and record["evt"] == "ps"]
    assert started[:3] == [
        "C:\\Windows\\System32\\smss.exe",
        "C:\\Windows\\System32\\wininit.exe",
        "C:\\Windows\\System32\\services.exe",
    ]


# --- scenarios ---------------------------------------------------------------------------------------------------


def scenario_records(scenario: str, **options: Any) -> tuple[list[dict[str, Any]], ScenarioTruth]:
    truth = ScenarioTruth()
    lines = list(
        generate_lines(
            seed=options.pop("seed", 9), scenario=scenario, events=options.pop("events", 600), truth=truth, **options
        )
    )
    return read(lines), truth


def test_wannacry_story() -> None:
    sha = "24d004a104d4d54034dbcffc2a4b19a11f39008a575aa614ea04703480b1022c"
    records, truth = scenario_records("wannacry", sample_sha256=sha)
    dropper = next(
        r
        for r in records
        if r["evt"] == "ps"
        and r["subEvt"] == "start"
        and r["psPath"] == f"D:\\{sha}.exe"
        and r["parentPath"].endswith("explorer.exe")
    )
    assert dropper["sha256"] == sha and truth.sample_path == f"D:\\{sha}.exe"
    tasksche = [
        r
        for r in records
        if r["subEvt"] == "start" and re.fullmatch(r"C:\\ProgramData\\[a-z]+\d+\\tasksche\.exe", r.get("psPath", ""))
    ]
    written = next(
        r for r in records if r["subEvt"] == "close" and r.get("new") == 1 and r["path"] == tasksche[0]["psPath"]
    )
    assert written["psGUID"] == dropper["psGUID"] and tasksche[0]["parentGUID"] == dropper["psGUID"]
    assert written["sha256"] == tasksche[0]["sha256"], "the started image is the written file"
    image = next(
        r
        for r in records
        if r["subEvt"] == "setVal" and r.get("entry") == "ImagePath" and "tasksche.exe" in r["valStr"]
    )
    assert re.fullmatch(r"HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\[a-z]+\d+", image["path"])
    assert any(r["parentPath"].endswith("services.exe") for r in tasksche)
    renames = [r for r in records if r["subEvt"] == "rename" and r["path"].endswith(".WNCRYT")]
    assert len(renames) >= 5 and all(r["dstPath"] == r["path"][:-1] for r in renames)
    originals = {r["dstPath"][: -len(".WNCRY")] for r in renames}
    assert originals <= {r["path"] for r in records if r["subEvt"] == "del"}, "the originals are deleted"
    commands = " | ".join(r["cmd"] for r in records if r["subEvt"] == "start" and "cmd" in r)
    for needle in (
        "vssadmin delete shadows /all /quiet",
        "wmic shadowcopy delete",
        "bcdedit /set {default} recoveryenabled no",
    ):
        assert needle in commands
    smb = [r for r in records if r["evt"] == "net" and r["psPath"] == dropper["psPath"] and r.get("dstPort") == 445]
    assert {"con", "dcon"} <= {r["subEvt"] for r in smb} and all(r["dstIP"].startswith("172.24.1.") for r in smb)


def test_olympic_destroyer_story() -> None:
    records, _ = scenario_records("olympic", host="PC4", header="plain")
    psexec = [r for r in records if r["subEvt"] == "start" and r["psPath"].endswith("\\_jsh.exe")]
    assert (
        psexec
        and '-u "PC4\\taro.yamada" -p "S0lit0n"' in psexec[0]["cmd"]
        and psexec[0]["signer"] == "Microsoft Corporation"
    )
    assert "TARO~1.YAM" in psexec[0]["cmd"]
    commands = " | ".join(r["cmd"] for r in records if r["subEvt"] == "start" and "cmd" in r)
    for needle in (
        "wevtutil.exe cl System",
        "vssadmin.exe delete shadows",
        "wbadmin.exe delete catalog",
        "bcdedit.exe /set {default}",
    ):
        assert needle in commands
    assert any(r["evt"] == "os" and r.get("evtID") == 1102 for r in records)


def test_script_sample_launches_encoded_powershell_and_injects_into_an_earlier_process() -> None:
    records, truth = scenario_records("script", sample_path="D:\\downloader.vbs")
    host = next(
        r
        for r in records
        if r["subEvt"] == "start" and r["psPath"].endswith("WScript.exe") and "downloader.vbs" in r["cmd"]
    )
    shell = next(r for r in records if r["subEvt"] == "start" and "-EncodedCommand" in r.get("cmd", ""))
    assert shell["parentGUID"] == host["psGUID"]
    decoded = base64.b64decode(shell["cmd"].rsplit(" ", 1)[1]).decode("utf-16-le")
    assert "DownloadString" in decoded
    injection = truth.relations_of("inject")[0]
    target = truth.process(injection.target_guid or "")
    assert target.start_sn is None or target.start_sn < injection.sn, "the target ran before the injection"


def test_macro_document_sample_runs_in_word() -> None:
    records, _ = scenario_records("script", sample_path="D:\\invoice.doc")
    assert any(r["subEvt"] == "enableMacro" and r["path"] == "D:\\invoice.doc" for r in records)
    assert any(r["subEvt"] == "start" and r["psPath"].endswith("WINWORD.EXE") for r in records)


def test_lateral_movement_arrives_from_the_peer() -> None:
    records, truth = scenario_records("lateral", host="PC2", peer="PC1", sample_path="C:\\Windows\\perfc.dat")
    login = next(r for r in records if r["subEvt"] == "loginR" and r.get("srcCom") == "PC1")
    assert login["srcIP"] == "172.24.1.1"
    assert any(
        r["subEvt"] == "start" and "perfc.dat" in r.get("cmd", "") and r["psPath"].endswith("rundll32.exe")
        for r in records
    )
    assert [relation.details["service"] for relation in truth.relations_of("service")] == ["PSEXESVC"]


# --- ground truth ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["wannacry", "dropper", "petya", "lateral"])
def test_ground_truth_matches_the_lines(scenario: str) -> None:
    records, truth = scenario_records(scenario, seed=21)
    by_sn = {record["sn"]: record for record in records}
    assert truth.complete and truth.lines == len(records) and sum(truth.kinds.values()) == len(records)
    for process in truth.processes:
        if process.start_sn is None:
            continue
        start = by_sn[process.start_sn]
        assert (start["evt"], start["subEvt"], start["psGUID"], start["psPath"]) == (
            "ps",
            "start",
            process.guid,
            process.path,
        )
        assert start.get("parentGUID") == process.parent_guid
        if process.stop_sn is not None:
            assert by_sn[process.stop_sn]["psGUID"] == process.guid and by_sn[process.stop_sn]["subEvt"] == "stop"
    assert truth.relations
    for relation in truth.relations:
        record = by_sn[relation.sn]
        if relation.kind in ("inject", "guard-inject"):
            assert (record["psGUID"], record["tpsGUID"]) == (relation.source_guid, relation.target_guid)
        else:
            assert (
                record["subEvt"] == "start"
                and record["psGUID"] == relation.target_guid
                and record["psPath"] == relation.path
            )
            evidence = by_sn[relation.evidence_sn or -1]
            if relation.kind == "wrote-then-ran":
                assert (
                    evidence["psGUID"] == relation.source_guid
                    and evidence["new"] == 1
                    and evidence["path"] == relation.path
                )
            else:
                assert evidence["entry"] == "ImagePath" and evidence["path"].endswith(
                    "\\" + relation.details["service"]
                )
                assert evidence["psGUID"] == relation.source_guid and record["parentPath"].endswith("services.exe")


def test_scenario_truth_is_the_truth_of_the_same_lines() -> None:
    truth = scenario_truth(seed=8, scenario="stonedrill", events=300)
    again = ScenarioTruth()
    list(generate_lines(seed=8, scenario="stonedrill", events=300, truth=again))
    assert truth == again and truth.relations_of("inject")


# --- log files ---------------------------------------------------------------------------------------------------


def test_write_log_line_ends_encodings_bom_and_eof_marker(tmp_path: Path) -> None:
    crlf = write_log(tmp_path / "crlf.log", seed=1, events=200)
    data = (tmp_path / "crlf.log").read_bytes()
    assert crlf.bytes == len(data) and data.count(b"\r\n") == crlf.lines and data.endswith(b"\r\n")
    assert data.decode("utf-8").splitlines() == list(generate_lines(seed=1, events=200))

    write_log(tmp_path / "lf.log", seed=1, events=200, newline="\n", bom=True, eof_marker=True)
    lf = (tmp_path / "lf.log").read_bytes()
    assert lf.startswith(b"\xef\xbb\xbf") and lf.endswith(b"\n\x1a") and b"\r" not in lf

    write_log(tmp_path / "sjis.log", seed=1, events=200, encoding="cp932")
    sjis = (tmp_path / "sjis.log").read_bytes()
    assert sjis.decode("cp932") == data.decode("utf-8")
    reader = open_log(io.BytesIO(sjis), "sjis.log", argparse.Namespace(encoding="cp932"))
    assert len(list(reader)) == crlf.lines and reader.stats["rejected"] == 0

    with pytest.raises(ValueError, match="newline"):
        write_log(tmp_path / "x.log", seed=1, newline="\r")


def test_write_log_to_a_size_target(tmp_path: Path) -> None:
    info = write_log(tmp_path / "big.log", seed=1, scenario="olympic", target_bytes=1_500_000, style="v3")
    assert 1_500_000 <= info.bytes == (tmp_path / "big.log").stat().st_size < 3_000_000
    lines = (tmp_path / "big.log").read_bytes().decode("utf-8").splitlines()
    assert len(lines) == info.lines
    read(lines[:2000])
    with pytest.raises(ValueError, match="truth"):
        write_log(tmp_path / "x.log", seed=1, target_bytes=10, truth=ScenarioTruth())


def test_default_start_is_in_the_dataset_period() -> None:
    assert DEFAULT_START.year == 2018 and DEFAULT_START.utcoffset() == timedelta(hours=9)
