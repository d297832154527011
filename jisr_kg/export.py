"""Export: byte-stable serialisations of the built dataset.

rdflib's N-Triples, N-Quads and JSON-LD follow Python's per-process hash order, so lines are sorted
and JSON-LD nodes and values are ordered; Turtle and TriG come out sorted already. The graph holds no
blank nodes (every node has an IRI), so no label changes from run to run.
"""

from __future__ import annotations

import json

import rdflib

from .dataset import BuiltDataset, new_graph
from .namespaces import PREFIXES

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


def serialize_graph(graph: rdflib.Graph, fmt: str) -> bytes:
    """One graph in a graph format (or a dataset format, as its default graph)."""
    if fmt in DATASET_FORMATS:
        return serialize_named_graphs([(None, graph)], fmt)
    if fmt == "turtle":
        return graph.serialize(format="turtle", encoding="utf-8")
    if fmt == "ntriples":
        return _sorted_lines(graph.serialize(format="nt", encoding="utf-8"))
    if fmt == "jsonld":
        return _jsonld(graph)
    if fmt == "xml":
        return _oxigraph(graph, "RDF_XML")
    raise ValueError(f"unknown format {fmt!r}")


def serialize_named_graphs(graphs: list[tuple[str | None, rdflib.Graph]], fmt: str) -> bytes:
    """Named graphs (None: the default graph) in TriG or N-Quads."""
    ds = rdflib.Dataset()
    for prefix, ns in PREFIXES.items():
        ds.bind(prefix, ns, override=True, replace=True)
    for name, graph in graphs:
        target = ds.default_context if name is None else ds.graph(rdflib.URIRef(name))
        for t in graph:
            target.add(t)
    if fmt == "trig":
        return _trig(graphs)
    if fmt == "nquads":
        return _sorted_lines(ds.serialize(format="nquads", encoding="utf-8"))
    raise ValueError(f"{fmt!r} is not a dataset format")


def export(built: BuiltDataset, fmt: str, *, infer: bool = False) -> bytes:
    """The built dataset: named graphs in TriG and N-Quads, their union in the graph formats."""
    if fmt in DATASET_FORMATS:
        return serialize_named_graphs(list(built.named_graphs(infer=infer)), fmt)
    return serialize_graph(built.graph(infer=infer), fmt)


def _trig(graphs: list[tuple[str | None, rdflib.Graph]]) -> bytes:
    """TriG from each graph's Turtle (sorted by rdflib), since rdflib's own TriG order is not stable."""
    from .dataset import new_graph

    prefixes: list[str] = []
    blocks: list[str] = []
    for name, graph in sorted(graphs, key=lambda g: g[0] or ""):
        g = new_graph()
        g += graph
        body = []
        for line in g.serialize(format="turtle").splitlines():
            if line.startswith("@prefix "):
                if line not in prefixes:
                    prefixes.append(line)
            else:
                # not indented: a line may be inside a multi-line string literal
                body.append(line)
        text = "\n".join(body).strip("\n")
        blocks.append(text if name is None else f"<{name}> {{\n{text}\n}}")
    return ("\n".join(sorted(prefixes)) + "\n\n" + "\n\n".join(blocks) + "\n").encode("utf-8")


def _oxigraph(graph: rdflib.Graph, fmt: str) -> bytes:
    """Serialise with Oxigraph, in sorted order (rdflib's RDF/XML follows the hash order)."""
    import pyoxigraph as ox

    from .results import ntriples_key, rdflib_term, to_oxigraph

    triples = sorted(((rdflib_term(s), rdflib_term(p), rdflib_term(o)) for s, p, o in graph), key=ntriples_key)
    used = {t.value for triple in triples for t in triple if t.kind == "uri"}
    prefixes = {p: ns for p, ns in PREFIXES.items() if any(u.startswith(ns) for u in used)}
    return ox.serialize([ox.Triple(*map(to_oxigraph, t)) for t in triples], format=getattr(ox.RdfFormat, fmt),
                        prefixes=prefixes)


def _sorted_lines(data: bytes) -> bytes:
    lines = sorted({line for line in data.decode("utf-8").splitlines() if line.strip()})
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def _jsonld(graph: rdflib.Graph) -> bytes:
    used = {p: ns for p, ns in PREFIXES.items()}
    raw = graph.serialize(format="json-ld", context=used, auto_compact=True, encoding="utf-8")
    doc = json.loads(raw)
    if isinstance(doc, dict) and isinstance(doc.get("@graph"), list):
        doc["@graph"] = sorted((_ordered(n) for n in doc["@graph"]), key=lambda n: str(n.get("@id", "")))
    else:
        doc = _ordered(doc)
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _ordered(node: object) -> object:
    """JSON-LD values without @list are sets: order them so that the output is stable."""
    if isinstance(node, dict):
        return {k: (v if k == "@list" else _ordered(v)) for k, v in node.items()}
    if isinstance(node, list):
        items = [_ordered(v) for v in node]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return node


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
