"""Export: byte-stable serialisations of the built dataset.

Every format is written from the triples in one sorted order (by their N-Triples form), so the same
graph always gives the same bytes: rdflib's own N-Triples, N-Quads, TriG, JSON-LD and RDF/XML follow
Python's per-process hash order. N-Triples, N-Quads and JSON-LD are written here; Turtle, TriG and
RDF/XML by Oxigraph, which keeps the order it is given (and is several times faster than rdflib's
serialisers). Blank nodes get their labels at load, the same in every run (`load.parse_file`).
"""

from __future__ import annotations

import heapq
import json
import re

from jisr_kg.pipeline.dataset import BuiltDataset
from jisr_kg.rdf import formats
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, PREFIXES, RDF, XSD_STRING
from jisr_kg.rdf.terms import prefixed

DATASET_FORMATS = formats.DATASET_NAMES
FORMATS = formats.RDF_NAMES


def export(built: BuiltDataset, fmt: str, *, infer: bool = False) -> bytes:
    """The built dataset: its named graphs in TriG and N-Quads, their union in the graph formats."""
    if fmt in DATASET_FORMATS:
        return write_graphs([(name, built.lines[name]) for name in built.names(infer=infer)], fmt)
    return write_lines(built.merged(infer=infer), fmt)


def write_lines(lines: list[str], fmt: str) -> bytes:
    """Triples given as sorted N-Triples lines, in a graph format (in a dataset format, as the
    default graph)."""
    if fmt in DATASET_FORMATS:
        return write_graphs([(None, lines)], fmt)
    if fmt == "ntriples":
        return "".join(line + "\n" for line in lines).encode("utf-8")
    if fmt == "jsonld":
        return _jsonld(_parse(lines))
    if fmt == "xml":
        _check_xml_chars(lines)
        # XML parsers read a raw carriage return as a line feed: written as a reference it survives.
        # (Oxigraph's own layout uses only line feeds and tabs, so every CR here is a literal's.)
        return _oxigraph([(None, lines)], fmt).replace(b"\r", b"&#13;")
    if fmt == "turtle":
        return _oxigraph([(None, lines)], fmt)
    raise ValueError(f"unknown format {fmt!r}")


def write_graphs(graphs: list[tuple[str | None, list[str]]], fmt: str) -> bytes:
    """Named graphs (None: the default graph) of sorted N-Triples lines in a dataset format, graphs in
    the order of their names."""
    graphs = sorted(graphs, key=lambda g: g[0] or "")
    if fmt == "nquads":
        parts = [[line if name is None else f"{line[:-1]}<{name}> ." for line in lines] for name, lines in graphs]
        return "".join(line + "\n" for line in heapq.merge(*parts)).encode("utf-8")
    if fmt == "trig":
        return _oxigraph(graphs, fmt)
    raise ValueError(f"{fmt!r} is not a dataset format")


def _parse(lines: list[str]):  # noqa: ANN202 - pyoxigraph triples, in the order of the lines
    import pyoxigraph as ox

    return ox.parse("\n".join(lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)


#: A character XML 1.0 cannot carry at all, not even as a reference (its Char production), as
#: Oxigraph's canonical N-Triples escapes it: \u0001 (and not after an escaped backslash).
_NOT_XML = re.compile(r"(?<!\\)(?:\\\\)*\\u(000[0-8BCEF]|001[0-9A-F]|FFF[EF])")


def _check_xml_chars(lines: list[str]) -> None:
    """Refuse RDF/XML for data that XML 1.0 cannot carry (decision 20): a literal with a control
    character such as U+0001 would make the file ill-formed, and no XML parser would read it."""
    for line in lines:
        if "\\u" in line:
            found = _NOT_XML.search(line)
            if found:
                from jisr_kg.errors import JisrError
                from jisr_kg.pipeline.reason import split

                s, p, o = split(line)
                where = " ".join(_curie(t[1:-1]) if t.startswith("<") else t for t in (s, p))
                literal = o if len(o) <= 60 else o[:59] + "…"
                raise JisrError(f"RDF/XML cannot carry the literal {literal} (the object of {where}): "
                                f"XML 1.0 has no way to write U+{found.group(1)}; use another format, or "
                                "remove the character from the data")


def _oxigraph(graphs: list[tuple[str | None, list[str]]], fmt: str) -> bytes:
    import pyoxigraph as ox

    # the namespaces of our prefixes that some IRI of the data starts with (an IRI is "<...>" in a line)
    text = "".join(line for _, lines in graphs for line in lines) + "".join(f"<{n}>" for n, _ in graphs if n)
    prefixes = {p: ns for p, ns in PREFIXES.items() if "<" + ns in text}
    if fmt == "trig":
        items = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph() if name is None else ox.NamedNode(name))
                 for name, lines in graphs for t in _parse(lines)]
    else:
        items = [t for _, lines in graphs for t in _parse(lines)]
    return ox.serialize(items, format=getattr(ox.RdfFormat, formats.rdf(fmt).oxigraph), prefixes=prefixes)


def _jsonld(triples) -> bytes:  # noqa: ANN001 - pyoxigraph triples, sorted
    """Compact JSON-LD: our prefixes as the context, one node object per subject, in sorted order."""
    import pyoxigraph as ox

    curie: dict[str, str] = {}  # each IRI compacted once: most recur many times
    values: dict[object, dict[str, str]] = {}

    def short(iri: str) -> str:
        found = curie.get(iri)
        if found is None:
            found = curie[iri] = _curie(iri)
        return found

    def value(t) -> dict[str, str]:  # noqa: ANN001
        found = values.get(t)
        if found is None:
            if isinstance(t, ox.NamedNode):
                found = {"@id": short(t.value)}
            elif isinstance(t, ox.BlankNode):
                found = {"@id": f"_:{t.value}"}
            elif t.language:
                found = {"@value": t.value, "@language": t.language}
            elif t.datatype.value != XSD_STRING:
                found = {"@value": t.value, "@type": short(t.datatype.value)}
            else:
                found = {"@value": t.value}
            values[t] = found
        return found

    nodes: dict[str, dict[str, object]] = {}
    for t in triples:
        s, p, o = t.subject, t.predicate.value, t.object
        node = nodes.get(s.value)
        if node is None:
            node = nodes[s.value] = {"@id": short(s.value) if isinstance(s, ox.NamedNode) else f"_:{s.value}"}
        if p == RDF_TYPE and isinstance(o, ox.NamedNode):
            node.setdefault("@type", []).append(short(o.value))  # type: ignore[union-attr]
        else:
            node.setdefault(short(p), []).append(value(o))  # type: ignore[union-attr]
    doc = {"@context": dict(PREFIXES), "@graph": list(nodes.values())}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


RDF_TYPE = RDF + "type"


def _curie(iri: str) -> str:
    """A compact IRI where a prefix fits and the rest cannot be misread; else the full IRI."""
    return prefixed(iri) or iri


#: What the consensus view leaves out: the claim apparatus.
CLAIM_APPARATUS = frozenset(
    f"<{iri}>"
    for iri in (
        "https://w3id.org/jisr-kg/ontology#Claim",
        "https://w3id.org/jisr-kg/ontology#Mapping",
        "http://www.w3.org/ns/oa#SpecificResource",
        "http://www.w3.org/ns/oa#TextPositionSelector",
        "https://schema.org/QuantitativeValue",
    )
)
_TYPE = f"<{RDF}type>"
_QV = "<https://schema.org/QuantitativeValue>"


def consensus_graph(built: BuiltDataset) -> list[str]:
    """The consensus view on its own (sorted N-Triples lines), for tools that do not understand
    claims: the consensus triples (with the numbers they give), plus the plain description of every
    entity, without claims, evidence spans, mappings, or quantities that only claims give."""
    from jisr_kg.pipeline.reason import split

    asserted = [split(line) for line in built.lines[ASSERTED_GRAPH]]
    apparatus = {s for s, p, o in asserted if p == _TYPE and o in CLAIM_APPARATUS}
    quantities = {s for s, p, o in asserted if p == _TYPE and o == _QV}
    numbers = {o for _s, _p, o in map(split, built.lines[CONSENSUS_GRAPH]) if o in quantities}
    kept = [line for line, (s, _p, _o) in zip(built.lines[ASSERTED_GRAPH], asserted)
            if s not in apparatus or s in numbers]
    return list(heapq.merge(kept, built.lines[CONSENSUS_GRAPH]))
