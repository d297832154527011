"""owlrl (the reference) and reasonable (`--reasoner reasonable`, the fast path) derive the same facts.

They are compared on the project's data, on the graph that a build reasons over (asserted +
consensus), after `reason.entailments` has removed what `reason.keep` removes for both (triples with a
literal subject, `x owl:sameAs x`, blank nodes, owlrl's error triples). What is still different is
different in a principled way, and is filtered here, each filter for a stated reason
(docs/decisions/0008-scale.md):

1. Vocabulary (TBox) triples, whose subject is a class, a property or a datatype. owlrl adds the
   schema closure that the OWL 2 RL rules scm-* and dt-* derive: every class a subclass and an
   equivalent of itself and a subclass of owl:Thing, owl:Nothing a subclass of every class, every
   property a sub-property and an equivalent of itself, domains and ranges widened to super-classes,
   every datatype `a rdfs:Datatype`, the built-in annotation properties `a owl:AnnotationProperty`, a
   few disjoint datatypes. reasonable implements the instance rules and skips those. They describe
   the ontology, not the clashes; no stored query, shape or export reads them.
2. `x rdf:type owl:Thing`, from either reasoner. reasonable types every node it sees so; owlrl only
   the nodes that an axiom leads to owl:Thing (a class or a domain declared a subclass of it). It is
   true of every individual in OWL and says nothing about the clashes.

The instance-level (ABox) entailments must then be identical, in both directions. The filtered
parts are pinned too (only those kinds of triple), so that a new kind of difference cannot hide in
them.
"""

from __future__ import annotations

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS

pytest.importorskip("reasonable", reason="reasonable is not installed (pip install -e '.[test]')")
# Whole builds with owlrl and with reasonable, compared query by query: reference checks, run by .ci/run.
# owlrl and reasonable on the full data, once per module: one xdist worker runs the module.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reasoners")]

XSD = "http://www.w3.org/2001/XMLSchema#"  # a string: pytest trips over rdflib's XSD namespace object
VOCAB_NAMESPACES = (str(RDF), str(RDFS), str(OWL), XSD)
SCHEMA_PREDICATES = {RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentClass,
                     OWL.equivalentProperty, OWL.inverseOf, OWL.disjointWith, OWL.propertyDisjointWith,
                     OWL.propertyChainAxiom, OWL.onProperty, OWL.someValuesFrom, OWL.allValuesFrom,
                     OWL.hasValue, OWL.unionOf, OWL.intersectionOf}
META_CLASSES = {OWL.Class, RDFS.Class, RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty,
                OWL.AnnotationProperty, RDFS.Datatype, OWL.TransitiveProperty, OWL.SymmetricProperty,
                OWL.FunctionalProperty, OWL.InverseFunctionalProperty, OWL.AsymmetricProperty,
                OWL.ReflexiveProperty, OWL.IrreflexiveProperty, OWL.Restriction, OWL.Ontology}


@pytest.fixture(scope="module")
def premise_lines() -> set[str]:
    """What a build reasons over: the asserted triples plus the consensus view (N-Triples lines)."""
    from jisr_kg.paths import inputs
    from jisr_kg.pipeline.dataset import consensus_view
    from jisr_kg.pipeline.load import parse_files

    inp = inputs()
    asserted = parse_files(inp.rdf)
    return asserted | consensus_view(asserted, inp.consensus_query.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def premises(premise_lines) -> rdflib.Graph:
    from jisr_kg.pipeline.load import rdflib_graph

    return rdflib_graph(premise_lines)


def _inferred(lines: set[str], reasoner: str) -> set:
    from jisr_kg.pipeline.load import rdflib_graph
    from jisr_kg.pipeline.reason import entailments

    return set(rdflib_graph(entailments(lines, reasoner=reasoner)))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def owlrl_inferred(premise_lines) -> set:
    return _inferred(premise_lines, "owlrl")


@pytest.fixture(scope="module")
def reasonable_inferred(premise_lines) -> set:
    return _inferred(premise_lines, "reasonable")


def vocabulary(*graphs) -> set:
    """Every class, property and datatype the graphs mention (the subjects of TBox triples)."""
    vocab = set()
    for g in graphs:
        for s, p, o in g:
            vocab.add(p)
            if p == RDF.type:
                vocab.add(o)
                if o in META_CLASSES:
                    vocab.add(s)
            if p in SCHEMA_PREDICATES:
                vocab.update(x for x in (s, o) if isinstance(x, rdflib.URIRef))
    return {v for v in vocab if isinstance(v, rdflib.URIRef)}


def is_tbox(t: tuple, vocab: set) -> bool:
    s = t[0]
    return s in vocab or str(s).startswith(VOCAB_NAMESPACES)


def filtered(t: tuple, vocab: set) -> bool:
    return is_tbox(t, vocab) or (t[1] == RDF.type and t[2] == OWL.Thing)  # filters 1 and 2


def test_both_reasoners_derive_the_same_instance_facts(premises, owlrl_inferred, reasonable_inferred) -> None:
    vocab = vocabulary(premises, owlrl_inferred, reasonable_inferred)
    ours = {t for t in owlrl_inferred if not filtered(t, vocab)}
    theirs = {t for t in reasonable_inferred if not filtered(t, vocab)}
    assert len(ours) > 1000, "suspiciously few entailments"
    only_owlrl = sorted(ours - theirs)
    only_reasonable = sorted(theirs - ours)
    assert not only_owlrl, f"{len(only_owlrl)} instance facts only owlrl derives, e.g. {only_owlrl[:5]}"
    assert not only_reasonable, f"{len(only_reasonable)} only reasonable derives, e.g. {only_reasonable[:5]}"


def test_what_is_filtered_is_only_what_the_filters_say(premises, owlrl_inferred, reasonable_inferred) -> None:
    vocab = vocabulary(premises, owlrl_inferred, reasonable_inferred)
    # owlrl's extra vocabulary triples: the schema closure (filter 1)
    schema_closure = {RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty,
                      RDFS.domain, RDFS.range, OWL.disjointWith}
    for s, p, o in owlrl_inferred - reasonable_inferred:
        assert is_tbox((s, p, o), vocab), (s, p, o)
        assert p in schema_closure or (p == RDF.type and o in (RDFS.Datatype, OWL.AnnotationProperty)), (s, p, o)
    thing = {s for s, p, o in owlrl_inferred if p == RDF.type and o == OWL.Thing}
    assert thing <= {s for s, p, o in reasonable_inferred if p == RDF.type and o == OWL.Thing}
    # reasonable's extra triples: owl:Thing typing (filter 2), of individuals and of vocabulary terms
    extra = reasonable_inferred - owlrl_inferred
    assert extra, "reasonable no longer adds owl:Thing typing: the filter may be obsolete"
    for s, p, o in extra:
        assert p == RDF.type and o == OWL.Thing, (s, p, o)


def test_no_literal_is_typed_xsd_string_twice(premises, reasonable_inferred) -> None:
    # "x"^^xsd:string and "x" are one RDF 1.1 term; reasonable writes the first, rdflib keeps them apart.
    # reason._reasonable normalises them, or asserted triples would come back as inferred ones.
    for _s, _p, o in reasonable_inferred:
        assert not (isinstance(o, rdflib.Literal) and str(o.datatype) == XSD + "string"), o


@pytest.mark.parametrize("reasoner", ["owlrl", "reasonable"])
def test_no_owl_same_as_that_was_not_asserted(premises, premise_lines, reasoner) -> None:
    """Neither reasoner merges entities: the whole closure, before any filter, has no owl:sameAs
    between two different nodes that the data did not state."""
    from jisr_kg.pipeline.reason import _owlrl, _reasonable, entailments

    closure = _owlrl(premises, "owlrl") if reasoner == "owlrl" else _reasonable(premises)
    new = [(s, o) for s, o in closure.subject_objects(OWL.sameAs) if s != o and (s, OWL.sameAs, o) not in premises]
    assert not new, f"{reasoner} derived owl:sameAs: {new[:5]}"
    assert not [line for line in entailments(premise_lines, reasoner=reasoner) if f" <{OWL.sameAs}> " in line]


def test_stored_queries_answer_the_same_on_both_builds() -> None:
    """What users see: every stored query, on the owlrl build and on the reasonable build. Filter 2
    shows through here: a query that returns the types of a node (the consensus view returns every
    triple of a quantity node) also returns `owl:Thing` from the reasonable build; those rows and
    triples are left out of the comparison, and nothing else may differ."""
    from jisr_kg.api import run_query
    from jisr_kg.sparql.query import stored_queries
    from jisr_kg.sparql.results import GraphResult, SelectResult

    thing = f"<{OWL.Thing}>"
    differ = []
    for q in stored_queries():
        a, b = run_query(q, reasoner="owlrl"), run_query(q, reasoner="reasonable")
        if isinstance(a, GraphResult):
            same = [[line for line in r.ntriples().splitlines() if not line.endswith(f"{thing} .")] for r in (a, b)]
        elif isinstance(a, SelectResult):
            same = [sorted(row for row in ([t.n3() if t else "" for t in row] for row in r.rows) if thing not in row)
                    for r in (a, b)]
        else:
            same = [a, b]
        if same[0] != same[1]:
            differ.append(q.name)
    assert not differ, f"stored queries that answer differently on the two builds: {differ}"


def test_both_builds_validate_alike() -> None:
    from jisr_kg.pipeline.build import build_dataset
    from jisr_kg.pipeline.validate import validate_dataset

    a = validate_dataset(build_dataset(reasoner="owlrl"))
    b = validate_dataset(build_dataset(reasoner="reasonable"))
    assert a.format("json") == b.format("json")
