"""Report formats: what ``mk2ds verify --format NAME`` (and the reports of other commands) write.

Each module is one plugin that implements ``mk2ds_register_outputs`` with one report output: ``text``,
``json`` (the report document itself), ``junit`` and ``sarif``. Plugin names are ``reports.<format>``;
``reports.text`` and ``reports.json`` are essential and cannot be blocked.
"""
