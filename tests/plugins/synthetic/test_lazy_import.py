"""Loading the synthetic plugin stays cheap: the generator and its artifacts load when a distribution is
written, not when the plugin registers ``mk2ds sample`` and ``mk2ds demo`` (no timing here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LIBRARIES = (
    "mk2ds.plugins.synthetic.distribution",
    "mk2ds.plugins.synthetic.generator",
    "mk2ds.plugins.synthetic.world",
    "mk2ds.plugins.synthetic.artifacts",
    "mk2ds.plugins.synthetic.pe_builder",
)

PROBE = """
import contextlib, io, json, sys
from mk2ds.core.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "loaded": [name for name in LIBRARIES if name in sys.modules]}))
""".replace("LIBRARIES", repr(LIBRARIES))


def _probe(code: str, *arguments: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("arguments", [["--version"], ["sample", "--help"], ["demo", "--help"], ["codes"]])
def test_commands_that_write_nothing_do_not_import_the_generator(arguments: list[str]) -> None:
    """The plugin is loaded (it registers the commands), none of its libraries is."""
    code = PROBE.replace("for name in (", "for name in ('mk2ds.plugins.synthetic', ")
    assert _probe(code, *arguments) == {"code": 0, "loaded": ["mk2ds.plugins.synthetic"]}


def test_the_public_names_load_on_first_use() -> None:
    """The probe sees an import: the package's public names still import (and load the library)."""
    code = PROBE.replace(
        "code = main(sys.argv[1:])",
        "from mk2ds.plugins.synthetic import SampleDistribution, SampleSpec, plan_samples, write_sample; code = 0",
    )
    assert _probe(code) == {"code": 0, "loaded": list(LIBRARIES)}


def test_unknown_names_are_still_attribute_errors() -> None:
    import mk2ds.plugins.synthetic as synthetic

    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(synthetic, "no_such_name")  # noqa: B009 - the name must not be looked up statically
    assert getattr(synthetic, "MK2DS_PLUGIN_DETAIL", None) is None  # what the CLI asks every plugin
