"""The SPARQL 1.1 Protocol client: run a query on a remote store as a local query would run.

`remote_query` sends the query as a form-encoded `POST` (`application/x-www-form-urlencoded`, fields
`query`, `default-graph-uri` and `named-graph-uri`): the one request form that every SPARQL 1.1
store takes. (A direct `POST` of `application/sparql-query` is also standard, but Virtuoso 7 never
answers it; a `GET` puts the whole query in the URL, which servers cap in length.) It returns the same
Result types as a local query, so every output format is identical. The query's dataset is set to the
project's graphs (asserted, consensus and, unless `infer` is false, inferred): the store's default
graph, the VoID graph and any other graph in the store are not seen, exactly as a local query sees
only the built dataset, whatever the store's own default-graph setting is.

Where the endpoints are. `endpoints` takes the store's base URL, or one of its endpoints, and guesses
the other one:

    store                  base URL given              Graph Store endpoint           query endpoint
    Oxigraph (serve)       http://host:7878            /store                         /query
    Apache Jena Fuseki     http://host:3030/DATASET    /DATASET/data                  /DATASET (or /query, /sparql)
    Virtuoso               http://host:8890/sparql     /sparql-graph-crud(-auth)      /sparql
    GraphDB, RDF4J         http://host/repositories/R  /repositories/R/rdf-graphs/service   /repositories/R

Safety (docs/decisions/0016-remote-stores.md):

- Every request has a total deadline (`timeout`): connecting, sending and reading the whole answer.
  A watchdog shuts the socket down when it passes, so a server that sends a byte every few seconds
  cannot hold the command past it (a socket timeout alone bounds each read, not the request).
- Credentials in the URL (`http://user:password@host/...`) are sent as HTTP Basic authentication,
  and only to that scheme, host and port: a redirect elsewhere is refused, not followed, so neither
  the credentials nor the query leave for another host, and no foreign answer is taken. They are
  never printed: every message shows the URL without them.
- A URL that is not a usable http(s) URL (another scheme, no host, a bad port, a broken IPv6
  literal, spaces) is a one-line UsageError before anything is sent.

Only the standard library's http.client talks HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from jisr_kg.errors import QueryError, StoreError, UsageError
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH

#: The graphs a query sees, locally and remotely.
QUERY_GRAPHS = (ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH)
NO_INFER_GRAPHS = (ASSERTED_GRAPH, CONSENSUS_GRAPH)
DEFAULT_TIMEOUT = 120.0
MAX_REDIRECTS = 5
RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
FORM = "application/x-www-form-urlencoded"


# ---------------------------------------------------------------- URLs


@dataclass(frozen=True)
class Endpoints:
    gsp: str  # the Graph Store HTTP Protocol endpoint
    query: str  # the SPARQL query endpoint


def endpoints(url: str | None, *, gsp: str | None = None, query: str | None = None) -> Endpoints:
    """The Graph Store and query endpoints of a store, from its base URL or one of its endpoints."""
    if url is None and (gsp is None or query is None):
        raise UsageError("give the store's URL (--endpoint URL), or both --gsp URL and --query-endpoint URL")
    if url is not None:
        guessed_gsp, guessed_query = _guess(url)
        gsp = gsp or guessed_gsp
        query = query or guessed_query
    assert gsp is not None and query is not None
    return Endpoints(check_url(gsp), check_url(query))


def _guess(url: str) -> tuple[str, str]:
    import urllib.parse

    parts = urllib.parse.urlsplit(check_url(url))
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


def public_url(url: str) -> str:
    """The URL without its user name and password, for messages; works on any string, parsable or not."""
    # Not urlsplit: the URLs that most need hiding are the ones it refuses ("http://u:pw@[::1", a bad
    # port) or reads another way ("u:pw@host:7878" has no "//"). The authority is whatever follows
    # "//" (or the start) up to the first "/", "?" or "#"; everything up to its last "@" goes.
    start = url.find("//")
    start = 0 if start < 0 else start + 2
    end = len(url)
    for mark in "/?#":
        at = url.find(mark, start)
        if at >= 0:
            end = min(end, at)
    cut = url.rfind("@", start, end)
    return url if cut < 0 else url[:start] + url[cut + 1:]


@dataclass(frozen=True)
class Target:
    """Where a request goes: what http.client needs, and the origin credentials are tied to."""

    scheme: str
    host: str  # without brackets for IPv6
    port: int
    path: str  # path and query string, percent-encoded, never empty
    authorization: str | None  # the Basic credentials, for this origin only

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host.lower(), self.port)

    @property
    def public(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        netloc = host if self.port == default else f"{host}:{self.port}"
        return f"{self.scheme}://{netloc}{self.path}"


def _target(url: str) -> Target:
    """The checked parts of an http(s) URL; a UsageError (with the credentials hidden) for anything else."""
    import base64
    import urllib.parse

    shown = public_url(url)
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UsageError(f"{shown!r} is not a URL: it contains a space or a control character")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as e:  # "Invalid IPv6 URL", "Port out of range 0-65535", a port that is not a number
        raise UsageError(f"{shown!r} is not a valid URL ({e})") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{shown!r} is not an http(s) URL of a SPARQL store")
    if not host:
        raise UsageError(f"{shown!r} has no host name")
    if port == 0:
        raise UsageError(f"{shown!r} has no usable port (0)")
    if ":" not in host:  # a name (not an IPv6 literal): what the resolver will make of it, checked now
        try:  # the idna codec also checks the lengths (labels of 1-63 characters), ASCII names included
            host.encode("idna")
        except UnicodeError as e:
            raise UsageError(f"{shown!r} has a host name that is not valid ({e})") from None
    # http.client sends the path as ASCII: percent-encode anything else, keep what is encoded already.
    keep = "/%:@!$&'()*+,;=-._~?"
    path = urllib.parse.quote(parts.path or "/", safe=keep)
    if parts.query:
        path += "?" + urllib.parse.quote(parts.query, safe=keep)
    authorization = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, host, port or default, path, authorization)


def check_url(url: str) -> str:
    """The URL itself, if it is an http(s) URL a request can be made to; a one-line UsageError if not."""
    _target(url)
    return url


# ---------------------------------------------------------------- HTTP


def check_timeout(seconds: float) -> float:
    """The deadline itself if it is a positive, finite number of seconds; a UsageError if not."""
    import math

    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise UsageError(f"--timeout takes a positive number of seconds, not {seconds!r}")
    return float(seconds)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    cap: int | None = None  # the row limit a store says it cut the answer at (Virtuoso's X-SPARQL-MaxRows)


def http_request(method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> Answer:
    """One HTTP request, answered with 2xx within `timeout` seconds in all; a StoreError otherwise.

    Redirects are followed only within the same scheme, host and port (at most MAX_REDIRECTS), and
    within the same deadline.
    """
    import time
    import urllib.parse

    target = _target(url)
    deadline = time.monotonic() + check_timeout(timeout)
    shown = f"{method} {target.public}"
    for _hop in range(MAX_REDIRECTS + 1):
        status, reason, answer_headers, data = _exchange(method, target, body, headers or {}, deadline, timeout,
                                                          shown)
        if 200 <= status < 300:
            cap = answer_headers.get("X-SPARQL-MaxRows", "").strip()
            return Answer(status, answer_headers.get("Content-Type", ""), data, int(cap) if cap.isdigit() else None)
        if status in (301, 302, 303, 307, 308):
            location = answer_headers.get("Location")
            if not location:
                raise StoreError(f"{shown}: the store answered HTTP {status} {reason} without a Location")
            moved = urllib.parse.urljoin(target.public, location.strip())
            try:
                new = _target(moved)
            except UsageError:
                raise StoreError(f"{shown}: the store redirects to {public_url(moved)!r}, "
                                 f"which is not an http(s) URL; not followed") from None
            if new.origin != target.origin:
                raise StoreError(f"{shown}: the store redirects to {new.public}, another host, scheme or port; "
                                 "not followed, so that neither the credentials nor the request go there "
                                 "(give that URL instead if it is the store)")
            if status in (301, 302, 303) and body is not None:
                raise StoreError(f"{shown}: the store redirects to {new.public} with HTTP {status}, which "
                                 f"would turn the {method} into a GET without its body; give that URL instead")
            target = Target(new.scheme, new.host, new.port, new.path, target.authorization)
            shown = f"{method} {target.public}"
            continue
        detail = _first_line(data)
        if status == 401 and answer_headers.get("WWW-Authenticate", "").lower().startswith("digest"):
            detail = ("it asks for Digest authentication, and this client sends Basic only (Virtuoso: use "
                      "/sparql-graph-crud with update rights granted, see docs/stores.md)")
        message = f"{shown}: the store answered HTTP {status} {reason}" + (f": {detail}" if detail else "")
        raise StoreError(message)
    raise StoreError(f"{shown}: more than {MAX_REDIRECTS} redirects")


def _exchange(method: str, target: Target, body: bytes | None, headers: dict[str, str], deadline: float,
              timeout: float, shown: str):  # (status, reason, headers, body)
    """One request and its whole answer, on a new connection, cut off at `deadline`."""
    # Imported here, not at the top: `jisr-kg query` imports this module to run a local query too, and
    # a local query should not pay for an HTTP client it does not use.
    import http.client
    import socket
    import threading
    import time

    from jisr_kg import __version__

    late = StoreError(f"{shown}: no complete answer within {timeout:g} s (timed out; --timeout sets the limit)")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise late
    cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    conn = cls(target.host, target.port, timeout=remaining)
    expired = threading.Event()

    def expire() -> None:
        expired.set()  # before looking at the socket: a connect that ends now is caught by the check below
        sock = conn.sock
        if sock is not None:
            try:  # the base class's shutdown: on TLS sockets it leaves the SSL object for the reader to fail on
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(remaining, expire)
    watchdog.daemon = True
    watchdog.start()
    sent = {"User-Agent": f"jisr-kg/{__version__}", **headers}
    if target.authorization:
        sent["Authorization"] = target.authorization
    try:
        conn.connect()
        if expired.is_set():
            raise late
        try:
            conn.request(method, target.path, body=body, headers=sent)
        except (BrokenPipeError, ConnectionResetError) as e:
            # A server that refuses a large body (401, 413) answers at once and closes its side: its
            # answer says why, "broken pipe" does not. Read it if it is there.
            try:
                resp = conn.getresponse()
            except (http.client.HTTPException, OSError):
                raise e from None
        else:
            resp = conn.getresponse()
        data = resp.read()
        if expired.is_set():  # a socket shut down mid-answer can look like a short, complete one
            raise late
        return resp.status, resp.reason, resp.headers, data
    except StoreError:
        raise
    except TimeoutError:
        raise late from None
    except (http.client.HTTPException, OSError, ValueError) as e:
        if expired.is_set():
            raise late from None
        raise StoreError(f"{shown}: {_why(e)}") from None
    finally:
        watchdog.cancel()
        conn.close()


def _why(reason: object) -> str:
    import http.client
    import socket
    import ssl

    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the store running, and is this its address?)"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror or reason})"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the store closed the connection without answering"
    if isinstance(reason, http.client.IncompleteRead):
        return "the store closed the connection in the middle of its answer"
    if isinstance(reason, http.client.HTTPException):
        return f"the answer is not HTTP ({type(reason).__name__})"
    if isinstance(reason, ssl.SSLError):
        return f"TLS: {reason.reason or reason}"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return _first_line(str(reason).encode()) or type(reason).__name__


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
    raise QueryError("not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)")


def remote_query(endpoint: str, query_text: str, *, infer: bool = True, timeout: float = DEFAULT_TIMEOUT,
                 graphs: tuple[str, ...] | None = None):  # results.Result
    """Run SPARQL text on a remote store through the SPARQL 1.1 Protocol, as a local query would run.

    `endpoint` is the store's base URL or its query endpoint. The query sees the project's graphs
    (asserted, consensus and, unless `infer` is false, inferred); `graphs` sets another list, and an
    empty tuple leaves the dataset to the store. `timeout` bounds the whole request.
    """
    check_timeout(timeout)
    return query_at(endpoints(endpoint).query, query_text, infer=infer, timeout=timeout, graphs=graphs)


def query_at(url: str, query_text: str, *, infer: bool = True, timeout: float = DEFAULT_TIMEOUT,
             graphs: tuple[str, ...] | None = None):  # results.Result
    """`remote_query` on a query endpoint's own URL (no guessing)."""
    import urllib.parse

    from jisr_kg.sparql.query import with_prefixes
    from jisr_kg.sparql.results import SelectResult

    text = with_prefixes(query_text)
    form = query_form(text)
    use = graphs if graphs is not None else (QUERY_GRAPHS if infer else NO_INFER_GRAPHS)
    fields = [("query", text)] + [("default-graph-uri", g) for g in use] + [("named-graph-uri", g) for g in use]
    accept = N_TRIPLES if form in ("CONSTRUCT", "DESCRIBE") else RESULTS_JSON
    answer = http_request("POST", url, body=urllib.parse.urlencode(fields).encode("ascii"), timeout=timeout,
                          headers={"Content-Type": FORM, "Accept": accept})
    result = _parse_answer(form, answer.content_type, answer.body, url)
    size = len(result.rows) if isinstance(result, SelectResult) else len(getattr(result, "triples", []) or [])
    if answer.cap is not None and size >= answer.cap:
        # Virtuoso cuts every answer at its ResultSetMaxRows (10000 by default) and says so only in this
        # header: a partial answer would pass for the whole one.
        raise StoreError(f"POST {public_url(url)}: the store cut its answer at {answer.cap} rows "
                         "(X-SPARQL-MaxRows; for Virtuoso, raise ResultSetMaxRows in the [SPARQL] section of "
                         "virtuoso.ini, or add a LIMIT to the query)")
    return result


def _parse_answer(form: str, ctype: str, body: bytes, url: str):  # results.Result
    import pyoxigraph as ox

    from jisr_kg.sparql.query import from_oxigraph, ox_term
    from jisr_kg.sparql.results import GraphResult, SelectResult

    shown = f"POST {public_url(url)}"
    media = ctype.split(";")[0].strip().lower()
    try:
        if form in ("CONSTRUCT", "DESCRIBE"):
            fmt = ox.RdfFormat.from_media_type(media) if media else ox.RdfFormat.N_TRIPLES
            if fmt is None:
                raise StoreError(f"{shown}: the store answered a {form} with {media!r}, not RDF")
            triples = [(ox_term(q.subject), ox_term(q.predicate), _canonical(ox_term(q.object)))
                       for q in ox.parse(body, fmt)]
            return GraphResult(triples)
        fmt = ox.QueryResultsFormat.from_media_type(media) if media else ox.QueryResultsFormat.JSON
        if fmt is None:
            raise StoreError(f"{shown}: the store answered with {media!r}, not SPARQL results")
        result = from_oxigraph(ox.parse_query_results(body, fmt))
        if isinstance(result, SelectResult):
            result.rows = [[_canonical(t) for t in row] for row in result.rows]
        return result
    except (SyntaxError, ValueError) as e:
        raise StoreError(f"{shown}: the store's answer does not parse as {media or 'results'}: "
                         f"{_first_line(str(e).encode())}") from None


XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_BOOLEAN_CANONICAL = {"1": "true", "0": "false"}


def _canonical(term):  # a Term or None
    """The term with an xsd:boolean in its canonical form: "1" and "0" are the same values as "true" and
    "false" (XML Schema), and Virtuoso answers every boolean as "1" or "0" whatever was loaded."""
    if term is not None and term.datatype == XSD_BOOLEAN and term.value in _BOOLEAN_CANONICAL:
        import dataclasses

        return dataclasses.replace(term, value=_BOOLEAN_CANONICAL[term.value])
    return term
