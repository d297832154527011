"""Load: parse RDF files (with Oxigraph's parsers) into N-Triples lines, with parse errors as
FILE:LINE:COL messages; and turn lines into an rdflib graph where rdflib is needed (pyshacl).

A triple is kept as its N-Triples line ("<s> <p> <o> ."): the pipeline joins, sorts, writes and
hashes them as plain strings, which at 100 times our data is many times faster than rdflib's graphs.
Oxigraph writes every term in one canonical form, so equal terms are equal strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from jisr_kg.errors import InputError
from jisr_kg.rdf import formats
from jisr_kg.rdf.namespaces import XSD_STRING


def parse_file(path: Path) -> list[str]:
    """The triples of one file as N-Triples lines (the triples of every graph of a dataset file);
    on failure an InputError naming the file, line and column."""
    import pyoxigraph as ox

    fmt = formats.rdf_by_extension(path.suffix) if path.suffix in formats.READ_EXTENSIONS else None
    if fmt is None:
        raise InputError("not an RDF file", path=path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(e.strerror or "cannot read", path=path) from None
    try:
        return [f"{q.subject} {q.predicate} {q.object} ." for q in
                ox.parse(data, format=getattr(ox.RdfFormat, fmt.oxigraph), base_iri=path.resolve().as_uri())]
    except SyntaxError as e:
        raise InputError(f"syntax error: {_reason(e)}", path=path, line=e.lineno, column=e.offset) from None
    except ValueError as e:  # invalid UTF-8, among others
        raise InputError(f"cannot read: {e}", path=path) from None


def parse_files(paths: Iterable[Path]) -> set[str]:
    """The triples of the files, merged."""
    lines: set[str] = set()
    for path in paths:
        lines.update(parse_file(path))
    return lines


def load(paths: Iterable[Path]):  # noqa: ANN201 - rdflib.Graph, typed loosely to keep rdflib out of import time
    """Parse the files into one rdflib graph."""
    return rdflib_graph(parse_files(paths))


def rdflib_graph(lines: Iterable[str], graph=None, convert: TermConverter | None = None):  # noqa: ANN001, ANN201
    """The triples given as N-Triples lines, added to `graph` (default: a new rdflib graph).

    Terms are converted once each (most of them recur), and added straight to the store: about three
    times faster than rdflib's own N-Triples parser.
    """
    import pyoxigraph as ox
    import rdflib

    if graph is None:
        graph = rdflib.Graph()
    convert = convert or TermConverter()
    text = "\n".join(lines).encode("utf-8")
    store = graph.store
    for t in ox.parse(text, format=ox.RdfFormat.N_TRIPLES):
        store.add((convert(t.subject), convert(t.predicate), convert(t.object)), graph)
    return graph


def ntriples(triple: tuple) -> str:  # noqa: ANN001 - rdflib terms
    """An rdflib triple as an N-Triples line, in the same canonical form as `parse_file` writes."""
    s, p, o = map(nt_term, triple)
    return f"{s} {p} {o} ."


def nt_term(term) -> str:  # noqa: ANN001 - an rdflib term
    """An rdflib term in the canonical N-Triples form that `parse_file` writes."""
    from jisr_kg.rdf.terms import rdflib_term, to_oxigraph

    return str(to_oxigraph(rdflib_term(term)))


class TermConverter:
    """pyoxigraph terms to rdflib terms, each distinct term converted once. `memo` maps each
    pyoxigraph term seen (whose str() is its N-Triples form) to its rdflib term."""

    def __init__(self) -> None:
        import rdflib

        self.rdflib = rdflib
        self.memo: dict[object, object] = {}

    def __call__(self, term):  # noqa: ANN001, ANN204
        found = self.memo.get(term)
        if found is None:
            found = self.memo[term] = self._convert(term)
        return found

    def _convert(self, term):  # noqa: ANN001, ANN202
        import pyoxigraph as ox

        r = self.rdflib
        if isinstance(term, ox.NamedNode):
            return r.URIRef(term.value)
        if isinstance(term, ox.BlankNode):
            return r.BNode(term.value)
        if term.language:
            return r.Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return r.Literal(term.value, datatype=None if datatype == XSD_STRING else r.URIRef(datatype))




def _reason(e: SyntaxError) -> str:
    """Oxigraph's message without its position, which the caller gives as FILE:LINE:COL."""
    msg = str(e.msg if hasattr(e, "msg") else e)
    head, sep, tail = msg.partition(": ")
    return tail if sep and head.startswith("Parser error") else msg
