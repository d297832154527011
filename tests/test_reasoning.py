"""OWL 2 RL reasoning adds what the ontology promises, and nothing that would corrupt the graph."""

from __future__ import annotations

import pytest
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


def test_no_owl_same_as_that_was_not_asserted(built) -> None:
    # A contested value on a functional property would make OWL RL merge distinct entities.
    assert not list(built.inferred.triples((None, OWL.sameAs, None)))
    assert not list(built.inferred.triples((None, OWL.differentFrom, None)))


def test_inferred_graph_is_valid_rdf(built) -> None:
    for s, _p, o in built.inferred:
        assert not isinstance(s, rdflib.Literal)
        assert not isinstance(s, rdflib.BNode) and not isinstance(o, rdflib.BNode)


def test_asserted_consensus_and_inferred_are_disjoint(built) -> None:
    assert not set(built.asserted) & set(built.inferred)
    assert not set(built.asserted) & set(built.consensus)
    assert not set(built.consensus) & set(built.inferred)


def test_transitive_properties_are_closed(built) -> None:
    g = built.union(infer=True)
    base = built.union(infer=False)
    found_new = 0
    for prop in g.subjects(RDF.type, OWL.TransitiveProperty):
        edges = {(s, o) for s, o in base.subject_objects(prop)}
        for s, o in _closure(edges):
            assert (s, prop, o) in g, f"{s} {prop} {o} missing"
        found_new += sum(1 for _ in built.inferred.triples((None, prop, None)))
    assert found_new > 0, "reasoning derived no transitive edge at all"


def test_place_containment_reaches_the_country(built) -> None:
    g = built.union(infer=True)
    town = URIRef("https://w3id.org/jisr-kg/id/place/jisr-ash-shughur")
    syria = URIRef("https://w3id.org/jisr-kg/id/place/syria")
    inside_town = set(g.subjects(JKG.within, town))
    assert inside_town, "nothing is within the town"
    for place in inside_town:
        assert (place, JKG.within, syria) in g
        assert (syria, JKG.contains, place) in g  # the inverse, through the transitive chain
        assert (place, URIRef("http://www.opengis.net/ont/geosparql#sfWithin"), syria) in g  # sub-property


def test_inverse_properties_hold_both_ways(built) -> None:
    g = built.union(infer=True)
    inferred_inverse = 0
    for p, q in g.subject_objects(OWL.inverseOf):
        for s, o in g.subject_objects(p):
            assert (o, q, s) in g, f"{o} {q} {s} missing"
            inferred_inverse += (o, q, s) in built.inferred
    assert inferred_inverse > 0


def test_unit_hierarchy_is_transitive(built) -> None:
    g = built.union(infer=True)
    regiment = URIRef("https://w3id.org/jisr-kg/id/unit/555th-airborne-regiment")
    forces = URIRef("https://w3id.org/jisr-kg/id/unit/syrian-armed-forces")
    assert (regiment, ORG.transitiveSubOrganizationOf, forces) in g


def test_class_hierarchy_types_every_actor_as_an_agent(built) -> None:
    g = built.union(infer=True)
    persons = set(g.subjects(RDF.type, JKG.Person))
    assert persons
    for person in persons:
        assert (person, RDF.type, PROV.Agent) in g
        assert (person, RDF.type, URIRef("https://schema.org/Person")) in g
    assert (URIRef("https://w3id.org/jisr-kg/id/actor/joshua-landis"), RDF.type, PROV.Agent) in built.inferred


def test_refutation_is_a_symmetric_contradiction(built) -> None:
    g = built.union(infer=True)
    refutations = list(g.subject_objects(JKG.refutes))
    assert refutations
    for a, b in refutations:
        assert (b, JKG.refutedBy, a) in g
        assert (a, JKG.contradicts, b) in g and (b, JKG.contradicts, a) in g


def test_claims_are_prov_entities_with_evidence_as_derivation(built) -> None:
    g = built.union(infer=True)
    for claim in g.subjects(RDF.type, JKG.Claim):
        assert (claim, RDF.type, PROV.Entity) in g
        for span in g.objects(claim, JKG.evidence):
            assert (claim, PROV.wasDerivedFrom, span) in g


def test_no_reasoner_error_triples(built) -> None:
    err = "http://www.daml.org/2002/03/agents/agent-ont#"
    assert not [t for t in built.union(infer=True) if any(str(x).startswith(err) for x in t)]
    assert (URIRef(str(RDFS.Resource)), RDF.type, OWL.Class) not in built.asserted


def _premises() -> set[str]:
    """What a build reasons over: the asserted triples plus the consensus view (N-Triples lines)."""
    from jisr_kg.paths import inputs
    from jisr_kg.pipeline.dataset import consensus_view
    from jisr_kg.pipeline.load import parse_files

    inp = inputs()
    asserted = parse_files(inp.rdf)
    return asserted | consensus_view(asserted, inp.consensus_query.read_text(encoding="utf-8"))


def _plain_owlrl(lines: set[str], messages: list[str] | None = None):
    """What plain owlrl derives from the whole graph, less what `reason.keep` drops; with `messages`,
    as `_outcome` gives it."""
    import owlrl

    from jisr_kg.pipeline.load import ntriples, rdflib_graph
    from jisr_kg.pipeline.reason import keep, split

    graph = rdflib_graph(lines)
    plain = rdflib.Graph()
    plain += graph
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(plain)
    new = (t for t in plain if t not in graph and not isinstance(t[0], rdflib.Literal))
    entailed = {line for line in map(ntriples, new) if keep(*split(line))}
    if messages is None:
        return entailed
    if list(plain.objects(None, rdflib.URIRef("http://www.daml.org/2002/03/agents/agent-ont#error"))):
        return "inconsistent", messages
    return "entails", (entailed, messages)


@pytest.mark.slow  # plain owlrl on the whole graph: the reference, about half a minute
def test_both_ways_of_running_owlrl_give_exactly_its_entailments() -> None:
    """The owlrl fast path (irrelevant premises and owlrl's reflexive sameAs left out) and the default
    `rules` reasoner (owlrl on the schema, jisr_kg/rules.py on the instances) must both give exactly
    what plain owlrl derives from the whole graph."""
    from jisr_kg.pipeline.reason import entailments

    lines = _premises()
    expected = _plain_owlrl(lines)
    assert len(expected) > 4000
    assert entailments(lines, reasoner="owlrl") == expected
    assert entailments(lines, reasoner="rules") == expected


SMALL = """
@prefix : <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:Person rdfs:subClassOf :Agent . :Agent owl:equivalentClass :Actor . :Place a owl:Class .
:knows a owl:ObjectProperty, owl:SymmetricProperty ; rdfs:domain :Person ; rdfs:range :Person .
:partOf a owl:ObjectProperty, owl:TransitiveProperty ; owl:inverseOf :hasPart .
:memberOf rdfs:subPropertyOf :partOf .
:age a owl:DatatypeProperty ; rdfs:range xsd:integer .
:nick rdfs:subPropertyOf rdfs:label .
:a :knows :b ; :age 5 ; :nick "A"@en ; :flag true .
:x :memberOf :y . :y :partOf :z . :z :partOf :w .
"""


def _outcome(text: str, reasoner: str) -> tuple[str, object]:
    """What a reasoner makes of a small Turtle graph: its entailments, or that it is inconsistent."""
    import pyoxigraph as ox

    from jisr_kg.pipeline.reason import InconsistencyError, entailments

    lines = {f"{t.subject} {t.predicate} {t.object} ." for t in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)}
    messages: list[str] = []
    if reasoner == "plain":
        return _plain_owlrl(lines, messages)
    try:
        return "entails", (entailments(lines, reasoner=reasoner, progress=messages.append), messages)  # type: ignore[arg-type]
    except InconsistencyError:
        return "inconsistent", messages


def test_rules_fire_as_owlrls_on_each_construct_they_implement() -> None:
    kind, (ours, messages) = _outcome(SMALL, "rules")
    assert kind == "entails" and not messages
    assert ours == _outcome(SMALL, "plain")[1][0]
    ex = "http://example.org/"
    for s, p, o in [("b", "knows", "a"),  # symmetric
                    ("b", RDF.type, "Person"), ("a", RDF.type, "Actor"),  # range, domain, equivalence
                    ("x", "partOf", "w"), ("w", "hasPart", "x"),  # sub-property, transitivity, inverse
                    ("a", RDFS.label, None)]:  # a sub-property of an annotation
        pattern = f"<{ex}{s}> <{p if str(p).startswith('http') else ex + p}> "
        obj = "" if o is None else (f"<{ex}{o}> ." if not str(o).startswith("http") else f"<{o}> .")
        assert any(line.startswith(pattern) and line.endswith(obj) for line in ours), (s, p, o)


@pytest.mark.parametrize("extra", [
    ":knows a owl:FunctionalProperty . :a :knows :c .",  # a construct the rules leave to owlrl
    ":Adult owl:intersectionOf (:Person :Agent) .",
    ":Person owl:disjointWith :Place . :p a :Person, :Place .",  # cax-dw: inconsistent
    ":Person owl:disjointWith :Person . :p a :Person .",  # a class disjoint with itself: one type clashes
    ":age rdfs:range xsd:boolean .",  # a literal of a datatype disjoint with the range
])
def test_rules_agree_with_owlrl_beyond_what_they_implement(extra: str) -> None:
    """Whatever the schema, `rules` (and the owlrl fast path) give plain owlrl's answer: by its own
    rules, or by handing the graph to owlrl (and saying so) when the schema uses a construct it does
    not implement."""
    text = SMALL + extra
    theirs = _outcome(text, "plain")
    for reasoner in ("rules", "owlrl"):
        ours = _outcome(text, reasoner)
        assert ours[0] == theirs[0], reasoner
        if ours[0] == "entails":
            assert ours[1][0] == theirs[1][0], reasoner
    if "Functional" in extra or "intersection" in extra:
        assert any("reasoning with owlrl" in m for m in _outcome(text, "rules")[1][1])


def test_the_projects_data_needs_no_owlrl_fallback() -> None:
    """The default reasoner closes our own data by its rules: a construct it does not implement (say a
    range that is a vocabulary class) would hand the whole graph to owlrl, several times slower."""
    from jisr_kg.paths import inputs
    from jisr_kg.pipeline.load import parse_files
    from jisr_kg.pipeline.reason import entailments

    messages: list[str] = []
    entailments(sorted(parse_files(inputs().rdf)), reasoner="rules", progress=messages.append)
    assert not [m for m in messages if "reasoning with owlrl" in m], messages


def _one_triple_at_a_time(schema: list[tuple[str, str, str]], instances: list[tuple[str, str, str]]) -> set:
    """The instance rules as they were first written (each new triple matched once against indexes):
    the reference for `rules.instance_closure`, which applies them a predicate and a class at a time."""
    from collections import defaultdict

    from jisr_kg.pipeline import rules

    index = rules._Schema(schema, str)
    a = index.a
    known = set(instances)
    out: dict = {p: defaultdict(set) for p in index.trans}
    into: dict = {p: defaultdict(set) for p in index.trans}
    for s, p, o in known:
        if p in out:
            out[p][s].add(o)
            into[p][o].add(s)
    derived: set = set()
    todo = list(known)

    def add(t: tuple[str, str, str]) -> None:
        if t not in known:
            known.add(t)
            derived.add(t)
            todo.append(t)
            if t[1] in out:
                out[t[1]][t[0]].add(t[2])
                into[t[1]][t[2]].add(t[0])

    while todo:
        s, p, o = todo.pop()
        if p == a:
            for c in index.supers.get(o, ()):
                add((s, a, c))
        for c in index.domains.get(p, ()):
            add((s, a, c))
        for c in index.ranges.get(p, ()):
            add((o, a, c))
        for q in index.superprops.get(p, ()):
            add((s, q, o))
        for q in index.inverses.get(p, ()):
            add((o, q, s))
        if p in index.symm:
            add((o, p, s))
        if p in out:
            for z in list(out[p].get(o, ())):
                add((s, p, z))
            for w in list(into[p].get(s, ())):
                add((w, p, o))
    return derived


@pytest.mark.parametrize("seed", range(40))
def test_the_instance_rules_a_set_at_a_time_derive_what_they_derive_a_triple_at_a_time(seed: int) -> None:
    """`rules.instance_closure` joins whole sets per predicate and class, in rounds; on random schemas
    (rdf:type itself among the properties with a domain, an inverse, a super-property or a
    characteristic, now and then) and random data it derives exactly the triples of the plain algorithm."""
    import random

    from jisr_kg.pipeline import rules

    rnd = random.Random(seed)
    a, ex = str(RDF.type), "http://example.org/"
    nodes = [f"{ex}n{i}" for i in range(8)] + ['"1"', '"x"@en']
    classes = [f"{ex}C{i}" for i in range(5)]
    props = [f"{ex}p{i}" for i in range(6)] + ([a] if seed % 3 == 0 else [])
    links = [str(RDFS.subClassOf), str(RDFS.subPropertyOf), str(RDFS.domain), str(RDFS.range), str(OWL.inverseOf)]
    schema = []
    for _ in range(rnd.randint(3, 14)):
        link = rnd.choice(links)
        if link == str(RDFS.subClassOf):
            schema.append((rnd.choice(classes), link, rnd.choice(classes)))
        elif link in (str(RDFS.domain), str(RDFS.range)):
            schema.append((rnd.choice(props), link, rnd.choice(classes)))
        else:
            schema.append((rnd.choice(props), link, rnd.choice(props)))
    for characteristic in (OWL.TransitiveProperty, OWL.SymmetricProperty):
        schema += [(p, a, str(characteristic)) for p in rnd.sample(props, rnd.randint(0, 3))]
    instances = [(rnd.choice(nodes[:8]), rnd.choice(props), rnd.choice(nodes)) for _ in range(rnd.randint(5, 40))]
    instances += [(rnd.choice(nodes[:8]), a, rnd.choice(classes)) for _ in range(rnd.randint(0, 10))]
    derived, known = rules.instance_closure(schema, instances, str)
    expected = _one_triple_at_a_time(schema, instances)
    assert set(derived) == expected and len(derived) == len(expected)
    assert set(known) == set(instances) | expected


def test_owlrls_rules_run_with_the_same_code_and_terms_at_hand() -> None:
    """`reason._without_reflexive_same_as` runs owlrl's own rule methods with rdflib's vocabulary classes
    (whose every attribute read runs Python code) swapped, in their globals only, for objects that
    hold each term once read: the same code, the same terms, nothing else changed."""
    import owlrl
    from rdflib.namespace import XSD

    from jisr_kg.pipeline import reason

    for semantics in (owlrl.OWLRL_Semantics, owlrl.RDFS_Semantics):
        ours = reason._without_reflexive_same_as(semantics)
        assert reason._without_reflexive_same_as(semantics) is ours  # made once
        copied = [name for name, f in vars(semantics).items() if callable(f) and hasattr(f, "__code__")]
        assert copied
        for name in copied:
            theirs, mine = vars(semantics)[name], vars(ours)[name]
            assert mine.__code__ is theirs.__code__
            changed = {k for k, v in mine.__globals__.items() if v is not theirs.__globals__.get(k)}
            assert changed and changed <= {"OWL", "RDF", "RDFS", "XSD"}, changed
            assert mine.__globals__.keys() == theirs.__globals__.keys()
    terms = reason._Terms(OWL)
    assert terms.sameAs == OWL.sameAs and terms.sameAs is terms.sameAs and terms["Thing"] == OWL["Thing"]
    assert reason._Terms(XSD).integer == XSD.integer
