"""``mk2ds verify`` on a BagIt bag (a folder or a zip): the container checks; profile checks then run on ``data/``.

Order, cheapest first, and nothing stops the run (bagit-python ends at the first Payload-Oxum mismatch and
never says which file is wrong):

1. ``bagit.txt``: present, no BOM, ``BagIt-Version`` and ``Tag-File-Character-Encoding``; ``data/`` exists.
2. ``bag-info.txt``: readable; ``Payload-Oxum`` compared with the payload's file count and bytes, as a quick
   signal only.
3. Every payload manifest (``manifest-<alg>.txt``) against the payload: missing files, files not listed
   (BagIt 1.0: every payload file in every manifest; 0.97: in at least one), names matched after Unicode
   normalization as bagit-python does, and at level ``full`` every checksum.
4. Every tag manifest (``tagmanifest-<alg>.txt``) against the tag files; ``fetch.txt`` paths.

Finding paths are relative to the bag (``data/MK2Log/30m/x.log``, ``manifest-sha256.txt``).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterator

from mk2ds.core import CodeInfo, Dataset, Fact, Finding, Severity, VerifyContext, hookimpl
from mk2ds.core.dataset import UnsafeName
from mk2ds.plugins.bagit.audit import ManifestCheck, audit, jobs_option, progress_option
from mk2ds.plugins.bagit.hashing import source_for
from mk2ds.plugins.bagit.manifests import Manifest, NameIndex, parse_bagit_manifest, unsafe_manifest_path
from mk2ds.plugins.bagit.tagfiles import PAYLOAD_FOLDER, parse_oxum, parse_tag_file, parse_version

_MANIFEST = re.compile(r"(tag)?manifest-([a-z0-9]+)\.txt\Z")
_SUPPORTED_VERSIONS = ((0, 96), (1, 99))
_WEAK = {"md5", "sha1"}


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    # The checksum-* and name-normalization-* codes are shared with plain distributions and registered by the
    # fixity plugin (codes are registered once); this plugin adds the BagIt-specific ones.
    return [
        CodeInfo(
            "bag-declaration",
            Severity.ERROR,
            "bagit.txt is missing, malformed, or declares an unsupported version or encoding",
        ),
        CodeInfo("bag-payload-missing", Severity.ERROR, "A BagIt bag without its data/ payload folder"),
        CodeInfo("bag-info-malformed", Severity.ERROR, "A line of bag-info.txt is not a 'Label: value' field"),
        CodeInfo(
            "bag-oxum-mismatch",
            Severity.ERROR,
            "Payload-Oxum disagrees with the payload's file count or bytes (per-file findings follow)",
        ),
        CodeInfo("bag-oxum-malformed", Severity.ERROR, "Payload-Oxum is not '<bytes>.<files>'"),
        CodeInfo("bag-oxum-missing", Severity.INFO, "bag-info.txt has no Payload-Oxum (no quick completeness signal)"),
        CodeInfo("bag-no-manifest", Severity.ERROR, "A BagIt bag without any payload manifest"),
        CodeInfo(
            "bag-algorithm-unsupported",
            Severity.WARNING,
            "A manifest uses a checksum algorithm this Python cannot compute",
        ),
        CodeInfo("bag-algorithm-weak", Severity.INFO, "The bag's only payload manifests use MD5 or SHA-1"),
        CodeInfo("bag-manifest-outside-payload", Severity.ERROR, "A payload manifest lists a file outside data/"),
        CodeInfo("bag-fetch-pending", Severity.WARNING, "A payload file is listed in fetch.txt and not fetched yet"),
    ]


@hookimpl
def mk2ds_locate_payload(dataset: Dataset) -> str | None:
    """A dataset with a top-level ``bagit.txt`` is a bag; its payload is ``data/``."""
    try:
        with dataset.open("bagit.txt"):
            return PAYLOAD_FOLDER
    except OSError:
        return None


def _read(container: Dataset, name: str, findings: list[Finding]) -> bytes | None:
    try:
        return container.read_bytes(name)
    except OSError as error:
        findings.append(Finding("unreadable-file", Severity.ERROR, f"cannot be read: {error}", path=name))
        return None


def _declaration(container: Dataset, files: dict[str, int], findings: list[Finding]) -> tuple[tuple[int, int], str]:
    """Check ``bagit.txt``; return the version (1.0 when unreadable) and the tag-file encoding."""
    version, encoding = (1, 0), "utf-8"
    data = _read(container, "bagit.txt", findings) if "bagit.txt" in files else None
    if data is None:
        findings.append(
            Finding("bag-declaration", Severity.ERROR, "bagit.txt is missing or unreadable", path="bagit.txt")
        )
        return version, encoding
    tags = parse_tag_file(data)
    for line, message in tags.problems:
        findings.append(Finding("bag-declaration", Severity.ERROR, message, path="bagit.txt", line=line))
    declared = tags.get("BagIt-Version")
    parsed = parse_version(declared) if declared else None
    if parsed is None:
        findings.append(
            Finding(
                "bag-declaration",
                Severity.ERROR,
                f"BagIt-Version is missing or not MAJOR.MINOR: {declared!r}",
                path="bagit.txt",
            )
        )
    elif not _SUPPORTED_VERSIONS[0] <= parsed <= _SUPPORTED_VERSIONS[1]:
        findings.append(
            Finding("bag-declaration", Severity.ERROR, f"unsupported BagIt-Version {declared}", path="bagit.txt")
        )
    else:
        version = parsed
    declared_encoding = tags.get("Tag-File-Character-Encoding")
    if not declared_encoding:
        findings.append(
            Finding("bag-declaration", Severity.ERROR, "Tag-File-Character-Encoding is missing", path="bagit.txt")
        )
    else:
        try:
            encoding = codecs.lookup(declared_encoding).name
        except LookupError:
            findings.append(
                Finding(
                    "bag-declaration",
                    Severity.ERROR,
                    f"unknown tag-file encoding {declared_encoding!r}",
                    path="bagit.txt",
                )
            )
    return version, encoding


def _payload_oxum(info_value: str | None, payload_files: dict[str, int]) -> Iterator[Finding]:
    found = (sum(payload_files.values()), len(payload_files))
    if info_value is None:
        yield Finding("bag-oxum-missing", Severity.INFO, "no Payload-Oxum to compare with", path="bag-info.txt")
        return
    expected = parse_oxum(info_value)
    if expected is None:
        yield Finding(
            "bag-oxum-malformed",
            Severity.ERROR,
            f"Payload-Oxum {info_value!r} is not '<bytes>.<files>'",
            path="bag-info.txt",
        )
        return
    if expected != found:
        yield Finding(
            "bag-oxum-mismatch",
            Severity.ERROR,
            f"Payload-Oxum says {expected[1]} files, {expected[0]} bytes; the payload has {found[1]} files, "
            f"{found[0]} bytes (per-file findings follow)",
            path="bag-info.txt",
            details={
                "expected": {"bytes": expected[0], "files": expected[1]},
                "found": {"bytes": found[0], "files": found[1]},
            },
        )


def _to_utf8(data: bytes, encoding: str) -> bytes:
    if encoding in ("utf-8", "utf-8-sig"):
        return data
    return data.decode(encoding, errors="replace").encode("utf-8")


def _read_manifest(
    container: Dataset, name: str, algorithm: str, version: tuple[int, int], encoding: str, findings: list[Finding]
) -> Manifest | None:
    """A bag manifest, streamed line by line (recoded to UTF-8 on the way when the bag declares another encoding)."""
    try:
        with container.open(name) as stream:
            source = (
                stream
                if encoding in ("utf-8", "utf-8-sig")
                else codecs.EncodedFile(stream, "utf-8", encoding, "replace")
            )
            return parse_bagit_manifest(source, name, algorithm, version)  # type: ignore[arg-type]
    except OSError as error:
        findings.append(Finding("unreadable-file", Severity.ERROR, f"cannot be read: {error}", path=name))
        return None


def _fetch_paths(container: Dataset, files: dict[str, int], encoding: str, findings: list[Finding]) -> set[str]:
    if "fetch.txt" not in files:
        return set()
    data = _read(container, "fetch.txt", findings)
    paths: set[str] = set()
    for number, line in enumerate(_to_utf8(data or b"", encoding).decode("utf-8", "replace").splitlines(), start=1):
        parts = line.strip().split(None, 2)
        if not parts:
            continue
        if len(parts) != 3:
            findings.append(
                Finding(
                    "checksum-manifest-malformed",
                    Severity.ERROR,
                    "expected '<url> <length> <path>'",
                    path="fetch.txt",
                    line=number,
                )
            )
            continue
        reason = unsafe_manifest_path(parts[2])
        if reason:
            findings.append(
                Finding(
                    "checksum-unsafe-path",
                    Severity.ERROR,
                    f"path {parts[2]!r} is unsafe ({reason})",
                    path="fetch.txt",
                    line=number,
                )
            )
            continue
        paths.add(parts[2])
    return paths


def _listing(container: Dataset, payload: str, findings: list[Finding]) -> tuple[dict[str, int], set[str]]:
    """The container's files (path → size) and folders; unsafe names outside the payload become findings."""
    files: dict[str, int] = {}
    folders: set[str] = set()
    for listed in container.walk():
        if isinstance(listed, UnsafeName):
            if not listed.path.startswith(payload + "/"):  # the walker reports those inside the payload
                findings.append(
                    Finding("unsafe-path", Severity.ERROR, f"{listed.reason}; not followed", path=listed.path)
                )
        elif listed.is_dir:
            folders.add(listed.path)
        else:
            files[listed.path] = listed.size
    return files, folders


def _bag_info(
    container: Dataset, encoding: str, payload_files: dict[str, int], info: dict[str, object], findings: list[Finding]
) -> Iterator[Finding | Fact]:
    """Read ``bag-info.txt`` into ``info`` (a repeated label becomes a list); check its Payload-Oxum."""
    data = _read(container, "bag-info.txt", findings)
    tags = parse_tag_file(data or b"", encoding)
    for line, message in tags.problems:
        findings.append(Finding("bag-info-malformed", Severity.ERROR, message, path="bag-info.txt", line=line))
    for label, value in tags.fields:
        previous = info.get(label)
        info[label] = value if previous is None else [*(previous if isinstance(previous, list) else [previous]), value]
    yield from _payload_oxum(tags.get("Payload-Oxum"), payload_files)


@hookimpl
def mk2ds_check_container(container: Dataset, payload: str, context: VerifyContext) -> Iterator[Finding | Fact]:
    findings: list[Finding] = []
    files, folders = _listing(container, payload, findings)
    payload_files = {path: size for path, size in files.items() if path.startswith(payload + "/")}
    tag_files = {path: size for path, size in files.items() if path not in payload_files}

    version, encoding = _declaration(container, files, findings)
    if payload not in folders:
        findings.append(Finding("bag-payload-missing", Severity.ERROR, f"no {payload}/ folder", path=payload))
    yield from findings
    findings.clear()

    info: dict[str, object] = {}
    if "bag-info.txt" in files:
        yield from _bag_info(container, encoding, payload_files, info, findings)
    else:
        yield Finding("bag-oxum-missing", Severity.INFO, "no bag-info.txt, hence no Payload-Oxum", path="bag-info.txt")

    checks, payload_algorithms = _manifest_checks(
        container, payload, tag_files, payload_files, version, encoding, findings
    )
    findings.extend(_algorithm_findings(payload_algorithms))
    if version < (1, 0):
        findings.extend(
            _unlisted_in_any(
                payload_files, [check.manifest for check in checks if not check.manifest.name.startswith("tag")]
            )
        )
    fetch_paths = _fetch_paths(container, files, encoding, findings)
    yield from findings

    yield from _audited(container, checks, files, fetch_paths, context)
    yield Fact(
        "bag",
        {
            "version": f"{version[0]}.{version[1]}",
            "algorithms": sorted(set(payload_algorithms)),
            "payload_files": len(payload_files),
            "payload_bytes": sum(payload_files.values()),
            "info": info,
        },
    )


def _manifest_checks(
    container: Dataset,
    payload: str,
    tag_files: dict[str, int],
    payload_files: dict[str, int],
    version: tuple[int, int],
    encoding: str,
    findings: list[Finding],
) -> tuple[list[ManifestCheck], list[str]]:
    """Read every payload and tag manifest among ``tag_files`` (in name order) into the checks :func:`audit` runs,
    and the algorithms of the payload manifests read."""
    checks: list[ManifestCheck] = []
    payload_algorithms: list[str] = []
    for name in sorted(tag_files):
        match = _MANIFEST.match(name)
        if not match:
            continue
        is_tag, algorithm = bool(match.group(1)), match.group(2)
        if algorithm not in hashlib.algorithms_available:
            findings.append(
                Finding(
                    "bag-algorithm-unsupported",
                    Severity.WARNING,
                    f"cannot compute {algorithm}; manifest not checked",
                    path=name,
                )
            )
            continue
        manifest = _read_manifest(container, name, algorithm, version, encoding, findings)
        if manifest is None:
            continue
        if is_tag:
            checks.append(ManifestCheck(manifest))
            continue
        payload_algorithms.append(algorithm)
        findings.extend(_outside_payload(manifest, name, payload))
        covers = frozenset(payload_files) if version >= (1, 0) else None
        checks.append(ManifestCheck(manifest, covers=covers))
    return checks, payload_algorithms


def _outside_payload(manifest: Manifest, name: str, payload: str) -> Iterator[Finding]:
    """A payload manifest's entries that lie outside the payload folder."""
    for entry in manifest.entries:
        if not entry.path.startswith(payload + "/"):
            yield Finding(
                "bag-manifest-outside-payload",
                Severity.ERROR,
                f"lists {entry.path!r}, outside {payload}/",
                path=name,
                line=entry.line,
            )


def _algorithm_findings(payload_algorithms: list[str]) -> Iterator[Finding]:
    """No payload manifest at all, or only weak ones."""
    if not payload_algorithms:
        yield Finding(
            "bag-no-manifest",
            Severity.ERROR,
            "no payload manifest (manifest-<algorithm>.txt)",
            path="manifest-sha256.txt",
        )
    elif set(payload_algorithms) <= _WEAK:
        yield Finding(
            "bag-algorithm-weak",
            Severity.INFO,
            f"only {', '.join(payload_algorithms)} payload manifests",
            path=f"manifest-{payload_algorithms[0]}.txt",
        )


def _audited(
    container: Dataset,
    checks: list[ManifestCheck],
    files: dict[str, int],
    fetch_paths: set[str],
    context: VerifyContext,
) -> Iterator[Finding | Fact]:
    """The manifests against the files (checksums at level ``full``); a missing file that fetch.txt lists is pending."""
    for item in audit(
        checks,
        files,
        source_for(container),
        hash_contents=context.at_least("full"),
        jobs=jobs_option(context),
        show_progress=progress_option(context),
        label="bag fixity",
        fact_key="bag_fixity",
    ):
        if isinstance(item, Finding) and item.code == "checksum-file-missing" and item.path in fetch_paths:
            yield Finding("bag-fetch-pending", Severity.WARNING, "listed in fetch.txt, not fetched yet", path=item.path)
        else:
            yield item


def _unlisted_in_any(payload_files: dict[str, int], manifests: list[Manifest]) -> Iterator[Finding]:
    """BagIt before 1.0 (bagit-python writes 0.97): a payload file must be in at least one manifest."""
    listed = {entry.path for manifest in manifests for entry in manifest.entries}
    index = NameIndex(listed)
    for name in sorted(payload_files):
        if index.find(name) is None:
            yield Finding(
                "checksum-file-unlisted",
                Severity.ERROR,
                f"present but not listed in any payload manifest ({', '.join(m.name for m in manifests) or 'none'})",
                path=name,
            )
