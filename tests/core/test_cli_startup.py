"""Start-up stays light: commands import the heavy libraries only when they need them (no timing here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("jsonschema", "openpyxl", "pefile", "pyarrow", "dask", "distributed", "pyzipper", "ppdeep")

PROBE = """
import contextlib, io, json, sys
from mk2ds.core.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "loaded": [name for name in HEAVY if name in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))


@pytest.mark.parametrize("arguments", [["--version"], ["plugins"], ["convert", "--help"], ["codes"]])
def test_light_commands_do_not_import_heavy_libraries(arguments: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, *arguments], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "loaded": []}


def test_the_probe_sees_an_import() -> None:
    """The probe works: a command that validates a document does import jsonschema."""
    code = PROBE.replace(
        "code = main(sys.argv[1:])", "import mk2ds.core.schemas as s; s.validator_for('record'); code = 0"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "jsonschema" in json.loads(done.stdout.strip().splitlines()[-1])["loaded"]
