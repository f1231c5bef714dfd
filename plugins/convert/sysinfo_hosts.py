"""The host facts (OS name and version, host name) that a distribution's Sysinfo files give each log.

When ``mk2ds convert`` reads a log as part of a distribution (:mod:`mk2ds.plugins.convert.time_zones`), an
output that describes the host (``ecs``: ``host.os.*``) gets the facts of the PC that recorded it, in this
order of evidence, never a guess:

1. the Sysinfo of the log's own sample (the sample named by a hash in the log's path). When that sample has
   Sysinfo files but none says what OS it ran (empty, as when malware blocked their collection; unreadable;
   too large; or two that disagree), the log gets nothing: the other samples' PCs say nothing about this one;
2. for a log that names no sample with Sysinfo files (``MK2Log/Normal/PC1.log``), the OS facts every
   systeminfo output of the distribution agrees on (with the host name only when they all name one host);
3. nothing.

Facts travel as :data:`HostFacts`, a tuple of ``(key, value)`` pairs (keys of
:func:`mk2ds.plugins.checks.sysinfo.parse_systeminfo`): hashable and picklable, so a convert job carries them
to its worker process or Dask worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mk2ds.plugins.checks.cross_references import hashes_in

__all__ = ["HOST_KEYS", "OS_KEYS", "HostFacts", "SysinfoHosts", "host_facts"]

#: ``(key, value)`` pairs: ``host_name`` (when known), ``os_name``, ``os_version`` (when known).
HostFacts = tuple[tuple[str, str], ...]
#: The facts that say which OS the PC ran: two Sysinfo files agree when these are equal.
OS_KEYS = ("os_name", "os_version")
#: Every fact passed on: the OS facts and the host name (the writer uses it to keep other hosts' records out).
HOST_KEYS = ("host_name", *OS_KEYS)


def host_facts(facts: Mapping[str, Any] | None) -> HostFacts | None:
    """The :data:`HostFacts` of one parsed systeminfo output, or ``None`` when it names no OS."""
    if not facts or not str(facts.get("os_name") or "").strip():
        return None
    return tuple((key, str(facts[key]).strip()) for key in HOST_KEYS if str(facts.get(key) or "").strip())


@dataclass
class SysinfoHosts:
    """The host facts of a distribution's Sysinfo files: per sample hash, and what every file agrees on."""

    #: Per sample hash, the distinct facts its Sysinfo files gave (empty: it has files, none usable).
    by_hash: dict[str, set[HostFacts]] = field(default_factory=dict)
    #: Every distinct set of OS facts (:data:`OS_KEYS`) seen, and every host name.
    os_seen: set[HostFacts] = field(default_factory=set)
    host_names: set[str] = field(default_factory=set)

    def add(self, path: str, facts: Mapping[str, Any] | None) -> None:
        """Count the Sysinfo file at ``path`` with its parsed ``facts`` (``None``: empty or unreadable)."""
        found = host_facts(facts)
        for digest in hashes_in(path):
            known = self.by_hash.setdefault(digest, set())
            if found is not None:
                known.add(found)
        if found is not None:
            self.os_seen.add(tuple((key, value) for key, value in found if key in OS_KEYS))
            self.host_names.add(dict(found).get("host_name", ""))

    @property
    def common(self) -> HostFacts | None:
        """The OS facts every Sysinfo file that names an OS agrees on (and their host name if all share one)."""
        if len(self.os_seen) != 1:
            return None
        agreed = next(iter(self.os_seen))
        lowered = {name.lower() for name in self.host_names}  # Windows host names ignore case
        if len(lowered) == 1 and "" not in lowered:
            return (("host_name", min(self.host_names)), *agreed)
        return agreed

    def facts_for(self, path: str) -> HostFacts | None:
        """The host facts for the log at ``path`` (see the module documentation)."""
        for digest in sorted(hashes_in(path)):
            if digest in self.by_hash:
                found = self.by_hash[digest]
                return next(iter(found)) if len(found) == 1 else None
        return self.common
