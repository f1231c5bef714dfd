"""What the ``pack`` and ``manifest`` commands share: worker count, progress, and the dataset's listing."""

from __future__ import annotations

import argparse

from mk2ds.core import default_jobs
from mk2ds.core.dataset import Dataset, Entry, UnsafeName

__all__ = ["jobs", "listing", "progress"]


def jobs(value: int) -> int:
    """``-j``: 0 means one worker per core."""
    return default_jobs() if value == 0 else max(1, value)


def progress(args: argparse.Namespace) -> bool | None:
    """``--quiet`` turns the progress line off; otherwise the terminal decides."""
    return False if args.quiet else None


def listing(dataset: Dataset) -> tuple[list[Entry], list[str], list[UnsafeName]]:
    """The dataset's files, folders (paths) and refused names, from one walk."""
    files: list[Entry] = []
    folders: list[str] = []
    unsafe: list[UnsafeName] = []
    for item in dataset.walk():
        if isinstance(item, UnsafeName):
            unsafe.append(item)
        elif item.is_dir:
            folders.append(item.path)
        else:
            files.append(item)
    return files, folders, unsafe
