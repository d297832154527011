"""The default validator (the shapes as SPARQL on Oxigraph) gives pyshacl's results, to the letter.

Equal means the same list of results: focus node, path, value, constraint component, severity and
message, in the same order, checked on every fixture in tests/shapes/ (whatever is there when the
suite runs), on the project's data, on the project's data with each fixture's defect added (every
kind of mutation the fixtures cover), and on 10 times the data. Where the data holds a literal the
store would rewrite, the default gives way to pyshacl: that is checked too.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from jisr_kg.pipeline import shacl_sparql
from jisr_kg.pipeline import validate as v
from tests.conftest import jisr
from tests.test_shapes import shapes_parsed_once

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "shapes"
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"
CONTEXT_FILES = (ROOT / "ontology" / "ontology.ttl", ROOT / "data" / "source.ttl")
FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*.ttl") if p.name != "manifest.ttl")


@pytest.fixture(autouse=True, scope="module")
def parsed_shapes_once():
    """pyshacl's shapes and rdflib's SPARQL parsed once (see tests/test_shapes.py): the same results."""
    with shapes_parsed_once():
        yield


@cache
def pyshacl_shapes() -> rdflib.Graph:
    return v.load_shapes(SHAPES_FILE)


def translated() -> shacl_sparql.SparqlValidator:
    return shacl_sparql.validator_for(SHAPES_FILE)


def by_pyshacl(files: list[Path]) -> list[v.ValidationResult]:
    g = rdflib.Graph()
    for f in files:
        g.parse(f)
    return v.validate_graph(g, pyshacl_shapes()).results


def by_sparql(files: list[Path], *, every_triple: bool = False) -> list[v.ValidationResult] | None:
    """Our results on the files, or None where the data makes the default give way to pyshacl.

    As the command validates: the store holds only the triples whose predicate the shapes' queries
    name (`validate.lines_with_predicates`), unless `every_triple`."""
    parsed = [list(ox.parse(path=str(f), format=ox.RdfFormat.TURTLE)) for f in files]
    if shacl_sparql.unsafe_terms(t.object for triples in parsed for t in triples):
        return None
    predicates = None if every_triple else translated().predicates
    store = ox.Store()
    for triples in parsed:  # file by file, as rdflib parses them: a blank node label is local to its file
        lines = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8").split("\n")[:-1]
        if predicates is not None:
            lines = list(v.lines_with_predicates(lines, predicates))
        store.load(input="".join(line + "\n" for line in lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return sorted(translated().validate(store), key=v.ValidationResult.sort_key)


def test_the_shapes_translate_entirely() -> None:
    """No construct of ontology/shapes.ttl is left to pyshacl, and every query's predicates are known."""
    assert len(translated().plan) > 50
    assert translated().predicates is not None
    assert f"<{shacl_sparql.RDF}type>" in translated().predicates
    assert f"<{shacl_sparql.RDFS}subClassOf>" in translated().predicates


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
def test_every_fixture_gives_pyshacls_results(fixture: Path) -> None:
    files = [*CONTEXT_FILES, fixture]
    ours = by_sparql(files)
    if ours is None:  # a literal the store would rewrite (1791.0 as a decimal, an xsd:int)
        pytest.skip("the default validator hands this data to pyshacl (checked in test_rewritten_literals_*)")
    assert ours == by_pyshacl(files)
    assert ours == by_sparql(files, every_triple=True)  # the triples left out change nothing


def test_few_fixtures_are_left_to_pyshacl() -> None:
    left = [f.name for f in FIXTURE_FILES if by_sparql_safe(f) is False]
    assert len(left) <= max(4, len(FIXTURE_FILES) // 20), left


def by_sparql_safe(fixture: Path) -> bool:
    terms = (t.object for f in (*CONTEXT_FILES, fixture) for t in ox.parse(path=str(f), format=ox.RdfFormat.TURTLE))
    return shacl_sparql.unsafe_terms(terms) is None


# ---------------------------------------------------------------- the project's data, mutated and scaled


def _validate_both(built) -> tuple[v.ValidationReport, v.ValidationReport]:
    ours = v.validate_dataset(built, validator="sparql", use_cache=False)
    ref = v.validate_dataset(built, validator="pyshacl", use_cache=False)
    return ours, ref


def test_project_data(built) -> None:
    predicates = translated().predicates
    assert predicates is not None
    lines = [line for name in built.names() for line in built.lines[name]]
    kept = list(v.lines_with_predicates(lines, predicates))
    assert len(lines) * 0.5 < len(kept) < len(lines)  # the store leaves some out (18% at 100x)
    ours, ref = _validate_both(built)
    assert shacl_sparql.unsafe_lines(built.lines[n] for n in built.names()) is None  # no fallback here
    assert ours.results == ref.results
    assert ours.format("text") == ref.format("text") and ours.format("json") == ref.format("json")


def test_the_lenient_store_holds_the_same_quads(built) -> None:
    """The validator's store parses the cache's lines leniently (decision 17): Oxigraph wrote them
    from terms it had checked, so the same quads as a strict parse."""
    strict = ox.Store()
    for name in built.names():
        strict.load(input="".join(line + "\n" for line in built.lines[name]).encode("utf-8"),
                    format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(name))
    lenient, _union = v._store_of(built)
    assert len(strict) > 10_000

    def quads(store: ox.Store) -> set[tuple[str, ...]]:  # blank nodes as [] (each load names them anew)
        return {tuple(shacl_sparql.term_string(t) for t in q) for q in store}

    assert quads(lenient) == quads(strict)


def _one_fixture_per_component() -> list[Path]:
    """For each constraint component the fixtures exercise (tests/shapes/manifest.ttl), the first
    fixture, by name, that exercises it: one of each kind of defect."""
    from urllib.parse import unquote, urlsplit

    g = rdflib.Graph().parse(FIXTURES / "manifest.ttl", publicID=(FIXTURES / "manifest.ttl").as_uri())
    mf = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
    sht = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")
    jkgt = rdflib.Namespace("https://w3id.org/jisr-kg/shapes-test#")
    by_component: dict[str, Path] = {}
    for entry in sorted(g.subjects(jkgt.component, None), key=str):
        data = Path(unquote(urlsplit(str(g.value(g.value(entry, mf.action), sht.dataGraph))).path))
        component = str(g.value(entry, jkgt.component))
        if component not in by_component or data.name < by_component[component].name:
            by_component[component] = data
    return sorted(set(by_component.values()))


@pytest.fixture(scope="module")
def mutations() -> list[Path]:
    return _one_fixture_per_component()


@pytest.mark.slow  # the reference check on every mutation: run by .ci/run
def test_project_data_with_each_kind_of_defect(built, mutations: list[Path]) -> None:
    """Each fixture's triples (one defect each) added to the project's closure: the same results."""
    from jisr_kg.pipeline.dataset import BuiltDataset
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH

    assert len(mutations) >= 8
    checked = 0
    for f in mutations:
        parsed = list(ox.parse(path=str(f), format=ox.RdfFormat.TURTLE))
        if shacl_sparql.unsafe_terms(t.object for t in parsed):
            continue
        if any(isinstance(x, ox.BlankNode) for t in parsed for x in (t.subject, t.object)):
            continue  # blank nodes would be merged across files by the line form; the fixtures test them
        extra = {f"{t.subject} {t.predicate} {t.object} ." for t in parsed}
        lines = {n: list(ls) for n, ls in built.lines.items()}
        lines[ASSERTED_GRAPH] = sorted(set(lines[ASSERTED_GRAPH]) | extra)
        mutated = BuiltDataset(lines, "")
        ours, ref = _validate_both(mutated)
        assert ours.results == ref.results, f.name
        assert ours.results != [] or ref.results == []
        checked += 1
    assert checked >= 8


def test_rewritten_literals_are_validated_by_pyshacl(built) -> None:
    """A decimal written 1791.0 would come back from the store as 1791: the default hands such data to
    pyshacl, so the report still says 1791.0."""
    from jisr_kg.pipeline.dataset import BuiltDataset
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH

    lines = {n: list(ls) for n, ls in built.lines.items()}
    sel = next(line for line in lines[ASSERTED_GRAPH] if "#start>" in line and "oa#start" in line)
    subject = sel.split(" ", 1)[0]
    bad = f'{subject} <http://www.w3.org/ns/oa#end> "1791.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .'
    lines[ASSERTED_GRAPH] = sorted({*lines[ASSERTED_GRAPH], bad})
    notes: list[str] = []
    ours = v.validate_dataset(BuiltDataset(lines, ""), validator="sparql", use_cache=False, progress=notes.append)
    assert any("pyshacl" in n for n in notes)
    assert any(r.value == '"1791.0"^^<http://www.w3.org/2001/XMLSchema#decimal>' for r in ours.results)


@pytest.mark.slow  # a 10x copy, validated twice: run by .ci/run
def test_ten_times_the_data(tmp_path: Path) -> None:
    from jisr_kg.pipeline.build import build_dataset

    r = jisr("synth", "--scale", "10", "-o", str(tmp_path / "x10"))
    assert r.returncode == 0, r.stderr.decode()
    built = build_dataset(tmp_path / "x10")
    ours, ref = _validate_both(built)
    assert ours.results == ref.results
    assert len(ours.results) >= 10


# ---------------------------------------------------------------- through the command


def test_command_default_and_pyshacl_agree_and_the_report_is_cached(tmp_path: Path) -> None:
    env = {"JISR_KG_CACHE": str(tmp_path / "cache")}
    default = jisr("validate", "--format", "json", env=env)
    reference = jisr("validate", "--format", "json", "--validator", "pyshacl", env=env)
    assert default.returncode == reference.returncode == 0, default.stderr.decode() + reference.stderr.decode()
    assert default.stdout == reference.stdout
    import subprocess
    import sys

    again = subprocess.run([sys.executable, "-m", "jisr_kg", "validate", "--format", "json"], capture_output=True,
                           cwd=ROOT, env={**__import__("os").environ, **env}, timeout=600)
    assert again.stdout == default.stdout
    assert b"validation report of these inputs is in the cache" in again.stderr  # not validated again
    # a damaged report is not trusted: validated again, same answer
    (entry,) = [p for p in (tmp_path / "cache").iterdir() if len(p.name) == 32]
    for report in entry.glob("validation-*.json"):
        report.write_text(report.read_text()[:-20])
    assert jisr("validate", "--format", "json", env=env).stdout == default.stdout
    shutil.rmtree(tmp_path / "cache")


# ---------------------------------------------------------------- the queries' forms, on purpose-made shapes

COUNT_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:NodeCounts a sh:PropertyShape ; sh:targetNode ex:a, ex:b, ex:none, "lit" ; sh:path ex:p ;
    sh:minCount 1 ; sh:maxCount 1 ; sh:message "node counts" .
ex:ObjectCounts a sh:PropertyShape ; sh:targetObjectsOf ex:p ; sh:path ex:q ;
    sh:minCount 2 ; sh:maxCount 0 ; sh:message "object counts" .
ex:InverseCounts a sh:PropertyShape ; sh:targetClass ex:C ; sh:path [ sh:inversePath ex:p ] ;
    sh:minCount 1 ; sh:maxCount 1 ; sh:message "inverse counts" .
ex:SubjectCounts a sh:PropertyShape ; sh:targetSubjectsOf ex:q ; sh:path ex:p ;
    sh:minCount 2 ; sh:maxCount 2 ; sh:message "subject counts" .
"""
COUNT_DATA = """
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:a ex:p ex:x, ex:y, "1" .
ex:b ex:p ex:x .
ex:c ex:p ex:x ; ex:q ex:r .
ex:x a ex:C ; ex:q ex:r, ex:s .
ex:y a ex:D ; ex:q ex:r .
ex:z a ex:D ; ex:p ex:a, ex:b, ex:c .
ex:D rdfs:subClassOf ex:C .
"""


def test_count_queries_give_pyshacls_results_on_every_kind_of_target(tmp_path: Path) -> None:
    """minCount and maxCount run as NOT EXISTS and as a count over the path's subjects filtered by the
    targets (decision 17): the same results as pyshacl for targets the project's shapes do not combine
    with them (a node, a literal, the objects of a property, an inverse path, counts other than 1)."""
    shapes, data = tmp_path / "shapes.ttl", tmp_path / "data.ttl"
    shapes.write_text(COUNT_SHAPES)
    data.write_text(COUNT_DATA)
    ref = v.validate_graph(rdflib.Graph().parse(data), v.load_shapes(shapes)).results
    store = ox.Store()
    store.load(path=str(data), format=ox.RdfFormat.TURTLE)
    ours = sorted(shacl_sparql.SparqlValidator(shapes).validate(store), key=v.ValidationResult.sort_key)
    assert ours == ref
    assert {r.shape.rsplit("/", 1)[1] for r in ref} == {"NodeCounts", "ObjectCounts", "InverseCounts",
                                                         "SubjectCounts"}
    assert {r.component for r in ref} == {"sh:MinCountConstraintComponent", "sh:MaxCountConstraintComponent"}


@pytest.mark.parametrize(("query", "predicates"), [
    ("SELECT ?s WHERE { ?s <http://x/p> ?o ; <http://x/q> [ <http://x/r> ?z ] FILTER (?o NOT IN (1, 2)) }",
     {"p", "q", "r"}),
    ("PREFIX x: <http://x/> SELECT ?s WHERE { ?s ^x:p/x:q+|a ?o . FILTER NOT EXISTS { ?o x:t ?s } "
     "BIND (STRLEN(\"{ ?s ?p ?o }\") AS ?n) } GROUP BY ?s HAVING (COUNT(?o) > 1)", {"p", "q", "t", "type"}),
    ("SELECT ?c WHERE { ?c <http://x/p>* <http://x/C> } VALUES ?c { <http://x/D> }", {"p"}),
    ("{ SELECT DISTINCT ?this WHERE { { [] <http://x/p> ?this } UNION { VALUES ?this { <http://x/a> } } } }", {"p"}),
    ("SELECT ?s WHERE { ?s ?p ?o }", None),  # a variable predicate
    ("SELECT ?s WHERE { ?s <http://x/p> ?o ; ?q ?r }", None),
    ("SELECT ?s WHERE { ?s <http://x/p> ?o FILTER EXISTS { ?o ?any [] } }", None),
    ("SELECT ?s WHERE { ?s !<http://x/p> ?o }", None),  # a negated property set: every other predicate
    ("SELECT ?s WHERE { ?s <http://x/p>* ?o }", None),  # zero steps: every node of the graph
    ("SELECT ?s WHERE { GRAPH ?g { ?s <http://x/p> ?o } }", None),
    ("SELECT ?s FROM <http://x/g> WHERE { ?s <http://x/p> ?o }", None),
    ("SELECT ?s WHERE { ?s <http://x/p> ( 1 2 ) }", None),  # a collection: rdf:first, rdf:rest
    ("SELECT ?s WHERE { ?s un:known ?o }", None),
    ("ASK { ?s <http://x/p> ?o }", None),
])
def test_the_predicates_a_query_reads(query: str, predicates: set[str] | None) -> None:
    names = {"type": f"{shacl_sparql.RDF}type"}
    expected = None if predicates is None else {f"<{names.get(p, 'http://x/' + p)}>" for p in predicates}
    assert shacl_sparql.predicates_read(query) == expected


FALLBACK_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:AnyLiteral a sh:NodeShape ; sh:targetNode ex:a ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:message "a literal: {?value}" ;
                sh:select "SELECT $this ?value WHERE { $this ?p ?value . FILTER (isLiteral(?value)) }" ] .
ex:Named a sh:PropertyShape ; sh:targetSubjectsOf ex:q ; sh:path ex:name ; sh:minCount 1 ;
    sh:message "no name" .
"""


def test_a_query_with_a_variable_predicate_loads_every_triple(tmp_path: Path) -> None:
    """Where a query can match any predicate the store holds every triple: the same results as pyshacl
    (with the other shapes' predicates only, the literal would be left out and the result lost)."""
    from jisr_kg.pipeline.dataset import BuiltDataset
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH

    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(FALLBACK_SHAPES)
    assert shacl_sparql.SparqlValidator(shapes).predicates is None
    lines = ["<http://example.org/a> <http://example.org/q> <http://example.org/b> .",
             "<http://example.org/a> <http://example.org/name> <http://example.org/n> .",
             '<http://example.org/a> <http://example.org/label> "x" .']
    built = BuiltDataset({ASSERTED_GRAPH: lines, CONSENSUS_GRAPH: [], INFERRED_GRAPH: []}, "")
    ours = v.validate_dataset(built, shapes=shapes, use_cache=False)
    ref = v.validate_graph(rdflib.Graph().parse(data="\n".join(lines), format="nt"), v.load_shapes(shapes))
    assert ours.results == ref.results
    assert [r.message for r in ours.results] == ["a literal: x"]
    # the other shape alone: its target's and its path's predicates only
    shapes.write_text(FALLBACK_SHAPES.split("ex:AnyLiteral")[0] + "ex:Named" + FALLBACK_SHAPES.split("ex:Named", 1)[1])
    assert shacl_sparql.SparqlValidator(shapes).predicates == {"<http://example.org/name>", "<http://example.org/q>"}


def test_a_store_started_with_the_asserted_graph_gives_the_same_report(built) -> None:
    """`build` loads the asserted graph into the validator's store while a child derives the consensus
    view; the validation completes that store with the other graphs and reports what it reports alone."""
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH

    started = v.start_store({ASSERTED_GRAPH: built.lines[ASSERTED_GRAPH]})
    assert started is not None
    before = len(started.store)
    report = v.validate_dataset(built, use_cache=False, started=started)
    assert len(started.store) > before  # completed with the consensus and inferred graphs
    assert report.results == v.validate_dataset(built, use_cache=False).results
    assert report.results  # the project's data has warnings: the comparison compares something
    assert v.start_store({ASSERTED_GRAPH: built.lines[ASSERTED_GRAPH]}, validator="pyshacl") is None
