"""`jisr-kg serve`: the SPARQL 1.1 Protocol, the stored queries as a web API, IRIs that resolve, and
the refusals of a read-only endpoint.

Most checks run the application in-process (Starlette's TestClient); the protocol, the time limit and
the stop on SIGTERM are checked on one real `jisr-kg serve` on a free loopback port, with independent
clients (SPARQLWrapper, httpx, rdflib parsing what comes back)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import rdflib

from conftest import ROOT, children
from jisr_kg.api import run_query
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH
from jisr_kg.rdf.terms import Term
from jisr_kg.sparql.query import stored_queries
from jisr_kg.sparql.results import AskResult, GraphResult, SelectResult

# Starlette 1.x warns that its TestClient will move from httpx to another package; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

QUERIES = stored_queries()
TIMEOUT = 2.0  # the real server's --timeout, short so that the timeout test is quick
LANDIS = "https://w3id.org/jisr-kg/id/actor/joshua-landis"
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def client():
    """The application in this process, with a low row limit to test it."""
    from starlette.testclient import TestClient

    from jisr_kg.web.app import create_app
    from jisr_kg.web.context import Context, Settings

    app = create_app(Context(Settings(max_rows=2000, max_bytes=100_000, max_query_length=5000, workers=2)))
    with TestClient(app) as c:
        yield c


def _start_server(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jisr_kg", "--quiet", "serve", "--port", "0", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    # The first line says where it listens; the build (if the cache has none) comes before it. Bounded.
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout=600)
    line = proc.stdout.readline() if ready else ""
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        proc.kill()
        raise AssertionError(f"the server did not say where it listens within 600 s: {line!r}")
    return proc, f"http://127.0.0.1:{m.group(1)}"


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError("the server did not stop within 15 s of SIGTERM") from None
    return proc.returncode, err


@pytest.fixture(scope="module")
def server():
    """One real `jisr-kg serve` on a free loopback port; its base URL."""
    proc, base = _start_server("--timeout", str(TIMEOUT))
    try:
        yield base
    finally:
        _stop(proc)


# ---------------------------------------------------------------- helpers


def _term(b: dict) -> Term:
    if b["type"] == "uri":
        return Term("uri", b["value"])
    if b["type"] == "bnode":
        return Term("bnode", b["value"])
    return Term("literal", b["value"], b.get("datatype"), b.get("xml:lang"))


def _rows_json(doc: dict) -> list[tuple]:
    variables = doc["head"]["vars"]
    return sorted(tuple(_term(b[v]).n3() if v in b else "" for v in variables) for b in doc["results"]["bindings"])


def _rows_result(r: SelectResult) -> list[tuple]:
    return sorted(tuple(t.n3() if t is not None else "" for t in row) for row in r.rows)


def _triples(turtle: bytes | str) -> set:
    g = rdflib.Graph()
    g.parse(data=turtle, format="turtle")
    return {(s.n3(), p.n3(), o.n3()) for s, p, o in g}


def _expected(name: str):
    return run_query(name)


# ---------------------------------------------------------------- stored queries: same rows as the CLI


@pytest.mark.parametrize("q", QUERIES, ids=lambda q: q.name)
def test_stored_query_api_and_sparql_same_rows_as_run_query(server: str, q) -> None:
    from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

    expected = _expected(q.name)
    api = httpx.get(f"{server}/api/queries/{q.name}", timeout=60,
                    headers={"Accept": "text/turtle" if isinstance(expected, GraphResult)
                             else "application/sparql-results+json"})
    assert api.status_code == 200, api.text
    sw = SPARQLWrapper(f"{server}/sparql")
    sw.setQuery(q.bind())
    # SPARQLWrapper guesses the query form with a regex that reads words in comments ("drop" in a
    # `#+ description:`) as SPARQL Update; the form is known here.
    sw.queryType = next(w for w in re.findall(r"[A-Za-z]+", re.sub(r"(?m)#.*$", "", q.bind()))
                        if w.upper() in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")).upper()
    sw.setMethod("POST")
    if isinstance(expected, SelectResult):
        assert _rows_json(api.json()) == _rows_result(expected)
        sw.setReturnFormat(JSON)
        assert _rows_json(sw.query().convert()) == _rows_result(expected)
    elif isinstance(expected, AskResult):
        assert api.json()["boolean"] is expected.value
        sw.setReturnFormat(JSON)
        assert sw.query().convert()["boolean"] is expected.value
    else:
        want = _triples(expected.ntriples())
        assert _triples(api.content) == want
        sw.setReturnFormat(TURTLE)
        assert _triples(sw.query().convert()) == want


def test_stored_query_with_parameter(client) -> None:
    r = client.get("/api/queries/claims-by-claimant", params={"claimant": "actor:syrian-state-tv"})
    assert r.status_code == 200
    expected = run_query("claims-by-claimant", {"claimant": "actor:syrian-state-tv"})
    assert _rows_json(r.json()) == _rows_result(expected)
    assert len(expected.rows) > 0


def test_api_queries_lists_every_stored_query(client) -> None:
    doc = client.get("/api/queries").json()
    assert [d["name"] for d in doc] == [q.name for q in QUERIES]
    by_name = {d["name"]: d for d in doc}
    cbc = by_name["claims-by-claimant"]
    assert cbc["summary"].startswith("Every claim a claimant makes")
    assert cbc["description"]
    assert cbc["parameters"] == [{"name": "claimant", "type": "iri", "default": "actor:joshua-landis"}]
    assert {"id": "CQ15", "text": "What did researcher Joshua Landis assert about the Jisr ash-Shughur events?"} \
        in cbc["questions"]


# ---------------------------------------------------------------- the protocol


def test_get_post_form_and_post_query_give_the_same_answer(client) -> None:
    q = "SELECT ?name WHERE { ?p a jkg:Person ; rdfs:label ?name } ORDER BY ?name"
    a = client.get("/sparql", params={"query": q})
    b = client.post("/sparql", data={"query": q})
    c = client.post("/sparql", content=q.encode(), headers={"Content-Type": "application/sparql-query"})
    assert a.status_code == b.status_code == c.status_code == 200
    assert a.headers["content-type"].startswith("application/sparql-results+json")
    assert a.json() == b.json() == c.json()
    assert "Joshua Landis" in [row["name"]["value"] for row in a.json()["results"]["bindings"]]


@pytest.mark.parametrize(("accept", "media", "check"), [
    ("application/sparql-results+xml", "application/sparql-results+xml", b"<sparql"),
    ("text/csv", "text/csv", b"name\r\n"),
    ("text/tab-separated-values", "text/tab-separated-values", b"?name\n"),
    ("application/json", "application/sparql-results+json", b'"vars"'),
    ("text/html;q=0.9, text/csv;q=0.5", "text/csv", b"name\r\n"),
])
def test_select_results_by_accept(client, accept: str, media: str, check: bytes) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?name WHERE { actor:joshua-landis rdfs:label ?name }"},
                   headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert check in r.content


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"),
])
def test_construct_by_accept(client, accept: str, rdflib_format: str) -> None:
    q = "CONSTRUCT { actor:joshua-landis rdfs:label ?l } WHERE { actor:joshua-landis rdfs:label ?l }"
    r = client.get("/sparql", params={"query": q}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith(accept)
    g = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    assert str(g.value(rdflib.URIRef(LANDIS), rdflib.RDFS.label)) == "Joshua Landis"


def _count(client, params: dict) -> int:
    r = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **params})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_default_graph_is_what_query_sees_and_graphs_stay_addressable(client, built) -> None:
    union = _count(client, {})
    expected = run_query_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert union == expected
    asserted = _count(client, {"default-graph-uri": ASSERTED_GRAPH})
    both = _count(client, {"default-graph-uri": [ASSERTED_GRAPH, CONSENSUS_GRAPH]})
    assert asserted < both < union
    assert asserted == len(built.lines[ASSERTED_GRAPH])
    r = client.get("/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == sorted(
        [ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH])
    # named-graph-uri limits what GRAPH sees
    r = client.get("/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                      "named-graph-uri": INFERRED_GRAPH})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [INFERRED_GRAPH]


def run_query_text(text: str) -> int:
    from jisr_kg.api import run_text

    result = run_text(text)
    assert isinstance(result, SelectResult)
    return int(result.rows[0][0].value)


def test_ask(client) -> None:
    r = client.get("/sparql", params={"query": "ASK { actor:joshua-landis a jkg:Person }"})
    assert r.json() == {"head": {}, "boolean": True}


def test_cors(client) -> None:
    r = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://yasgui.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    pre = client.options("/sparql", headers={"Origin": "https://yasgui.example",
                                             "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "GET", "url": "/sparql", "params": {"update": "INSERT DATA { <a:a> <a:b> <a:c> }"}},
     "SPARQL Update is refused"),
    ({"method": "POST", "url": "/sparql", "data": {"update": "DROP ALL"}}, "SPARQL Update is refused"),
    ({"method": "POST", "url": "/sparql", "content": b"CLEAR ALL",
      "headers": {"Content-Type": "application/sparql-update"}}, "SPARQL Update is refused"),
    ({"method": "POST", "url": "/api/queries/timeline", "content": b"DROP ALL",
      "headers": {"Content-Type": "application/sparql-update"}}, "SPARQL Update is refused"),
    ({"method": "POST", "url": "/id/actor/joshua-landis", "content": b"DELETE WHERE { ?s ?p ?o }",
      "headers": {"Content-Type": "application/sparql-update"}}, "SPARQL Update is refused"),
    ({"method": "POST", "url": "/sparql", "content": b"DELETE WHERE { ?s ?p ?o }",
      "headers": {"Content-Type": "application/sparql-query"}}, "SPARQL Update (DELETE) is refused"),
    ({"method": "GET", "url": "/sparql", "params": {"query": "LOAD <http://example.org/x.ttl>"}},
     "LOAD is refused"),
    ({"method": "GET", "url": "/sparql", "params": {"query": "SELECT * { SERVICE <http://127.0.0.1:9/sparql> "
                                                             "{ ?s ?p ?o } }"}},
     "SERVICE is refused: this endpoint never sends requests to other hosts"),
    # SPARQL undoes \u escapes before parsing, so the guard must too
    ({"method": "GET", "url": "/sparql", "params": {"query": "SELECT * { \\u0053ERVICE <http://127.0.0.1:9/> "
                                                             "{ ?s ?p ?o } }"}},
     "SERVICE is refused"),
])
def test_refused_with_400_before_any_engine_runs(client, kwargs: dict, message: str) -> None:
    r = client.request(**kwargs)
    assert r.status_code == 400
    assert r.text.startswith(message)
    assert r.text.count("\n") == 1


def test_words_in_strings_iris_and_names_are_not_refused(client) -> None:
    q = ('SELECT ?load WHERE { BIND("DELETE SERVICE LOAD" AS ?load) '
         'OPTIONAL { <https://example.org/insert> schema:Service ?x } } # drop')
    r = client.get("/sparql", params={"query": q})
    assert r.status_code == 200, r.text


def test_syntax_error_gives_the_parser_message_and_position(client) -> None:
    r = client.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert r.status_code == 400
    assert re.match(r"SPARQL syntax error at line 3, column \d+: ", r.text)
    assert r.text.count("\n") == 1


def test_unknown_prefix_is_named(client) -> None:
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s nope:thing ?o }"})
    assert r.status_code == 400
    assert r.text.startswith("unknown prefix 'nope'")


@pytest.mark.parametrize(("query", "accept"), [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "image/png"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "text/turtle"),
    ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "text/csv"),
])
def test_unsupported_accept_is_406(client, query: str, accept: str) -> None:
    r = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert r.status_code == 406
    assert r.text.startswith("cannot give a ")
    assert "this endpoint gives" in r.text


def test_query_too_long(client) -> None:
    q = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 6000
    r = client.post("/sparql", content=q.encode(), headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    assert r.text.startswith(f"the query is {len(q)} characters long, more than the server's limit of 5000")


def test_result_too_large(client) -> None:
    # SELECT answers are written by the engine and capped in bytes; graphs and Results in rows/triples
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert r.status_code == 400
    assert r.text == "the result is more than 100000 bytes, the server's limit; add a LIMIT\n"
    r = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert r.status_code == 400
    assert r.text == "the result has more than 2000 triples, the server's limit\n"
    r = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 10"})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 10


@pytest.mark.parametrize(("params", "message"), [
    ({"nobody": "x"}, "query 'claims-by-claimant' has no parameter 'nobody' (its parameters: claimant)"),
    ({"claimant": "not an iri"}, "parameter 'claimant' takes an IRI or a prefixed name"),
    ({"claimant": "http://example.org/a b"}, "parameter 'claimant': 'http://example.org/a b' is not a valid IRI"),
])
def test_bad_parameter(client, params: dict, message: str) -> None:
    r = client.get("/api/queries/claims-by-claimant", params=params)
    assert r.status_code == 400
    assert r.text.startswith(message)


def test_stored_queries_are_found_by_name_only(client) -> None:
    r = client.get("/api/queries/claims-by-claiment")
    assert r.status_code == 404
    assert r.text.startswith("no stored query named 'claims-by-claiment'; did you mean claims-by-claimant")
    for path in ("/api/queries/..%2Fqueries%2Ftimeline", "/api/queries/timeline.rq",
                 f"/api/queries/{ROOT / 'queries' / 'timeline.rq'}"):
        assert client.get(path).status_code == 404


# ---------------------------------------------------------------- IRIs that resolve


@pytest.mark.parametrize(("suffix", "accept", "rdflib_format"), [
    ("", "text/turtle", "turtle"), (".ttl", None, "turtle"), (".nt", None, "nt"), (".jsonld", None, "json-ld"),
    (".rdf", None, "xml"), ("", "application/ld+json", "json-ld"), ("", None, "turtle"),
    # the path's ending wins over Accept
    (".nt", "text/turtle", "nt"),
])
def test_entity_resolves_to_its_bounded_description(client, suffix: str, accept: str | None,
                                                    rdflib_format: str) -> None:
    headers = {"Accept": accept} if accept else {}
    r = client.get(f"/id/actor/joshua-landis{suffix}", headers=headers)
    assert r.status_code == 200, r.text
    g = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    landis = rdflib.URIRef(LANDIS)
    rdf, jkg = rdflib.RDF, rdflib.Namespace("https://w3id.org/jisr-kg/ontology#")
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    assert str(g.value(landis, rdflib.RDFS.label)) == "Joshua Landis"
    # the claims about him, each with its evidence and the exact words
    claims = set(g.subjects(rdf.subject, landis)) | set(g.subjects(rdf.object, landis))
    assert rdflib.URIRef("https://w3id.org/jisr-kg/id/claim/uprising-landis-researcher") in claims
    for c in claims:
        span = g.value(c, jkg.evidence)
        assert span is not None and g.value(g.value(span, oa.hasSelector), oa.exact) is not None
    # not the claims he makes (those are one query away)
    assert not set(g.subjects(rdflib.URIRef("http://www.w3.org/ns/prov#wasAttributedTo"), landis))


def test_claim_resolves_with_its_evidence(client) -> None:
    r = client.get("/id/claim/uprising-landis-researcher.ttl")
    triples = _triples(r.content)
    assert ("<https://w3id.org/jisr-kg/id/selector/6384-6408>", "<http://www.w3.org/ns/oa#exact>",
            '"researcher Joshua Landis"') in triples


def test_unknown_iri_is_404(client) -> None:
    for path in ("/id/actor/nobody-at-all", "/id/actor/nobody-at-all.ttl", "/graph/nothing"):
        r = client.get(path, headers={"Accept": "text/turtle"})
        assert r.status_code == 404
    assert r.text.startswith("https://w3id.org/jisr-kg/graph/nothing is not in the graph")


def test_ontology_and_graphs_resolve(client) -> None:
    r = client.get("/ontology.ttl")
    assert r.status_code == 200
    onto = rdflib.Graph().parse(data=r.content, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/jisr-kg/ontology#Claim"), rdflib.RDF.type, rdflib.OWL.Class) in onto
    r = client.get("/graph/asserted", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=r.content, format="turtle")
    n = g.value(rdflib.URIRef(ASSERTED_GRAPH), rdflib.URIRef("http://rdfs.org/ns/void#triples"))
    assert n is not None and int(n) == run_query_text(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ASSERTED_GRAPH}> {{ ?s ?p ?o }} }}")


def test_browser_gets_html(client) -> None:
    r = client.get("/id/actor/joshua-landis", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "Joshua Landis" in r.text


# ---------------------------------------------------------------- Service Description and OpenAPI


def test_service_description(server: str) -> None:
    r = httpx.get(f"{server}/sparql", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.content, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = g.value(None, rdflib.RDF.type, sd.Service, any=False)
    assert g.value(service, sd.endpoint) == rdflib.URIRef(f"{server}/sparql")
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (service, sd.feature, sd.UnionDefaultGraph) in g
    names = {str(g.value(ng, sd.name)) for ng in g.objects(g.value(service, sd.defaultDataset), sd.namedGraph)}
    assert names == {ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH}
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in set(g.objects(service,
                                                                                              sd.resultFormat))


def test_openapi_lists_every_stored_query_with_its_parameters(server: str) -> None:
    doc = httpx.get(f"{server}/openapi.json", timeout=30).json()
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": server}]
    for q in QUERIES:
        op = doc["paths"][f"/api/queries/{q.name}"]["get"]
        assert op["operationId"] == q.name and op["summary"] == q.summary
        assert [p["name"] for p in op["parameters"]] == [p.name for p in q.parameters]
        assert all(p["in"] == "query" for p in op["parameters"])
    op = doc["paths"]["/api/queries/claims-by-claimant"]["get"]
    assert op["parameters"][0]["schema"] == {"type": "string", "format": "iri", "default": "actor:joshua-landis"}
    # a generic client calls an operation as the document says: the default parameter is filled in
    r = httpx.get(doc["servers"][0]["url"] + "/api/queries/claims-by-claimant",
                  params={"claimant": op["parameters"][0]["schema"]["default"]}, timeout=30)
    assert r.status_code == 200 and r.json()["results"]["bindings"]
    json.dumps(doc)  # plain JSON throughout


# ---------------------------------------------------------------- the time limit


def test_runaway_query_is_stopped_and_does_not_slow_others(server: str) -> None:
    outcome: dict = {}

    def runaway() -> None:
        t = time.perf_counter()
        try:
            r = httpx.get(f"{server}/sparql", params={"query": CROSS_PRODUCT}, timeout=TIMEOUT + 10)
            outcome["status"], outcome["text"] = r.status_code, r.text
        finally:
            outcome["seconds"] = time.perf_counter() - t

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)  # the cross product is running now
    t = time.perf_counter()
    r = httpx.get(f"{server}/sparql", params={"query": "ASK { actor:joshua-landis a jkg:Person }"}, timeout=10)
    ask_seconds = time.perf_counter() - t
    thread.join(TIMEOUT + 15)
    assert r.status_code == 200 and r.json()["boolean"] is True
    assert ask_seconds < 1.0, f"the ASK took {ask_seconds:.2f} s while the runaway query ran"
    assert outcome["status"] == 503
    assert outcome["text"].startswith(f"the query ran past the server's time limit of {TIMEOUT:g} s")
    assert outcome["seconds"] <= TIMEOUT + 1
    # the killed worker is replaced: the server goes on answering, with all its workers
    for _ in range(4):
        assert httpx.get(f"{server}/sparql", params={"query": "ASK {}"}, timeout=10).status_code == 200


# ---------------------------------------------------------------- the command


def _workers_of(pid: int) -> list[int]:
    out = []
    for child in children(pid):
        try:
            if b"jisr_kg.web.context" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except OSError:  # it ended while we looked
            continue
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the worker processes")
def test_serve_stops_cleanly_on_sigterm() -> None:
    proc, base = _start_server("--workers", "2")
    assert httpx.get(f"{base}/sparql", params={"query": "ASK {}"}, timeout=30).status_code == 200
    workers = _workers_of(proc.pid)
    assert len(workers) == 2
    code, err = _stop(proc)
    assert code == 0
    assert "Traceback" not in err
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{w}/cmdline").exists() and Path(f"/proc/{w}/cmdline").read_bytes()
                   for w in workers)


def test_serve_refuses_a_port_in_use() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "jisr_kg", "--quiet", "serve", "--port", str(port)],
                           cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ})
    assert r.returncode == 2
    assert r.stderr == f"jisr-kg: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
