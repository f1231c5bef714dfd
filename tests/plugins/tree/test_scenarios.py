"""Process trees of generated Mark II logs (``mk2ds.plugins.synthetic.generator``) against their ground truth:
every process under its true parent, every relation the scenario created, and the WannaCry story as the seed
slides show it (dropper → service-started tasksche.exe linked back by wrote-then-ran; encryption renames under
the encrypting process; port-445 connections to the neighbors)."""

from __future__ import annotations

import argparse
import io
from typing import Any

import pytest

from mk2ds.core.schemas import validate_document
from mk2ds.plugins.reader import open_log
from mk2ds.plugins.synthetic.generator import SCENARIO_NAMES, ScenarioTruth, generate_lines
from mk2ds.plugins.tree.model import ProcessModel, build_model

RELATION_KIND = {
    "inject": "injection",
    "guard-inject": "injection",
    "wrote-then-ran": "wrote-then-ran",
    "service": "service",
}


def generated(scenario: str, **options: Any) -> tuple[ProcessModel, ScenarioTruth]:
    truth = ScenarioTruth()
    lines = generate_lines(
        seed=options.pop("seed", 3), scenario=scenario, events=options.pop("events", 2500), truth=truth, **options
    )
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    reader = open_log(io.BytesIO(data), f"{scenario}.log", argparse.Namespace())
    model = build_model(reader, argparse.Namespace(all_events=options.get("level") == "verbose"))
    assert reader.stats["rejected"] == 0 and truth.complete
    return model, truth


def by_guid(model: ProcessModel) -> dict[str | None, Any]:
    return {node.guid: node for node in model.nodes.values()}


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
@pytest.mark.parametrize(("style", "header", "level"), [("2018", "offset", "normal"), ("v3", "mixed", "verbose")])
def test_generated_logs_give_the_true_tree_and_relations(scenario: str, style: str, header: str, level: str) -> None:
    model, truth = generated(scenario, style=style, header=header, level=level)
    nodes = by_guid(model)
    for process in truth.processes:
        if process.start_sn is None:
            continue  # running before the log began: known only as a placeholder, if referenced
        node = nodes[process.guid]
        assert node.observed and node.start_sn == process.start_sn and node.path == process.path
        if process.parent_guid:
            assert node.parent is not None and node.parent.guid == process.parent_guid, process
        assert (node.stop_sn is None) == (process.stop_sn is None)
    found = {(rel.kind, rel.source.guid, rel.target.guid): rel for rel in model.relations.relations}
    expected = {(RELATION_KIND[rel.kind], rel.source_guid, rel.target_guid) for rel in truth.relations}
    assert set(found) == expected
    for relation in truth.relations:
        evidence = found[(RELATION_KIND[relation.kind], relation.source_guid, relation.target_guid)].evidence
        assert relation.sn in evidence or len(evidence) == 20
        if relation.evidence_sn is not None:
            assert relation.evidence_sn in evidence
    assert validate_document(model.to_document(argparse.Namespace()), "tree") == []


def test_wannacry_story_as_the_slides_show_it() -> None:
    model, truth = generated("wannacry", seed=5)
    nodes = by_guid(model)
    dropper = next(
        node
        for node in model.nodes.values()
        if node.observed and node.path == truth.sample_path and node.parent.name == "explorer.exe"
    )

    # dropper → tasksche.exe it wrote, started by services.exe, linked back by a wrote-then-ran edge
    linked = [rel for rel in model.relations.relations if rel.kind == "wrote-then-ran" and rel.source is dropper]
    service_started = [
        rel.target for rel in linked if rel.target.name == "tasksche.exe" and rel.target.parent.name == "services.exe"
    ]
    assert len(service_started) == 1
    encryptor = service_started[0]
    assert any(rel.kind == "service" and rel.target is encryptor for rel in model.relations.relations)

    # the file encryption renames (.WNCRYT → .WNCRY) are activity of the encrypting process
    renames = [event for event in encryptor.event_dicts() if event["kind"] == "file/rename"]
    assert renames and all(
        event["path"].endswith(".WNCRYT") and event["dstPath"].endswith(".WNCRY") for event in renames
    )
    assert encryptor.counts["file/rename"] == len(renames)

    # port-445 connections to the neighbors, from the service-started copy of the sample
    spreader = next(
        rel.target
        for rel in model.relations.relations
        if rel.kind == "service" and rel.details["service"] == "mssecsvc2.0"
    )
    assert spreader.path == truth.sample_path and spreader.parent.name == "services.exe"
    peers = [peer for peer in spreader.peers.values() if peer["direction"] == "out" and peer["port"] == 445]
    assert len(peers) >= 6 and all(
        peer["service"] == "microsoft-ds" and peer["ip"].startswith("172.24.1.") for peer in peers
    )

    # the focus view on the sample hash holds the whole chain
    document = model.to_document(argparse.Namespace(focus=[truth.sample_sha256]))
    shown = {process["id"] for process in document["processes"]}
    assert {dropper.id, encryptor.id, spreader.id} <= shown
    assert nodes[encryptor.guid].id in {
        relation["to"] for relation in document["relations"] if relation["kind"] == "wrote-then-ran"
    }
