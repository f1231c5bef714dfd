"""Streaming file hashing for fixity checks, manifests and packing: many files, several algorithms, ``-j`` processes.

Every file is read once, in 1 MiB blocks into a reused buffer, and fed to every requested algorithm (hashlib
releases the GIL and uses OpenSSL, so one Python process keeps up with ``sha256sum``). With ``jobs > 1`` files
are spread over worker processes, biggest first. Optionally each file is copied while it is read (``copy_to``),
which is how ``mk2ds pack`` builds a bag's ``data/`` folder with a single pass over the source.

Files are addressed by name inside a :class:`FolderSource` (a folder on disk, fastest) or a
:class:`DatasetSource` (any dataset, zips included, reopened in each worker). Names must come from a dataset
walk, never from a manifest: a manifest could name ``../../etc/passwd``.

A file that cannot be read gives a :class:`HashResult` with ``error`` set; hashing never raises for one bad file.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from mk2ds.core.dataset import Dataset, FolderDataset, SubDataset, open_dataset, open_regular_file
from mk2ds.core.progress import Progress

__all__ = [
    "BLOCK_SIZE",
    "SUPPORTED_ALGORITHMS",
    "DatasetSource",
    "FolderSource",
    "HashResult",
    "hash_bytes",
    "hash_files",
    "hash_source_file",
    "hash_stream",
    "source_for",
]

BLOCK_SIZE = 1 << 20
#: Algorithms accepted in manifests, strongest first (RFC 8493 validators must support sha256 and sha512).
SUPPORTED_ALGORITHMS = ("sha512", "sha384", "sha256", "sha224", "sha1", "md5")
#: Small files are sent to workers in batches of about this many bytes, to keep per-task overhead low.
BATCH_BYTES = 32 << 20
BATCH_FILES = 256


@dataclass(frozen=True)
class FolderSource:
    """Files under a folder on disk; ``preserve_times`` copies modification times when copying."""

    root: str
    preserve_times: bool = True

    def open(self, name: str) -> BinaryIO:
        # a regular file only (a FIFO put in a listed file's place would block the run in open())
        return open_regular_file(os.path.join(self.root, name), name, buffering=0)

    def modification_time(self, name: str) -> float | None:
        if not self.preserve_times:
            return None
        try:
            return os.stat(os.path.join(self.root, name)).st_mtime
        except OSError:
            return None


@dataclass(frozen=True)
class DatasetSource:
    """Files of a dataset (folder or zip) at ``location``, below ``prefix`` (``"data"`` for a bag payload)."""

    location: str
    prefix: str = ""

    def open(self, name: str) -> BinaryIO:
        return _opened_dataset(self.location, self.prefix).open(name)

    def modification_time(self, name: str) -> float | None:
        return None


Source = FolderSource | DatasetSource

_DATASETS: dict[tuple[str, str], Dataset] = {}


def _opened_dataset(location: str, prefix: str) -> Dataset:
    """One open dataset per process and location (a zip is opened once, not once per file)."""
    key = (location, prefix)
    if key not in _DATASETS:
        dataset = open_dataset(location)
        _DATASETS[key] = SubDataset(dataset, prefix) if prefix else dataset
    return _DATASETS[key]


def _close_datasets() -> None:
    """Close the datasets this process opened (in a fresh worker: the copies inherited through fork)."""
    for dataset in _DATASETS.values():
        dataset.close()
    _DATASETS.clear()


def source_for(dataset: Dataset) -> Source:
    """The fastest way to read the files of ``dataset``: straight from disk when it is a folder."""
    if isinstance(dataset, FolderDataset):
        return FolderSource(str(dataset.root))
    if isinstance(dataset, SubDataset):
        if isinstance(dataset.container, FolderDataset):
            return FolderSource(os.path.join(str(dataset.container.root), dataset.prefix))
        return DatasetSource(dataset.container.location, dataset.prefix)
    return DatasetSource(dataset.location)


@dataclass(frozen=True)
class HashResult:
    """Digests of one file (``algorithm -> lower-case hex``), the bytes read, or why it could not be read."""

    name: str
    size: int
    digests: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def hash_bytes(data: bytes, algorithms: Sequence[str]) -> dict[str, str]:
    return {algorithm: hashlib.new(algorithm, data).hexdigest() for algorithm in algorithms}


def hash_stream(
    handle: IO[bytes],
    algorithms: Sequence[str],
    sink: IO[bytes] | None = None,
    advance: Callable[[int], None] | None = None,
) -> tuple[int, dict[str, str]]:
    """Read ``handle`` to the end in blocks, hashing (and writing each block to ``sink``); return bytes and digests."""
    hashers = [hashlib.new(algorithm) for algorithm in algorithms]
    buffer = bytearray(BLOCK_SIZE)
    view = memoryview(buffer)
    total = 0
    readinto = getattr(handle, "readinto", None)
    while True:
        if readinto is not None:
            count = readinto(buffer)
            block = view[:count]
        else:
            data = handle.read(BLOCK_SIZE)
            count = len(data)
            block = memoryview(data)
        if not count:
            break
        for hasher in hashers:
            hasher.update(block)
        if sink is not None:
            sink.write(block)
        total += count
        if advance is not None:
            advance(count)
    return total, {algorithm: hasher.hexdigest() for algorithm, hasher in zip(algorithms, hashers, strict=True)}


class _Sink:
    """Passes writes on, remembering a write error (so that a full disk is not taken for an unreadable source)."""

    __slots__ = ("error", "handle")

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.error: OSError | None = None

    def write(self, data: bytes | memoryview) -> int:
        try:
            return self.handle.write(data)
        except OSError as error:
            self.error = error
            raise


def hash_source_file(
    source: Source,
    name: str,
    algorithms: Sequence[str],
    sink: IO[bytes] | None = None,
    advance: Callable[[int], None] | None = None,
) -> HashResult:
    """Hash one file of ``source``; a read error gives a result with ``error`` set instead of raising.

    :raises OSError: writing to ``sink`` failed (a full disk, a read-only folder): the output's fault, not the
        source's, so it is not turned into an unreadable-file result.
    """
    guarded = _Sink(sink) if sink is not None else None
    try:
        with source.open(name) as handle:
            size, digests = hash_stream(handle, algorithms, guarded, advance)  # type: ignore[arg-type]
    except OSError as error:
        if guarded is not None and guarded.error is not None:
            raise guarded.error from None
        return HashResult(name, 0, error=f"{type(error).__name__}: {error.strerror or error}")
    except Exception as error:  # noqa: BLE001 - zip CRC errors, corrupt members: a finding, not a crash
        return HashResult(name, 0, error=f"{type(error).__name__}: {error}")
    return HashResult(name, size, digests)


def _hash_one(
    source: Source, name: str, algorithms: Sequence[str], copy_to: str | None, advance: Callable[[int], None] | None
) -> HashResult:
    if copy_to is None:
        return hash_source_file(source, name, algorithms, None, advance)
    destination = os.path.join(copy_to, name)
    try:
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        target = open(destination, "xb")  # noqa: SIM115 - closed below; "x": never overwrite
    except OSError as error:
        return HashResult(name, 0, error=f"cannot create the copy: {type(error).__name__}: {error.strerror or error}")
    with target:
        result = hash_source_file(source, name, algorithms, target, advance)
    modified = source.modification_time(name)
    if modified is not None and result.error is None:
        os.utime(destination, (modified, modified))
    return result


def _hash_batch(
    source: Source, names: Sequence[str], algorithms: Sequence[str], copy_to: str | None
) -> list[HashResult]:
    return [_hash_one(source, name, algorithms, copy_to, None) for name in names]


def _batches(files: Sequence[tuple[str, int]]) -> Iterator[tuple[list[str], int]]:
    """Biggest files first (keeps every worker busy to the end); small files grouped."""
    ordered = sorted(files, key=lambda item: (-item[1], item[0]))
    names: list[str] = []
    size = 0
    for name, file_size in ordered:
        names.append(name)
        size += file_size
        if size >= BATCH_BYTES or len(names) >= BATCH_FILES:
            yield names, size
            names, size = [], 0
    if names:
        yield names, size


def hash_files(
    source: Source,
    files: Sequence[tuple[str, int]],
    algorithms: Sequence[str],
    *,
    jobs: int = 1,
    copy_to: str | None = None,
    label: str = "hashing",
    show_progress: bool | None = None,
) -> dict[str, HashResult]:
    """Hash every ``(name, expected_size)`` in ``files`` with every algorithm; return results by name.

    :param jobs: worker processes; 1 hashes in this process (with a byte-exact progress line).
    :param copy_to: also copy each file to ``copy_to/name`` (folders created; existing files are never
        overwritten).
    :param show_progress: ``None`` shows progress on a TTY only.
    """
    for algorithm in algorithms:
        hashlib.new(algorithm)  # unknown algorithm: ValueError now, not in a worker
    total = sum(size for _name, size in files)
    progress = Progress(total, label, enabled=show_progress)
    results: dict[str, HashResult] = {}
    try:
        if jobs <= 1 or len(files) < 2:
            for name, _size in sorted(files):
                result = _hash_one(source, name, algorithms, copy_to, lambda count: progress.advance(count, items=0))
                progress.advance(0, items=1)
                results[name] = result
            return results
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context(method), initializer=_close_datasets
        ) as pool:
            futures = {
                pool.submit(_hash_batch, source, names, tuple(algorithms), copy_to): (names, size)
                for names, size in _batches(files)
            }
            for future in concurrent.futures.as_completed(futures):
                names, size = futures[future]
                try:
                    batch = future.result()
                except OSError:
                    raise  # writing a copy failed (hash_source_file): the output's fault, the run stops
                except Exception as error:  # noqa: BLE001 - a dead worker: report its files, keep the rest
                    batch = [HashResult(name, 0, error=f"worker failed: {error}") for name in names]
                for result in batch:
                    results[result.name] = result
                progress.advance(size, items=len(names))
        return results
    finally:
        progress.close()
        _close_datasets()
