"""Export: byte-stable serialisations of the built dataset.

Every format is written from the triples in one sorted order (by their N-Triples form), so the same
graph always gives the same bytes: rdflib's own N-Triples, N-Quads, TriG, JSON-LD and RDF/XML follow
Python's per-process hash order. N-Triples, N-Quads and JSON-LD are written here; Turtle, TriG and
RDF/XML by Oxigraph, which keeps the order it is given (and is several times faster than rdflib's
serialisers). Blank nodes get their labels at load, the same in every run (`load.parse_file`).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

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


# ---------------------------------------------------------------- streams (what `build` writes)
# A release at 100 or 1000 times our data is several GB of text: each file is written as a stream, a
# few thousand lines at a time, so that memory holds the sorted lines and little more. The bytes are
# the same as those of `export` and `write_lines`.

CHUNK = 20000


def _chunks(lines: Iterable[str]) -> Iterator[str]:
    """N-Triples text of `lines`, CHUNK lines at a time (batched and joined in C: every export but
    JSON-LD reads the lines this way, some twice, and so does the search for the prefixes used)."""
    it = iter(lines)
    while batch := list(itertools.islice(it, CHUNK)):
        batch.append("")  # the last line's line feed, without a copy of the text to add it
        yield "\n".join(batch)


def stream_export(built: BuiltDataset, fmt: str, out: BinaryIO, *, infer: bool = False) -> None:
    """`export(built, fmt, infer=infer)`, written to `out` as a stream."""
    names = built.names(infer=infer)
    # the prefixes Oxigraph's serialisers are given: those the lines use, found once per graph (not
    # once per file: finding them read every line, a third of the time of a Turtle export)
    prefixes = _used_prefixes(built, names) if fmt in _OXIGRAPH_FORMATS else None

    def merged() -> Iterator[str]:
        return heapq.merge(*(built.lines[n] for n in names))

    if fmt in DATASET_FORMATS:
        stream_graphs([(name, built.lines[name]) for name in names], fmt, out, prefixes=prefixes)
    elif fmt == "xml" and all(_xml_safe(built, name) for name in names):
        # every graph is checked on its own, once (not merged again for each file): nothing to refuse
        _oxigraph_stream([(None, merged)], fmt, _CarriageReturns(out), prefixes)
    else:  # what stream_lines refuses for RDF/XML, it names as `export` does: the first in merged order
        stream_lines(merged, fmt, out, prefixes=prefixes)


_OXIGRAPH_FORMATS = frozenset({"turtle", "trig", "xml"})


def _used_prefixes(built: BuiltDataset, names: list[str]) -> set[str]:
    """The names of our prefixes whose namespace some IRI of the graphs `names` starts with."""
    found: set[str] = set()
    for name in names:
        found |= _graph_fact(built, "prefixes", name)  # type: ignore[arg-type]
    return found


def _xml_safe(built: BuiltDataset, name: str) -> bool:
    """Whether RDF/XML can carry every literal of the graph `name`."""
    return _graph_fact(built, "xml safe", name)  # type: ignore[return-value]


#: What the exports find out about a graph by reading every line of it, by kind.
_GRAPH_FACTS: dict[str, Callable[[Iterable[str]], object]] = {
    "prefixes": lambda lines: _prefixes_in(lines),
    "xml safe": lambda lines: _not_xml(lines) is None,
}


def _graph_fact(built: BuiltDataset, kind: str, name: str) -> object:
    """One of `_GRAPH_FACTS` of the graph `name`, found once and kept with the dataset."""
    key = f"{kind} {name}"
    if key not in built._derived:
        built._derived[key] = _GRAPH_FACTS[kind](built.lines[name])
    return built._derived[key]


def graph_facts(built: BuiltDataset, name: str) -> dict[str, object]:
    """Every one of `_GRAPH_FACTS` of the graph `name` (the prefixes its IRIs use, whether RDF/XML can
    carry it), worked out now and kept with `built`. The result can be given to another dataset of the
    same graph (`built._derived.update(...)`): `build` works this out for the asserted graph while a
    child derives the consensus view, then gives it to the datasets its children export from, so that
    none of them reads the graph for it again."""
    return {f"{kind} {name}": _graph_fact(built, kind, name) for kind in _GRAPH_FACTS}


def _prefixes_in(lines: Iterable[str]) -> set[str]:
    """The names of our prefixes whose namespace some IRI of the lines starts with (an IRI is "<...>"
    in a line, and a namespace holds no line feed, so chunks of lines can be searched whole)."""
    wanted = {p: "<" + ns for p, ns in PREFIXES.items()}
    found: set[str] = set()
    for chunk in _chunks(lines):
        found |= {p for p, marker in wanted.items() if p not in found and marker in chunk}
    return found


def stream_lines(lines: Callable[[], Iterable[str]], fmt: str, out: BinaryIO, *,
                 prefixes: set[str] | None = None) -> None:
    """`write_lines`, written to `out` as a stream; `lines` gives the sorted lines (it may be called
    twice: once to find the prefixes that are used, unless `prefixes` names them)."""
    if fmt in DATASET_FORMATS:
        stream_graphs([(None, lines())], fmt, out, prefixes=prefixes)
    elif fmt == "ntriples":
        for chunk in _chunks(lines()):
            out.write(chunk.encode("utf-8"))
    elif fmt == "jsonld":
        _jsonld_stream(lines(), out)
    elif fmt == "xml":
        _check_xml_chars(lines())  # as write_lines does, before a byte is written
        _oxigraph_stream([(None, lines)], fmt, _CarriageReturns(out), prefixes)
    elif fmt == "turtle":
        _oxigraph_stream([(None, lines)], fmt, out, prefixes)
    else:
        raise ValueError(f"unknown format {fmt!r}")


class _CarriageReturns:
    """`out` with every carriage return written as `&#13;`, as write_lines does for RDF/XML."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out

    def write(self, data: bytes) -> int:
        self.out.write(bytes(data).replace(b"\r", b"&#13;"))
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def stream_graphs(graphs: list[tuple[str | None, Iterable[str]]], fmt: str, out: BinaryIO, *,
                  prefixes: set[str] | None = None) -> None:
    """`write_graphs`, written to `out` as a stream (each graph's lines are read once, or twice for TriG
    unless `prefixes` names the prefixes they use)."""
    graphs = sorted(graphs, key=lambda g: g[0] or "")
    if fmt == "nquads":
        def quads(name: str | None, lines: Iterable[str]) -> Iterator[str]:
            return iter(lines) if name is None else (f"{line[:-1]}<{name}> ." for line in lines)

        for chunk in _chunks(heapq.merge(*(quads(name, lines) for name, lines in graphs))):
            out.write(chunk.encode("utf-8"))
    elif fmt == "trig":
        _oxigraph_stream([(name, (lambda ls=lines: ls)) for name, lines in graphs], fmt, out, prefixes)
    else:
        raise ValueError(f"{fmt!r} is not a dataset format")


def _oxigraph_stream(graphs: list[tuple[str | None, Callable[[], Iterable[str]]]], fmt: str, out: BinaryIO,
                     used: set[str] | None = None) -> None:
    """Lines to Oxigraph's serialiser, with the prefixes the data uses (`used`: found already)."""
    import pyoxigraph as ox

    # the namespaces of our prefixes that some IRI of the data starts with (an IRI is "<...>" in a line)
    found: set[str] = {p for p, ns in PREFIXES.items() for n, _ in graphs if n and n.startswith(ns)}
    if used is not None:
        found |= used
    else:
        for _, lines in graphs:
            found |= _prefixes_in(lines())
    prefixes = {p: ns for p, ns in PREFIXES.items() if p in found}
    syntax = ox.RdfFormat.N_QUADS if fmt == "trig" else ox.RdfFormat.N_TRIPLES

    def parsers() -> Iterator[Iterator]:  # one Oxigraph parser per chunk of lines, in their order
        for name, lines in graphs:
            for chunk in _chunks(lines()):
                if name is not None and fmt == "trig":
                    # each line as an N-Quad of the graph: " .\n" only ends a line, since the lines hold
                    # no line feed (N-Triples writes one in a literal as \n)
                    chunk = chunk.replace(" .\n", f" <{name}> .\n")
                yield ox.parse(chunk.encode("utf-8"), format=syntax)

    # the parsers' triples (or quads) go straight to the serialiser, chained in C: no Python object is
    # made per triple but the one Oxigraph makes
    ox.serialize(itertools.chain.from_iterable(parsers()), output=out,
                 format=getattr(ox.RdfFormat, formats.rdf(fmt).oxigraph), prefixes=prefixes)


def _parse(lines: list[str]):  # pyoxigraph triples, in the order of the lines
    import pyoxigraph as ox

    return ox.parse("\n".join(lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)


#: A character XML 1.0 cannot carry at all, not even as a reference (its Char production), as
#: Oxigraph's canonical N-Triples escapes it: \u0001, or \b and \f for U+0008 and U+000C (and not
#: after an escaped backslash).
_NOT_XML = re.compile(r"(?<!\\)(?:\\\\)*\\(?:u(000[0-8BCEF]|001[0-9A-F]|FFF[EF])|(b)|(f))")


def _check_xml_chars(lines: Iterable[str]) -> None:
    """Refuse RDF/XML for data that XML 1.0 cannot carry (decision 20): a literal with a control
    character such as U+0001 would make the file ill-formed, and no XML parser would read it."""
    bad = _not_xml(lines)
    if bad is not None:
        from jisr_kg.errors import JisrError
        from jisr_kg.pipeline.reason import split

        line, found = bad
        code = found.group(1) or ("0008" if found.group(2) else "000C")
        s, p, o = split(line)
        where = " ".join(_curie(t[1:-1]) if t.startswith("<") else t for t in (s, p))
        literal = o if len(o) <= 60 else o[:59] + "…"
        raise JisrError(f"RDF/XML cannot carry the literal {literal} (the object of {where}): "
                        f"XML 1.0 has no way to write U+{code}; use another format, or "
                        "remove the character from the data")


def _not_xml(lines: Iterable[str]) -> tuple[str, re.Match[str]] | None:
    """The first line with a character XML 1.0 cannot carry, and where it is in the line."""
    for line in lines:
        if "\\" in line:  # in few lines (and a search for one character is the fastest)
            found = _NOT_XML.search(line)
            if found:
                return line, found
    return None


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


def _jsonld(triples) -> bytes:  # pyoxigraph triples, sorted
    """Compact JSON-LD: our prefixes as the context, one node object per subject, in sorted order."""
    import pyoxigraph as ox

    curie: dict[str, str] = {}  # each IRI compacted once: most recur many times
    values: dict[object, dict[str, str]] = {}

    def short(iri: str) -> str:
        found = curie.get(iri)
        if found is None:
            found = curie[iri] = _curie(iri)
        return found

    def value(t) -> dict[str, str]:
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


def _jsonld_stream(lines: Iterable[str], out: BinaryIO) -> None:
    """`_jsonld` of the sorted N-Triples lines, one node object at a time: the lines are sorted, so each
    subject's triples are together, and the bytes are those of json.dumps(doc, indent=2) of the whole
    document.

    Each node is written as json.dumps(node, ensure_ascii=False, indent=2) writes it, but put together
    here from its strings (each escaped by json's own C function): with `indent`, json.dumps runs its
    pure-Python encoder, which took most of the time of the JSON-LD export. The terms are read from the
    lines with string operations, not parsed into pyoxigraph terms (a Python object per term took most
    of what was left). The shapes are few and fixed (a node: "@id", "@type" and properties, each a
    list; a value: an object of strings), and tests/test_large_build.py compares the two on every node
    of our data and on hostile literals."""
    head = json.dumps({"@context": dict(PREFIXES), "@graph": []}, ensure_ascii=False, indent=2)
    assert head.endswith('"@graph": []\n}')
    quote = _json_string
    # what a term is written as, each distinct term once (most recur many times); the caches are
    # emptied when large, since terms recur within a neighbourhood, to keep memory bounded
    # (an object is taken with the " ." that ends its line)
    keys: dict[str, str] = {}  # a predicate, as a node's key
    types: dict[str, str] = {}  # an rdf:type object, as an item of "@type"
    values: dict[str, str] = {}  # any other object, as an item of a property's list

    def key_of(p: str) -> str:
        if len(keys) > _RENDERED_MAX:
            keys.clear()
        found = keys[p] = quote(_curie(p[1:-1]))
        return found

    def type_of(o: str) -> str:
        if len(types) > _RENDERED_MAX:
            types.clear()
        found = types[o] = _ITEM_INDENT + quote(_curie(o[1:-3]))
        return found

    def value_of(term: str) -> str:
        if len(values) > _RENDERED_MAX:
            values.clear()
        o = term[:-2]
        if o[0] == "<":
            members = f'{_VALUE_INDENT}"@id": {quote(_curie(o[1:-1]))}'
        elif o[0] == "_":
            members = f'{_VALUE_INDENT}"@id": {quote(o)}'
        else:  # a literal: "lexical form", then @language or ^^<datatype> or nothing
            close = o.rindex('"')  # a language or an IRI holds no quote
            lexical, tail = o[1:close], o[close + 1 :]
            if "\\" in lexical:  # escaped in N-Triples (most are not): the value is the unescaped text
                lexical = _unescape(lexical)
            members = f'{_VALUE_INDENT}"@value": {quote(lexical)}'
            if tail[:1] == "@":
                members += f',{_VALUE_INDENT}"@language": {quote(tail[1:])}'
            elif tail and tail[3:-1] != XSD_STRING:
                members += f',{_VALUE_INDENT}"@type": {quote(_curie(tail[3:-1]))}'
        found = values[term] = f"{_ITEM_INDENT}{{{members}{_ITEM_INDENT}}}"
        return found

    before = head[: -len("]\n}")]  # what comes before the nodes not written yet
    parts: list[str] = []  # the nodes not written yet
    node_id = ""
    props: dict[str, list[str]] = {}
    subject = None

    def node(node_id: str, props: dict[str, list[str]]) -> str:
        members = [f"{_KEY_INDENT}\"@id\": {node_id}"]
        members += [f"{_KEY_INDENT}{k}: [{','.join(items)}{_KEY_INDENT}]" for k, items in props.items()]
        return f"{_BASE_INDENT}{{{','.join(members)}{_BASE_INDENT}}}"

    rdf_type = _TYPE
    keys_get, types_get, values_get = keys.get, types.get, values.get
    for line in lines:
        s, p, o = line.split(" ", 2)  # a subject or a predicate holds no space
        if s != subject:
            if subject is not None:
                parts.append(node(node_id, props))
                if len(parts) >= 1000:
                    out.write((before + ",".join(parts)).encode("utf-8"))
                    before, parts = ",", []
            subject = s
            node_id = quote(_curie(s[1:-1]) if s[0] == "<" else s)
            props = {}
        if p == rdf_type and o[0] == "<":
            props.setdefault('"@type"', []).append(types_get(o) or type_of(o))
        else:
            props.setdefault(keys_get(p) or key_of(p), []).append(values_get(o) or value_of(o))
    if subject is None:
        out.write((head + "\n").encode("utf-8"))
        return
    parts.append(node(node_id, props))
    out.write((before + ",".join(parts) + "\n  ]\n}\n").encode("utf-8"))


# A node object of "@graph" as json.dumps(..., indent=2) indents it there: its members at 6 spaces,
# their list items at 8, a value object's members at 10, each closing bracket at its opener's depth.
_BASE_INDENT = "\n    "
_KEY_INDENT = _BASE_INDENT + "  "
_ITEM_INDENT = _KEY_INDENT + "  "
_VALUE_INDENT = _ITEM_INDENT + "  "
_RENDERED_MAX = 100000  # the renderings of terms _jsonld_stream keeps, of each kind


def _json_string(text: str) -> str:
    """A string as json.dumps(..., ensure_ascii=False) writes it."""
    return _ENCODE(text)


_ENCODE = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _unescape(lexical: str) -> str:
    """A literal's lexical form as N-Triples writes it, unescaped: its value."""
    return _ESCAPE.sub(lambda m: _ECHARS.get(m.group(1)) or chr(int(m.group(1)[1:], 16)), lexical)


_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[tbnrf\"'\\])")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


RDF_TYPE = RDF + "type"


def _curie(iri: str) -> str:
    """A compact IRI where a prefix fits and the rest cannot be misread; else the full IRI.

    Every namespace of our prefixes ends with "/" or "#", so the prefixes that fit an IRI are those
    that fit its part up to its last "/" or "#", and so is the misreading ("//" after the namespace):
    each such part is compacted once (trying every prefix on every IRI took a third of the JSON-LD
    export)."""
    stem = iri[: max(iri.rfind("/"), iri.rfind("#")) + 1]
    short = _prefixed_stem(stem)
    return iri if short is None else short + iri[len(stem) :]


@functools.lru_cache(maxsize=4096)
def _prefixed_stem(stem: str) -> str | None:
    return prefixed(stem)


assert all(ns.endswith(("/", "#")) for ns in PREFIXES.values()), "_curie needs namespaces that end with / or #"


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


def consensus_lines(built: BuiltDataset) -> Iterator[str]:
    """`consensus_graph(built)` as a stream: only the rdf:type lines are split (a subject is the
    line's first term, which holds no space), so memory holds two sets of subjects, not every triple.

    Where the graphs' lines are in memory, the view is kept with the dataset, as a list of the same
    strings (8 bytes a line): its Turtle file reads it twice, once for the prefixes it declares, and
    choosing its lines took a third of that file's time each time."""
    from jisr_kg.pipeline.reason import split

    if "consensus lines" in built._derived:
        return iter(built._derived["consensus lines"])
    apparatus: set[str] = set()
    quantities: set[str] = set()
    marker = f" {_TYPE} "
    for line in built.lines[ASSERTED_GRAPH]:
        if marker in line:
            s, p, o = split(line)
            if p == _TYPE and o in CLAIM_APPARATUS:
                apparatus.add(s)
            if p == _TYPE and o == _QV:
                quantities.add(s)
    numbers = {o for _s, _p, o in map(split, built.lines[CONSENSUS_GRAPH]) if o in quantities}
    dropped = apparatus - numbers
    kept = (line for line in built.lines[ASSERTED_GRAPH] if line[: line.index(" ")] not in dropped)
    view = heapq.merge(kept, built.lines[CONSENSUS_GRAPH])
    if not all(isinstance(built.lines[name], list) for name in (ASSERTED_GRAPH, CONSENSUS_GRAPH)):
        return view  # read from files: kept, the view would be new strings
    built._derived["consensus lines"] = lines = list(view)
    return iter(lines)
