"""`jisr-kg push` and `jisr-kg query --endpoint` against a real store: a local `oxigraph serve`
(Virtuoso: tests/test_virtuoso.py; the client's deadline, redirects and credentials: tests/test_remote.py).

The store is started on a free port in a temporary folder; the project's dataset is pushed with the
Graph Store protocol, every stored query is run through the SPARQL protocol and compared with the
same query run locally, and a second push must replace, not append, and leave alone what others put
in the store.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, assert_no_infer_is_honoured_remotely, jisr

# A real Oxigraph server: run by .ci/run; one xdist worker runs the module, so that one server starts.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("push")]

MINE = "http://example.org/test-push/someone-elses-graph"
MINE_TRIPLES = (
    b"<http://example.org/a> <http://example.org/p> \"kept\" .\n"
    b"<http://example.org/b> <http://example.org/p> <http://example.org/c> .\n"
)
DEFAULT_TRIPLE = b"<http://example.org/default> <http://example.org/p> \"in the default graph\" .\n"


def oxigraph_command() -> str | None:
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    return shutil.which("oxigraph")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound and released, so it is free right now)."""
    return free_port()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The base URL of a fresh `oxigraph serve`, stopped after the module's tests."""
    command = oxigraph_command()
    if command is None:
        pytest.skip("the `oxigraph` command is not installed (pip install -e '.[test]' brings it)")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph-store")
    log = (location.parent / "oxigraph-serve.log").open("wb")
    proc = subprocess.Popen([command, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ask = urllib.parse.urlencode({"query": "ASK {}"})
                with urllib.request.urlopen(f"{url}/query?{ask}", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("oxigraph serve did not start: " + (location.parent / "oxigraph-serve.log").read_text())
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _put(url: str, body: bytes, graph: str | None) -> None:
    target = f"{url}/store?" + (urllib.parse.urlencode({"graph": graph}) if graph else "default")
    req = urllib.request.Request(target, data=body, method="PUT", headers={"Content-Type": "application/n-triples"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status in (200, 201, 204)


def _get(url: str, graph: str | None) -> set[bytes]:
    target = f"{url}/store?" + (urllib.parse.urlencode({"graph": graph}) if graph else "default")
    req = urllib.request.Request(target, headers={"Accept": "application/n-triples"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return {line.strip() for line in r.read().splitlines() if line.strip()}


@pytest.fixture(scope="module")
def pushed(store, built):
    """The store after others put a graph and a default-graph triple in it, and we pushed once."""
    _put(store, MINE_TRIPLES, MINE)
    _put(store, DEFAULT_TRIPLE, None)
    r = jisr("push", "--endpoint", store)
    assert r.returncode == 0, r.stderr.decode()
    assert "pushed" in r.stdout.decode()
    return store


def _rows(result) -> list:
    """The rows as a sorted list of N-Triples terms (unbound: None), to compare as a multiset."""
    return sorted([[None if t is None else t.n3() for t in row] for row in result.rows],
                  key=lambda row: [(v is None, v or "") for v in row])


def assert_same_results(local, remote, name: str) -> None:  # results.Result
    """A remote result equals the local one: the same type, variables and rows (as a multiset), and for an
    ordered query every output format byte for byte. (Also used by test_virtuoso.)"""
    from jisr_kg.sparql.query import resolve
    from jisr_kg.sparql.results import AskResult, GraphResult, SelectResult, write

    assert type(remote) is type(local), name
    if isinstance(local, GraphResult):
        assert remote.ntriples() == local.ntriples(), name
    elif isinstance(local, AskResult):
        assert remote.value == local.value, name
        assert write(remote, "json") == write(local, "json")
    else:
        assert isinstance(remote, SelectResult)
        assert remote.variables == local.variables, name
        assert _rows(remote) == _rows(local), name
        if "ORDER BY" in resolve(name).text.upper():  # ordered: every output format byte for byte
            for fmt in ("table", "csv", "tsv", "json", "xml"):
                assert write(remote, fmt) == write(local, fmt), (name, fmt)


def test_every_stored_query_gives_the_local_results_remotely(pushed) -> None:
    from jisr_kg.api import run_query
    from jisr_kg.sparql.query import stored_queries
    from jisr_kg.sparql.remote import remote_query

    queries = stored_queries()
    assert queries, "no stored queries in queries/"
    for q in queries:
        assert_same_results(run_query(q), remote_query(pushed, q.bind()), q.name)


def test_query_command_with_endpoint_prints_what_the_local_command_prints(pushed) -> None:
    from jisr_kg.sparql.query import stored_queries

    ordered = [q for q in stored_queries() if "ORDER BY" in q.text.upper() and q.name != "consensus"]
    if not ordered:
        pytest.skip("no stored SELECT query with ORDER BY yet")
    name = ordered[0].name
    for fmt in ("table", "json"):
        local = jisr("query", name, "--format", fmt)
        remote = jisr("query", name, "--format", fmt, "--endpoint", pushed)
        assert local.returncode == 0 and remote.returncode == 0, remote.stderr.decode()
        assert remote.stdout == local.stdout


def test_push_replaces_and_leaves_other_graphs_alone(pushed, built) -> None:
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH
    from jisr_kg.store.push import VOID_GRAPH, graph_counts, push

    ours = (ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH, VOID_GRAPH)
    before = graph_counts(f"{pushed}/query", ours)
    assert before[ASSERTED_GRAPH] == len(built.asserted)
    assert before[CONSENSUS_GRAPH] == len(built.consensus)
    assert before[INFERRED_GRAPH] == len(built.inferred)
    assert before[VOID_GRAPH] > 0

    summary = push(pushed)
    assert graph_counts(f"{pushed}/query", ours) == before  # replaced, not appended
    assert summary.triples == before
    r = jisr("push", "--gsp", f"{pushed}/store", "--query-endpoint", f"{pushed}/query")  # explicit endpoints
    assert r.returncode == 0, r.stderr.decode()
    assert graph_counts(f"{pushed}/query", ours) == before
    assert _get(pushed, MINE) == {line.strip() for line in MINE_TRIPLES.splitlines()}
    assert _get(pushed, None) == {DEFAULT_TRIPLE.strip()}


def test_remote_query_sees_only_the_projects_graphs(pushed) -> None:
    from jisr_kg.sparql.remote import remote_query

    r = remote_query(pushed, "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://example.org/p> ?o }")
    assert int(r.rows[0][0].value) == 0  # neither someone else's graph nor the default graph
    r = remote_query(pushed, "ASK { GRAPH ?g { ?s <http://rdfs.org/ns/void#triples> ?n } }")
    assert r.value is False  # the VoID graph is pushed, but not part of the queried dataset, as locally


def test_a_store_error_is_a_store_error(pushed) -> None:
    from jisr_kg.errors import StoreError
    from jisr_kg.sparql.remote import remote_query

    with pytest.raises(StoreError, match=r"HTTP 400"):
        remote_query(pushed, "SELECT * WHERE { ?s ?p }")


def test_push_to_a_closed_port_fails_with_one_line(tmp_path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    r = jisr("push", "--endpoint", url)
    err = r.stderr.decode()
    assert r.returncode != 0
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("jisr-kg: error:")]
    assert len(errors) == 1 and len(err.strip().splitlines()) == 1, err
    assert "127.0.0.1" in errors[0] and "refused" in errors[0]


def test_query_on_a_closed_port_fails_with_one_line() -> None:
    r = jisr("query", "consensus", "--endpoint", f"http://127.0.0.1:{closed_port()}")
    err = r.stderr.decode()
    assert r.returncode != 0 and "Traceback" not in err
    assert err.startswith("jisr-kg: error:") and len(err.strip().splitlines()) == 1, err


def test_endpoint_guesses() -> None:
    from jisr_kg.sparql.remote import endpoints

    def both(url: str) -> tuple[str, str]:
        e = endpoints(url)
        return e.gsp, e.query

    assert both("http://h:7878") == ("http://h:7878/store", "http://h:7878/query")
    assert both("http://h:7878/") == ("http://h:7878/store", "http://h:7878/query")
    assert both("http://h:7878/query") == ("http://h:7878/store", "http://h:7878/query")
    assert both("http://h:3030/ds") == ("http://h:3030/ds/data", "http://h:3030/ds")
    assert both("http://h:3030/ds/query") == ("http://h:3030/ds/data", "http://h:3030/ds/query")
    assert both("http://h/custom/endpoint?key=1") == ("http://h/custom/endpoint/data", "http://h/custom/endpoint?key=1")
    assert both("http://h:3030/ds/sparql") == ("http://h:3030/ds/data", "http://h:3030/ds/sparql")
    assert both("http://h:8890/sparql") == ("http://h:8890/sparql-graph-crud", "http://h:8890/sparql")
    assert both("http://h/repositories/kg") == ("http://h/repositories/kg/rdf-graphs/service",
                                                "http://h/repositories/kg")
    e = endpoints("http://h:7878", gsp="http://other/gsp")
    assert (e.gsp, e.query) == ("http://other/gsp", "http://h:7878/query")
    e = endpoints(None, gsp="http://h/a/gsp", query="http://h/b/custom")
    assert (e.gsp, e.query) == ("http://h/a/gsp", "http://h/b/custom")


def test_not_a_url_is_a_clear_error() -> None:
    r = jisr("push", "--endpoint", "localhost:7878")
    assert r.returncode != 0 and "Traceback" not in r.stderr.decode()
    assert r.returncode == 2 and "not an http(s) URL" in r.stderr.decode()


def test_no_infer_is_honoured_remotely(pushed) -> None:
    """`query --no-infer --endpoint` sees the asserted and consensus graphs only, as `query --no-infer` does."""
    assert_no_infer_is_honoured_remotely(pushed)


def test_the_client_talks_http_with_the_standard_library_only() -> None:
    for module in ("store/push.py", "sparql/remote.py"):
        text = (ROOT / "jisr_kg" / module).read_text(encoding="utf-8")
        for lib in ("requests", "httpx", "aiohttp", "SPARQLWrapper", "urllib.request"):
            assert f"import {lib}" not in text, (module, lib)
