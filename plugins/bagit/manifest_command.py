"""``mk2ds manifest DIR``: write or refresh a sidecar ``SHA256SUMS`` (or ``manifest-<alg>.txt``), moving nothing.

The command's body (its options are declared in :func:`mk2ds.plugins.bagit.mk2ds_add_commands`). Files that
cannot be read or names that are refused are not listed, and said so (exit 1); ``-o FILE`` keeps the manifest
outside a read-only folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pluggy

from mk2ds.core import UsageError
from mk2ds.core.atomic import write_atomic
from mk2ds.core.dataset import FolderDataset
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.schemas import validate_document
from mk2ds.core.terminal import escape_surrogates, escape_text
from mk2ds.plugins.bagit import common
from mk2ds.plugins.bagit.hashing import FolderSource, hash_files
from mk2ds.plugins.bagit.manifests import (
    format_bagit_manifest,
    format_sums,
    is_checksum_file,
    parse_bagit_manifest,
    parse_sums,
)

__all__ = ["cmd_manifest"]


def _manifest_target(args: argparse.Namespace, root: Path, pm: pluggy.PluginManager) -> tuple[Path, str | None]:
    """Where the manifest goes, and its path relative to the root when it lies inside (so it is not listed).

    Only DIR's own checksum file may be written inside DIR (that is the point of the command); any other
    ``-o`` goes through the output guard. :raises UsageError:
    """
    default = f"manifest-{args.algorithm}.txt" if args.bagit else f"{args.algorithm.upper()}SUMS"
    target = Path(args.output) if args.output else root / default
    try:
        inside = target.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        inside = None
    if inside is None or not is_checksum_file(inside):
        guard_outputs([("-o", target)], [root], pm=pm)
    return target, inside


def cmd_manifest(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    """``mk2ds manifest``: 0 every file listed, 1 some were not (named on standard error or in the JSON)."""
    root = Path(args.dir)
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder (mk2ds manifest lists the files of a folder)")
    target, inside = _manifest_target(args, root, pm)
    files, _folders, unsafe = common.listing(FolderDataset(root))
    skipped = [{"path": item.path, "reason": item.reason} for item in unsafe]
    listed = [(entry.path, entry.size) for entry in files if entry.path != inside and not is_checksum_file(entry.path)]
    results = hash_files(
        FolderSource(str(root), preserve_times=False),
        listed,
        (args.algorithm,),
        jobs=common.jobs(args.jobs),
        label="manifest",
        show_progress=common.progress(args),
    )
    digests: dict[str, str] = {}
    for name, result in sorted(results.items()):
        if result.error:
            skipped.append({"path": name, "reason": f"unreadable: {result.error}"})
        else:
            digests[name] = result.digests[args.algorithm]
    previous = _previous_digests(target, args)
    _write_manifest(target, format_bagit_manifest(digests) if args.bagit else format_sums(digests))
    document = {
        "manifest_format": 1,
        "root": str(root),
        "algorithm": args.algorithm,
        "style": "bagit" if args.bagit else "sums",
        "written": str(target),
        "files": [{"path": name, "size": results[name].size, "digest": digest} for name, digest in digests.items()],
        "total_bytes": sum(results[name].size for name in digests),
        "changes": _changes(previous, digests),
        "skipped": skipped,
    }
    if args.format == "json":
        problems = validate_document(document, "manifest")
        assert not problems, problems
        print(escape_surrogates(json.dumps(document, indent=2, ensure_ascii=False)))
    else:
        _print_manifest_summary(document)
    return 1 if skipped else 0


def _write_manifest(target: Path, data: bytes) -> None:
    """Write the manifest atomically. :raises UsageError: naming the file when it cannot be written."""
    try:
        write_atomic(target, data)
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None


def _changes(previous: dict[str, str] | None, digests: dict[str, str]) -> dict[str, object]:
    """What changed since the manifest that was there before (``previous``; ``None``: there was none)."""
    return {
        "previous": previous is not None,
        "added": sorted(set(digests) - set(previous or {})) if previous is not None else [],
        "removed": sorted(set(previous or {}) - set(digests)),
        "changed": sorted(
            name for name in digests if previous and name in previous and previous[name] != digests[name]
        ),
    }


def _previous_digests(target: Path, args: argparse.Namespace) -> dict[str, str] | None:
    if not target.is_file():
        return None
    data = target.read_bytes()
    manifest = (
        parse_bagit_manifest(data, str(target), args.algorithm)
        if args.bagit
        else parse_sums(data, str(target), args.algorithm)
    )
    return {entry.path: entry.digest for entry in manifest.entries}


def _print_manifest_summary(document: dict[str, object]) -> None:
    changes = document["changes"]
    assert isinstance(changes, dict)
    files = document["files"]
    assert isinstance(files, list)
    print(
        escape_text(
            f"wrote {document['written']}: {len(files)} files, {document['total_bytes']:,} bytes, {document['algorithm']}"
        )
    )
    if changes["previous"]:
        print(
            f"since the previous manifest: {len(changes['added'])} added, {len(changes['removed'])} removed, "
            f"{len(changes['changed'])} changed"
        )
        for label in ("added", "removed", "changed"):
            for name in changes[label]:
                print(f"  {label:7} {escape_text(name)}")
        if changes["changed"]:
            print("note: a changed digest means the file's content changed since the previous manifest was written")
    skipped = document["skipped"]
    assert isinstance(skipped, list)
    for item in skipped:
        print(escape_text(f"mk2ds manifest: not listed: {item['path']}: {item['reason']}"), file=sys.stderr)
