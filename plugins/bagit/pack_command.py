"""``mk2ds pack SRC OUT``: verify SRC, check every name for portability, then write it as a BagIt 1.0 bag.

The command's body (its options are declared in :func:`mk2ds.plugins.bagit.mk2ds_add_commands`). SRC is only
read: never moved, never modified. ``pack`` refuses on errors unless ``--force`` (saying why), and never packs
on a verification a plugin failed in (exit 3).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

import pluggy

from mk2ds.core import Finding, Severity, UsageError
from mk2ds.core.dataset import Dataset, open_dataset
from mk2ds.core.output_guard import guard_outputs
from mk2ds.core.report import Report, finding_sort_key
from mk2ds.core.terminal import escape_lines, escape_text
from mk2ds.core.walker import verify
from mk2ds.plugins.bagit import common
from mk2ds.plugins.bagit.hashing import source_for
from mk2ds.plugins.bagit.manifests import portability_problems
from mk2ds.plugins.bagit.tagfiles import label_problem, value_problem
from mk2ds.plugins.bagit.writer import BagPlan, PackError, write_bag_folder, write_bag_zip

__all__ = ["GENERATED_LABELS", "bagging_date", "cmd_pack", "info_fields", "name_findings"]

#: bag-info.txt labels pack writes itself; ``--info`` may not set them.
GENERATED_LABELS = ("Bag-Software-Agent", "Bagging-Date", "Payload-Oxum", "MK2DS-Profile", "MK2DS-Sample-Count")
SHOWN_FINDINGS = 20


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


def cmd_pack(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    """``mk2ds pack``: 0 packed, 1 refused (errors without ``--force``) or not written, 3 a plugin failed."""
    from mk2ds.core import plugin_settings, registry, tool_description

    src, out = Path(args.src), Path(args.out)
    fields = info_fields(args.info)
    date = bagging_date(args.date)
    guard_outputs([("OUT", out)], [src], pm=pm)
    _check_target(src, out)
    profile = registry.find_profile(pm, args.profile)
    jobs = common.jobs(args.jobs)
    try:
        dataset = open_dataset(src)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    with dataset:
        if _is_bag(dataset):
            raise UsageError(f"{src} is already a BagIt bag; pack its data/ folder instead (no nested bags)")
        files, folders, unsafe = common.listing(dataset)
        report = verify(
            str(src),
            pm,
            profile,
            level=args.level,
            options=args,
            jobs=jobs,
            settings=plugin_settings(pm),
            show_progress=common.progress(args),
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
                summary = write_bag_zip(source_for(dataset), plan, out, show_progress=common.progress(args))
            else:
                summary = write_bag_folder(
                    source_for(dataset), plan, out, jobs=jobs, show_progress=common.progress(args)
                )
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
