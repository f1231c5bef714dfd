"""Checksum manifests as data: read and write ``sha256sum``-style files and BagIt ``manifest-<alg>.txt``.

Two formats, one model (:class:`Manifest`: entries of path, digest and line number, plus the problems found
while reading, each with its line):

* ``sha256sum`` / ``SHA256SUMS``: ``<hex>  <path>`` (``*<path>`` for binary mode), GNU escaping (a line that
  starts with ``\\`` has ``\\\\``, ``\\n`` and ``\\r`` escaped in its name) and the BSD tagged form
  ``SHA256 (<path>) = <hex>`` that ``sha256sum --tag`` writes.
* BagIt (RFC 8493 §2.1.3): ``<hex> <whitespace> <path>``; from BagIt 1.0 on, ``%``, CR and LF in paths are
  percent-encoded (``%25``, ``%0D``, ``%0A``). bagit-python ≤ 1.9 encodes only CR and LF and writes 0.97
  bags, so 0.97 manifests are decoded the way it does.

Written manifests are reproducible: entries sorted by path (code-point order), LF line endings, UTF-8.

Also here: the path rules. :func:`unsafe_manifest_path` says why a manifest path must never be opened;
:func:`portability_problems` says why a name would change meaning on another platform; :class:`NameIndex`
matches names that differ only in Unicode normalization (NFC vs NFD), as bagit-python does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from mk2ds.core.dataset import is_unsafe_name

__all__ = [
    "DIGEST_LENGTHS",
    "Manifest",
    "ManifestEntry",
    "ManifestProblem",
    "NameIndex",
    "algorithm_for_digest",
    "format_bagit_manifest",
    "format_sums",
    "is_checksum_file",
    "parse_bagit_manifest",
    "parse_sums",
    "portability_problems",
    "unsafe_manifest_path",
]

#: Hex digest length of each supported algorithm.
DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
_HEX = re.compile(r"[0-9a-fA-F]+\Z")
_TAGGED = re.compile(r"(?P<tag>MD5|SHA1|SHA224|SHA256|SHA384|SHA512) \((?P<path>.*)\) = (?P<digest>[0-9a-fA-F]+)\Z")
_SUMS_NAME = re.compile(r"(?i)(md5|sha1|sha224|sha256|sha384|sha512)sums(\.txt)?\Z")
_BAGIT_NAME = re.compile(r"(?i)(tag)?manifest-[a-z0-9]+\.txt\Z")
_SIDECAR_NAME = re.compile(r"(?i).+\.(md5|sha1|sha224|sha256|sha384|sha512)\Z")
_SIGNATURE_SUFFIXES = (".asc", ".sig", ".gpg")


@dataclass(frozen=True)
class ManifestEntry:
    """One listed file: its path as written (decoded), the lower-case digest, the 1-based line."""

    path: str
    digest: str
    line: int


@dataclass(frozen=True)
class ManifestProblem:
    """Something wrong in the manifest itself, at a line. ``kind``: malformed, duplicate, conflict, unsafe, bom,
    limit (a streaming bound was reached: the rest is not read or not listed)."""

    line: int
    kind: str
    message: str


@dataclass
class Manifest:
    """A parsed manifest: ``name`` is where it was read from (for findings)."""

    name: str
    algorithm: str
    entries: list[ManifestEntry] = field(default_factory=list)
    problems: list[ManifestProblem] = field(default_factory=list)

    def by_path(self) -> dict[str, ManifestEntry]:
        return {entry.path: entry for entry in self.entries}


def algorithm_for_digest(digest: str) -> str | None:
    """Guess the algorithm of a hex digest by its length (``sha256`` for 64 hex digits)."""
    for algorithm, length in DIGEST_LENGTHS.items():
        if len(digest) == length:
            return algorithm
    return None


def algorithm_from_name(name: str) -> str | None:
    """``SHA256SUMS`` → sha256, ``manifest-sha512.txt`` → sha512, ``x.zip.sha256`` → sha256."""
    base = name.rsplit("/", 1)[-1]
    for pattern in (_SUMS_NAME, _SIDECAR_NAME):
        match = pattern.match(base)
        if match:
            return match.group(1).lower()
    if _BAGIT_NAME.match(base):
        return base.lower().split("-", 1)[1].removesuffix(".txt")
    return None


def is_checksum_file(path: str) -> bool:
    """Files that hold checksums (and their signatures): never listed in a manifest themselves."""
    base = path.rsplit("/", 1)[-1]
    for suffix in _SIGNATURE_SUFFIXES:
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    if "/" not in path and (_SUMS_NAME.match(base) or _BAGIT_NAME.match(base)):
        return True
    return bool(_SIDECAR_NAME.match(base))


#: Streaming bounds: a line longer than this is malformed (and not kept); after this many entries or problems a
#: manifest is not read further (one ``limit`` problem says so). A real manifest: thousands of short lines.
MAX_LINE_BYTES = 64 * 1024
MAX_ENTRIES = 2_000_000
MAX_PROBLEMS = 10_000
READ_CHUNK = 1 << 20

#: What the parsers read: the whole file, or a binary stream read line by line in bounded memory.
Source = bytes | BinaryIO


class ProblemList(list[ManifestProblem]):
    """Problems of one manifest, at most :data:`MAX_PROBLEMS` (then one ``limit`` problem)."""

    def append(self, problem: ManifestProblem) -> None:
        if len(self) < MAX_PROBLEMS:
            super().append(problem)
        elif len(self) == MAX_PROBLEMS:
            super().append(
                ManifestProblem(problem.line, "limit", f"more than {MAX_PROBLEMS} problems: the rest are not listed")
            )


def _chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray)):
        yield bytes(source)
        return
    while chunk := source.read(READ_CHUNK):
        yield chunk


def _split_lines(chunks: Iterable[bytes]) -> Iterator[bytes | None]:
    """The lines of the chunks (without LF); ``None`` for a line longer than :data:`MAX_LINE_BYTES` (dropped)."""
    pending = bytearray()
    overlong = False
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not overlong:
                    pending += chunk[start:]
                    if len(pending) > MAX_LINE_BYTES:
                        overlong = True
                        pending.clear()
                break
            if not overlong:
                pending += chunk[start:end]
            yield None if overlong or len(pending) > MAX_LINE_BYTES else bytes(pending)
            pending.clear()
            overlong = False
            start = end + 1
    if overlong:
        yield None
    elif pending:
        yield bytes(pending)


def _lines(data: Source, name: str, problems: list[ManifestProblem], bom_is_problem: bool) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(_split_lines(_chunks(data)), start=1):
        if raw is None:
            problems.append(ManifestProblem(number, "malformed", f"line longer than {MAX_LINE_BYTES} bytes; not read"))
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
            if bom_is_problem:
                problems.append(
                    ManifestProblem(1, "bom", "starts with a UTF-8 byte-order mark (not allowed by RFC 8493)")
                )
        raw = raw.removesuffix(b"\r")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            problems.append(ManifestProblem(number, "malformed", f"not UTF-8 (byte {error.start + 1})"))
            continue
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        yield number, text


def _full(manifest: Manifest, number: int) -> bool:
    """True once the manifest holds :data:`MAX_ENTRIES` entries, with a ``limit`` problem (parsing stops)."""
    if len(manifest.entries) < MAX_ENTRIES:
        return False
    manifest.problems.append(
        ManifestProblem(number, "limit", f"more than {MAX_ENTRIES} entries: lines from {number} on are not read")
    )
    return True


def _add(manifest: Manifest, seen: dict[str, ManifestEntry], path: str, digest: str, number: int) -> None:
    reason = unsafe_manifest_path(path)
    if reason:
        manifest.problems.append(ManifestProblem(number, "unsafe", f"path {path!r} is unsafe ({reason}); not opened"))
        return
    digest = digest.lower()
    previous = seen.get(path)
    if previous is not None:
        if previous.digest == digest:
            manifest.problems.append(
                ManifestProblem(number, "duplicate", f"{path!r} listed again (first on line {previous.line})")
            )
        else:
            manifest.problems.append(
                ManifestProblem(
                    number, "conflict", f"{path!r} listed again with another digest (first on line {previous.line})"
                )
            )
        return
    entry = ManifestEntry(path, digest, number)
    seen[path] = entry
    manifest.entries.append(entry)


def _digest_ok(manifest: Manifest, digest: str, number: int) -> bool:
    expected = DIGEST_LENGTHS.get(manifest.algorithm)
    if not _HEX.match(digest) or (expected is not None and len(digest) != expected):
        manifest.problems.append(
            ManifestProblem(
                number, "malformed", f"{digest[:20]!r} is not a {manifest.algorithm} digest ({expected} hex digits)"
            )
        )
        return False
    return True


def _gnu_unescape(text: str) -> str:
    return re.sub(
        r"\\(.)", lambda match: {"n": "\n", "r": "\r", "\\": "\\"}.get(match.group(1), "\\" + match.group(1)), text
    )


def _algorithm_of_line(text: str) -> str:
    first = text.lstrip("\\").split(None, 1)[0]
    tagged = _TAGGED.match(text.lstrip("\\"))
    return (tagged.group("tag").lower() if tagged else algorithm_for_digest(first)) or "sha256"


def parse_sums(data: Source, name: str, algorithm: str | None = None) -> Manifest:
    """Read a ``sha256sum``-style manifest (bytes, or a stream read line by line). ``algorithm`` defaults to what
    the name or the first digest says."""
    problems = ProblemList()
    manifest = Manifest(name, algorithm or algorithm_from_name(name) or "", problems=problems)
    seen: dict[str, ManifestEntry] = {}
    for number, text in _lines(data, name, problems, bom_is_problem=False):
        if not manifest.algorithm:
            manifest.algorithm = _algorithm_of_line(text)
        if _full(manifest, number):
            break
        escaped = text.startswith("\\")
        body = text[1:] if escaped else text
        tagged = _TAGGED.match(body)
        if tagged:
            if tagged.group("tag").lower() != manifest.algorithm:
                manifest.problems.append(
                    ManifestProblem(
                        number, "malformed", f"{tagged.group('tag')} line in a {manifest.algorithm} manifest"
                    )
                )
                continue
            digest, path = tagged.group("digest"), tagged.group("path")
        else:
            match = re.match(r"([0-9A-Za-z]+) [ *](.+)\Z", body, re.DOTALL)
            if not match:
                manifest.problems.append(ManifestProblem(number, "malformed", "expected '<digest>  <path>'"))
                continue
            digest, path = match.group(1), match.group(2)
        if not _digest_ok(manifest, digest, number):
            continue
        _add(manifest, seen, _gnu_unescape(path) if escaped else path, digest, number)
    manifest.algorithm = manifest.algorithm or "sha256"
    return manifest


def _percent_decode(path: str, version: tuple[int, int]) -> str:
    if version >= (1, 0):
        return re.sub(r"%(0[aAdD]|25)", lambda match: chr(int(match.group(1), 16)), path)
    return re.sub(r"%0[dD]", "\r", re.sub(r"%0[aA]", "\n", path))


def parse_bagit_manifest(data: Source, name: str, algorithm: str, version: tuple[int, int] = (1, 0)) -> Manifest:
    """Read a BagIt (tag) manifest (bytes, or a UTF-8 stream read line by line). Paths are percent-decoded as
    the bag's ``version`` prescribes."""
    problems = ProblemList()
    manifest = Manifest(name, algorithm, problems=problems)
    seen: dict[str, ManifestEntry] = {}
    for number, text in _lines(data, name, problems, bom_is_problem=True):
        if _full(manifest, number):
            break
        parts = text.strip(" \t").split(None, 1)
        if len(parts) != 2:
            manifest.problems.append(ManifestProblem(number, "malformed", "expected '<digest> <path>'"))
            continue
        digest, path = parts
        if not _digest_ok(manifest, digest, number):
            continue
        # "*" marks binary mode in sha256sum output; bagit-python accepts it too
        path = path.rstrip(" \t").removeprefix("*")
        _add(manifest, seen, _percent_decode(path, version), digest, number)
    return manifest


def _sorted_items(entries: Mapping[str, str]) -> list[tuple[str, str]]:
    return sorted(entries.items(), key=lambda item: item[0])


def format_sums(entries: Mapping[str, str]) -> bytes:
    """``<hex>  <path>`` lines, sorted, LF, UTF-8; names with ``\\``, LF or CR escaped the GNU way."""
    lines = []
    for path, digest in _sorted_items(entries):
        if any(char in path for char in "\\\n\r"):
            escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            lines.append(f"\\{digest}  {escaped}\n")
        else:
            lines.append(f"{digest}  {path}\n")
    return "".join(lines).encode("utf-8")


def format_bagit_manifest(entries: Mapping[str, str]) -> bytes:
    """BagIt 1.0 manifest lines (two spaces, so ``sha256sum -c`` reads them too), sorted, LF, UTF-8."""
    lines = []
    for path, digest in _sorted_items(entries):
        encoded = path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        lines.append(f"{digest}  {encoded}\n")
    return "".join(lines).encode("utf-8")


def unsafe_manifest_path(path: str) -> str | None:
    """Why a path read from a manifest must never be opened (``..``, absolute, ``~``, drive letters), or ``None``."""
    if path.startswith("~"):
        return "starts with '~' (home-folder expansion)"
    return is_unsafe_name(path)


_WINDOWS_FORBIDDEN = set('<>:"|?*')


def portability_problems(path: str) -> list[str]:
    """Why ``path`` would not mean the same file on Windows, macOS and Linux (empty when portable)."""
    problems: list[str] = []
    reason = is_unsafe_name(path)
    if reason:
        problems.append(reason)
    for part in path.split("/"):
        if part.endswith((".", " ")) and part not in (".", ".."):
            problems.append(f"component {part!r} ends with a dot or space (dropped by Windows)")
        forbidden = sorted(_WINDOWS_FORBIDDEN.intersection(part))
        if forbidden:
            problems.append(f"component {part!r} contains {''.join(forbidden)!r} (not allowed on Windows)")
    if "%" in path:
        problems.append(
            "'%' is read differently by bagit-python <= 1.9 (it does not decode %25 in BagIt 1.0 manifests)"
        )
    if path != unicodedata.normalize("NFC", path):
        problems.append("not in Unicode NFC form (macOS may store it differently)")
    return list(dict.fromkeys(problems))


class NameIndex:
    """Names on disk, looked up exactly or, failing that, after Unicode NFC normalization.

    ``conflicts`` lists groups of names that differ only in normalization: they cannot be told apart by a
    tool that normalizes (bagit-python raises ``FileNormalizationConflict`` for them).
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)
        self._normalized: dict[str, str] = {}
        groups: dict[str, list[str]] = {}
        for name in sorted(self.names):
            key = unicodedata.normalize("NFC", name)
            groups.setdefault(key, []).append(name)
            self._normalized.setdefault(key, name)
        self.conflicts = [group for group in groups.values() if len(group) > 1]

    def find(self, name: str) -> str | None:
        """The name on disk for a listed ``name``: the same, or one equal after NFC, or ``None``."""
        if name in self.names:
            return name
        return self._normalized.get(unicodedata.normalize("NFC", name))
