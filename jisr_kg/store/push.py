"""Push: load the built dataset into a SPARQL store, and query a store over the SPARQL protocol.

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

`remote_query` runs a query through the SPARQL 1.1 Protocol (`POST` with `application/sparql-query`)
and returns the same Result types as a local query, so every output format is identical. The query's
dataset is set to the project's graphs (`default-graph-uri` and `named-graph-uri` for asserted,
consensus and inferred): the store's default graph, the VoID graph and any other graph in the store are
not seen, exactly as a local query sees only the built dataset, whatever the store's own default-graph
setting is.

Where the endpoints are. `--endpoint` takes the store's base URL, or one of its endpoints, and the
other endpoint is guessed from it; `--gsp URL` and `--query-endpoint URL` set either one explicitly.

    store                  base URL given              Graph Store endpoint           query endpoint
    Oxigraph (serve)       http://host:7878            /store                         /query
    Apache Jena Fuseki     http://host:3030/DATASET    /DATASET/data                  /DATASET (or /query, /sparql)
    Virtuoso               http://host:8890/sparql     /sparql-graph-crud(-auth)      /sparql
    GraphDB, RDF4J         http://host/repositories/R  /repositories/R/rdf-graphs/service   /repositories/R

Credentials may be given in the URL (`http://user:password@host/...`); they are sent as HTTP Basic
authentication and never printed. Only the standard library's urllib talks HTTP.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from jisr_kg.errors import StoreError
from jisr_kg.paths import DEFAULT_REASONER, REASONERS
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, GRAPH, INFERRED_GRAPH

VOID_GRAPH = GRAPH + "void"
#: The graphs a query sees, locally and remotely.
QUERY_GRAPHS = (ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH)
NO_INFER_GRAPHS = (ASSERTED_GRAPH, CONSENSUS_GRAPH)
DEFAULT_TIMEOUT = 120.0
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"


@dataclass(frozen=True)
class Endpoints:
    gsp: str  # the Graph Store HTTP Protocol endpoint
    query: str  # the SPARQL query endpoint


def endpoints(url: str | None, *, gsp: str | None = None, query: str | None = None) -> Endpoints:
    """The Graph Store and query endpoints of a store, from its base URL or one of its endpoints."""
    if url is None and (gsp is None or query is None):
        raise StoreError("give the store's URL (--endpoint URL), or both --gsp URL and --query-endpoint URL")
    if url is not None:
        guessed_gsp, guessed_query = _guess(url)
        gsp = gsp or guessed_gsp
        query = query or guessed_query
    assert gsp is not None and query is not None
    return Endpoints(_check_url(gsp), _check_url(query))


def _guess(url: str) -> tuple[str, str]:
    import urllib.parse

    parts = urllib.parse.urlsplit(_check_url(url))
    path = parts.path.rstrip("/")

    def at(p: str) -> str:
        if p == path:
            return url  # the URL as given, with its query string if it has one
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, p, "", ""))

    head, _, last = path.rpartition("/")
    if path == "":  # Oxigraph's base URL
        return at("/store"), at("/query")
    if last == "store":  # Oxigraph's Graph Store endpoint
        return at(path), at(head + "/query")
    if last in ("sparql-graph-crud", "sparql-graph-crud-auth"):  # Virtuoso
        return at(path), at(head + "/sparql")
    if path == "/sparql":  # Virtuoso's query endpoint
        return at("/sparql-graph-crud"), at(path)
    if path == "/query":  # Oxigraph's query endpoint
        return at("/store"), at(path)
    if last in ("query", "sparql"):  # Fuseki: /DATASET/query or /DATASET/sparql
        return at(head + "/data"), at(path)
    if last == "data":  # Fuseki's Graph Store endpoint
        return at(path), at(head + "/query")
    if head.endswith("/repositories") or "/repositories/" in path and path.endswith("/rdf-graphs/service"):
        repo = path if head.endswith("/repositories") else path[: -len("/rdf-graphs/service")]
        return at(repo + "/rdf-graphs/service"), at(repo)  # GraphDB, RDF4J
    # Anything else is taken as the query endpoint itself (Fuseki answers queries at its dataset URL,
    # and takes the Graph Store protocol at DATASET/data).
    return at(path + "/data"), at(path)


def _check_url(url: str) -> str:
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StoreError(f"{url!r} is not an http(s) URL of a SPARQL store")
    return url


def _public(url: str) -> str:
    """The URL without credentials, for messages."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# ---------------------------------------------------------------- HTTP


def _request(method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = DEFAULT_TIMEOUT) -> tuple[int, str, bytes]:
    """(status, content type, body) of an HTTP request; a StoreError for anything but a 2xx answer."""
    # Imported here, not at the top: `jisr-kg query` imports this module to build its parser, and a
    # cached query should not pay for an HTTP client it does not use.
    import base64
    import http.client
    import urllib.error
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    headers = dict(headers or {})
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        url = _public(url)
    shown = f"{method} {_public(url)}"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) only, checked above
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as e:
        try:
            detail = _first_line(e.read() if e.fp else b"")
        except (OSError, http.client.HTTPException):
            detail = ""
        message = f"{shown}: the store answered HTTP {e.code} {e.reason}" + (f": {detail}" if detail else "")
        raise StoreError(message) from None
    except urllib.error.URLError as e:
        raise StoreError(f"{shown}: {_why(e.reason)}") from None
    except TimeoutError:
        raise StoreError(f"{shown}: no answer within {timeout:g} s (timed out)") from None
    except (http.client.HTTPException, OSError) as e:
        raise StoreError(f"{shown}: {_why(e)}") from None


def _why(reason: object) -> str:
    import http.client
    import socket

    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the store running, and is this its address?)"
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror or reason})"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the store closed the connection without answering"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _first_line(data: bytes, width: int = 200) -> str:
    text = " ".join(data.decode("utf-8", "replace").split())
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------- querying


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the query's form (after its prologue)."""
    from jisr_kg.sparql.query import _tokens

    for _pos, tok in _tokens(text):
        if tok in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            return tok
    from jisr_kg.errors import QueryError

    raise QueryError("not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)")


def remote_query(endpoint: str, query_text: str, *, infer: bool = True, timeout: float = DEFAULT_TIMEOUT,
                 graphs: tuple[str, ...] | None = None):  # noqa: ANN201 - results.Result
    """Run SPARQL text on a remote store through the SPARQL 1.1 Protocol, as a local query would run.

    `endpoint` is the store's base URL or its query endpoint. The query sees the project's graphs
    (asserted, consensus and, unless `infer` is false, inferred); `graphs` sets another list, and an
    empty tuple leaves the dataset to the store.
    """
    return _query(endpoints(endpoint).query, query_text, infer=infer, timeout=timeout, graphs=graphs)


def _query(url: str, query_text: str, *, infer: bool = True, timeout: float = DEFAULT_TIMEOUT,
           graphs: tuple[str, ...] | None = None):  # noqa: ANN202 - results.Result
    """`remote_query` on a query endpoint's own URL (no guessing)."""
    import urllib.parse

    from jisr_kg.sparql.query import with_prefixes

    text = with_prefixes(query_text)
    form = query_form(text)
    use = graphs if graphs is not None else (QUERY_GRAPHS if infer else NO_INFER_GRAPHS)
    params = [("default-graph-uri", g) for g in use] + [("named-graph-uri", g) for g in use]
    if params:
        url += ("&" if urllib.parse.urlsplit(url).query else "?") + urllib.parse.urlencode(params)
    accept = N_TRIPLES if form in ("CONSTRUCT", "DESCRIBE") else RESULTS_JSON
    _status, ctype, body = _request(
        "POST", url, body=text.encode("utf-8"), timeout=timeout,
        headers={"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept},
    )
    return _parse_answer(form, ctype, body, url)


def _parse_answer(form: str, ctype: str, body: bytes, url: str):  # noqa: ANN202
    import pyoxigraph as ox

    from jisr_kg.sparql.query import from_oxigraph, ox_term
    from jisr_kg.sparql.results import GraphResult

    media = ctype.split(";")[0].strip().lower()
    try:
        if form in ("CONSTRUCT", "DESCRIBE"):
            fmt = ox.RdfFormat.from_media_type(media) if media else ox.RdfFormat.N_TRIPLES
            if fmt is None:
                raise StoreError(f"POST {_public(url)}: the store answered a {form} with {media!r}, not RDF")
            triples = [(ox_term(q.subject), ox_term(q.predicate), ox_term(q.object)) for q in ox.parse(body, fmt)]
            return GraphResult(triples)
        fmt = ox.QueryResultsFormat.from_media_type(media) if media else ox.QueryResultsFormat.JSON
        if fmt is None:
            raise StoreError(f"POST {_public(url)}: the store answered with {media!r}, not SPARQL results")
        return from_oxigraph(ox.parse_query_results(body, fmt))
    except (SyntaxError, ValueError) as e:
        raise StoreError(f"POST {_public(url)}: the store's answer does not parse as {media or 'results'}: "
                         f"{_first_line(str(e).encode())}") from None


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
    status, _ctype, _body = _request("PUT", url, body=data, timeout=timeout,
                                     headers={"Content-Type": f"{media_type}; charset=utf-8"})
    return status


def graph_counts(query_endpoint: str, graphs: tuple[str, ...], *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, int]:
    """Triples per named graph in the store, counted through the query endpoint (its own URL)."""
    from jisr_kg.sparql.results import SelectResult

    values = " ".join(f"<{g}>" for g in graphs)
    text = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    result = _query(query_endpoint, text, graphs=graphs, timeout=timeout)
    assert isinstance(result, SelectResult)
    counts = {g: 0 for g in graphs}
    counts.update({row[0].value: int(row[1].value) for row in result.rows if row[0] and row[1]})
    return counts


def payload(data: Path | list[Path] | None = None, *, reasoner: str = DEFAULT_REASONER,
            progress=None) -> list[tuple[str, bytes, str, int]]:  # noqa: ANN001
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
         timeout: float = DEFAULT_TIMEOUT, progress=None) -> PushSummary:  # noqa: ANN001
    """Replace the project's four named graphs in a store with the built dataset and its VoID."""
    import time

    say = progress or (lambda _msg: None)
    ends = endpoints(endpoint, gsp=gsp, query=query_endpoint)
    t = time.perf_counter()
    if check:  # find out that the store is down before a build that may take minutes
        _query(ends.query, "ASK {}", graphs=(), timeout=timeout)
    graphs = payload(data, reasoner=reasoner, progress=progress)
    summary = PushSummary(_public(ends.gsp), _public(ends.query))
    for name, body, media, n in graphs:
        say(f"PUT {name} ({n} triples) to {_public(ends.gsp)}")
        put_graph(ends.gsp, name, body, media, timeout=timeout)
        summary.triples[name] = n
    if check:
        say(f"counting the triples in the store ({_public(ends.query)})")
        held = graph_counts(ends.query, tuple(summary.triples), timeout=timeout)
        wrong = {g: (n, held.get(g, 0)) for g, n in summary.triples.items() if held.get(g, 0) != n}
        if wrong:
            detail = "; ".join(f"{g}: sent {sent}, the store holds {got}" for g, (sent, got) in wrong.items())
            raise StoreError(f"{_public(ends.query)}: the store does not hold what was pushed ({detail})")
    summary.seconds = time.perf_counter() - t
    return summary


# ---------------------------------------------------------------- the command


def add_parser(sub, common: argparse.ArgumentParser) -> None:  # noqa: ANN001 - argparse's subparsers action
    p = sub.add_parser(
        "push", parents=[common],
        help="load the built dataset into a SPARQL store (Graph Store protocol, one PUT per named graph)",
        description="Replace the graphs <https://w3id.org/jisr-kg/graph/{asserted,consensus,inferred,void}> "
        "in a SPARQL store with the built dataset, and nothing else in the store. --endpoint takes the "
        "store's base URL: Oxigraph http://host:7878 (/store, /query), Fuseki http://host:3030/DATASET "
        "(/data, /query), Virtuoso http://host:8890/sparql (/sparql-graph-crud, /sparql).",
    )
    p.add_argument("--endpoint", metavar="URL", help="the store's base URL, or its query or Graph Store endpoint")
    p.add_argument("--gsp", metavar="URL", help="the Graph Store HTTP Protocol endpoint, if the guess does not fit")
    p.add_argument("--query-endpoint", metavar="URL", help="the SPARQL query endpoint, if the guess does not fit")
    p.add_argument("--reasoner", choices=REASONERS, default=DEFAULT_REASONER,
                   help=f"the reasoner of the build to push (default: {DEFAULT_REASONER})")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"give up on a request after this long (default: {DEFAULT_TIMEOUT:g})")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="do not count the triples in the store afterwards (for a store without a query endpoint)")
    p.set_defaults(run=_cmd)


def _cmd(args: argparse.Namespace, console) -> int:  # noqa: ANN001 - cli.Console
    data = Path(args.data) if getattr(args, "data", None) else None
    s = push(args.endpoint, gsp=args.gsp, query_endpoint=args.query_endpoint, data=data, reasoner=args.reasoner,
             check=args.check, timeout=args.timeout, progress=console.progress)
    total = sum(s.triples.values())
    print(f"pushed {total} triples in {len(s.triples)} graphs to {s.gsp} in {s.seconds:.2f} s")
    for name, n in s.triples.items():
        print(f"  {name}  {n}")
    return 0
