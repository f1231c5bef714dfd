"""The one escaping helper for untrusted strings on a terminal (issue 13 item 5)."""

from __future__ import annotations

import pytest

from mk2ds.core.dataset import is_unsafe_name
from mk2ds.core.terminal import escape_text, unsafe_character


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("x\x1b]0;title\x07\x1b[2J\nOK: 0 errors.log", "x\\x1b]0;title\\x07\\x1b[2J\\x0aOK: 0 errors.log"),
        ("invoice\u202egpj.exe", "invoice\\u202egpj.exe"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("cr\rtab\tdel\x7f", "cr\\x0dtab\\x09del\\x7f"),
        ("lrm\u200e isolate\u2066 alm\u061c ls\u2028", "lrm\\u200e isolate\\u2066 alm\\u061c ls\\u2028"),
        ("undecodable\udcff", "undecodable\\udcff"),
        ("日本語 ascii é", "日本語 ascii é"),
    ],
)
def test_escape_text_shows_every_unsafe_character(raw: str, shown: str) -> None:
    assert escape_text(raw) == shown
    escape_text(raw).encode("utf-8")  # never fails to print


def test_escape_text_takes_any_object() -> None:
    assert escape_text(3) == "3"
    assert escape_text(OSError("a\x1bb")) == "a\\x1bb"


@pytest.mark.parametrize("name", ["a\u202egpj.exe", "b\x9b.exe", "c\u2067.log", "d\u200f", "e\x85f"])
def test_bidi_and_c1_controls_are_unsafe_in_names(name: str) -> None:
    assert unsafe_character(name) is not None
    reason = is_unsafe_name(name)
    assert reason is not None and "in name" in reason
    assert escape_text(reason) == reason  # the reason itself is printable


def test_ordinary_names_stay_safe() -> None:
    assert is_unsafe_name("MK2Log/30m/日本語 ファイル.log") is None
