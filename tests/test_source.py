"""The source article is in the project byte for byte, and in the graph as the same text."""

from __future__ import annotations

import hashlib

import rdflib

from conftest import ROOT

TEXT = ROOT / "data" / "source" / "june-2011-jisr-ash-shughur-clashes.txt"
DOC = rdflib.URIRef("https://w3id.org/jisr-kg/id/source/june-2011-jisr-ash-shughur-clashes")


def test_graph_holds_the_source_text_exactly() -> None:
    g = rdflib.Graph().parse(ROOT / "data" / "source.ttl")
    assert str(g.value(DOC, rdflib.URIRef("https://schema.org/text"))) == TEXT.read_text(encoding="utf-8")


def test_recorded_checksum_matches_the_text() -> None:
    g = rdflib.Graph().parse(ROOT / "data" / "source.ttl")
    recorded = str(g.value(DOC, rdflib.URIRef("https://w3id.org/jisr-kg/ontology#sha256")))
    assert recorded.lower() == hashlib.sha256(TEXT.read_bytes()).hexdigest()


def test_units_point_into_the_text() -> None:
    text = TEXT.read_text(encoding="utf-8")
    rows = [line.split("\t") for line in (ROOT / "data/source/units.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")][1:]
    assert len(rows) == 108
    for _kind, start, end, quote in rows:
        assert text[int(start):int(end)] == quote


def test_no_code_reads_outside_the_project() -> None:
    for path in [*ROOT.glob("jisr_kg/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("benchmarks/*.py")]:
        assert "../" + "shared" not in path.read_text(encoding="utf-8"), path
