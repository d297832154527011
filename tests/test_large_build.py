"""What a large build does differently to bound its memory (docs/decisions/0022-build-memory.md) gives
the same bytes as the small path: the release written from the cache entry's files, the lines read back
from a file, the rules reasoner reading only the triples a rule can use, the VoID counts made as the
lines go by."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from jisr_kg.pipeline import build, cache, validate
from jisr_kg.pipeline.build import build_release


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_large_release_is_written_from_the_cache_files_with_the_same_bytes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = build_release(tmp_path / "small")
    used: list[str] = []
    file_backed = cache.file_backed

    def spy(key: str):  # returns dataset.BuiltDataset or None
        used.append(key)
        return file_backed(key)

    # what happens above 3 million triples, here with our data: the release and the validation both
    # read the entry's files (and the validator its on-disk store)
    monkeypatch.setattr(build, "RELEASE_FROM_FILES_MIN", 0)
    monkeypatch.setattr(validate, "IN_MEMORY_MAX", 0)
    monkeypatch.setattr(cache, "file_backed", spy)
    # a new output folder, so that the release is written again (the validation report comes from the
    # cache, so validate once more without it, on the files)
    large = build_release(tmp_path / "large")
    assert used, "the release was not written from the cache files"
    assert _digests(tmp_path / "large") == _digests(tmp_path / "small")
    assert (large.triples, large.violations, large.warnings) == (small.triples, small.violations, small.warnings)
    on_files = cache.file_backed(used[0])
    assert on_files is not None
    report = validate.validate_dataset(on_files, use_cache=False)
    assert report.results == validate.validate_dataset(build.build_dataset(), use_cache=False).results


def test_file_lines_give_back_every_line_across_blocks(tmp_path: Path) -> None:
    from jisr_kg.pipeline.dataset import FileLines

    # multi-byte characters, a U+2028 (not a line end in N-Triples) and lines that cross the 1 MiB blocks
    lines = [f'<http://example.org/s{i}> <http://example.org/p> "ḩalab \u2028 {"x" * (i % 997)}" .'
             for i in range(6000)]
    path = tmp_path / "g.nt"
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))
    assert path.stat().st_size > 3 * (1 << 20)
    read = FileLines(path, len(lines))
    assert len(read) == len(lines)
    assert list(read) == lines
    assert list(read) == lines  # read again, from the start


def test_the_lines_reader_gives_oxigraph_the_lines() -> None:
    import pyoxigraph as ox

    from jisr_kg.pipeline.dataset import LinesReader

    lines = [f"<http://example.org/s{i}> <http://example.org/p> \"{i} \u00e9\" ." for i in range(50001)]
    store = ox.Store()
    store.load(input=LinesReader(iter(lines), chunk=7), format=ox.RdfFormat.N_TRIPLES)
    assert sorted(f"{q.subject} {q.predicate} {q.object} ." for q in store) == sorted(lines)


def test_void_counts_as_the_lines_go_by_equal_counting_them_all(built) -> None:
    import heapq

    from jisr_kg.pipeline.void import GraphCounts

    def counted(lines: list[str]) -> tuple[int, ...]:
        terms = [line.split(" ", 2) for line in lines]
        return len(lines), len({t[0] for t in terms if t[0].startswith("<")}), len({t[1] for t in terms})

    def got(c: GraphCounts) -> tuple[int, ...]:
        return c.triples, len(c.subjects), len(c.properties)

    graphs = [built.lines[name] for name in built.names()]
    for lines in graphs:
        assert got(GraphCounts.of(iter(lines))) == counted(lines)
    # the dataset's counts, from the graphs' (which share no triple), are those of all the lines
    union = list(heapq.merge(*graphs))
    assert got(GraphCounts.union(GraphCounts.of(lines) for lines in graphs)) == counted(union)


def test_the_rules_read_only_the_triples_a_rule_can_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """A triple whose predicate no rule reads or derives is never split into terms; the entailments
    are those of the whole graph (tests/test_reasoning.py compares them with owlrl's)."""
    from jisr_kg.pipeline import reason

    ex = "http://example.org/"
    a = f"<{reason.rules.RDF}type>"
    lines = {
        f"<{ex}p> <{reason.rules.RDFS}domain> <{ex}C> .",
        f"<{ex}x> <{ex}p> <{ex}y> .",
        f'<{ex}x> <{ex}note> "a note" .',  # no rule reads ex:note
    }
    seen: list[tuple[str, str, str]] = []
    instances = reason._instances

    def spy(given: Iterable[str], used: set[str]) -> Iterator[tuple[str, str, str]]:
        for t in instances(given, used):
            seen.append(t)
            yield t

    monkeypatch.setattr(reason, "_instances", spy)
    inferred = reason.entailments(lines)
    assert f"<{ex}x> {a} <{ex}C> ." in inferred
    assert not [line for line in inferred if f"<{ex}note>" in line]
    assert [t[1] for t in seen] == [f"<{ex}p>"]


def test_unsafe_lines_reads_any_iterable() -> None:
    from jisr_kg.pipeline import shacl_sparql

    bad = '<http://example.org/s> <http://example.org/p> "1791.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .'
    good = [f'<http://example.org/s{i}> <http://example.org/p> "{i}"^^<http://www.w3.org/2001/XMLSchema#integer> .'
            for i in range(45000)]
    for lines in ([*good, bad], [bad, *good], good):
        assert shacl_sparql.unsafe_lines([iter(lines)]) == shacl_sparql.unsafe_lines([lines])
        assert (shacl_sparql.unsafe_lines([iter(lines)]) is None) == (bad not in lines)


@pytest.mark.parametrize("infer", [False, True])
def test_the_json_ld_stream_is_json_dumps_of_the_whole_document(built, infer: bool) -> None:
    """The streamed JSON-LD puts each node together from its strings: the bytes must stay those of
    json.dumps(doc, ensure_ascii=False, indent=2) of the whole document (`export._jsonld`)."""
    import io

    from jisr_kg.pipeline import export

    out = io.BytesIO()
    export.stream_export(built, "jsonld", out, infer=infer)
    assert out.getvalue() == export.export(built, "jsonld", infer=infer)
    # and on nodes with every kind of value: a blank node, a language, a datatype, quotes and controls
    lines = sorted([
        '<http://example.org/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/C> .',
        '<http://example.org/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "not a class" .',
        '<http://example.org/a> <http://example.org/p> _:b0 .',
        '<http://example.org/a> <http://example.org/p> "x \\"q\\" \\u0001 \\t ḩ"@ar .',
        '<http://example.org/a> <http://example.org/q> "5"^^<http://www.w3.org/2001/XMLSchema#integer> .',
        '_:b0 <http://example.org/p> "plain" .',
    ])
    out = io.BytesIO()
    export.stream_lines(lambda: iter(lines), "jsonld", out)
    assert out.getvalue() == export.write_lines(lines, "jsonld")


@pytest.mark.parametrize("fmt", ["turtle", "trig", "xml"])
def test_the_prefixes_found_once_per_graph_are_those_of_each_file(built, fmt: str) -> None:
    """`stream_export` finds the prefixes of each graph once and gives the union to each file: every
    file declares exactly the prefixes its own triples use, as `export` (which searches its text) does."""
    import io

    from jisr_kg.pipeline import export

    for infer in (False, True, False):  # the second asserted-only file uses what the first found
        out = io.BytesIO()
        export.stream_export(built, fmt, out, infer=infer)
        assert out.getvalue() == export.export(built, fmt, infer=infer)


def _unsafe_by_regex(graphs) -> str | None:  # the scan as it was: the regular expression over the text
    from jisr_kg.pipeline import shacl_sparql

    for lines in graphs:
        for m in shacl_sparql._TYPED.finditer("\n".join(lines)):
            if m.group(2) != "string" and shacl_sparql.unsafe_literal(m.group(1), m.group(2)):
                return f"the data has {m.group(0)[:80]}, which the store would rewrite"
    return None


def test_the_literal_scan_finds_what_the_regular_expression_finds(built) -> None:
    """`unsafe_lines` finds typed XSD literals by string search, line by line: the same first
    literal, so the same choice of validator and the same note, as the regular expression it replaced."""
    from jisr_kg.pipeline import shacl_sparql

    xsd = "http://www.w3.org/2001/XMLSchema#"
    ours = [line for name in built.names() for line in built.lines[name]]
    tricky = [
        f'<http://e.org/a> <http://e.org/p> "a \\"1.0\\"^^<{xsd}decimal> b" .',  # the form inside a plain literal
        f'<http://e.org/a> <http://e.org/p> "a \\"1.0\\"^^<{xsd}decimal> b"@en .',
        f'<http://e.org/a> <http://e.org/p> "x \\"1.0\\"^^<{xsd}decimal> y"^^<http://e.org/t> .',
        f'_:b1 <http://e.org/p> "q\\\\"^^<{xsd}integer> .',  # an escaped backslash before the closing quote
        f'<http://e.org/a> <http://e.org/p> "2"^^<{xsd}gYear2> .',  # not a name of letters
        f'<http://e.org/a> <http://e.org/p> ""^^<{xsd}integer> .',
        f'<http://e.org/a> <http://e.org/p> "1"^^<{xsd}string> .',
    ]
    bad = [f'<http://e.org/a> <http://e.org/p> "{lex}"^^<{xsd}{name}> .'
           for lex, name in [("1791.0", "decimal"), ("01", "integer"), ("1.5", "float"), ("true ", "boolean"),
                             ("2011-06-04T10:00:00.0Z", "dateTime"), ("x", "integer")]]
    cases = [[ours], [tricky], [ours, tricky]] + [[ours[:500], [*tricky, b], ours[500:]] for b in bad]
    for graphs in cases:
        assert shacl_sparql.unsafe_lines(iter(g) for g in graphs) == _unsafe_by_regex(graphs)
    assert any(_unsafe_by_regex([[b]]) for b in bad)


# Lines no export of our data has yet: Oxigraph's canonical N-Triples (what the lines are, as load.py
# makes them) of every kind of term, with every escape N-Triples writes and the characters JSON escapes.
_HOSTILE_TURTLE = r'''
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix schema: <https://schema.org/> .
@prefix jkg: <https://w3id.org/jisr-kg/ontology#> .
@prefix claim: <https://w3id.org/jisr-kg/id/claim/> .

ex:a a ex:C, schema:Event, "not a class", _:t ;
    ex:q "quote \" backslash \\ and \\\" and a line\nfeed, \r return, \t tab, U+007F \u007F, U+0085 \u0085" ;
    ex:q "controls \b \f \u0000 \u0001 \u001F \uFFFE", "a \\u0041 that is not an escape", "\\" ;
    ex:q "non-BMP \U0001F600 \U00010348, U+2028 \u2028, U+FEFF \uFEFF, U+FFFD \uFFFD, ḩalab حلب" ;
    ex:q "ends with a space and a dot .", "a .\nline feed . <http://example.org/g> .", " ." , "" ;
    ex:q "tag"@en-Latn-US, "tag"@ar-x-private, "tag"@AR, ""@en, "\"quoted\"\n"@en-GB ;
    ex:q "5"^^xsd:integer, "x"^^ex:dt, "y"^^<urn:x:dt>, "z"^^xsd:string, "w"^^rdf:HTML, "\\ \""^^ex:dt ;
    ex:q 1.5, true, "2011-06-04T10:00:00Z"^^xsd:dateTime ;
    ex:q _:b0, <http://example.org/%C3%A9%20x>, <http://example.org/\u00e9>, <urn:isbn:0451450523> ;
    ex:q <https://schema.org//name>, <https://schema.org/>, <https://schema.org/a/b#c>, claim:c1 ;
    <http://example.org/p#with/slash> <http://www.w3.org/2002/07/owl#a/b> ;
    jkg:note """a long literal:
""" .
_:b0 ex:p "blank subject", _:b1 ; a _:t .
_:b1 ex:p _:b0 .
<urn:x> ex:p ex:a .
claim:c1 jkg:p claim:c2 ; rdf:value "1"^^xsd:integer .
<https://w3id.org/jisr-kg/id/claim/> a jkg:Claim .
'''


def _hostile_lines() -> list[str]:
    import pyoxigraph as ox

    long = "ḩ\"\\\n\u0001x " * 3000  # a literal longer than any chunk of the parser reads
    text = _HOSTILE_TURTLE + f'<http://example.org/long> <http://example.org/q> "{_turtle_escape(long)}" .\n'
    triples = ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    return sorted({f"{t.subject} {t.predicate} {t.object} ." for t in triples})


def _turtle_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\u0001", "\\u0001")


def test_the_hostile_lines_are_what_they_claim() -> None:
    """The lines the tests below use do hold what they are there for."""
    lines = _hostile_lines()
    text = "\n".join(lines)
    for needle in ['\\"', "\\\\", "\\n", "\\r", "\\t", "\\b", "\\f", "\\u0001", "\\u007F", "\\\\u0041", "😀", "\u2028",
                   "@en-latn-us", "^^<http://example.org/dt>", "_:b0 <", "> _:b1 .", "<http://example.org/é>", " .\\n"]:
        assert needle in text, needle
    assert len(max(lines, key=len)) > 20000


def test_the_json_ld_of_hostile_lines_is_json_dumps_of_the_parsed_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    """JSON-LD is written from the lines' text, not from parsed terms: every escape of N-Triples read
    back, every character JSON escapes escaped, as json.dumps of the document built from Oxigraph's
    parse (`export.write_lines`) writes them."""
    import io
    import json

    from jisr_kg.pipeline import export

    lines = _hostile_lines()
    out = io.BytesIO()
    export.stream_lines(lambda: iter(lines), "jsonld", out)
    assert out.getvalue() == export.write_lines(lines, "jsonld")
    values = [v["@value"] for node in json.loads(out.getvalue())["@graph"] for vs in node.values()
              if isinstance(vs, list) for v in vs if isinstance(v, dict) and "@value" in v]
    assert "a \\u0041 that is not an escape" in values and "\\" in values
    # what Oxigraph does not write but N-Triples allows: other escapes, xsd:string written out
    more = sorted([*lines, '<http://e.org/z> <http://e.org/p> "\\U0001F600 \\\' \\u00e9" .',
                   '<http://e.org/z> <http://e.org/p> "z"^^<http://www.w3.org/2001/XMLSchema#string> .'])
    out = io.BytesIO()
    export.stream_lines(lambda: iter(more), "jsonld", out)
    assert out.getvalue() == export.write_lines(more, "jsonld")
    # every literal its own way, with the caches emptied on the way, and with no line at all
    monkeypatch.setattr(export, "_RENDERED_MAX", 2)
    for part in ([], lines[:1], lines[:7], lines):
        out = io.BytesIO()
        export.stream_lines(lambda p=part: iter(p), "jsonld", out)
        assert out.getvalue() == export.write_lines(part, "jsonld")


def test_the_json_ld_stream_renders_each_distinct_term_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A term that recurs is rendered once, until the cache of its kind is full and emptied."""
    import io

    from jisr_kg.pipeline import export

    unescaped: list[str] = []
    unescape = export._unescape

    def spy(lexical: str) -> str:
        unescaped.append(lexical)
        return unescape(lexical)

    monkeypatch.setattr(export, "_unescape", spy)
    lines = [f'<http://e.org/s{i:02}> <http://e.org/p> "a\\"b"@en .' for i in range(50)]
    lines += [f'<http://e.org/s{i:02}> <http://e.org/q> "c\\nd" .' for i in range(50)]
    lines.sort()
    export.stream_lines(lambda: iter(lines), "jsonld", io.BytesIO())
    assert sorted(unescaped) == ['a\\"b', "c\\nd"]
    monkeypatch.setattr(export, "_RENDERED_MAX", 0)
    unescaped.clear()
    out = io.BytesIO()
    export.stream_lines(lambda: iter(lines), "jsonld", out)
    assert len(unescaped) > 2 and out.getvalue() == export.write_lines(lines, "jsonld")


def test_unescaping_reads_every_escape_of_n_triples() -> None:
    """What Oxigraph never writes but N-Triples allows (\\U, \\', a lower-case \\u) is read too."""
    import pyoxigraph as ox

    from jisr_kg.pipeline import export

    for lexical in ["\\U0001F600\\u00e9\\u00E9", "\\'", "\\\\U0001F600", "a\\\\\\\"b", "\\b\\f\\n\\r\\t"]:
        (t,) = ox.parse(f'<http://e.org/s> <http://e.org/p> "{lexical}" .'.encode(), format=ox.RdfFormat.N_TRIPLES)
        assert export._unescape(lexical) == t.object.value, lexical


def test_compact_iris_are_those_of_prefixed() -> None:
    """`_curie` compacts each namespace part once: the same as trying every prefix on the IRI."""
    from jisr_kg.pipeline import export
    from jisr_kg.rdf.namespaces import PREFIXES
    from jisr_kg.rdf.terms import prefixed

    iris = [t[1:-1] for line in _hostile_lines() for t in line.split(" ") if t.startswith("<") and t.endswith(">")]
    for ns in PREFIXES.values():
        iris += [ns, ns + "x", ns + "/x", ns + "//x", ns + "a/b", ns + "a#b", ns + "#", ns[:-1], ns + "x/"]
    iris += ["urn:x", "", "/", "#", "http:", "https://schema.org//", "http://example.org/a#b/c"]
    for iri in iris:
        assert export._curie(iri) == (prefixed(iri) or iri), iri


@pytest.mark.parametrize("fmt", ["turtle", "xml", "trig"])
def test_oxigraph_formats_of_hostile_lines_are_those_of_the_parsed_terms(
        fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Turtle, RDF/XML and TriG are written from Oxigraph's parsers chained to its serialiser (TriG from
    N-Quads made by adding the graph's name to each line): the bytes of the terms parsed and put in
    quads one by one (`export.write_lines`, `export.write_graphs`), across chunks of any size."""
    import io

    from jisr_kg.pipeline import export

    lines = _hostile_lines()
    if fmt == "xml":  # RDF/XML cannot carry these (test_input.py: it refuses them)
        lines = [line for line in lines if not export._NOT_XML.search(line)]
        assert any("\\r" in line for line in lines)
    other = [line.replace("<http://example.org/a>", "<http://example.org/other>") for line in lines]
    for chunk in (3, 7, export.CHUNK):
        monkeypatch.setattr(export, "CHUNK", chunk)
        if fmt == "trig":
            graphs: list[tuple[str | None, list[str]]] = [
                ("https://w3id.org/jisr-kg/graph/b", lines), (None, other), ("http://example.org/g", sorted(other))]
            out = io.BytesIO()
            export.stream_graphs(graphs, fmt, out)  # lists: read twice, for the prefixes first
            assert out.getvalue() == export.write_graphs(graphs, fmt)
        else:
            out = io.BytesIO()
            export.stream_lines(lambda: iter(lines), fmt, out)
            assert out.getvalue() == export.write_lines(lines, fmt)


def test_rdf_xml_refuses_every_character_xml_cannot_carry() -> None:
    """Oxigraph writes U+0008 and U+000C as \\b and \\f, the others as \\u0001: RDF/XML is refused for
    each (decision 20), by `export` and by the stream, and not for an escaped backslash before a b."""
    import io

    from jisr_kg.errors import JisrError
    from jisr_kg.pipeline import export

    for char in [*range(0x9), 0xB, 0xC, *range(0xE, 0x20), 0xFFFE, 0xFFFF]:
        line = f'<http://e.org/a> <http://e.org/p> {ox_literal("x" + chr(char) + "y")} .'
        with pytest.raises(JisrError, match=f"XML 1.0 has no way to write U\\+{char:04X};"):
            export.write_lines([line], "xml")
        with pytest.raises(JisrError, match=f"XML 1.0 has no way to write U\\+{char:04X};"):
            export.stream_lines(lambda line=line: iter([line]), "xml", io.BytesIO())
    for text in ["\\b", "\\f", "\\u0001", "\t\n\r\u007f\u0085", "\\\t"]:  # no character it cannot carry
        line = f'<http://e.org/a> <http://e.org/p> {ox_literal(text)} .'
        out = io.BytesIO()
        export.stream_lines(lambda line=line: iter([line]), "xml", out)
        assert out.getvalue() == export.write_lines([line], "xml")



def test_rdf_xml_of_a_dataset_refuses_the_first_literal_in_merged_order() -> None:
    """`stream_export` checks each graph on its own (once, kept with the dataset); where one holds what
    XML cannot carry, it names the literal `export` names: the first of the merged lines."""
    import io

    from jisr_kg.errors import JisrError
    from jisr_kg.pipeline import export
    from jisr_kg.pipeline.dataset import GRAPHS, BuiltDataset

    def line(s: str, text: str) -> str:
        return f"<http://e.org/{s}> <http://e.org/p> {ox_literal(text)} ."

    asserted, consensus, inferred = GRAPHS
    built = BuiltDataset({asserted: [line("a", "ok"), line("c", "in asserted \x01")], consensus: [line("b", "ok")],
                          inferred: [line("b", "in inferred \x0c")]}, "")
    for infer, named in ((True, "in inferred"), (False, "in asserted"), (True, "in inferred")):
        with pytest.raises(JisrError, match=named) as streamed:
            export.stream_export(built, "xml", io.BytesIO(), infer=infer)
        with pytest.raises(JisrError) as whole:
            export.export(built, "xml", infer=infer)
        assert str(streamed.value) == str(whole.value)
    built.lines[asserted][1] = line("c", "fine")
    built.lines[inferred][0] = line("b", "fine")
    built._derived.clear()
    for infer in (True, False, True):
        out = io.BytesIO()
        export.stream_export(built, "xml", out, infer=infer)
        assert out.getvalue() == export.export(built, "xml", infer=infer)



def test_the_consensus_view_is_kept_only_where_the_lines_are_in_memory(built) -> None:
    """`consensus_lines` gives `consensus_graph` every time: kept with a dataset whose lines are lists,
    chosen again from lines read from files."""
    from jisr_kg.pipeline import export
    from jisr_kg.pipeline.dataset import BuiltDataset, FileLines

    expected = export.consensus_graph(built)
    fresh = BuiltDataset(dict(built.lines), built.key)
    assert list(export.consensus_lines(fresh)) == expected
    assert fresh._derived["consensus lines"] == expected
    assert list(export.consensus_lines(fresh)) == expected

    class Files(FileLines):  # what cache.file_backed gives: lines read again from a file each time
        def __init__(self, lines: list[str]) -> None:
            self.lines = lines

        def __iter__(self):  # Iterator[str]
            return iter(self.lines)

    on_files = BuiltDataset({name: Files(list(lines)) for name, lines in built.lines.items()}, built.key)
    for _ in range(2):
        assert list(export.consensus_lines(on_files)) == expected
    assert "consensus lines" not in on_files._derived


def ox_literal(text: str) -> str:
    """A literal as Oxigraph's canonical N-Triples writes it."""
    import pyoxigraph as ox

    return str(ox.Literal(text))
