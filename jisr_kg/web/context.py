"""What every request handler of the server needs: the settings, the read-only store, the stored
queries, and a pool of worker processes that run queries under a time limit.

Why processes: a pyoxigraph query cannot be interrupted from another thread, and it holds its thread
until it finishes. A runaway query (a cross product) in the server's own process would keep going
after its client gave up and take a core from everyone else. So each query runs in one of a few worker
processes that opened the same store read-only; when a query passes its limit, its worker is killed
(the work really stops) and a fresh one takes its place in the background, while the other workers
go on answering other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jisr_kg.errors import JisrError
from jisr_kg.paths import DEFAULT_REASONER
from jisr_kg.sparql.results import AskResult, GraphResult, Result, SelectResult


@dataclass(frozen=True)
class Settings:
    """How the server runs; `jisr-kg serve`'s options."""

    data: Path | None = None  # another data folder (None: the project's data/)
    reasoner: str = DEFAULT_REASONER
    timeout: float = 30.0  # seconds a query may run before its worker is killed
    queue_timeout: float = 120.0  # seconds a query may wait for a free worker (under a flood of slow queries)
    max_rows: int = 100_000  # rows of a SELECT read as a Result, or triples of a CONSTRUCT/DESCRIBE
    max_bytes: int = 64 * 1024 * 1024  # a SELECT/ASK answer written by the engine in a results format
    max_query_length: int = 100_000  # characters of query text
    workers: int = field(default_factory=lambda: max(2, min(4, os.cpu_count() or 2)))


class ServerError(JisrError):
    """An error a request handler answers with an HTTP status and a one-line text message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Dataset:
    """Which graphs a query sees. The default (no graphs named, `union` on) is what `jisr-kg query`
    sees: the default graph is the union of the asserted, consensus and inferred graphs, and each stays
    addressable with GRAPH. `union` off with no graphs named leaves the query's own FROM to decide."""

    default_graph: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    union: bool = True

    def kwargs(self) -> dict[str, Any]:
        import pyoxigraph as ox

        out: dict[str, Any] = {}
        if self.default_graph:
            out["default_graph"] = [ox.NamedNode(g) for g in self.default_graph]
        elif self.union:
            out["use_default_graph_as_union"] = True
        if self.named_graphs:
            out["named_graphs"] = [ox.NamedNode(g) for g in self.named_graphs]
        return out


# ---------------------------------------------------------------- the worker process


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class Answer:
    """What a worker sends back: the kind of result ("results" for SELECT/ASK, "graph" for
    CONSTRUCT/DESCRIBE), the result (a Result, or its bytes when a format was asked for that kind), and
    its size (rows or triples)."""

    kind: str
    payload: Result | bytes
    size: int  # -1 for SELECT/ASK results the engine wrote itself (their rows are not counted)


class _Capped:
    """A file the engine writes results into, that stops it past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise _TooLarge(f"the result is more than {self.limit} bytes, the server's limit; add a LIMIT")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _results_bytes(answer: Any, fmt: str, max_bytes: int) -> bytes:
    """A SELECT/ASK answer written by the engine's own serialiser (ten times faster than reading the
    solutions into Python), in the results format the table names `fmt`."""
    import pyoxigraph as ox

    from jisr_kg.rdf import formats as table

    out = _Capped(max_bytes)
    rdf_format = ox.QueryResultsFormat.from_media_type(table.results(fmt).media_type)
    try:
        answer.serialize(output=out, format=rdf_format)
    except _TooLarge:
        raise
    except Exception:
        if out.size > out.limit:  # the engine may wrap the writer's exception in its own
            raise _TooLarge(f"the result is more than {out.limit} bytes, the server's limit; add a LIMIT") from None
        raise
    return b"".join(out.parts)


def _collect(answer: Any, max_rows: int) -> Result:
    """The engine's answer as a Result, stopping (and so stopping the engine) past max_rows."""
    import pyoxigraph as ox

    from jisr_kg.rdf.terms import ox_term

    if isinstance(answer, ox.QueryBoolean):
        return AskResult(bool(answer))
    if isinstance(answer, ox.QueryTriples):
        triples = []
        for t in answer:
            if len(triples) >= max_rows:
                raise _TooLarge(f"the result has more than {max_rows} triples, the server's limit")
            triples.append((ox_term(t.subject), ox_term(t.predicate), ox_term(t.object)))
        return GraphResult(triples)
    variables = [v.value for v in answer.variables]
    rows = []
    for sol in answer:
        if len(rows) >= max_rows:
            raise _TooLarge(f"the result has more than {max_rows} rows, the server's limit; add a LIMIT")
        rows.append([ox_term(sol[v]) if sol[v] is not None else None for v in variables])
    return SelectResult(variables, rows)


def _graph_bytes(answer: Any, fmt: str, max_rows: int) -> tuple[bytes, int]:
    """A CONSTRUCT/DESCRIBE answer written straight from the engine's triples: distinct, sorted as their
    N-Triples lines, with the project's prefixes that it uses (in Turtle and RDF/XML). The same triples
    as `results.write_graph`, for a third of its cost: no round trip through `Term`, and each IRI's
    prefix found by its namespace, not by trying every prefix."""
    import pyoxigraph as ox

    from jisr_kg.rdf import formats as table
    from jisr_kg.rdf.namespaces import PREFIXES

    triples = set()
    for t in answer:
        triples.add(t)
        if len(triples) > max_rows:
            raise _TooLarge(f"the result has more than {max_rows} triples, the server's limit")
    ordered = sorted(triples, key=str)
    rdf_format = getattr(ox.RdfFormat, table.rdf(fmt).oxigraph)
    if fmt not in ("turtle", "xml"):
        return ox.serialize(ordered, format=rdf_format), len(ordered)
    by_namespace = {ns: p for p, ns in PREFIXES.items()}
    used: dict[str, str] = {}
    for t in ordered:
        for node in (t.subject, t.predicate, t.object):
            if isinstance(node, ox.NamedNode):
                iri = node.value
                cut = max(iri.rfind("#"), iri.rfind("/")) + 1
                prefix = by_namespace.get(iri[:cut])
                if prefix is not None:
                    used[prefix] = iri[:cut]
    return ox.serialize(ordered, format=rdf_format, prefixes=dict(sorted(used.items()))), len(ordered)


def _serialise(result: Result, fmt: str | None) -> Result | bytes:
    """The result written in `fmt` (a results format for SELECT/ASK, an RDF format for graphs) or, with
    no format, the Result itself for the caller to use."""
    if fmt is None:
        return result
    from jisr_kg.sparql.results import write, write_graph

    if isinstance(result, GraphResult):
        return write_graph(result, fmt)
    return write(result, fmt).encode("utf-8")


def _frame(obj: object) -> bytes:
    import pickle
    import struct

    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("!Q", len(data)) + data


def _recv_exact(sock: Any, n: int) -> bytes:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            raise EOFError
        got += k
    return bytes(buf)


def _worker_main(store_path: str, sock: Any) -> None:
    """A worker: open the store read-only once, then answer (text, dataset, formats, max_rows, max_bytes)
    requests until the server closes the socket. Messages are pickles behind an 8-byte length."""
    import pickle
    import struct

    import pyoxigraph as ox

    from jisr_kg.sparql.query import _oxigraph_syntax, with_prefixes

    store = ox.Store.read_only(store_path)
    sock.sendall(_frame(("ready", None)))
    while True:
        try:
            (n,) = struct.unpack("!Q", _recv_exact(sock, 8))
            text, dataset, formats, max_rows, max_bytes = pickle.loads(_recv_exact(sock, n))
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            answer = store.query(with_prefixes(text), **dataset.kwargs())
            if isinstance(answer, ox.QueryTriples) and formats.get("graph"):
                body, size = _graph_bytes(answer, formats["graph"], max_rows)
                reply: tuple = ("ok", Answer("graph", body, size))
            elif not isinstance(answer, ox.QueryTriples) and formats.get("results"):
                reply = ("ok", Answer("results", _results_bytes(answer, formats["results"], max_bytes), -1))
            else:
                result = _collect(answer, max_rows)
                kind = "graph" if isinstance(result, GraphResult) else "results"
                size = len(result.triples) if isinstance(result, GraphResult) else len(getattr(result, "rows", ()))
                reply = ("ok", Answer(kind, _serialise(result, formats.get(kind)), size))
        except SyntaxError as e:
            reply = ("syntax", _one_line(_oxigraph_syntax(str(e), text)))
        except _TooLarge as e:
            reply = ("large", str(e))
        except Exception as e:  # the engine's evaluation errors, told to the client
            reply = ("error", f"the query failed: {e}")
        try:
            sock.sendall(_frame(reply))
        except OSError:
            return


def _one_line(message: str, width: int = 400) -> str:
    """The parser's message on one line; its long lists of expected characters cut."""
    message = " ".join(message.split())
    return message if len(message) <= width else message[: width - 1] + "…"


def _die_with_parent() -> None:
    # Linux: the kernel kills this worker when the server's thread that started it ends, even in the
    # middle of a long query (an orphan would otherwise run it to the end).
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class _Worker:
    """A worker process, started as `python -m jisr_kg.web.context STORE FD` (a new interpreter, not a
    fork of the server with its event loop and threads), talking over a socket pair that the event loop
    reads and writes without blocking (a large result arrives while other requests are served)."""

    def __init__(self, store_path: Path) -> None:
        import socket
        import subprocess
        import sys

        ours, theirs = socket.socketpair()
        fd = theirs.fileno()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jisr_kg.web.context", str(store_path), str(fd)],
            pass_fds=[fd], stdin=subprocess.DEVNULL,
        )
        theirs.close()
        ours.setblocking(False)
        self.sock = ours

    async def wait_ready(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._recv(), timeout)
        except (TimeoutError, asyncio.TimeoutError, EOFError, OSError):
            self.kill()
            raise ServerError(500, f"a query worker could not open the store within {timeout:g} s") from None

    async def _recv_exact(self, n: int) -> bytes:
        loop = asyncio.get_running_loop()
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            k = await loop.sock_recv_into(self.sock, view[got:])
            if k == 0:
                raise EOFError
            got += k
        return bytes(buf)

    async def _recv(self) -> tuple:
        import pickle
        import struct

        (n,) = struct.unpack("!Q", await self._recv_exact(8))
        return pickle.loads(await self._recv_exact(n))

    async def ask(self, request: tuple) -> tuple:
        """Send a request and wait for the reply without blocking the event loop."""
        await asyncio.get_running_loop().sock_sendall(self.sock, _frame(request))
        return await self._recv()

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(5)
        with contextlib.suppress(Exception):
            self.sock.close()


class QueryPool:
    """A fixed number of worker processes; a query waits for a free one, runs with a time limit, and a
    worker that passes the limit is killed and replaced."""

    def __init__(self, store_path: Path, size: int) -> None:
        self.store_path = store_path
        self.size = max(1, size)
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        self._starting: asyncio.Lock | None = None
        self._closed = False

    async def start(self) -> None:
        if self._idle is not None:
            return
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._idle is not None:
                return
            workers = await asyncio.gather(*(self._new() for _ in range(self.size)))
            idle: asyncio.Queue[_Worker] = asyncio.Queue()
            for w in workers:
                idle.put_nowait(w)
            self._idle = idle

    async def _new(self) -> _Worker:
        w = _Worker(self.store_path)
        await w.wait_ready(60)
        self._all.add(w)
        return w

    async def _replace(self, dead: _Worker) -> None:
        self._all.discard(dead)
        await asyncio.to_thread(dead.kill)
        if self._closed:
            return
        try:
            fresh = await self._new()
        except ServerError:
            return
        assert self._idle is not None
        self._idle.put_nowait(fresh)

    async def run(self, request: tuple, timeout: float, queue_timeout: float) -> tuple:
        await self.start()
        assert self._idle is not None
        try:
            # Waiting for a worker is bounded too: under a flood of slow queries a client is told so.
            worker = await asyncio.wait_for(self._idle.get(), queue_timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise ServerError(503, f"the server is busy: no query worker was free within {queue_timeout:g} s; "
                              "try again later") from None
        clean = False
        try:
            reply = await asyncio.wait_for(worker.ask(request), timeout)
            clean = True
            return reply
        except (TimeoutError, asyncio.TimeoutError):
            raise ServerError(503, f"the query ran past the server's time limit of {timeout:g} s and was "
                              "stopped") from None
        except (EOFError, OSError):
            raise ServerError(500, "the query worker stopped unexpectedly") from None
        finally:
            if clean:
                self._idle.put_nowait(worker)
            else:
                # Killed for a timeout, a cancelled request (the client went away) or a crash: the
                # worker may still be working or hold a reply nobody reads, so it is not reused.
                asyncio.get_running_loop().create_task(self._replace(worker))

    def close(self) -> None:
        self._closed = True
        for w in list(self._all):
            w.kill()
        self._all.clear()


class Context:
    """Everything the request handlers (the SPARQL protocol, the resolver and the HTML pages) share.

    - `store`: the cached Oxigraph store, opened read-only once, for cheap reads in the server's own
      process (it has no time limit: use `query`/`select` for anything a client controls).
    - `settings`: data folder, reasoner, timeout, limits.
    - `queries`: the stored queries by name (the catalogue, read once).
    - `await ctx.query(text, dataset=None)`: run SPARQL in a worker under the time limit; returns a
      `Result` (SelectResult, AskResult, GraphResult). Raises ServerError (status + message).
    - `await ctx.run(text, dataset, formats)`: the same, written in the worker in the format named for
      the result's kind ({"results": "json", "graph": "turtle"}): an Answer (kind, payload, size).
    - `await ctx.select(text)`: the same for a SELECT, returning a SelectResult.
    """

    def __init__(self, settings: Settings | None = None, *, store_path: Path | None = None,
                 progress: Any = None) -> None:
        import pyoxigraph as ox

        from jisr_kg.pipeline.build import ensure_store
        from jisr_kg.sparql.query import stored_queries

        self.settings = settings or Settings()
        self.store_path = store_path or ensure_store(self.settings.data, reasoner=self.settings.reasoner,
                                                     progress=progress)
        self.store = ox.Store.read_only(str(self.store_path))
        self.queries = {q.name: q for q in stored_queries()}
        self.pool = QueryPool(self.store_path, self.settings.workers)
        self.started = time.time()

    async def query(self, text: str, dataset: Dataset | None = None) -> Result:
        answer = await self.run(text, dataset)
        assert not isinstance(answer.payload, bytes)
        return answer.payload

    async def run(self, text: str, dataset: Dataset | None = None, formats: dict[str, str] | None = None,
                  ) -> Answer:
        """The Answer, written in the worker (where it costs the server's event loop nothing) in the
        format `formats` names for its kind, if any."""
        check_length(text, self.settings.max_query_length)
        request = (text, dataset or Dataset(), formats or {}, self.settings.max_rows, self.settings.max_bytes)
        status, payload = await self.pool.run(request, self.settings.timeout, self.settings.queue_timeout)
        if status == "ok":
            return payload
        raise ServerError(400, payload)

    async def select(self, text: str, dataset: Dataset | None = None) -> SelectResult:
        result = await self.query(text, dataset)
        if not isinstance(result, SelectResult):
            raise ServerError(400, "this needs a SELECT query")
        return result

    async def describe(self, iri: str) -> GraphResult:
        """The IRI's bounded description (see web/resolve.py and decision 0012); empty when the IRI is
        not in the graph."""
        from jisr_kg.web.resolve import description_query

        result = await self.query(description_query(iri))
        assert isinstance(result, GraphResult)
        return result

    def close(self) -> None:
        self.pool.close()


def pages_module() -> Any:
    """The HTML pages' module (jisr_kg.web.pages, issue 13) when it is there, else None."""
    import importlib

    try:
        return importlib.import_module("jisr_kg.web.pages")
    except ModuleNotFoundError as e:
        if e.name != "jisr_kg.web.pages":
            raise  # the pages are there but something they import is not: that is a bug to see
        return None


def check_length(text: str, limit: int) -> None:
    if len(text) > limit:
        raise ServerError(413, f"the query is {len(text)} characters long, more than the server's limit of "
                          f"{limit}")


if __name__ == "__main__":  # a worker process (see _Worker)
    import socket
    import sys

    # Through the imported module, not this __main__ copy: the replies' classes must pickle under the
    # module's own name for the server to read them.
    from jisr_kg.web import context

    context._die_with_parent()
    context._worker_main(sys.argv[1], socket.socket(fileno=int(sys.argv[2])))
