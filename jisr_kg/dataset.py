"""The built dataset: asserted, consensus and inferred triples as three named graphs.

`compile_dataset` runs load -> consensus -> reason; `cache` keeps the result on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import rdflib

from .load import load
from .namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH, PREFIXES
from .paths import Inputs
from .reason import Profile, Reasoner, entailments

Progress = Callable[[str], None]


@dataclass
class BuiltDataset:
    """What a build makes from its inputs. The three graphs share no triple."""

    asserted: rdflib.Graph
    consensus: rdflib.Graph
    inferred: rdflib.Graph
    key: str
    _derived: dict = field(default_factory=dict, repr=False, compare=False)  # computed once, on demand

    def graph(self, *, infer: bool = True, consensus: bool = True) -> rdflib.Graph:
        """One graph to query or validate: asserted, plus consensus and inferred unless left out."""
        g = new_graph()
        g += self.asserted
        if consensus:
            g += self.consensus
        if infer:
            g += self.inferred
        return g

    def union(self, *, infer: bool = True) -> rdflib.Graph:
        """Like `graph`, but made once and shared: for reading (queries, validation), not for changing."""
        key = f"union-{infer}"
        if key not in self._derived:
            self._derived[key] = self.graph(infer=infer)
        return self._derived[key]

    def sorted_triples(self, name: str) -> list:
        """The triples of one named graph as `results.Term`s in N-Triples order, computed once: every
        export and the cache are written from them."""
        if name not in self._derived:
            from .results import ntriples_key, rdflib_term

            graph = dict(self.named_graphs())[name]
            terms = ((rdflib_term(s), rdflib_term(p), rdflib_term(o)) for s, p, o in graph)
            self._derived[name] = sorted(terms, key=ntriples_key)
        return self._derived[name]

    def named_graphs(self, *, infer: bool = True) -> list[tuple[str, rdflib.Graph]]:
        graphs = [(ASSERTED_GRAPH, self.asserted), (CONSENSUS_GRAPH, self.consensus)]
        if infer:
            graphs.append((INFERRED_GRAPH, self.inferred))
        return graphs


def new_graph() -> rdflib.Graph:
    g = rdflib.Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    return g


def consensus_view(asserted: rdflib.Graph, query_text: str) -> rdflib.Graph:
    """The triples of the consensus CONSTRUCT that are not asserted already."""
    result = asserted.query(query_text)
    g = new_graph()
    for t in result.graph:
        if t not in asserted:
            g.add(t)
    return g


def compile_dataset(
    inputs: Inputs,
    *,
    reasoner: Reasoner = "owlrl",
    profile: Profile = "owlrl",
    progress: Progress | None = None,
) -> BuiltDataset:
    """Load the inputs, derive the consensus view and reason over both."""
    say = progress or (lambda _msg: None)
    say(f"parsing {len(inputs.rdf)} files")
    asserted = new_graph()
    asserted += load(inputs.rdf)
    say("deriving the consensus view")
    consensus = consensus_view(asserted, inputs.consensus_query.read_text(encoding="utf-8"))
    say(f"reasoning ({reasoner}, {'OWL 2 RL' if profile == 'owlrl' else 'RDFS'})")
    base = new_graph()
    base += asserted
    base += consensus
    inferred = new_graph()
    inferred += entailments(base, reasoner=reasoner, profile=profile)
    return BuiltDataset(asserted, consensus, inferred, inputs.key())
