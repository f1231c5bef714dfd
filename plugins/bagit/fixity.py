"""Fixity of a plain distribution: when it carries checksums, every file is hashed and compared.

Manifests recognized (names without regard to case):

* ``SHA256SUMS`` / ``SHA512SUMS`` (and the other ``*SUMS``) at the top: ``sha256sum`` format, must list every
  file of the distribution except checksum files;
* ``manifest-<alg>.txt`` at the top: the BagIt manifest format written by ``mk2ds manifest --bagit``, paths
  relative to the root, same completeness rule;
* ``<file>.sha256`` (or ``.sha512``, ...) anywhere: a sidecar for the files it names, relative to its folder;
  it may also hold just a digest, for the file named like it without the suffix;
* ``--checksums FILE``: a manifest kept outside the dataset (for read-only folders), ``sha256sum`` format.

Mismatches, missing files and files no manifest lists are findings naming the file (see
:mod:`mk2ds.plugins.bagit.audit`). Contents are hashed at level ``full`` only; lower levels compare names.
A BagIt bag's own manifests are checked by :mod:`mk2ds.plugins.bagit.payload`, not here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import BinaryIO, cast

from mk2ds.core import CodeInfo, Dataset, Fact, Finding, OptionGroup, Severity, VerifyContext, hookimpl
from mk2ds.plugins.bagit.audit import CODES, ManifestCheck, audit, jobs_option, progress_option
from mk2ds.plugins.bagit.hashing import source_for
from mk2ds.plugins.bagit.manifests import (
    Manifest,
    ManifestEntry,
    algorithm_from_name,
    is_checksum_file,
    parse_bagit_manifest,
    parse_sums,
)

_COMPLETE_SUMS = re.compile(r"(?i)(md5|sha1|sha224|sha256|sha384|sha512)sums(\.txt)?\Z")
_BAGIT_STYLE = re.compile(r"(?i)manifest-(md5|sha1|sha224|sha256|sha384|sha512)\.txt\Z")
_SIDECAR = re.compile(r"(?i).+\.(md5|sha1|sha224|sha256|sha384|sha512)\Z")
_BARE_DIGEST = re.compile(rb"\s*([0-9a-fA-F]{32,128})\s*\Z")


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return list(CODES)


@hookimpl
def mk2ds_add_verify_options(group: OptionGroup) -> None:
    group.add_argument(
        "--checksums",
        metavar="FILE",
        help="also check the files against this sha256sum-style manifest (paths relative to the dataset root)",
    )


#: A sidecar (``x.zip.sha256``) holding just a digest is this small; a bigger one is read as a manifest.
SIDECAR_HEAD_BYTES = 4096


def read_manifest(name: str, data: bytes | BinaryIO) -> tuple[Manifest, str]:
    """Parse a manifest file found at ``name`` in the dataset (its bytes, or a stream read line by line);
    returns it and the folder its paths start from."""
    base_name = name.rsplit("/", 1)[-1]
    base = name.rsplit("/", 1)[0] if "/" in name else ""
    algorithm = algorithm_from_name(name)
    if "/" not in name and _BAGIT_STYLE.match(base_name):
        return parse_bagit_manifest(data, name, algorithm or "sha256"), base
    if _SIDECAR.match(base_name):
        head = data if isinstance(data, bytes) else data.read(SIDECAR_HEAD_BYTES)
        bare = _BARE_DIGEST.match(head)
        if bare:
            target = base_name[: base_name.rindex(".")]
            digest = bare.group(1).decode("ascii").lower()
            return Manifest(name, algorithm or "sha256", entries=[ManifestEntry(target, digest, 1)]), base
        if not isinstance(data, bytes):
            data = cast(BinaryIO, _Rejoined(head, data))
    return parse_sums(data, name, algorithm), base


class _Rejoined(io.RawIOBase):
    """``head`` (already read) followed by the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._head, self._stream = head, stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._stream.read(size)


def _is_complete(name: str) -> bool:
    base_name = name.rsplit("/", 1)[-1]
    return "/" not in name and bool(_COMPLETE_SUMS.match(base_name) or _BAGIT_STYLE.match(base_name))


@hookimpl
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    files = context.entries
    covered = frozenset(path for path in files if not is_checksum_file(path))
    checks: list[ManifestCheck] = []
    for name in sorted(path for path in files if is_checksum_file(path)):
        if not (_is_complete(name) or _SIDECAR.match(name.rsplit("/", 1)[-1])):
            continue  # a signature or a tag manifest: nothing to compare here
        try:
            with dataset.open(name) as stream:  # streamed line by line: a manifest may be huge
                manifest, base = read_manifest(name, stream)
        except OSError as error:
            yield Finding("unreadable-file", Severity.ERROR, f"checksum manifest cannot be read: {error}", path=name)
            continue
        checks.append(ManifestCheck(manifest, base, covered if _is_complete(name) else None))
    external = context.option("checksums")
    if external:
        try:
            with open(external, "rb") as stream:  # the user's own file: a pipe (<(...)) is fine here
                external_manifest = parse_sums(stream, str(external))
        except OSError as error:
            yield Finding(
                "unreadable-file",
                Severity.ERROR,
                f"--checksums file cannot be read: {error.strerror or error}",
                path=str(external),
            )
        else:
            checks.append(ManifestCheck(external_manifest, "", covered))
    if not checks:
        return
    yield from audit(
        checks,
        files,
        source_for(dataset),
        hash_contents=context.at_least("full"),
        jobs=jobs_option(context),
        show_progress=progress_option(context),
        label="fixity",
    )
