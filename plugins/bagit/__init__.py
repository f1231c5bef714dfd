"""``mk2ds pack SRC OUT``: a release anyone can verify (BagIt 1.0), and ``mk2ds manifest DIR``: a sidecar manifest.

Feature package ``bagit``. Plugins: ``bagit`` (this module: ``mk2ds_add_commands`` for ``mk2ds pack`` and
``mk2ds manifest``), ``bagit.fixity`` (checksums of a plain distribution: ``mk2ds_add_verify_options``,
``mk2ds_check_dataset``) and ``bagit.payload`` (verifying a bag: ``mk2ds_locate_payload``,
``mk2ds_check_container``), each also ``mk2ds_register_codes``. The commands' bodies: ``pack_command`` and
``manifest_command`` (with ``common``, what both share). Libraries: ``writer``, ``tagfiles``, ``manifests``,
``hashing`` and ``audit`` (manifests against the files that are there).

``pack`` verifies SRC first and refuses on errors unless ``--force`` (saying why), checks every name for
portability, then writes OUT as a BagIt 1.0 bag, a folder or (``--zip``) one zip, atomically. SRC is only
read: never moved, never modified (bagit-python's ``make_bag`` moves the folder into ``data/`` in place).

``manifest`` writes or refreshes ``SHA256SUMS`` (or a BagIt-style ``manifest-sha256.txt``) for a folder and
moves nothing; ``-o FILE`` keeps the manifest outside a read-only folder.
"""

from __future__ import annotations

import pluggy

from mk2ds.core import CodeInfo, CommandRegistry, Severity, hookimpl
from mk2ds.plugins.bagit.manifest_command import cmd_manifest
from mk2ds.plugins.bagit.pack_command import GENERATED_LABELS, bagging_date, cmd_pack, info_fields, name_findings

__all__ = ["GENERATED_LABELS", "bagging_date", "info_fields", "name_findings"]


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return [
        CodeInfo(
            "name-not-portable",
            Severity.WARNING,
            "A file name would change meaning on another platform (':', trailing dot, NFD, '%', ...)",
        ),
        CodeInfo(
            "name-case-collision",
            Severity.WARNING,
            "Two names differ only in upper/lower case (one file on Windows and macOS)",
        ),
    ]


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    pack = subparsers.add_parser(
        "pack", help="verify SRC, then write it as a BagIt 1.0 bag (folder or --zip); SRC is never modified"
    )
    pack.add_argument("src", help="dataset folder or .zip to package (only read)")
    pack.add_argument("out", help="bag to write (must not exist)")
    pack.add_argument("--zip", action="store_true", help="write the bag as one zip file (bag inside one top folder)")
    pack.add_argument("--force", action="store_true", help="pack even when verify finds errors")
    pack.add_argument(
        "--info", action="append", default=[], metavar="KEY=VALUE", help="add a bag-info.txt field (repeatable)"
    )
    pack.add_argument("--sha512", action="store_true", help="also write manifest-sha512.txt and tagmanifest-sha512.txt")
    pack.add_argument(
        "-j", "--jobs", type=int, default=1, help="worker processes for verify and hashing (0 = one per core)"
    )
    pack.add_argument(
        "--profile", default="soliton-2018", help="layout profile for the verification (name or JSON file)"
    )
    pack.add_argument(
        "--level", choices=("structure", "fast", "full"), default="full", help="how thorough the verification is"
    )
    pack.add_argument(
        "--date", help="Bagging-Date YYYY-MM-DD (default: SOURCE_DATE_EPOCH, else today); also the zip timestamps"
    )
    pack.add_argument("--quiet", action="store_true", help="no progress line")
    pack.set_defaults(handler=cmd_pack)

    manifest = subparsers.add_parser(
        "manifest", help="write or refresh a sidecar SHA256SUMS for a folder, moving nothing"
    )
    manifest.add_argument("dir", help="the folder to list")
    manifest.add_argument(
        "--bagit", action="store_true", help="write manifest-<alg>.txt (BagIt format) instead of SHA256SUMS"
    )
    manifest.add_argument("--algorithm", choices=("sha256", "sha512"), default="sha256", help="checksum algorithm")
    manifest.add_argument(
        "-o", "--output", help="write the manifest here instead of inside DIR (paths stay relative to DIR)"
    )
    manifest.add_argument("-j", "--jobs", type=int, default=1, help="worker processes for hashing (0 = one per core)")
    manifest.add_argument(
        "--format", choices=("text", "json"), default="text", help="what to print (json: schemas/manifest.schema.json)"
    )
    manifest.add_argument("--quiet", action="store_true", help="no progress line")
    manifest.set_defaults(handler=cmd_manifest)
