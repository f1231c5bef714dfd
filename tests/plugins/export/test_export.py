"""mk2ds export, checked by real consumers: DuckDB, pyarrow, frictionless and mlcroissant read what it wrote,
and their answers equal what the sample generator knows it wrote."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mk2ds.core.cli import main
from mk2ds.plugins.export.dataset_tables import FINDING_FIELDS, SAMPLE_FIELDS
from mk2ds.plugins.export.tables import EVENT_TABLE_FIELDS, PROCESS_FIELDS, RELATION_FIELDS
from mk2ds.plugins.export.writers import arrow_schema
from mk2ds.plugins.synthetic import plan_samples, write_sample
from mk2ds.plugins.synthetic.generator import generate_lines, scenario_truth

duckdb = pytest.importorskip("duckdb")
pq = pytest.importorskip("pyarrow.parquet")
ds_module = pytest.importorskip("pyarrow.dataset")

EPOCH = "1700000000"


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export") / "ds"
    write_sample(root)
    return root


def _export(dataset: Path, out: Path, *extra: str, monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    try:
        return main(["export", str(dataset), str(out), "--quiet", *extra])
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


@pytest.fixture(scope="module")
def exported(distribution: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exported") / "out"
    assert _export(distribution, out, "--format", "duckdb", "--samples", str(distribution / "samples")) == 0
    return out


def _wannacry_options() -> dict[str, object]:
    spec = next(spec for spec in plan_samples(6, 0) if spec.family == "wannacry")
    return {
        "seed": spec.number, "start": spec.start, "events": 300, "header": spec.header, "host": spec.host,
        "scenario": spec.family, "sample_sha256": spec.sha256, "sample_path": spec.path_on_host, "sample_size": len(spec.data),
    }  # fmt: skip


def test_events_per_subset_equal_the_lines_written(distribution: Path, exported: Path) -> None:
    expected: dict[str, int] = {}
    for log in (distribution / "MK2Log").rglob("*.log"):
        lines = [line for line in log.read_bytes().splitlines() if line.strip()]
        expected[log.parent.name] = expected.get(log.parent.name, 0) + len(lines)
    rows = duckdb.sql(
        f"SELECT subset, count(*) FROM read_parquet('{exported}/events/**/*.parquet', hive_partitioning = true) GROUP BY 1"
    ).fetchall()
    assert dict(rows) == expected


def test_port_445_connections_and_their_process(exported: Path) -> None:
    options = _wannacry_options()
    written = [
        line
        for line in generate_lines(**options)
        if " evt=net " in f" {line} " and "dstPort=445" in line and "subEvt=con" in line
    ]
    guids = {part.split("=", 1)[1] for line in written for part in line.split(" ") if part.startswith("psGUID=")}
    database = duckdb.connect(str(exported / "mk2ds.duckdb"), read_only=True)
    rows = database.sql(
        """SELECT e.psGUID, p.path, count(*) FROM events e
           JOIN processes p ON p.process_key = e.file || '#' || e.com || '|' || e.psGUID
           WHERE e.subset = '30m' AND e.sample = ? AND e.evt = 'net' AND e.subEvt = 'con' AND e.dstPort = 445
           GROUP BY ALL""",
        params=[options["sample_sha256"]],
    ).fetchall()
    assert sum(count for _guid, _cmd, count in rows) == len(written) > 0
    assert {guid for guid, _cmd, _count in rows} == guids
    truth = scenario_truth(**options)
    for guid, path, _count in rows:
        assert path == truth.process(guid).path
    # among them the sample itself, run as the mssecsvc2.0 service
    assert any(
        path == options["sample_path"] and "-m security" in truth.process(guid).cmd for guid, path, _count in rows
    )


def test_dropper_to_tasksche_through_relations(exported: Path) -> None:
    options = _wannacry_options()
    truth = scenario_truth(**options)
    expected = [
        (r.source_guid, r.target_guid)
        for r in truth.relations_of("wrote-then-ran")
        if r.path and r.path.endswith("tasksche.exe")
    ]
    rows = (
        duckdb.connect(str(exported / "mk2ds.duckdb"), read_only=True)
        .sql(
            """SELECT s.guid, t.guid FROM relations r
           JOIN processes s ON s.process_key = r.source_key JOIN processes t ON t.process_key = r.target_key
           WHERE r.kind = 'wrote-then-ran' AND r.subset = '30m' AND r.sample = ? AND t.name = 'tasksche.exe'""",
            params=[options["sample_sha256"]],
        )
        .fetchall()
    )
    assert expected and sorted(rows) == sorted(expected)


def test_pyarrow_reads_every_table_with_the_documented_schema(exported: Path) -> None:
    for name, fields in (
        ("samples", SAMPLE_FIELDS),
        ("findings", FINDING_FIELDS),
        ("processes", PROCESS_FIELDS),
        ("relations", RELATION_FIELDS),
    ):
        assert pq.read_schema(exported / f"{name}.parquet").remove_metadata() == arrow_schema(fields).remove_metadata()
    expected = arrow_schema(EVENT_TABLE_FIELDS, ("subset", "sample")).remove_metadata()
    for path in (exported / "events").rglob("*.parquet"):
        assert pq.read_schema(path).remove_metadata() == expected


def test_events_partitions_prune_by_subset_and_sample(exported: Path) -> None:
    partitioning = ds_module.HivePartitioning.discover(infer_dictionary=True)
    dataset = ds_module.dataset(exported / "events", format="parquet", partitioning=partitioning)
    wannacry = list(dataset.get_fragments(filter=ds_module.field("subset") == "WannaCry"))
    assert len(wannacry) == 2 and all("subset=WannaCry" in fragment.path for fragment in wannacry)
    sample = str(_wannacry_options()["sample_sha256"])
    fragments = list(dataset.get_fragments(filter=(ds_module.field("sample") == sample)))
    assert {Path(fragment.path).parent.parent.name for fragment in fragments} == {"subset=30m", "subset=Verbose"}


def test_samples_table_joins_list_and_facts(exported: Path) -> None:
    rows = duckdb.sql(
        f"SELECT sha256, host_name, utc_offset, events, log_files FROM '{exported}/samples.parquet' ORDER BY list_row"
    ).fetchall()
    assert len(rows) == 6
    wannacry = next(row for row in rows if row[0] == _wannacry_options()["sample_sha256"])
    assert wannacry[1:3] == ("PC1", "+09:00") and wannacry[4] == 2 and wannacry[3] > 0
    pe = duckdb.sql(f"SELECT is_pe, imphash IS NOT NULL, impfuzzy_check FROM '{exported}/samples.parquet'").fetchall()
    assert {(True, True, "match")} == {row for row in pe if row[0]}  # recomputed with --samples, and compared


def test_frictionless_validates_and_catches_a_broken_foreign_key(exported: Path, tmp_path: Path) -> None:
    frictionless = shutil.which("frictionless", path=os.path.dirname(sys.executable))
    if frictionless is None:
        pytest.skip("frictionless is not installed")
    result = subprocess.run(
        [frictionless, "validate", "--json", "datapackage.json"],
        cwd=exported,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    broken = tmp_path / "broken"
    shutil.copytree(exported, broken)
    table = pq.read_table(broken / "relations.parquet")
    keys = table.column("source_key").to_pylist()
    keys[0] = "no-such-log#PC9|{00000000-0000-0000-0000-000000000000}"
    import pyarrow as pa

    schema = table.schema
    table = table.set_column(
        schema.get_field_index("source_key"), schema.field("source_key"), pa.array(keys, pa.string())
    )
    pq.write_table(table, broken / "relations.parquet")
    document = json.loads((broken / "datapackage.json").read_text())
    # The relations and what they refer to are enough (events take most of the validation time).
    document["resources"] = [
        resource for resource in document["resources"] if resource["name"] in ("processes", "relations", "samples")
    ]
    for resource in document["resources"]:
        resource.pop("hash")  # only the foreign key is to fail
    (broken / "datapackage.json").write_text(json.dumps(document))
    result = subprocess.run(
        [frictionless, "validate", "--json", "datapackage.json"],
        cwd=broken,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode != 0
    assert "foreign-key" in result.stdout


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib inside mlcroissant
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_croissant_validates_loads_and_catches_a_changed_file(exported: Path, tmp_path: Path) -> None:
    mlc = pytest.importorskip("mlcroissant")
    dataset = mlc.Dataset(jsonld=str(exported / "croissant.json"))
    samples = list(dataset.records(record_set="samples"))
    assert len(samples) == 6
    processes = list(itertools.islice(dataset.records(record_set="processes"), 5))
    assert len(processes) == 5 and all(record["processes/process_key"] for record in processes)
    changed = tmp_path / "changed"
    shutil.copytree(exported, changed)
    # Same rows, other bytes (another compression): only the sha256 can tell.
    pq.write_table(pq.read_table(changed / "samples.parquet"), changed / "samples.parquet", compression="gzip")
    with pytest.raises(Exception) as caught:
        list(mlc.Dataset(jsonld=str(changed / "croissant.json")).records(record_set="samples"))
    chain, error = [], caught.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__ or error.__context__
    assert any("Hash of downloaded file" in text and "samples.parquet" in text for text in chain)


def test_deterministic_and_same_with_two_jobs(distribution: Path, exported: Path, tmp_path: Path) -> None:
    assert (
        _export(
            distribution, tmp_path / "j2", "-j", "2", "--format", "duckdb", "--samples", str(distribution / "samples")
        )
        == 0
    )
    files = sorted(
        str(path.relative_to(exported))
        for path in exported.rglob("*")
        if path.is_file() and path.name != "mk2ds.duckdb"
    )
    assert files == sorted(
        str(path.relative_to(tmp_path / "j2"))
        for path in (tmp_path / "j2").rglob("*")
        if path.is_file() and path.name != "mk2ds.duckdb"
    )
    for name in files:
        assert (exported / name).read_bytes() == (tmp_path / "j2" / name).read_bytes(), name


def test_refuses_to_write_inside_the_dataset_or_into_a_full_folder(
    distribution: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(distribution), str(distribution / "out"), "--quiet"]) == 2
    assert "inside the dataset" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert main(["export", str(distribution), str(tmp_path / "full"), "--quiet"]) == 2
    assert not (distribution / "out").exists()


def test_fail_on_writes_nothing(distribution: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(distribution, broken)
    log = next((broken / "MK2Log" / "30m").glob("*.log"))
    log.write_bytes(log.read_bytes() + b"not a Mark II line\r\n")
    assert main(["export", str(broken), str(tmp_path / "out"), "--quiet", "--fail-on", "error"]) == 1
    assert not (tmp_path / "out").exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".out.")]
    assert main(["export", str(broken), str(tmp_path / "out"), "--quiet"]) == 0
    codes = duckdb.sql(f"SELECT code, line FROM '{tmp_path}/out/findings.parquet' WHERE severity = 'error'").fetchall()
    assert ("log-unparseable", 314) in codes  # the added line, exported as a finding


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "mk2ds.duckdb"
    }


def test_dask_engine_writes_the_same_files_byte_for_byte(distribution: Path, exported: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    assert (
        _export(
            distribution,
            tmp_path / "dask",
            "--engine",
            "dask",
            "--workers",
            "2",
            "--samples",
            str(distribution / "samples"),
        )
        == 0
    )
    assert _files(tmp_path / "dask") == _files(exported)


def test_duckdb_database_has_the_tables_and_keys(exported: Path) -> None:
    database = duckdb.connect(str(exported / "mk2ds.duckdb"), read_only=True)
    names = {row[0] for row in database.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"events", "processes", "relations", "samples", "findings"} <= names
    keys = database.sql(
        "SELECT table_name, constraint_type FROM duckdb_constraints() WHERE constraint_type IN ('FOREIGN KEY', 'PRIMARY KEY')"
    ).fetchall()
    assert ("events", "FOREIGN KEY") in keys and ("processes", "PRIMARY KEY") in keys
    for name in ("events", "processes", "relations", "samples", "findings"):
        parquet = f"'{exported}/events/**/*.parquet'" if name == "events" else f"'{exported}/{name}.parquet'"
        assert (
            database.sql(f"SELECT count(*) FROM {name}").fetchall()
            == duckdb.sql(f"SELECT count(*) FROM {parquet}").fetchall()
        )


def test_an_interrupted_export_leaves_nothing(
    distribution: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mk2ds.plugins.export import run

    def interrupted(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C (a plugin's own KeyboardInterrupt is exit 3)

    monkeypatch.setattr(run, "write_metadata", interrupted)
    assert main(["export", str(distribution), str(tmp_path / "out"), "--quiet"]) == 130
    assert list(tmp_path.iterdir()) == []


def test_the_documented_bag_recipe_gives_one_verifiable_bag(distribution: Path, tmp_path: Path) -> None:
    release = tmp_path / "release"
    shutil.copytree(distribution, release)
    assert _export(distribution, release / "export") == 0
    assert main(["manifest", str(release), "--quiet"]) == 0
    assert main(["pack", str(release), str(tmp_path / "bag"), "--quiet"]) == 0
    assert main(["verify", str(tmp_path / "bag"), "--quiet", "-o", str(tmp_path / "report.txt")]) == 0
    assert (tmp_path / "bag" / "data" / "export" / "datapackage.json").is_file()
    manifest = (tmp_path / "bag" / "manifest-sha256.txt").read_text()
    assert "data/export/samples.parquet" in manifest
