"""mk2ds.core: the host. Plugin manager, hook contract, dataset model, walker, findings, reports, CLI.

The names below are the public API for plugin authors; everything else may move between releases.
"""

from __future__ import annotations

import pluggy

from mk2ds.core.dataset import Dataset, Entry, open_dataset
from mk2ds.core.errors import DatasetUnreadable, Mk2dsError, UsageError
from mk2ds.core.findings import CodeInfo, Fact, Finding, Severity
from mk2ds.core.hookspecs import PROJECT_NAME
from mk2ds.core.outputs import OutputFormat, RecordWriter
from mk2ds.core.pluginmanager import get_plugin_manager
from mk2ds.core.profile import Profile
from mk2ds.core.report import ExitCode, Report
from mk2ds.core.verify_context import VerifyContext

#: Marks a function as a hook implementation: ``@hookimpl def mk2ds_register_codes(): ...``
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = [
    "CodeInfo",
    "Dataset",
    "DatasetUnreadable",
    "Entry",
    "ExitCode",
    "Fact",
    "Finding",
    "Mk2dsError",
    "OutputFormat",
    "Profile",
    "RecordWriter",
    "Report",
    "Severity",
    "UsageError",
    "VerifyContext",
    "get_plugin_manager",
    "hookimpl",
    "open_dataset",
]
