"""``mk2ds pe``: facts, impfuzzy with its input string, comparison, every output format, hostile input."""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pefile
import pluggy
import pytest
import pyzipper

from mk2ds.core import get_plugin_manager, hookimpl
from mk2ds.core.schemas import validate_document
from mk2ds.plugins.pe.impfuzzy import deterministic_bytes, ssdeep_compare
from mk2ds.plugins.synthetic.pe_builder import Section, build_pe, signed_data_blob

GOLDEN = Path(__file__).parents[2] / "golden" / "pe"
KERNEL32 = ["GetProcAddress", "LoadLibraryA", "ExitProcess", "CreateFileW", "WriteFile", "CloseHandle", "VirtualAlloc"]


@pytest.fixture
def samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Four files in the current directory: 32-bit, signed 64-bit (similar imports), text, truncated PE."""
    (tmp_path / "a.exe").write_bytes(build_pe(imports=[("KERNEL32.dll", KERNEL32), ("USER32.dll", ["MessageBoxA"])]))
    (tmp_path / "b.dll").write_bytes(
        build_pe(
            machine="amd64",
            dll=True,
            imports=[("KERNEL32.dll", [*KERNEL32[:-1], "VirtualFree"]), ("USER32.dll", ["MessageBoxA"])],
            certificate=signed_data_blob("Acme", "Acme CA"),
        )
    )
    (tmp_path / "c.js").write_bytes(b"WScript.Echo('hello');\n")
    (tmp_path / "d.exe").write_bytes(build_pe(imports=[("WSOCK32.dll", [10, 11]), ("ws2_32.dll", [1])])[:600])
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_json(run_cli: Callable[..., Any], *args: str) -> dict[str, Any]:
    result = run_cli("pe", *args, "--format", "json")
    document: dict[str, Any] = json.loads(result.out)
    assert validate_document(document, "pe") == []
    return document


def test_text_output_with_comparison(
    run_cli: Callable[..., Any], samples: Path, golden: Callable[[Path, str], None]
) -> None:
    result = run_cli("pe", ".", "--compare")
    assert result.code == 0, result.err
    golden(GOLDEN / "pe-compare.txt", result.out)
    assert f"pefile {pefile.__version__} · ssdeep ppdeep 20260221 (self-test passed)" in result.out
    assert "input       kernel32.getprocaddress,kernel32.loadlibrarya," in result.out
    assert "type        not a PE file (no MZ header)" in result.out
    assert "d.exe: warning: pe-truncated" in result.out


def test_json_document(run_cli: Callable[..., Any], samples: Path) -> None:
    document = run_json(run_cli, ".")
    assert document["tools"]["pefile"] == pefile.__version__
    assert document["tools"]["ssdeep"]["implementation"] == "ppdeep"
    assert document["tools"]["ssdeep"]["self_test"] == "passed"
    by_name = {file["name"]: file for file in document["files"]}
    assert list(by_name) == ["a.exe", "b.dll", "c.js", "d.exe"]
    assert [by_name[name]["status"] for name in by_name] == ["pe", "pe", "not-pe", "pe"]
    assert by_name["b.dll"]["is_dll"] and by_name["b.dll"]["signer"]["subject"] == {"CN": "Acme"}
    assert by_name["a.exe"]["imphash"] == pefile.PE("a.exe").get_imphash()
    assert [finding["code"] for finding in document["findings"]] == ["pe-truncated"]
    assert "compare" not in document and "dump_info" not in by_name["a.exe"]


def test_compare_pairs_threshold_and_clusters(run_cli: Callable[..., Any], samples: Path) -> None:
    document = run_json(run_cli, ".", "--compare", "--threshold", "0")
    by_name = {file["name"]: file for file in document["files"]}
    pairs = document["compare"]["pairs"]
    assert len(pairs) == 3  # three PE files (the text file takes no part)
    first = next(
        pair
        for pair in pairs
        if {pair["first"], pair["second"]} == {by_name["a.exe"]["sha256"], by_name["b.dll"]["sha256"]}
    )
    assert first["score"] == ssdeep_compare(by_name["a.exe"]["impfuzzy"], by_name["b.dll"]["impfuzzy"]) > 30
    assert pairs[0] == first  # sorted by score
    assert document["compare"]["clusters"] == [sorted(by_name[name]["sha256"] for name in ("a.exe", "b.dll", "d.exe"))]
    strict = run_json(run_cli, ".", "--compare", "--threshold", "100")["compare"]
    assert strict["pairs"] == [] and strict["clusters"] == []


def test_csv_files_and_edges(run_cli: Callable[..., Any], samples: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(run_cli("pe", ".", "--format", "csv").out)))
    assert [row["name"] for row in rows] == ["a.exe", "b.dll", "c.js", "d.exe"]
    assert rows[2]["status"] == "not-pe" and rows[2]["impfuzzy"] == ""
    edges = list(csv.DictReader(io.StringIO(run_cli("pe", ".", "--format", "csv", "--compare").out)))
    assert [(edge["source_name"], edge["target_name"]) for edge in edges] in (
        [("a.exe", "b.dll")],
        [("b.dll", "a.exe")],
    )
    assert int(edges[0]["score"]) >= 30


def test_graphml_loads_as_a_graph(run_cli: Callable[..., Any], samples: Path) -> None:
    result = run_cli("pe", ".", "--format", "graphml", "--threshold", "0")
    namespace = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ElementTree.fromstring(result.out)
    nodes = root.findall("g:graph/g:node", namespace)
    edges = root.findall("g:graph/g:edge", namespace)
    assert len(nodes) == 3 and len(edges) == 3
    names = {node.find("g:data[@key='name']", namespace).text for node in nodes}  # type: ignore[union-attr]
    assert names == {"a.exe", "b.dll", "d.exe"}
    assert all(edge.find("g:data[@key='score']", namespace) is not None for edge in edges)


def test_password_zips_and_wrong_password(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    data = build_pe(imports=[("KERNEL32.dll", ["ExitProcess"])])
    with pyzipper.AESZipFile(tmp_path / "set.zip", "w", encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(b"s3cret")
        archive.writestr("x.exe", data)
    document = run_json(run_cli, str(tmp_path / "set.zip"), "--sample-password", "s3cret")
    assert [file["name"] for file in document["files"]] == [f"{tmp_path / 'set.zip'}!x.exe"]
    assert document["files"][0]["import_string"] == "kernel32.exitprocess"
    result = run_cli("pe", tmp_path / "set.zip")  # default password "infected" is wrong here
    assert result.code == 1
    assert "sample-unreadable" in result.out and "cannot decrypt" in result.out


def test_hostile_file_times_out_and_the_run_goes_on(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    blob = Section(".blob", deterministic_bytes("blob", 1 << 20))
    (tmp_path / "hang.exe").write_bytes(
        build_pe(sections=[blob, *(Section(f".a{index}", b"", alias_of=".blob") for index in range(2000))])
    )
    (tmp_path / "ok.exe").write_bytes(build_pe(imports=[("KERNEL32.dll", ["ExitProcess"])]))
    document = run_json(run_cli, str(tmp_path), "--pe-timeout", "1")
    by_name = {Path(file["name"]).name: file for file in document["files"]}
    assert by_name["hang.exe"]["status"] == "error"
    assert by_name["hang.exe"]["error"]["code"] == "pe-timeout"
    assert by_name["ok.exe"]["status"] == "pe"
    assert [finding["code"] for finding in document["findings"]] == ["pe-timeout"]


def test_size_limit(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "big.exe").write_bytes(build_pe(extra=b"\0" * (1 << 20)))
    result = run_cli("pe", tmp_path, "--pe-max-size", "1")
    assert result.code == 0  # a warning: the file was not analyzed
    assert "pe-too-large" in result.out


def test_parallel_jobs_give_the_same_document(run_cli: Callable[..., Any], samples: Path) -> None:
    assert run_json(run_cli, ".", "-j", "2") == run_json(run_cli, ".")


def test_output_file_and_dump_info(run_cli: Callable[..., Any], samples: Path) -> None:
    assert run_cli("pe", "a.exe", "--format", "json", "--dump-info", "-o", "out.json").code == 0
    document = json.loads(Path("out.json").read_text(encoding="utf-8"))
    assert validate_document(document, "pe") == []
    assert document["files"][0]["dump_info"] == pefile.PE("a.exe").dump_info()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("missing.exe",), "missing.exe: no such file or folder"),
        (("a.exe", "--threshold", "101"), "--threshold"),
        (("a.exe", "--pe-timeout", "0"), "--pe-timeout"),
    ],
)
def test_usage_errors(run_cli: Callable[..., Any], samples: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli("pe", *args)
    assert result.code == 2
    assert message in result.err


def test_recompute_hook_documents_validate(pm: pluggy.PluginManager) -> None:
    options = argparse.Namespace(pe_timeout=20.0, pe_memory=512)
    for data in (build_pe(imports=[("KERNEL32.dll", ["A"])]), b"text", build_pe()[:0x90]):
        document = pm.hook.mk2ds_recompute_pe(data=data, name="x", options=options)
        assert validate_document(document, "pe") == [], document


def test_a_plugin_can_replace_the_pe_service(
    run_cli: Callable[..., Any], samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Replacement:
        @hookimpl
        def mk2ds_recompute_pe(self, data: bytes, name: str) -> dict[str, Any]:
            from mk2ds.plugins.pe.facts import base_document

            return {**base_document(name, data), "status": "not-pe", "not_pe_reason": "replaced"}

    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[("replacement", Replacement())])
    document = pm.hook.mk2ds_recompute_pe(data=b"MZ", name="x", options=argparse.Namespace())
    assert document["not_pe_reason"] == "replaced"


def test_parallel_runs_do_not_leave_parser_processes_behind(run_cli: Callable[..., Any], samples: Path) -> None:
    from mk2ds.plugins import pe as pe_command

    before = len(pe_command._all_parsers)
    for _ in range(3):
        assert run_cli("pe", ".", "-j", "2").code == 0
    assert len(pe_command._all_parsers) <= before + 1  # only the main thread's parser stays (reused)
