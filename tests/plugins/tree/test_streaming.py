"""Issue 13 item 20: ``mk2ds tree --format json`` writes processes as they are made, and the process model
stays small per process (the figures for large logs are in ``benchmarks/tree.py``)."""

from __future__ import annotations

import argparse
import json
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mk2ds.core import get_plugin_manager
from mk2ds.core.cli import build_parser
from mk2ds.plugins.tree import json as tree_json
from mk2ds.plugins.tree import view
from mk2ds.plugins.tree.model import ProcessModel, build_model

DATA = Path(__file__).parents[2] / "data" / "tree"
JSONL = DATA / "wannacry_like.jsonl"
OPTIONS = argparse.Namespace(all_events=True, max_events=2)


def _model() -> ProcessModel:
    with open(JSONL, encoding="utf-8") as handle:
        return build_model((json.loads(line) for line in handle), OPTIONS)


def test_json_is_written_process_by_process_and_equals_the_whole_document(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model()
    whole = json.dumps(model.to_document(OPTIONS), indent=2, ensure_ascii=False) + "\n"
    made: list[str] = []
    process = view._process

    def counting(node: Any, shown: Any, depth: int) -> dict[str, Any]:
        made.append(node.id)
        return process(node, shown, depth)

    monkeypatch.setattr(view, "_process", counting)
    document = model.stream_document(OPTIONS)
    assert made == []  # nothing of a process is made before it is written
    factory = tree_json.mk2ds_register_outputs()[0].factory
    chunks = factory(document, OPTIONS)
    assert isinstance(chunks, Iterator)
    written, made_when_written = [], []
    for chunk in chunks:
        written.append(chunk)
        if chunk.lstrip("[,\n ").startswith('{\n      "id"'):
            made_when_written.append(len(made))
    shown = len(document["processes"])
    assert shown > 3 and made_when_written == list(range(1, shown + 1))  # one process made per chunk written
    assert len(written) > shown and "".join(written) == whole
    assert json.loads("".join(written)) == model.to_document(OPTIONS)


@pytest.mark.parametrize("value", [[], [1, {"a": [2, "x\ny"]}], {"k": []}, "t", None, 1.5])
def test_streamed_text_equals_json_dumps(value: Any) -> None:
    document = {"first": value, "lazy": view.LazyItems(lambda: iter([{"n": 1}, {"n": [2]}]), 2), "empty": ()}
    expected = json.dumps(view.materialize(document) | {"empty": []}, indent=2, ensure_ascii=False) + "\n"
    assert "".join(tree_json.render_chunks(document)) == expected
    assert "".join(tree_json.render_chunks({})) == json.dumps({}) + "\n"


def test_a_failure_while_streaming_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    process = view._process
    out = tmp_path / "out" / "tree.json"

    def failing(node: Any, shown: Any, depth: int) -> dict[str, Any]:
        calls.append(sorted(path.name for path in out.parent.iterdir()))  # the output is open while processes are made
        if len(calls) == 3:
            raise RuntimeError("boom")
        return process(node, shown, depth)

    monkeypatch.setattr(view, "_process", failing)
    pm = get_plugin_manager(load_entrypoints=False)
    args = build_parser(pm).parse_args(["tree", str(JSONL), "--format", "json", "-o", str(out)])
    with pytest.raises(RuntimeError, match="boom"):
        args.handler(args, pm)
    assert len(calls) == 3 and all(len(names) == 1 and names[0].startswith(".tree.json.mk2ds-") for names in calls)
    assert list(out.parent.iterdir()) == []  # no half-written file, no part left


def _starts(count: int) -> Iterator[dict[str, Any]]:
    """``count`` process starts, each child of an earlier one, made while the model is built (so the strings
    the model keeps are counted too), with a few repeated images and one user, as in a real log."""
    rng = random.Random(20)
    guids: list[str] = []
    for index in range(count):
        guid = f"{{{rng.getrandbits(32):08X}-{rng.getrandbits(16):04X}-4{rng.getrandbits(12):03X}-8{rng.getrandbits(12):03X}-{rng.getrandbits(48):012X}}}"
        parent = rng.randrange(index) if index else None
        path = f"C:\\Program Files\\App{index % 40}\\tool{index % 300}.exe"
        yield {
            "time": f"2018-03-01T19:{index // 60000 % 60:02d}:{index // 1000 % 60:02d}.{index % 1000:03d}+09:00",
            "sn": index + 1,
            "evt": "ps",
            "subEvt": "start",
            "com": "PC1",
            "psGUID": guid,
            "psPath": path,
            "parentGUID": guids[parent] if parent is not None else "{00000000-0000-4000-8000-000000000001}",
            "parentPath": "C:\\Windows\\explorer.exe",
            "cmd": f'"{path}" /run {index}',
            "psUser": "taro.yamada",
            "psDomain": "PC1",
            "psID": 1000 + index,
        }
        guids.append(guid)


def test_the_model_keeps_under_one_kilobyte_per_process() -> None:
    count = 20_000
    tracemalloc.start()
    try:
        model = ProcessModel().add_all(_starts(count)).finish()
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(model.nodes) == count + 1  # and the placeholder parent of the first
    # Kept: about 0.8 KB a process (half of it the GUID, command line and time texts of the records
    # themselves); before issue 13 item 20 it was about 1.2 KB, with a peak of 1.4 KB.
    assert kept / count < 900 and peak / count < 1024
