"""docs/querying.md cannot rot: every term in its picture of the model exists, and every query in it runs
on both engines and answers."""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib import RDFS

from conftest import ROOT

DOC = (ROOT / "docs" / "querying.md").read_text(encoding="utf-8")
SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
JKG = "https://w3id.org/jisr-kg/ontology#"
INSTANCE_PREFIXES = {"actor", "unit", "place", "event", "claim", "qv", "span", "sel", "src", "work", "ref", "map",
                     "geom", "concept"}


def prefixes() -> dict[str, str]:
    try:
        from jisr_kg.namespaces import PREFIXES
    except ImportError:  # the package's modules may be regrouped; the prefixes are those of the ontology
        from jisr_kg.rdf.namespaces import PREFIXES  # type: ignore[no-redef]
    return {p: str(ns) for p, ns in PREFIXES.items()}


def picture() -> str:
    blocks = re.findall(r"```mermaid\n(.*?)```", DOC, re.S)
    assert len(blocks) == 1, "docs/querying.md has one picture of the model (a Mermaid block)"
    return blocks[0]


def terms_in_picture() -> list[str]:
    known = prefixes()
    found = re.findall(r"(?<![\w/:.-])([a-z]+):(\w[\w-]*\w)", picture())
    return sorted({f"{p}:{local}" for p, local in found if p in known})


def test_the_picture_shows_the_parts_of_a_claim() -> None:
    terms = set(terms_in_picture())
    for t in ("rdf:subject", "rdf:predicate", "rdf:object", "prov:wasAttributedTo", "jkg:evidence", "oa:hasSelector",
              "oa:exact", "jkg:standing", "jkg:modality", "jkg:contradicts", "jkg:supports", "jkg:doubts"):
        assert t in terms, f"the picture does not show {t}"


@pytest.mark.parametrize("term", terms_in_picture())
def test_every_term_in_the_picture_exists(term: str, built) -> None:
    known = prefixes()
    prefix, local = term.split(":", 1)
    iri = rdflib.URIRef(known[prefix] + local)
    graph = built.union(infer=True)
    if prefix in INSTANCE_PREFIXES:
        assert (iri, None, None) in graph, f"{term} is not a node of the data"
    elif str(iri).startswith(JKG):
        assert (iri, RDFS.label, None) in graph or (iri, SKOS.prefLabel, None) in graph, (
            f"{term} is not defined in ontology/ontology.ttl"
        )
    else:  # a standard term: one the ontology or the data uses
        used = (iri, None, None) in graph or (None, iri, None) in graph or (None, None, iri) in graph
        assert used, f"{term} is used neither by the ontology nor by the data"


def sparql_blocks() -> list[str]:
    return re.findall(r"```sparql\n(.*?)```", DOC, re.S)


def test_the_doc_has_queries() -> None:
    assert len(sparql_blocks()) >= 8


@pytest.mark.parametrize("index", range(len(sparql_blocks())))
def test_every_query_in_the_doc_answers_on_both_engines(index: int) -> None:
    from jisr_kg.api import run_text

    text = sparql_blocks()[index]
    ox = run_text(text, engine="oxigraph")
    rl = run_text(text, engine="rdflib")
    assert ox.rows, f"query {index + 1} of docs/querying.md gives no row:\n{text}"
    assert ox.variables == rl.variables
    assert sorted(map(tuple, ox.rows), key=repr) == sorted(map(tuple, rl.rows), key=repr)
