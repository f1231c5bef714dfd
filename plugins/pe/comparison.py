"""Comparing one sample's recomputed PE document with the dataset's shipped ``impfuzzy/`` and ``PEfile/`` files.

:mod:`mk2ds.plugins.pe.checks` finds and matches the samples and calls :func:`check_sample` for each; how the
shipped files are read and compared is in :mod:`mk2ds.plugins.pe.results`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mk2ds.core import Dataset, Fact, Finding, Severity, VerifyContext
from mk2ds.plugins.pe import findings_for
from mk2ds.plugins.pe.impfuzzy import ssdeep_compare
from mk2ds.plugins.pe.results import compare_dumps, find_ssdeep_hashes, looks_like_dump

__all__ = ["MAX_RESULT_BYTES", "RESULT_ARTIFACTS", "check_sample"]

RESULT_ARTIFACTS = ("impfuzzy", "pefile")
MAX_RESULT_BYTES = 64 * 1024 * 1024


def check_sample(
    dataset: Dataset,
    context: VerifyContext,
    sample: Mapping[str, Any],
    document: Mapping[str, Any],
    files: Mapping[str, list[str]],
) -> Iterator[Finding | Fact]:
    """Compare one sample's recomputed document with its shipped result files."""
    subject = str(sample["id"])
    origin = str(document["name"])
    yield from findings_for(document, subject=subject, path=origin)
    status = document["status"]
    yield Fact("pe-status", status, subject)
    if status == "error":
        return
    is_pe = status == "pe"
    listed_pe = sample.get("is_pe")
    if listed_pe is not None and listed_pe != is_pe:
        content = "a PE file" if is_pe else "not a PE file"
        yield Finding(
            "pe-extension-mismatch",
            Severity.WARNING,
            f"List.xlsx extension {sample.get('extension')!r} disagrees with the content: {content}",
            path=origin,
            subject=subject,
        )
    if is_pe:
        yield Fact("impfuzzy", document["impfuzzy"], subject)
        yield Fact("imphash", document["imphash"], subject)
    for artifact in RESULT_ARTIFACTS:
        if artifact == "pefile" and not context.at_least("full"):
            continue
        for path in files.get(artifact, []):
            size = context.entries.get(path, 0)
            if not is_pe:
                if size and listed_pe is not False:  # the extension-based check reports the other case
                    yield Finding(
                        "pe-not-pe-but-results",
                        Severity.ERROR,
                        f"not empty ({size} bytes), but the sample is not a PE file ({document.get('not_pe_reason')})",
                        path=path,
                        subject=subject,
                    )
                continue
            if size == 0:
                if listed_pe is not True:
                    yield Finding(
                        "pe-missing-results",
                        Severity.ERROR,
                        "empty, but the sample is a PE file",
                        path=path,
                        subject=subject,
                    )
                continue
            if size > MAX_RESULT_BYTES:
                yield Finding(
                    "results-unparseable",
                    Severity.ERROR,
                    f"{size} bytes: too large to be a {artifact} result",
                    path=path,
                    subject=subject,
                )
                continue
            try:
                text = _decode(dataset.read_bytes(path))
            except OSError as error:  # a damaged zip member: a finding about the file, not a plugin failure
                yield Finding("unreadable-file", Severity.ERROR, f"cannot be read: {error}", path=path, subject=subject)
                continue
            if artifact == "impfuzzy":
                yield from _compare_impfuzzy(text, document, path, subject)
            else:
                yield from _compare_pefile(text, document, path, subject)


def _compare_impfuzzy(text: str, document: Mapping[str, Any], path: str, subject: str) -> Iterator[Finding | Fact]:
    shipped = find_ssdeep_hashes(text)
    if not shipped:
        yield Finding(
            "results-unparseable",
            Severity.ERROR,
            "no ssdeep hash (blocksize:hash:hash) in this impfuzzy file",
            path=path,
            subject=subject,
        )
        return
    recomputed = str(document["impfuzzy"])
    if recomputed in shipped:
        return
    legacy = document.get("impfuzzy_pefile_2023")
    if legacy and legacy in shipped:
        yield Finding(
            "impfuzzy-drift",
            Severity.INFO,
            f"shipped {legacy} is what pefile <= 2023.2.7 gives; today's pefile names wsock32 ordinals differently ({recomputed})",
            path=path,
            subject=subject,
            details={"shipped": legacy, "recomputed": recomputed, "import_string": document["import_string"]},
        )
        return
    score = max(ssdeep_compare(value, recomputed) for value in shipped)
    yield Finding(
        "impfuzzy-mismatch",
        Severity.ERROR,
        f"shipped {', '.join(shipped)}, recomputed {recomputed} (similarity {score})",
        path=path,
        subject=subject,
        details={
            "shipped": shipped,
            "recomputed": recomputed,
            "similarity": score,
            "import_string": document["import_string"],
        },
    )


def _compare_pefile(text: str, document: Mapping[str, Any], path: str, subject: str) -> Iterator[Finding | Fact]:
    if not looks_like_dump(text):
        yield Finding(
            "results-unparseable",
            Severity.ERROR,
            "not pefile dump_info text (no ----------TITLE---------- blocks with field lines)",
            path=path,
            subject=subject,
        )
        return
    comparison = compare_dumps(text, str(document.get("dump_info", "")))
    details = {**comparison.to_details(), "pefile": document["tools"]["pefile"]}
    if comparison.verdict == "mismatch":
        blocks = ", ".join(sorted(comparison.mismatches))
        yield Finding(
            "pefile-mismatch",
            Severity.ERROR,
            f"differs from a dump of the sample in: {blocks}",
            path=path,
            subject=subject,
            details=details,
        )
    elif comparison.verdict == "drift":
        blocks = ", ".join(sorted(comparison.drift))
        yield Finding(
            "pefile-drift",
            Severity.INFO,
            f"differs only as pefile versions differ, in: {blocks}",
            path=path,
            subject=subject,
            details=details,
        )
    yield Fact("pefile-comparison", comparison.verdict, subject)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
