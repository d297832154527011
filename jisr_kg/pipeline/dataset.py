"""The built dataset: asserted, consensus and inferred triples as three named graphs.

`compile_dataset` runs load -> consensus -> reason; `cache` keeps the result on disk. Each graph is
held as its sorted N-Triples lines, which the cache and every export are written from; an rdflib
graph is made from them only when something needs one (pyshacl, the rdflib query engine).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from jisr_kg.paths import Inputs
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH, PREFIXES

Progress = Callable[[str], None]
GRAPHS = (ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH)


@dataclass
class BuiltDataset:
    """What a build makes from its inputs. The three graphs share no triple."""

    lines: dict[str, list[str]]  # graph IRI -> its triples as sorted N-Triples lines (no newline)
    key: str
    _derived: dict = field(default_factory=dict, repr=False, compare=False)  # computed once, on demand

    def names(self, *, infer: bool = True, consensus: bool = True) -> list[str]:
        return [g for g in GRAPHS if (infer or g != INFERRED_GRAPH) and (consensus or g != CONSENSUS_GRAPH)]

    def count(self, name: str) -> int:
        return len(self.lines[name])

    def ntriples(self, name: str) -> bytes:
        """One graph as an N-Triples document, in sorted order."""
        return "".join(line + "\n" for line in self.lines[name]).encode("utf-8")

    def merged(self, *, infer: bool = True, consensus: bool = True) -> list[str]:
        """The sorted lines of several graphs (which share none) as one sorted list."""
        return list(heapq.merge(*(self.lines[n] for n in self.names(infer=infer, consensus=consensus))))

    # rdflib views, made on first use

    @property
    def asserted(self):  # rdflib.Graph
        return self._rdflib(ASSERTED_GRAPH)

    @property
    def consensus(self):  # rdflib.Graph
        return self._rdflib(CONSENSUS_GRAPH)

    @property
    def inferred(self):  # rdflib.Graph
        return self._rdflib(INFERRED_GRAPH)

    def _rdflib(self, name: str):
        if name not in self._derived:
            self._derived[name] = self.graph_of(self.lines[name])
        return self._derived[name]

    def graph(self, *, infer: bool = True, consensus: bool = True):  # rdflib.Graph
        """One new rdflib graph: asserted, plus consensus and inferred unless left out."""
        return self.graph_of(self.merged(infer=infer, consensus=consensus))

    def union(self, *, infer: bool = True):  # rdflib.Graph
        """Like `graph`, but made once and shared: for reading (queries, validation), not for changing."""
        key = f"union-{infer}"
        if key not in self._derived:
            self._derived[key] = self.graph(infer=infer)
        return self._derived[key]

    def named_graphs(self, *, infer: bool = True) -> list[tuple[str, object]]:
        """(graph IRI, rdflib graph) for each named graph."""
        return [(name, self._rdflib(name)) for name in self.names(infer=infer)]

    @staticmethod
    def graph_of(lines: list[str]):  # rdflib.Graph
        from jisr_kg.pipeline.load import rdflib_graph

        return rdflib_graph(lines, new_graph())


def new_graph():  # rdflib.Graph
    import rdflib

    g = rdflib.Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    return g


def consensus_view(asserted: set[str], query_text: str) -> set[str]:
    """The triples (N-Triples lines) of the consensus CONSTRUCT that are not asserted already."""
    import pyoxigraph as ox

    store = ox.Store()
    store.load("\n".join(asserted).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    made = {f"{t.subject} {t.predicate} {t.object} ." for t in store.query(query_text)}  # type: ignore[union-attr]
    return made - asserted


def compile_dataset(
    inputs: Inputs,
    *,
    reasoner: str = "rules",
    profile: str = "owlrl",
    progress: Progress | None = None,
) -> BuiltDataset:
    """Load the inputs, derive the consensus view and reason over both."""
    from jisr_kg.pipeline.load import parse_files
    from jisr_kg.pipeline.reason import entailments

    say = progress or (lambda _msg: None)
    say(f"parsing {len(inputs.rdf)} files")
    asserted = parse_files(inputs.rdf)
    say("deriving the consensus view")
    consensus = consensus_view(asserted, inputs.consensus_query.read_text(encoding="utf-8"))
    say(f"reasoning ({reasoner}, {'OWL 2 RL' if profile == 'owlrl' else 'RDFS'})")
    inferred = entailments(asserted | consensus, reasoner=reasoner, profile=profile,  # type: ignore[arg-type]
                           progress=progress)
    lines = {ASSERTED_GRAPH: sorted(asserted), CONSENSUS_GRAPH: sorted(consensus), INFERRED_GRAPH: sorted(inferred)}
    return BuiltDataset(lines, inputs.key())
