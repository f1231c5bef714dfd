"""Cross-references between the sample index and the per-sample artifacts, driven by the profile's
``per_sample`` rules.

A file belongs to a sample when its path below the artifact's folder contains one of the sample's hashes
(any case). Checks, sample by sample: required artifacts exist; flagged artifacts exist exactly when the flag
is set; emptiness follows the rule (``exactly-when-not-pe``: impfuzzy/PEfile results are empty exactly for
non-PE samples); files that refer to no sample are reported. The mapping sample → files is left under
:data:`~mk2ds.plugins.checks.shared.SAMPLE_FILES` for later checks. Without the rows of the sample list
(:data:`~mk2ds.plugins.checks.shared.SAMPLES`) because ``checks.sample_list`` is blocked or missing while the
dataset has a sample list, nothing is cross-referenced and ``check-not-run`` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mk2ds.core import CodeInfo, Dataset, Fact, Finding, Severity, VerifyContext, check_not_run, hookimpl
from mk2ds.plugins.checks.shared import SAMPLE_FILES, SAMPLES

HEX_RUN = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})(?![0-9a-fA-F])")


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo(
            "sample-artifact-missing",
            Severity.ERROR,
            "A sample lacks an artifact the profile requires (e.g. its 30m log)",
        ),
        CodeInfo(
            "flag-without-file", Severity.ERROR, "List.xlsx flags a Verbose log/report for a sample, but there is none"
        ),
        CodeInfo(
            "file-without-flag",
            Severity.ERROR,
            "A Verbose log/report exists for a sample whose List.xlsx flag is not set",
        ),
        CodeInfo("artifact-empty", Severity.ERROR, "A per-sample file that must not be empty is empty"),
        CodeInfo(
            "artifact-empty-allowed",
            Severity.WARNING,
            "A per-sample file is empty (allowed: e.g. malware blocked Sysinfo collection)",
        ),
        CodeInfo(
            "pe-results-empty",
            Severity.ERROR,
            "impfuzzy/PEfile result is empty for a sample the list says is a PE file",
        ),
        CodeInfo(
            "non-pe-results-not-empty",
            Severity.ERROR,
            "impfuzzy/PEfile result is not empty for a sample the list says is not a PE file",
        ),
        CodeInfo(
            "unreferenced-file", Severity.WARNING, "A file in a per-sample folder refers to no sample of List.xlsx"
        ),
        CodeInfo("artifact-ambiguous", Severity.WARNING, "A file name contains the hashes of more than one sample"),
    ]


def hashes_in(path: str) -> set[str]:
    return {match.lower() for match in HEX_RUN.findall(path)}


def _under(path: str, folder: str) -> bool:
    return path.lower().startswith(folder.lower().rstrip("/") + "/")


def map_files(
    samples: Sequence[Mapping[str, Any]], entries: Mapping[str, int], folder: str
) -> tuple[dict[str, list[str]], list[str], list[tuple[str, list[str]]]]:
    """Files under ``folder`` by sample id, files that match no sample, and files matching several."""
    by_hash: dict[str, str] = {}
    for sample in samples:
        for kind in ("sha256", "sha1", "md5"):
            if sample.get(kind):
                by_hash[str(sample[kind])] = str(sample["id"])
    found: dict[str, list[str]] = {}
    unmatched: list[str] = []
    ambiguous: list[tuple[str, list[str]]] = []
    for path in sorted(entries):
        if not _under(path, folder):
            continue
        owners = sorted({by_hash[value] for value in hashes_in(path) if value in by_hash})
        if not owners:
            unmatched.append(path)
            continue
        if len(owners) > 1:
            ambiguous.append((path, owners))
        for owner in owners:
            found.setdefault(owner, []).append(path)
    return found, unmatched, ambiguous


@hookimpl
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    samples = context.get(SAMPLES)
    if samples is None:
        index = context.profile.sample_index
        if (
            index
            and context.at_least("fast")
            and context.missing(SAMPLES)
            and any(path.lower() == index.lower() for path in context.entries)
        ):
            yield check_not_run(
                f"cross-references between {index} and the per-sample files",
                f"the rows of {index} (shared data {SAMPLES.name!r})",
                SAMPLES.provider,
            )
        return
    sample_files: dict[str, dict[str, list[str]]] = {str(sample["id"]): {} for sample in samples}
    unreferenced_folders = {folder.lower() for folder in context.profile.document.get("check_unreferenced", [])}
    for rule in context.profile.per_sample:
        name, folder = str(rule["name"]), str(rule["folder"])
        found, unmatched, ambiguous = map_files(samples, context.entries, folder)
        for path, owners in ambiguous:
            yield Finding(
                "artifact-ambiguous", Severity.WARNING, f"names {len(owners)} samples: {', '.join(owners)}", path=path
            )
        if folder.lower() in unreferenced_folders:
            for path in unmatched:
                yield Finding(
                    "unreferenced-file",
                    Severity.WARNING,
                    f"in {folder}/ but no List.xlsx sample's hash is in its name",
                    path=path,
                )
        for sample in samples:
            sample_id = str(sample["id"])
            files = found.get(sample_id, [])
            sample_files[sample_id][name] = files
            yield from _presence(rule, sample, files, folder)
            yield from _emptiness(rule, sample, files, context.entries)
    context.put(SAMPLE_FILES, sample_files)


def _presence(rule: Mapping[str, Any], sample: Mapping[str, Any], files: list[str], folder: str) -> Iterator[Finding]:
    presence = str(rule["presence"])
    sample_id = str(sample["id"])
    name = str(rule["name"])
    if presence == "required" and not files:
        yield Finding(
            "sample-artifact-missing",
            Severity.ERROR,
            f"no {name} file for this sample under {folder}/"
            + (f" ({rule['description']})" if rule.get("description") else ""),
            path=folder,
            subject=sample_id,
        )
    elif presence.startswith("flag:"):
        flag = sample.get("flags", {}).get(presence[5:])
        if flag is True and not files:
            yield Finding(
                "flag-without-file",
                Severity.ERROR,
                f"List.xlsx row {sample.get('row')} sets the {presence[5:]} flag but there is no file under {folder}/",
                path=folder,
                subject=sample_id,
            )
        elif flag is False and files:
            for path in files:
                yield Finding(
                    "file-without-flag",
                    Severity.ERROR,
                    f"List.xlsx row {sample.get('row')} does not set the {presence[5:]} flag",
                    path=path,
                    subject=sample_id,
                )


def _emptiness(
    rule: Mapping[str, Any], sample: Mapping[str, Any], files: list[str], entries: Mapping[str, int]
) -> Iterator[Finding]:
    policy = rule.get("empty", "allowed")
    sample_id = str(sample["id"])
    for path in files:
        empty = entries.get(path, 0) == 0
        if policy == "never" and empty:
            yield Finding(
                "artifact-empty", Severity.ERROR, f"{rule['name']} file is empty", path=path, subject=sample_id
            )
        elif policy == "warn" and empty:
            yield Finding(
                "artifact-empty-allowed",
                Severity.WARNING,
                f"{rule['name']} file is empty (collection may have been blocked by the malware)",
                path=path,
                subject=sample_id,
            )
        elif policy == "exactly-when-not-pe":
            is_pe = sample.get("is_pe")
            if is_pe is True and empty:
                yield Finding(
                    "pe-results-empty",
                    Severity.ERROR,
                    f"{rule['name']} result is empty, but the sample's extension {sample.get('extension')!r} is a PE file",
                    path=path,
                    subject=sample_id,
                )
            elif is_pe is False and not empty:
                yield Finding(
                    "non-pe-results-not-empty",
                    Severity.ERROR,
                    f"{rule['name']} result is not empty, but the sample's extension {sample.get('extension')!r} is not a PE file",
                    path=path,
                    subject=sample_id,
                )
