"""OWL 2 RL for the constructs our ontology uses, over plain sets: owlrl's entailments, much faster.

owlrl applies every OWL 2 RL rule to every triple, over and over, until nothing changes: 2 s on our
data, about 17 minutes at 100 times the data. But our ontology uses few constructs: sub-classes and
sub-properties, domains and ranges, inverse, symmetric and transitive properties (and equivalences,
which the schema rules turn into sub-classes and sub-properties both ways). So the work is split:

- the schema (T-box: what the ontology and the data say about classes and properties) is small, and
  owlrl closes it, so that every schema rule (scm-*) is owlrl's own;
- the instance triples (A-box) are closed here by the rules that can fire on them given that schema
  (cax-sco, prp-dom, prp-rng, prp-spo1, prp-inv1/2, prp-symp, prp-trp), semi-naively and a set at a
  time: each round joins the triples new in the last one, a predicate or a class at a time, with set
  operations; `clashes` then finds what cax-dw would report (owlrl states the datatypes of the literals
  it sees disjoint, so a literal of the wrong type for a range is one).

`supported` checks the closed schema uses no other construct (a functional property, a restriction, a
disjointness, sameAs, ...). When it does, the caller must use owlrl on everything instead.
tests/test_reasoning.py checks the result equals owlrl's on the project's data.

Terms are whatever the caller uses (rdflib terms or N-Triples strings): the rules only compare them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"

#: Vocabulary properties that no OWL 2 RL rule reads (annotations): their triples are instance data.
ANNOTATIONS = frozenset({
    RDFS + "label", RDFS + "comment", RDFS + "seeAlso", RDFS + "isDefinedBy",
    OWL + "versionInfo", OWL + "deprecated", OWL + "priorVersion", OWL + "backwardCompatibleWith",
    OWL + "incompatibleWith",
})

#: What the closed schema may say for these rules to be owlrl's: predicates, and the classes a
#: vocabulary term may be typed with. Anything else in the RDFS/OWL namespaces is unsupported.
SCHEMA_PREDICATES = frozenset({
    RDF + "type", RDFS + "subClassOf", RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range",
    OWL + "inverseOf", OWL + "equivalentClass", OWL + "equivalentProperty", OWL + "disjointWith",
    OWL + "imports", OWL + "versionIRI",
}) | ANNOTATIONS
SCHEMA_TYPES = frozenset({
    OWL + "Class", RDFS + "Class", RDFS + "Datatype", RDF + "Property", OWL + "Ontology",
    OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty", OWL + "OntologyProperty",
    OWL + "TransitiveProperty", OWL + "SymmetricProperty", OWL + "Thing", OWL + "Nothing",
    OWL + "NamedIndividual",
})


def meaningful(iri: str) -> bool:
    """Whether OWL 2 RL gives the term meaning: the OWL and RDFS vocabularies, and rdf:type, lists and
    properties (not rdf:Statement and its rdf:subject/predicate/object, which no rule reads)."""
    return iri.startswith((OWL, RDFS)) or iri in _RDF_TERMS


_RDF_TERMS = frozenset(RDF + n for n in ("type", "Property", "List", "first", "rest", "nil"))

Term = Hashable
Triple = tuple[Term, Term, Term]


def is_schema(s: str, p: str, o: str) -> bool:
    """Whether a triple (as IRIs, or any strings) belongs to the schema: a meaningful vocabulary
    predicate other than an annotation, or a meaningful vocabulary class as a type."""
    if p == RDF + "type":
        return meaningful(o)
    return meaningful(p) and p not in ANNOTATIONS


def unsupported(schema: Iterable[tuple[str, str, str]]) -> list[str]:
    """The constructs of a closed schema (as IRI strings) that these rules do not implement."""
    found = set()
    for s, p, o in schema:
        if meaningful(p) and p not in SCHEMA_PREDICATES and p not in (RDF + "first", RDF + "rest"):
            found.add(p)
        elif p == RDF + "type" and meaningful(o) and o not in SCHEMA_TYPES:
            found.add(o)
        elif p in _LINKS and meaningful(o) and o not in ANNOTATIONS and o not in (OWL + "Thing", s):
            # a class or property that is itself a vocabulary term would let instance triples make
            # schema (a sub-property of rdfs:subClassOf, a domain of owl:Class, ...)
            found.add(f"{p} {o}")
    return sorted(found)


_LINKS = frozenset({RDFS + "subClassOf", RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range",
                    OWL + "inverseOf", OWL + "equivalentProperty", OWL + "equivalentClass"})


class _Schema:
    """What the instance rules need of a closed schema, as indexes."""

    def __init__(self, schema: Iterable[Triple], iri: Callable[[str], Term]) -> None:
        self.a, sco, spo = iri(RDF + "type"), iri(RDFS + "subClassOf"), iri(RDFS + "subPropertyOf")
        dom, rng, inv = iri(RDFS + "domain"), iri(RDFS + "range"), iri(OWL + "inverseOf")
        transitive, symmetric = iri(OWL + "TransitiveProperty"), iri(OWL + "SymmetricProperty")
        self.supers: dict[Term, set[Term]] = defaultdict(set)  # class -> super-classes (closed by owlrl)
        self.superprops: dict[Term, set[Term]] = defaultdict(set)
        self.domains: dict[Term, set[Term]] = defaultdict(set)
        self.ranges: dict[Term, set[Term]] = defaultdict(set)
        self.inverses: dict[Term, set[Term]] = defaultdict(set)
        self.trans: set[Term] = set()
        self.symm: set[Term] = set()
        for s, p, o in schema:
            if p == sco and s != o:
                self.supers[s].add(o)
            elif p == spo and s != o:
                self.superprops[s].add(o)
            elif p == dom:
                self.domains[s].add(o)
            elif p == rng:
                self.ranges[s].add(o)
            elif p == inv:  # prp-inv1 and prp-inv2
                self.inverses[s].add(o)
                self.inverses[o].add(s)
            elif p == self.a and o == transitive:
                self.trans.add(s)
            elif p == self.a and o == symmetric:
                self.symm.add(s)

    def predicates(self) -> set[Term]:
        """The predicates of every triple a rule reads or derives (inverses are stored both ways)."""
        found = {self.a, *self.domains, *self.ranges, *self.superprops, *self.inverses, *self.trans, *self.symm}
        for supers in self.superprops.values():
            found |= supers
        return found


def predicates(schema: Iterable[Triple], iri: Callable[[str], Term]) -> set[Term]:
    """The predicates of the instance triples that the rules can use under the closed `schema`: rdf:type
    and every property with a domain, range, super-property, inverse or characteristic, and the
    properties they derive. A triple with any other predicate fires no rule and is never derived, so
    `instance_closure` derives the same without it (at 1000 times our data, most of the triples)."""
    return _Schema(schema, iri).predicates()


class Closure:
    """Instance triples by predicate: `types` holds the rdf:type triples as class -> its nodes, `pairs` the
    others as predicate -> (subject, object) pairs. Sets of nodes and of pairs are what the rules join
    and compare a predicate or a class at a time (in C), rather than a triple at a time."""

    def __init__(self, a: Term) -> None:
        self.a = a
        self.types: dict[Term, set[Term]] = defaultdict(set)
        self.pairs: dict[Term, set[tuple[Term, Term]]] = defaultdict(set)

    def __iter__(self) -> Iterator[Triple]:
        a = self.a
        for c, nodes in self.types.items():
            for s in nodes:
                yield s, a, c
        for p, pairs in self.pairs.items():
            for s, o in pairs:
                yield s, p, o

    def __len__(self) -> int:
        return sum(map(len, self.types.values())) + sum(map(len, self.pairs.values()))


def instance_closure(schema: Iterable[Triple], instances: Iterable[Triple],
                     iri: Callable[[str], Term]) -> tuple[Closure, Closure]:
    """The triples the rules derive from `instances` under the closed `schema`, less `instances`; and all
    the triples known at the end (`instances` and the derived ones).

    `iri` turns an IRI string into the caller's term, so that the vocabulary compares equal.
    Like owlrl, this may derive triples with a literal subject; the caller filters them.

    Semi-naive, a set at a time: each round applies every rule to the triples new in the last round
    (`delta`), grouped by predicate, so that a rule is a few set operations per predicate or class; what
    is not known yet is the next round's delta. The result is the least fixpoint, as a triple at a time.
    """
    index = _Schema(schema, iri)
    a, supers, superprops, domains = index.a, index.supers, index.superprops, index.domains
    ranges, inverses, trans, symm = index.ranges, index.inverses, index.trans, index.symm
    # rdf:type triples are kept by class; where a rule reads rdf:type as a property (a domain of
    # rdf:type, say, which no ontology of ours has) its delta is also made into pairs
    type_as_property = a in domains or a in ranges or a in superprops or a in inverses or a in trans or a in symm

    known = Closure(a)
    types, pairs = known.types, known.pairs
    for s, p, o in instances:
        if p == a:
            types[o].add(s)
        else:
            pairs[p].add((s, o))
    derived = Closure(a)
    # for the transitive properties: p -> subject -> objects, and p -> object -> subjects
    out: dict[Term, dict[Term, set[Term]]] = {p: defaultdict(set) for p in trans}
    into: dict[Term, dict[Term, set[Term]]] = {p: defaultdict(set) for p in trans}
    for p in trans:
        for s, o in pairs.get(p, ()) if p != a else ((s, c) for c, nodes in types.items() for s in nodes):
            out[p][s].add(o)
            into[p][o].add(s)

    # the first round's delta is everything known (the sets are read, not changed, within a round)
    delta_types: dict[Term, set[Term]] = dict(types)
    delta_pairs: dict[Term, set[tuple[Term, Term]]] = dict(pairs)
    while delta_types or delta_pairs:
        new_types: dict[Term, set[Term]] = defaultdict(set)
        new_pairs: dict[Term, set[tuple[Term, Term]]] = defaultdict(set)
        for c, nodes in delta_types.items():
            for d in supers.get(c, ()):  # cax-sco
                new_types[d] |= nodes
        if type_as_property and delta_types:
            delta_pairs[a] = {(s, c) for c, nodes in delta_types.items() for s in nodes}
        for p, new in delta_pairs.items():
            if p in domains:  # prp-dom
                subjects = {s for s, _o in new}
                for c in domains[p]:
                    new_types[c] |= subjects
            if p in ranges:  # prp-rng
                objects = {o for _s, o in new}
                for c in ranges[p]:
                    new_types[c] |= objects
            for q in superprops.get(p, ()):  # prp-spo1
                new_pairs[q] |= new
            if p in inverses or p in symm:
                flipped = {(o, s) for s, o in new}
                for q in inverses.get(p, ()):  # prp-inv1, prp-inv2
                    new_pairs[q] |= flipped
                if p in symm:  # prp-symp
                    new_pairs[p] |= flipped
            if p in out:  # prp-trp: each new edge joined on either side with all known (new ones included)
                found, after, before = new_pairs[p], out[p], into[p]
                for s, o in new:
                    if o in after:
                        found.update([(s, z) for z in after[o]])
                    if s in before:
                        found.update([(w, o) for w in before[s]])
        if a in new_pairs:  # rdf:type derived as a property (an inverse of rdf:type, say)
            for s, c in new_pairs.pop(a):
                new_types[c].add(s)
        delta_types = {}
        for c, nodes in new_types.items():
            nodes -= types[c]
            if nodes:
                types[c] |= nodes
                derived.types[c] |= nodes
                delta_types[c] = nodes
                if a in out:
                    for s in nodes:
                        out[a][s].add(c)
                        into[a][c].add(s)
        delta_pairs = {}
        for p, new in new_pairs.items():
            new -= pairs[p]
            if new:
                pairs[p] |= new
                derived.pairs[p] |= new
                delta_pairs[p] = new
                if p in out:
                    after, before = out[p], into[p]
                    for s, o in new:
                        after[s].add(o)
                        before[o].add(s)
    return derived, known


def clashes(schema: Iterable[Triple], typed: Iterable[tuple[Term, Term]], iri: Callable[[str], Term]) -> list[str]:
    """cax-dw: each node (`typed` gives node, class pairs) that has two classes the schema says are
    disjoint, as owlrl words its error."""
    disjoint = iri(OWL + "disjointWith")
    pairs = {(s, o) for s, p, o in schema if p == disjoint}
    if not pairs:
        return []
    types: dict[Term, set[Term]] = defaultdict(set)
    for node, cls in typed:
        types[node].add(cls)
    errors = []
    for node, classes in types.items():
        for c1, c2 in pairs:
            if c1 in classes and c2 in classes:
                errors.append(f"Disjoint classes {c1} and {c2} have a common individual {node}")
    return sorted(errors)
