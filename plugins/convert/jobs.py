"""What ``mk2ds convert`` will do: the jobs (one per log: its source, how findings name it, where its records
and rejects go) planned from the inputs and ``-o``, before anything is read or written.

A folder INPUT is walked as ``verify`` walks a dataset (:class:`~mk2ds.core.dataset.FolderDataset`); links
that leave it become ``unsafe-path`` findings, never read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mk2ds.core import (
    Finding,
    Severity,
    UsageError,
)
from mk2ds.core.dataset import FolderDataset, UnsafeName
from mk2ds.core.output_guard import refuse_output_over_inputs

__all__ = ["STDIN_NAME", "ConvertJob", "JobResult", "plan_jobs", "refuse_side_outputs_over_files"]

STDIN_NAME = "<stdin>"
LISTED_FINDINGS = 20
DEFAULT_RANGE_SIZE = "64M"
#: Record outputs that keep ``--lossless``'s layout keys for ``mk2ds format`` (the only formats it reads).
LOSSLESS_FORMATS = ("jsonl", "json")


@dataclass(frozen=True)
class ConvertJob:
    """One log to convert: where it comes from, how findings name it, where its records and rejects go."""

    source: str
    name: str
    output: str
    rejects: str | None
    size: int = 0
    #: ``rejects`` was named by the user (``--rejects FILE``): it is never removed, whatever it holds.
    rejects_given: bool = False
    #: The Sysinfo time zone of the log's sample, when it is read as part of a distribution.
    sysinfo_offset: str | None = None
    #: The host facts of the log's sample's Sysinfo (``(key, value)`` pairs: ``host_name``, ``os_name``,
    #: ``os_version``), for outputs that describe the host; see :mod:`mk2ds.plugins.convert.sysinfo_hosts`.
    sysinfo_host: tuple[tuple[str, str], ...] | None = None


@dataclass
class JobResult:
    job: ConvertJob
    stats: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    rejects_written: bool = False
    error: str | None = None
    internal: bool = False
    #: Findings per code, also those only counted (the reader's ``finding_counts``; for merging parts).
    finding_counts: dict[str, int] = field(default_factory=dict)


def _logs_below(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Every ``*.log`` regular file below ``folder`` (sorted), and what was refused on the way with the reason.

    The folder is walked as ``verify`` walks a dataset (:class:`~mk2ds.core.dataset.FolderDataset`): iteratively,
    within its depth and path-length limits, never leaving the input tree. A link that points outside it is
    refused, not followed (``leak.log -> /etc/passwd`` would copy a system file into the rejects); a link to a
    folder is not descended into (its logs are converted under their real path; no loops).
    """
    logs: list[Path] = []
    refused: list[tuple[Path, str]] = []
    for item in FolderDataset(folder).walk():
        if isinstance(item, UnsafeName):
            refused.append((folder / item.path, item.reason.replace("outside the dataset", "outside the input folder")))
        elif not item.is_dir and item.path.lower().endswith(".log"):
            logs.append(folder / item.path)
    return sorted(logs), sorted(refused)


def _folder_inputs(given: str, suffix: str, refused: list[Finding] | None) -> list[tuple[str, str, Path, int]]:
    """``(source, name, output path relative to OUT, size)`` of every log below the folder ``given``; links
    leaving it become ``unsafe-path`` findings in ``refused``. :raises UsageError: no log below it."""
    path = Path(given)
    logs, links = _logs_below(path)
    display = given.rstrip("/" + os.sep)
    for link, reason in links:
        name = f"{display}/{link.relative_to(path).as_posix()}"
        message = f"{reason}; not converted (mk2ds never reads outside the input folder {display})"
        if refused is not None:
            refused.append(Finding("unsafe-path", Severity.ERROR, message, path=name, subject=name))
    if not logs:
        named = "".join(f"; refused {display}/{link.relative_to(path).as_posix()}: {reason}" for link, reason in links)
        raise UsageError(f"{given}: no *.log files below this folder{named}")
    found = []
    for log in logs:
        relative = log.relative_to(path)
        found.append((str(log), f"{display}/{relative.as_posix()}", relative.with_suffix(suffix), log.stat().st_size))
    return found


#: One log found among the inputs: ``(source, name, output path relative to OUT, size)``.
_Found = tuple[str, str, Path, int]


def plan_jobs(
    inputs: list[str], out: str, suffix: str, rejects: str | None = None, refused: list[Finding] | None = None
) -> list[ConvertJob]:
    """Map inputs to output files (see the module documentation). :raises UsageError: naming the input.

    Links below a folder INPUT that leave it are not converted: each becomes an ``unsafe-path`` finding
    appended to ``refused`` (when given).
    """
    if inputs.count("-") > 1 or ("-" in inputs and len(inputs) > 1):
        raise UsageError("'-' (standard input) must be the only INPUT")
    found, from_folder = _find_inputs(inputs, suffix, refused)
    single = len(found) == 1 and not from_folder
    if out == "-" and not single:
        raise UsageError("-o - (standard output) needs exactly one input file")
    if rejects is not None and not single:
        raise UsageError("--rejects FILE needs exactly one input file (otherwise each output gets OUTPUT.rejects)")
    if single and (out == "-" or not (Path(out).is_dir() or out.endswith(("/", os.sep)))):
        jobs = [_single_job(found[0], out, rejects)]
    else:
        jobs = _jobs_into_folder(found, out)
    _refuse_clashes(jobs)
    return jobs


def _find_inputs(inputs: list[str], suffix: str, refused: list[Finding] | None) -> tuple[list[_Found], bool]:
    """The logs the inputs name, in order, and whether one input was a folder. :raises UsageError:"""
    found: list[_Found] = []
    from_folder = False
    for given in inputs:
        if given == "-":
            found.append(("-", STDIN_NAME, Path("stdin" + suffix), 0))
            continue
        path = Path(given)
        if path.is_dir():
            found.extend(_folder_inputs(given, suffix, refused))
            from_folder = True
        elif path.is_file():
            found.append((given, given, Path(path.name).with_suffix(suffix), path.stat().st_size))
        else:
            raise UsageError(f"{given}: no such file or folder")
    return found, from_folder


def _single_job(found: _Found, out: str, rejects: str | None) -> ConvertJob:
    """The job of one input file written to the file ``out`` (``-``: standard output, without rejects file)."""
    source, name, _relative, size = found
    chosen_rejects = rejects if rejects is not None else (None if out == "-" else out + ".rejects")
    return ConvertJob(source, name, out, chosen_rejects, size, rejects_given=rejects is not None)


def _jobs_into_folder(found: list[_Found], out: str) -> list[ConvertJob]:
    """The jobs of several inputs (or a folder) written below the folder ``out``. :raises UsageError:"""
    if Path(out).is_file():
        raise UsageError(f"{out} is a file; with several inputs or a folder, -o names a folder")
    return [
        ConvertJob(source, name, str(Path(out) / relative), str(Path(out) / relative) + ".rejects", size)
        for source, name, relative, size in found
    ]


def _refuse_clashes(jobs: list[ConvertJob]) -> None:
    """:raises UsageError: two jobs write the same output, or an output would overwrite its input."""
    outputs: dict[str, str] = {}
    for job in jobs:
        if job.output in outputs:
            raise UsageError(f"{outputs[job.output]} and {job.name} would both be written to {job.output}")
        outputs[job.output] = job.name
        if job.source != "-" and job.output != "-" and Path(job.output).resolve() == Path(job.source).resolve():
            raise UsageError(f"{job.name}: the output would overwrite the input")


def refuse_side_outputs_over_files(jobs: list[ConvertJob], report: str | None) -> None:
    """Refuse a rejects file or ``--report`` FILE that is an input or another output (written atomically,
    it would replace that file). Outputs are checked against inputs by :func:`plan_jobs`. :raises UsageError:"""
    sources = [job.source for job in jobs]
    outputs = [job.output for job in jobs]
    for job in jobs:
        refuse_output_over_inputs(job.output, sources)  # also a hard link to an input
        refuse_output_over_inputs(job.rejects, sources, option="--rejects")
        refuse_output_over_inputs(job.rejects, outputs, option="--rejects", role="output")
    if report is not None:
        refuse_output_over_inputs(report, sources, option="--report")
        refuse_output_over_inputs(report, outputs, option="--report", role="output")
        refuse_output_over_inputs(
            report, [job.rejects for job in jobs if job.rejects], option="--report", role="rejects file"
        )
