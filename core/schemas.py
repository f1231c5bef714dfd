"""Access to the JSON Schemas shipped in ``mk2ds.schemas``, and validation of single documents.

Bulk validation of many records uses a compiled validator (see ``mk2ds.plugins.convert.validate``); this module is
for documents (reports, profiles, trees) and for error messages, where jsonschema's precise paths matter more
than speed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema  # imported where a validator is built: jsonschema alone takes 0.15 s to import

__all__ = ["builtin_schemas", "load_schema", "validate_document", "validator_for"]

SCHEMA_SUFFIX = ".schema.json"


@lru_cache(maxsize=1)
def builtin_schemas() -> dict[str, Mapping[str, Any]]:
    """Name to schema document for every ``*.schema.json`` in ``mk2ds.schemas``."""
    table: dict[str, Mapping[str, Any]] = {}
    for item in sorted(resources.files("mk2ds.schemas").iterdir(), key=lambda entry: entry.name):
        if item.name.endswith(SCHEMA_SUFFIX):
            table[item.name.removesuffix(SCHEMA_SUFFIX)] = json.loads(item.read_text(encoding="utf-8"))
    return table


def load_schema(name: str) -> Mapping[str, Any]:
    table = builtin_schemas()
    if name not in table:
        raise KeyError(f"no schema named {name!r} (known: {', '.join(sorted(table))})")
    return table[name]


@lru_cache(maxsize=32)
def validator_for(name: str) -> jsonschema.protocols.Validator:
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    registry = _registry()
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)  # type: ignore[call-arg]


@lru_cache(maxsize=1)
def _registry() -> Any:
    from referencing import Registry, Resource

    resources_list = []
    for document in builtin_schemas().values():
        if "$id" in document:
            resources_list.append((document["$id"], Resource.from_contents(dict(document))))
    return Registry().with_resources(resources_list)


def validate_document(document: Any, schema_name: str) -> list[str]:
    """Every violation of ``document`` against the named schema, as ``"at PATH: MESSAGE"`` strings."""
    validator = validator_for(schema_name)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda err: list(map(str, err.absolute_path))):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        problems.append(f"at {where}: {error.message}")
    return problems
