"""Loading the log checks' plugin stays cheap: it declares codes and options; the reader-based checks
(``log_check``, ``log_observer``, ``log_times``) load when a log is checked (no timing here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mk2ds.plugins.checks import log_check, log_observer
from mk2ds.plugins.checks import logs as log_checks

CHECK_MODULES = (
    "mk2ds.plugins.checks.log_check",
    "mk2ds.plugins.checks.log_observer",
    "mk2ds.plugins.checks.log_times",
)

PROBE = """
import contextlib, io, json, sys
from mk2ds.core.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:
        code = exit.code
print(json.dumps({"code": code, "loaded": [name for name in MODULES if name in sys.modules]}))
""".replace("MODULES", repr(("mk2ds.plugins.checks.logs", *CHECK_MODULES)))


# Every plugin is registered, export included (it imports check_log only when it runs).
@pytest.mark.parametrize("arguments", [["--version"], ["codes"], ["verify", "--help"]])
def test_registering_the_log_checks_does_not_import_them(arguments: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, *arguments], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "loaded": ["mk2ds.plugins.checks.logs"]}


def test_the_moved_names_are_still_public_here() -> None:
    assert log_checks.check_log is log_check.check_log
    assert log_checks.TreeBuilder is log_check.TreeBuilder
    assert log_checks.text_layout_problem is log_observer.text_layout_problem
    assert log_checks.MAX_LISTED == log_observer.MAX_LISTED
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(log_checks, "no_such_name")  # noqa: B009 - the name must not be looked up statically


def test_the_codes_include_the_time_codes() -> None:
    codes = [info.code for info in log_checks.mk2ds_register_codes()]
    assert {"log-empty", "log-sn-backwards", "log-time-backwards", "log-time-zones-mixed"} <= set(codes)
    assert len(codes) == len(set(codes))
