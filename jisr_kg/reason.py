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
    if reasoner == "owlrl":
        closure = _owlrl(graph, profile)
    elif reasoner == "reasonable":
        if profile != "owlrl":
            raise JisrError("the reasonable reasoner does OWL 2 RL only; use --reasoner owlrl for RDFS")
        closure = _reasonable(graph)
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
    owlrl.DeductiveClosure(semantics).expand(closure)
    return closure


def _reasonable(graph: rdflib.Graph) -> rdflib.Graph:
    try:
        import reasonable
    except ImportError:
        raise JisrError("the reasonable reasoner is not installed: pip install 'jisr-kg[fast]'") from None
    r = reasonable.PyReasoner()
    r.from_graph(graph)
    closure = rdflib.Graph()
    for t in r.reason():
        closure.add(t)
    return closure
