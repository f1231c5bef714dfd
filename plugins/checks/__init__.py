"""The checks of ``mk2ds verify``: the layout profile and everything a distribution is checked against.

Each module is one plugin: ``checks.profile`` (the built-in ``soliton-2018`` profile, ``mk2ds_register_profiles``),
``checks.classifier`` (``mk2ds_classify_entry`` by the profile's kinds), ``checks.layout``,
``checks.sample_list`` and ``checks.cross_references`` (``mk2ds_check_dataset``), ``checks.logs`` and
``checks.sysinfo`` (``mk2ds_check_entry``; ``checks.logs`` also ``mk2ds_check_dataset``, to say once when the
process-tree service is missing). Every one also registers its finding codes (``mk2ds_register_codes``).
``shared`` is no plugin: it declares the data these checks pass to each other (``SAMPLES``, ``SAMPLE_FILES``).
``activity`` is no plugin: the log checks count events per minute and kind with it (the ``<log>.activity`` fact).
"""
