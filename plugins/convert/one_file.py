"""One log converted: read with the reader plugin (``mk2ds_open_log``), written with the record output, its
rejected lines to ``<output>.rejects``; the piece every engine runs (local processes, Dask workers).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import Any, BinaryIO

import pluggy

from mk2ds.core import (
    Finding,
    Severity,
)
from mk2ds.core.atomic import atomic_writer
from mk2ds.core.outputs import OutputFormat, open_record_writer
from mk2ds.core.progress import Progress
from mk2ds.plugins.convert.jobs import ConvertJob, JobResult
from mk2ds.plugins.reader.byte_ranges import FilePart, RangeStream, part_writer

__all__ = ["convert_file", "remove_stale_rejects", "writer_options"]

_REJECTS_START = re.compile(rb"[1-9][0-9]{0,19}\t")


def remove_stale_rejects(job: ConvertJob) -> None:
    """Remove ``job``'s default rejects file left by an earlier run (it describes an output just replaced).

    Only ever a file mk2ds wrote: never a ``--rejects FILE`` the user named (``SHA256SUMS``, ``notes.txt``),
    and only a regular file that starts like a rejects file (a line number, a TAB).
    """
    if job.rejects is None or job.rejects_given or job.output == "-":
        return
    if os.path.islink(job.rejects) or not os.path.isfile(job.rejects):  # never open a FIFO or a device
        return
    try:
        with open(job.rejects, "rb") as handle:
            if not _REJECTS_START.match(handle.read(24)):
                return
    except OSError:
        return
    os.unlink(job.rejects)


def _reader_options(
    args: argparse.Namespace,
    sink: Callable[[int, bytes], None],
    part: FilePart | None = None,
    sysinfo_offset: str | None = None,
) -> argparse.Namespace:
    options = argparse.Namespace(
        encoding=getattr(args, "encoding", "auto"),
        assume_offset=getattr(args, "assume_offset", None),
        sysinfo_offset=sysinfo_offset,
        provenance=bool(getattr(args, "provenance", False)),
        lossless=bool(getattr(args, "lossless", False) or getattr(args, "ecs_original", False)),
        reject_sink=sink,
    )
    if part is not None:
        vars(options).update(part.reader_options())
    return options


def writer_options(args: argparse.Namespace, job: ConvertJob) -> argparse.Namespace:
    """The options of ``job``'s record writer: ``args``, plus ``sysinfo_host`` (a dict of the host facts of the
    log's sample's Sysinfo, :mod:`mk2ds.plugins.convert.sysinfo_hosts`) when the job has them."""
    if not job.sysinfo_host:
        return args
    return argparse.Namespace(**{**vars(args), "sysinfo_host": dict(job.sysinfo_host)})


def _record_source(reader: Any, writer: Any) -> tuple[Iterable[Any], Callable[[Any], None]]:
    """The records and how to write them: encoded JSON straight from the reader when both sides can.

    A JSON Lines writer with ``write_encoded`` and a reader with ``encoded`` (the Mark II reader) skip building
    Python objects for the lines the reader's compiled path converts; the bytes are the same.
    """
    write_encoded = getattr(writer, "write_encoded", None)
    encode = getattr(writer, "encode", None)
    encoded = getattr(reader, "encoded", None)
    if write_encoded is not None and encode is not None and encoded is not None:
        return encoded(encode), write_encoded
    return reader, writer.write


def convert_file(
    pm: pluggy.PluginManager,
    job: ConvertJob,
    output: OutputFormat,
    args: argparse.Namespace,
    progress: Progress | None = None,
    *,
    part: FilePart | None = None,
) -> JobResult:
    """Convert one log (or, with ``part``, one byte range of it); outputs appear only complete.

    OS errors become ``result.error``; bugs ``internal``.
    """
    result = JobResult(job)
    open_output = atomic_writer if part is None else part_writer  # a part is merged into a durable output
    try:
        with ExitStack() as stack:
            source: BinaryIO = sys.stdin.buffer if job.source == "-" else stack.enter_context(open(job.source, "rb"))
            if part is not None:
                source = RangeStream(source, part.start, part.end)  # type: ignore[assignment]
            rejects: list[BinaryIO] = []

            def sink(number: int, raw: bytes) -> None:
                if job.rejects is None:
                    return
                if not rejects:
                    rejects.append(stack.enter_context(open_output(job.rejects)))
                rejects[0].write(b"%d\t%s\n" % (number, raw))

            reader = pm.hook.mk2ds_open_log(
                stream=source, name=job.name, options=_reader_options(args, sink, part, job.sysinfo_offset)
            )
            if reader is None:
                result.error = f"{job.name}: no plugin reads this file as a Mark II log"
                return result
            target: BinaryIO = sys.stdout.buffer if job.output == "-" else stack.enter_context(open_output(job.output))
            writer = open_record_writer(output, target, writer_options(args, job))
            records, write = _record_source(reader, writer)
            if progress is None or not progress.enabled:
                for record in records:
                    write(record)
            else:
                done = 0
                for count, record in enumerate(records, 1):
                    write(record)
                    if not count & 63:  # an item may be a whole block of encoded records
                        now = int(reader.stats.get("bytes", 0))
                        progress.advance(now - done, items=0)
                        done = now
                progress.advance(max(job.size - done, 0), items=0)
            writer.close()
            result.rejects_written = bool(rejects)
        result.stats = dict(reader.stats)
        result.findings = list(reader.findings)
        result.finding_counts = dict(getattr(reader, "finding_counts", None) or {})
        if not result.rejects_written and part is None:
            remove_stale_rejects(job)
    except OSError as error:
        where = error.filename or job.name
        result.error = f"{where}: {error.strerror or error}"
    except Exception as error:  # noqa: BLE001 - reported as an internal error, the other files go on
        result.error = f"{job.name}: internal error: {type(error).__name__}: {error}"
        result.internal = True
        result.findings.append(
            Finding(
                "plugin-error",
                Severity.ERROR,
                result.error,
                path=job.name,
                details={"traceback": traceback.format_exc()[-4000:]},
            )
        )
    return result
