"""impfuzzy: the import-string rules of pyimpfuzzy (docs/impfuzzy.md) and libfuzzy-identical ssdeep."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pefile
import ppdeep
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mk2ds.plugins.pe import impfuzzy
from mk2ds.plugins.pe.impfuzzy import (
    fuzzy_hash,
    impfuzzy_of_bytes,
    imphash_of_string,
    import_string,
    normalize_dll_name,
    ssdeep_compare,
    vector_input,
)
from mk2ds.plugins.synthetic.pe_builder import build_pe

VECTORS = json.loads((Path(__file__).parents[2] / "data" / "pe" / "ssdeep_vectors.json").read_text(encoding="utf-8"))


def string_of(**kwargs: Any) -> str:
    return import_string(pefile.PE(data=build_pe(**kwargs)))


# -- import string rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dll", "expected"),
    [
        ("KERNEL32.dll", "kernel32"),
        ("KERNEL32.DLL", "kernel32"),
        ("mfc42.ocx", "mfc42"),
        ("ntoskrnl.sys", "ntoskrnl"),
        ("helper.exe", "helper.exe"),
        ("printer.DRV", "printer.drv"),
        ("shell32.cpl", "shell32.cpl"),
        ("api-ms-win-core-1.dll", "api-ms-win-core-1"),
        ("no_extension", "no_extension"),
        ("two.dots.dll", "two.dots"),
        ("dll", "dll"),
    ],
)
def test_dll_names_lose_only_dll_ocx_sys(dll: str, expected: str) -> None:
    assert normalize_dll_name(dll) == expected
    assert string_of(imports=[(dll, ["Func"])]) == f"{expected}.func"


def test_items_are_lower_case_in_file_order_without_sorting_or_dedup() -> None:
    text = string_of(
        imports=[
            ("USER32.dll", ["MessageBoxA", "MessageBoxA"]),
            ("ADVAPI32.dll", ["RegOpenKeyExW"]),
            ("USER32.dll", ["AppendMenuA"]),
        ]
    )
    assert text == "user32.messageboxa,user32.messageboxa,advapi32.regopenkeyexw,user32.appendmenua"


def test_ordinals_named_from_pefile_tables_or_ordn() -> None:
    text = string_of(imports=[("WS2_32.dll", [1, 23, 9999]), ("OLEAUT32.dll", [2]), ("foo.dll", [7]), ("ws2_32", [1])])
    # the table is looked up by the DLL name *with* its extension, so "ws2_32" without one gets ord1
    assert text == "ws2_32.accept,ws2_32.socket,ws2_32.ord9999,oleaut32.sysallocstring,foo.ord7,ws2_32.ord1"


def test_wsock32_ordinals_differ_between_pefile_versions() -> None:
    pe = pefile.PE(data=build_pe(imports=[("WSOCK32.dll", [10, 11, 3])]))
    assert import_string(pe) == "wsock32.inet_addr,wsock32.inet_ntoa,wsock32.closesocket"
    assert import_string(pe, legacy_wsock32=True) == "wsock32.ioctlsocket,wsock32.inet_addr,wsock32.closesocket"
    assert impfuzzy.uses_wsock32_ordinals(pe)
    assert not impfuzzy.uses_wsock32_ordinals(pefile.PE(data=build_pe(imports=[("WSOCK32.dll", ["send"])])))


def test_no_imports_give_the_empty_string_and_3_colon_colon() -> None:
    assert impfuzzy_of_bytes(build_pe()) == ("3::", "")
    assert imphash_of_string("") == ""


def test_bound_iat_rule_uses_only_bound_imports_when_the_first_is_bound() -> None:
    imports = [("KERNEL32.dll", ["A", "B", "C"]), ("USER32.dll", ["D", "E"])]
    assert string_of(imports=imports, bound=True) == "kernel32.a,kernel32.b,kernel32.c,user32.d,user32.e"
    # first import bound, second not (a forwarded function keeps its ILT value): the unbound one is dropped
    partly = {"KERNEL32.dll": [True, False, True]}
    assert string_of(imports=imports, bound=partly, bound_address=0x10000) == "kernel32.a,kernel32.c,user32.d,user32.e"
    # first import unbound: every import of that DLL counts, bound or not
    later = {"USER32.dll": [False, True]}
    assert (
        string_of(imports=imports, bound=later, bound_address=0x10000)
        == "kernel32.a,kernel32.b,kernel32.c,user32.d,user32.e"
    )


def test_bound_rule_is_where_impfuzzy_and_imphash_part() -> None:
    data = build_pe(
        imports=[("KERNEL32.dll", ["A", "B", "C"])], bound={"KERNEL32.dll": [True, False, True]}, bound_address=0x10000
    )
    pe = pefile.PE(data=data)
    assert imphash_of_string(import_string(pe)) != pe.get_imphash()
    assert imphash_of_string("kernel32.a,kernel32.b,kernel32.c") == pe.get_imphash()


def test_fast_load_and_full_load_give_the_same_string() -> None:
    data = build_pe(machine="amd64", imports=[("KERNEL32.dll", ["A"]), ("WS2_32.dll", [3])])
    assert impfuzzy_of_bytes(data)[1] == import_string(pefile.PE(data=data))


def test_non_pe_raises_pefile_error() -> None:
    with pytest.raises(pefile.PEFormatError):
        impfuzzy_of_bytes(b"just text")


DLLS = st.sampled_from(
    [
        "KERNEL32.dll",
        "user32.DLL",
        "WS2_32.dll",
        "wsock32.dll",
        "OLEAUT32.dll",
        "x.ocx",
        "drv.sys",
        "tool.exe",
        "a.b.c.dll",
    ]
)
FUNCTIONS = st.one_of(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@?$", min_size=1, max_size=40),
    st.integers(min_value=1, max_value=0xFFFF),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    machine=st.sampled_from(["i386", "amd64"]),
    imports=st.lists(st.tuples(DLLS, st.lists(FUNCTIONS, min_size=1, max_size=12)), min_size=1, max_size=8),
)
def test_md5_of_the_string_is_pefiles_imphash_for_unbound_files(
    machine: str, imports: list[tuple[str, list[str | int]]]
) -> None:
    pe = pefile.PE(data=build_pe(machine=machine, imports=imports))  # type: ignore[arg-type]
    text = import_string(pe)
    assert hashlib.md5(text.encode()).hexdigest() == pe.get_imphash()
    assert text.count(",") == sum(len(functions) for _, functions in imports) - 1
    assert text == text.lower()


# -- ssdeep ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["hashes"], ids=lambda vector: str(vector["hash"])[:24])
def test_hashes_equal_libfuzzy(vector: dict[str, Any]) -> None:
    assert fuzzy_hash(vector_input(vector["input"])) == vector["hash"]


def test_compare_equals_libfuzzy_on_every_vector() -> None:
    wrong = [
        (item["first"], item["second"], item["score"], ssdeep_compare(item["first"], item["second"]))
        for item in VECTORS["scores"]
    ]
    assert [item for item in wrong if item[2] != item[3]] == []
    assert {item["score"] for item in VECTORS["scores"]} >= {0, 100}
    assert len({item["score"] for item in VECTORS["scores"]}) > 20


def test_ppdeeps_own_compare_is_not_libfuzzy_compatible() -> None:
    """Why mk2ds reimplements fuzzy_compare: ppdeep weighs a substitution 1, libfuzzy 2."""
    differing = [item for item in VECTORS["scores"] if ppdeep.compare(item["first"], item["second"]) != item["score"]]
    assert len(differing) > 10


def test_real_import_strings_are_in_the_vectors() -> None:
    sources = [item for item in VECTORS["hashes"] if "source" in item["input"]]
    assert len(sources) >= 4
    for item in sources:
        assert "kernel32." in item["input"]["text"]


@pytest.mark.parametrize("bad", ["", "abc", "3:abc", "x:a:b", "3:" + "ab" * 33 + ":b"])
def test_compare_rejects_malformed_hashes(bad: str) -> None:
    with pytest.raises(ValueError):
        ssdeep_compare(bad, "3::")


def test_compare_ignores_a_trailing_file_name_and_is_symmetric() -> None:
    first, second = VECTORS["scores"][0]["first"], VECTORS["scores"][0]["second"]
    assert ssdeep_compare(first, second) == ssdeep_compare(second, first)
    assert ssdeep_compare(first + ',"name.exe"', first) == 100


def test_self_test_passes_and_catches_a_broken_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert impfuzzy.self_test() == []
    monkeypatch.setattr(impfuzzy, "fuzzy_hash", lambda data: "3:broken:x")
    problems = impfuzzy.self_test()
    assert len(problems) == len(impfuzzy.KNOWN_HASHES) - 0
    monkeypatch.undo()
    monkeypatch.setattr(impfuzzy, "_edit_distance", lambda first, second: 0)
    assert impfuzzy.self_test()  # a compare that ignores substitutions fails the known scores


def test_versions_are_reported() -> None:
    assert impfuzzy.pefile_version() == pefile.__version__
    assert impfuzzy.ssdeep_version() >= "20260221"
