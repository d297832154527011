"""The SPARQL-protocol client against small servers on loopback that misbehave on purpose: one that
sends a byte every half second, redirectors to another port, one that wants credentials, one on IPv6.

No store is needed: each server is a thread in this process on a free port, answers with canned
bytes, records what it was sent, and stops (with every wait bounded) when its test ends.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from conftest import jisr

SECRET = "s3cret-Pa55"
ASK_TRUE = b'{"head": {}, "boolean": true}'
DRIP_FOR = 60.0  # seconds a slow server keeps dripping at most (without a total deadline, the client waits this long)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    base: str  # http://127.0.0.1:PORT or http://[::1]:PORT
    port: int
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


Respond = Callable[[http.server.BaseHTTPRequestHandler, Server], None]


@contextlib.contextmanager
def serve(respond: Respond, *, family: socket.AddressFamily = socket.AF_INET,
          read_body: bool = True) -> Iterator[Server]:
    """A threaded HTTP server on a free loopback port; `respond(handler, server)` answers each request
    (after reading its body, unless `read_body` is false)."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length and read_body else b""
            state.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            try:
                respond(self, state)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up: what the deadline tests want

        do_GET = do_POST = do_PUT = handle_one  # http.server's names

        def log_message(self, *args: object) -> None:  # quiet
            pass

    class Threaded(http.server.ThreadingHTTPServer):
        address_family = family
        block_on_close = False  # a dripping handler ends on its own (bounded); do not wait for it here

    httpd = Threaded((host, 0), Handler)
    port = httpd.server_address[1]
    state = Server(f"http://{'[::1]' if family == socket.AF_INET6 else '127.0.0.1'}:{port}", port)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def answer(status: int = 200, body: bytes = ASK_TRUE, ctype: str = "application/sparql-results+json",
           headers: dict[str, str] | None = None) -> Respond:
    def respond(h: http.server.BaseHTTPRequestHandler, _s: Server) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return respond


def drip(where: str) -> Respond:
    """A byte every half second, in the status line and headers (`head`) or in a long body (`body`)."""

    def respond(h: http.server.BaseHTTPRequestHandler, s: Server) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: 4000\r\n\r\n"
        if where == "body":
            h.wfile.write(head)
            h.wfile.flush()
            data = b" " * 4000
        else:
            data = head + b" " * 4000
        end = time.monotonic() + DRIP_FOR
        for i in range(len(data)):
            if s.stop.is_set() or time.monotonic() > end:
                return
            h.wfile.write(data[i:i + 1])
            h.wfile.flush()
            s.stop.wait(0.5)

    return respond


def one_line_error(r) -> str:  # CompletedProcess
    err = r.stderr.decode()
    assert "Traceback" not in err, err
    assert err.startswith("jisr-kg: error: ") and len(err.strip().splitlines()) == 1, err
    return err.strip()


# ---------------------------------------------------------------- a total deadline


@pytest.mark.slow  # waits out a deadline: run by .ci/run
@pytest.mark.parametrize("where", ["head", "body"])
def test_a_slow_drip_cannot_hold_a_remote_query_past_its_timeout(where: str) -> None:
    with serve(drip(where)) as s:
        t = time.monotonic()
        r = jisr("query", "-", "--endpoint", f"{s.base}/sparql", "--timeout", "2", stdin="ASK {}")
        took = time.monotonic() - t
    err = one_line_error(r)
    assert r.returncode == 1
    assert "timed out" in err and "within 2 s" in err
    assert took < 15, f"the command took {took:.1f} s with --timeout 2"


@pytest.mark.slow  # waits out a deadline: run by .ci/run
def test_a_slow_drip_cannot_hold_push_past_its_timeout() -> None:
    with serve(drip("head")) as s:
        t = time.monotonic()
        r = jisr("push", "--endpoint", f"{s.base}/sparql", "--timeout", "2")
        took = time.monotonic() - t
    err = one_line_error(r)
    assert r.returncode == 1 and "timed out" in err
    assert took < 15, f"push took {took:.1f} s with --timeout 2"


def test_the_deadline_covers_the_whole_request_in_the_library() -> None:
    from jisr_kg.errors import StoreError
    from jisr_kg.sparql.remote import remote_query

    with serve(drip("body")) as s:
        t = time.monotonic()
        with pytest.raises(StoreError, match="timed out"):
            remote_query(f"{s.base}/sparql", "ASK {}", timeout=1.5)
        assert time.monotonic() - t < 5


def test_an_https_store_that_never_answers_is_cut_off() -> None:
    """A listener that takes the connection and says nothing: the TLS handshake waits, the deadline ends it."""
    from jisr_kg.errors import StoreError
    from jisr_kg.sparql.remote import remote_query

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        t = time.monotonic()
        with pytest.raises(StoreError, match="timed out") as caught:
            remote_query(f"https://bob:{SECRET}@127.0.0.1:{port}/sparql", "ASK {}", timeout=1.5)
        assert time.monotonic() - t < 5
    assert SECRET not in str(caught.value)


def test_a_request_without_a_deadline_is_refused() -> None:
    from jisr_kg.errors import UsageError
    from jisr_kg.sparql.remote import remote_query

    r = jisr("query", "-", "--endpoint", "http://127.0.0.1:9/sparql", "--timeout", "0", stdin="ASK {}")
    assert r.returncode == 2 and "--timeout 0 (no limit) is for local queries" in one_line_error(r)
    for value in ("0", "-1", "nan", "inf"):
        r = jisr("push", "--endpoint", "http://127.0.0.1:9/sparql", "--timeout", value)
        assert r.returncode == 2 and "--timeout takes a positive number of seconds" in one_line_error(r), value
    for value in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(UsageError):
            remote_query("http://127.0.0.1:9/sparql", "ASK {}", timeout=value)


# ---------------------------------------------------------------- the request


def test_a_query_is_a_form_encoded_post_with_the_projects_graphs() -> None:
    from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH

    with serve(answer()) as s:
        assert jisr("query", "-", "--endpoint", f"{s.base}/sparql", stdin="ASK {}").returncode == 0
        assert jisr("query", "-", "--endpoint", f"{s.base}/sparql", "--no-infer", stdin="ASK {}").returncode == 0
    inferring, asserted_only = s.seen
    for req in s.seen:
        assert req.method == "POST" and req.path == "/sparql"
        assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert req.headers["Accept"] == "application/sparql-results+json"
    fields = urllib.parse.parse_qs(inferring.body.decode("ascii"))
    assert "ASK {}" in fields["query"][0]
    assert fields["default-graph-uri"] == [ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH]
    assert fields["named-graph-uri"] == [ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH]
    fields = urllib.parse.parse_qs(asserted_only.body.decode("ascii"))
    assert fields["default-graph-uri"] == fields["named-graph-uri"] == [ASSERTED_GRAPH, CONSENSUS_GRAPH]


def test_an_answer_cut_by_the_store_is_an_error_not_a_result() -> None:
    rows = {"head": {"vars": ["s"]}, "results": {"bindings": [{"s": {"type": "uri", "value": "http://e/a"}}] * 3}}
    with serve(answer(body=json.dumps(rows).encode(), headers={"X-SPARQL-MaxRows": "3"})) as s:
        r = jisr("query", "-", "--endpoint", f"{s.base}/sparql", stdin="SELECT * { ?s ?p ?o }")
    assert r.returncode == 1 and "cut its answer at 3 rows" in one_line_error(r)


def test_booleans_come_back_in_their_canonical_form() -> None:
    """Virtuoso answers "1"^^xsd:boolean for a loaded "true": the same value, written as locally."""
    xsd = "http://www.w3.org/2001/XMLSchema#boolean"
    rows = {"head": {"vars": ["b", "c"]}, "results": {"bindings": [
        {"b": {"type": "literal", "value": "1", "datatype": xsd},
         "c": {"type": "literal", "value": "0", "datatype": xsd}},
    ]}}
    with serve(answer(body=json.dumps(rows).encode())) as s:
        r = jisr("query", "-", "--endpoint", f"{s.base}/sparql", "--format", "csv", stdin="SELECT * { ?s ?p ?o }")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().splitlines() == ["b,c", "true,false"]


def test_a_store_that_refuses_a_large_body_at_once_is_heard() -> None:
    """A 401 sent before the body is read (then the connection closed) is the error, not "broken pipe"."""
    from jisr_kg.errors import StoreError
    from jisr_kg.store.push import put_graph

    def refuse(h: http.server.BaseHTTPRequestHandler, s: Server) -> None:
        h.send_response(401)
        h.send_header("WWW-Authenticate", 'Digest realm="SPARQL", nonce="x", qop="auth"')
        h.send_header("Content-Length", "0")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.flush()
        h.connection.shutdown(socket.SHUT_WR)
        h.close_connection = True

    with serve(refuse, read_body=False) as s:
        with pytest.raises(StoreError, match="HTTP 401 Unauthorized: it asks for Digest authentication"):
            put_graph(f"{s.base}/sparql-graph-crud-auth", "http://example.org/g", b"<a> <b> <c> .\n" * 400_000,
                      "application/n-triples", timeout=20)


# ---------------------------------------------------------------- credentials and redirects


def redirect_to(location: Callable[[Server], str], status: int = 307) -> Respond:
    def respond(h: http.server.BaseHTTPRequestHandler, s: Server) -> None:
        if h.path.startswith("/moved"):
            answer()(h, s)
            return
        h.send_response(status)
        h.send_header("Location", location(s))
        h.send_header("Content-Length", "0")
        h.end_headers()

    return respond


def test_a_redirect_to_another_port_is_refused_and_gets_nothing() -> None:
    with serve(answer()) as elsewhere, serve(redirect_to(lambda _s: f"{elsewhere.base}/sparql")) as s:
        url = f"http://bob:{SECRET}@127.0.0.1:{s.port}/sparql"
        r = jisr("query", "-", "--endpoint", url, stdin="ASK {}")
        pushed = jisr("push", "--endpoint", url)
    for result in (r, pushed):
        err = one_line_error(result)
        assert result.returncode == 1
        assert "redirects to" in err and f"127.0.0.1:{elsewhere.port}" in err and "not followed" in err
        assert SECRET not in err and "bob" not in err
    assert elsewhere.seen == [], "the other host got a request"
    assert s.seen[0].headers["Authorization"] == "Basic " + base64.b64encode(f"bob:{SECRET}".encode()).decode()


def test_a_redirect_to_another_scheme_is_refused() -> None:
    with serve(redirect_to(lambda s: f"https://127.0.0.1:{s.port}/sparql")) as s:
        r = jisr("query", "-", "--endpoint", f"http://bob:{SECRET}@127.0.0.1:{s.port}/sparql", stdin="ASK {}")
    err = one_line_error(r)
    assert r.returncode == 1 and "another host, scheme or port" in err and SECRET not in err
    assert len(s.seen) == 1


def test_a_redirect_on_the_same_host_keeps_the_credentials_and_the_request() -> None:
    with serve(redirect_to(lambda _s: "/moved/sparql")) as s:
        r = jisr("query", "-", "--endpoint", f"http://bob:{SECRET}@127.0.0.1:{s.port}/sparql", "--format", "json",
                 stdin="ASK {}")
    assert r.returncode == 0, r.stderr.decode()
    assert json.loads(r.stdout)["boolean"] is True
    first, moved = s.seen
    assert moved.path == "/moved/sparql" and moved.method == "POST" and moved.body == first.body
    assert moved.headers["Authorization"] == first.headers["Authorization"]


def test_a_303_that_would_drop_the_query_is_refused() -> None:
    with serve(redirect_to(lambda _s: "/moved/sparql", status=303)) as s:
        r = jisr("query", "-", "--endpoint", f"{s.base}/sparql", stdin="ASK {}")
    assert r.returncode == 1 and "HTTP 303" in one_line_error(r)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("case", ["refused", "401", "bad-answer", "timed-out"])
def test_no_credential_in_any_store_error(case: str) -> None:
    responses = {"401": answer(401, b"authentication required", "text/plain"),
                 "bad-answer": answer(200, b"not json at all", "application/sparql-results+json"),
                 "timed-out": drip("body")}
    extra = ("--timeout", "1") if case == "timed-out" else ()
    if case == "refused":
        r = jisr("query", "-", "--endpoint", f"http://bob:{SECRET}@127.0.0.1:{closed_port()}/sparql", stdin="ASK {}")
    else:
        with serve(responses[case]) as s:
            r = jisr("query", "-", "--endpoint", f"http://bob:{SECRET}@127.0.0.1:{s.port}/sparql", *extra,
                     stdin="ASK {}")
    err = one_line_error(r)
    assert r.returncode == 1
    assert "127.0.0.1" in err
    assert SECRET not in err and "bob" not in err


@pytest.mark.parametrize("url", [
    f"ftp://bob:{SECRET}@example.org/sparql",
    f"http://bob:{SECRET}@[::1/sparql",
    f"http://bob:{SECRET}@127.0.0.1:99999/sparql",
    f"http://bob:{SECRET}@127.0.0.1:port/sparql",
    f"bob:{SECRET}@127.0.0.1:7878",
    f"http://bob:{SECRET}@/sparql",
    f"http://bob:{SECRET}@127.0.0.1:7878/spa rql",
    f"http://bob:{SECRET}@{'a' * 64}.example/sparql",
    f"http://bob:{SECRET}@a..b/sparql",
])
@pytest.mark.parametrize("command", ["query", "push"])
def test_an_invalid_url_is_a_usage_error_that_hides_the_credentials(url: str, command: str) -> None:
    args = ("query", "-", "--endpoint", url) if command == "query" else ("push", "--endpoint", url)
    r = jisr(*args, stdin="ASK {}")
    err = one_line_error(r)
    assert r.returncode == 2
    assert SECRET not in err and "bob" not in err


def test_public_url_hides_credentials_in_anything() -> None:
    from jisr_kg.sparql.remote import public_url

    assert public_url("http://bob:pw@h:1/p?q#f") == "http://h:1/p?q#f"
    assert public_url("http://b@b:p@w@h/p") == "http://h/p"  # an unescaped "@" in the password
    assert public_url("ftp://bob:pw@h") == "ftp://h"
    assert public_url("bob:pw@h:7878") == "h:7878"
    assert public_url("http://bob:pw@[::1/x") == "http://[::1/x"
    assert public_url("http://h/p?user=a@b") == "http://h/p?user=a@b"  # an "@" after the host is not userinfo


# ---------------------------------------------------------------- IPv6


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_an_ipv6_host_with_credentials_works() -> None:
    with serve(answer(), family=socket.AF_INET6) as s:
        r = jisr("query", "-", "--endpoint", f"http://bob:{SECRET}@[::1]:{s.port}/sparql", "--format", "json",
                 stdin="ASK {}")
    assert r.returncode == 0, r.stderr.decode()
    assert json.loads(r.stdout)["boolean"] is True
    (req,) = s.seen
    assert req.headers["Host"] == f"[::1]:{s.port}"
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(f"bob:{SECRET}".encode()).decode()


def test_an_ipv6_host_that_does_not_answer_is_one_line() -> None:
    with serve(answer()) as s:  # a port just used on IPv4: nothing listens on ::1 there
        port = s.port
    r = jisr("query", "-", "--endpoint", f"http://bob:{SECRET}@[::1]:{port}/sparql", stdin="ASK {}")
    err = one_line_error(r)
    assert r.returncode == 1 and f"[::1]:{port}" in err and SECRET not in err
