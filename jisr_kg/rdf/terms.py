"""RDF terms in one engine-neutral form (`Term`), their syntax, and the conversions to and from
rdflib and pyoxigraph terms (imported lazily: this module imports neither).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jisr_kg.rdf.namespaces import PREFIXES, XSD_STRING


@dataclass(frozen=True)
class Term:
    """An RDF term: kind is 'uri', 'literal' or 'bnode'."""

    kind: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    def n3(self) -> str:
        """The term in N-Triples / Turtle / SPARQL syntax."""
        if self.kind == "uri":
            return f"<{self.value}>"
        if self.kind == "bnode":
            return f"_:{self.value}"
        text = '"' + escape_string(self.value) + '"'
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype and self.datatype != XSD_STRING:
            return f"{text}^^<{self.datatype}>"
        return text

    def short(self) -> str:
        """A compact form for tables: prefixed names, plain literal values."""
        if self.kind == "uri":
            return compact(self.value)
        if self.kind == "bnode":
            return f"_:{self.value}"
        return self.value


def escape(value: str) -> str:
    """XML character data (xml.sax.saxutils would pull in urllib and email at start-up)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(value: str) -> str:
    return '"' + escape(value).replace('"', "&quot;") + '"'


def escape_string(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    return out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


#: A character XML 1.0 cannot carry at all, not even as a character reference (its Char production).
NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def not_xml_char(terms: list[Term | None]) -> tuple[Term, str] | None:
    """The first term holding a character that XML 1.0 cannot carry, with that character; else None."""
    for t in terms:
        if t is not None:
            found = NOT_XML_CHAR.search(t.value)
            if found:
                return t, found.group(0)
    return None


def prefixed(iri: str) -> str | None:
    """The IRI as a prefixed name with the project's longest fitting prefix, or None where no prefix
    fits or the rest could be misread ("a:b" is read as a prefixed name only when b does not start
    with "//")."""
    best = max((p for p, ns in PREFIXES.items() if iri.startswith(ns)), key=lambda p: len(PREFIXES[p]),
               default=None)
    if best is None:
        return None
    rest = iri[len(PREFIXES[best]):]
    return None if rest.startswith("//") else f"{best}:{rest}"


def compact(iri: str) -> str:
    """The IRI as a prefixed name, or in angle brackets where no prefix fits: for tables and messages."""
    return prefixed(iri) or f"<{iri}>"


def ntriples_key(triple: tuple[Term, Term, Term]) -> tuple[str, str, str]:
    """Sort triples as their N-Triples lines sort."""
    return (triple[0].n3(), triple[1].n3(), triple[2].n3())


# ---------------------------------------------------------------- conversions (lazy imports)


def ox_term(t) -> Term:  # a pyoxigraph term
    import pyoxigraph as ox

    if isinstance(t, ox.NamedNode):
        return Term("uri", t.value)
    if isinstance(t, ox.BlankNode):
        return Term("bnode", t.value)
    if t.language:
        return Term("literal", t.value, None, t.language)
    return Term("literal", t.value, t.datatype.value)


def rdflib_term(t) -> Term:  # an rdflib term
    from rdflib import BNode, Literal, URIRef

    if isinstance(t, URIRef):
        return Term("uri", str(t))
    if isinstance(t, BNode):
        return Term("bnode", str(t))
    assert isinstance(t, Literal)
    if t.language:
        return Term("literal", str(t), None, t.language)
    return Term("literal", str(t), str(t.datatype) if t.datatype else XSD_STRING)


def to_oxigraph(t: Term):  # a pyoxigraph term
    import pyoxigraph as ox

    if t.kind == "uri":
        return ox.NamedNode(t.value)
    if t.kind == "bnode":
        return ox.BlankNode(t.value)
    if t.lang:
        return ox.Literal(t.value, language=t.lang)
    return ox.Literal(t.value, datatype=ox.NamedNode(t.datatype or XSD_STRING))
