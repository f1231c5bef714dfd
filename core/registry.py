"""Look-ups over the ``mk2ds_register_*`` hooks: finding codes, output formats, profiles, schemas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pluggy

from mk2ds.core.findings import CodeInfo, Severity
from mk2ds.core.hookcalls import collect_registrations
from mk2ds.core.outputs import OutputFormat, OutputKind
from mk2ds.core.profile import Profile
from mk2ds.core.schemas import builtin_schemas, validate_document

__all__ = ["CORE_CODES", "codes", "find_output", "find_profile", "outputs", "profiles", "schemas"]

#: Codes the host itself emits.
CORE_CODES: tuple[CodeInfo, ...] = (
    CodeInfo("plugin-error", Severity.ERROR, "A plugin raised an exception; the run went on without its result"),
    CodeInfo(
        "plugin-timeout",
        Severity.ERROR,
        "A plugin's entry check ran past its time limit (verify --check-timeout); its results for that file are lost",
    ),
    CodeInfo(
        "check-not-run",
        Severity.ERROR,
        "A check could not run because nothing provides a hook or data it needs (a blocked or missing plugin)",
    ),
    CodeInfo(
        "check-blocked",
        Severity.WARNING,
        "A plugin with checks is blocked (-p no:NAME, MK2DS_BLOCK_PLUGINS): its checks did not run",
    ),
    CodeInfo("unregistered-code", Severity.WARNING, "A plugin emitted a finding code it did not register"),
    CodeInfo("unsafe-path", Severity.ERROR, "A name with '..', an absolute name, or a link leaving the dataset"),
    CodeInfo("unreadable-file", Severity.ERROR, "A file could not be read"),
    CodeInfo(
        "zip-names-normalized",
        Severity.INFO,
        "Zip member names were written by a Windows tool (CP932 names, '\\' separators) and read as meant",
    ),
)


def codes(pm: pluggy.PluginManager) -> dict[str, CodeInfo]:
    """Every registered code, the host's first. A code registered twice keeps its first registration."""
    table: dict[str, CodeInfo] = {info.code: info for info in CORE_CODES}
    for plugin, info in collect_registrations(pm, "mk2ds_register_codes"):
        if info.code not in table:
            table[info.code] = CodeInfo(info.code, info.severity, info.description, info.plugin or plugin)
    return table


def outputs(pm: pluggy.PluginManager, kind: OutputKind) -> dict[str, OutputFormat]:
    table: dict[str, OutputFormat] = {}
    for plugin, output in collect_registrations(pm, "mk2ds_register_outputs"):
        if output.kind != kind:
            continue
        if output.name in table:
            raise RuntimeError(f"plugin {plugin!r} registers {kind} output {output.name!r} a second time")
        table[output.name] = output
    return table


def find_output(pm: pluggy.PluginManager, kind: OutputKind, name: str) -> OutputFormat:
    table = outputs(pm, kind)
    if name not in table:
        from mk2ds.core.errors import UsageError

        known = ", ".join(sorted(table)) or "none"
        raise UsageError(f"unknown {kind} format {name!r} (known: {known})")
    return table[name]


def profiles(pm: pluggy.PluginManager) -> dict[str, Mapping[str, Any]]:
    table: dict[str, Mapping[str, Any]] = {}
    for _plugin, document in collect_registrations(pm, "mk2ds_register_profiles"):
        table.setdefault(str(document["name"]), document)
    return table


def find_profile(pm: pluggy.PluginManager, name_or_file: str) -> Profile:
    """A profile by registered name, or loaded from a JSON file; validated against the profile schema.

    Raises :class:`mk2ds.core.errors.UsageError` with the file name and every schema violation.
    """
    from pathlib import Path

    from mk2ds.core.errors import UsageError
    from mk2ds.core.profile import load_profile_file

    table = profiles(pm)
    if name_or_file in table:
        document: Mapping[str, Any] = table[name_or_file]
        source = f"built-in profile {name_or_file}"
    elif Path(name_or_file).is_file():
        try:
            document = load_profile_file(name_or_file)
        except (OSError, ValueError) as error:
            raise UsageError(str(error)) from None
        source = name_or_file
    else:
        known = ", ".join(sorted(table)) or "none"
        raise UsageError(f"no profile named {name_or_file!r} and no such file (built-in profiles: {known})")
    problems = validate_document(document, "profile")
    if problems:
        raise UsageError(f"{source}: not a valid profile:\n  " + "\n  ".join(problems))
    return Profile(document)


def schemas(pm: pluggy.PluginManager) -> dict[str, Mapping[str, Any]]:
    """Schema name (``record``, ``report``, ...) to document: the built-ins plus plugin-registered ones."""
    table = dict(builtin_schemas())
    for _plugin, document in collect_registrations(pm, "mk2ds_register_schemas"):
        schema_id = str(document.get("$id", ""))
        name = schema_id.rsplit("/", 1)[-1].removesuffix(".schema.json")
        if name and name not in table:
            table[name] = document
    return table
