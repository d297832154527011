"""The library API behind the command: query, validate, export and stats over the built dataset."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jisr_kg.errors import QueryError
from jisr_kg.paths import DEFAULT_REASONER
from jisr_kg.pipeline.build import Progress, build_dataset, ensure_store
from jisr_kg.rdf.terms import compact
from jisr_kg.sparql.query import (
    ENGINES,
    ParameterWarning,
    StoredQuery,
    check_local,
    check_query,
    lookup,
    query_oxigraph,
    query_rdflib,
    read_query,
    run_oxigraph,
    shape,
)
from jisr_kg.sparql.results import Result, SelectResult

DataArg = Path | list[Path] | None


def run_query(
    query: str | Path | StoredQuery,
    params: dict[str, str] | None = None,
    *,
    engine: str = "oxigraph",
    infer: bool = True,
    data: DataArg = None,
    reasoner: str = DEFAULT_REASONER,
    progress: Progress | None = None,
    timeout: float | None = None,
    allow_service: bool = False,
    max_memory_mb: int | None = None,
) -> Result:
    """Run a stored query with its parameters bound: by name (looked up in the catalogue only, never
    read as a path), a `Path` to a `.rq` file, or a StoredQuery. An IRI parameter whose value no triple
    names gives a ParameterWarning (it can only match nothing: a typo, most likely).

    >>> from jisr_kg import run_query
    >>> rows = run_query("claims-by-claimant", {"claimant": "actor:joshua-landis"}).as_dicts()
    """
    if isinstance(query, StoredQuery):
        q = query
    elif isinstance(query, Path):
        q = read_query(query)
    else:
        q = lookup(query)
    text = q.bind(params)
    kinds = {p.name: p for p in q.parameters}
    iris = {n: kinds[n].term(v).value for n, v in (params or {}).items() if v and kinds[n].kind == "iri"}
    result, absent = _run(text, engine=engine, infer=infer, data=data, reasoner=reasoner, progress=progress,
                          timeout=timeout, allow_service=allow_service, max_memory_mb=max_memory_mb,
                          iris=list(iris.values()))
    for name, iri in iris.items():
        if iri in absent:
            warnings.warn(ParameterWarning(f"parameter {name!r}: {compact(iri)} is not in the graph (no triple "
                                           "names it), so it matches nothing"), stacklevel=2)
    return result


def run_text(
    text: str, *, engine: str = "oxigraph", infer: bool = True, data: DataArg = None, reasoner: str = DEFAULT_REASONER,
    progress: Progress | None = None, timeout: float | None = None, allow_service: bool = False,
    max_memory_mb: int | None = None,
) -> Result:
    """Run SPARQL text (parameters already bound) on the built dataset.

    With a `timeout` (seconds; `math.inf` for none) the query runs in a child process, which is killed
    when the engine has run that long (QueryTimeout) or on Ctrl-C; `max_memory_mb` caps its memory.
    Without one it runs here, unbounded, as a library call always did. A query that calls SERVICE is
    refused unless `allow_service` is true."""
    return _run(text, engine=engine, infer=infer, data=data, reasoner=reasoner, progress=progress,
                timeout=timeout, allow_service=allow_service, max_memory_mb=max_memory_mb)[0]


def _run(text: str, *, timeout: float | None, max_memory_mb: int | None, **kwargs: Any) -> tuple[Result, list[str]]:
    engine = kwargs["engine"]
    if engine not in ENGINES:
        raise QueryError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
    if timeout is None and max_memory_mb is None:
        return _answer(text, **kwargs)
    from jisr_kg.sparql.bounded import run_bounded

    limit = None if timeout is None or math.isinf(timeout) or timeout <= 0 else timeout
    return run_bounded(_call_answer, (text, kwargs), timeout=limit, max_memory_mb=max_memory_mb)


def _call_answer(text: str, kwargs: dict[str, Any]) -> tuple[Result, list[str]]:
    """The child's work (a module-level function, so that a spawned child can find it)."""
    return _answer(text, **kwargs)


def _answer(
    text: str, *, engine: str, infer: bool, data: DataArg, reasoner: str, progress: Progress | None,
    allow_service: bool, iris: Sequence[str] = (),
) -> tuple[Result, list[str]]:
    # The query's own mistakes are told before any build of a cold cache.
    check_local(check_query(text), allow_service=allow_service, infer=infer, engine=engine)
    if engine == "oxigraph":
        store = ensure_store(data, reasoner=reasoner, progress=progress)
        return query_oxigraph(store, text, infer=infer, allow_service=allow_service, iris=iris)
    built = build_dataset(data, reasoner=reasoner, progress=progress)
    graph = _rdflib_dataset(built, infer=infer) if shape(text).uses_graph else built.union(infer=infer)
    return query_rdflib(graph, text, allow_service=allow_service, iris=iris)


def _rdflib_dataset(built: Any, *, infer: bool) -> Any:  # a BuiltDataset -> an rdflib.Dataset
    """The dataset's graphs as an rdflib Dataset whose default graph is their union, for queries with
    GRAPH (made once per loaded dataset, like its union graph)."""
    key = f"rdflib-dataset-{infer}"
    if key not in built._derived:
        import rdflib

        ds = rdflib.Dataset(default_union=True)
        for name, graph in built.named_graphs(infer=infer):
            ctx = rdflib.URIRef(name)
            ds.addN((s, p, o, ds.graph(ctx)) for s, p, o in graph)
        built._derived[key] = ds
    return built._derived[key]


def validate_data(data: DataArg = None, *, reasoner: str = DEFAULT_REASONER, progress: Progress | None = None,
                  validator: str = "sparql"):
    """Validate the built dataset (the project's data, or the given files) against the shapes.

    >>> from jisr_kg import validate_data
    >>> report = validate_data()
    >>> report.has_violations, report.count("Warning")
    """
    from jisr_kg.pipeline.build import validated

    return validated(data, reasoner=reasoner, validator=validator, progress=progress)


def export_data(
    fmt: str = "turtle", *, infer: bool = False, consensus: bool = False, data: DataArg = None,
    reasoner: str = DEFAULT_REASONER, progress: Progress | None = None,
) -> bytes:
    """The dataset in one RDF format, byte-stable: asserted and consensus triples, plus the inferred
    ones with `infer`; or the consensus view alone.

    >>> from jisr_kg import export_data
    >>> turtle = export_data("turtle", infer=True)
    """
    from jisr_kg.pipeline import export as ex

    built = build_dataset(data, reasoner=reasoner, progress=progress)
    if consensus:
        return ex.write_lines(ex.consensus_graph(built), fmt)
    return ex.export(built, fmt, infer=infer)


@dataclass
class Stats:
    triples: dict[str, int]
    classes: list[tuple[str, int]]
    claimants: list[tuple[str, int]]
    standings: list[tuple[str, int]]
    relations: list[tuple[str, int]]


_CLASSES = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?class (COUNT(DISTINCT ?e) AS ?n) WHERE {
  GRAPH <https://w3id.org/jisr-kg/graph/asserted> { ?e a ?class }
  FILTER (STRSTARTS(STR(?e), "https://w3id.org/jisr-kg/id/"))
} GROUP BY ?class ORDER BY DESC(?n) ?class
"""
_CLAIMANTS = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label (COUNT(DISTINCT ?c) AS ?n) WHERE {
  GRAPH <https://w3id.org/jisr-kg/graph/asserted> {
    ?c a jkg:Claim ; prov:wasAttributedTo ?who . ?who rdfs:label ?label
  }
} GROUP BY ?label ORDER BY DESC(?n) ?label
"""
_STANDINGS = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?label (COUNT(DISTINCT ?c) AS ?n) WHERE {
  GRAPH <https://w3id.org/jisr-kg/graph/asserted> { ?c a jkg:Claim ; jkg:standing ?s . ?s skos:prefLabel ?label }
} GROUP BY ?label ORDER BY DESC(?n) ?label
"""
_RELATIONS = """
PREFIX jkg: <https://w3id.org/jisr-kg/ontology#>
SELECT ?relation (COUNT(*) AS ?n) WHERE {
  VALUES ?relation { jkg:contradicts jkg:refutes jkg:doubts jkg:supports jkg:alternativeTo jkg:statedBefore }
  GRAPH <https://w3id.org/jisr-kg/graph/asserted> { ?a ?relation ?b }
} GROUP BY ?relation ORDER BY DESC(?n) ?relation
"""
_TRIPLES = """
SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g
"""


def stats(data: DataArg = None, *, progress: Progress | None = None) -> Stats:
    """Triples per graph, entities per class, claims per claimant and per standing, and the links
    between claims (as asserted, before the reasoner makes contradiction symmetric)."""
    store = ensure_store(data, progress=progress)

    def pairs(text: str, short: bool = False) -> list[tuple[str, int]]:
        result = run_oxigraph(store, text)
        assert isinstance(result, SelectResult)
        return [((compact(a.value) if short else a.value), int(b.value)) for a, b in result.rows]

    triples = {name.rsplit("/", 1)[-1]: n for name, n in pairs(_TRIPLES)}
    return Stats(triples, pairs(_CLASSES, short=True), pairs(_CLAIMANTS), pairs(_STANDINGS),
                 pairs(_RELATIONS, short=True))
