"""Push: load the built dataset into a SPARQL store with the Graph Store protocol.

`jisr-kg push --endpoint URL` sends the built dataset with the SPARQL 1.1 Graph Store HTTP Protocol,
one `PUT` per named graph:

    https://w3id.org/jisr-kg/graph/asserted    the asserted triples
    https://w3id.org/jisr-kg/graph/consensus   the consensus view
    https://w3id.org/jisr-kg/graph/inferred    the OWL 2 RL entailments
    https://w3id.org/jisr-kg/graph/void        the VoID description (`void.describe`, without files)

A `PUT` replaces that graph's content and nothing else: pushing twice leaves the same triples, and
the store's other graphs and its default graph are never touched (no `DROP ALL`, no `CLEAR DEFAULT`).
The graphs are sent one after another, so a push that fails half-way leaves some graphs new and some
old; pushing again repairs that. After the `PUT`s the command counts the triples of each graph
through the query endpoint and fails if the store does not hold exactly what was sent.

The HTTP client, the endpoint guesses (`--endpoint` takes the store's base URL or one of its
endpoints; `--gsp URL` and `--query-endpoint URL` set either one explicitly), the total deadline of
each request and the rules for credentials and redirects are those of `jisr_kg.sparql.remote`; the
stores it is tested on, and how they differ, are in docs/stores.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jisr_kg.errors import StoreError
from jisr_kg.paths import DEFAULT_REASONER
from jisr_kg.rdf.namespaces import GRAPH
from jisr_kg.sparql.remote import (
    DEFAULT_TIMEOUT,
    N_TRIPLES,
    QUERY_GRAPHS,
    check_timeout,
    endpoints,
    http_request,
    public_url,
    query_at,
)
from jisr_kg.sparql.remote import query_form as query_form  # re-exported: benchmarks/run.py imports it from here

VOID_GRAPH = GRAPH + "void"


# ---------------------------------------------------------------- pushing


@dataclass
class PushSummary:
    gsp: str
    query: str
    triples: dict[str, int] = field(default_factory=dict)  # graph IRI -> triples sent
    seconds: float = 0.0


def put_graph(gsp: str, graph: str, data: bytes, media_type: str, *, timeout: float = DEFAULT_TIMEOUT) -> int:
    """Replace one named graph of the store (Graph Store HTTP Protocol `PUT ?graph=`); the HTTP status."""
    import urllib.parse

    url = gsp + ("&" if urllib.parse.urlsplit(gsp).query else "?") + urllib.parse.urlencode({"graph": graph})
    return http_request("PUT", url, body=data, timeout=timeout,
                        headers={"Content-Type": f"{media_type}; charset=utf-8"}).status


def graph_counts(query_endpoint: str, graphs: tuple[str, ...], *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, int]:
    """Triples per named graph in the store, counted through the query endpoint (its own URL)."""
    from jisr_kg.sparql.results import SelectResult

    values = " ".join(f"<{g}>" for g in graphs)
    text = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    result = query_at(query_endpoint, text, graphs=graphs, timeout=timeout)
    assert isinstance(result, SelectResult)
    counts = {g: 0 for g in graphs}
    counts.update({row[0].value: int(row[1].value) for row in result.rows if row[0] and row[1]})
    return counts


def payload(data: Path | list[Path] | None = None, *, reasoner: str = DEFAULT_REASONER,
            progress=None) -> list[tuple[str, bytes, str, int]]:
    """What a push sends: (graph IRI, bytes, media type, triples) for the three graphs and the VoID."""
    import pyoxigraph as ox

    from jisr_kg.pipeline.build import build_dataset
    from jisr_kg.pipeline.void import describe

    built = build_dataset(data, reasoner=reasoner, progress=progress)
    out = [(name, built.ntriples(name), N_TRIPLES, built.count(name)) for name in QUERY_GRAPHS]
    if progress:
        progress("describing the dataset (VoID)")
    void = describe(built, {})
    out.append((VOID_GRAPH, void, "text/turtle", len(list(ox.parse(void, ox.RdfFormat.TURTLE)))))
    return out


def push(endpoint: str | None = None, *, gsp: str | None = None, query_endpoint: str | None = None,
         data: Path | list[Path] | None = None, reasoner: str = DEFAULT_REASONER, check: bool = True,
         timeout: float = DEFAULT_TIMEOUT, progress=None) -> PushSummary:
    """Replace the project's four named graphs in a store with the built dataset and its VoID."""
    import time

    say = progress or (lambda _msg: None)
    check_timeout(timeout)
    ends = endpoints(endpoint, gsp=gsp, query=query_endpoint)
    t = time.perf_counter()
    if check:  # find out that the store is down before a build that may take minutes
        query_at(ends.query, "ASK {}", graphs=(), timeout=timeout)
    graphs = payload(data, reasoner=reasoner, progress=progress)
    summary = PushSummary(public_url(ends.gsp), public_url(ends.query))
    for name, body, media, n in graphs:
        say(f"PUT {name} ({n} triples) to {public_url(ends.gsp)}")
        put_graph(ends.gsp, name, body, media, timeout=timeout)
        summary.triples[name] = n
    if check:
        say(f"counting the triples in the store ({public_url(ends.query)})")
        held = graph_counts(ends.query, tuple(summary.triples), timeout=timeout)
        wrong = {g: (n, held.get(g, 0)) for g, n in summary.triples.items() if held.get(g, 0) != n}
        if wrong:
            detail = "; ".join(f"{g}: sent {sent}, the store holds {got}" for g, (sent, got) in wrong.items())
            raise StoreError(f"{public_url(ends.query)}: the store does not hold what was pushed ({detail})")
    summary.seconds = time.perf_counter() - t
    return summary
