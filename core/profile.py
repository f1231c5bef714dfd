"""Layout profiles: the expected shape of a dataset, as data.

A profile (validated by ``schemas/profile.schema.json``) names required and optional files and folders, maps
path patterns to file kinds, points at the sample index, and lists the per-sample artifacts with the rules
for when they must exist and when they must be empty. Plugins register profiles with
``mk2ds_register_profiles``; users pass their own with ``--profile FILE``.

Patterns are POSIX globs matched against dataset-relative paths: ``*`` matches within one path component,
``**`` matches any number of components. Matching ignores case, as Windows does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["Profile", "glob_to_regex", "load_profile_file", "matches"]


@lru_cache(maxsize=512)
def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile a ``**``-aware glob to a case-insensitive regex over whole paths."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:[^/]*/)*")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z", re.IGNORECASE | re.DOTALL)


def matches(pattern: str, path: str) -> bool:
    return glob_to_regex(pattern).match(path) is not None


@dataclass(frozen=True)
class Profile:
    """A validated profile document with helpers. ``document`` is the raw dict (as registered or loaded)."""

    document: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.document["name"])

    @property
    def required(self) -> list[Mapping[str, Any]]:
        return list(self.document.get("required", []))

    @property
    def optional(self) -> list[Mapping[str, Any]]:
        return list(self.document.get("optional", []))

    @property
    def kinds(self) -> list[Mapping[str, Any]]:
        return list(self.document.get("kinds", []))

    @property
    def per_sample(self) -> list[Mapping[str, Any]]:
        return list(self.document.get("per_sample", []))

    @property
    def sample_index(self) -> str | None:
        value = self.document.get("sample_index")
        return str(value) if value else None

    def kind_of(self, path: str) -> str | None:
        """The kind of the first ``kinds`` rule whose pattern matches ``path``."""
        for rule in self.kinds:
            if matches(rule["pattern"], path):
                return str(rule["kind"])
        return None

    def known_top_level(self) -> set[str]:
        names: set[str] = set()
        for item in [*self.required, *self.optional]:
            names.add(str(item["path"]).split("/", 1)[0].lower())
        return names

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.document))


def load_profile_file(path: str | Path) -> dict[str, Any]:
    """Read a profile from a JSON file. Raises ``ValueError`` naming the file on malformed JSON."""
    text = Path(path).read_text(encoding="utf-8-sig")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path}: a profile must be a JSON object")
    return document


def by_name(profiles: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(profile["name"]): profile for profile in profiles}
