"""`jisr-kg push` and `jisr-kg query --endpoint` against Virtuoso 7 (Debian's virtuoso-opensource), the
second tested store beside Oxigraph (tests/test_push.py).

A private instance is started for the module (tests/virtuoso_instance.py: its own database folder and
loopback ports, the SPARQL user given update rights), the dataset is pushed through its Graph Store
endpoint /sparql-graph-crud, and every stored query must give the rows it gives locally. Where
Virtuoso's SPARQL differs from the standard on a stored query, the difference is written down in
docs/stores.md and asserted here as a strict expected failure: the day the query or the store changes,
the test says so.

Marked slow (`python -m pytest -m slow tests/test_virtuoso.py` runs it). Without `virtuoso-t` the module
is skipped, unless CI is set: in CI a missing Virtuoso is a failure.
"""

from __future__ import annotations

import os

import pytest
import virtuoso_instance
from test_push import assert_same_results

from conftest import assert_no_infer_is_honoured_remotely, jisr
from jisr_kg.errors import StoreError

# A real Virtuoso: about 10 s to start, a push, 40 queries (run by .ci/run). One xdist worker runs the whole
# module, so that one Virtuoso starts (`--dist loadgroup`).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("virtuoso")]

#: Stored queries on which Virtuoso 7.2 does not give the local answer (docs/stores.md, "Virtuoso").
KNOWN_DIFFERENCES: dict[str, tuple[type[BaseException], str]] = {
    "claim-assessments": (StoreError, "Virtuoso 7.2 refuses EXISTS inside IF() in a BIND (error SQ074)"),
    "unit-mentions": (StoreError, "Virtuoso 7.2 cannot compile BIND(EXISTS {...} AS ?x) "
                                  "(SQ156, internal optimizer error)"),
    "event-units": (AssertionError, "Virtuoso 7.2 loses rows when a FILTER EXISTS with a * path is followed by "
                                    "an OPTIONAL on the same variable (1 row of 3)"),
    "places": (AssertionError, "Virtuoso 7.2 stores geo:wktLiteral values as its own virtrdf:Geometry, with "
                               "float coordinates"),
    "dispute-participants": (AssertionError, "Virtuoso 7.2 gives a computed boolean, BIND(?a = ?b AS ?x), as "
                                             "\"1\"^^xsd:integer"),
    "units-by-echelon": (AssertionError, "Virtuoso 7.2 gives BIND(EXISTS {...} AS ?x) as \"0\"^^xsd:integer, "
                                         "even where the pattern matches"),
    "unlinked-opposing-claims": (AssertionError, "Virtuoso 7.2 does not apply FILTER NOT EXISTS with a * path "
                                                 "(30 rows instead of none)"),
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A private Virtuoso on loopback, shut down (or killed) after the module's tests."""
    if virtuoso_instance.server_command() is None or virtuoso_instance.isql_command() is None:
        why = "Virtuoso is not installed (apt-get install virtuoso-opensource)"
        if _in_ci():
            pytest.fail(f"CI is set and {why}: .ci/run installs it")
        pytest.skip(why)
    server = virtuoso_instance.start(tmp_path_factory.mktemp("virtuoso"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pushed(virtuoso, built) -> str:
    r = jisr("push", "--endpoint", virtuoso.url)
    assert r.returncode == 0, r.stderr.decode() + virtuoso.log()
    assert "pushed" in r.stdout.decode() and "/sparql-graph-crud" in r.stdout.decode()
    return virtuoso.url


def _query_params() -> list:
    from jisr_kg.sparql.query import stored_queries

    out = []
    for q in stored_queries():
        if q.name in KNOWN_DIFFERENCES:
            raises, reason = KNOWN_DIFFERENCES[q.name]
            out.append(pytest.param(q.name, marks=pytest.mark.xfail(strict=True, raises=raises, reason=reason)))
        else:
            out.append(q.name)
    return out


@pytest.mark.parametrize("name", _query_params())
def test_a_stored_query_gives_the_local_rows_on_virtuoso(pushed: str, name: str) -> None:
    from jisr_kg.api import run_query
    from jisr_kg.sparql.query import resolve
    from jisr_kg.sparql.remote import remote_query

    q = resolve(name)
    assert_same_results(run_query(q), remote_query(pushed, q.bind(), timeout=60), name)


def test_every_known_difference_is_a_stored_query() -> None:
    from jisr_kg.sparql.query import stored_queries

    names = {q.name for q in stored_queries()}
    assert set(KNOWN_DIFFERENCES) <= names, set(KNOWN_DIFFERENCES) - names


def test_push_holds_what_was_built_and_a_second_push_replaces(pushed: str, built) -> None:
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH
    from jisr_kg.store.push import VOID_GRAPH, graph_counts, push

    ours = (ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH, VOID_GRAPH)
    before = graph_counts(pushed, ours)
    assert before[ASSERTED_GRAPH] == len(built.asserted)
    assert before[CONSENSUS_GRAPH] == len(built.consensus)
    assert before[INFERRED_GRAPH] == len(built.inferred)
    assert before[VOID_GRAPH] > 0
    summary = push(pushed)
    assert summary.triples == before
    assert graph_counts(pushed, ours) == before  # replaced, not appended


def test_query_command_prints_what_the_local_command_prints(pushed: str) -> None:
    for args in (("timeline", "--format", "table"), ("contradictions", "--format", "json"),
                 ("timeline", "--no-infer", "--format", "csv")):
        local = jisr("query", *args)
        remote = jisr("query", *args, "--endpoint", pushed)
        assert local.returncode == 0 and remote.returncode == 0, remote.stderr.decode()
        assert remote.stdout == local.stdout, args


def test_no_infer_sees_the_same_triples_as_locally(pushed: str) -> None:
    assert_no_infer_is_honoured_remotely(pushed)


def test_an_answer_virtuoso_cuts_is_an_error(pushed: str) -> None:
    """Virtuoso stops at ResultSetMaxRows (10000 in Debian's virtuoso.ini) and says so only in a header."""
    r = jisr("query", "-", "--endpoint", pushed, "--format", "csv", stdin="SELECT * WHERE { ?s ?p ?o }")
    err = r.stderr.decode()
    assert r.returncode == 1 and "Traceback" not in err
    assert "cut its answer at 10000 rows" in err and "ResultSetMaxRows" in err
