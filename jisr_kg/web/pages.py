"""The HTML pages for readers: every IRI as a page, the disputes side by side, the source with its
evidence, the timeline, the map and search. The server (web/app.py) includes `routes(ctx)` and calls
`entity_page(request, iri, ctx)` for an IRI a browser asks for; the static site (web/site.py) renders
the same templates with `Renderer(static=True)`.

The data comes from web/readmodel.py, read from the server's own read-only store (`ctx.store`): the
page queries are fixed and bounded (one IRI, or one pass over the claims), so they need no worker or
time limit, and run in a thread so they do not hold up the event loop.
"""

from __future__ import annotations

import posixpath
import threading
import weakref
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup, escape

from jisr_kg.rdf import formats
from jisr_kg.rdf.namespaces import GRAPH, ID, ONTOLOGY, RDFS
from jisr_kg.web import readmodel as rm
from jisr_kg.web.readmodel import iri_ok

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"

#: Every page says that nothing is loaded from elsewhere: scripts, styles, images and fonts come from
#: this server (or this site), and nothing may frame the page or post a form to another host.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

#: The RDF formats of one entity's description, offered as downloads (graph formats: a description is
#: triples, not quads).
DOWNLOADS = tuple(f for f in formats.FORMATS if f.kind == "graph")

#: Results on one search page: the best ones; a longer text narrows them.
SEARCH_LIMIT = 50

NAV = (("/disputes", "Disputes"), ("/source", "Source"), ("/timeline", "Timeline"), ("/map", "Map"),
       ("/ontology", "Ontology"))


def page_file(path: str) -> str:
    """The file of a page in the static site: / -> index.html, /disputes -> disputes.html,
    /id/actor/x -> id/actor/x.html; files with an ending (static/style.css, x.ttl) keep their name."""
    path = path.split("#", 1)[0].split("?", 1)[0]
    if path in ("", "/"):
        return "index.html"
    name = path.lstrip("/")
    last = name.rsplit("/", 1)[-1]
    if name.startswith("static/") or any(last.endswith(f.extension) for f in DOWNLOADS) or last.endswith(".json"):
        return name
    return name + ".html"


def _quoted(link: str, frag: str) -> str:
    link = quote(link, safe="/:.-_~%?=&")
    return link + ("#" + quote(frag, safe="-_.~") if frag else "")


@lru_cache(maxsize=100_000)
def _server_url(path: str | None) -> str:
    """A link on the server: the site path itself (the same on every page, so kept once made)."""
    if not path:
        return ""
    target, _, frag = path.partition("#")
    return _quoted(target, frag)


_NONE = Markup('<span class="none">(none)</span>')


@pass_context
def ref(context: Any, r: Any) -> Markup:
    """A link to a thing (a `Reader.ref` dict, or a literal): what the templates write as `{{ ref(r) }}`.
    A function rather than a Jinja macro because a page has hundreds of them (every triple, every claim's
    claimant, subject and object) and a macro call costs three times as much."""
    if r is None:
        return _NONE
    if r.get("path"):
        return Markup(f'<a href="{escape(context["url"](r["path"]))}">{escape(r["label"])}</a>')
    if "literal" in r:
        out = f'<span class="literal">{escape(r["literal"])}</span>'
        return Markup(out + f' <span class="dt">{escape(r["datatype"])}</span>' if r.get("datatype") else out)
    if r.get("iri"):
        return Markup(f'<a href="{escape(r["iri"])}" rel="external">{escape(r.get("name", ""))}</a>')
    return Markup("")


class Renderer:
    """The templates with the link style of the server (site paths) or of the static site (relative
    links to .html files, so the site works from any folder and any host)."""

    def __init__(self, static: bool = False) -> None:
        self.static = static
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(
            enabled_extensions=("html", "svg", "xml"), default_for_string=True, default=True),
            trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(nav=NAV, downloads=DOWNLOADS, standings=rm.STANDINGS, ref=ref)

    def url_for(self, current: str) -> Callable[[str | None], str]:
        if not self.static:
            return _server_url
        here = posixpath.dirname(page_file(current))

        def url(path: str | None) -> str:
            if not path:
                return ""
            target, _, frag = path.partition("#")
            link = posixpath.relpath(page_file(target), here or ".") if target else ""
            return _quoted(link, frag)

        return url

    def root(self, current: str) -> str:
        """The site's root as seen from the page at `current`: "/" on the server, "../../" or "" in the site."""
        if not self.static:
            return "/"
        here = posixpath.dirname(page_file(current))
        return "" if not here else posixpath.relpath(".", here) + "/"

    def render(self, template: str, current: str, **data: Any) -> str:
        return self.env.get_template(template).render(url=self.url_for(current), current=current,
                                                      static=self.static, root=self.root(current), **data)


# ---------------------------------------------------------------- the pages' data and HTML, engine-free


def entity_html(renderer: Renderer, reader: rm.Reader, iri: str) -> str | None:
    """The page of one IRI (an entity, a claim, a span ...; the ontology), or None when it is unknown."""
    if iri == ONTOLOGY or iri == ONTOLOGY + "#":
        return renderer.render("ontology.html", "/ontology", title="Ontology", o=rm.ontology(reader))
    e = rm.entity(reader, iri)
    if e is None:
        return None
    path = e["path"] or "/"
    return renderer.render("entity.html", path, title=e["label"], e=e,
                           downloads_base=path if iri.startswith(ID) else None)


def index_html(renderer: Renderer, reader: rm.Reader) -> str:
    points = rm.disputed_points(reader)
    return renderer.render("index.html", "/", title="The June 2011 Jisr ash-Shughur clashes", points=points[:8],
                           point_count=len(points), source=reader.ref(reader.source[0]) if reader.source[0] else None)


def disputes_html(renderer: Renderer, reader: rm.Reader) -> str:
    return renderer.render("disputes.html", "/disputes", title="Disputed points", points=rm.disputed_points(reader))


def dispute_html(renderer: Renderer, reader: rm.Reader, slug: str) -> str | None:
    d = rm.dispute(reader, slug)
    if d is None:
        return None
    return renderer.render("dispute.html", f"/disputes/{slug}", title=f"Disputed: {d['point']['label']}", d=d)


def source_html(renderer: Renderer, reader: rm.Reader) -> str:
    return renderer.render("source.html", "/source", title="The source and its evidence", s=rm.source(reader))


def timeline_html(renderer: Renderer, reader: rm.Reader) -> str:
    return renderer.render("timeline.html", "/timeline", title="Timeline", t=rm.timeline(reader))


def map_html(renderer: Renderer, reader: rm.Reader) -> str:
    return renderer.render("map.html", "/map", title="Map", m=rm.places(reader))


def search_html(renderer: Renderer, reader: rm.Reader, q: str, index: Any = None) -> str:
    from jisr_kg.search import SearchIndex

    index = index or SearchIndex.from_select(reader.select)
    matches = index.find(q, limit=SEARCH_LIMIT + 1) if q.strip() else []
    results = [{"label": m.label, "matched": m.matched, "kind": m.kind, "name": m.name, "exact": m.exact,
                "path": rm.path_of(m.iri)} for m in matches[:SEARCH_LIMIT]]
    return renderer.render("search.html", "/search", title=f"Search: {q}" if q else "Search", q=q, results=results,
                           more=len(matches) > SEARCH_LIMIT)


def not_found_html(renderer: Renderer, what: str) -> str:
    return renderer.render("404.html", "/", title="Not found", what=what)


# ---------------------------------------------------------------- the server's side


_READERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_RENDERER = Renderer(static=False)


MISSING = object()


class PageCache:
    """Rendered pages by (page, arguments), the most recently used kept. The server's store is read-only
    for its whole life, so a page once rendered stays true; the cache is bounded (entries, not bytes:
    pages are 5 to 250 kB) and shared by the threads that render."""

    def __init__(self, size: int = 512) -> None:
        import threading
        from collections import OrderedDict

        self.size = size
        self.pages: OrderedDict[tuple, str | None] = OrderedDict()
        self.lock = threading.Lock()

    def peek(self, key: tuple) -> str | None | object:
        """The page kept under `key`, or MISSING."""
        with self.lock:
            if key in self.pages:
                self.pages.move_to_end(key)
                return self.pages[key]
        return MISSING

    def get(self, key: tuple, make: Callable[[], str | None]) -> str | None:
        found = self.peek(key)
        if found is not MISSING:
            return found  # type: ignore[return-value]
        page = make()
        with self.lock:
            self.pages[key] = page
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)
        return page


_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache(ctx: Any) -> PageCache:
    cache = _CACHES.get(ctx)
    if cache is None:
        cache = _CACHES[ctx] = PageCache()
    return cache


#: Pages rendered at once. Rendering is Python, which runs one thread at a time (the GIL), with short
#: waits on the store in between: two threads keep a core busy, and more only take turns. In the load
#: run (16 clients, a different entity page each request), 16 rendering threads had about twice the
#: 99th percentile of two, and cost a third more CPU per page.
RENDER_THREADS = 2
_LIMITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _cached(ctx: Any, key: tuple, make: Callable[[], str | None]) -> str | None:
    """The page under `key`: from the cache without leaving the event loop, else rendered in one of
    RENDER_THREADS threads (the others wait their turn here, not in a thread)."""
    import asyncio

    import anyio

    cache = _cache(ctx)
    found = cache.peek(key)
    if found is not MISSING:
        return found  # type: ignore[return-value]
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop) or _LIMITERS.setdefault(loop, anyio.CapacityLimiter(RENDER_THREADS))
    return await anyio.to_thread.run_sync(cache.get, key, make, limiter=limiter)


_LOCK = threading.Lock()


def _reader(ctx: Any) -> rm.Reader:
    """The Reader of a server context, made once (cheap: what it reads, it reads on first use)."""
    with _LOCK:
        reader = _READERS.get(ctx)
        if reader is None:
            data = getattr(getattr(ctx, "settings", None), "data", None)
            units = Path(data) / "source" / "units.tsv" if data else None
            reader = _READERS[ctx] = rm.Reader.over(ctx.store, units_path=units if units and units.is_file() else None)
    return reader


_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_INDEX_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _index(ctx: Any) -> Any:
    """The search index of a server context, made once, in a worker thread (seconds at 100x)."""
    from jisr_kg.search import SearchIndex

    with _LOCK:
        lock = _INDEX_LOCKS.setdefault(ctx, threading.Lock())
    with lock:
        index = _INDEXES.get(ctx)
        if index is None:
            index = _INDEXES[ctx] = SearchIndex.from_select(_reader(ctx).select)
    return index


def _warm(ctx: Any) -> None:
    """Read what every page needs (labels, sides, the source, every claim ready for a page) and the
    search index before the first request asks: at 100x that is about half a minute, better spent at
    start-up than by a reader."""
    try:
        reader = _reader(ctx)
        reader.labels, reader.sides, reader.source, reader.units, reader.claim_table  # noqa: B018 - cached on first use
        _index(ctx)
    except Exception:  # a failure here shows again, with its message, on the first request
        pass


def _html(body: str | None, status: int = 200) -> Any:
    from starlette.responses import HTMLResponse

    if body is None:
        return HTMLResponse(not_found_html(_RENDERER, "There is no such page."), status_code=404, headers=HEADERS)
    return HTMLResponse(body, status_code=status, headers=HEADERS)


async def entity_page(request: Any, iri: str, ctx: Any) -> Any:
    """The HTML page of an IRI of the graph (404 when the graph has nothing about it)."""
    reader = _reader(ctx)
    body = await _cached(ctx, ("entity", iri), lambda: entity_html(_RENDERER, reader, iri))
    if body is None and iri.startswith(GRAPH) and iri_ok(iri):
        # a named graph of the dataset: its name and size (counted under the server's time limit)
        result = await ctx.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
        n = result.rows[0][0] if result.rows and result.rows[0][0] is not None else None
        if n is not None and int(n.value) > 0:
            from jisr_kg.rdf.terms import Term

            g = Term("uri", iri)
            triples = [(g, Term("uri", RDFS + "label"), Term("literal", iri.rsplit("/", 1)[-1] + " graph")),
                       (g, Term("uri", "http://rdfs.org/ns/void#triples"), n)]
            e = rm.described(reader, iri, triples)
            body = _RENDERER.render("entity.html", "/", title=e["label"], e=e, downloads_base=None)
    if body is None:
        return _html(not_found_html(_RENDERER, f"{iri} is not in the graph."), 404)
    return _html(body)


def routes(ctx: Any) -> list:
    """The pages' routes; the server adds them before its own."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def page(make: Callable[..., str | None]) -> Callable:
        async def endpoint(request: Any) -> Any:
            reader = _reader(ctx)
            args = dict(request.path_params)
            key = (make.__name__, *sorted(args.items()))
            return _html(await _cached(ctx, key, lambda: make(_RENDERER, reader, **args)))

        return endpoint

    async def search(request: Any) -> Any:
        q = request.query_params.get("q", "")[:200]
        return _html(await run_in_threadpool(lambda: search_html(_RENDERER, _reader(ctx), q, _index(ctx))))

    async def suggest(request: Any) -> Any:
        # the type-ahead's answers: the first few matches, as JSON
        q = request.query_params.get("q", "")[:200]

        def answer() -> list[dict]:
            return [{"label": m.label, "kind": m.kind, "name": m.name, "href": rm.path_of(m.iri)}
                    for m in _index(ctx).find(q, limit=10)]

        return JSONResponse(await run_in_threadpool(answer), headers=HEADERS)

    threading.Thread(target=_warm, args=(ctx,), name="jisr-kg-pages-warm", daemon=True).start()
    return [
        Route("/", page(index_html), methods=["GET"]),
        Route("/disputes", page(disputes_html), methods=["GET"]),
        Route("/disputes/{slug}", page(dispute_html), methods=["GET"]),
        Route("/source", page(source_html), methods=["GET"]),
        Route("/timeline", page(timeline_html), methods=["GET"]),
        Route("/map", page(map_html), methods=["GET"]),
        Route("/search", search, methods=["GET"]),
        Route("/search.json", suggest, methods=["GET"]),
    ]
