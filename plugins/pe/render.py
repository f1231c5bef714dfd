"""Renderings of the ``mk2ds pe`` document (``schemas/pe.schema.json``): text, CSV and GraphML, plus the
pairwise impfuzzy comparison and its clusters.

The comparison replaces JPCERT's Neo4j-bound ``impfuzzy_for_Neo4j`` with plain files: every pair of PE files
whose impfuzzy similarity (libfuzzy's 0-100 score) is at least the threshold becomes an edge; clusters are
the connected components of those edges. CSV edges (``source,target,score``) load into Gephi or pandas;
GraphML loads into Gephi, yEd, Cytoscape and networkx.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from mk2ds.core.terminal import escape_text
from mk2ds.plugins.pe.impfuzzy import ssdeep_compare

__all__ = ["DEFAULT_THRESHOLD", "compare_files", "render_csv", "render_graphml", "render_text"]

#: impfuzzy_for_Neo4j's default.
DEFAULT_THRESHOLD = 30


def compare_files(files: Sequence[Mapping[str, Any]], threshold: int) -> dict[str, Any]:
    """Pairs of distinct PE files (by sha256) scoring at least ``threshold``, and their clusters."""
    hashes: dict[str, str] = {}
    for document in files:
        if document.get("status") == "pe" and document["sha256"] not in hashes:
            hashes[document["sha256"]] = str(document["impfuzzy"])
    keys = sorted(hashes)
    pairs: list[dict[str, Any]] = []
    for index, first in enumerate(keys):
        for second in keys[index + 1 :]:
            score = ssdeep_compare(hashes[first], hashes[second])
            if score >= threshold:
                pairs.append({"first": first, "second": second, "score": score})
    pairs.sort(key=lambda pair: (-pair["score"], pair["first"], pair["second"]))
    return {"threshold": threshold, "pairs": pairs, "clusters": _clusters(keys, pairs)}


def _clusters(keys: Sequence[str], pairs: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    parent = {key: key for key in keys}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for pair in pairs:
        first, second = root(pair["first"]), root(pair["second"])
        if first != second:
            parent[max(first, second)] = min(first, second)
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(root(key), []).append(key)
    clusters = [sorted(group) for group in groups.values() if len(group) > 1]
    return sorted(clusters, key=lambda group: (-len(group), group[0]))


def _names(document: Mapping[str, Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for file in document["files"]:
        names.setdefault(file["sha256"], file["name"])
    return names


def _signer_text(signer: Mapping[str, Any] | None) -> str:
    if not signer:
        return "none"
    if not signer.get("parsed"):
        return f"present, not understood ({signer.get('error', '')})"
    subject = signer.get("subject") or {}
    issuer = signer.get("issuer") or {}
    who = subject.get("CN") or subject.get("O") or "?"
    return f"{who} (issuer {issuer.get('CN') or issuer.get('O') or '?'}, serial {signer.get('serial')}; not verified)"


def render_text(document: Mapping[str, Any]) -> str:
    tools = document["tools"]
    ssdeep = tools["ssdeep"]
    out = [
        (
            f"pefile {tools['pefile']} · ssdeep {ssdeep['implementation']} {ssdeep['version']} "
            f"(self-test {ssdeep.get('self_test', 'not run')})"
        ),
        "",
    ]
    for file in document["files"]:
        out.append(file["name"])
        out.append(f"  sha256      {file['sha256']}")
        out.append(f"  size        {file['size']} bytes")
        status = file["status"]
        if status == "not-pe":
            out.append(f"  type        not a PE file ({file['not_pe_reason']})")
        elif status == "error":
            out.append(f"  type        not analyzed: {file['error']['code']}: {file['error']['message']}")
        else:
            kind = "DLL" if file.get("is_dll") else "executable"
            out.append(f"  type        {file['pe_type']} {file['machine']} {kind}")
            out.append(f"  timestamp   0x{file['timestamp']:08X} ({file['timestamp_utc']})")
            for section in file["sections"]:
                out.append(
                    f"  section     {section['name'] or '(no name)':8} raw {section['raw_size']:>9} "
                    f"virtual {section['virtual_size']:>9} entropy {section['entropy']:.3f}"
                )
            out.append(f"  imports     {file['imports_count']} from {file['import_dlls']} DLLs")
            out.append(f"  imphash     {file['imphash'] or '(no imports)'}")
            out.append(f"  impfuzzy    {file['impfuzzy']}")
            if "impfuzzy_pefile_2023" in file:
                out.append(f"              {file['impfuzzy_pefile_2023']} with pefile <= 2023.2.7 (wsock32 ordinals)")
            out.append(f"  input       {file['import_string'] or '(empty)'}")
            out.append(f"  signer      {_signer_text(file.get('signer'))}")
            if file.get("truncated"):
                out.append("  note        sections run past the end of the file (truncated)")
        out.append("")
    compare = document.get("compare")
    if compare is not None:
        names = _names(document)
        out.append(f"impfuzzy similarity >= {compare['threshold']}:")
        if not compare["pairs"]:
            out.append("  (no pair)")
        for pair in compare["pairs"]:
            out.append(f"  {pair['score']:>3}  {names[pair['first']]}  {names[pair['second']]}")
        for number, cluster in enumerate(compare["clusters"], start=1):
            out.append(f"cluster {number}: " + ", ".join(names[key] for key in cluster))
        out.append("")
    for finding in document["findings"]:
        where = finding.get("path", "-")
        out.append(f"{where}: {finding['severity']}: {finding['code']}: {finding['message']}")
    # Names, section names, DLL names and signers come from hostile files: every line is escaped.
    return "\n".join(escape_text(line) for line in out).rstrip("\n") + "\n"


FILE_COLUMNS = ("name", "sha256", "status", "machine", "pe_type", "timestamp", "imports_count", "imphash", "impfuzzy")


def render_csv(document: Mapping[str, Any]) -> str:
    """With a comparison: one edge per line (``source,target,score,...``); without: one file per line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    compare = document.get("compare")
    if compare is not None:
        names = _names(document)
        writer.writerow(["source", "target", "score", "source_name", "target_name"])
        for pair in compare["pairs"]:
            writer.writerow([pair["first"], pair["second"], pair["score"], names[pair["first"]], names[pair["second"]]])
        return buffer.getvalue()
    writer.writerow(FILE_COLUMNS)
    for file in document["files"]:
        writer.writerow(["" if file.get(column) is None else file.get(column) for column in FILE_COLUMNS])
    return buffer.getvalue()


GRAPHML_KEYS = (
    ("name", "node", "string"),
    ("impfuzzy", "node", "string"),
    ("imphash", "node", "string"),
    ("cluster", "node", "int"),
    ("score", "edge", "int"),
)


def render_graphml(document: Mapping[str, Any]) -> str:
    """Nodes are PE files (by sha256), edges the pairs at or above the threshold (``score`` attribute)."""
    compare = document["compare"]
    cluster_of = {key: number for number, cluster in enumerate(compare["clusters"], start=1) for key in cluster}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    ]
    for name, domain, kind in GRAPHML_KEYS:
        out.append(f'  <key id="{name}" for="{domain}" attr.name="{name}" attr.type="{kind}"/>')
    out.append('  <graph id="impfuzzy" edgedefault="undirected">')
    from xml.sax.saxutils import quoteattr  # here: it imports urllib.request, slow for every other command

    seen: set[str] = set()
    for file in document["files"]:
        if file.get("status") != "pe" or file["sha256"] in seen:
            continue
        seen.add(file["sha256"])
        out.append(f"    <node id={quoteattr(file['sha256'])}>")  # sha256: plain hex, safe in XML
        out.append(f'      <data key="name">{_xml_text(file["name"])}</data>')
        out.append(f'      <data key="impfuzzy">{_xml_text(file["impfuzzy"])}</data>')
        out.append(f'      <data key="imphash">{_xml_text(file["imphash"])}</data>')
        out.append(f'      <data key="cluster">{cluster_of.get(file["sha256"], 0)}</data>')
        out.append("    </node>")
    for number, pair in enumerate(compare["pairs"], start=1):
        out.append(f'    <edge id="e{number}" source={quoteattr(pair["first"])} target={quoteattr(pair["second"])}>')
        out.append(f'      <data key="score">{pair["score"]}</data>')
        out.append("    </edge>")
    out += ["  </graph>", "</graphml>", ""]
    return "\n".join(out)


def _xml_text(value: str) -> str:
    value = "".join(character if character >= " " or character in "\t\n" else "\ufffd" for character in value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
