"""Compare checksum manifests with the files that are there: the shared core of ``fixity`` and ``bag_payload``.

One pass: manifest problems become findings (file:line), every listed name is matched to a file (exactly, or
after Unicode NFC normalization, which is reported), files no manifest lists are reported, then every listed
file that exists is hashed once with every algorithm any manifest asks for, and each disagreement is reported
naming the file, the manifest and line, the expected and the found digest. Nothing stops at the first problem.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from mk2ds.core.findings import CodeInfo, Fact, Finding, Severity
from mk2ds.core.verify_context import VerifyContext
from mk2ds.plugins.bagit.hashing import Source, hash_files
from mk2ds.plugins.bagit.manifests import Manifest, NameIndex

__all__ = ["CODES", "ManifestCheck", "audit", "jobs_option", "progress_option"]

#: Codes shared by every fixity check (plain distributions and BagIt bags, and pack's name checks); registered
#: once, by the ``fixity`` plugin.
CODES: tuple[CodeInfo, ...] = (
    CodeInfo("checksum-mismatch", Severity.ERROR, "A file's content does not match its checksum in a manifest"),
    CodeInfo("checksum-file-missing", Severity.ERROR, "A file listed in a checksum manifest is not there"),
    CodeInfo("checksum-file-unlisted", Severity.ERROR, "A file is there but its checksum manifest does not list it"),
    CodeInfo(
        "checksum-manifest-malformed", Severity.ERROR, "A checksum manifest line cannot be read (or the file has a BOM)"
    ),
    CodeInfo(
        "checksum-manifest-duplicate",
        Severity.WARNING,
        "A checksum manifest lists a path twice (an error when the digests differ)",
    ),
    CodeInfo(
        "checksum-manifest-too-large",
        Severity.ERROR,
        "A checksum manifest goes beyond what mk2ds reads (a line, entries or problems); the rest is not read",
    ),
    CodeInfo(
        "checksum-unsafe-path",
        Severity.ERROR,
        "A checksum manifest names a path outside the dataset ('..', absolute); never opened",
    ),
    CodeInfo(
        "name-normalization-differs",
        Severity.WARNING,
        "A listed name matches a file only after Unicode NFC/NFD normalization",
    ),
    CodeInfo(
        "name-normalization-conflict", Severity.ERROR, "Two file names differ only in Unicode normalization (NFC/NFD)"
    ),
)

_PROBLEM_CODES = {
    "malformed": ("checksum-manifest-malformed", Severity.ERROR),
    "bom": ("checksum-manifest-malformed", Severity.WARNING),
    "duplicate": ("checksum-manifest-duplicate", Severity.WARNING),
    "conflict": ("checksum-manifest-duplicate", Severity.ERROR),
    "unsafe": ("checksum-unsafe-path", Severity.ERROR),
    "limit": ("checksum-manifest-too-large", Severity.ERROR),
}


def jobs_option(context: VerifyContext) -> int:
    """Worker processes for hashing: the run's ``-j`` (0 means one per core)."""
    from mk2ds.core.walker import default_jobs

    jobs = context.option("jobs", 1)
    jobs = jobs if isinstance(jobs, int) else 1
    return default_jobs() if jobs == 0 else max(1, jobs)


def progress_option(context: VerifyContext) -> bool | None:
    """No progress line with ``--quiet``; otherwise on a TTY only."""
    return False if context.option("quiet", False) else None


@dataclass(frozen=True)
class ManifestCheck:
    """A manifest to check. Its paths are relative to ``base`` (a folder; ``""`` for the root).

    ``covers``: the files it must list (every payload file for a BagIt manifest); ``None`` when it may list a
    subset (a ``*.sha256`` sidecar, a tag manifest).
    """

    manifest: Manifest
    base: str = ""
    covers: frozenset[str] | None = None

    def full_path(self, path: str) -> str:
        return f"{self.base}/{path}" if self.base else path


@dataclass
class _Expectation:
    check: ManifestCheck
    line: int
    digest: str


def _where(check: ManifestCheck, line: int) -> str:
    return f"{check.manifest.name} line {line}"


def audit(
    checks: Sequence[ManifestCheck],
    files: Mapping[str, int],
    source: Source,
    *,
    hash_contents: bool = True,
    jobs: int = 1,
    show_progress: bool | None = None,
    label: str = "fixity",
    fact_key: str = "fixity",
) -> Iterator[Finding | Fact]:
    """Findings for every manifest in ``checks`` against ``files`` (name → size, names as ``source`` knows them).

    With ``hash_contents`` false only names are compared (levels ``structure`` and ``fast``).
    """
    for check in checks:
        for problem in check.manifest.problems:
            code, severity = _PROBLEM_CODES[problem.kind]
            yield Finding(code, severity, problem.message, path=check.manifest.name, line=problem.line)

    index = NameIndex(files)
    for group in index.conflicts:
        yield Finding(
            "name-normalization-conflict",
            Severity.ERROR,
            f"names differ only in Unicode normalization: {', '.join(repr(name) for name in group)}",
            path=group[0],
            details={"names": group},
        )

    expectations: dict[str, list[_Expectation]] = {}
    missing: dict[str, list[str]] = {}
    for check in checks:
        listed: set[str] = set()
        for entry in check.manifest.entries:
            wanted = check.full_path(entry.path)
            actual = index.find(wanted)
            if actual is None:
                missing.setdefault(wanted, []).append(_where(check, entry.line))
                continue
            if actual != wanted:
                yield Finding(
                    "name-normalization-differs",
                    Severity.WARNING,
                    f"listed in {_where(check, entry.line)} in another Unicode normalization form; matched",
                    path=actual,
                    details={"listed": wanted, "manifest": check.manifest.name, "line": entry.line},
                )
            listed.add(actual)
            expectations.setdefault(actual, []).append(_Expectation(check, entry.line, entry.digest))
        if check.covers is not None:
            for name in sorted(check.covers - listed):
                yield Finding(
                    "checksum-file-unlisted",
                    Severity.ERROR,
                    f"present but not listed in {check.manifest.name}",
                    path=name,
                    details={"manifest": check.manifest.name},
                )
    for name, places in sorted(missing.items()):
        yield Finding(
            "checksum-file-missing",
            Severity.ERROR,
            f"listed in {', '.join(places)} but not present",
            path=name,
            details={"listed_in": places},
        )

    tally = _Tally()
    if hash_contents:
        yield from _compare_contents(
            expectations, files, source, tally, jobs=jobs, label=label, show_progress=show_progress
        )
    summary: dict[str, object] = {
        "manifests": [check.manifest.name for check in checks],
        "listed": sum(len(check.manifest.entries) for check in checks),
        "missing": len(missing),
        "checked": tally.checked,
        "mismatched": tally.mismatched,
        "bytes": tally.bytes_read,
    }
    if not hash_contents:
        summary["contents"] = "not hashed at this level (use --level full)"
    yield Fact(fact_key, summary)


@dataclass
class _Tally:
    checked: int = 0
    mismatched: int = 0
    bytes_read: int = 0


def _compare_contents(
    expectations: dict[str, list[_Expectation]],
    files: Mapping[str, int],
    source: Source,
    tally: _Tally,
    *,
    jobs: int,
    label: str,
    show_progress: bool | None,
) -> Iterator[Finding]:
    """Hash every expected file once with all the algorithms its manifests use; report each disagreement."""
    by_algorithms: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for name, expected in sorted(expectations.items()):
        algorithms = tuple(sorted({expectation.check.manifest.algorithm for expectation in expected}))
        by_algorithms.setdefault(algorithms, []).append((name, files[name]))
    for algorithms, batch in by_algorithms.items():
        results = hash_files(source, batch, algorithms, jobs=jobs, label=label, show_progress=show_progress)
        for name, _size in batch:
            result = results[name]
            tally.bytes_read += result.size
            if result.error:
                yield Finding("unreadable-file", Severity.ERROR, f"cannot be hashed: {result.error}", path=name)
                continue
            tally.checked += 1
            disagreements = [
                {
                    "manifest": expectation.check.manifest.name,
                    "line": expectation.line,
                    "algorithm": expectation.check.manifest.algorithm,
                    "expected": expectation.digest,
                    "found": result.digests[expectation.check.manifest.algorithm],
                }
                for expectation in expectations[name]
                if result.digests[expectation.check.manifest.algorithm] != expectation.digest
            ]
            if disagreements:
                tally.mismatched += 1
                places = ", ".join(
                    f"{item['manifest']} line {item['line']} ({item['algorithm']})" for item in disagreements
                )
                yield Finding(
                    "checksum-mismatch",
                    Severity.ERROR,
                    f"content differs from {places}",
                    path=name,
                    details={"mismatches": disagreements},
                )
