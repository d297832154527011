"""VoID and DCAT description of a release: what the dataset is, its size, licence, source and files."""

from __future__ import annotations

import rdflib
from rdflib import RDF, XSD, Literal, URIRef

from jisr_kg import __version__
from jisr_kg.pipeline.dataset import new_graph
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, DATASET, DCTERMS, ID, INFERRED_GRAPH, PREFIXES

VOID = rdflib.Namespace(PREFIXES["void"])
DCAT = rdflib.Namespace(PREFIXES["dcat"])
DCT = rdflib.Namespace(DCTERMS)
SOURCE = URIRef(PREFIXES["src"] + "june-2011-jisr-ash-shughur-clashes")
LICENSE = URIRef("https://creativecommons.org/licenses/by-sa/4.0/")


def describe(built, files: dict[str, tuple[int, str]]) -> bytes:  # noqa: ANN001 - BuiltDataset
    """VoID/DCAT Turtle for the built dataset; `files` maps each file name to (bytes, sha256)."""
    g = new_graph()
    ds = URIRef(DATASET)
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, RDF.type, DCAT.Dataset))
    title = "jisr-kg: the June 2011 Jisr ash-Shughur clashes as claims with provenance"
    g.add((ds, DCT.title, Literal(title, lang="en")))
    g.add((ds, DCT.description, Literal(
        "Who claims what about the June 2011 Jisr ash-Shughur clashes, where the source article says it, "
        "and how the claims relate. Derived from the English Wikipedia article 'June 2011 Jisr ash-Shughur "
        "clashes' (CC BY-SA 4.0).", lang="en")))
    g.add((ds, DCT.license, LICENSE))
    g.add((ds, DCT.source, SOURCE))
    g.add((ds, DCT.hasVersion, Literal(__version__)))
    g.add((ds, VOID.uriSpace, Literal(ID)))
    g.add((ds, VOID.vocabulary, URIRef(PREFIXES["jkg"])))
    _counts(g, ds, [line for name in built.names() for line in built.lines[name]])
    for name in built.names():
        part = URIRef(name)
        g.add((ds, VOID.subset, part))
        g.add((part, RDF.type, VOID.Dataset))
        g.add((part, DCT.title, Literal({ASSERTED_GRAPH: "asserted triples", CONSENSUS_GRAPH: "consensus view",
                                         INFERRED_GRAPH: "OWL 2 RL entailments"}[name], lang="en")))
        _counts(g, part, built.lines[name])
    for name, (size, digest) in sorted(files.items()):
        dist = URIRef(f"{DATASET}/distribution/{name}")
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.downloadURL, Literal(name)))
        g.add((dist, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
        g.add((dist, URIRef("http://spdx.org/rdf/terms#checksum"), Literal(digest)))
        g.add((dist, DCT.license, LICENSE))
    return g.serialize(format="turtle", encoding="utf-8")


def _counts(g: rdflib.Graph, node: URIRef, lines: list[str]) -> None:
    """Triples, distinct IRI subjects and distinct properties of a graph (given as N-Triples lines,
    which share none across graphs)."""
    terms = [line.split(" ", 2) for line in lines]
    subjects = {t[0] for t in terms if t[0].startswith("<")}
    g.add((node, VOID.triples, Literal(len(lines), datatype=XSD.integer)))
    g.add((node, VOID.distinctSubjects, Literal(len(subjects), datatype=XSD.integer)))
    g.add((node, VOID.properties, Literal(len({t[1] for t in terms}), datatype=XSD.integer)))
