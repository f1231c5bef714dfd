"""Whether a file may be converted in byte ranges: probes of the chosen output and of the log reader in use.

A library of the engine (:mod:`mk2ds.plugins.convert.engine`): parts concatenate only for outputs that are a
plain sequence of records (:func:`output_concatenates`), and only a reader that honors the byte-range options
(:func:`reader_reads_parts`) can read them.
"""

from __future__ import annotations

import argparse
import io
from typing import Any

import pluggy

from mk2ds.core.outputs import OutputFormat, open_record_writer

__all__ = ["PROBE_RECORDS", "output_concatenates", "reader_reads_parts"]

#: Records written whole and in pieces by :func:`output_concatenates`: both offset forms, quotes, Japanese text,
#: an empty value, and an ``acpt``/``dcon`` pair.
PROBE_RECORDS: tuple[dict[str, Any], ...] = (
    {
        "time": "2018-03-01T19:55:17.836+09:00",
        "sn": 2101,
        "evt": "ps",
        "subEvt": "start",
        "psPath": "C:\\Windows\\explorer.exe",
        "pid": 1234,
    },
    {
        "time": "2018-03-01T19:55:18.001",
        "sn": 2102,
        "evt": "file",
        "path": "C:\\Users\\日本\\メモ.txt",
        "cmd": 'a "b" c',
        "x": "",
    },
    {"time": "2018-03-01T19:55:19.500+09:00", "sn": 2103, "evt": "net", "dstIp": "172.24.1.2", "dstPort": 445},
    # An output that remembers earlier records (ecs: a dcon is inbound after a matching acpt) must not be split.
    {
        "time": "2018-03-01T19:55:20.000+09:00",
        "sn": 2104,
        "evt": "net",
        "subEvt": "acpt",
        "com": "PC1",
        "srcIP": "172.24.1.2",
        "srcPort": 50211,
        "dstIP": "172.24.1.1",
        "dstPort": 445,
    },
    {
        "time": "2018-03-01T19:55:21.000+09:00",
        "sn": 2105,
        "evt": "net",
        "subEvt": "dcon",
        "com": "PC1",
        "srcIP": "172.24.1.1",
        "srcPort": 445,
        "dstIP": "172.24.1.2",
        "dstPort": 50211,
        "recv": 10,
        "send": 20,
    },
)


def output_concatenates(output: OutputFormat, args: argparse.Namespace) -> bool:
    """Whether the output of records ``a + b`` is the output of ``a`` followed by the output of ``b``."""

    def render(records: tuple[dict[str, Any], ...]) -> bytes:
        stream = io.BytesIO()
        writer = open_record_writer(output, stream, args)
        for record in records:
            writer.write(dict(record))
        writer.close()
        return stream.getvalue()

    try:
        whole = render(PROBE_RECORDS)
        cuts = range(1, len(PROBE_RECORDS))
        return render(()) == b"" and all(
            render(PROBE_RECORDS[:cut]) + render(PROBE_RECORDS[cut:]) == whole for cut in cuts
        )
    except Exception:  # noqa: BLE001 - an output that cannot even be probed is converted whole
        return False


def reader_reads_parts(pm: pluggy.PluginManager) -> bool:
    """Whether the log reader in use honors byte-range options (a third-party reader may not)."""
    options = argparse.Namespace(
        encoding="utf-8", line_offset=7, at_file_start=False, at_file_end=True, reject_sink=None
    )
    try:
        reader = pm.hook.mk2ds_open_log(stream=io.BytesIO(b"not a Mark II line\n"), name="probe", options=options)
        if reader is None:
            return False
        list(reader)
        return [number for number, _raw in getattr(reader, "rejects", [])] == [8] and hasattr(reader, "finding_counts")
    except Exception:  # noqa: BLE001
        return False
