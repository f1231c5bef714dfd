"""Registering the export plugin (what every command does at start-up) does not import the export machinery."""

from __future__ import annotations

from startup_probe import probe


def test_version_and_export_help_do_not_import_the_export_run() -> None:
    for arguments in (["--version"], ["export", "--help"]):
        loaded = probe(*arguments).modules
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
    done = probe(statement="import mk2ds.plugins.reports.charts")
    assert done.loaded(["mk2ds.plugins.reports.charts", "mk2ds.plugins.tree"]) == ["mk2ds.plugins.reports.charts"]
