"""Input as RDF means it, and bad input as a one-line refusal: blank nodes scoped per file, relative
IRIs against one fixed base, parser limits that keep an entity bomb or a huge literal from eating the
memory, ill-typed literals refused the same way whichever reasoner runs, and RDF/XML output that is
well-formed XML or not written at all (decision 20)."""

from __future__ import annotations

import csv
import io
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

ID = "https://w3id.org/jisr-kg/id/"
#: The address space a command may use in the tests of parser limits: a few times what a build of
#: our data needs, so that a regression fails with MemoryError (or a signal) instead of eating the machine.
MEMORY_LIMIT = 3 << 30


def run(*args: str, cwd: Path, cache: Path, stdin: str | None = None,
        limit: int | None = MEMORY_LIMIT) -> subprocess.CompletedProcess[str]:
    """`jisr-kg ARGS` in `cwd` with its own cache, under a memory limit."""

    def cap() -> None:
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "jisr_kg", "--quiet", *args], input=stdin, capture_output=True, text=True,
        cwd=cwd, env={**os.environ, "JISR_KG_CACHE": str(cache)}, preexec_fn=cap, timeout=600,
    )


def rows(result: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command's refusal: exit 2 and one line on stderr (not a traceback, not a signal)."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- blank nodes and relative IRIs


def test_the_same_blank_node_label_in_two_files_is_two_nodes(tmp_path: Path) -> None:
    write(tmp_path / "d" / "a.ttl", '_:x <http://example.org/name> "from a" .\n')
    write(tmp_path / "d" / "b.ttl", '_:x <http://example.org/name> "from b" .\n')
    r = run("--data", "d", "query", "-", "--format", "csv", cwd=tmp_path, cache=tmp_path / "cache",
            stdin="SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s <http://example.org/name> ?o }")
    assert rows(r) == [{"n": "2"}]


def test_blank_nodes_get_the_same_labels_in_every_build(tmp_path: Path) -> None:
    """Oxigraph names `[]` at random: the export of the same input must still be the same bytes."""
    write(tmp_path / "d" / "a.ttl", '@prefix e: <http://example.org/> .\n'
          'e:a e:knows [ e:name "one" ] , [ e:name "two" ] .\n_:x e:name "three" .\n')
    exports = [run("--data", "d", "export", "--format", "ntriples", cwd=tmp_path, cache=tmp_path / f"cache{i}")
               for i in (1, 2)]
    assert exports[0].returncode == 0, exports[0].stderr
    assert exports[0].stdout == exports[1].stdout
    assert exports[0].stdout.count('<http://example.org/name> "') == 3


def test_a_relative_iri_resolves_against_the_fixed_base_wherever_the_folder_lies(tmp_path: Path) -> None:
    """A copy of the folder is the same graph: before, each copy had IRIs under its own path, and the
    copy was served the first folder's IRIs from the cache (which is keyed by the bytes)."""
    write(tmp_path / "first" / "a.ttl", '<thing/x> <http://example.org/name> "x" .\n')
    shutil.copytree(tmp_path / "first", tmp_path / "copy")
    query = "SELECT ?s WHERE { ?s <http://example.org/name> ?o }"
    for folder in ("first", "copy"):
        r = run("--data", folder, "query", "-", "--format", "csv", cwd=tmp_path, cache=tmp_path / "cache", stdin=query)
        assert rows(r) == [{"s": ID + "thing/x"}], folder
    fresh = run("--data", "copy", "query", "-", "--format", "csv", cwd=tmp_path, cache=tmp_path / "cache2", stdin=query)
    assert rows(fresh) == [{"s": ID + "thing/x"}]


TRICKY = {  # blank nodes, typed literals and text that looks like them, in every format read
    "a.ttl": """@prefix e: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
e:a e:knows [ e:name "one" ] , [ e:name "two"@en ] ; e:list ( e:x [ e:y "z" ] ) ; e:to _:y .
_:x e:name "a _:b literal", "\\"^^<x> in a string"@en-GB , "5"^^xsd:integer , "5"^^xsd:integer ; e:rel _:x, _:y .
_:y e:v "1.5"^^xsd:decimal , "x"^^xsd:string , "é\\n\\t\\u2028 \u2028 _:q" ; e:w <http://example.org/_:iri> .
""",
    "b.trig": """@prefix e: <http://example.org/> .
e:g { _:x e:p [ e:q "1"^^<http://www.w3.org/2001/XMLSchema#integer> ] . e:a e:p _:x . }
_:g { e:a e:p "x" . } e:a e:p _:x .
""",
    "c.nq": '_:a <http://example.org/p> _:b <http://example.org/g> .\n_:b <http://example.org/p> _:a .\n'
            '<http://example.org/a> <http://example.org/p> "2"^^<http://www.w3.org/2001/XMLSchema#integer> _:g .\n',
    "d.jsonld": '{"@context": {"e": "http://example.org/"}, "@id": "e:a", "e:p": {"e:q": "x", "e:r": {"@id": "_:n"}},'
                ' "e:s": {"@value": "3", "@type": "http://www.w3.org/2001/XMLSchema#integer"}}',
    "e.rdf": """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a">
    <e:p rdf:nodeID="n1"/><e:q rdf:parseType="Resource"><e:r>x</e:r></e:q>
    <e:n rdf:datatype="http://www.w3.org/2001/XMLSchema#integer">7</e:n>
  </rdf:Description>
  <rdf:Description rdf:nodeID="n1"><e:r>y&#13;z</e:r></rdf:Description>
</rdf:RDF>
""",
    "f.nt": '_:x <http://example.org/p> "a\\"^^<b>" .\n<http://example.org/a> <http://example.org/p> _:x .\n',
}


def _one_triple_at_a_time(path: Path, index: int) -> list[str]:
    """The lines of a file as `parse_file` first made them: one Python string per term, blank nodes
    numbered as they come (subject before object)."""
    import pyoxigraph as ox

    from jisr_kg.pipeline.load import BASE_IRI
    from jisr_kg.rdf import formats

    fmt = formats.rdf_by_extension(path.suffix)
    assert fmt is not None and fmt.oxigraph is not None
    blank: dict[str, str] = {}
    lines = []
    for q in ox.parse(path.read_bytes(), format=getattr(ox.RdfFormat, fmt.oxigraph), base_iri=BASE_IRI):
        terms = [blank.setdefault(t.value, f"_:f{index}b{len(blank)}") if isinstance(t, ox.BlankNode) else str(t)
                 for t in (q.subject, q.predicate, q.object)]
        lines.append(" ".join(terms) + " .")
    return lines


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_parse_file_gives_the_lines_and_blank_node_labels_of_one_triple_at_a_time(tmp_path: Path, name: str) -> None:
    """`parse_file` has Oxigraph write the N-Triples text and only then relabels blank nodes and finds the
    typed literals: the same lines, in the same order, as made a term at a time from Python objects."""
    from jisr_kg.pipeline.load import parse_file

    path = write(tmp_path / name, TRICKY[name])
    lines = parse_file(path, 3)
    assert lines == _one_triple_at_a_time(path, 3)
    assert len(lines) >= 2
    assert any(line.startswith("_:f3b0 ") or " _:f3b0 " in line for line in lines) or name == "d.jsonld"


def test_ill_typed_literals_are_named_with_the_first_triple_and_the_blank_node_labels(tmp_path: Path) -> None:
    from jisr_kg.errors import InputError
    from jisr_kg.pipeline.load import parse_file

    path = write(tmp_path / "a.ttl", '@prefix e: <http://example.org/> .\n'
                 '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n'
                 'e:a e:p "x\\"^^<y>" , _:n . _:n e:p "abc"^^xsd:integer .\n'
                 '_:m e:q "abc"^^xsd:integer, "1.x"^^xsd:decimal .\n')
    with pytest.raises(InputError) as e:
        parse_file(path, 7)
    assert str(e.value).endswith("'abc' is not a valid xsd:integer (the object of _:f7b0 <http://example.org/p>) "
                                 "(and 1 more)")
    # a lexical form with an escape is read as Oxigraph reads it
    write(path, '<http://example.org/a> <http://example.org/p> '
          '"1\\n\\u00e92"^^<http://www.w3.org/2001/XMLSchema#integer> .')
    with pytest.raises(InputError) as e:
        parse_file(path, 7)
    assert str(e.value).endswith("'1\\né2' is not a valid xsd:integer (the object of <http://example.org/a> "
                                 "<http://example.org/p>)")


# ---------------------------------------------------------------- parser limits


def test_an_entity_bomb_is_refused_in_one_line_within_bounded_memory(tmp_path: Path) -> None:
    entities = '<!ENTITY a0 "aaaaaaaaaa">\n' + "".join(
        f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">\n' for i in range(1, 10))
    bomb = write(tmp_path / "d" / "bomb.rdf", f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
{entities}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><e:p>&a9;</e:p></rdf:Description>
</rdf:RDF>
""")
    assert bomb.stat().st_size < 800
    message = one_line(run("--data", "d", "validate", cwd=tmp_path, cache=tmp_path / "cache", limit=1 << 30))
    assert message.startswith("jisr-kg: error: d/bomb.rdf:")
    assert "entity bomb" in message


LAUGHS = '<!ENTITY a0 "aaaaaaaaaa">' + "".join(f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">' for i in range(1, 10))
ENTITY_ATTACKS = {
    # declared but never used: the parser may expand every declaration all the same
    "unused": (LAUGHS, "x", "the entity a6 expands to more than 8 MiB"),
    # a second declaration of the same name does not hide the first
    "redeclared": (LAUGHS + '<!ENTITY x "&a9;"><!ENTITY x "small">', "x", "the entity a6 expands"),
    # a chain thousands deep (each declared before the one it names): refused before Python's
    # recursion limit is reached
    "deep": ("".join(f'<!ENTITY c{i} "&c{i - 1};">' for i in range(2999, 0, -1)) + '<!ENTITY c0 "x">', "c2999",
             "is nested more than 32 deep"),
    "recursive": ('<!ENTITY r "&s;"><!ENTITY s "&r;">', "r", "refers to itself"),
    "parameter": ('<!ENTITY % p "x">', "amp", "the entity p is a parameter entity"),
}


@pytest.mark.parametrize("attack", sorted(ENTITY_ATTACKS))
def test_other_entity_attacks_are_refused_in_one_line(tmp_path: Path, attack: str) -> None:
    declarations, used, expected = ENTITY_ATTACKS[attack]
    write(tmp_path / "d" / "x.rdf", f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [{declarations}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><e:p>&{used};</e:p></rdf:Description>
</rdf:RDF>
""")
    message = one_line(run("--data", "d", "validate", cwd=tmp_path, cache=tmp_path / "cache", limit=1 << 30))
    assert message.startswith("jisr-kg: error: d/x.rdf:2: refused: ") and expected in message, message


def test_rdfxml_entities_that_abbreviate_iris_are_still_read(tmp_path: Path) -> None:
    """Ontology editors write RDF/XML with an entity per namespace: that is no bomb."""
    write(tmp_path / "d" / "onto.rdf", """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
  <!ENTITY owl "http://www.w3.org/2002/07/owl#">
  <!ENTITY e "http://example.org/">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="&e;a"><rdf:type rdf:resource="&owl;Thing"/></rdf:Description>
</rdf:RDF>
""")
    r = run("--data", "d", "query", "-", "--format", "csv", "--no-infer", cwd=tmp_path, cache=tmp_path / "cache",
            stdin="SELECT ?t WHERE { <http://example.org/a> a ?t }")
    assert rows(r) == [{"t": "http://www.w3.org/2002/07/owl#Thing"}]


def test_a_literal_over_16_mib_is_refused_in_one_line(tmp_path: Path) -> None:
    write(tmp_path / "d" / "big.ttl", '<http://example.org/a> <http://example.org/p> "' + "a" * (17 << 20) + '" .\n')
    message = one_line(run("--data", "d", "validate", cwd=tmp_path, cache=tmp_path / "cache"))
    assert message == "jisr-kg: error: d/big.ttl: a literal or IRI longer than 16 MiB, more than the parser reads"


# ---------------------------------------------------------------- ill-typed literals


@pytest.fixture(scope="module")
def bad_date(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's data in which one claimed date is 31 June."""
    root = tmp_path_factory.mktemp("bad-date")
    shutil.copytree(ROOT / "data", root / "data")
    infobox = root / "data" / "infobox.ttl"
    text = infobox.read_text(encoding="utf-8")
    assert '"2011-06-04"^^xsd:date' in text
    infobox.write_text(text.replace('"2011-06-04"^^xsd:date', '"2011-06-31"^^xsd:date', 1), encoding="utf-8")
    return root


def test_an_invalid_date_gets_one_answer_whichever_reasoner_runs(bad_date: Path) -> None:
    """owlrl called it an inconsistency, `reasonable` let SHACL report violations, and rdflib printed
    a traceback on the way: now every reasoner gets the same line, naming the file."""
    answers = {reasoner: one_line(run("--data", "data", "build", "-o", f"out-{reasoner}", "--reasoner", reasoner,
                                      cwd=bad_date, cache=bad_date / f"cache-{reasoner}"))
               for reasoner in ("rules", "owlrl", "reasonable")}
    assert len(set(answers.values())) == 1, answers
    assert answers["rules"].startswith("jisr-kg: error: data/infobox.ttl: '2011-06-31' is not a valid xsd:date")
    assert not any((bad_date / f"out-{r}").exists() for r in answers)


def test_coverage_with_an_ill_typed_offset_gives_one_line(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    lead = tmp_path / "data" / "lead.ttl"
    text = lead.read_text(encoding="utf-8")
    assert "oa:start 1064 ;" in text
    lead.write_text(text.replace("oa:start 1064 ;", 'oa:start "abc"^^xsd:integer ;', 1), encoding="utf-8")
    message = one_line(run("--data", "data", "coverage", cwd=tmp_path, cache=tmp_path / "cache"))
    assert message == ("jisr-kg: error: data/lead.ttl: 'abc' is not a valid xsd:integer "
                       "(the object of sel:1064-1076 oa:start)")


@pytest.mark.parametrize(("lexical", "datatype"), [("abc", "integer"), ("2011-13-01", "date"), ("maybe", "boolean"),
                                                   ("abc", "duration"), ("1.5.2", "decimal")])
def test_an_ill_typed_literal_is_refused_with_its_file(tmp_path: Path, lexical: str, datatype: str) -> None:
    """xsd:duration is no OWL 2 RL datatype, but rdflib printed its conversion traceback all the same."""
    write(tmp_path / "d" / "a.ttl", f'<http://example.org/a> <http://example.org/p> '
          f'"{lexical}"^^<http://www.w3.org/2001/XMLSchema#{datatype}> .\n')
    message = one_line(run("--data", "d", "validate", cwd=tmp_path, cache=tmp_path / "cache"))
    assert message == (f"jisr-kg: error: d/a.ttl: {lexical!r} is not a valid xsd:{datatype} "
                       "(the object of <http://example.org/a> <http://example.org/p>)")


def test_an_integer_too_long_for_the_reasoner_is_one_line(tmp_path: Path) -> None:
    """Python reads at most 4300 digits: owlrl and rdflib printed tracebacks and a 5000-digit message."""
    write(tmp_path / "d" / "a.ttl", f'<http://example.org/a> <http://example.org/p> "{"9" * 5000}"'
          '^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    message = one_line(run("--data", "d", "validate", cwd=tmp_path, cache=tmp_path / "cache"))
    assert message == ("jisr-kg: error: d/a.ttl: a number of 5000 digits (the object of <http://example.org/a> "
                       "<http://example.org/p>): the reasoner reads at most 4300")


def test_well_typed_literals_of_every_kind_are_read(tmp_path: Path) -> None:
    values = ['"12"^^xsd:integer', '"-1.5"^^xsd:decimal', '"2011-06-04"^^xsd:date', '"2011-06"^^xsd:gYearMonth',
              '"2011"^^xsd:gYear', '"true"^^xsd:boolean', '"P1Y2M3DT4H"^^xsd:duration', '"PT1H"^^xsd:dayTimeDuration',
              '"2011-06-04T10:00:00Z"^^xsd:dateTime', '"00ff"^^xsd:hexBinary']
    write(tmp_path / "d" / "a.ttl", "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
          f"<http://example.org/a> <http://example.org/p> {', '.join(values)} .\n")
    r = run("--data", "d", "validate", cwd=tmp_path, cache=tmp_path / "cache")
    assert r.returncode == 0 and r.stderr == "", r.stderr


# ---------------------------------------------------------------- RDF/XML output


def test_rdfxml_refuses_a_character_xml_cannot_carry(tmp_path: Path) -> None:
    write(tmp_path / "d" / "a.ttl", '<http://example.org/a> <http://example.org/p> "x\\u0001y" .\n')
    message = one_line(run("--data", "d", "export", "--format", "xml", cwd=tmp_path, cache=tmp_path / "cache"))
    assert 'the literal "x\\u0001y"' in message and "U+0001" in message
    turtle = run("--data", "d", "export", "--format", "turtle", cwd=tmp_path, cache=tmp_path / "cache")
    assert turtle.returncode == 0 and '"x\\u0001y"' in turtle.stdout


def test_rdfxml_output_is_well_formed_and_keeps_tabs_and_carriage_returns(tmp_path: Path) -> None:
    import xml.dom.minidom

    import pyoxigraph as ox

    literal = '"tab\\there\\r\\nCRLF \\\\u0001"'  # an escaped backslash before u0001: no control character
    write(tmp_path / "d" / "a.ttl", f"<http://example.org/a> <http://example.org/p> {literal} .\n")
    r = subprocess.run([sys.executable, "-m", "jisr_kg", "--quiet", "--data", "d", "export", "--format", "xml"],
                       capture_output=True, cwd=tmp_path, env={**os.environ, "JISR_KG_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    xml.dom.minidom.parseString(r.stdout)  # well-formed XML 1.0
    values = {t.object.value for t in ox.parse(r.stdout, format=ox.RdfFormat.RDF_XML)
              if t.predicate.value == "http://example.org/p"}
    assert values == {"tab\there\r\nCRLF \\u0001"}


def test_build_refuses_data_rdfxml_cannot_carry_and_writes_nothing(tmp_path: Path) -> None:
    """build writes every format as a stream: the same refusal as `export --format xml`, before any
    file is published."""
    write(tmp_path / "d" / "a.ttl", '<http://example.org/a> <http://example.org/p> "x\\u0001y" .\n')
    message = one_line(run("--data", "d", "build", "-o", "out", cwd=tmp_path, cache=tmp_path / "cache"))
    assert 'RDF/XML cannot carry the literal "x\\u0001y"' in message
    assert not (tmp_path / "out").exists()


def test_build_writes_the_same_well_formed_rdfxml_as_export(tmp_path: Path) -> None:
    import xml.dom.minidom

    write(tmp_path / "d" / "a.ttl", '<http://example.org/a> <http://example.org/p> "a\\rb" .\n')
    r = run("--data", "d", "build", "-o", "out", cwd=tmp_path, cache=tmp_path / "cache")
    assert r.returncode == 0, r.stderr
    built = (tmp_path / "out" / "jisr-kg.rdf").read_bytes()
    xml.dom.minidom.parseString(built)
    assert b"a&#13;b" in built
    exported = run("--data", "d", "export", "--format", "xml", cwd=tmp_path, cache=tmp_path / "cache")
    assert exported.stdout.encode("utf-8") == built
