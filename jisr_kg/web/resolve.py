"""IRIs that resolve: every IRI of the graph under https://w3id.org/jisr-kg/ is answered at the same path
of this server (w3id.org redirects there: docs/w3id.htaccess).

- `/id/{kind}/{slug}`: the entity's bounded description (decision 0012): its own triples (asserted,
  consensus and inferred), the labels of what they point to, the claims whose rdf:subject or rdf:object
  it is, and the evidence of those claims and of the entity itself when it is a claim (the span and
  its text-position selector). Never the other things that point at it: that is what /sparql is for.
- `/ontology`: the ontology as written (the ontology node and every `ontology#` term), for the
  `#` IRIs of its terms, whose fragment the browser never sends.
- `/graph/{asserted|consensus|inferred}`: what the named graph is, with its size.

RDF by the Accept header (Turtle, N-Triples, JSON-LD, RDF/XML) or by the path's ending (`.ttl`, `.nt`,
`.jsonld`, `.rdf`, which win over Accept); HTML for a browser (the pages' `entity_page` when there is
one). 404 for an IRI with nothing to say.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from jisr_kg.rdf import formats
from jisr_kg.rdf.formats import Format
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, BASE, CONSENSUS_GRAPH, GRAPH, ID, INFERRED_GRAPH, JKG, ONTOLOGY
from jisr_kg.rdf.terms import Term, ntriples_key
from jisr_kg.sparql.results import GraphResult, write_graph
from jisr_kg.web.context import Context, ServerError, pages_module
from jisr_kg.web.sparql import GRAPH_OFFERS, negotiate

_GRAPHS = {g.rsplit("/", 1)[-1]: g for g in (ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH)}


def description_query(iri: str) -> str:
    """The CONSTRUCT that gives an IRI's bounded description (see the module's docstring)."""
    e = Term("uri", iri).n3()
    # Property paths, not UNIONs inside the branches: Oxigraph plans `?c rdf:subject|rdf:object <e>` as
    # two index look-ups, and a UNION joined with `?c a jkg:Claim` as a scan of every claim (100x slower).
    # Only claims (rdf:Statement nodes) have rdf:subject and rdf:object.
    return f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{ {e} ?p ?o BIND({e} AS ?s) }}
  UNION {{ {e} ?link ?s . FILTER(isIRI(?s)) ?s rdfs:label ?o BIND(rdfs:label AS ?p) }}
  UNION {{ ?s rdf:subject|rdf:object {e} . ?s ?p ?o }}
  UNION {{ ?claim rdf:subject|rdf:object {e} . ?claim jkg:evidence ?s . ?s ?p ?o }}
  UNION {{ ?claim rdf:subject|rdf:object {e} . ?claim jkg:evidence/oa:hasSelector ?s . ?s ?p ?o }}
  UNION {{ {e} jkg:evidence ?s . ?s ?p ?o }}
  UNION {{ {e} jkg:evidence/oa:hasSelector ?s . ?s ?p ?o }}
}}"""


def _split_extension(path: str) -> tuple[str, Format | None]:
    """("actor/joshua-landis", turtle) for "actor/joshua-landis.ttl"; the format only for an ending of
    a format the resolver gives."""
    stem, dot, ext = path.rpartition(".")
    if dot and "/" not in ext:
        fmt = formats.rdf_by_extension("." + ext)
        if fmt is not None and fmt in GRAPH_OFFERS:
            return stem, fmt
    return path, None


def _wants(request: Request, fmt: Format | None) -> Format | str:
    """The format to answer in: the path's ending, else the Accept header ("html" for a browser)."""
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept")
    by_media = {m: f for f in GRAPH_OFFERS for m in f.media_types}
    # Turtle first: a client that says nothing (curl, */*) gets RDF; a browser asks for text/html.
    chosen = negotiate(accept, [formats.rdf("turtle").media_type, "text/html", *by_media])
    if chosen is None:
        listed = ", ".join(f.media_type for f in GRAPH_OFFERS)
        raise ServerError(406, f"cannot describe this IRI as {accept!r}; it is given as {listed} or text/html")
    return "html" if chosen == "text/html" else by_media[chosen]


Describe = Callable[[Context, str], Awaitable[GraphResult]]


async def _answer(request: Request, iri: str, fmt: Format | None, describe: Describe) -> Response:
    ctx: Context = request.app.state.ctx
    wanted = _wants(request, fmt)
    if wanted == "html":
        pages = pages_module()
        if pages is not None and hasattr(pages, "entity_page"):
            return await pages.entity_page(request, iri, ctx)
    if describe is _describe_entity and wanted != "html":
        # The common case, written in the worker: the server's own process only passes bytes on.
        answer = await ctx.run(description_query(iri), formats={"graph": wanted.name})
        if not answer.size:
            raise ServerError(404, f"{iri} is not in the graph")
        body = answer.payload
    else:
        result = await describe(ctx, iri)
        if not result.triples:
            raise ServerError(404, f"{iri} is not in the graph")
        if wanted == "html":
            return HTMLResponse(_html_listing(iri, result))
        body = write_graph(result, wanted.name)
    assert isinstance(wanted, Format) and isinstance(body, bytes)
    media = wanted.media_type + ("; charset=utf-8" if wanted.media_type.startswith("text/") else "")
    return Response(body, media_type=media, headers={"Vary": "Accept"})


def _html_listing(iri: str, result: GraphResult) -> str:
    """A plain page of the description's triples, for a browser, when the pages are not there."""
    def cell(t: Term) -> str:
        if t.kind == "uri":
            href = t.value[len(BASE) - 1:] if t.value.startswith(BASE) else t.value
            return f'<a href="{html.escape(href)}">{html.escape(t.short())}</a>'
        return html.escape(t.short())

    rows = "\n".join(f"<tr><td>{cell(s)}</td><td>{cell(p)}</td><td>{cell(o)}</td></tr>"
                     for s, p, o in sorted(set(result.triples), key=lambda t: (t[0].value != iri, ntriples_key(t))))
    title = html.escape(iri)
    return (f"<!doctype html>\n<html lang=en><meta charset=utf-8><title>{title}</title>\n<h1>{title}</h1>\n"
            f"<table>\n<tr><th>subject<th>predicate<th>object</tr>\n{rows}\n</table>\n</html>\n")


# ---------------------------------------------------------------- the three kinds of IRI


async def _describe_entity(ctx: Context, iri: str) -> GraphResult:
    return await ctx.describe(iri)


_ontology_cache: dict[str, GraphResult] = {}


async def _describe_ontology(ctx: Context, iri: str) -> GraphResult:
    # The ontology does not change while the server runs: read it once (a scan of the asserted graph,
    # in a thread so that the event loop goes on).
    key = str(ctx.store_path)
    if key not in _ontology_cache:
        def read() -> GraphResult:
            import pyoxigraph as ox

            from jisr_kg.rdf.terms import ox_term

            quads = ctx.store.quads_for_pattern(None, None, None, ox.NamedNode(ASSERTED_GRAPH))
            return GraphResult([(ox_term(q.subject), ox_term(q.predicate), ox_term(q.object)) for q in quads
                                if isinstance(q.subject, ox.NamedNode)
                                and (q.subject.value == ONTOLOGY or q.subject.value.startswith(JKG))])
        _ontology_cache[key] = await asyncio.to_thread(read)
    return _ontology_cache[key]


async def _describe_graph(ctx: Context, iri: str) -> GraphResult:
    if iri not in _GRAPHS.values():
        return GraphResult([])
    result = await ctx.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
    count = result.rows[0][0]
    assert count is not None
    g = Term("uri", iri)

    def u(x: str) -> Term:
        return Term("uri", x)

    return GraphResult([
        (g, u("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
         u("http://www.w3.org/ns/sparql-service-description#NamedGraph")),
        (g, u("http://www.w3.org/2000/01/rdf-schema#label"), Term("literal", iri.rsplit("/", 1)[-1] + " graph")),
        (g, u("http://rdfs.org/ns/void#triples"), count),
        (g, u("http://purl.org/dc/terms/isPartOf"), u(BASE + "dataset")),
    ])


async def entity(request: Request) -> Response:
    path, fmt = _split_extension(request.path_params["path"])
    return await _answer(request, ID + path, fmt, _describe_entity)


async def ontology(request: Request) -> Response:
    ext = request.path_params.get("ext")
    fmt = None
    if ext is not None:
        fmt = formats.rdf_by_extension("." + ext)
        if fmt is None or fmt not in GRAPH_OFFERS:
            raise ServerError(404, f"{request.url.path} is not here; try /ontology.ttl")
    return await _answer(request, ONTOLOGY, fmt, _describe_ontology)


async def graph(request: Request) -> Response:
    name, fmt = _split_extension(request.path_params["name"])
    return await _answer(request, GRAPH + name, fmt, _describe_graph)


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        Route("/id/{path:path}", entity, methods=["GET"]),
        Route("/ontology", ontology, methods=["GET"]),
        Route("/ontology.{ext}", ontology, methods=["GET"]),
        Route("/graph/{name}", graph, methods=["GET"]),
    ]
