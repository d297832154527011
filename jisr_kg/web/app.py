"""The server's ASGI application: `create_app(ctx)` (Starlette, run by uvicorn in `jisr-kg serve`).

Routes (this module and its neighbours):

- `/sparql`: the SPARQL 1.1 Protocol (web/sparql.py); GET without a query: the Service Description.
- `/api/queries`, `/api/queries/{name}`, `/openapi.json`: the stored queries as a web API (web/sparql.py).
- `/id/{kind}/{slug}[.ttl|.nt|.jsonld|.rdf]`, `/ontology`, `/graph/{name}`: the graph's IRIs resolve
  to their bounded description (web/resolve.py).

The interface with the HTML pages (web/pages.py, web/site.py, web/templates/, web/static/ are the
pages' own; this module only looks for them):

- `/static` is mounted from jisr_kg/web/static/ (Starlette StaticFiles) when that folder exists.
- If `jisr_kg.web.pages` can be imported, `pages.routes(ctx) -> list[starlette.routing.BaseRoute]` is
  called once and its routes are added BEFORE the routes above (so a page may take `/`, `/queries`, ...
  but should not take the paths listed above).
- For `/id/...`, `/ontology` and `/graph/...` when the client prefers text/html (a browser), the
  resolver calls `await pages.entity_page(request, iri, ctx) -> starlette Response` if `pages` has it;
  `iri` is the full IRI (https://w3id.org/jisr-kg/id/actor/joshua-landis). Without it, a plain HTML
  listing of the description's triples. The page should answer 404 itself for an IRI not in the graph
  (`await ctx.describe(iri)` is empty then).
- GET `/sparql` without a query and preferring text/html: `await pages.sparql_page(request, ctx)` if
  `pages` has it, else the Service Description.
- `ctx` is a `jisr_kg.web.context.Context`, also at `request.app.state.ctx`:
  - `ctx.settings` (data folder, reasoner, timeout, max_rows, ...), `ctx.queries` (stored queries by
    name: `jisr_kg.sparql.query.StoredQuery`, with `.summary`, `.parameters`, `.bind(params)` ...),
    `ctx.store` (the read-only pyoxigraph Store of the cached dataset, opened once; no time limit, so
    only for cheap reads);
  - `await ctx.select(text) -> SelectResult`, `await ctx.query(text) -> Result`: SPARQL run in a worker
    process under the time limit, with the project's prefixes and the same default graph as
    `jisr-kg query` (the union of the asserted, consensus and inferred graphs). They raise
    `jisr_kg.web.context.ServerError` (`.status`, `.message`); an uncaught one becomes a one-line
    text/plain answer with that status.
  - `await ctx.describe(iri) -> GraphResult`: the IRI's bounded description (decision 0012).

Every answer carries CORS headers (any origin may read; the server is read-only).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from jisr_kg.web.context import Context, ServerError, Settings, pages_module

STATIC = Path(__file__).resolve().parent / "static"


class RefuseUpdates:
    """SPARQL Update is refused with 400 on every path, whatever the method: a body sent as
    application/sparql-update or an `update=` parameter never reaches a handler. (/sparql also refuses
    an `update` form field and update keywords in a query: web/sparql.py.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            from urllib.parse import parse_qs

            headers = dict(scope.get("headers") or [])
            media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if media == b"application/sparql-update" or "update" in parse_qs(scope.get("query_string", b"").decode(
                    "latin-1"), keep_blank_values=True):
                response = PlainTextResponse("SPARQL Update is refused: this endpoint is read-only\n", status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _server_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServerError)
    return PlainTextResponse(exc.message + "\n", status_code=exc.status)


def create_app(ctx: Context | None = None, settings: Settings | None = None) -> Starlette:
    """The application over `ctx` (made from `settings` when not given: builds the dataset if needed)."""
    from contextlib import asynccontextmanager

    from jisr_kg.web import resolve, sparql

    ctx = ctx or Context(settings)
    routes: list[BaseRoute] = []
    if STATIC.is_dir():
        from starlette.staticfiles import StaticFiles

        routes.append(Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"))
    pages = pages_module()  # the HTML pages (issue 13), when they are there
    if pages is not None:
        routes.extend(pages.routes(ctx))
    routes += sparql.routes(ctx) + resolve.routes(ctx)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ctx.pool.start()
        try:
            yield
        finally:
            ctx.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["*"], expose_headers=["Content-Type", "Content-Disposition"]),
            Middleware(RefuseUpdates),
        ],
        exception_handlers={ServerError: _server_error},
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    return app
