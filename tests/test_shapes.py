"""The SHACL shapes (ontology/shapes.ttl) against their fixtures (tests/shapes/), and the validation report.

Each fixture of tests/shapes/manifest.ttl is a small valid graph with exactly one defect. It is
validated together with the ontology and data/source.ttl (the text the quote check reads), without
inference, and its results must be exactly the lines of its .expected file. Every (shape, constraint
component) pair of the shapes must be exercised by some fixture, so a new constraint without a
fixture fails here. The report formats are checked, and so is the decision to validate the cached
closure without inference: pyshacl's own RDFS inference on the asserted data finds the same violations.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, RDFS, Namespace, URIRef
from rdflib.collection import Collection

v = importlib.import_module("jisr_kg.pipeline.validate")  # the package exports a function `validate`

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "shapes"
SHAPES_FILE = ROOT / "ontology" / "shapes.ttl"
CONTEXT_FILES = (ROOT / "ontology" / "ontology.ttl", ROOT / "data" / "source.ttl")

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
JKGT = Namespace("https://w3id.org/jisr-kg/shapes-test#")
SH = Namespace(v.SH)

# The SHACL 1.0 parameters a reporting shape may use, and the constraint component each belongs to.
COMPONENTS = {
    SH.minCount: "MinCount", SH.maxCount: "MaxCount", SH["class"]: "Class", SH.datatype: "Datatype",
    SH.nodeKind: "NodeKind", SH["in"]: "In", SH.hasValue: "HasValue", SH.languageIn: "LanguageIn",
    SH.pattern: "Pattern", SH.minInclusive: "MinInclusive", SH.maxInclusive: "MaxInclusive",
    SH.minExclusive: "MinExclusive", SH.maxExclusive: "MaxExclusive", SH.minLength: "MinLength",
    SH.maxLength: "MaxLength", SH.lessThan: "LessThan", SH.lessThanOrEquals: "LessThanOrEquals",
    SH.equals: "Equals", SH.disjoint: "Disjoint", SH["or"]: "Or", SH["and"]: "And", SH["not"]: "Not",
    SH.xone: "Xone", SH.node: "Node", SH.qualifiedValueShape: "QualifiedValueShape", SH.closed: "Closed",
    SH.uniqueLang: "UniqueLang", SH.sparql: "SPARQL",
}
# Parameters that belong to one of the above, and what is not a constraint at all.
NOT_CONSTRAINTS = {
    SH.path, SH.message, SH.severity, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf,
    SH.deactivated, SH.name, SH.description, SH.order, SH.group, SH.flags, SH.ignoredProperties,
    SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.property,
}
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
# SHACL Advanced Features and pyshacl extensions that the shapes must not use.
ADVANCED = {SH.rule, SH.js, SH.jsFunctionName, SH.jsLibrary, SH.expression, SH.condition, SH.target,
            SH.SPARQLTarget, SH.SPARQLRule, SH.TripleRule, SH.SPARQLFunction, SH.JSConstraint, SH.intersection,
            SH.union, SH.filterShape, SH.nodes, SH.this}


def component_iri(name: str) -> str:
    return v.SH + (f"{name}ConstraintComponent" if name != "SPARQL" else "SPARQLConstraintComponent")


# ---------------------------------------------------------------- the manifest


def file_path(iri: str) -> Path:
    from urllib.parse import unquote, urlsplit

    return Path(unquote(urlsplit(iri).path))


def manifest() -> list[dict]:
    g = rdflib.Graph().parse(FIXTURES / "manifest.ttl", publicID=(FIXTURES / "manifest.ttl").as_uri())
    (root,) = g.subjects(RDF.type, MF.Manifest)
    entries = []
    for e in Collection(g, g.value(root, MF.entries)):
        action = g.value(e, MF.action)
        entries.append({
            "name": str(g.value(e, MF.name)),
            "comment": str(g.value(e, RDFS.comment)),
            "data": Path(file_path(str(g.value(action, SHT.dataGraph)))),
            "shapes": Path(file_path(str(g.value(action, SHT.shapesGraph)))),
            "expected": Path(file_path(str(g.value(e, MF.result)))),
            "shape": None if g.value(e, JKGT.shape) is None else str(g.value(e, JKGT.shape)),
            "component": None if g.value(e, JKGT.component) is None else str(g.value(e, JKGT.component)),
        })
    return entries


ENTRIES = manifest()


@pytest.fixture(autouse=True, scope="module")
def parsed_shapes_once():
    """pyshacl reads the shapes graph on every call, and rdflib parses each SPARQL constraint again
    for every focus node (most of the time these tests took); here they are parsed once and reused:
    several times faster, the same results (what is reused depends on the shapes only)."""
    with shapes_parsed_once():
        yield


@contextlib.contextmanager
def shapes_parsed_once() -> Iterator[None]:
    """Within: pyshacl's ShapesGraph made once per shapes graph, rdflib's queries parsed once per text."""
    import pyshacl.validator as pv
    from rdflib.plugins.sparql import processor

    original = pv.ShapesGraph
    original_query = processor.SPARQLProcessor.query
    made: dict[int, tuple] = {}
    parsed: dict[tuple, object] = {}

    def shapes_graph(graph, *args, **kwargs):
        if id(graph) not in made:  # the graph is kept with it, so its id is not reused
            made[id(graph)] = (graph, original(graph, *args, **kwargs))
        return made[id(graph)][1]

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):  # a prepared query is what rdflib offers for reuse
            key = (strOrQuery, base, tuple(sorted((initNs or {}).items())))
            if key not in parsed:
                parsed[key] = processor.translateQuery(processor.parseQuery(strOrQuery), base, initNs)
            strOrQuery = parsed[key]
        return original_query(self, strOrQuery, initBindings, initNs, base, DEBUG)

    pv.ShapesGraph = shapes_graph
    processor.SPARQLProcessor.query = query
    try:
        yield
    finally:
        pv.ShapesGraph = original
        processor.SPARQLProcessor.query = original_query


@lru_cache(maxsize=1)
def shapes() -> rdflib.Graph:
    return v.load_shapes(SHAPES_FILE)


@lru_cache(maxsize=1)
def context() -> rdflib.Graph:
    g = rdflib.Graph()
    for f in CONTEXT_FILES:
        g.parse(f)
    return g


def fixture_graph(path: Path) -> rdflib.Graph:
    g = rdflib.Graph()
    g += context()
    g.parse(path)
    return g


@cache
def fixture_report(name: str) -> v.ValidationReport:
    (entry,) = [e for e in ENTRIES if e["name"] == name]
    return v.validate_graph(fixture_graph(entry["data"]), shapes())


def result_lines(report: v.ValidationReport) -> list[str]:
    return sorted(f"{r.severity}\t{v.display(r.shape)}\t{v.display(r.focus)}" for r in report.results)


def test_manifest_lists_every_fixture() -> None:
    listed = {e["data"].resolve() for e in ENTRIES}
    on_disk = {p.resolve() for p in FIXTURES.glob("*.ttl") if p.name != "manifest.ttl"}
    assert listed == on_disk
    assert len({e["name"] for e in ENTRIES}) == len(ENTRIES)
    for e in ENTRIES:
        assert e["expected"].is_file(), e["expected"]
        assert e["shapes"].resolve() == SHAPES_FILE.resolve()
        assert e["data"].stem == e["expected"].stem == e["name"]
    assert any(e["shape"] is None and not e["expected"].read_text().strip() for e in ENTRIES), "no valid fixture"


@pytest.mark.parametrize("name", [e["name"] for e in ENTRIES])
def test_fixture(name: str) -> None:
    (entry,) = [e for e in ENTRIES if e["name"] == name]
    report = fixture_report(name)
    expected = [line for line in entry["expected"].read_text(encoding="utf-8").splitlines() if line.strip()]
    assert result_lines(report) == sorted(expected), report.format("text")
    if entry["shape"] is not None:
        pairs = {(r.shape, v.expand(r.component)) for r in report.results}
        assert (entry["shape"], entry["component"]) in pairs, f"{name} does not exercise what its entry says"
    else:
        assert report.results == []
    for r in report.results:
        assert r.severity in v.SEVERITIES
        assert r.message and "{?" not in r.message and "{$" not in r.message


# ---------------------------------------------------------------- the shapes themselves


def reporting_shapes(g: rdflib.Graph) -> set[rdflib.term.Node]:
    """Shapes that produce results: those with a target, and property shapes of a targeted node shape."""
    found = {s for t in TARGETS for s in g.subjects(t, None)}
    found |= {p for s in list(found) for p in g.objects(s, SH.property)}
    return found


def declared_pairs(g: rdflib.Graph) -> set[tuple[str, str]]:
    pairs = set()
    for shape in reporting_shapes(g):
        for p in set(g.predicates(shape, None)):
            if p in COMPONENTS:
                pairs.add((str(shape), component_iri(COMPONENTS[p])))
            elif str(p).startswith(v.SH):
                assert p in NOT_CONSTRAINTS, f"{shape} uses {p}: add it to COMPONENTS or NOT_CONSTRAINTS"
    return pairs


def test_every_constraint_has_a_fixture() -> None:
    exercised = {(r.shape, v.expand(r.component)) for e in ENTRIES for r in fixture_report(e["name"]).results}
    missing = declared_pairs(shapes()) - exercised
    assert not missing, "constraints without a fixture in tests/shapes/: " + ", ".join(
        f"{v.display(s)} {v.display(c)}" for s, c in sorted(missing))


def test_every_reporting_shape_is_named_and_explains_itself() -> None:
    g = shapes()
    for shape in reporting_shapes(g):
        assert isinstance(shape, URIRef) and str(shape).startswith(v.SHAPES), shape
        messages = list(g.objects(shape, SH.message))
        for constraint in g.objects(shape, SH.sparql):
            messages += list(g.objects(constraint, SH.message))
            assert not list(g.objects(shape, SH.message)), f"{shape}: put the message on the SPARQL constraint"
        assert len(messages) == 1 and messages[0].language == "en", f"{shape} needs one English sh:message"
        assert g.value(shape, SH.severity) in (None, SH.Violation, SH.Warning, SH.Info)


def test_shapes_use_shacl_1_0_only() -> None:
    g = shapes()
    used = set(g.predicates()) | set(g.objects(None, RDF.type))
    assert not used & ADVANCED, sorted(used & ADVANCED)
    assert not [t for t in g if any(str(x).startswith("http://datashapes.org/") for x in t)]


def test_every_typed_node_in_the_data_is_targeted() -> None:
    """A shape for every class used in data/: each typed node is the focus of some sh:targetClass."""
    ontology = rdflib.Graph().parse(ROOT / "ontology" / "ontology.ttl")
    data = rdflib.Graph()
    for f in sorted((ROOT / "data").glob("*.ttl")):
        data.parse(f)
    targeted = set(shapes().objects(None, SH.targetClass))
    untargeted = set()
    for node in set(data.subjects(RDF.type, None)):
        classes = set()
        for t in data.objects(node, RDF.type):
            classes |= set(ontology.transitive_objects(t, RDFS.subClassOf))
        if not classes & targeted:
            untargeted.add(node)
    assert not untargeted, sorted(untargeted)[:10]


# ---------------------------------------------------------------- the report


def test_conforms_means_no_violation() -> None:
    warnings_only = fixture_report("place-without-coordinates")
    assert not warnings_only.has_violations and warnings_only.count("Warning") == 1
    assert warnings_only.count("Violation") == 0 and not warnings_only.conforms  # SHACL's: any result
    broken = fixture_report("quote-mismatch")
    assert broken.has_violations and not broken.conforms and broken.count("Violation") == 1
    assert fixture_report("valid").conforms and not fixture_report("valid").has_violations
    assert fixture_report("valid").results == []
    with pytest.raises(ValueError):
        broken.count("Error")
    with pytest.raises(ValueError):
        broken.format("xml")


def test_results_are_sorted_violations_first() -> None:
    g = fixture_graph(FIXTURES / "place-without-coordinates.ttl")
    g.remove((None, URIRef("http://www.w3.org/ns/oa#exact"), None))
    report = v.validate_graph(g, shapes())
    severities = [r.severity for r in report.results]
    assert severities == sorted(severities, key=v.SEVERITIES.index)
    assert report.results == sorted(report.results, key=v.ValidationResult.sort_key)


def test_text_format() -> None:
    report = fixture_report("quote-mismatch")
    text = report.format("text")
    lines = text.splitlines()
    assert lines[0] == "Violation: jkgsh:EvidenceTextShape (1 result)"
    assert lines[1].startswith("  src:june-2011-jisr-ash-shughur-clashes | - | sel:1728-1791 | The quote of ")
    assert "lasted from 4 June until" in lines[1]  # the message quotes what the text really says
    assert lines[-1] == "Violations: 1, Warnings: 0"
    assert fixture_report("valid").format("text") == "Violations: 0, Warnings: 0\n"


def test_json_format() -> None:
    report = fixture_report("mapping-subject-missing")
    doc = json.loads(report.format("json"))
    assert doc["conforms"] is False
    assert doc["counts"] == {"Violation": 2, "Warning": 0, "Info": 0}
    assert [r["shape"] for r in doc["results"]] == [r.shape for r in report.results]
    assert set(doc["results"][0]) == {"severity", "shape", "focus", "path", "value", "message", "component"}
    assert doc["results"][0]["component"].startswith("sh:")


def test_turtle_format_is_a_shacl_report_and_deterministic() -> None:
    report = fixture_report("span-two-sources")  # two results that differ only in component and value
    ttl = report.format("turtle")
    assert ttl == report.format("turtle")
    assert "_:N" not in ttl and not re.search(r"_:[a-f0-9]{32}", ttl)
    g = rdflib.Graph().parse(data=ttl, format="turtle")
    (node,) = g.subjects(RDF.type, SH.ValidationReport)
    assert g.value(node, SH.conforms) == rdflib.Literal(False)
    results = list(g.objects(node, SH.result))
    assert len(results) == len(report.results) == 2
    assert {g.value(r, SH.sourceConstraintComponent) for r in results} == {
        URIRef(component_iri("MaxCount")), URIRef(component_iri("Class"))}
    assert set(v.results_of(g)) == set(report.results)  # the Turtle report reads back to the same results
    for name in ("date-claim-untyped-object", "geometry-blank-node", "label-not-english", "quote-past-end"):
        other = fixture_report(name)  # an inverse path, a blank focus, a literal value, a multi-line message
        back = rdflib.Graph().parse(data=other.format("turtle"), format="turtle")
        assert v.results_of(back) == other.results or set(v.results_of(back)) == set(other.results)
    valid = rdflib.Graph().parse(data=fixture_report("valid").format("turtle"), format="turtle")
    assert valid.value(next(valid.subjects(RDF.type, SH.ValidationReport)), SH.conforms) == rdflib.Literal(True)


def test_turtle_report_is_byte_identical_across_processes() -> None:
    code = (
        "import rdflib, sys; from jisr_kg.pipeline.validate import validate_graph\n"
        "g = rdflib.Graph()\n"
        f"for f in {[str(p) for p in CONTEXT_FILES]!r} + [{str(FIXTURES / 'quote-past-end.ttl')!r}, "
        f"{str(FIXTURES / 'geometry-blank-node.ttl')!r}]: g.parse(f)\n"
        "sys.stdout.write(validate_graph(g).format('turtle'))\n"
    )
    outs = []
    for seed in ("1", "2"):
        r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=300,
                           env={**os.environ, "PYTHONHASHSEED": seed})
        assert r.returncode == 0, r.stderr.decode()
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    assert outs[0].count(b"a sh:ValidationResult") == 2 and b"sh:focusNode [ ]" in outs[0]  # a blank focus too


def test_terms_round_trip_through_strings() -> None:
    for node in (rdflib.Literal('a "quoted"\nline\\ é', lang="en"), rdflib.Literal("5", datatype=rdflib.XSD.integer),
                 rdflib.Literal("plain"), URIRef("https://w3id.org/jisr-kg/id/claim/x")):
        assert v._node(v.term_string(node), "b") == node
    assert v.display('"5"^^<http://www.w3.org/2001/XMLSchema#integer>') == '"5"^^xsd:integer'
    assert v.display("https://w3id.org/jisr-kg/shapes#EntityLabel") == "jkgsh:EntityLabel"
    assert v.display("^http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate") == "^rdf:predicate"
    assert v.display(None) == "-"


# ---------------------------------------------------------------- no inference on the closure


def rdfs_violations(data: rdflib.Graph) -> set[v.ValidationResult]:
    from pyshacl import validate as pyshacl_validate

    _c, report_graph, _t = pyshacl_validate(data, shacl_graph=shapes(), inference="rdfs", advanced=False)
    return {r for r in v.results_of(report_graph) if r.severity == "Violation"}


def closure_violations(data: rdflib.Graph) -> set[v.ValidationResult]:
    from jisr_kg.pipeline.load import ntriples, rdflib_graph
    from jisr_kg.pipeline.reason import entailments

    closure = rdflib.Graph()
    closure += data
    closure += rdflib_graph(entailments({ntriples(t) for t in data}))
    return {r for r in v.validate_graph(closure, shapes()).results if r.severity == "Violation"}


@pytest.mark.parametrize("name", ["valid", "within-not-a-place", "contradicts-not-a-claim", "refutes-not-a-claim",
                                  "evidence-not-a-span", "part-of-not-an-event", "claimant-not-an-agent"])
def test_closure_without_inference_finds_what_rdfs_inference_finds(name: str) -> None:
    """The fixtures where reasoning changes the answer (ranges type the wrong node) agree too."""
    data = fixture_graph(FIXTURES / f"{name}.ttl")
    assert closure_violations(data) == rdfs_violations(data)


def test_project_data_closure_agrees_with_rdfs_inference(built) -> None:
    """Our run (no inference, on the cached OWL RL closure) and pyshacl's RDFS inference on the asserted
    data (with the consensus view) report the same violations (its speed is measured in benchmarks/)."""
    asserted = rdflib.Graph()
    asserted += built.asserted
    asserted += built.consensus
    report = v.validate_dataset(built)
    ours = {r for r in report.results if r.severity == "Violation"}
    assert ours == rdfs_violations(asserted)
