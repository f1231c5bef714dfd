"""Report formats: what ``mk2ds verify --format NAME`` (and the reports of other commands) write.

Each module is one plugin that implements ``mk2ds_register_outputs`` with one report output: ``text``,
``json`` (the report document itself), ``html`` (one self-contained page), ``junit`` and ``sarif``. Plugin
names are ``reports.<format>``; ``reports.text`` and ``reports.json`` are essential and cannot be blocked.
The page's helpers are no plugins: ``charts`` draws its inline SVG charts, ``html_samples`` its sample table
and dataset pictures; ``report.html``, ``report.css`` and ``report.js`` are its template and inlined assets.
"""
