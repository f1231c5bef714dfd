from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from mk2ds.core.schemas import builtin_schemas

NAMES = sorted(builtin_schemas())


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_and_its_id_matches_its_file(name: str) -> None:
    schema = builtin_schemas()[name]
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert schema["$id"].endswith(f"/{name}.schema.json")
    assert schema.get("title") and schema.get("description")


def test_ids_are_unique() -> None:
    ids = [schema["$id"] for schema in builtin_schemas().values()]
    assert len(ids) == len(set(ids))


def test_every_json_file_in_the_package_is_a_schema() -> None:
    files = [item.name for item in resources.files("mk2ds.schemas").iterdir() if item.name.endswith(".json")]
    assert sorted(files) == sorted(f"{name}.schema.json" for name in NAMES)
    for name in files:
        json.loads(resources.files("mk2ds.schemas").joinpath(name).read_text(encoding="utf-8"))


def test_builtin_profile_validates() -> None:
    from mk2ds.core.schemas import validate_document
    from mk2ds.plugins.checks.profile import load

    assert validate_document(load(), "profile") == []
