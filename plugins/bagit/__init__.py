"""``mk2ds pack SRC OUT``: a release anyone can verify (BagIt 1.0), and ``mk2ds manifest DIR``: a sidecar manifest.

Feature package ``bagit``. Plugins: ``bagit`` (this module: ``mk2ds_add_commands`` for ``mk2ds pack`` and
``mk2ds manifest``), ``bagit.fixity`` (checksums of a plain distribution: ``mk2ds_add_verify_options``,
``mk2ds_check_dataset``) and ``bagit.payload`` (verifying a bag: ``mk2ds_locate_payload``,
``mk2ds_check_container``), each also ``mk2ds_register_codes``. Libraries: ``writer``, ``tagfiles``,
``manifests``, ``hashing`` and ``audit`` (manifests against the files that are there).

``pack`` verifies SRC first and refuses on errors unless ``--force`` (saying why), checks every name for
portability, then writes OUT as a BagIt 1.0 bag, a folder or (``--zip``) one zip, atomically. SRC is only
read: never moved, never modified (bagit-python's ``make_bag`` moves the folder into ``data/`` in place).

``manifest`` writes or refreshes ``SHA256SUMS`` (or a BagIt-style ``manifest-sha256.txt``) for a folder and
moves nothing; ``-o FILE`` keeps the manifest outside a read-only folder.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

import pluggy

from mk2ds.core import CodeInfo, CommandRegistry, Finding, Severity, UsageError, hookimpl
from mk2ds.core.atomic import write_atomic
from mk2ds.core.dataset import Dataset, Entry, FolderDataset, UnsafeName, open_dataset
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.report import Report, finding_sort_key
from mk2ds.core.schemas import validate_document
from mk2ds.core.terminal import escape_lines, escape_surrogates, escape_text
from mk2ds.core.walker import default_jobs, verify
from mk2ds.plugins.bagit.hashing import FolderSource, hash_files, source_for
from mk2ds.plugins.bagit.manifests import (
    format_bagit_manifest,
    format_sums,
    is_checksum_file,
    parse_bagit_manifest,
    parse_sums,
    portability_problems,
)
from mk2ds.plugins.bagit.tagfiles import label_problem, value_problem
from mk2ds.plugins.bagit.writer import BagPlan, PackError, write_bag_folder, write_bag_zip

#: bag-info.txt labels pack writes itself; ``--info`` may not set them.
GENERATED_LABELS = ("Bag-Software-Agent", "Bagging-Date", "Payload-Oxum", "MK2DS-Profile", "MK2DS-Sample-Count")
SHOWN_FINDINGS = 20


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo(
            "name-not-portable",
            Severity.WARNING,
            "A file name would change meaning on another platform (':', trailing dot, NFD, '%', ...)",
        ),
        CodeInfo(
            "name-case-collision",
            Severity.WARNING,
            "Two names differ only in upper/lower case (one file on Windows and macOS)",
        ),
    ]


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    pack = subparsers.add_parser(
        "pack", help="verify SRC, then write it as a BagIt 1.0 bag (folder or --zip); SRC is never modified"
    )
    pack.add_argument("src", help="dataset folder or .zip to package (only read)")
    pack.add_argument("out", help="bag to write (must not exist)")
    pack.add_argument("--zip", action="store_true", help="write the bag as one zip file (bag inside one top folder)")
    pack.add_argument("--force", action="store_true", help="pack even when verify finds errors")
    pack.add_argument(
        "--info", action="append", default=[], metavar="KEY=VALUE", help="add a bag-info.txt field (repeatable)"
    )
    pack.add_argument("--sha512", action="store_true", help="also write manifest-sha512.txt and tagmanifest-sha512.txt")
    pack.add_argument(
        "-j", "--jobs", type=int, default=1, help="worker processes for verify and hashing (0 = one per core)"
    )
    pack.add_argument(
        "--profile", default="soliton-2018", help="layout profile for the verification (name or JSON file)"
    )
    pack.add_argument(
        "--level", choices=("structure", "fast", "full"), default="full", help="how thorough the verification is"
    )
    pack.add_argument(
        "--date", help="Bagging-Date YYYY-MM-DD (default: SOURCE_DATE_EPOCH, else today); also the zip timestamps"
    )
    pack.add_argument("--quiet", action="store_true", help="no progress line")
    pack.set_defaults(handler=_cmd_pack)

    manifest = subparsers.add_parser(
        "manifest", help="write or refresh a sidecar SHA256SUMS for a folder, moving nothing"
    )
    manifest.add_argument("dir", help="the folder to list")
    manifest.add_argument(
        "--bagit", action="store_true", help="write manifest-<alg>.txt (BagIt format) instead of SHA256SUMS"
    )
    manifest.add_argument("--algorithm", choices=("sha256", "sha512"), default="sha256", help="checksum algorithm")
    manifest.add_argument(
        "-o", "--output", help="write the manifest here instead of inside DIR (paths stay relative to DIR)"
    )
    manifest.add_argument("-j", "--jobs", type=int, default=1, help="worker processes for hashing (0 = one per core)")
    manifest.add_argument(
        "--format", choices=("text", "json"), default="text", help="what to print (json: schemas/manifest.schema.json)"
    )
    manifest.add_argument("--quiet", action="store_true", help="no progress line")
    manifest.set_defaults(handler=_cmd_manifest)


def _jobs(value: int) -> int:
    return default_jobs() if value == 0 else max(1, value)


def _progress(args: argparse.Namespace) -> bool | None:
    return False if args.quiet else None


def bagging_date(value: str | None, environment: dict[str, str] | os._Environ[str] = os.environ) -> datetime.date:
    """``--date``, else the UTC date of ``SOURCE_DATE_EPOCH`` (reproducible builds), else today."""
    if value:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"--date {value!r} is not YYYY-MM-DD") from None
    epoch = environment.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).date()
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH {epoch!r} is not a number of seconds") from None
    return datetime.date.today()


def info_fields(values: Sequence[str]) -> list[tuple[str, str]]:
    """``--info KEY=VALUE`` options as bag-info fields, in the order given; bad ones are usage errors."""
    fields = []
    for value in values:
        if "=" not in value:
            raise UsageError(f"--info {value!r}: expected KEY=VALUE")
        label, text = value.split("=", 1)
        problem = label_problem(label) or value_problem(text)
        if problem:
            raise UsageError(f"--info {value!r}: {problem}")
        if label.lower() in (name.lower() for name in GENERATED_LABELS):
            hint = " (use --date)" if label.lower() == "bagging-date" else ""
            raise UsageError(f"--info {label}: written by mk2ds pack itself{hint}")
        fields.append((label, text))
    return fields


def name_findings(files: Sequence[str], folders: Sequence[str]) -> Iterator[Finding]:
    """Portability of every name that goes into the bag: non-portable names, case and NFC collisions."""
    names = sorted({*files, *folders})
    for name in names:
        for problem in portability_problems(name):
            yield Finding("name-not-portable", Severity.WARNING, problem, path=name)
    by_case: dict[str, list[str]] = {}
    by_form: dict[str, list[str]] = {}
    for name in names:
        normal = unicodedata.normalize("NFC", name)
        by_form.setdefault(normal, []).append(name)
        by_case.setdefault(normal.casefold(), []).append(name)
    for group in by_form.values():
        if len(group) > 1:
            yield Finding(
                "name-normalization-conflict",
                Severity.ERROR,
                f"names differ only in Unicode normalization: {', '.join(map(repr, group))} (bagit-python refuses such bags)",
                path=group[0],
                details={"names": group},
            )
    for group in by_case.values():
        if len({unicodedata.normalize("NFC", name) for name in group}) > 1:
            yield Finding(
                "name-case-collision",
                Severity.WARNING,
                f"names differ only in case: {', '.join(map(repr, group))}",
                path=group[0],
                details={"names": group},
            )


def _listing(dataset: Dataset) -> tuple[list[Entry], list[str], list[UnsafeName]]:
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


def _print_findings(title: str, findings: Sequence[Finding]) -> None:
    print(escape_text(title), file=sys.stderr)
    ordered = sorted(findings, key=lambda finding: (-finding.severity.rank, *finding_sort_key(finding)))
    for finding in ordered[:SHOWN_FINDINGS]:
        print(
            escape_text(f"  {finding.severity.value:7} {finding.location()}: {finding.code}: {finding.message}"),
            file=sys.stderr,
        )
    if len(ordered) > SHOWN_FINDINGS:
        print(
            f"  ... and {len(ordered) - SHOWN_FINDINGS} more (run 'mk2ds verify' for the full report)", file=sys.stderr
        )


def _check_target(src: Path, out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise UsageError(f"{out} already exists; refusing to overwrite it (choose a new OUT)")
    if src.is_dir():
        try:
            out.resolve().relative_to(src.resolve())
        except ValueError:
            return
        raise UsageError(f"{out} is inside {src}; write the bag somewhere else (SRC is never modified)")


def _is_bag(dataset: Dataset) -> bool:
    try:
        with dataset.open("bagit.txt"):
            return True
    except OSError:
        return False


def _generated_info(report: Report, profile_name: str, date: datetime.date) -> list[tuple[str, str]]:
    """The bag-info.txt fields pack writes itself (Payload-Oxum is added by the writer)."""
    fields = [
        ("Bag-Software-Agent", f"mk2ds {report.tool.get('version', '?')}"),
        ("Bagging-Date", date.isoformat()),
        ("MK2DS-Profile", profile_name),
    ]
    samples = report.to_dict()["samples"]
    if samples:
        fields.append(("MK2DS-Sample-Count", str(len(samples))))
    return fields


def _accept(src: Path, problems: Sequence[Finding], force: bool) -> bool:
    """Print what is wrong with SRC; False when pack must refuse (errors without ``--force``)."""
    errors = [finding for finding in problems if finding.severity is Severity.ERROR]
    if errors and not force:
        _print_findings(
            f"mk2ds pack: {src} has {len(errors)} error(s); nothing written (fix them, or pack anyway with --force):",
            errors,
        )
        return False
    noteworthy = [finding for finding in problems if finding.severity is not Severity.INFO]
    if errors:
        _print_findings(f"mk2ds pack: packing {src} despite {len(errors)} error(s) (--force):", noteworthy)
    elif noteworthy:
        _print_findings(f"mk2ds pack: warnings about {src}:", noteworthy)
    return True


def _cmd_pack(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    from mk2ds.core import plugin_settings, registry, tool_description

    src, out = Path(args.src), Path(args.out)
    fields = info_fields(args.info)
    date = bagging_date(args.date)
    guard_outputs([("OUT", out)], [src], pm=pm)
    _check_target(src, out)
    profile = registry.find_profile(pm, args.profile)
    jobs = _jobs(args.jobs)
    try:
        dataset = open_dataset(src)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    with dataset:
        if _is_bag(dataset):
            raise UsageError(f"{src} is already a BagIt bag; pack its data/ folder instead (no nested bags)")
        files, folders, unsafe = _listing(dataset)
        report = verify(
            str(src),
            pm,
            profile,
            level=args.level,
            options=args,
            jobs=jobs,
            settings=plugin_settings(pm),
            show_progress=_progress(args),
            tool=tool_description(pm),
        )
        if report.internal_error:  # a plugin failed: the verification is incomplete, so never pack on it
            for finding in report.findings:
                if finding.code in ("plugin-error", "plugin-timeout"):
                    print(f"mk2ds pack: {finding.location()}: {finding.message}", file=sys.stderr)
            return 3
        problems = [*name_findings([entry.path for entry in files], folders), *report.findings]
        if not _accept(src, problems, args.force):
            return 1
        for item in unsafe:
            print(escape_text(f"mk2ds pack: left out {item.path}: {item.reason}"), file=sys.stderr)
        plan = BagPlan(
            files=[(entry.path, entry.size) for entry in files],
            folders=folders,
            algorithms=("sha256", "sha512") if args.sha512 else ("sha256",),
            info=[*_generated_info(report, profile.name, date), *fields],
            date=date,
        )
        try:
            if args.zip:
                summary = write_bag_zip(source_for(dataset), plan, out, show_progress=_progress(args))
            else:
                summary = write_bag_folder(source_for(dataset), plan, out, jobs=jobs, show_progress=_progress(args))
        except PackError as error:
            print(f"mk2ds pack: error: {escape_lines(error)}", file=sys.stderr)
            return 1
    print(
        escape_text(
            f"packed {summary.files} files ({summary.total_bytes:,} bytes) from {src} into {summary.path}: BagIt 1.0"
            f"{' zip' if args.zip else ''}, {', '.join(plan.algorithms)}, Payload-Oxum {summary.payload_oxum}"
        )
    )
    return 0


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


def _cmd_manifest(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    root = Path(args.dir)
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder (mk2ds manifest lists the files of a folder)")
    target, inside = _manifest_target(args, root, pm)
    dataset = FolderDataset(root)
    files, _folders, unsafe = _listing(dataset)
    skipped = [{"path": item.path, "reason": item.reason} for item in unsafe]
    listed = [(entry.path, entry.size) for entry in files if entry.path != inside and not is_checksum_file(entry.path)]
    results = hash_files(
        FolderSource(str(root), preserve_times=False),
        listed,
        (args.algorithm,),
        jobs=_jobs(args.jobs),
        label="manifest",
        show_progress=_progress(args),
    )
    digests: dict[str, str] = {}
    for name, result in sorted(results.items()):
        if result.error:
            skipped.append({"path": name, "reason": f"unreadable: {result.error}"})
        else:
            digests[name] = result.digests[args.algorithm]
    previous = _previous_digests(target, args)
    data = format_bagit_manifest(digests) if args.bagit else format_sums(digests)
    try:
        write_atomic(target, data)
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
    changes = {
        "previous": previous is not None,
        "added": sorted(set(digests) - set(previous or {})) if previous is not None else [],
        "removed": sorted(set(previous or {}) - set(digests)),
        "changed": sorted(
            name for name in digests if previous and name in previous and previous[name] != digests[name]
        ),
    }
    document = {
        "manifest_format": 1,
        "root": str(root),
        "algorithm": args.algorithm,
        "style": "bagit" if args.bagit else "sums",
        "written": str(target),
        "files": [{"path": name, "size": results[name].size, "digest": digest} for name, digest in digests.items()],
        "total_bytes": sum(results[name].size for name in digests),
        "changes": changes,
        "skipped": skipped,
    }
    if args.format == "json":
        problems = validate_document(document, "manifest")
        assert not problems, problems
        print(escape_surrogates(json.dumps(document, indent=2, ensure_ascii=False)))
    else:
        _print_manifest_summary(document)
    return 1 if skipped else 0


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
