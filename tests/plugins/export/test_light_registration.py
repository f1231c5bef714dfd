"""Registering the export plugin (what every command does at start-up) does not import the export machinery."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import contextlib, io, json, sys
from mk2ds.core.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted(name for name in sys.modules if name.startswith("mk2ds."))))
"""


def loaded_after(*arguments: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *arguments], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_version_and_export_help_do_not_import_the_export_run() -> None:
    for arguments in (["--version"], ["export", "--help"]):
        loaded = loaded_after(*arguments)
        assert "mk2ds.plugins.export" in loaded  # the plugin is registered ...
        assert not loaded & {  # ... but what only a run needs is not imported
            "mk2ds.plugins.export.run",
            "mk2ds.plugins.export.writers",
            "mk2ds.plugins.export.logpass",
            "mk2ds.plugins.export.metadata",
            "mk2ds.plugins.export.dataset_tables",
        }, arguments


def test_the_html_report_does_not_pull_in_the_process_tree() -> None:
    """Report pictures escape text with core's escaper; loading them must not load the tree feature."""
    code = "import sys, mk2ds.plugins.reports.charts; print('mk2ds.plugins.tree' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
