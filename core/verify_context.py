"""What a check knows about the verification it is part of."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from mk2ds.core.findings import Finding, Severity
from mk2ds.core.profile import Profile

if TYPE_CHECKING:
    import pluggy

__all__ = ["LEVELS", "SharedKey", "VerifyContext", "check_not_run"]

#: Verification levels, cheapest first. ``structure``: names and sizes only; ``fast``: also small files and
#: indexes (List.xlsx, Sysinfo, impfuzzy); ``full``: every byte (logs parsed, checksums recomputed).
LEVELS = ("structure", "fast", "full")

T = TypeVar("T")


@dataclass(frozen=True)
class SharedKey(Generic[T]):
    """A declared, typed slot of :attr:`VerifyContext.shared`: what dataset checks leave for later checks.

    The plugin that writes the value declares the key as a public name of its feature; readers import it
    from there::

        SAMPLES: SharedKey[list[SampleRow]] = SharedKey("samples", list, "checks.sample_list", "rows of List.xlsx")
        context.put(SAMPLES, rows)        # the writer (a dataset check)
        rows = context.get(SAMPLES)       # a reader: the value, or None when nobody wrote it

    ``kind`` is checked when the value is put (values travel to worker processes: JSON-like data only);
    ``provider`` names the plugin that normally writes it, for the ``check-not-run`` finding a reader gives
    when that plugin is missing (:meth:`VerifyContext.missing`).
    """

    name: str
    kind: type
    provider: str
    description: str = ""


@dataclass
class VerifyContext:
    """Handed to every check. Picklable, so that it travels to worker processes.

    ``shared`` holds what dataset checks leave for entry checks, under declared :class:`SharedKey` names
    (use :meth:`put` and :meth:`get`). ``entries`` maps every file path to its size; ``kinds`` maps every
    file path to its kind. ``subjects`` lists the subjects (sample ids) of the dataset, in order, as a dataset
    check found them: the report lists them even when they have no findings.
    """

    profile: Profile
    level: str = "full"
    options: argparse.Namespace = field(default_factory=argparse.Namespace)
    shared: dict[str, Any] = field(default_factory=dict)
    entries: dict[str, int] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    kinds: dict[str, str] = field(default_factory=dict)
    subjects: list[str] = field(default_factory=list)
    #: The plugin manager of the current process, for checks that call service hooks (``mk2ds_open_log``).
    #: Not pickled: each worker process sets its own.
    pm: pluggy.PluginManager | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["pm"] = None
        return state

    def at_least(self, level: str) -> bool:
        """True when the run's level is ``level`` or more thorough."""
        return LEVELS.index(self.level) >= LEVELS.index(level)

    def option(self, name: str, default: Any = None) -> Any:
        return getattr(self.options, name, default)

    def put(self, key: SharedKey[T], value: T) -> None:
        """Leave ``value`` under ``key`` for later checks."""
        if not isinstance(key, SharedKey):
            raise TypeError(f"shared data needs a declared SharedKey, not {key!r}")
        if not isinstance(value, key.kind):
            raise TypeError(f"shared key {key.name!r} holds {key.kind.__name__}, not {type(value).__name__}")
        self.shared[key.name] = value

    def get(self, key: SharedKey[T]) -> T | None:
        """The value left under ``key``, or ``None`` when no check wrote it."""
        value = self.shared.get(key.name)
        return cast("T", value) if isinstance(value, key.kind) else None

    def missing(self, key: SharedKey[Any]) -> bool:
        """True when nothing was left under ``key`` *and* its provider plugin is not there (blocked or not
        installed): a reader then reports :func:`check_not_run` instead of passing quietly."""
        return key.name not in self.shared and (self.pm is None or self.pm.get_plugin(key.provider) is None)

    def provided(self, hook: str) -> bool:
        """True when some plugin implements the service hook ``hook`` (wrappers not counted)."""
        if self.pm is None:
            return False
        from mk2ds.core.hookcalls import providers

        return bool(providers(self.pm, hook))


def check_not_run(
    what: str,
    needs: str,
    by: str | None = None,
    *,
    path: str | None = None,
    subject: str | None = None,
    severity: Severity = Severity.ERROR,
) -> Finding:
    """The finding of a check that could not run because what it ``needs`` (a hook, or shared data) has no
    provider: a blocked or missing plugin must never make a run look cleaner than it is.

    :param what: what was not checked ("impfuzzy/PEfile results against the samples").
    :param needs: the hook or shared key nobody provided (``mk2ds_recompute_pe``).
    :param by: the plugin that normally provides it (``pe``), when known.
    """
    provider = f" (normally plugin {by!r}; is it blocked with -p no:{by} or MK2DS_BLOCK_PLUGINS?)" if by else ""
    return Finding(
        "check-not-run",
        severity,
        f"{what} not checked: nothing provides {needs}{provider}",
        path=path,
        subject=subject,
        details={"needs": needs, "provider": by, "what": what},
    )
