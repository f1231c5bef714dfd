"""Every registered record output, fed generated records with extreme values and zone-less times.

The outputs are taken from the registry, so an output added later is covered too: it must not crash on any
record the reader can produce, and ``mk2ds convert`` must exit 0 with it. For the outputs this project
ships, the test also decodes the output and checks that no value is lost (round trips where the format
allows) and that no zone-less time with an unknown offset is presented as UTC without a marker.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pluggy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mk2ds.core.cli import build_parser
from mk2ds.core.outputs import open_record_writer
from mk2ds.core.pluginmanager import get_plugin_manager
from mk2ds.core.registry import outputs
from mk2ds.plugins.reader.tokenizer import INTEGER_FIELDS

PM = get_plugin_manager(load_entrypoints=False)
FORMATS = sorted(outputs(PM, "records"))
#: Integers at and beyond every boundary a typed output has (int64, uint64, decimal128).
EXTREMES = [
    0,
    -1,
    1,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64 - 1,
    2**64,
    10**37,
    10**38,
    -(10**40),
    10**200,
]
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x1a"), max_size=20)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """A record as the reader writes it: ``time`` (zoned, or zone-less with how its offset was resolved)."""
    day = draw(st.dates(min_value=date(1971, 1, 2), max_value=date(2099, 12, 30)))
    clock = f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:{draw(st.integers(0, 59)):02d}.{draw(st.integers(0, 999)):03d}"
    record: dict[str, Any] = {"time": f"{day.isoformat()}T{clock}"}
    offset = f"{draw(st.sampled_from('+-'))}{draw(st.integers(0, 14)):02d}:{draw(st.sampled_from([0, 30, 45])):02d}"
    source = draw(st.sampled_from(["header", "option", "sysinfo", "unknown"]))
    if source == "header":
        record["time"] += offset
    elif source == "unknown":
        record["time_offset_source"] = "unknown"
    else:
        record.update(time_offset=offset, time_offset_source=source)
    record["sn"] = draw(st.integers(0, 2**64))
    record["evt"] = draw(st.sampled_from(["net", "session", "reg", "ps", "file", "x"]))
    record["subEvt"] = draw(st.sampled_from(["con", "loginR", "setVal", "start", "close", "y"]))
    for key in draw(st.lists(st.sampled_from(sorted(INTEGER_FIELDS - {"sn"})), max_size=6, unique=True)):
        record[key] = draw(
            st.one_of(
                st.sampled_from(EXTREMES),
                st.integers(),
                st.sampled_from(["-", ""]),
                _TEXT.filter(lambda text: not text.isdigit()),
            )
        )
    for index in range(draw(st.integers(0, 3))):
        record[f"xKey{index}"] = draw(_TEXT)
    return record


def _options(name: str) -> Any:
    """The options ``mk2ds convert --format NAME`` would give the writer (every plugin option's default)."""
    return build_parser(PM).parse_args(["convert", "in.log", "-o", "out", "--format", name])


def render(name: str, batch: list[dict[str, Any]]) -> bytes:
    stream = io.BytesIO()
    writer = open_record_writer(outputs(PM, "records")[name], stream, _options(name))
    for record in batch:
        writer.write(record)
    writer.close()
    return stream.getvalue()


def _zone_less_unknown(record: dict[str, Any]) -> bool:
    return record.get("time_offset_source") == "unknown"


def _texts(value: Any) -> set[str]:
    """Every leaf of a decoded document as text."""
    if isinstance(value, dict):
        return set().union(*map(_texts, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_texts, value)) if value else set()
    return {value if isinstance(value, str) else json.dumps(value)}


def _numbers(value: Any) -> list[int]:
    """Every integer leaf of a decoded document (text that looks like a number is text)."""
    if isinstance(value, dict):
        return [number for item in value.values() for number in _numbers(item)]
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def _check_json_lines(batch: list[dict[str, Any]], data: bytes) -> list[Any]:
    return [json.loads(line) for line in data.decode("utf-8").split("\n")[:-1]]  # LF only: U+0085 is text


def check_jsonl(batch: list[dict[str, Any]], data: bytes) -> None:
    assert _check_json_lines(batch, data) == batch  # the contract itself: a round trip


def check_json(batch: list[dict[str, Any]], data: bytes) -> None:
    assert json.loads(data) == batch


def check_mk2log(batch: list[dict[str, Any]], data: bytes) -> None:
    for record, document in zip(batch, json.loads(data), strict=True):
        assert {key: str(value) for key, value in record.items() if key != "time"}.items() <= document.items()


def check_timesketch(batch: list[dict[str, Any]], data: bytes) -> None:
    for record, event in zip(batch, _check_json_lines(batch, data), strict=True):
        assert event["time"] == record["time"]
        for key, value in record.items():
            if key in INTEGER_FIELDS and not (isinstance(value, int) and -(2**63) <= value < 2**63):
                assert key not in event and event[key + "_raw"] == str(value)
            else:
                assert event[key] == value
        assert not [value for value in _numbers(event) if not -(2**63) <= value < 2**63], "an integer beyond long"
        if _zone_less_unknown(record):
            assert event["time_zone_assumed"] == "+00:00" and event["time_offset_source"] == "unknown"
        else:
            assert "time_zone_assumed" not in event
            assert event["datetime"] == record["time"] + record.get("time_offset", "")


def check_ecs(batch: list[dict[str, Any]], data: bytes) -> None:
    for record, document in zip(batch, _check_json_lines(batch, data), strict=True):
        leaves = _texts(document)
        for key, value in record.items():
            if key in ("evt", "subEvt"):
                value = f"mk2.{value}" if key == "evt" else value  # event.dataset, event.action
            if key != "time" and value not in ("", "-"):
                assert (value if isinstance(value, str) else str(value)) in leaves or json.dumps(value) in leaves, key
        assert not [value for value in _numbers(document) if not -(2**63) <= value < 2**63], (
            "an integer beyond ECS long"
        )
        if _zone_less_unknown(record):
            assert document["mk2"]["time_zone_assumed"] == "+00:00"
        else:
            assert document["@timestamp"] == record["time"] + record.get("time_offset", "")


def check_csv(batch: list[dict[str, Any]], data: bytes) -> None:
    table = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    header = table[0]
    for record, row in zip(batch, table[1:], strict=True):
        cells = dict(zip(header, row, strict=True))
        for key, value in record.items():
            if key == "time":
                continue
            text = value if isinstance(value, str) else str(value)
            assert cells.get(key) == text or (
                key in INTEGER_FIELDS and cells.get(key, "") == "" and cells[key + "_raw"] == text
            ), key
        expected = record["time"] if _zone_less_unknown(record) else record["time"] + record.get("time_offset", "")
        assert cells["time"] == expected


def check_parquet(batch: list[dict[str, Any]], data: bytes) -> None:
    parquet = pytest.importorskip("pyarrow.parquet")
    rows = parquet.read_table(io.BytesIO(data)).to_pylist()
    for record, row in zip(batch, rows, strict=True):
        for key, value in record.items():
            if key in ("time", "time_offset", "time_offset_source"):
                continue
            got = row.get(key)
            if isinstance(value, int):
                assert got is not None and int(got) == value, key
            elif row.get(key + "_raw") is not None:
                assert row[key + "_raw"] == value and got is None
            else:
                assert got == value, key
        assert row["time_offset_source"] == record.get("time_offset_source", "header")
        assert (row["time"] is None) == _zone_less_unknown(record)  # no instant invented


CHECKS: dict[str, Callable[[list[dict[str, Any]], bytes], None]] = {
    "jsonl": check_jsonl,
    "json": check_json,
    "mk2log": check_mk2log,
    "timesketch": check_timesketch,
    "ecs": check_ecs,
    "csv": check_csv,
    "parquet": check_parquet,
}


@pytest.mark.parametrize("name", FORMATS)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(records(), min_size=1, max_size=6))
def test_every_output_takes_extreme_values_and_zone_less_times(name: str, batch: list[dict[str, Any]]) -> None:
    if name == "parquet":
        pytest.importorskip("pyarrow")
    data = render(name, batch)
    assert data
    check = CHECKS.get(name)
    if check is not None:
        check(batch, data)


def test_every_shipped_output_has_a_check() -> None:
    shipped = {name for name, output in outputs(PM, "records").items() if "mk2ds.plugins" in output.factory.__module__}
    assert shipped <= set(CHECKS), sorted(shipped - set(CHECKS))


EXTREME_LOG = (
    "03/27/2018 19:44:53.926 sn=1 evt=reg subEvt=setVal valType=REG_QWORD valNum=18446744073709551615\n"
    "03/27/2018 19:44:54.000 sn=2 evt=net subEvt=dcon srcPort=50211 recv=18446744073709551616 send=0\n"
    '03/27/2018 19:44:55.000 +0900 sn=3 evt=session subEvt=loginR srcIP="::1" srcPort="-" size=""\n'
    "03/27/2018 19:44:56.000 sn=9223372036854775808 evt=x subEvt=y read=-9223372036854775809\n"
)


@pytest.mark.parametrize("name", FORMATS)
def test_convert_exits_0_with_every_output(
    name: str, tmp_path: Path, run_cli: Callable[..., Any], pm: pluggy.PluginManager
) -> None:
    if name == "parquet":
        pytest.importorskip("pyarrow")
    source = tmp_path / "extreme.log"
    source.write_text(EXTREME_LOG, encoding="utf-8")
    result = run_cli("convert", source, "-o", tmp_path / "out", "--format", name)
    assert result.code == 0, result.err
    assert "time-offset-unknown" in result.err  # three zone-less lines, no evidence of their offset
    assert (tmp_path / "out").stat().st_size > 0
