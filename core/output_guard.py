"""Refuse an ``-o`` output that would destroy an input or land inside a dataset being read (a library).

Outputs are written atomically (``mk2ds.core.atomic``): a temporary file renamed over the target. Renaming over
an input replaces it, so ``mk2ds tree a.log -o a.log`` would lose the log without a word. Commands call
:func:`refuse_output_over_inputs` before reading anything; paths are compared after resolving links, and an
existing output is also compared by device and inode (a hard link is the same file).

Used by every command that writes a file: ``verify``, ``convert``, ``tree``, ``validate``, ``format``, ``pe``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mk2ds.core.errors import UsageError

__all__ = ["refuse_output_over_inputs"]


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.resolve() == second.resolve() or (first.exists() and second.exists() and os.path.samefile(first, second))
    except (OSError, RuntimeError):  # RuntimeError: a symbolic-link loop
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def refuse_output_over_inputs(
    output: str | os.PathLike[str] | None,
    inputs: Iterable[str],
    *,
    datasets: Iterable[str] = (),
    option: str = "-o",
    role: str = "input",
) -> None:
    """Raise :class:`UsageError` when ``output`` is one of ``inputs``, or is inside (or is) one of ``datasets``.

    ``None`` and ``-`` (standard output) are always fine; so are inputs given as ``-``. ``option`` names the
    output in the message (``--report``, say) and ``role`` what the ``inputs`` are (another command's
    ``output`` file, say).
    """
    if output is None or str(output) == "-":
        return
    target = Path(output)
    for given in inputs:
        if given != "-" and _same_file(target, Path(given)):
            raise UsageError(f"{option} {output}: that is the {role} {given}; writing there would destroy it (choose another file)")
    for given in datasets:
        dataset = Path(given)
        if _same_file(target, dataset) or (dataset.is_dir() and _inside(target, dataset)):
            raise UsageError(f"{option} {output}: inside the dataset {given}, which mk2ds only reads (write elsewhere)")
