"""The built-in dataset-level tables, through the same hook third parties use: ``samples`` and ``findings``.

``samples``
    One row per ``List.xlsx`` row (as the sample-list check read it; its original columns kept in
    ``list_columns``), with what the verification learnt about the sample (its facts: PE status, recomputed
    imphash/impfuzzy with ``--samples``, the impfuzzy comparison, Sysinfo host, OS, time zone, clock offset)
    and the log tables' counts (log files, bytes, events, processes, relations).
``findings``
    Every finding of the run (verification and log checks), in the report's order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mk2ds.core import hookimpl
from mk2ds.core.tables import ExportContext, ExportTable, ForeignKey, TableField

__all__ = ["FINDING_FIELDS", "SAMPLE_FIELDS", "finding_rows", "sample_rows"]

SAMPLE_FIELDS: tuple[TableField, ...] = (
    TableField(
        "sha256",
        "string",
        "the sample's sha256 (its id: the first hash of the row when it has no sha256)",
        required=True,
    ),
    TableField("sha1", "string", "sha1 from the sample list"),
    TableField("md5", "string", "md5 from the sample list"),
    TableField("list_row", "integer", "the row in List.xlsx"),
    TableField("extension", "string", "the file extension from the sample list"),
    TableField("is_pe", "boolean", "whether the extension is a PE one (null when unknown)"),
    TableField("labels", "string", "the anti-virus labels from the sample list"),
    TableField("has_verbose_log", "boolean", "the sample list's Verbose-log flag"),
    TableField("has_report", "boolean", "the sample list's report flag"),
    TableField(
        "list_columns", "json", "every column of the sample's List.xlsx row, by header (an object)", required=True
    ),
    TableField("pe_status", "string", "what the PE check found (pe, not-pe, unreadable, ...), with --samples"),
    TableField("imphash", "string", "imphash recomputed from the sample (with --samples)"),
    TableField("impfuzzy", "string", "impfuzzy recomputed from the sample (with --samples)"),
    TableField(
        "impfuzzy_check",
        "string",
        "the shipped impfuzzy against the recomputed one: match, drift (older pefile), mismatch; null when not compared",
    ),
    TableField("pefile_comparison", "string", "the shipped pefile output against the recomputed one"),
    TableField("host_name", "string", "Sysinfo: the host name"),
    TableField("os_name", "string", "Sysinfo: the operating system"),
    TableField("os_version", "string", "Sysinfo: the OS version"),
    TableField("time_zone", "string", "Sysinfo: the time zone as shown"),
    TableField("utc_offset", "string", "Sysinfo: the UTC offset of the time zone (+09:00)"),
    TableField("clock_offset_seconds", "number", "Sysinfo (w32tm): the host clock's offset from the time server"),
    TableField("log_files", "integer", "logs of the sample in the export", required=True),
    TableField("log_bytes", "integer", "their size in bytes", required=True),
    TableField("events", "integer", "their records (events rows)", required=True),
    TableField("processes", "integer", "their processes (processes rows)", required=True),
    TableField("relations", "integer", "their relations (relations rows)", required=True),
    TableField("minutes_30m", "number", "the span of the 30-minute log's header times"),
    TableField("errors", "integer", "findings of severity error about the sample", required=True),
    TableField("warnings", "integer", "findings of severity warning about the sample", required=True),
    TableField("facts", "json", "every fact the verification recorded about the sample (an object)", required=True),
)
FINDING_FIELDS: tuple[TableField, ...] = (
    TableField("number", "integer", "position in the report (1-based)", required=True),
    TableField("code", "string", "the finding code (mk2ds codes lists them)", required=True),
    TableField("severity", "string", "error, warning or info", required=True),
    TableField("message", "string", "what was found", required=True),
    TableField("path", "string", "the dataset file, relative"),
    TableField("line", "integer", "1-based line"),
    TableField("column", "integer", "1-based column"),
    TableField("sample", "string", "the sample it is about (samples.sha256)"),
    TableField("plugin", "string", "the plugin that reported it"),
    TableField("details", "json", "machine-readable details (an object)", required=True),
)

_LOG_COUNTS = (("log_bytes", "bytes"), ("events", "events"), ("processes", "processes"), ("relations", "relations"))
_FACT_COLUMNS = {
    "pe_status": "pe-status",
    "imphash": "imphash",
    "impfuzzy": "impfuzzy",
    "pefile_comparison": "pefile-comparison",
    "host_name": "systeminfo.host_name",
    "os_name": "systeminfo.os_name",
    "os_version": "systeminfo.os_version",
    "time_zone": "systeminfo.time_zone",
    "utc_offset": "systeminfo.utc_offset",
    "clock_offset_seconds": "w32tm.clock_offset_seconds",
    "minutes_30m": "30m-log.minutes",
}


def _impfuzzy_check(sample: str, facts: Mapping[str, Any], findings: list[Mapping[str, Any]]) -> str | None:
    codes = {finding["code"] for finding in findings if finding.get("subject") == sample}
    if "impfuzzy-mismatch" in codes:
        return "mismatch"
    if "impfuzzy-drift" in codes:
        return "drift"
    return "match" if "impfuzzy" in facts else None


def sample_rows(context: ExportContext) -> Iterator[dict[str, Any]]:
    report = context.report
    by_id = {str(item["id"]): item for item in report.get("samples", [])}
    findings = list(report.get("findings", []))
    seen: set[str] = set()
    for sample in context.samples:
        sample_id = str(sample["id"])
        if sample_id in seen:
            continue  # a duplicate row is a finding of the sample-list check; the key stays unique
        seen.add(sample_id)
        facts = dict(by_id.get(sample_id, {}).get("facts", {}))
        counts = by_id.get(sample_id, {}).get("findings", {})
        logs = [log for log in context.logs if log.get("sample") == sample_id]
        flags = sample.get("flags") or {}
        row: dict[str, Any] = {
            "sha256": sample_id,
            "sha1": sample.get("sha1"),
            "md5": sample.get("md5"),
            "list_row": sample.get("row"),
            "extension": sample.get("extension"),
            "is_pe": sample.get("is_pe"),
            "labels": facts.get("labels"),
            "has_verbose_log": flags.get("verbose"),
            "has_report": flags.get("report"),
            "list_columns": sample.get("columns") or {},
            "impfuzzy_check": _impfuzzy_check(sample_id, facts, findings),
            "log_files": len(logs),
            **{column: sum(int(log.get(key) or 0) for log in logs) for column, key in _LOG_COUNTS},
            "errors": int(counts.get("error", 0)),
            "warnings": int(counts.get("warning", 0)),
            "facts": facts,
        }
        row.update(_fact_columns(facts))
        yield row


def _fact_columns(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The typed columns taken from a sample's facts."""
    columns: dict[str, Any] = {}
    for column, key in _FACT_COLUMNS.items():
        value = facts.get(key)
        if column in ("clock_offset_seconds", "minutes_30m"):
            value = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        elif value is not None and not isinstance(value, str):
            value = str(value)
        columns[column] = value
    return columns


def finding_rows(context: ExportContext) -> Iterator[dict[str, Any]]:
    samples = {str(sample["id"]) for sample in context.samples}
    for number, finding in enumerate(context.report.get("findings", []), start=1):
        subject = finding.get("subject")
        yield {
            "number": number,
            "code": finding["code"],
            "severity": finding["severity"],
            "message": finding["message"],
            "path": finding.get("path"),
            "line": finding.get("line"),
            "column": finding.get("column"),
            "sample": subject if subject in samples else None,
            "plugin": finding.get("plugin"),
            "details": finding.get("details") or {},
        }


@hookimpl
def mk2ds_export_tables(context: ExportContext) -> list[ExportTable]:
    sample_key = ForeignKey(("sample",), "samples", ("sha256",))
    return [
        ExportTable(
            "samples",
            "one row per List.xlsx row, with the verification's facts and the log tables' counts",
            SAMPLE_FIELDS,
            sample_rows(context),
            ("sha256",),
        ),
        ExportTable(
            "findings",
            "every finding of the verification and the log checks of this export",
            FINDING_FIELDS,
            finding_rows(context),
            ("number",),
            (sample_key,),
        ),
    ]
