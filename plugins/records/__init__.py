"""Record output formats: what ``mk2ds convert --format NAME`` writes.

Each module is one plugin that implements ``mk2ds_register_outputs`` with one record output:
``jsonl`` (the default), ``json``, ``mk2log``, ``timesketch``, ``ecs`` (with its mapping table in
:mod:`mk2ds.plugins.records.ecs_mapping`), ``csv`` and ``parquet``. Plugin names are ``records.<format>``.
"""
