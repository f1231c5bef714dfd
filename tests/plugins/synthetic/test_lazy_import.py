"""Loading the synthetic plugin stays cheap: the generator and its artifacts load when a distribution is
written, not when the plugin registers ``mk2ds sample`` and ``mk2ds demo`` (no timing here)."""

from __future__ import annotations

import pytest
from startup_probe import probe

LIBRARIES = (
    "mk2ds.plugins.synthetic.distribution",
    "mk2ds.plugins.synthetic.generator",
    "mk2ds.plugins.synthetic.world",
    "mk2ds.plugins.synthetic.artifacts",
    "mk2ds.plugins.synthetic.pe_builder",
)


@pytest.mark.parametrize("arguments", [["--version"], ["sample", "--help"], ["demo", "--help"], ["codes"]])
def test_commands_that_write_nothing_do_not_import_the_generator(arguments: list[str]) -> None:
    """The plugin is loaded (it registers the commands), none of its libraries is."""
    done = probe(*arguments)
    assert (done.code, done.loaded(("mk2ds.plugins.synthetic", *LIBRARIES))) == (0, ["mk2ds.plugins.synthetic"])


def test_the_public_names_load_on_first_use() -> None:
    """The probe sees an import: the package's public names still import (and load the library)."""
    done = probe(
        statement="from mk2ds.plugins.synthetic import SampleDistribution, SampleSpec, plan_samples, write_sample"
    )
    assert (done.code, done.loaded(LIBRARIES)) == (0, list(LIBRARIES))


def test_unknown_names_are_still_attribute_errors() -> None:
    import mk2ds.plugins.synthetic as synthetic

    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(synthetic, "no_such_name")  # noqa: B009 - the name must not be looked up statically
    assert getattr(synthetic, "MK2DS_PLUGIN_DETAIL", None) is None  # what the CLI asks every plugin
