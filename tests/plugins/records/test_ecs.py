"""The ``ecs`` record output: schema-valid documents, the mapping table, nothing lost, golden file."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest

from mk2ds.core.outputs import open_record_writer
from mk2ds.core.registry import find_output
from mk2ds.core.schemas import load_schema, validate_document
from mk2ds.plugins.records.ecs import mapping_text, to_ecs
from mk2ds.plugins.records.ecs_enrich import TIME_RULES
from mk2ds.plugins.records.ecs_mapping import RULES, mapping_rows

DATA = Path(__file__).parents[2] / "data" / "outputs"
GOLDEN = Path(__file__).parents[2] / "golden" / "outputs"


def load_records() -> list[dict[str, Any]]:
    with open(DATA / "records.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def render_text(pm: pluggy.PluginManager, records: Iterable[Mapping[str, Any]], **options: Any) -> str:
    stream = io.BytesIO()
    writer = open_record_writer(find_output(pm, "records", "ecs"), stream, argparse.Namespace(**options))
    for record in records:
        writer.write(record)
    writer.close()
    return stream.getvalue().decode("utf-8")


def flatten(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, Mapping) and key != "mk2":
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_every_document_validates_against_the_ecs_subset_schema(pm: pluggy.PluginManager) -> None:
    lines = render_text(pm, load_records()).splitlines()
    assert len(lines) == 44
    for line in lines:
        assert validate_document(json.loads(line), "ecs-subset") == []


def test_the_schema_rejects_what_ecs_does_not_allow() -> None:
    good = to_ecs({"time": "2018-03-05T10:12:03.114+09:00", "evt": "net", "subEvt": "con", "srcIP": "10.0.0.1"})
    assert validate_document(good, "ecs-subset") == []
    for broken in (
        {**good, "source": {"ip": "not-an-ip"}},
        {**good, "event": {**good["event"], "category": ["processes"]}},
        {**good, "process": {"pid": "12"}},
        {**good, "procces": {"pid": 12}},
        {key: value for key, value in good.items() if key != "@timestamp"},
    ):
        assert validate_document(broken, "ecs-subset") != []


def test_every_mapped_field_is_declared_in_the_schema() -> None:
    schema = load_schema("ecs-subset")
    targets = {rule.target for rule in RULES} | {"registry.hive", "registry.path"}
    targets |= {row[1] for row in mapping_rows() if "<" not in row[1]}
    for target in sorted(targets):
        node: Mapping[str, Any] = schema
        for part in target.split("."):
            assert part in node.get("properties", {}), f"{target} is not in ecs-subset.schema.json"
            node = node["properties"][part]


def test_process_start_fields() -> None:
    record = load_records()[0]
    document = flatten(to_ecs(record))
    assert document["@timestamp"] == "2018-03-05T10:12:03.114+09:00"
    assert document["event.sequence"] == 2101
    assert document["event.category"] == ["process"] and document["event.type"] == ["start"]
    assert document["event.action"] == "start" and document["event.dataset"] == "mk2.ps"
    assert document["process.entity_id"] == record["psGUID"]
    assert document["process.parent.entity_id"] == record["parentGUID"]
    assert document["process.executable"] == "C:\\Windows\\System32\\cmd.exe"
    assert document["process.name"] == "cmd.exe"
    assert document["process.command_line"] == record["cmd"]
    assert document["process.pid"] == 4312
    assert document["host.name"] == "PC2"
    assert document["message"].startswith("ps start C:\\Windows\\System32\\cmd.exe (parent explorer.exe)")


def test_registry_fields() -> None:
    record = next(r for r in load_records() if r.get("subEvt") == "setVal" and "valStr" in r)
    document = to_ecs(record)["registry"]
    assert document["hive"] == "HKCU"
    assert document["key"] == "Software\\Microsoft\\Windows\\CurrentVersion\\Run"
    assert document["value"] == "SvcUpdate"
    assert document["path"] == "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\SvcUpdate"
    assert document["data"] == {"type": "REG_SZ", "strings": [record["valStr"]]}


def test_network_and_hash_fields_depend_on_the_event_kind() -> None:
    records = load_records()
    dcon = flatten(to_ecs(next(r for r in records if r.get("subEvt") == "dcon")))
    assert (dcon["source.ip"], dcon["source.port"], dcon["destination.port"]) == ("172.24.1.12", 50211, 445)
    assert (dcon["source.bytes"], dcon["destination.bytes"]) == (391224, 4829)
    closed = flatten(to_ecs(next(r for r in records if r.get("subEvt") == "close" and "sha256" in r)))
    assert "file.hash.sha256" in closed and "process.hash.sha256" not in closed
    assert closed["file.size"] == 2211 and closed["file.name"] == "a.ps1"
    started = flatten(to_ecs(next(r for r in records if r.get("subEvt") == "start" and "sha256" in r)))
    assert "process.hash.sha256" in started and "file.hash.sha256" not in started


def test_no_value_markers_and_bad_addresses_stay_under_mk2() -> None:
    record = {
        "time": "2018-03-05T09:01:16.003+09:00",
        "evt": "session",
        "subEvt": "loginR",
        "usr": "PC1$",
        "srcCom": "-",
        "srcIP": "::1",
        "srcPort": "-",
        "evtDomain": "",
        "dstIP": "x",
    }
    document = to_ecs(record)
    assert document["source"] == {"ip": "::1"}
    # an integer field keeps one type: the marker is absent from mk2.srcPort, its text in mk2.srcPort_raw
    assert document["mk2"] == {"srcCom": "-", "srcPort_raw": "-", "evtDomain": "", "dstIP": "x"}


def test_integers_beyond_long_are_text_under_mk2() -> None:
    record = {
        "time": "2018-03-05T09:01:16.003+09:00",
        "sn": 2**63,
        "evt": "reg",
        "subEvt": "setVal",
        "valNum": 2**64 - 1,
        "size": -(2**63) - 1,
    }
    document = to_ecs(record)
    assert "sequence" not in document["event"] and "size" not in flatten(document).get("file", {})
    assert document["mk2"]["sn_raw"] == str(2**63)
    assert document["registry"]["data"]["strings"] == [str(2**64 - 1)]  # a REG_QWORD: registry data is text in ECS
    assert document["mk2"]["size_raw"] == str(-(2**63) - 1)
    assert not [
        value for value in flatten(document).values() if isinstance(value, int) and not -(2**63) <= value < 2**63
    ]


def test_every_record_value_survives(pm: pluggy.PluginManager) -> None:
    """Each Mark II key is either under mk2 unchanged or mapped by a primary rule that applied."""
    for record in load_records():
        document = to_ecs(record)
        flat = flatten(document)
        for key, value in record.items():
            if key == "time":
                continue
            if key in document.get("mk2", {}):
                assert document["mk2"][key] == value
                continue
            if key + "_raw" in document.get("mk2", {}):
                assert document["mk2"][key + "_raw"] == str(value)
                continue
            targets = [rule.target for rule in RULES if rule.source == key and not rule.derived]
            targets += {"evt": ["event.dataset"], "subEvt": ["event.action"]}.get(key, [])
            targets += [target for source, target, _ in TIME_RULES if source == key]
            found = any(target in flat or any(field.startswith(target + ".") for field in flat) for target in targets)
            assert found, f"{key} of sn={record.get('sn')} is lost"


def test_zone_less_time_is_flagged() -> None:
    document = to_ecs({"time": "2018-03-27T19:44:53.926", "sn": 1})
    assert document["@timestamp"] == "2018-03-27T19:44:53.926+00:00"
    assert document["mk2"] == {"time_zone_assumed": "+00:00"}
    assert to_ecs({"time": "2018-03-27T19:44:53.926"}, "+09:00")["@timestamp"].endswith("+09:00")
    resolved = to_ecs(
        {"time": "2018-03-27T19:44:53.926", "time_offset": "+09:00", "time_offset_source": "sysinfo", "sn": 1}
    )
    assert resolved["@timestamp"] == "2018-03-27T19:44:53.926+09:00"
    assert resolved["mk2"] == {"time_offset": "+09:00", "time_offset_source": "sysinfo"}
    assert resolved["event"]["timezone"] == "+09:00"  # ECS: the zone of a timestamp that had none
    assert "timezone" not in to_ecs({"time": "2018-03-27T19:44:53.926+09:00", "sn": 1}).get("event", {})
    assert "timezone" not in to_ecs({"time": "2018-03-27T19:44:53.926", "sn": 1}).get("event", {})  # unknown


def test_provenance_fields() -> None:
    document = to_ecs({"time": "2018-03-05T10:12:03.114+09:00", "_file": "MK2Log/a.log", "_line": 3})
    assert document["log"] == {"file": {"path": "MK2Log/a.log"}}
    assert document["mk2"] == {"_line": 3}
    assert validate_document(document, "ecs-subset") == []


def test_mapping_command(run_cli: Callable[..., Any]) -> None:
    result = run_cli("ecs-mapping")
    assert result.code == 0
    assert result.out == mapping_text()
    assert "psGUID" in result.out and "process.entity_id" in result.out
    rows = json.loads(run_cli("ecs-mapping", "--json").out)
    assert {"mk2": "sn", "ecs": "event.sequence", "events": "all", "note": "record sequence number"} in rows
    assert len(rows) == len(mapping_rows())


def test_show_mapping_option_prints_and_exits(pm: pluggy.PluginManager, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="mk2ds convert")
    parser.add_argument("inputs", nargs="+")
    find_output(pm, "records", "ecs").add_options(parser)
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args(["--show-mapping"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == mapping_text()
    assert not hasattr(parser.parse_args(["x.log"]), "show_mapping")


def test_golden(pm: pluggy.PluginManager, golden: Callable[[Path, str], None]) -> None:
    golden(GOLDEN / "ecs.ndjson", render_text(pm, load_records()))
