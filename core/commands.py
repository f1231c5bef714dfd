"""What command handlers share, host and plugins alike: the tool description that every report records,
and rendering a report with the output format the user chose."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pluggy

from mk2ds.core import registry
from mk2ds.core.atomic import write_atomic
from mk2ds.core.pluginmanager import mk2ds_version, plugin_infos
from mk2ds.core.report import ExitCode, Report

__all__ = ["emit_report", "tool_description"]


def tool_description(pm: pluggy.PluginManager) -> dict[str, Any]:
    """Name and versions of mk2ds and of the plugins that took part (recorded in every report)."""
    return {
        "name": "mk2ds",
        "version": mk2ds_version(),
        "python": sys.version.split()[0],
        "plugins": {info.name: info.version for info in plugin_infos(pm) if not info.blocked and not info.failed},
    }


def emit_report(pm: pluggy.PluginManager, report: Report, args: argparse.Namespace) -> ExitCode:
    """Render a report with the chosen report output (``args.format``, default ``text``); print it or write
    it to ``args.output``; return the report's exit code."""
    output = registry.find_output(pm, "report", getattr(args, "format", "text"))
    document = report.to_dict()
    rendered = output.factory(document, args)
    if getattr(args, "output", None):
        write_atomic(args.output, rendered)
    else:
        if isinstance(rendered, bytes):
            sys.stdout.buffer.write(rendered)
        else:
            sys.stdout.write(rendered)
        sys.stdout.flush()
    return report.exit_code()
