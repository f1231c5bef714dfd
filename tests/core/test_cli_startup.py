"""Start-up stays light: commands import the heavy libraries only when they need them (no timing here)."""

from __future__ import annotations

import pytest
from startup_probe import probe

HEAVY = ("jsonschema", "openpyxl", "pefile", "pyarrow", "dask", "distributed", "pyzipper", "ppdeep")


@pytest.mark.parametrize("arguments", [["--version"], ["plugins"], ["convert", "--help"], ["codes"]])
def test_light_commands_do_not_import_heavy_libraries(arguments: list[str]) -> None:
    done = probe(*arguments)
    assert (done.code, done.loaded(HEAVY)) == (0, [])


def test_the_probe_sees_an_import() -> None:
    """The probe works: a command that validates a document does import jsonschema."""
    done = probe(statement="import mk2ds.core.schemas as s; s.validator_for('record')")
    assert done.code == 0 and "jsonschema" in done.loaded(HEAVY)
