"""mk2ds.core: the host. Plugin manager, hook contract, dataset model, walker, findings, reports, CLI.

The names below are the public API for plugin authors (with the documented modules the plugin guide lists:
``mk2ds.core.outputs``, ``engines``, ``dataset``, ``atomic``, ``output_guard``, ``progress``, ``terminal``,
``schemas``, ``registry``); everything else may move between releases. Built-in plugins use nothing else.
"""

from __future__ import annotations

import pluggy

from mk2ds.core.commands import emit_report, tool_description
from mk2ds.core.contract import CommandParser, CommandRegistry, OptionGroup, ProcessTree, RecordReader
from mk2ds.core.dataset import Dataset, Entry, open_dataset
from mk2ds.core.errors import DatasetUnreadable, Mk2dsError, UsageError
from mk2ds.core.findings import CodeInfo, Fact, Finding, Severity
from mk2ds.core.hookcalls import HookFailed, call_service, providers
from mk2ds.core.hookspecs import PROJECT_NAME
from mk2ds.core.outputs import OutputFormat, RecordWriter
from mk2ds.core.pluginmanager import PluginSettings, get_plugin_manager, mk2ds_version, plugin_settings
from mk2ds.core.profile import Profile
from mk2ds.core.report import ExitCode, Report
from mk2ds.core.verify_context import SharedKey, VerifyContext, check_not_run
from mk2ds.core.walker import default_jobs, verify

#: Marks a function as a hook implementation: ``@hookimpl def mk2ds_register_codes(): ...``
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = [
    "CodeInfo",
    "CommandParser",
    "CommandRegistry",
    "Dataset",
    "DatasetUnreadable",
    "Entry",
    "ExitCode",
    "Fact",
    "Finding",
    "HookFailed",
    "Mk2dsError",
    "OptionGroup",
    "OutputFormat",
    "PluginSettings",
    "ProcessTree",
    "Profile",
    "RecordReader",
    "RecordWriter",
    "Report",
    "Severity",
    "SharedKey",
    "UsageError",
    "VerifyContext",
    "call_service",
    "check_not_run",
    "default_jobs",
    "emit_report",
    "get_plugin_manager",
    "hookimpl",
    "mk2ds_version",
    "open_dataset",
    "plugin_settings",
    "providers",
    "tool_description",
    "verify",
]
