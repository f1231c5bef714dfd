"""``mk2ds verify DATASET --samples DIR``: recompute impfuzzy and pefile results from the samples themselves
and compare them with the dataset's ``impfuzzy/`` and ``PEfile/`` files.

Samples (plain files or zips, encrypted or not) are matched to List.xlsx rows by their content hashes; a
file whose *name* is a listed hash but whose content is not that sample is reported, never compared. Each
sample is parsed in a guarded child process through the ``mk2ds_recompute_pe`` service hook, then compared with
its shipped files (:mod:`mk2ds.plugins.pe.comparison`).

Levels: ``structure`` does not look at samples; ``fast`` compares impfuzzy; ``full`` also compares the
PEfile dumps (a full pefile load per sample).

Runs ``trylast`` so that the sample list (``SAMPLES``) and the sample → artifact mapping (``SAMPLE_FILES``,
both from :mod:`mk2ds.plugins.checks.shared`) are there. When nothing provides ``mk2ds_recompute_pe`` (the
``pe`` plugin blocked), or it gives no answer for a sample, ``check-not-run`` says so: the samples are never
reported as checked when they were not. Without a sample list, samples are matched to result files
by the hashes in those files' names.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mk2ds.core import (
    CodeInfo,
    Dataset,
    Fact,
    Finding,
    OptionGroup,
    Severity,
    VerifyContext,
    check_not_run,
    hookimpl,
)
from mk2ds.plugins.checks.shared import SAMPLE_FILES, SAMPLES
from mk2ds.plugins.pe import (
    add_pe_options,
    analyze_all,
    ssdeep_tools,
    unreadable_finding,
)
from mk2ds.plugins.pe.archives import DEFAULT_PASSWORD, SampleFile, iter_samples, name_hashes
from mk2ds.plugins.pe.comparison import RESULT_ARTIFACTS, check_sample
from mk2ds.plugins.pe.guard import DEFAULT_MAX_SIZE_MB

CHECK_CODES = (
    CodeInfo(
        "impfuzzy-mismatch", Severity.ERROR, "The shipped impfuzzy differs from the one recomputed from the sample"
    ),
    CodeInfo(
        "impfuzzy-drift",
        Severity.INFO,
        "The shipped impfuzzy differs only as older pefile versions make it differ (wsock32 ordinal names)",
    ),
    CodeInfo(
        "pefile-mismatch",
        Severity.ERROR,
        "The shipped PEfile dump differs from the sample in ways pefile versions do not explain",
    ),
    CodeInfo(
        "pefile-drift",
        Severity.INFO,
        "The shipped PEfile dump differs only in ways that come from pefile versions (new or renamed fields and blocks)",
    ),
    CodeInfo(
        "pe-missing-results",
        Severity.ERROR,
        "The sample is a PE file (by content) but its impfuzzy/PEfile result is empty",
    ),
    CodeInfo(
        "pe-not-pe-but-results",
        Severity.ERROR,
        "The sample is not a PE file (by content) but its impfuzzy/PEfile result is not empty",
    ),
    CodeInfo(
        "pe-extension-mismatch",
        Severity.WARNING,
        "The List.xlsx extension says PE or not-PE, the sample's content says otherwise",
    ),
    CodeInfo(
        "results-unparseable",
        Severity.ERROR,
        "A shipped impfuzzy or PEfile file cannot be understood (no ssdeep hash, not dump_info text)",
    ),
    CodeInfo(
        "sample-not-in-list", Severity.WARNING, "A file given with --samples matches no List.xlsx row by its hashes"
    ),
    CodeInfo(
        "sample-name-mismatch",
        Severity.WARNING,
        "A sample file is named after a listed hash but its content has other hashes",
    ),
    CodeInfo(
        "sample-duplicate", Severity.INFO, "The same sample was found more than once under --samples (checked once)"
    ),
    CodeInfo(
        "samples-not-provided",
        Severity.INFO,
        "Listed samples that were not found under --samples (their results were not recomputed)",
    ),
)


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return list(CHECK_CODES)  # the analysis codes (pe-timeout, ...) are registered by pe_command


@hookimpl
def mk2ds_add_verify_options(group: OptionGroup) -> None:
    group.add_argument(
        "--samples",
        metavar="DIR",
        help="folder (or zip) of the samples themselves: recompute impfuzzy/PEfile results and compare "
        f"(zips may be encrypted, password --sample-password, default {DEFAULT_PASSWORD!r}); never executed",
    )
    add_pe_options(group.add_argument)


def _samples_from_result_names(context: VerifyContext) -> tuple[list[dict[str, Any]], dict[str, dict[str, list[str]]]]:
    """Without a sample list: one pseudo-sample per hash in the names of impfuzzy/PEfile result files."""
    folders = {
        str(rule["name"]): str(rule["folder"]).strip("/").lower() + "/"
        for rule in context.profile.per_sample
        if str(rule["name"]) in RESULT_ARTIFACTS
    }
    samples: dict[str, dict[str, Any]] = {}
    files: dict[str, dict[str, list[str]]] = {}
    for path in sorted(context.entries):
        for artifact, folder in folders.items():
            if not path.lower().startswith(folder):
                continue
            for value in name_hashes(path):
                kind = {64: "sha256", 40: "sha1", 32: "md5"}[len(value)]
                samples.setdefault(
                    value, {"id": value, "sha256": None, "sha1": None, "md5": None, "is_pe": None, kind: value}
                )
                files.setdefault(value, {}).setdefault(artifact, []).append(path)
    return list(samples.values()), files


def _index(samples: list[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    index: dict[str, Mapping[str, Any]] = {}
    for sample in samples:
        for kind in ("sha256", "sha1", "md5"):
            value = sample.get(kind)
            if value:
                index.setdefault(str(value).lower(), sample)
    return index


@hookimpl(trylast=True)
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    location = context.option("samples")
    if not location or not context.at_least("fast"):
        why = "no --samples DIR given" if not location else f"level {context.level}"
        yield Fact(
            "not-run:pe.checks", f"{why}: the shipped impfuzzy/PEfile results are not recomputed from the samples"
        )
        return
    root = Path(location)
    if not root.exists():
        yield Finding("sample-unreadable", Severity.ERROR, "--samples: no such file or folder", path=str(location))
        return
    recorded, problems = ssdeep_tools()
    yield Fact("pe-tools", recorded)
    if problems:
        yield Finding("ssdeep-self-test-failed", Severity.ERROR, "; ".join(problems))
    if not context.provided("mk2ds_recompute_pe"):
        yield check_not_run(
            "impfuzzy/PEfile results against the samples (--samples)", "mk2ds_recompute_pe", "pe", path=str(location)
        )
        return
    shared_samples: list[dict[str, Any]] | None = context.get(SAMPLES)
    shared_files = context.get(SAMPLE_FILES)
    sample_files: Mapping[str, Mapping[str, list[str]]] = shared_files or {}
    samples: list[Mapping[str, Any]]
    if shared_samples is None:
        derived, sample_files = _samples_from_result_names(context)
        samples = list(derived)
    else:
        samples = list(shared_samples)
    index = _index(samples)
    options = argparse.Namespace(**vars(context.options))
    options.pe_dump_info = context.at_least("full")
    max_bytes = int(context.option("pe_max_size", DEFAULT_MAX_SIZE_MB)) * 1024 * 1024
    password = str(context.option("sample_password", DEFAULT_PASSWORD))

    def is_listed(candidate: SampleFile) -> bool:
        return any(value in index for value in candidate.hashes.values())

    def wanted() -> Iterator[SampleFile]:
        seen: set[str] = set()
        for candidate in iter_samples(root, password=password, max_size=max_bytes, is_listed=is_listed):
            named = [index[value] for value in candidate.name_hashes if value in index]
            if candidate.data is None:
                problems_out.append(unreadable_finding(candidate, str(named[0]["id"]) if named else None))
                continue
            sample = next((index[value] for value in candidate.hashes.values() if value in index), None)
            if sample is None:
                if named:
                    problems_out.append(
                        Finding(
                            "sample-name-mismatch",
                            Severity.WARNING,
                            f"named after listed sample {named[0]['id']}, but the content is another file (sha256 {candidate.hashes['sha256']})",
                            path=candidate.origin,
                            subject=str(named[0]["id"]),
                        )
                    )
                else:
                    problems_out.append(
                        Finding(
                            "sample-not-in-list",
                            Severity.WARNING,
                            f"no List.xlsx row has this file's hashes (sha256 {candidate.hashes['sha256']})",
                            path=candidate.origin,
                            details=dict(candidate.hashes),
                        )
                    )
                continue
            sample_id = str(sample["id"])
            if sample_id in seen:
                problems_out.append(
                    Finding(
                        "sample-duplicate",
                        Severity.INFO,
                        "this sample was already found under --samples",
                        path=candidate.origin,
                        subject=sample_id,
                    )
                )
                continue
            seen.add(sample_id)
            matched[sample_id] = sample
            yield candidate

    problems_out: list[Finding] = []
    matched: dict[str, Mapping[str, Any]] = {}
    unanswered = 0
    jobs = max(1, int(context.option("jobs", 1) or 1))
    for candidate, document in analyze_all(context.pm, wanted(), options, jobs):
        yield from problems_out
        problems_out.clear()
        sample = next(index[value] for value in candidate.hashes.values() if value in index)
        if document is None:
            unanswered += 1
            yield check_not_run(
                "this sample's impfuzzy/PEfile results",
                "an answer from mk2ds_recompute_pe",
                path=candidate.origin,
                subject=str(sample["id"]),
            )
            continue
        yield from check_sample(dataset, context, sample, document, sample_files.get(str(sample["id"]), {}))
    yield from problems_out
    missing = sorted(str(sample["id"]) for sample in samples if str(sample["id"]) not in matched)
    yield Fact("samples-checked", len(matched) - unanswered)
    if missing:
        yield Finding(
            "samples-not-provided",
            Severity.INFO,
            f"{len(missing)} of {len(samples)} listed samples were not found under --samples",
            path=str(location),
            details={"samples": missing},
        )
