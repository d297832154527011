"""Export: byte-stable serialisations of the built dataset.

Every format is written from the triples in one sorted order (by their N-Triples form), so the same
graph always gives the same bytes: rdflib's own N-Triples, N-Quads, TriG, JSON-LD and RDF/XML follow
Python's per-process hash order. N-Triples, N-Quads and JSON-LD are written here; Turtle, TriG and
RDF/XML by Oxigraph, which keeps the order it is given (and is several times faster than rdflib's
serialisers). The graph holds no blank nodes, so no label changes from run to run.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable

import rdflib

from .dataset import BuiltDataset, new_graph
from .namespaces import PREFIXES, RDF
from .results import Term, ntriples_key, rdflib_term, to_oxigraph

GRAPH_FORMATS = ("turtle", "ntriples", "jsonld", "xml")
DATASET_FORMATS = ("trig", "nquads")
FORMATS = ("turtle", "trig", "ntriples", "nquads", "jsonld", "xml")

#: File endings of the export formats, and media types for the Graph Store protocol.
SUFFIX = {"turtle": ".ttl", "trig": ".trig", "ntriples": ".nt", "nquads": ".nq", "jsonld": ".jsonld", "xml": ".rdf"}
MEDIA_TYPE = {
    "turtle": "text/turtle",
    "trig": "application/trig",
    "ntriples": "application/n-triples",
    "nquads": "application/n-quads",
    "jsonld": "application/ld+json",
    "xml": "application/rdf+xml",
}

Triple = tuple[Term, Term, Term]
_OXIGRAPH_FORMAT = {"turtle": "TURTLE", "trig": "TRIG", "xml": "RDF_XML"}


def sorted_triples(graphs: Iterable[rdflib.Graph]) -> list[Triple]:
    """The triples of the graphs (merged), in N-Triples order."""
    seen: set[Triple] = set()
    for graph in graphs:
        seen.update((rdflib_term(s), rdflib_term(p), rdflib_term(o)) for s, p, o in graph)
    return sorted(seen, key=ntriples_key)


def serialize_graph(graph: rdflib.Graph, fmt: str) -> bytes:
    """One graph in a graph format (in a dataset format, as the default graph)."""
    if fmt in DATASET_FORMATS:
        return serialize_named_graphs([(None, graph)], fmt)
    return write_triples(sorted_triples([graph]), fmt)


def serialize_named_graphs(graphs: list[tuple[str | None, rdflib.Graph]], fmt: str) -> bytes:
    """Named graphs (None: the default graph) in TriG or N-Quads."""
    return write_quads([(name, sorted_triples([g])) for name, g in graphs], fmt)


def export(built: BuiltDataset, fmt: str, *, infer: bool = False) -> bytes:
    """The built dataset: its named graphs in TriG and N-Quads, their union in the graph formats."""
    graphs = [(name, built.sorted_triples(name)) for name, _ in built.named_graphs(infer=infer)]
    if fmt in DATASET_FORMATS:
        return write_quads(graphs, fmt)
    # the named graphs share no triple, so their union is a merge of sorted lists
    return write_triples(list(heapq.merge(*(t for _, t in graphs), key=ntriples_key)), fmt)


def write_triples(triples: list[Triple], fmt: str) -> bytes:
    """Sorted triples in a graph format."""
    if fmt == "ntriples":
        return "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in triples).encode("utf-8")
    if fmt == "jsonld":
        return _jsonld(triples)
    if fmt in ("turtle", "xml"):
        return _oxigraph([(None, triples)], fmt)
    raise ValueError(f"unknown graph format {fmt!r}")


def write_quads(graphs: list[tuple[str | None, list[Triple]]], fmt: str) -> bytes:
    """Named graphs of sorted triples in a dataset format, graphs in the order of their names."""
    graphs = sorted(graphs, key=lambda g: g[0] or "")
    if fmt == "nquads":
        lines = []
        for name, triples in graphs:
            tail = " ." if name is None else f" <{name}> ."
            lines += [f"{s.n3()} {p.n3()} {o.n3()}{tail}\n" for s, p, o in triples]
        return "".join(sorted(lines)).encode("utf-8")
    if fmt == "trig":
        return _oxigraph(graphs, fmt)
    raise ValueError(f"{fmt!r} is not a dataset format")


def _oxigraph(graphs: list[tuple[str | None, list[Triple]]], fmt: str) -> bytes:
    import pyoxigraph as ox

    used = {t.value for _, triples in graphs for triple in triples for t in triple if t.kind == "uri"}
    used |= {name for name, _ in graphs if name}
    prefixes = {p: ns for p, ns in PREFIXES.items() if any(u.startswith(ns) for u in used)}
    if fmt == "trig":
        items = [
            ox.Quad(*map(to_oxigraph, t), ox.DefaultGraph() if name is None else ox.NamedNode(name))
            for name, triples in graphs
            for t in triples
        ]
    else:
        items = [ox.Triple(*map(to_oxigraph, t)) for _, triples in graphs for t in triples]
    return ox.serialize(items, format=getattr(ox.RdfFormat, _OXIGRAPH_FORMAT[fmt]), prefixes=prefixes)


def _jsonld(triples: list[Triple]) -> bytes:
    """Compact JSON-LD: our prefixes as the context, one node object per subject, in sorted order."""
    nodes: dict[str, dict[str, object]] = {}
    for s, p, o in triples:
        node = nodes.setdefault(s.value, {"@id": _curie(s.value)})
        if p.value == RDF + "type" and o.kind == "uri":
            node.setdefault("@type", []).append(_curie(o.value))  # type: ignore[union-attr]
            continue
        node.setdefault(_curie(p.value), []).append(_jsonld_value(o))  # type: ignore[union-attr]
    doc = {"@context": dict(PREFIXES), "@graph": list(nodes.values())}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _jsonld_value(t: Term) -> dict[str, str]:
    if t.kind == "uri":
        return {"@id": _curie(t.value)}
    if t.kind == "bnode":
        return {"@id": f"_:{t.value}"}
    if t.lang:
        return {"@value": t.value, "@language": t.lang}
    if t.datatype and t.datatype != "http://www.w3.org/2001/XMLSchema#string":
        return {"@value": t.value, "@type": _curie(t.datatype)}
    return {"@value": t.value}


def _curie(iri: str) -> str:
    """A compact IRI where a prefix fits and the rest cannot be misread; else the full IRI."""
    best = max((p for p, ns in PREFIXES.items() if iri.startswith(ns)), key=lambda p: len(PREFIXES[p]),
               default=None)
    if best is None:
        return iri
    rest = iri[len(PREFIXES[best]):]
    # "a:b" is read as a compact IRI only when "b" does not start with "//"
    return iri if rest.startswith("//") else f"{best}:{rest}"


#: What the consensus view leaves out: the claim apparatus.
CLAIM_APPARATUS = tuple(
    rdflib.URIRef(iri)
    for iri in (
        "https://w3id.org/jisr-kg/ontology#Claim",
        "https://w3id.org/jisr-kg/ontology#Mapping",
        "http://www.w3.org/ns/oa#SpecificResource",
        "http://www.w3.org/ns/oa#TextPositionSelector",
        "https://schema.org/QuantitativeValue",
    )
)


def consensus_graph(built: BuiltDataset) -> rdflib.Graph:
    """The consensus view on its own, for tools that do not understand claims: the consensus triples
    (with the numbers they give), plus the plain description of every entity, without claims,
    evidence spans, mappings, or quantities that only claims give."""
    apparatus = {s for cls in CLAIM_APPARATUS for s in built.asserted.subjects(rdflib.RDF.type, cls)}
    qv = rdflib.URIRef("https://schema.org/QuantitativeValue")
    numbers = {o for o in built.consensus.objects() if (o, rdflib.RDF.type, qv) in built.asserted}
    g = new_graph()
    for s, p, o in built.asserted:
        if s not in apparatus or s in numbers:
            g.add((s, p, o))
    g += built.consensus
    return g
