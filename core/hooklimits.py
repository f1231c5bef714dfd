"""When a hook implementation is stopped, and whose fault that is: the user's Ctrl-C versus a plugin raising
``KeyboardInterrupt``, and the time limit of entry checks.

:mod:`mk2ds.core.hookguard` uses these to decide what becomes a ``plugin-error`` or ``plugin-timeout`` finding
and what ends the run; it re-exports the public names.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from mk2ds.core.zipmembers import UnreadableEntry

__all__ = [
    "PluginTimeout",
    "alarm",
    "entry_check_seconds",
    "is_plugin_failure",
    "note_user_interrupt",
    "reset_user_interrupt",
    "time_limit",
    "user_interrupted",
]


class PluginTimeout(BaseException):
    """Raised inside an entry check that ran past its time limit (a ``BaseException``, so that a plugin's
    ``except Exception`` does not swallow it)."""


# -- the user's Ctrl-C versus a plugin raising KeyboardInterrupt ------------------------------------------------

_INTERRUPT = threading.Event()


def note_user_interrupt() -> None:
    """Called by the SIGINT handler: a ``KeyboardInterrupt`` from now on is the user's."""
    _INTERRUPT.set()


def user_interrupted() -> bool:
    return _INTERRUPT.is_set()


def reset_user_interrupt() -> None:
    """Forget a Ctrl-C (when a command has ended; the next one starts afresh)."""
    _INTERRUPT.clear()


def is_plugin_failure(error: BaseException) -> bool:
    """Whether ``error`` is the plugin's failure (not damaged data, not the user's Ctrl-C)."""
    if isinstance(error, UnreadableEntry):  # the dataset is damaged, whichever plugin was reading it
        return False
    if isinstance(error, KeyboardInterrupt):
        return not user_interrupted()
    return isinstance(error, (Exception, SystemExit))


# -- time limit of entry checks ---------------------------------------------------------------------------------

_LIMIT = threading.local()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Bound each entry check run in this block (per plugin and file) to ``seconds``; ``None``/``0``: no limit.

    Uses ``SIGALRM``, so it applies in a process's main thread (``-j 1`` and the ``-j N`` worker processes);
    elsewhere (engine worker threads) checks run unbounded.
    """
    previous = getattr(_LIMIT, "seconds", None)
    _LIMIT.seconds = seconds if seconds and seconds > 0 and _alarm_usable() else None
    try:
        yield
    finally:
        _LIMIT.seconds = previous


def entry_check_seconds() -> float | None:
    """The time limit set by :func:`time_limit` for entry checks run now, or ``None``."""
    return getattr(_LIMIT, "seconds", None)


def _alarm_usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _on_alarm(signum: int, frame: object) -> None:
    raise PluginTimeout


@contextmanager
def alarm(seconds: float | None) -> Iterator[None]:
    """Raise :class:`PluginTimeout` in the block after ``seconds`` (``None``/``0``: never)."""
    if not seconds:
        yield
        return
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
