"""Loading the log checks' plugin stays cheap: it declares codes and options; the reader-based checks
(``log_check``, ``log_observer``, ``log_times``) load when a log is checked (no timing here)."""

from __future__ import annotations

import pytest
from startup_probe import probe

from mk2ds.plugins.checks import log_check, log_observer
from mk2ds.plugins.checks import logs as log_checks

CHECK_MODULES = (
    "mk2ds.plugins.checks.log_check",
    "mk2ds.plugins.checks.log_observer",
    "mk2ds.plugins.checks.log_times",
)


# Every plugin is registered, export included (it imports check_log only when it runs).
@pytest.mark.parametrize("arguments", [["--version"], ["codes"], ["verify", "--help"]])
def test_registering_the_log_checks_does_not_import_them(arguments: list[str]) -> None:
    done = probe(*arguments)
    assert (done.code, done.loaded(("mk2ds.plugins.checks.logs", *CHECK_MODULES))) == (0, ["mk2ds.plugins.checks.logs"])


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
