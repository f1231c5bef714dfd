"""Content checks for Mark II logs found in a dataset.

Every log is read once, streaming, through the ``mk2ds_open_log`` service hook (the reader plugin), and
checked on the way: the reader's own findings (unparseable lines with file:line:column), sequence numbers that
go backwards or repeat, the span of header times against the profile's ``expected_minutes`` (30 for the 30m
logs), and whether a per-sample log mentions the sample's own executable (its hash in a path or command line).
At level ``fast`` only the first line is read.

Times (:mod:`mk2ds.plugins.checks.log_times`): zone-less lines get the offset of the sample's Sysinfo time zone
(collected by :mod:`mk2ds.plugins.checks.sysinfo`) unless ``--assume-offset`` is given; a log that mixes zoned
and zone-less lines, a header offset that disagrees with the Sysinfo time zone, and resolved times that go
backwards by more than ``--time-backwards-tolerance`` seconds are reported.

This plugin module only declares (codes in :mod:`~mk2ds.plugins.checks.log_codes`, options): the checks run in
:mod:`~mk2ds.plugins.checks.log_check` with :mod:`~mk2ds.plugins.checks.log_observer`, imported when the first
log is checked, so that loading the plugin at start-up stays cheap.
"""

from __future__ import annotations

import argparse
import importlib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mk2ds.core import (
    CodeInfo,
    Dataset,
    Entry,
    Fact,
    Finding,
    OptionGroup,
    Severity,
    VerifyContext,
    check_not_run,
    hookimpl,
)
from mk2ds.plugins.checks.log_codes import DEFAULT_BACKWARDS_TOLERANCE, LOG_CODES

if TYPE_CHECKING:
    from mk2ds.plugins.checks.log_check import TreeBuilder, check_log
    from mk2ds.plugins.checks.log_observer import (
        FIELDS_NAMING_FILES,
        FIRST_LINE_BYTES,
        MAX_LINES_IN_DETAILS,
        MAX_LISTED,
        SNIFF_BYTES,
        text_layout_problem,
    )

__all__ = [
    "FIELDS_NAMING_FILES",
    "FIRST_LINE_BYTES",
    "MAX_LINES_IN_DETAILS",
    "MAX_LISTED",
    "SKIP_LOG_CHECKS_OPTION",
    "SNIFF_BYTES",
    "TreeBuilder",
    "check_log",
    "text_layout_problem",
]

#: Names of the checks' modules, re-exported here and imported on first use: every built-in plugin is imported
#: at start-up, and the reader and the checks' machinery are needed only when a log is checked.
_LAZY_NAMES = {
    "check_log": "log_check",
    "TreeBuilder": "log_check",
    "FIELDS_NAMING_FILES": "log_observer",
    "FIRST_LINE_BYTES": "log_observer",
    "MAX_LINES_IN_DETAILS": "log_observer",
    "MAX_LISTED": "log_observer",
    "SNIFF_BYTES": "log_observer",
    "text_layout_problem": "log_observer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"mk2ds.plugins.checks.{module}"), name)


@hookimpl
def mk2ds_register_codes() -> list[CodeInfo]:
    return list(LOG_CODES)


def _tolerance(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"a number of seconds, 0 or more, not {text!r}")
    return value


def _offset(text: str) -> str:
    from mk2ds.plugins.reader.timestamps import parse_offset  # the reader loads when the option is used

    try:
        return parse_offset(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


@hookimpl
def mk2ds_add_verify_options(group: OptionGroup) -> None:
    group.add_argument(
        "--assume-offset",
        type=_offset,
        metavar="OFFSET",
        help="UTC offset for zone-less log lines, e.g. +0900 (default: the sample's Sysinfo time zone)",
    )
    group.add_argument(
        "--time-backwards-tolerance",
        type=_tolerance,
        metavar="SECONDS",
        default=DEFAULT_BACKWARDS_TOLERANCE,
        help=f"report log events whose time goes backwards by more than this (default {DEFAULT_BACKWARDS_TOLERANCE:g} s)",
    )


@hookimpl
def mk2ds_check_dataset(dataset: Dataset, context: VerifyContext) -> Iterator[Finding]:
    """Say once when the logs' process trees cannot be built (nothing provides ``mk2ds_build_process_tree``)."""
    if (
        context.at_least("full")
        and "mk2log" in context.kinds.values()
        and not context.provided("mk2ds_build_process_tree")
    ):
        yield check_not_run(
            "the logs' process trees (log-parent-not-started, the per-sample tree facts)",
            "mk2ds_build_process_tree",
            "tree.model",
            severity=Severity.WARNING,
        )


#: A verification option: when true, the log checks are left to the caller, which runs :func:`check_log` in
#: its own single pass over every log (``mk2ds export`` does, feeding its tables from the same records).
SKIP_LOG_CHECKS_OPTION = "skip_log_checks"


@hookimpl
def mk2ds_check_entry(entry: Entry, kind: str, dataset: Dataset, context: VerifyContext) -> Iterator[Finding | Fact]:
    if kind != "mk2log" or context.option(SKIP_LOG_CHECKS_OPTION):
        return
    from mk2ds.plugins.checks.log_check import check_log  # the checks' machinery loads when a log is checked

    yield from check_log(entry, dataset, context)
