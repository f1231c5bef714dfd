"""The data that the checks of a verification pass to each other (:class:`mk2ds.core.SharedKey`), declared
once: the writer puts it with ``context.put(KEY, value)``, readers take it with ``context.get(KEY)``.

``SAMPLES`` (written by ``checks.sample_list``)
    the rows of List.xlsx, in sheet order: dicts with ``id`` (the lower-case sha256 when present, else the
    first hash found), ``sha256``, ``sha1``, ``md5`` (hex or ``None``), ``extension``, ``is_pe``
    (``True``/``False``/``None``), ``flags`` (``{"verbose": bool | None, "report": bool | None}``), ``row``
    (the sheet row number) and ``columns`` (the row's cells by header).
``SAMPLE_FILES`` (written by ``checks.cross_references``)
    sample id → artifact name (``30m-log``, ``impfuzzy``, ...) → the dataset paths of that sample's files.
``SYSINFO_TIME_ZONES`` (written by ``checks.sysinfo``)
    the UTC offsets found in the samples' Sysinfo files (``SysinfoTimeZones.to_dict()`` of
    :mod:`mk2ds.plugins.checks.sysinfo`), for the log checks' zone-less lines.
"""

from __future__ import annotations

from typing import Any

from mk2ds.core import SharedKey

__all__ = ["SAMPLES", "SAMPLE_FILES", "SYSINFO_TIME_ZONES"]

SAMPLES: SharedKey[list[dict[str, Any]]] = SharedKey("samples", list, "checks.sample_list", "the rows of List.xlsx")
SAMPLE_FILES: SharedKey[dict[str, dict[str, list[str]]]] = SharedKey(
    "sample_files", dict, "checks.cross_references", "sample id -> artifact name -> paths"
)
SYSINFO_TIME_ZONES: SharedKey[dict[str, Any]] = SharedKey(
    "sysinfo_time_zones", dict, "checks.sysinfo", "the UTC offsets of the samples' Sysinfo files"
)
