"""The built dataset: asserted, consensus and inferred triples as three named graphs.

`compile_dataset` runs load -> consensus -> reason; `cache` keeps the result on disk. Each graph is
held as its sorted N-Triples lines, which the cache and every export are written from; an rdflib
graph is made from them only when something needs one (pyshacl, the rdflib query engine).
"""

from __future__ import annotations

import heapq
import io
import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jisr_kg.paths import Inputs
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH, PREFIXES

Progress = Callable[[str], None]
GRAPHS = (ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH)


@dataclass
class BuiltDataset:
    """What a build makes from its inputs. The three graphs share no triple."""

    # graph IRI -> its triples as sorted N-Triples lines (no newline): a list, or for a large release
    # the graph file of the cache entry, read again each time (`FileLines`)
    lines: dict[str, list[str] | FileLines]
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


class FileLines:
    """The lines of a graph file of the cache (sorted N-Triples, one per line), read from disk each time
    they are iterated: what a large release is written from, so that memory does not hold them all."""

    def __init__(self, path: Path, count: int) -> None:
        self.path = path
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        with open(self.path, "rb") as f:
            rest = b""
            while True:
                block = f.read(1 << 20)
                if not block:
                    break
                block = rest + block
                cut = block.rfind(b"\n") + 1  # no byte of a multi-byte UTF-8 character is a line feed
                rest = block[cut:]
                # not splitlines(): a literal may hold U+2028 and the like, which N-Triples leaves unescaped
                yield from block[:cut].decode("utf-8").split("\n")[:-1]
        if rest:
            yield rest.decode("utf-8")


def new_graph():  # rdflib.Graph
    import rdflib

    g = rdflib.Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns, override=True, replace=True)
    return g


def consensus_view(asserted: Collection[str], query_text: str, *, keep: list | None = None) -> set[str]:
    """The triples (N-Triples lines) of the consensus CONSTRUCT that are not asserted already.
    `keep`: a list the store is put in rather than freed here (a forked child that is about to exit
    need not free it one node at a time: 0.4 s at 100 times our data)."""
    import pyoxigraph as ox

    # An in-memory store, fed a few thousand lines at a time: joining every line into one text (and its
    # UTF-8 copy) took as much memory again as the lines. The store takes about 350 bytes a triple
    # (3 GB at 1000 times our data). An on-disk store was tried and measured (docs/decisions/0022):
    # its bulk loader took more memory than this up to 300 times our data, and twice the time.
    # Parsed leniently (no IRI and language-tag checks): Oxigraph wrote these lines from terms it had
    # parsed strictly (load.parse_file), so the checks can only pass again; 15% less CPU at 100x.
    store = ox.Store()
    store.load(input=LinesReader(asserted), format=ox.RdfFormat.N_TRIPLES, lenient=True)
    made = {f"{t.subject} {t.predicate} {t.object} ." for t in store.query(query_text)}  # type: ignore[union-attr]
    if keep is not None:
        keep.append(store)
    del store
    release_memory()
    return {line for line in made if line not in asserted}


def release_memory() -> None:
    """Give the memory freed by a finished step back to the system (glibc keeps freed blocks for the
    process; Python's own allocator does not reuse them for small objects, so without this the next
    step's peak stacks on top of the last one's: 300 MB at 100 times our data, after the consensus
    store). A no-op where there is no glibc."""
    global _TRIM
    if _TRIM is None:
        import ctypes
        import sys

        try:  # the symbols of the running process, glibc's among them on Linux
            _TRIM = getattr(ctypes.CDLL(None), "malloc_trim", False) if sys.platform.startswith("linux") else False
        except OSError:
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None  # glibc's malloc_trim, False where there is none


class LinesReader(io.RawIOBase):
    """N-Triples lines as a binary file, read a few thousand lines at a time: what Oxigraph's loaders
    read without the whole text in memory."""

    def __init__(self, lines: Iterable[str], chunk: int = 20000) -> None:
        super().__init__()
        self._lines = iter(lines)
        self._chunk = chunk
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def, override]
        if not self._buf:
            batch = list(itertools.islice(self._lines, self._chunk))
            if not batch:
                return 0
            self._buf = memoryview(("\n".join(batch) + "\n").encode("utf-8"))
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


#: Below this many bytes of input the files are parsed by this process alone: forking a second one
#: and taking its lines back costs more than it saves (our data is 1.3 MB, ten times it 13 MB).
PARSE_SPLIT_MIN = 8 * 2**20


def parse_inputs(paths: Sequence[Path]) -> set[str]:
    """The triples of the files, merged (`load.parse_files`). Large inputs are parsed by two processes:
    a forked child parses the later half of the bytes while this process parses the first, then sends
    its lines back as one text. A bad file is reported as `parse_files` reports it: the first in order."""
    from jisr_kg.pipeline.forked import Forked, can_fork
    from jisr_kg.pipeline.load import parse_file, parse_files

    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(0)  # parse_file says why
    if sum(sizes) < PARSE_SPLIT_MIN or len(paths) < 2 or not can_fork():
        return parse_files(paths)
    # the child takes the files after the first half of the bytes (at least one file each)
    half = sum(sizes) / 2
    cut = next((i + 1 for i, seen in enumerate(itertools.accumulate(sizes)) if seen >= half), len(paths) - 1)
    cut = min(max(cut, 1), len(paths) - 1)

    def later() -> bytes:
        lines: list[str] = []
        for index in range(cut, len(paths)):
            lines += parse_file(paths[index], index)
        return "\n".join(lines).encode("utf-8")

    child = Forked(later, "the process parsing the input files")
    try:
        lines = set()
        for index in range(cut):
            lines.update(parse_file(paths[index], index))
        text = child.result()
    finally:
        child.stop()
    if text:
        # not splitlines(): a literal may hold U+2028 and the like, which N-Triples leaves unescaped
        lines.update(text.decode("utf-8").split("\n"))
    return lines


#: From this many asserted triples up to `CONSENSUS_APART_MAX`, a forked child derives the consensus
#: view while this process sorts the asserted lines (1.3 s at 100 times our data). Below, forking
#: costs more than it saves; above, the child would copy the pages of every line it reads (decision 22).
CONSENSUS_APART_MIN = 50_000
CONSENSUS_APART_MAX = 3_000_000


def _sorted_and_consensus(asserted: set[str], query: str,
                          beside: Callable[[list[str]], object] | None = None) -> tuple[list[str], set[str]]:
    """The asserted lines sorted, and the consensus view (`consensus_view`), on two cores where it pays;
    then `beside` is called with the sorted lines while the child is at work."""
    from jisr_kg.pipeline.forked import Forked, can_fork

    if not (CONSENSUS_APART_MIN <= len(asserted) <= CONSENSUS_APART_MAX and can_fork()):
        consensus = consensus_view(asserted, query)
        return sorted(asserted), consensus
    kept: list = []  # the child's store, freed by its exit
    child = Forked(lambda: consensus_view(asserted, query, keep=kept), "the process deriving the consensus view")
    try:
        ordered = sorted(asserted)
        if beside is not None:
            beside(ordered)
        consensus = child.result()
    finally:
        child.stop()
    return ordered, consensus


def compile_dataset(
    inputs: Inputs,
    *,
    reasoner: str = "rules",
    profile: str = "owlrl",
    progress: Progress | None = None,
    before_reasoning: Callable[[BuiltDataset], object] | None = None,
    beside_consensus: Callable[[list[str]], object] | None = None,
) -> BuiltDataset:
    """Load the inputs, derive the consensus view and reason over both.

    `before_reasoning`, if given, is called with the asserted and consensus graphs (a dataset without
    the inferred one) before reasoning starts: `build` writes the files that need no inferred triple
    meanwhile, on the other core. `beside_consensus`, if given, is called with the sorted asserted lines
    while a child derives the consensus view (only then: it is work for the time this process would
    wait; `build` loads them into the validator's store)."""
    from jisr_kg.pipeline.reason import entailments

    say = progress or (lambda _msg: None)
    say(f"parsing {len(inputs.rdf)} files")
    asserted = parse_inputs(inputs.rdf)
    release_memory()
    say("deriving the consensus view")
    # the asserted lines are sorted now, not after reasoning (the same work): what `before_reasoning` is
    # given; and while a child derives the consensus view, where that pays
    asserted_sorted, consensus = _sorted_and_consensus(asserted, inputs.consensus_query.read_text(encoding="utf-8"),
                                                       beside_consensus)
    lines: dict[str, list[str] | FileLines] = {ASSERTED_GRAPH: asserted_sorted, CONSENSUS_GRAPH: sorted(consensus)}
    if before_reasoning is not None:
        before_reasoning(BuiltDataset(dict(lines), ""))  # no key: it is not the whole build
    say(f"reasoning ({reasoner}, {'OWL 2 RL' if profile == 'owlrl' else 'RDFS'})")
    # reasoning reads asserted and consensus together: added in place, not copied (at 1000 times our data
    # a union is another 2 GB), and taken out again after (the consensus view shares no triple with them)
    given = asserted
    given |= consensus
    inferred = entailments(given, reasoner=reasoner, profile=profile,  # type: ignore[arg-type]
                           progress=progress)
    given -= consensus
    # each set is dropped as soon as it is not needed: the lines are shared with the sorted lists, the
    # tables are not
    asserted.clear()
    consensus.clear()
    release_memory()
    lines[INFERRED_GRAPH] = sorted(inferred)
    inferred.clear()
    return BuiltDataset(lines, inputs.key())
