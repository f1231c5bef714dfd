"""The process model against generated record streams whose true tree is known.

The generator builds random forests of processes on two hosts (the second host reuses the first host's GUIDs
for different processes), with parents that never start, processes that never stop, activity of every kind,
``open`` events, and injections into earlier processes; then shuffles the lines. The model must recover the
exact tree whatever the line order.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mk2ds.core.schemas import validate_document
from mk2ds.plugins.tree.model import ProcessModel, build_model, summarize

Key = tuple[str, str]
BASE = 1_519_901_400.0  # 2018-03-01T19:50:00+09:00
ACTIVITY = ("file/close", "file/create", "file/del", "reg/setVal", "reg/delVal", "net/con", "net/dcon", "win/active")


def iso(epoch: float) -> str:
    from datetime import datetime, timedelta, timezone

    zone = timezone(timedelta(hours=9))
    return datetime.fromtimestamp(epoch, zone).isoformat(timespec="milliseconds")


def guid(rng: random.Random) -> str:
    text = f"{rng.getrandbits(128):032X}"
    return f"{{{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}}}"


@dataclass
class Truth:
    """What the model must find."""

    parent: dict[Key, Key | None] = field(default_factory=dict)
    start: dict[Key, float] = field(default_factory=dict)
    stop: dict[Key, float] = field(default_factory=dict)
    counts: dict[Key, Counter[str]] = field(default_factory=dict)
    opens: Counter[Key] = field(default_factory=Counter)
    injections: dict[tuple[Key, Key], list[int]] = field(default_factory=dict)
    placeholders: set[Key] = field(default_factory=set)

    def descendants(self, key: Key) -> int:
        children: dict[Key, list[Key]] = {}
        for child, parent in self.parent.items():
            if parent is not None:
                children.setdefault(parent, []).append(child)
        total, stack = 0, list(children.get(key, []))
        while stack:
            node = stack.pop()
            total += 1
            stack.extend(children.get(node, []))
        return total


def random_forest(
    seed: int, processes: int = 40, hosts: tuple[str, ...] = ("PC1", "PC2")
) -> tuple[list[dict[str, Any]], Truth]:
    rng = random.Random(seed)
    truth = Truth()
    records: list[dict[str, Any]] = []
    guids = [guid(rng) for _ in range(processes)]
    for host in hosts:
        sn = 0
        events: list[tuple[float, dict[str, Any]]] = []
        started: list[Key] = []
        for index in range(processes):
            key = (host, guids[index])  # the same GUIDs on every host: different processes
            start = BASE + index * 2.0 + rng.random()
            truth.start[key] = start
            path = f"C:\\Programs\\p{index}.exe"
            record: dict[str, Any] = {
                "evt": "ps",
                "subEvt": "start",
                "com": host,
                "psGUID": key[1],
                "psPath": path,
                "cmd": f"{path} /run",
            }
            choice = rng.random()
            if started and choice < 0.75:
                parent = rng.choice(started)
                record["parentGUID"], record["parentPath"] = parent[1], f"C:\\parent-of-{index}.exe"
                truth.parent[key] = parent
            elif choice < 0.92:
                missing = (host, guid(rng))  # a parent that never starts
                record["parentGUID"], record["parentPath"] = missing[1], "C:\\Windows\\explorer.exe"
                truth.parent[key] = missing
                truth.placeholders.add(missing)
            else:
                truth.parent[key] = None  # no parent reference at all
            events.append((start, record))
            stop = start + 1.0 + rng.random() * 50 if rng.random() < 0.7 else None
            if stop is not None:
                truth.stop[key] = stop
                events.append((stop, {"evt": "ps", "subEvt": "stop", "com": host, "psGUID": key[1], "psPath": path}))
            counts: Counter[str] = Counter()
            for _ in range(rng.randrange(0, 8)):
                kind = rng.choice(ACTIVITY + ("file/open", "reg/open"))
                evt, sub = kind.split("/")
                event = {
                    "evt": evt,
                    "subEvt": sub,
                    "com": host,
                    "psGUID": key[1],
                    "psPath": path,
                    "path": f"C:\\data\\{rng.randrange(99)}.txt",
                }
                if kind == "file/close":
                    event.update(read=10, write=rng.randrange(0, 3), new=0)
                if evt == "net":
                    event.update(
                        srcIP="10.0.0.1",
                        srcPort=50000,
                        dstIP=f"10.0.0.{rng.randrange(2, 9)}",
                        dstPort=rng.choice([80, 445, 8080]),
                    )
                events.append((start + 0.5 + rng.random(), event))
                if sub == "open":
                    truth.opens[key] += 1
                else:
                    counts[kind] += 1
            if started and rng.random() < 0.2:
                target = rng.choice(started)  # injection into an earlier process
                sub = rng.choice(["inject", "guardInject"])
                event = {
                    "evt": "ps",
                    "subEvt": sub,
                    "com": host,
                    "psGUID": key[1],
                    "psPath": path,
                    "api": "OpenProcess",
                    "tpsGUID": target[1],
                }
                events.append((start + 0.9, event))
                counts[f"ps/{sub}"] += 1
                truth.injections.setdefault((key, target), []).append(-1)  # sn filled below
            truth.counts[key] = counts
            started.append(key)
        events.sort(key=lambda item: item[0])
        for when, record in events:
            sn += 1
            records.append({"time": iso(when), "sn": sn, **record})
            if record["subEvt"] in ("inject", "guardInject"):
                pair = ((host, record["psGUID"]), (host, record["tpsGUID"]))
                truth.injections[pair] = [value for value in truth.injections[pair] if value != -1] + [sn]
        records.append({"time": iso(BASE), "sn": sn + 1, "evt": "session", "subEvt": "logout", "com": host})
    rng.shuffle(records)
    return records, truth


def ident(key: Key) -> str:
    return f"{key[0]}|{key[1]}"


def check_model(model: ProcessModel, truth: Truth, all_events: bool = False) -> None:
    nodes = {node.id: node for node in model.preorder()}
    observed = {node_id for node_id, node in nodes.items() if node.observed}
    assert observed == {ident(key) for key in truth.parent}
    assert {node_id for node_id, node in nodes.items() if not node.observed} == {
        ident(key) for key in truth.placeholders
    }
    for key, parent in truth.parent.items():
        node = nodes[ident(key)]
        assert (node.parent.id if node.parent else None) == (ident(parent) if parent else None), key
        expected = Counter(truth.counts[key])
        if not all_events:
            assert node.counts == dict(expected)
            assert node.open_skipped == truth.opens[key]
        else:
            assert sum(node.counts.values()) == sum(expected.values()) + truth.opens[key]
        if key in truth.stop:
            assert node.lifetime == pytest.approx(truth.stop[key] - truth.start[key], abs=0.002)
        else:
            assert node.lifetime is None and node.stop is None
        assert node.descendants == truth.descendants(key)
    for key in truth.placeholders:
        assert nodes[ident(key)].placeholder == "parent-reference"
    missing = {node.id for node in model.missing_parents()}
    assert missing == {
        ident(key) for key, parent in truth.parent.items() if parent is None or parent in truth.placeholders
    }
    injections = {
        (rel.source.id, rel.target.id): sorted(rel.evidence)
        for rel in model.relations.relations
        if rel.kind == "injection"
    }
    assert injections == {(ident(a), ident(b)): sorted(sns) for (a, b), sns in truth.injections.items()}
    assert not [rel for rel in model.relations.relations if rel.kind != "injection"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_forest_with_shuffled_lines_gives_the_true_tree(seed: int) -> None:
    records, truth = random_forest(seed)
    model = build_model(records)
    check_model(model, truth)
    assert model.records == len(records)
    assert model.without_process == {"session/logout": 2}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 25))
def test_any_line_order_gives_the_same_tree(seed: int, size: int) -> None:
    records, truth = random_forest(seed, processes=size)
    check_model(build_model(records), truth)


def test_all_events_keeps_open_events() -> None:
    records, truth = random_forest(7)
    check_model(build_model(records, argparse.Namespace(all_events=True)), truth, all_events=True)


@pytest.mark.parametrize("seed", [11, 12])
def test_document_of_a_random_forest_validates_and_lists_parents_first(seed: int) -> None:
    records, _ = random_forest(seed, processes=30)
    document = build_model(records).to_document(argparse.Namespace())
    assert validate_document(document, "tree") == []
    seen: set[str] = set()
    for process in document["processes"]:
        assert process["parent"] is None or process["parent"] in seen
        seen.add(process["id"])
    assert len(seen) == document["stats"]["processes"] == len(document["processes"])


def rec(
    sn: int, evt: str, sub: str, guid_text: str | None, second: float = 0.0, host: str = "PC1", **fields: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {"time": iso(BASE + second), "sn": sn, "evt": evt, "subEvt": sub, "com": host}
    if guid_text:
        record["psGUID"] = guid_text
    record.update(fields)
    return record


def test_child_before_parent_in_the_file_still_links() -> None:
    records = [
        rec(2, "ps", "start", "{B}", 2, psPath="C:\\b.exe", parentGUID="{A}"),
        rec(1, "ps", "start", "{A}", 1, psPath="C:\\a.exe"),
    ]
    model = build_model(records)
    child = model.nodes[("PC1", "{B}")]
    assert child.parent is model.nodes[("PC1", "{A}")] and child.parent.observed
    assert [node.id for node in model.missing_parents()] == ["PC1|{A}"]  # A has no parent reference


def test_guid_reuse_across_hosts_makes_two_processes() -> None:
    records = [
        rec(1, "ps", "start", "{A}", 1, psPath="C:\\a.exe"),
        rec(1, "ps", "start", "{A}", 1, host="PC2", psPath="C:\\other.exe"),
        rec(2, "file", "del", "{A}", 2, host="PC2", path="C:\\x"),
    ]
    model = build_model(records)
    assert model.nodes[("PC1", "{A}")].path == "C:\\a.exe" and model.nodes[("PC1", "{A}")].counts == {}
    assert model.nodes[("PC2", "{A}")].path == "C:\\other.exe" and model.nodes[("PC2", "{A}")].counts == {"file/del": 1}


def test_guid_case_and_records_without_host_join_the_right_process() -> None:
    records = [
        rec(1, "ps", "start", "{ab}", 1, psPath="C:\\a.exe"),
        {"time": iso(BASE + 2), "sn": 2, "evt": "file", "subEvt": "del", "psGUID": "{AB}", "path": "C:\\x"},
    ]
    model = build_model(records)
    assert list(model.nodes) == [("PC1", "{AB}")]
    assert model.nodes[("PC1", "{AB}")].counts == {"file/del": 1}


def test_activity_list_is_capped_and_the_rest_counted() -> None:
    records = [rec(1, "ps", "start", "{A}", 0, psPath="C:\\a.exe")]
    records += [rec(10 + n, "file", "del", "{A}", 1 + n / 1000, path=f"C:\\f{n}") for n in range(5000)]
    records += [
        rec(9000 + n, "net", "con", "{A}", 9, dstIP=f"10.0.{n // 250}.{n % 250}", dstPort=445) for n in range(300)
    ]
    model = build_model(records, argparse.Namespace(max_events=50, max_peers=20))
    node = model.nodes[("PC1", "{A}")]
    assert len(node.events) == 50 and node.omitted == 5300 - 50
    assert node.counts == {"file/del": 5000, "net/con": 300}
    assert [event["sn"] for event in node.event_dicts()] == list(range(10, 60))  # the first ones, in order
    assert len(node.peers) == 20 and node.peers_omitted == 280


def test_unlimited_events_when_max_events_is_zero() -> None:
    records = [rec(n, "file", "del", "{A}", n, path=f"C:\\f{n}") for n in range(300)]
    node = build_model(records, argparse.Namespace(max_events=0)).nodes[("PC1", "{A}")]
    assert len(node.events) == 300 and node.omitted == 0


def test_process_known_only_from_activity_is_a_placeholder_with_its_path() -> None:
    model = build_model(
        [rec(5, "reg", "setVal", "{S}", 1, psPath="C:\\Windows\\System32\\services.exe", path="HKLM\\x", entry="e")]
    )
    node = model.nodes[("PC1", "{S}")]
    assert not node.observed and node.placeholder == "activity-only" and node.name == "services.exe"
    assert model.missing_parents() == []


def test_parent_path_without_guid_links_to_the_live_process_of_that_image() -> None:
    records = [
        rec(1, "ps", "start", "{OLD}", 0, psPath="C:\\tool.exe"),
        rec(2, "ps", "stop", "{OLD}", 1),
        rec(3, "ps", "start", "{NEW}", 5, psPath="C:\\TOOL.exe"),
        rec(4, "ps", "start", "{KID}", 6, psPath="C:\\kid.exe", parentPath="c:\\tool.exe"),
        rec(5, "ps", "start", "{ORPHAN}", 7, psPath="C:\\o.exe", parentPath="C:\\gone.exe"),
    ]
    model = build_model(records)
    kid, orphan = model.nodes[("PC1", "{KID}")], model.nodes[("PC1", "{ORPHAN}")]
    assert kid.parent is model.nodes[("PC1", "{NEW}")] and kid.parent_link == "path"
    assert (
        orphan.parent is not None
        and orphan.parent.placeholder == "parent-path"
        and orphan.parent.path == "C:\\gone.exe"
    )


def test_parent_loop_is_cut_and_reported() -> None:
    records = [
        rec(1, "ps", "start", "{A}", 1, psPath="C:\\a.exe", parentGUID="{B}"),
        rec(2, "ps", "start", "{B}", 2, psPath="C:\\b.exe", parentGUID="{A}"),
        rec(3, "ps", "start", "{C}", 3, psPath="C:\\c.exe", parentGUID="{C}"),
    ]
    model = build_model(records)
    assert len(model.preorder()) == 3
    assert sorted(anomaly["kind"] for anomaly in model.anomalies) == ["parent-cycle", "parent-cycle"]
    assert validate_document(model.to_document(), "tree") == []


def test_duplicate_start_keeps_the_first_and_is_reported() -> None:
    records = [rec(1, "ps", "start", "{A}", 1, psPath="C:\\a.exe"), rec(2, "ps", "start", "{A}", 2, psPath="C:\\b.exe")]
    model = build_model(records)
    assert model.nodes[("PC1", "{A}")].path == "C:\\a.exe"
    assert [(anomaly["kind"], anomaly["sn"]) for anomaly in model.anomalies] == [("duplicate-start", 2)]


def test_time_window_limits_activity_not_processes() -> None:
    records = [rec(1, "ps", "start", "{A}", 0, psPath="C:\\a.exe")] + [
        rec(2 + n, "file", "del", "{A}", n, path="x") for n in range(10)
    ]
    options = argparse.Namespace(since=iso(BASE + 3), until=iso(BASE + 5))
    node = build_model(records, options).nodes[("PC1", "{A}")]
    assert node.observed and node.counts == {"file/del": 3} and node.outside_window == 7


def test_network_peers_carry_service_names_and_byte_counts() -> None:
    records = [
        rec(1, "net", "con", "{A}", 1, srcIP="10.0.0.1", srcPort=5000, dstIP="10.0.0.2", dstPort=445),
        rec(
            2, "net", "dcon", "{A}", 2, srcIP="10.0.0.1", srcPort=5000, dstIP="10.0.0.2", dstPort=445, recv=10, send=20
        ),
        rec(3, "net", "acpt", "{A}", 3, srcIP="10.0.0.9", srcPort=6000, dstIP="10.0.0.1", dstPort=3389),
        rec(4, "net", "openUDP", "{A}", 4, port=53),
    ]
    peers = sorted(build_model(records).nodes[("PC1", "{A}")].peers.values(), key=lambda peer: peer["direction"])
    assert [
        (p["direction"], p["ip"], p["port"], p["service"], p["connections"], p["recv"], p["send"]) for p in peers
    ] == [
        ("in", "10.0.0.9", 3389, None, 1, 0, 0),
        ("listen", None, 53, "domain", 1, 0, 0),
        ("out", "10.0.0.2", 445, "microsoft-ds", 1, 10, 20),
    ]


def test_summarize_reports_missing_parents_and_focus_size() -> None:
    records = [
        rec(
            1,
            "ps",
            "start",
            "{A}",
            1,
            psPath="D:\\abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789.exe",
            parentGUID="{X}",
        ),
        rec(2, "ps", "start", "{B}", 2, psPath="C:\\b.exe", parentGUID="{A}"),
        rec(3, "ps", "start", "{C}", 3, psPath="C:\\c.exe", parentGUID="{Y}"),
    ]
    summary = summarize(records, focus=["abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"])
    assert summary["records"] == 3 and summary["processes"] == 5 and summary["observed"] == 3
    assert summary["placeholders"] == 2 and summary["roots"] == 2 and summary["max_depth"] == 2
    assert [(item["guid"], item["parent_guid"]) for item in summary["missing_parents"]] == [
        ("{A}", "{X}"),
        ("{C}", "{Y}"),
    ]
    assert summary["focus"] == {"matched": 1, "processes": 3}  # the sample, its placeholder parent, its child
    assert summary["relations"] == {"injection": 0, "wrote-then-ran": 0, "service": 0}


def test_hook_is_the_model_builder(pm: Any) -> None:
    model = pm.hook.mk2ds_build_process_tree(
        records=iter([rec(1, "ps", "start", "{A}", 1)]), options=argparse.Namespace()
    )
    assert isinstance(model, ProcessModel) and model.finished and len(model.nodes) == 1
