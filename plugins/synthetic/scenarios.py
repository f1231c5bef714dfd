"""Malware runs for the synthetic Mark II logs: what the sample does, on top of the office background.

A helper library of :mod:`mk2ds.plugins.synthetic.generator`. Each scenario is a function that writes a *story*
with a :class:`~mk2ds.plugins.synthetic.story.Story` (a time cursor with helpers for processes, files, registry,
services, network and injections); :data:`SCENARIOS` maps the scenario names to them. The scenarios are grouped
by behavior: :mod:`~mk2ds.plugins.synthetic.scenarios_droppers` (a dropper, a script downloader),
:mod:`~mk2ds.plugins.synthetic.scenarios_destructive` (WannaCry, StoneDrill) and
:mod:`~mk2ds.plugins.synthetic.scenarios_lateral` (Olympic Destroyer, NotPetya, the receiving host of lateral
movement).

The stories follow public descriptions of the families (WannaCry, Olympic Destroyer, NotPetya, StoneDrill)
and the log excerpts of the dataset's presentation slides; every name, address, hash and GUID is invented except PsExec's
public file properties.
"""

from __future__ import annotations

from collections.abc import Callable

from mk2ds.plugins.synthetic.scenarios_destructive import stonedrill, wannacry
from mk2ds.plugins.synthetic.scenarios_droppers import dropper, script
from mk2ds.plugins.synthetic.scenarios_lateral import lateral, olympic, petya
from mk2ds.plugins.synthetic.story import Sample, Story

__all__ = ["DEFAULT_EXTENSIONS", "SCENARIOS"]

#: File extension of the sample when the caller gives none.
DEFAULT_EXTENSIONS = {"petya": "dll", "script": "js"}


def benign(story: Story, sample: Sample) -> None:
    """No sample: the office background alone (the ``Normal`` logs of the dataset)."""


#: Scenario name → story function.
SCENARIOS: dict[str, Callable[[Story, Sample], None]] = {
    "benign": benign,
    "dropper": dropper,
    "script": script,
    "wannacry": wannacry,
    "olympic": olympic,
    "petya": petya,
    "stonedrill": stonedrill,
    "lateral": lateral,
}
