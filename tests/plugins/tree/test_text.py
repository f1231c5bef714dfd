"""The ``text`` tree output: pstree branches, aligned columns (Japanese names by display width), color."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mk2ds.core.terminal import display_width
from mk2ds.plugins.tree.model import build_model
from mk2ds.plugins.tree.text import event_summary, render

DATA = Path(__file__).parents[2] / "data" / "tree"


def document(**options: object) -> dict[str, object]:
    with open(DATA / "wannacry_like.jsonl", encoding="utf-8") as handle:
        return build_model(json.loads(line) for line in handle).to_document(argparse.Namespace(**options))


def test_columns_line_up_by_display_width_with_japanese_names() -> None:
    text = render(document(), argparse.Namespace(color="never"))
    rows = [line for line in text.splitlines() if "19:50:0" in line and "·" not in line]
    japanese = [line for line in rows if "請求書" in line]
    assert japanese, text
    columns = {
        display_width(line[: line.index("19:50:0")])
        for line in rows
        if display_width(line.split("19:50")[0].rstrip()) < 56
    }
    assert len(columns) == 2  # one column per host block (each block is aligned on its own)
    assert display_width(japanese[0][: japanese[0].index("19:50:0")]) in columns


def test_branches_show_the_tree_and_placeholders() -> None:
    text = render(document(), argparse.Namespace(color="never"))
    assert "? services.exe" in text and "not observed (activity-only)" in text
    assert "└─ cmd.exe" in text and "   └─ tasksche.exe" in text
    assert "→ injection lsass.exe [OpenProcess] (sn 140, 141)" in text
    assert "6 processes whose parent's start is not in the log:" in text
    assert "note: 1 'open' events left out (--all shows them)" in text


def test_color_only_when_asked_or_on_a_terminal() -> None:
    plain = render(document(), argparse.Namespace(color="never"))
    colored = render(document(), argparse.Namespace(color="always"))
    assert "\x1b[" not in plain and "\x1b[33m? services.exe\x1b[0m" in colored
    focused = render(document(focus=["cmd.exe"]), argparse.Namespace(color="always"))
    assert "\x1b[1mcmd.exe\x1b[0m" in focused
    assert "\x1b[" not in render(document(), argparse.Namespace(color="always", output="file.txt"))


def test_depth_cut_is_announced() -> None:
    text = render(document(depth=1), argparse.Namespace(color="never"))
    assert "[1 child processes hidden]" in text and "@WanaDecryptor@.exe" not in text


def test_event_summary_names_the_telling_fields() -> None:
    event = {
        "kind": "net/con",
        "srcIP": "10.0.0.1",
        "srcPort": 5,
        "dstIP": "10.0.0.2",
        "dstPort": 445,
        "dstServ": "microsoft-ds",
    }
    assert event_summary(event) == "net/con 10.0.0.1:5 → 10.0.0.2:445 (microsoft-ds)"
    assert (
        event_summary({"kind": "reg/setVal", "path": "HKLM\\x", "entry": "Run", "valStr": "a.exe"})
        == "reg/setVal HKLM\\x [Run] = a.exe"
    )


def test_control_and_bidi_characters_in_names_are_shown_as_escapes() -> None:
    records = [
        {
            "time": "2018-03-01T10:00:00.000+09:00",
            "sn": 1,
            "evt": "ps",
            "subEvt": "start",
            "com": "PC\x1b]0;x\x07",
            "psGUID": "{A}",
            "psPath": "C:\\invoice\u202egpj.exe",
            "cmd": "evil\x1b[2J\nnext",
        }
    ]
    text = render(build_model(records).to_document(argparse.Namespace()), argparse.Namespace(color="never"))
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "invoice\\u202egpj.exe" in text and "evil\\x1b[2J\\x0anext" in text and "PC\\x1b]0;x\\x07" in text
