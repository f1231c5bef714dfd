"""Classifies files by the profile's ``kinds`` rules. Runs last, so any plugin can classify first."""

from __future__ import annotations

from mk2ds.core import Entry, VerifyContext, hookimpl


@hookimpl(trylast=True)
def mk2ds_classify_entry(entry: Entry, context: VerifyContext) -> str | None:
    return context.profile.kind_of(entry.path)
