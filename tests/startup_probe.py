"""One probe for the start-up tests: run an mk2ds command (or a statement) in a fresh interpreter and see which
modules it imported. No timing: what a command imports is what its start-up costs."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

_PROBE = """
import contextlib, io, json, sys
with contextlib.redirect_stdout(io.StringIO()):
    code = 0
    try:
        exec(sys.argv[1])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
#: The statement that runs ``mk2ds ARGUMENTS...`` the way the console script does.
RUN_MK2DS = "from mk2ds.core.cli import main; code = main(sys.argv[2:])"

__all__ = ["RUN_MK2DS", "Probe", "probe"]


@dataclass(frozen=True)
class Probe:
    """What one fresh interpreter did: its exit code and every module it had imported at the end."""

    code: int | None
    modules: frozenset[str]

    def loaded(self, names: Iterable[str]) -> list[str]:
        """Those of ``names`` that were imported, in the order given."""
        return [name for name in names if name in self.modules]


def probe(*arguments: str, statement: str = RUN_MK2DS) -> Probe:
    """Run ``statement`` (by default ``mk2ds ARGUMENTS...``) in a fresh interpreter, standard output muted."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, statement, *arguments], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Probe(result["code"], frozenset(result["modules"]))
