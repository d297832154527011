"""Load: parse RDF files (with Oxigraph's parsers) into N-Triples lines, with parse errors as
FILE:LINE:COL messages; and turn lines into an rdflib graph where rdflib is needed (pyshacl).

A triple is kept as its N-Triples line ("<s> <p> <o> ."): the pipeline joins, sorts, writes and
hashes them as plain strings, which at 100 times our data is many times faster than rdflib's graphs.
Oxigraph writes every term in one canonical form, so equal terms are equal strings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from jisr_kg.errors import InputError
from jisr_kg.rdf import formats
from jisr_kg.rdf.namespaces import ID, XSD_STRING

if TYPE_CHECKING:  # only for the annotations: rdflib and pyoxigraph are imported where they are used
    import pyoxigraph
    import rdflib

#: What a relative IRI in a data file resolves against: one fixed base, the project's identifier
#: space, so that an IRI never depends on where the folder lies (the cache is keyed by the files'
#: bytes, not their location) and a copy of the folder means the same graph (decision 20).
BASE_IRI = ID

#: Oxigraph's parsers refuse a single token (a literal or an IRI) longer than this.
MAX_TOKEN = 16 * 1024 * 1024

#: The most that the entity references of an RDF/XML file may expand to, beyond the file itself:
#: far more than any real use (namespace abbreviations), far less than an "entity bomb".
MAX_ENTITY_EXPANSION = 8 * 1024 * 1024
#: How deep entities may refer to entities (the count is recursive; a namespace entity is 1 deep).
MAX_ENTITY_DEPTH = 32


def parse_file(path: Path, index: int = 0) -> list[str]:
    """The triples of one file as N-Triples lines (the triples of every graph of a dataset file);
    on failure an InputError naming the file, line and column.

    Blank nodes are scoped to the file, as RDF says they are: each gets a new label, `_:f{index}b{n}`
    for the n-th distinct blank node of the `index`-th file, so that `_:x` in two files is two nodes
    and the same input always gives the same labels (Oxigraph names `[]` at random)."""
    import pyoxigraph as ox

    fmt = formats.rdf_by_extension(path.suffix) if path.suffix in formats.READ_EXTENSIONS else None
    if fmt is None:
        raise InputError("not an RDF file", path=path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(e.strerror or "cannot read", path=path) from None
    if fmt.name == "xml":
        _check_entities(data, path)
    try:
        quads = ox.parse(data, format=getattr(ox.RdfFormat, fmt.oxigraph), base_iri=BASE_IRI)
        # Oxigraph writes the N-Triples text itself: no Python object per term, nor a str() of each
        # (several times faster than a line made per triple here). A dataset's triples of every graph.
        triples = (q.triple for q in quads) if fmt.kind == "dataset" else quads
        text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    except SyntaxError as e:
        raise InputError(f"syntax error: {_reason(e)}", path=path, line=e.lineno, column=e.offset) from None
    except MemoryError:  # Oxigraph's buffer limit, raised as MemoryError
        raise InputError(f"a literal or IRI longer than {MAX_TOKEN // (1024 * 1024)} MiB, "
                         "more than the parser reads", path=path) from None
    except ValueError as e:  # invalid UTF-8, among others
        raise InputError(f"cannot read: {e}", path=path) from None
    # not splitlines(): a literal may hold U+2028 and the like, which N-Triples leaves unescaped
    lines = text.split("\n")
    lines.pop()  # after the last line feed
    if "_:" in text:  # a blank node, or those characters in a literal or an IRI
        lines = _relabel(lines, index)
        if '"^^<' in text:  # the lines that name an ill-typed literal's triple: with the new labels
            text = "".join(line + "\n" for line in lines)
    if " <<(" in text:  # an RDF 1.2 triple term as an object, or those characters in a literal
        _refuse_triple_terms(lines, path)
    if '"^^<' in text:  # a typed literal, or those characters in another literal
        _check_literals(_typed(text), path)
    return lines


def _refuse_triple_terms(lines: list[str], path: Path) -> None:
    """Refuse RDF 1.2 triple terms (`<<( s p o )>>`, and `<< s p o >>`, which reifies one): the project
    reads and writes RDF 1.1, so that every store and parser reads its exports."""
    for line in lines:
        if line.split(" ", 2)[2].startswith("<<("):
            s, p, _ = line.split(" ", 2)
            raise InputError(f"an RDF 1.2 triple term (the object of {s} {p}): the project reads RDF 1.1 only; "
                             "state it as a claim (rdf:subject, rdf:predicate, rdf:object) instead", path=path)


def _relabel(lines: list[str], index: int) -> list[str]:
    """The lines with each blank node named `_:f{index}b{n}`, n counting the file's distinct blank nodes in
    the order they first occur (subject before object); a line without a blank node is the same string."""
    blank: dict[str, str] = {}

    def label(node: str) -> str:
        found = blank.get(node)
        if found is None:
            found = blank[node] = f"_:f{index}b{len(blank)}"
        return found

    relabelled = []
    for line in lines:
        s, p, rest = line.split(" ", 2)
        # a blank node is never a predicate; an object that starts with "_" is one, as a literal starts
        # with a quote and an IRI (or a triple term) with "<"
        if s[0] == "_" or rest[0] == "_":
            s = label(s) if s[0] == "_" else s
            rest = label(rest[:-2]) + " ." if rest[0] == "_" else rest
            line = f"{s} {p} {rest}"
        relabelled.append(line)
    return relabelled


def _typed(text: str) -> dict[str, str]:
    """Each distinct typed literal of an N-Triples text (as its N-Triples term), with the first line that
    has it as its object. The text is searched for '"^^<' (in C), not read a line at a time: most lines
    hold no typed literal."""
    typed: dict[str, str] = {}
    find, rfind = text.find, text.rfind
    at = find('"^^<')
    while at != -1:
        end = find("\n", at)
        line = text[rfind("\n", 0, at) + 1:end]
        # the object is a literal (the line's first quote: no IRI or blank node holds one) with a datatype
        # (the line ends with its ">"); not a literal in a triple term (a third space before the quote),
        # nor a literal with '"^^<' in its text (the line would end with a quote or a language tag)
        if line[-3] == ">":
            start = line.index('"')
            if line.count(" ", 0, start) == 2:
                o = line[start:-2]
                if o not in typed:
                    typed[o] = line
        at = find('"^^<', end)
    return typed


def parse_files(paths: Iterable[Path]) -> set[str]:
    """The triples of the files, merged (each file's blank nodes its own)."""
    lines: set[str] = set()
    for index, path in enumerate(paths):
        lines.update(parse_file(path, index))
    return lines


def _check_literals(typed: dict[str, str], path: Path) -> None:
    """Refuse an ill-typed literal ("2011-06-31"^^xsd:date, "abc"^^xsd:integer); `typed` maps each
    typed literal (in N-Triples) to the line of a triple that has it as its object.

    Such a literal makes the data inconsistent under OWL 2 RL (rule dt-not-type), but each reasoner
    noticed it differently: owlrl only among the triples it is shown, `reasonable` never (SHACL then
    reported violations), and rdflib printed a traceback converting it. Checked here, with owlrl's
    own table of lexical forms, every reasoner and every command gets the same one-line answer."""
    if not typed:
        return
    import pyoxigraph as ox

    from jisr_kg.rdf.terms import compact

    checks = _lexical_checks()

    def triple(line: str) -> ox.Triple:
        return next(iter(ox.parse(line, format=ox.RdfFormat.N_TRIPLES))).triple

    def where(line: str) -> str:
        t = triple(line)
        s = str(t.subject)  # a blank node as its label in the line
        return f"{compact(s[1:-1]) if s.startswith('<') else s} {compact(t.predicate.value)}"

    bad = []
    for literal, line in typed.items():
        cut = literal.rindex('"^^<')
        datatype = literal[cut + 4:-1]  # an IRI stands in N-Triples as it is
        convert = checks.get(datatype)
        if convert is None:
            continue
        # the lexical form: as written, unless it holds an escape (\" \\ \n \uXXXX ...), which Oxigraph reads
        value = literal[1:cut] if "\\" not in literal else triple(line).object.value
        if _LONG_DIGITS.fullmatch(value):  # well-formed, but Python (so owlrl, rdflib) reads no more
            raise InputError(f"a number of {len(value.strip())} digits (the object of {where(line)}): the "
                             "reasoner reads at most 4300", path=path)
        try:
            convert(value)
        except (ValueError, TypeError, ArithmeticError):
            bad.append((value, datatype, line))
    if bad:
        value, datatype, line = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InputError(f"{_clip(value)!r} is not a valid {compact(datatype)} "
                         f"(the object of {where(line)}){more}", path=path)


@functools.cache
def _lexical_checks() -> dict[str, Callable[[str], object]]:
    """Datatype IRI -> a function that raises on an ill-formed lexical form: owlrl's forms for the OWL 2
    RL datatypes; rdflib's for the few others it converts (xsd:duration), which would otherwise print
    rdflib's conversion traceback when pyshacl reads the graph. Made once (every file is checked)."""
    from owlrl.DatatypeHandling import AltXSDToPYTHON
    from rdflib.term import XSDToPython

    checks = {str(dt): f for dt, f in XSDToPython.items() if f is not None}
    checks.update((str(dt), f) for dt, f in AltXSDToPYTHON.items())
    checks.pop(XSD_STRING, None)
    return checks


_LONG_DIGITS = re.compile(r"\s*[+-]?[0-9]{4301,}\s*")  # sys.get_int_max_str_digits()


def _check_entities(data: bytes, path: Path) -> None:
    """Refuse RDF/XML whose entities would expand beyond MAX_ENTITY_EXPANSION (the "billion laughs"
    attack: 750 bytes of nested entities exhaust the memory of the XML parser), or that declares
    external or parameter entities (which would read other files). The expansion is counted, not
    done: an entity's size is its text plus the sizes of the entities it refers to (the largest of its
    declarations, if it is declared twice)."""

    if b"<!ENTITY" not in data:
        return
    text = data.decode("utf-8", errors="replace")
    refuse = "refused: {}; RDF/XML entities may only abbreviate text"
    decl = re.compile(r"<!ENTITY\s+(%\s*)?([^\s%\"'>]+)\s+(?:\"([^\"]*)\"|'([^']*)'|(SYSTEM|PUBLIC)\b)", re.S)
    entities: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    for m in decl.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        if m.group(1) or m.group(5):
            what = "is a parameter entity" if m.group(1) else "is external (it would read another file)"
            raise InputError(refuse.format(f"the entity {m.group(2)} {what}"), path=path, line=line)
        entities.setdefault(m.group(2), []).append(m.group(3) if m.group(3) is not None else m.group(4))
        lines.setdefault(m.group(2), line)
    ref = re.compile(r"&([^\s&;#]+);")
    sizes: dict[str, int] = {}

    def size(name: str, seen: tuple[str, ...] = ()) -> int:
        if name not in entities:
            return 0  # a predefined entity (&amp;) or an undeclared one, which the parser refuses
        if name in seen:
            raise InputError(refuse.format(f"the entity {name} refers to itself"), path=path, line=lines[name])
        if len(seen) >= MAX_ENTITY_DEPTH:
            raise InputError(refuse.format(f"the entity {name} is nested more than {MAX_ENTITY_DEPTH} deep"),
                             path=path, line=lines[name])
        if name not in sizes:
            sizes[name] = max(len(value) + sum(size(r, (*seen, name)) for r in ref.findall(value))
                              for value in entities[name])
            if sizes[name] > MAX_ENTITY_EXPANSION:
                raise InputError(refuse.format(f"the entity {name} expands to more than "
                                               f"{MAX_ENTITY_EXPANSION // (1024 * 1024)} MiB (an entity bomb)"),
                                 path=path, line=lines[name])
        return sizes[name]

    # the parser may expand every declared entity, used or not: all count, and then every reference
    body = text[text.rfind("]>") + 2:] if "]>" in text else text
    total = sum(size(name) for name in entities) + sum(size(name) for name in ref.findall(body))
    if total > MAX_ENTITY_EXPANSION:
        raise InputError(refuse.format(f"its entity references expand to more than "
                                       f"{MAX_ENTITY_EXPANSION // (1024 * 1024)} MiB (an entity bomb)"), path=path)


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def load(paths: Iterable[Path]) -> rdflib.Graph:
    """Parse the files into one rdflib graph."""
    return rdflib_graph(parse_files(paths))


def rdflib_graph(lines: Iterable[str], graph: rdflib.Graph | None = None,
                 convert: TermConverter | None = None) -> rdflib.Graph:
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


def ntriples(triple: tuple) -> str:
    """An rdflib triple as an N-Triples line, in the same canonical form as `parse_file` writes."""
    s, p, o = map(nt_term, triple)
    return f"{s} {p} {o} ."


def nt_term(term: rdflib.term.Node) -> str:
    """An rdflib term in the canonical N-Triples form that `parse_file` writes."""
    from jisr_kg.rdf.terms import rdflib_term, to_oxigraph

    return str(to_oxigraph(rdflib_term(term)))


class TermConverter:
    """pyoxigraph terms to rdflib terms, each distinct term converted once. `memo` maps each
    pyoxigraph term seen (whose str() is its N-Triples form) to its rdflib term."""

    def __init__(self) -> None:
        import rdflib

        self.rdflib = rdflib
        self.memo: dict[object, rdflib.term.Node] = {}

    def __call__(self, term: pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal) -> rdflib.term.Node:
        found = self.memo.get(term)
        if found is None:
            found = self.memo[term] = self._convert(term)
        return found

    def _convert(self, term: pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal) -> rdflib.term.Node:
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
