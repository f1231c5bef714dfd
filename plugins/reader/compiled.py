"""Which path converts the common lines of the reader: the compiled extension or pure Python (a library).

The optional C extension ``mk2ds.plugins.reader._speedups`` (``plugins/reader/_speedups.c``, see
``docs/fast-path.md``) converts every *common, well-formed* line of a block and hands every other line back by
position; the reader then converts those by the pure-Python reference path
(:func:`mk2ds.plugins.reader.record.record_from_line`), so findings, rejects and statistics are the
reference's by construction. The extension is used when it was built and ``MK2DS_PURE_PYTHON`` is not set
(``MK2DS_PURE_PYTHON=1`` forces the pure-Python path, e.g. to compare both). :data:`READER_PATH` names the
active path (``mk2ds --version`` and ``mk2ds plugins`` show it).
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["PURE_PYTHON_ENV", "READER_PATH", "compiled_module", "reader_path"]

PURE_PYTHON_ENV = "MK2DS_PURE_PYTHON"


def _load() -> tuple[ModuleType | None, str]:
    if os.environ.get(PURE_PYTHON_ENV, "").strip() not in ("", "0"):
        return None, f"pure Python ({PURE_PYTHON_ENV} is set)"
    try:
        from mk2ds.plugins.reader import _speedups  # type: ignore[attr-defined]
    except ImportError:
        return None, "pure Python (the compiled extension is not built)"
    return _speedups, "compiled (C extension)"


_MODULE, READER_PATH = _load()


def compiled_module() -> ModuleType | None:
    """The extension module, or ``None`` when the pure-Python path is active."""
    return _MODULE


def reader_path() -> str:
    """``compiled (C extension)`` or ``pure Python (why)``."""
    return READER_PATH
