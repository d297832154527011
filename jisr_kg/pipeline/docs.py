"""Docs: HTML documentation of the ontology, written by pyLODE, with the concept schemes and the SHACL
shapes added as sections of their own.

pyLODE takes every skos:ConceptScheme in the file for the ontology itself and runs their titles
together into the page's title; and it documents classes and properties only. So pyLODE is given the
ontology without the schemes' type (the title and metadata are then the owl:Ontology's alone), and
the concept schemes, with their concepts, and the shapes of `ontology/shapes.ttl` are written here.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from jisr_kg.errors import JisrError
from jisr_kg.fsutil import check_output_file, write_atomic
from jisr_kg.paths import project_root
from jisr_kg.pipeline.build import Progress
from jisr_kg.rdf.terms import compact

if TYPE_CHECKING:  # rdflib is imported where it is used, not when the command starts
    import rdflib
    from rdflib.term import Node

SKOS = "http://www.w3.org/2004/02/skos/core#"
SH = "http://www.w3.org/ns/shacl#"


def write_docs(output: Path, *, progress: Progress | None = None) -> Path:
    """Write the ontology's HTML documentation to `output` and return its path. The default lies
    outside `dist/`, which the next build replaces."""
    from jisr_kg.pipeline.build import input_paths

    target = check_output_file(output, protected=input_paths())
    try:
        import pylode  # noqa: F401 - only to say what is missing before any work
    except ImportError:
        raise JisrError("the docs command needs pyLODE: pip install 'jisr-kg[docs]'") from None
    _quiet_pylode()
    if progress:
        progress("writing the ontology documentation")
    root = project_root() / "ontology"
    write_atomic(target, ontology_html(root / "ontology.ttl", root / "shapes.ttl").encode("utf-8"))
    return output


def ontology_html(ontology: Path, shapes: Path) -> str:
    """The documentation page of `ontology`, with its concept schemes and the `shapes` that check data."""
    import rdflib
    from pylode import OntPub
    from rdflib import RDF

    _quiet_pylode()
    graph = rdflib.Graph().parse(ontology)
    scheme = rdflib.URIRef(SKOS + "ConceptScheme")
    schemes = sorted(graph.subjects(RDF.type, scheme), key=str)
    for s in schemes:
        graph.remove((s, RDF.type, scheme))
    html = OntPub(ontology=graph, sort_subjects=True).make_html(include_css=True)
    for s in schemes:
        graph.add((s, RDF.type, scheme))
    shape_graph = rdflib.Graph().parse(shapes)
    sections = [("conceptschemes", "Concept Schemes", _schemes_html(graph)),
                ("shapes", "Shapes", _shapes_html(shape_graph))]
    body = "".join(f'<div id="{key}" class="section">\n<h2>{title}</h2>\n{content}</div>\n'
                   for key, title, content in sections)
    toc = "".join(f'<li><h4><a href="#{key}">{title}</a></h4></li>\n' for key, title, _ in sections)
    # pyLODE's layout: the sections, then <div id="namespaces">; the table of contents ends with it too
    html = _insert_before(html, r'<div id="namespaces">', body)
    return _insert_before(html, r'<li>\s*<h4>\s*<a href="#namespaces">', toc)


def _quiet_pylode() -> None:
    """pyLODE sets the root logger to DEBUG at import; its chatter is not for our users."""
    import logging

    logging.getLogger().setLevel(logging.WARNING)


def _insert_before(html: str, pattern: str, text: str) -> str:
    found = re.search(pattern, html)
    if found is None:  # another pyLODE layout: still documented, at the end of the body
        return html.replace("</body>", text + "</body>", 1)
    return html[:found.start()] + text + html[found.start():]


def _text(graph: rdflib.Graph, node: Node, *predicates: str) -> str:
    """The first English (or untagged) value of the first predicate that has one."""
    import rdflib

    for p in predicates:
        values = [o for o in graph.objects(node, rdflib.URIRef(p)) if isinstance(o, rdflib.Literal)]
        values.sort(key=lambda o: (o.language not in ("en", None), str(o)))
        if values:
            return str(values[0])
    return ""


def _name(term: Node) -> str:
    import rdflib

    return compact(str(term)) if isinstance(term, rdflib.URIRef) else str(term)


def _anchor(term: Node) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", _name(term))


def _schemes_html(graph: rdflib.Graph) -> str:
    import rdflib
    from rdflib import RDF, RDFS

    label = (SKOS + "prefLabel", str(RDFS.label))
    definition = (SKOS + "definition", str(RDFS.comment))
    out = ["<p>The controlled lists (SKOS concept schemes) that claims and entities take their values from.</p>\n"]
    schemes = sorted(graph.subjects(RDF.type, rdflib.URIRef(SKOS + "ConceptScheme")),
                     key=lambda s: _text(graph, s, *label).lower())
    for s in schemes:
        concepts = set(graph.subjects(rdflib.URIRef(SKOS + "inScheme"), s))
        concepts |= set(graph.subjects(rdflib.URIRef(SKOS + "topConceptOf"), s))
        rows = "".join(
            f"<tr><td><code>{escape(_name(c))}</code></td><td>{escape(_text(graph, c, *label))}</td>"
            f"<td>{escape(_text(graph, c, *definition))}</td></tr>\n"
            for c in sorted(concepts, key=lambda c: _text(graph, c, *label).lower()))
        out.append(f'<div class="property entity" id="{_anchor(s)}">\n'
                   f"<h3>{escape(_text(graph, s, *label))}</h3>\n"
                   f"<p><code>{escape(str(s))}</code></p>\n<p>{escape(_text(graph, s, *definition))}</p>\n"
                   f"<table>\n<tr><th>Concept</th><th>Label</th><th>Definition</th></tr>\n{rows}</table>\n</div>\n")
    return "".join(out)


def _shapes_html(graph: rdflib.Graph) -> str:
    """One row per named shape: what it applies to (its targets, or the shapes that use it), what it
    checks (path and constraints), how severe a failure is, and its message."""
    import rdflib
    from rdflib import RDF, RDFS

    sh = rdflib.Namespace(SH)
    named = {s for kind in (sh.NodeShape, sh.PropertyShape) for s in graph.subjects(RDF.type, kind)
             if isinstance(s, rdflib.URIRef)}
    targets = (sh.targetClass, sh.targetNode, sh.targetSubjectsOf, sh.targetObjectsOf)
    rows = []
    for s in sorted(named, key=str):
        applies = [f"{_local(t)} " + ", ".join(sorted(_name(o) for o in graph.objects(s, t)))
                   for t in targets if (s, t, None) in graph]
        users = sorted(_name(u) for u in graph.subjects(sh.node, s) if isinstance(u, rdflib.URIRef))
        if users:
            applies.append("used by " + ", ".join(users))
        severity = _local(graph.value(s, sh.severity) or sh.Violation)
        message = _text(graph, s, str(sh.message), str(RDFS.comment), str(sh.description))
        rows.append(f'<tr id="{_anchor(s)}"><td><code>{escape(_name(s))}</code></td><td>{escape("; ".join(applies))}'
                    f"</td><td>{escape(_checks(graph, s))}</td><td>{severity}</td><td>{escape(message)}</td></tr>\n")
    intro = (f"<p>The {len(rows)} SHACL shapes of <code>shapes.ttl</code>, which <code>jisr-kg validate</code> "
             "and <code>jisr-kg build</code> check the data against. A Violation stops a build; a Warning "
             "is reported.</p>\n")
    return (intro + "<table>\n<tr><th>Shape</th><th>Applies to</th><th>Checks</th><th>Severity</th>"
            "<th>Message</th></tr>\n" + "".join(rows) + "</table>\n")


#: The constraint parameters a shape's row lists (SPARQL constraints are named, not quoted).
_PARAMETERS = ("path", "minCount", "maxCount", "datatype", "class", "nodeKind", "hasValue", "in", "node",
               "pattern", "languageIn", "minInclusive", "lessThan", "lessThanOrEquals", "or", "and", "not",
               "property", "sparql")


def _checks(graph: rdflib.Graph, shape: Node, depth: int = 0) -> str:
    """A shape's constraints in brief: "path jkg:x; minCount 1; datatype xsd:integer"."""
    import rdflib
    from rdflib.collection import Collection

    sh = rdflib.Namespace(SH)

    def value(o: Node) -> str:
        if isinstance(o, rdflib.BNode):
            inverse = graph.value(o, sh.inversePath)
            if inverse is not None:
                return "^" + _name(inverse)
            if (o, rdflib.RDF.first, None) in graph:  # a list: sh:in, sh:or, sh:and
                return "(" + " | ".join(value(x) for x in Collection(graph, o)) + ")"
            if (o, rdflib.RDF.type, sh.SPARQLConstraint) in graph or (o, sh.select, None) in graph:
                return "a SPARQL query"
            return "[" + _checks(graph, o, depth + 1) + "]" if depth < 3 else "[...]"
        return _name(o) if isinstance(o, rdflib.URIRef) else repr(str(o)) if isinstance(o, rdflib.Literal) \
            and o.datatype is None else str(o)

    parts = []
    for name in _PARAMETERS:
        for o in sorted(graph.objects(shape, sh[name]), key=str):
            parts.append(f"{name} {value(o)}")
    return "; ".join(parts)


def _local(term: Node) -> str:
    return str(term).rsplit("#", 1)[-1]
