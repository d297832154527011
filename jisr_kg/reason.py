"""Reason: the OWL 2 RL (or RDFS) closure of a graph, kept apart from what was asserted.

owlrl is the reference reasoner. What it adds that is not RDF, or says nothing, is dropped:
triples with a literal subject (its datatype typing) and `x owl:sameAs x`. An inconsistency, which
owlrl records as "error" triples instead of stopping, is raised as an error.
`reasonable` (OWL 2 RL in Rust) is a faster path for large graphs.
"""

from __future__ import annotations

from typing import Literal

import rdflib
from rdflib import OWL, RDF, BNode
from rdflib import Literal as RDFLiteral

from .errors import JisrError

ERR = rdflib.Namespace("http://www.daml.org/2002/03/agents/agent-ont#")

Reasoner = Literal["owlrl", "reasonable"]
Profile = Literal["owlrl", "rdfs"]
REASONERS: tuple[str, ...] = ("owlrl", "reasonable")


class InconsistencyError(JisrError):
    """The reasoner found the graph inconsistent (a contradiction in the data and the ontology)."""


def entailments(graph: rdflib.Graph, *, reasoner: Reasoner = "owlrl", profile: Profile = "owlrl") -> rdflib.Graph:
    """The triples that reasoning adds to `graph`, without those `graph` already has."""
    # RDFS types every node and property it sees, so under RDFS no triple is irrelevant.
    premises = relevant(graph) if profile == "owlrl" else graph
    if reasoner == "owlrl":
        closure = _owlrl(premises, profile)
    elif reasoner == "reasonable":
        if profile != "owlrl":
            raise JisrError("the reasonable reasoner does OWL 2 RL only; use --reasoner owlrl for RDFS")
        closure = _reasonable(premises)
    else:
        raise JisrError(f"unknown reasoner {reasoner!r} (choose from {', '.join(REASONERS)})")
    errors = sorted(str(o) for o in closure.objects(None, ERR.error))
    if errors:
        raise InconsistencyError("the reasoner found the data inconsistent: " + "; ".join(errors))
    inferred = rdflib.Graph()
    for s, p, o in closure:
        if (s, p, o) in graph or not keep(s, p, o):
            continue
        inferred.add((s, p, o))
    return inferred


def relevant(graph: rdflib.Graph) -> rdflib.Graph:
    """The premises worth reasoning over: the graph less the triples no rule can use.

    An OWL 2 RL or RDFS rule can only fire on a triple `s p o` through what the graph says about `p`
    (a domain, range, super-property, inverse, characteristic, restriction or chain), or when `p` is
    rdf:type, a list link, or part of the RDFS/OWL vocabulary itself. A triple whose property the graph
    never mentions as a node (labels, quotes, notes, the claim reification and attribution triples)
    yields nothing but `x owl:sameAs x` and its own literal's datatype, both of which `keep` drops.
    Leaving those triples out makes owlrl several times faster (it loops over every triple until
    nothing changes); tests/test_reasoning.py checks that the entailments are the same.
    """
    mentioned = set(graph.subjects()) | {o for o in graph.objects() if not isinstance(o, RDFLiteral)}
    premises = rdflib.Graph()
    for t in graph:
        p = t[1]
        if p in mentioned or p in _ALWAYS or str(p).startswith(_VOCAB):
            premises.add(t)
    return premises


_ALWAYS = {RDF.type, RDF.first, RDF.rest}
_VOCAB = (str(OWL), "http://www.w3.org/2000/01/rdf-schema#")


def keep(s: rdflib.term.Node, p: rdflib.term.Node, o: rdflib.term.Node) -> bool:
    """Whether an entailed triple is worth keeping: valid RDF, not trivial, not a reasoner artefact."""
    if isinstance(s, RDFLiteral) or isinstance(p, (RDFLiteral, BNode)):
        return False
    if p == OWL.sameAs and s == o:
        return False
    if isinstance(s, BNode) or isinstance(o, BNode):  # only the reasoners' own bookkeeping uses them
        return False
    return not (str(s).startswith(str(ERR)) or str(o).startswith(str(ERR)))


def _owlrl(graph: rdflib.Graph, profile: Profile) -> rdflib.Graph:
    import owlrl

    closure = rdflib.Graph()
    closure += graph
    semantics = owlrl.OWLRL_Semantics if profile == "owlrl" else owlrl.RDFS_Semantics
    owlrl.DeductiveClosure(_without_reflexive_same_as(semantics)).expand(closure)
    return closure


def _without_reflexive_same_as(semantics: type) -> type:
    """owlrl's rules, less the `x owl:sameAs x` that rule eq-ref adds for every node.

    Those triples say nothing, `keep` drops them, and owlrl then feeds each one through the
    eq-rep-s/p/o rules, copying every node's triples onto itself: most of its running time on our
    data. Every other rule is untouched, so the kept entailments are exactly owlrl's
    (tests/test_reasoning.py compares them with plain owlrl).
    """

    class Semantics(semantics):  # type: ignore[misc, valid-type]
        def store_triple(self, t: tuple) -> None:
            if t[1] == OWL.sameAs and t[0] == t[2]:
                return
            super().store_triple(t)

    Semantics.__name__ = f"{semantics.__name__}WithoutReflexiveSameAs"
    return Semantics


def _reasonable(graph: rdflib.Graph) -> rdflib.Graph:
    try:
        import reasonable
    except ImportError:
        raise JisrError("the reasonable reasoner is not installed: pip install 'jisr-kg[fast]'") from None
    r = reasonable.PyReasoner()
    r.from_graph(graph)
    closure = rdflib.Graph()
    for s, p, o in r.reason():
        # reasonable returns plain strings as "x"^^xsd:string: the same RDF 1.1 term as "x", but rdflib
        # tells them apart, and the asserted triple would come back as an "inferred" one.
        if isinstance(o, RDFLiteral) and o.datatype == XSD_STRING and not o.language:
            o = RDFLiteral(str(o))
        closure.add((s, p, o))
    return closure


XSD_STRING = rdflib.XSD.string
