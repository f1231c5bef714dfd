"""The built-in ``soliton-2018`` layout profile (data in ``soliton-2018.profile.json``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from mk2ds.core import hookimpl

PROFILE_FILE = "soliton-2018.profile.json"


def load() -> dict[str, Any]:
    text = resources.files("mk2ds.plugins.checks").joinpath(PROFILE_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@hookimpl
def mk2ds_register_profiles() -> Iterable[Mapping[str, Any]]:
    return [load()]
