"""The output guard: no output may destroy an input or land inside a dataset or input tree being read.

Outputs are written atomically (``mk2ds.core.atomic``): a temporary file renamed over the target. Renaming over
an input replaces it, so ``mk2ds tree a.log -o a.log`` would lose the log without a word. Paths are compared
after resolving links, and an existing output is also compared by device and inode (a hard link is the same
file).

Every command calls :func:`guard_outputs` with every output option it has (``-o``, ``--report``,
``--rejects``, ``pack``'s OUT, ...) before reading anything. An output is refused when it is

* one of the inputs (or a link to one);
* inside a folder given as an input (``convert ds/MK2Log -o ds/MK2Log``, ``pe ds/samples -o ds/samples/x.json``);
* inside the dataset an input belongs to (``convert ds/MK2Log/30m/a.log --report ds/List.xlsx``): the nearest
  folder at or above an input that is a BagIt bag (``bagit.txt``) or holds at least
  :data:`MARKERS_NEEDED` of the top-level names a registered profile requires (:func:`dataset_root_of`).

:func:`refuse_output_over_inputs` is the older, single-output form (still public).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mk2ds.core.errors import UsageError

if TYPE_CHECKING:
    import pluggy

__all__ = ["MARKERS_NEEDED", "dataset_markers", "dataset_root_of", "guard_outputs", "refuse_output_over_inputs"]

#: How many of a profile's required top-level names make a folder a dataset (or all, when it has fewer).
MARKERS_NEEDED = 3

#: ``(option, path)``: an output as the user gave it (``("--report", "r.json")``); ``None`` or ``-`` is fine.
OutputOption = tuple[str, "str | os.PathLike[str] | None"]


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.resolve() == second.resolve() or (
            first.exists() and second.exists() and os.path.samefile(first, second)
        )
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
            raise UsageError(
                f"{option} {output}: that is the {role} {given}; writing there would destroy it (choose another file)"
            )
    for given in datasets:
        dataset = Path(given)
        if _same_file(target, dataset) or (dataset.is_dir() and _inside(target, dataset)):
            raise UsageError(f"{option} {output}: inside the dataset {given}, which mk2ds only reads (write elsewhere)")


def dataset_markers(pm: pluggy.PluginManager | None) -> list[frozenset[str]]:
    """Per registered profile, the lower-case top-level names it requires (``list.xlsx``, ``mk2log``, ...)."""
    if pm is None:
        return []
    from mk2ds.core import registry

    markers = []
    for document in registry.profiles(pm).values():
        names = frozenset(str(item.get("path", "")).split("/", 1)[0].lower() for item in document.get("required", []))
        if names - {""}:
            markers.append(frozenset(names - {""}))
    return markers


def _looks_like_dataset(folder: Path, markers: Sequence[Collection[str]]) -> bool:
    try:
        with os.scandir(folder) as entries:
            names = {entry.name.lower() for entry in entries}
    except OSError:
        return False
    if "bagit.txt" in names:
        return True
    return any(len(names & set(required)) >= min(MARKERS_NEEDED, len(required)) for required in markers)


def dataset_root_of(path: str | os.PathLike[str], markers: Sequence[Collection[str]]) -> Path | None:
    """The nearest folder at or above ``path`` (resolved) that looks like a dataset, or ``None``."""
    try:
        current = Path(path).resolve()
    except (OSError, RuntimeError):
        return None
    for folder in [current, *current.parents]:
        if folder.is_dir() and _looks_like_dataset(folder, markers):
            return folder
    return None


def guard_outputs(
    outputs: Iterable[OutputOption],
    inputs: Iterable[str | os.PathLike[str]],
    *,
    pm: pluggy.PluginManager | None = None,
    markers: Sequence[Collection[str]] | None = None,
) -> None:
    """Refuse any output that is an input, lies inside an input folder, or inside an input's dataset.

    ``markers`` (default: from the profiles registered with ``pm``) recognize a dataset root; see the
    module documentation. :raises UsageError: naming the option, the output and what it would hit.
    """
    given = [str(item) for item in inputs if str(item) != "-"]
    chosen = [(option, str(path)) for option, path in outputs if path is not None and str(path) != "-"]
    if not chosen or not given:
        return
    known = dataset_markers(pm) if markers is None else list(markers)
    roots: list[tuple[Path, str]] = []
    for item in given:
        root = dataset_root_of(item, known)
        if root is not None:
            roots.append((root, item))
    for option, output in chosen:
        refuse_output_over_inputs(output, given, option=option)
        target = Path(output)
        for item in given:
            if Path(item).is_dir() and _inside(target, Path(item)):
                raise UsageError(
                    f"{option} {output}: inside the dataset or input folder {item}, which mk2ds only reads (write elsewhere)"
                )
        for root, item in roots:
            if _inside(target, root):
                raise UsageError(
                    f"{option} {output}: inside the dataset {root} (which holds the input {item}); mk2ds never writes into a dataset (write elsewhere)"
                )
