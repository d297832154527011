"""OWL 2 RL reasoning adds what the ontology promises, and nothing that would corrupt the graph."""

from __future__ import annotations

import rdflib
from rdflib import OWL, RDF, RDFS, URIRef

JKG = rdflib.Namespace("https://w3id.org/jisr-kg/ontology#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
ORG = rdflib.Namespace("http://www.w3.org/ns/org#")


def _closure(edges: set[tuple[URIRef, URIRef]]) -> set[tuple[URIRef, URIRef]]:
    closure = set(edges)
    while True:
        new = {(a, d) for a, b in closure for c, d in closure if b == c} - closure
        if not new:
            return closure
        closure |= new


def test_no_owl_same_as_that_was_not_asserted(built) -> None:  # noqa: ANN001
    # A contested value on a functional property would make OWL RL merge distinct entities.
    assert not list(built.inferred.triples((None, OWL.sameAs, None)))
    assert not list(built.inferred.triples((None, OWL.differentFrom, None)))


def test_inferred_graph_is_valid_rdf(built) -> None:  # noqa: ANN001
    for s, _p, o in built.inferred:
        assert not isinstance(s, rdflib.Literal)
        assert not isinstance(s, rdflib.BNode) and not isinstance(o, rdflib.BNode)


def test_asserted_consensus_and_inferred_are_disjoint(built) -> None:  # noqa: ANN001
    assert not set(built.asserted) & set(built.inferred)
    assert not set(built.asserted) & set(built.consensus)
    assert not set(built.consensus) & set(built.inferred)


def test_transitive_properties_are_closed(built) -> None:  # noqa: ANN001
    g = built.graph(infer=True)
    base = built.graph(infer=False)
    found_new = 0
    for prop in g.subjects(RDF.type, OWL.TransitiveProperty):
        edges = {(s, o) for s, o in base.subject_objects(prop)}
        for s, o in _closure(edges):
            assert (s, prop, o) in g, f"{s} {prop} {o} missing"
        found_new += sum(1 for _ in built.inferred.triples((None, prop, None)))
    assert found_new > 0, "reasoning derived no transitive edge at all"


def test_place_containment_reaches_the_country(built) -> None:  # noqa: ANN001
    g = built.graph(infer=True)
    town = URIRef("https://w3id.org/jisr-kg/id/place/jisr-ash-shughur")
    syria = URIRef("https://w3id.org/jisr-kg/id/place/syria")
    inside_town = set(g.subjects(JKG.within, town))
    assert inside_town, "nothing is within the town"
    for place in inside_town:
        assert (place, JKG.within, syria) in g
        assert (syria, JKG.contains, place) in g  # the inverse, through the transitive chain
        assert (place, URIRef("http://www.opengis.net/ont/geosparql#sfWithin"), syria) in g  # sub-property


def test_inverse_properties_hold_both_ways(built) -> None:  # noqa: ANN001
    g = built.graph(infer=True)
    inferred_inverse = 0
    for p, q in g.subject_objects(OWL.inverseOf):
        for s, o in g.subject_objects(p):
            assert (o, q, s) in g, f"{o} {q} {s} missing"
            inferred_inverse += (o, q, s) in built.inferred
    assert inferred_inverse > 0


def test_unit_hierarchy_is_transitive(built) -> None:  # noqa: ANN001
    g = built.graph(infer=True)
    regiment = URIRef("https://w3id.org/jisr-kg/id/unit/555th-airborne-regiment")
    forces = URIRef("https://w3id.org/jisr-kg/id/unit/syrian-armed-forces")
    assert (regiment, ORG.transitiveSubOrganizationOf, forces) in g


def test_class_hierarchy_types_every_actor_as_an_agent(built) -> None:  # noqa: ANN001
    g = built.graph(infer=True)
    persons = set(g.subjects(RDF.type, JKG.Person))
    assert persons
    for person in persons:
        assert (person, RDF.type, PROV.Agent) in g
        assert (person, RDF.type, URIRef("https://schema.org/Person")) in g
    assert (URIRef("https://w3id.org/jisr-kg/id/actor/joshua-landis"), RDF.type, PROV.Agent) in built.inferred


def test_refutation_is_a_symmetric_contradiction(built) -> None:  # noqa: ANN001
    g = built.graph(infer=True)
    refutations = list(g.subject_objects(JKG.refutes))
    assert refutations
    for a, b in refutations:
        assert (b, JKG.refutedBy, a) in g
        assert (a, JKG.contradicts, b) in g and (b, JKG.contradicts, a) in g


def test_claims_are_prov_entities_with_evidence_as_derivation(built) -> None:  # noqa: ANN001
    g = built.graph(infer=True)
    for claim in g.subjects(RDF.type, JKG.Claim):
        assert (claim, RDF.type, PROV.Entity) in g
        for span in g.objects(claim, JKG.evidence):
            assert (claim, PROV.wasDerivedFrom, span) in g


def test_no_reasoner_error_triples(built) -> None:  # noqa: ANN001
    err = "http://www.daml.org/2002/03/agents/agent-ont#"
    assert not [t for t in built.graph(infer=True) if any(str(x).startswith(err) for x in t)]
    assert (URIRef(str(RDFS.Resource)), RDF.type, OWL.Class) not in built.asserted


def test_fast_path_gives_exactly_owlrls_entailments() -> None:
    """`reason.entailments` leaves out irrelevant premises and owlrl's reflexive sameAs; the kept
    entailments must be exactly what plain owlrl derives from the whole graph."""
    import owlrl

    from jisr_kg.dataset import consensus_view
    from jisr_kg.load import load
    from jisr_kg.paths import inputs
    from jisr_kg.reason import entailments, keep

    inp = inputs()
    graph = load(inp.rdf)
    graph += consensus_view(graph, inp.consensus_query.read_text(encoding="utf-8"))
    plain = rdflib.Graph()
    plain += graph
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(plain)
    expected = {t for t in plain if t not in graph and keep(*t)}
    assert set(entailments(graph)) == expected
