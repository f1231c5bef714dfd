"""The ``ecs`` output against the ECS 8.11 field definitions (``ecs_flat.yml``), and the fields analysts pivot on."""

from __future__ import annotations

import argparse
import glob
import io
import ipaddress
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from mk2ds.plugins.records.ecs import EcsWriter, to_ecs
from mk2ds.plugins.records.ecs_mapping import ECS_VERSION, EVENT_CATEGORIES, UNKNOWN_EVENT, categories_of
from mk2ds.plugins.synthetic import write_sample

DATA = Path(__file__).parents[2] / "data"
DEFINITIONS = DATA / "ecs" / f"ecs_flat_{ECS_VERSION}_subset.yml"
TIME = "2018-03-05T10:12:03.114+09:00"

#: Every evt/subEvt pair of the format notes' event table (mk2-format §4.1), plus ``open``.
FORMAT_NOTES_KINDS: dict[str, tuple[str, ...]] = {
    "sys": ("start", "stop", "run", "chgConf", "outDsk", "startRed", "stopRed", "suspendLog", "resumeLog", "restart", "suspendPSMon", "resumePSMon"),
    "os": ("startSafemode", "stopSafemode", "suspend", "resume", "chgDate", "evtLog", "start", "stop"),
    "dev": ("mnt", "unMnt", "mntd", "con", "dcon"),
    "session": ("login", "loginFail", "loginR", "loginRFail", "logout", "lock", "unlock", "conR", "dconR", "startSCR", "stopSCR"),
    "ps": ("start", "stop", "run", "inject", "guardInject"),
    "file": (
        "close", "del", "rename", "copy", "chgAttr", "delDir", "renameDir", "impWPD", "expWPD", "renameWPD", "delWPD",
        "download", "unblock", "enableMacro", "upload", "create", "createDir", "open",
    ),
    "reg": ("setVal", "delKey", "delVal", "renameKey", "create", "open"),
    "prt": ("create",),
    "win": ("active", "inactive", "psActive", "psInactive", "open"),
    "clip": ("paste", "copy"),
    "net": ("con", "acpt", "dcon", "lsn", "webURL", "chgSSID", "dnsQuery", "mailSend", "mailRecv", "login", "est", "openUDP", "open"),
    "wmi": ("psCreate",),
    "powerShell": ("exec",),
    "windowsDefender": (
        "dtctMalState", "scnComplete", "scnCancel", "scnFail", "qrtnRestore", "qrtnRestoreFail", "qrtnDel", "qrtnDelFail",
        "malStateActTaken", "malStateActFail", "malStateActCritFail", "ASRBlock", "ASRAudit", "sigUpdate", "sigUpdateFail",
        "engUpdate", "engUpdateFail", "chgConf", "smartScrnApp", "smartScrnUri", "smartScrnUsr",
    ),
}  # fmt: skip


@cache
def definitions() -> dict[str, dict[str, Any]]:
    with open(DEFINITIONS, encoding="utf-8") as handle:
        loaded: dict[str, dict[str, Any]] = yaml.safe_load(handle)
    return loaded


def _leaves(document: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in document.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _type_problem(kind: str, value: Any) -> str | None:
    if kind in ("keyword", "wildcard", "match_only_text", "text", "constant_keyword"):
        return None if isinstance(value, str) else "not text"
    if kind == "long":
        return None if type(value) is int and -(2**63) <= value < 2**63 else "not a long"
    if kind == "boolean":
        return None if isinstance(value, bool) else "not a boolean"
    if kind == "ip":
        try:
            ipaddress.ip_address(value)
        except (TypeError, ValueError):
            return "not an IP address"
        return None
    if kind == "date":
        try:
            parsed = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return "not an ISO 8601 date"
        return None if parsed.tzinfo is not None else "a date without offset"
    return f"type {kind} not handled by this validator"


def ecs_problems(document: Mapping[str, Any]) -> list[str]:
    """Every way ``document`` breaks the ECS field definitions; ``mk2.*`` is our own custom field set."""
    fields = definitions()
    problems: list[str] = []
    for name, value in _leaves(document):
        if name.startswith("mk2."):
            continue
        definition = fields.get(name)
        if definition is None:
            problems.append(f"{name}: not an ECS {ECS_VERSION} field")
            continue
        is_array = "array" in (definition.get("normalize") or [])
        if isinstance(value, list) != is_array:
            problems.append(f"{name}: {'must' if is_array else 'must not'} be an array")
        for item in value if isinstance(value, list) else [value]:
            problem = _type_problem(definition["type"], item)
            if problem:
                problems.append(f"{name}: {item!r} is {problem}")
            allowed = [entry["name"] for entry in definition.get("allowed_values") or []] or definition.get(
                "expected_values"
            )
            if allowed and item not in allowed:
                problems.append(f"{name}: {item!r} is not an allowed value")
    problems.extend(_categorization_problems(document.get("event", {})))
    return problems


def _categorization_problems(event: Mapping[str, Any]) -> list[str]:
    expected = {
        entry["name"]: entry["expected_event_types"] for entry in definitions()["event.category"]["allowed_values"]
    }
    problems = []
    if not event.get("category") or not event.get("type"):
        problems.append("event.category/event.type missing")
    for category in event.get("category", []):
        for kind in event.get("type", []):
            if kind not in expected.get(category, []):
                problems.append(f"event.type {kind!r} is not one ECS expects for event.category {category!r}")
    return problems


def convert_ecs(run_cli: Callable[..., Any], source: Path, output: Path, *options: str) -> list[dict[str, Any]]:
    result = run_cli("convert", source, "-o", output, "--format", "ecs", "--quiet", *options)
    assert result.code in (0, 1), result.err
    paths = [output] if output.is_file() else sorted(output.rglob("*.ndjson"))
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------------------------------------- definitions


def test_the_validator_catches_what_ecs_refuses() -> None:
    good = to_ecs({"time": TIME, "sn": 1, "evt": "net", "subEvt": "con", "srcIP": "10.0.0.1", "dstPort": 445})
    assert ecs_problems(good) == []
    broken = [
        {**good, "source": {"ip": "10.0.0.1", "bytes": "12"}},
        {**good, "event": {**good["event"], "category": ["registry"]}},
        {**good, "event": {**good["event"], "type": "start"}},
        {**good, "process": {"code_signature": {"status": "Valid", "valid": "yes"}}},
        {**good, "file": {"created": "03/05/2018 10:12:03.114"}},
        {**good, "network": {"direction": "outgoing"}},
        {**good, "procces": {"pid": 1}},
    ]
    for document in broken:
        assert ecs_problems(document), document


def test_every_event_kind_is_categorized_with_allowed_values() -> None:
    for event, subevents in FORMAT_NOTES_KINDS.items():
        assert event in EVENT_CATEGORIES
        for subevent in subevents:
            document = to_ecs({"time": TIME, "sn": 1, "evt": event, "subEvt": subevent})
            assert ecs_problems(document) == [], (event, subevent)
    assert categories_of("noSuchEvt", "x") == UNKNOWN_EVENT
    assert ecs_problems(to_ecs({"time": TIME, "sn": 1, "evt": "noSuchEvt", "subEvt": "x"})) == []
    for table in EVENT_CATEGORIES.values():
        for categories, types in table.values():
            assert _categorization_problems({"category": list(categories), "type": list(types)}) == []


def test_windows_logon_events_are_authentication() -> None:
    failed = to_ecs({"time": TIME, "sn": 1, "evt": "os", "subEvt": "evtLog", "evtID": 4625})["event"]
    assert (failed["category"], failed["type"], failed["outcome"]) == (["authentication"], ["start"], "failure")
    defender = to_ecs({"time": TIME, "sn": 1, "evt": "windowsDefender", "subEvt": "scnFail"})["event"]
    assert defender["category"] == ["malware"] and defender["outcome"] == "failure"


def test_every_document_of_every_committed_and_sample_log_passes(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    documents = []
    with open(DATA / "outputs" / "records.jsonl", encoding="utf-8") as handle:
        documents += [to_ecs(json.loads(line)) for line in handle]
    for log in sorted((DATA / "mk2log").glob("*.log")):
        documents += convert_ecs(
            run_cli, log, tmp_path / f"{log.stem}.ndjson", "--ecs-original", "--assume-offset", "+0900"
        )
    distribution = write_sample(tmp_path / "sample", samples=6, seed=5, events_per_log=60)
    documents += convert_ecs(run_cli, distribution.root / "MK2Log", tmp_path / "sample-ecs", "--provenance")
    assert len(documents) > 1000
    problems = {problem for document in documents for problem in ecs_problems(document)}
    assert problems == set()
    assert all(document["event"].get("category") for document in documents)


# ---------------------------------------------------------------------------------------------- fields


def test_observer_and_related() -> None:
    record = {
        "time": TIME, "sn": 1, "evt": "ps", "subEvt": "start", "ip": "172.24.1.12,fe80::1", "psUser": "taro",
        "sha256": "a" * 64, "md5": "b" * 32, "sig": "Valid", "signer": "Microsoft Windows",
    }  # fmt: skip
    document = to_ecs(record)
    assert document["observer"] == {"vendor": "Soliton Systems", "product": "InfoTrace Mark II"}
    assert document["related"] == {"ip": ["172.24.1.12", "fe80::1"], "user": ["taro"], "hash": ["b" * 32, "a" * 64]}
    assert document["process"]["code_signature"] == {
        "exists": True,
        "valid": True,
        "trusted": True,
        "subject_name": "Microsoft Windows",
    }
    unsigned = to_ecs({**record, "sig": "NotSigned"})["process"]["code_signature"]
    assert unsigned["exists"] is False and "status" not in unsigned
    odd = to_ecs({**record, "sig": "Whatever"})
    assert odd["mk2"]["sig"] == "Whatever" and "status" not in odd["process"]["code_signature"]


def test_an_accepted_connection_puts_the_peer_in_source_with_its_bytes() -> None:
    base = {"sn": 1, "evt": "net", "com": "PC1", "srcPort": 50211, "dstPort": 445}
    accepted = {**base, "time": TIME, "subEvt": "acpt", "srcIP": "172.24.1.12", "dstIP": "172.24.1.11"}
    closed = {
        **base, "time": TIME, "subEvt": "dcon", "srcIP": "172.24.1.11", "srcPort": 445, "dstIP": "172.24.1.12",
        "dstPort": 50211, "recv": 391224, "send": 4829,
    }  # fmt: skip
    stream = io.BytesIO()
    writer = EcsWriter(stream, None)
    for record in (accepted, closed):
        writer.write(record)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["network"] == {"transport": "tcp", "type": "ipv4", "direction": "ingress"}
    assert second["network"]["direction"] == "ingress"
    assert second["source"] == {"ip": "172.24.1.12", "port": 50211, "bytes": 391224}
    assert second["destination"] == {"ip": "172.24.1.11", "port": 445, "bytes": 4829}
    alone = to_ecs(closed)  # without the acpt: the terminal connected out
    assert alone["network"]["direction"] == "egress" and alone["source"]["bytes"] == 4829
    assert to_ecs({**base, "time": TIME, "subEvt": "openUDP", "port": 53})["network"] == {"transport": "udp"}


def test_the_ecs_output_is_not_split_into_byte_ranges(pm: Any) -> None:
    """A dcon's direction depends on an earlier acpt: converting a log in pieces would change the answer."""
    from mk2ds.core.registry import find_output
    from mk2ds.plugins.convert.engine import output_concatenates

    assert not output_concatenates(find_output(pm, "records", "ecs"), argparse.Namespace())
    assert output_concatenates(find_output(pm, "records", "jsonl"), argparse.Namespace())


def test_file_and_process_times_are_dates_with_the_records_offset() -> None:
    record = {
        "time": "2018-03-05T10:15:02.331", "sn": 1, "evt": "file", "subEvt": "close", "path": "C:\\a.xlsx",
        "sTime": "03/05/2018 10:14:58.102", "crTime": "02/27/2018 17:40:11.530", "acTime": "03/05/2018 10:14:58.102",
        "moTime": "13/01/2018 09:02:44.918",
    }  # fmt: skip
    document = to_ecs(record, "+09:00")
    assert document["file"]["created"] == "2018-02-27T17:40:11.530+09:00"
    assert document["file"]["accessed"] == "2018-03-05T10:14:58.102+09:00"
    assert document["event"]["start"] == "2018-03-05T10:14:58.102+09:00"
    assert "mtime" not in document["file"] and document["mk2"]["moTime"] == "13/01/2018 09:02:44.918"  # no 13th month
    stop = to_ecs({"time": TIME, "sn": 2, "evt": "ps", "subEvt": "stop", "sTime": "03/05/2018 10:12:04.530"})
    assert stop["process"]["start"] == "2018-03-05T10:12:04.530+09:00"


@pytest.mark.parametrize(
    ("path", "entry", "hive", "key", "full"),
    [
        ("HKCU\\Software\\X", "Run", "HKCU", "Software\\X", "HKCU\\Software\\X\\Run"),
        ("\\REGISTRY\\MACHINE\\SOFTWARE\\X", "v", "HKLM", "SOFTWARE\\X", "HKLM\\SOFTWARE\\X\\v"),
        ("\\REGISTRY\\USER\\S-1-5-21-1\\Software", "v", "HKU", "S-1-5-21-1\\Software", "HKU\\S-1-5-21-1\\Software\\v"),
        ("HKEY_LOCAL_MACHINE\\SYSTEM\\S", "", "HKLM", "SYSTEM\\S", "HKLM\\SYSTEM\\S\\(Default)"),
    ],
)
def test_registry_paths_in_every_form(path: str, entry: str, hive: str, key: str, full: str) -> None:
    record = {
        "time": TIME,
        "sn": 1,
        "evt": "reg",
        "subEvt": "setVal",
        "path": path,
        "entry": entry,
        "valType": "REG_SZ",
        "valStr": "x",
    }
    registry = to_ecs(record)["registry"]
    assert (registry["hive"], registry["key"], registry["path"]) == (hive, key, full)
    assert registry["value"] == (entry or "(Default)")


def test_host_os_from_sysinfo_and_the_original_line(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    distribution = write_sample(tmp_path / "sample", samples=6, seed=5, events_per_log=60)
    sample = next(
        path.parent
        for path in map(Path, glob.glob(str(distribution.root / "Sysinfo" / "*" / "systeminfo.txt")))
        if path.stat().st_size
    )
    log = distribution.root / "MK2Log" / "30m" / f"{sample.name}.log"
    documents = convert_ecs(
        run_cli, log, tmp_path / "a.ndjson", "--sysinfo", sample / "systeminfo.txt", "--ecs-original"
    )
    lines = log.read_bytes().decode("utf-8").splitlines()
    assert [document["event"]["original"] for document in documents] == lines
    host = next(document for document in documents if document["host"].get("name"))["host"]
    assert (
        host["os"]["type"] == "windows"
        and host["os"]["name"].startswith("Windows")
        and host["os"]["version"].count(".") == 2
    )
    assert all("_quoted" not in document.get("mk2", {}) for document in documents)
    assert all(ecs_problems(document) == [] for document in documents)
    other = to_ecs(
        {"time": TIME, "sn": 1, "evt": "ps", "subEvt": "start", "com": "OTHER"},
        host_os={"host_name": "PC1", "os_name": "Microsoft Windows 10 Pro"},
    )
    assert "os" not in other.get("host", {})
    with pytest.raises(SystemExit) as stopped:
        run_cli("convert", log, "-o", tmp_path / "b.ndjson", "--format", "ecs", "--sysinfo", log)
    assert stopped.value.code == 2


def test_the_writer_options_are_optional() -> None:
    stream = io.BytesIO()
    writer = EcsWriter(stream, None)
    writer.write({"time": TIME, "sn": 1, "evt": "ps", "subEvt": "start"})
    assert "original" not in json.loads(stream.getvalue())["event"]
    assert argparse.Namespace().__dict__ == {}


# ---------------------------------------------------------------------------------------------- host.os in dataset context

WINDOWS_7 = ("Microsoft Windows 7 Enterprise", "6.1.7601 Service Pack 1 ビルド 7601")


def _by_log(output: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        path.relative_to(output).with_suffix("").as_posix(): [
            json.loads(line) for line in path.read_text("utf-8").splitlines()
        ]
        for path in sorted(output.rglob("*.ndjson"))
    }


def _os_of(documents: list[dict[str, Any]]) -> set[tuple[str | None, str | None]]:
    """The distinct ``(host.os.name, host.os.version)`` of a log's documents (``(None, None)``: no host.os)."""
    found = set()
    for document in documents:
        os_fields = document.get("host", {}).get("os", {})
        found.add((os_fields.get("name"), os_fields.get("version")))
    return found


def test_host_os_comes_from_each_samples_sysinfo_in_dataset_context(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Without --sysinfo, a log read as part of a distribution gets host.os from its own sample's Sysinfo; a
    sample whose Sysinfo is empty gets none; a log naming no sample gets the OS all Sysinfo files agree on."""
    root = write_sample(tmp_path / "sample", samples=6, seed=5, events_per_log=40).root
    sysinfo = {path.parent.name: path for path in (root / "Sysinfo").glob("*/systeminfo.txt")}
    empty = {sha for sha, path in sysinfo.items() if not path.stat().st_size}
    assert empty and len(empty) < len(sysinfo)  # the generator blocks one sample's Sysinfo

    def sample_of(log: str) -> str | None:
        name = log.rsplit("/", 1)[-1]
        return name if name in sysinfo else None

    windows_10 = {("Windows 10 Pro", "10.0.14393")}
    convert_ecs(run_cli, root / "MK2Log", tmp_path / "inside")  # inside the distribution, no --dataset
    inside = _by_log(tmp_path / "inside")
    assert len(inside) > 10
    for log, documents in inside.items():
        assert _os_of(documents) == ({(None, None)} if sample_of(log) in empty else windows_10), log
        assert all(ecs_problems(document) == [] for document in documents), log
    full = inside["Normal/PC1"][0]["host"]["os"]
    assert full["full"] == "Microsoft Windows 10 Pro 10.0.14393 N/A ビルド 14393" and full["type"] == "windows"

    # One PC ran Windows 7: its logs say so, the others keep theirs, and a log naming no sample gets nothing
    # (the Sysinfo files no longer agree).
    changed = sorted(set(sysinfo) - empty)[0]
    text = sysinfo[changed].read_bytes().decode("cp932")
    text = text.replace("Microsoft Windows 10 Pro", WINDOWS_7[0]).replace("10.0.14393 N/A ビルド 14393", WINDOWS_7[1])
    sysinfo[changed].write_bytes(text.encode("cp932"))
    convert_ecs(run_cli, root / "MK2Log", tmp_path / "given", "--dataset", root)
    given = _by_log(tmp_path / "given")
    assert given.keys() == inside.keys()
    for log, documents in given.items():
        sample = sample_of(log)
        expected = windows_10 if sample and sample not in empty else {(None, None)}
        if sample == changed:
            expected = {("Windows 7 Enterprise", "6.1.7601")}
        assert _os_of(documents) == expected, log
        assert all(ecs_problems(document) == [] for document in documents), log
    assert any(sample_of(log) == changed for log in given) and any(sample_of(log) is None for log in given)

    # The same with -j 2 (jobs in worker processes), and for a copy outside the distribution with --dataset.
    convert_ecs(run_cli, root / "MK2Log", tmp_path / "parallel", "--dataset", root, "-j", "2")
    assert _by_log(tmp_path / "parallel") == given
    outside = tmp_path / f"{changed}.log"
    outside.write_bytes((root / "MK2Log" / "30m" / f"{changed}.log").read_bytes())
    assert _os_of(convert_ecs(run_cli, outside, tmp_path / "out.ndjson", "--dataset", root)) == {
        ("Windows 7 Enterprise", "6.1.7601")
    }
    assert _os_of(convert_ecs(run_cli, outside, tmp_path / "alone.ndjson")) == {(None, None)}
    with_offset = convert_ecs(
        run_cli, outside, tmp_path / "offset.ndjson", "--dataset", root, "--assume-offset", "+0900"
    )
    assert _os_of(with_offset) == {("Windows 7 Enterprise", "6.1.7601")}  # the user's offset does not stop the lookup

    # --sysinfo FILE, given by the user, wins over the sample's Sysinfo.
    host = given[f"30m/{changed}"][0]["host"]["name"]
    explicit = tmp_path / "systeminfo.txt"
    explicit.write_text(f"Host Name: {host}\nOS Name: Microsoft Windows 8.1 Pro\nOS Version: 6.3.9600 N/A Build 9600\n")
    documents = convert_ecs(
        run_cli, root / "MK2Log" / "30m" / f"{changed}.log", tmp_path / "explicit.ndjson", "--sysinfo", explicit
    )
    assert _os_of(documents) == {("Windows 8.1 Pro", "6.3.9600")}
