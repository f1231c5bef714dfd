"""The ``json`` tree output: the tree document itself (``schemas/tree.schema.json``), written as it is made.

:func:`render_chunks` writes the document piece by piece: the small parts at once, then each entry of
``processes`` and ``relations`` as it comes from the (lazy) document, so a tree of 500,000 processes is
written in the memory of the model plus one process. The text is byte-identical to
``json.dumps(document, indent=2, ensure_ascii=False)`` (a JSON string never holds a raw line break, so an
item dumped on its own is indented by prefixing each of its lines).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mk2ds.core import OutputFormat, hookimpl

__all__ = ["StreamingRender", "render", "render_chunks"]

_ITEM_INDENT = "\n    "  # items of a top-level list sit two levels deep


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _list_chunks(items: Iterable[Any]) -> Iterator[str]:
    separator = "[" + _ITEM_INDENT
    for item in items:
        yield separator + _dumps(item).replace("\n", _ITEM_INDENT)
        separator = "," + _ITEM_INDENT
    yield "[]" if separator.startswith("[") else "\n  ]"


def render_chunks(document: Mapping[str, Any], options: argparse.Namespace | None = None) -> Iterator[str]:
    """The JSON text of ``document`` in pieces: one per top-level key and one per item of its lists."""
    if not document:
        yield "{}\n"
        return
    separator = "{\n  "
    for key, value in document.items():
        yield separator + json.dumps(key, ensure_ascii=False) + ": "
        separator = ",\n  "
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            yield _dumps(value).replace("\n", "\n  ")
        else:
            yield from _list_chunks(value)
    yield "\n}\n"


def render(document: Mapping[str, Any], options: argparse.Namespace) -> str:
    """The whole JSON text at once (for callers that want a string)."""
    return "".join(render_chunks(document, options))


class StreamingRender:
    """The registered factory: takes a streamed document (``stream_document``) and returns its chunks.
    ``mk2ds tree`` hands a streamed document only to factories with ``streams_tree_document``."""

    streams_tree_document = True

    def __call__(self, document: Mapping[str, Any], options: argparse.Namespace) -> Iterator[str]:
        return render_chunks(document, options)


@hookimpl
def mk2ds_register_outputs() -> list[OutputFormat]:
    return [
        OutputFormat("json", "tree", ".json", "the tree document as JSON (schemas/tree.schema.json)", StreamingRender())
    ]
