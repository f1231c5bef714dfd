"""A fuzz target for `mk2ds verify`, next to the reader's: mutated small distributions, as a folder or a zip.

Whatever the mutation (bytes flipped, files cut short, emptied, replaced, removed, added, a zip of it all),
verify must end with exit 0 or 1 (never 3 or a traceback), leave the dataset exactly as it was, and write a
JSON report that validates against ``schemas/report.schema.json``.

The budget is small by default (CI runs it on every push); ``MK2DS_FUZZ_EXAMPLES=2000`` runs a long session.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mk2ds.core.schemas import validate_document
from mk2ds.plugins.synthetic import SampleDistribution, write_sample

EXAMPLES = int(os.environ.get("MK2DS_FUZZ_EXAMPLES", "25"))
#: The small default budget runs the same examples every time (a CI run is reproducible); a long session explores.
DERANDOMIZE = "MK2DS_FUZZ_EXAMPLES" not in os.environ

pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> SampleDistribution:
    return write_sample(tmp_path_factory.mktemp("fuzz") / "SolitonDataset2018", samples=3, seed=11, events_per_log=15)


@pytest.fixture(scope="module")
def pristine_files(pristine: SampleDistribution) -> list[str]:
    return sorted(path.relative_to(pristine.root).as_posix() for path in pristine.root.rglob("*") if path.is_file())


_OPERATIONS = ("flip", "truncate", "insert", "empty", "replace", "remove", "add")

mutation = st.tuples(
    st.sampled_from(_OPERATIONS),
    st.integers(min_value=0, max_value=10_000),  # which file (modulo the count)
    st.floats(min_value=0, max_value=1),  # where in it
    st.binary(max_size=40),  # bytes to insert or write
)
_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12).filter(
    lambda name: name not in (".", "..")
)


def _mutate(root: Path, files: list[str], operation: str, which: int, where: float, data: bytes, name: str) -> None:
    present = [path for path in files if (root / path).is_file()]
    if operation == "add" or not present:
        folder = root / present[which % len(present)] if present else root
        target = (folder.parent if folder.is_file() else folder) / name
        if not target.exists():
            target.write_bytes(data)
        return
    target = root / present[which % len(present)]
    content = target.read_bytes()
    position = int(where * len(content))
    if operation == "flip" and content:
        index = min(position, len(content) - 1)
        content = content[:index] + bytes([content[index] ^ 0xFF]) + content[index + 1 :]
    elif operation == "truncate":
        content = content[:position]
    elif operation == "insert":
        content = content[:position] + data + content[position:]
    elif operation == "empty":
        content = b""
    elif operation == "replace":
        content = data
    elif operation == "remove":
        target.unlink()
        return
    target.write_bytes(content)


def _snapshot(path: Path) -> dict[str, tuple[str, int]]:
    if path.is_file():
        return {path.name: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode)}
    return {
        item.relative_to(path).as_posix(): (
            hashlib.sha256(item.read_bytes()).hexdigest() if item.is_file() else "dir",
            item.stat().st_mode,
        )
        for item in sorted(path.rglob("*"))
    }


def _zip(root: Path, archive: Path, method: int) -> Path:
    with zipfile.ZipFile(archive, "w", method) as handle:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                handle.write(path, path.relative_to(root.parent).as_posix())
    return archive


@settings(
    max_examples=EXAMPLES,
    derandomize=DERANDOMIZE,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking: each run of verify takes a while
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    mutations=st.lists(mutation, min_size=1, max_size=4),
    names=st.lists(_NAME, min_size=4, max_size=4),
    container=st.sampled_from(["folder", "zip-deflated", "zip-stored"]),
    damage_zip=st.tuples(st.booleans(), st.floats(min_value=0, max_value=1)),
    level=st.sampled_from(["fast", "full"]),
)
def test_verify_survives_mutated_distributions(
    run_cli: Callable[..., Any],
    pristine: SampleDistribution,
    pristine_files: list[str],
    mutations: list[tuple[str, int, float, bytes]],
    names: list[str],
    container: str,
    damage_zip: tuple[bool, float],
    level: str,
) -> None:
    with tempfile.TemporaryDirectory(prefix="mk2ds-fuzz-") as temporary:
        root = Path(temporary) / "SolitonDataset2018"
        shutil.copytree(pristine.root, root)
        for (operation, which, where, data), name in zip(mutations, names, strict=False):
            _mutate(root, pristine_files, operation, which, where, data, name)
        target = root
        if container != "folder":
            target = _zip(
                root,
                Path(temporary) / "ds.zip",
                zipfile.ZIP_DEFLATED if container == "zip-deflated" else zipfile.ZIP_STORED,
            )
            if damage_zip[0]:  # one byte flipped somewhere in the archive: headers, data or the directory
                content = bytearray(target.read_bytes())
                index = min(int(damage_zip[1] * len(content)), len(content) - 1)
                content[index] ^= 0xFF
                target.write_bytes(bytes(content))
        before = _snapshot(target)
        result = run_cli("verify", target, "--format", "json", "--quiet", "--level", level)
        assert _snapshot(target) == before, "verify changed the dataset"
    if result.code == 2:  # the archive itself is unopenable: a usage error naming it, no report
        assert container != "folder" and damage_zip[0] and "Traceback" not in result.err, result.err
        return
    failures = (
        [f for f in json.loads(result.out)["findings"] if f["code"] == "plugin-error"] if result.code == 3 else []
    )
    assert result.code in (0, 1), (mutations, container, damage_zip, result.err[-3000:], failures[:6])
    assert "Traceback" not in result.err
    report = json.loads(result.out)
    assert validate_document(report, "report") == []
    assert not [finding for finding in report["findings"] if finding["code"] in ("plugin-error", "unregistered-code")]
