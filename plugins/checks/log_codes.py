"""The codes of the log checks (:mod:`mk2ds.plugins.checks.logs` registers them) and the default of
``--time-backwards-tolerance``: declarations only, so that registering them imports nothing of the checks.
"""

from __future__ import annotations

from mk2ds.core import CodeInfo, Severity

__all__ = ["DEFAULT_BACKWARDS_TOLERANCE", "LOG_CODES", "TIME_CODES"]

#: Default of ``--time-backwards-tolerance``, in seconds.
DEFAULT_BACKWARDS_TOLERANCE = 1.0

#: The codes of :mod:`mk2ds.plugins.checks.log_times`.
TIME_CODES = [
    CodeInfo("log-time-zones-mixed", Severity.WARNING, "A log mixes lines with a header offset and zone-less lines"),
    CodeInfo(
        "log-offset-disagrees-sysinfo",
        Severity.WARNING,
        "A header offset differs from the time zone of the sample's Sysinfo output",
    ),
    CodeInfo(
        "log-time-backwards",
        Severity.WARNING,
        "Events whose resolved times go backwards by more than --time-backwards-tolerance",
    ),
]

#: Every code of the log checks.
LOG_CODES = [
    CodeInfo("log-empty", Severity.WARNING, "A log file has no records"),
    CodeInfo("log-no-reader", Severity.ERROR, "No plugin could read a file classified as a Mark II log"),
    CodeInfo(
        "log-sn-backwards", Severity.WARNING, "A sequence number (sn) is lower than the one before it in the file"
    ),
    CodeInfo("log-sn-repeated", Severity.WARNING, "A sequence number (sn) repeats the one before it in the file"),
    CodeInfo("log-sn-summary", Severity.WARNING, "More sequence-number problems in a file than listed one by one"),
    CodeInfo(
        "log-span-unusual",
        Severity.WARNING,
        "A log's header times span much more or less than the profile expects (e.g. 30 minutes)",
    ),
    CodeInfo(
        "log-parent-not-started",
        Severity.INFO,
        "Processes whose parent's start is not in the log (placeholders in the process tree)",
    ),
    CodeInfo(
        "log-stop-before-start",
        Severity.WARNING,
        "Processes whose ps/stop is logged before their ps/start (negative lifetime): a clock or logging fault",
    ),
    CodeInfo(
        "log-sample-not-seen",
        Severity.WARNING,
        "A sample's log never names the sample's own file (its hash in a path or command line)",
    ),
    CodeInfo(
        "log-utf16",
        Severity.ERROR,
        "A log is UTF-16 text that the Mark II reader did not read as UTF-16 (no BOM, or CP932 forced): its lines are rejected",
    ),
    CodeInfo(
        "log-cr-line-ends",
        Severity.ERROR,
        "A log's lines end with a lone CR (no LF), so the reader sees one long line",
    ),
    *TIME_CODES,
]
