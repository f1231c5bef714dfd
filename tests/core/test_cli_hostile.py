"""``mk2ds verify -o`` must never write into the dataset it verifies (core/cli.py)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def test_verify_refuses_a_report_inside_the_dataset_folder(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    dataset = tmp_path / "ds"
    dataset.mkdir()
    (dataset / "README.txt").write_text("readme", encoding="utf-8")
    result = run_cli("verify", dataset, "--quiet", "-o", dataset / "report.txt")
    assert result.code == 2
    assert sorted(path.name for path in dataset.iterdir()) == ["README.txt"]


def test_verify_refuses_to_replace_the_dataset_zip_with_its_report(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    archive = tmp_path / "ds.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ds/README.txt", "readme")
    before = archive.read_bytes()
    result = run_cli("verify", archive, "--quiet", "-o", archive)
    assert result.code == 2
    assert archive.read_bytes() == before
