"""The SPARQL 1.1 Protocol on /sparql, the stored queries as a web API (/api/queries, grlc's
convention) and their OpenAPI 3 description (/openapi.json).

Read-only and safe: before any engine runs, the query text is read by a small lexer (below) that finds
its bare keywords outside strings, IRIs, comments, variables and prefixed names, after undoing
SPARQL's \\uXXXX escapes (which the grammar allows anywhere, so `\\u0053ERVICE` is SERVICE); any
update keyword, LOAD or SERVICE is refused with 400. The store is opened read-only as well, but the
refusal is what guarantees that the server never sends a request to another host.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jisr_kg.errors import QueryError
from jisr_kg.rdf import formats
from jisr_kg.rdf.formats import Format
from jisr_kg.rdf.namespaces import ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH, PREFIXES
from jisr_kg.sparql.query import PARAM_TYPES, StoredQuery
from jisr_kg.web.context import Context, Dataset, ServerError, pages_module

#: What /sparql offers, in the server's order of preference (the first is the default).
RESULT_OFFERS: tuple[Format, ...] = tuple(formats.results(n) for n in ("json", "xml", "csv", "tsv"))
GRAPH_OFFERS: tuple[Format, ...] = tuple(formats.rdf(n) for n in ("turtle", "ntriples", "jsonld", "xml"))
#: The W3C IRIs of those formats (https://www.w3.org/ns/formats/), for the Service Description only.
_W3C_FORMAT = {"json": "SPARQL_Results_JSON", "csv": "SPARQL_Results_CSV", "tsv": "SPARQL_Results_TSV",
               "turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD"}

_UPDATE_WORDS = {"INSERT", "DELETE", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


# ---------------------------------------------------------------- the guard


def unescape_codepoints(text: str) -> str:
    """SPARQL's \\uXXXX and \\UXXXXXXXX escapes, undone as the grammar says: before parsing."""
    def one(m: re.Match[str]) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return m.group(0)
    return re.sub(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})", one, text)


_LEX = re.compile(
    r"""(?P<ws>\s+)
    |(?P<comment>\#[^\n]*)
    |(?P<string>\"\"\"(?:[^\\]|\\.)*?\"\"\"|'''(?:[^\\]|\\.)*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
    |(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    |(?P<pname>(?:[A-Za-z_][\w.-]*)?:(?:[\w:%.\\-]|\\.)*)
    |(?P<word>[A-Za-z_]\w*)
    |(?P<other>.)""",
    re.X | re.S,
)


def keywords(text: str) -> list[str]:
    """The bare words of a query (keywords and function names), upper-cased, in order."""
    return _lex(text)[0]


def _lex(text: str) -> tuple[list[str], set[str], set[str]]:
    """(bare words, prefixes declared, prefixes used) of a query."""
    words: list[str] = []
    declared: set[str] = set()
    used: set[str] = set()
    for m in _LEX.finditer(unescape_codepoints(text)):
        kind = m.lastgroup
        if kind == "word":
            words.append(m.group("word").upper())
        elif kind == "pname":
            prefix = m.group("pname").split(":", 1)[0]
            if words and words[-1] == "PREFIX" and m.group("pname").endswith(":"):
                declared.add(prefix)
                words.append("")  # the declaration is done
            elif prefix != "_":  # `_:b` is a blank node
                used.add(prefix)
    return words, declared, used


def guard(text: str) -> tuple[str | None, bool]:
    """Refuse what a read-only endpoint must not run, and a prefix nobody declared; return the query
    form (SELECT, ASK, CONSTRUCT, DESCRIBE, or None if the lexer cannot tell: the parser will then say
    why) and whether the query names its own dataset (FROM)."""
    words, declared, used = _lex(text)
    for w in words:
        if w == "SERVICE":
            raise ServerError(400, "SERVICE is refused: this endpoint never sends requests to other hosts")
        if w == "LOAD":
            raise ServerError(400, "LOAD is refused: this endpoint is read-only and never fetches documents")
        if w in _UPDATE_WORDS:
            raise ServerError(400, f"SPARQL Update ({w}) is refused: this endpoint is read-only")
    unknown = sorted(used - declared - set(PREFIXES))
    if unknown:
        raise ServerError(400, f"unknown prefix {unknown[0]!r}: declare it (PREFIX {unknown[0]}: <...>); "
                          "the project's prefixes (jkg:, actor:, claim:, rdfs:, ...) need no declaration")
    form = next((w for w in words if w in _FORMS), None)
    return form, "FROM" in words


# ---------------------------------------------------------------- content negotiation


def _ranges(accept: str) -> list[tuple[str, float]]:
    out = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        out.append((media, q))
    return out


def negotiate(accept: str | None, offers: list[str]) -> str | None:
    """The offered media type the Accept header prefers (ties go to the earlier offer), or None when it
    accepts none of them. No Accept header accepts everything."""
    if not accept or not accept.strip():
        return offers[0] if offers else None
    ranges = _ranges(accept)
    best, best_q = None, 0.0
    for offer in offers:
        kind = offer.split("/")[0] + "/*"
        q = next((q for m, q in ranges if m == offer), None)
        if q is None:
            q = next((q for m, q in ranges if m == kind), None)
        if q is None:
            q = next((q for m, q in ranges if m == "*/*"), 0.0)
        if q > best_q:
            best, best_q = offer, q
    return best


def choose(accept: str | None, offers: tuple[Format, ...]) -> Format | None:
    by_media = {m: f for f in offers for m in f.media_types}
    chosen = negotiate(accept, list(by_media))
    return by_media[chosen] if chosen else None


def _not_acceptable(accept: str | None, offers: tuple[Format, ...], what: str) -> ServerError:
    listed = ", ".join(f.media_type for f in offers)
    return ServerError(406, f"cannot give a {what} result as {accept!r}; this endpoint gives {listed}")


# ---------------------------------------------------------------- running


async def run_protocol(ctx: Context, text: str, accept: str | None, dataset: Dataset) -> Response:
    """Guard, negotiate, run in a worker, answer: the one path of /sparql and /api/queries/{name}."""
    from jisr_kg.web.context import check_length

    check_length(text, ctx.settings.max_query_length)
    form, has_from = guard(text)
    wanted: dict[str, str] = {}
    chosen: dict[str, Format] = {}
    # A form we could not tell (None) may answer either way: offer both and let the answer decide.
    for kind, offers, forms in (("results", RESULT_OFFERS, ("SELECT", "ASK")),
                                ("graph", GRAPH_OFFERS, ("CONSTRUCT", "DESCRIBE"))):
        if form is not None and form not in forms:
            continue
        f = choose(accept, offers)
        if f is None and form is not None:
            raise _not_acceptable(accept, offers, form)
        if f is not None:
            wanted[kind], chosen[kind] = f.name, f
    if has_from and not (dataset.default_graph or dataset.named_graphs):
        dataset = Dataset(union=False)  # the query's own FROM / FROM NAMED decide
    answer = await ctx.run(text, dataset, wanted)
    kind, payload = answer.kind, answer.payload
    if kind not in chosen:
        # The form could not be told beforehand and the client accepts no format of this kind.
        offers = GRAPH_OFFERS if kind == "graph" else RESULT_OFFERS
        raise _not_acceptable(accept, offers, "CONSTRUCT/DESCRIBE" if kind == "graph" else "SELECT/ASK")
    assert isinstance(payload, bytes)
    return Response(payload, media_type=_with_charset(chosen[kind].media_type), headers={"Vary": "Accept"})


def _with_charset(media: str) -> str:
    return media if media.startswith("application/") and "json" not in media else media + "; charset=utf-8"


def _graph_iris(values: list[str], name: str) -> tuple[str, ...]:
    for v in values:
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*$", v):
            raise ServerError(400, f"{name} takes an absolute IRI, not {v!r}")
    return tuple(values)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused past `limit` bytes without reading it all."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise ServerError(413, f"the request body is {length} bytes, more than the server's limit of {limit}")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ServerError(413, f"the request body is more than the server's limit of {limit} bytes")
    return body


def _one(params: Any, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise ServerError(400, f"give {name!r} once, not {len(values)} times")
    return values[0] if values else None


async def sparql_endpoint(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    url_params = request.query_params
    if "update" in url_params:
        raise ServerError(400, "SPARQL Update is refused: this endpoint is read-only")
    default_graphs = url_params.getlist("default-graph-uri")
    named_graphs = url_params.getlist("named-graph-uri")
    if request.method == "GET":
        text = _one(url_params, "query")
        if text is None:
            return await _service_description_or_page(request, ctx)
    else:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        # A form body is at most the query plus its graphs; 4 bytes a character covers any encoding.
        body = await _read_body(request, 4 * ctx.settings.max_query_length + 65536)
        if media == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qs

            form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            if "update" in form:
                raise ServerError(400, "SPARQL Update is refused: this endpoint is read-only")
            queries = form.get("query", [])
            if len(queries) != 1:
                raise ServerError(400, "a form POST takes exactly one 'query' field" if queries else
                                  "the form has no 'query' field")
            text = queries[0]
            default_graphs += form.get("default-graph-uri", [])
            named_graphs += form.get("named-graph-uri", [])
        elif media == "application/sparql-query":
            text = body.decode("utf-8", "replace")
        elif media == "application/sparql-update":
            raise ServerError(400, "SPARQL Update is refused: this endpoint is read-only")
        else:
            raise ServerError(415, f"a POST to /sparql takes application/sparql-query or "
                              f"application/x-www-form-urlencoded, not {media or 'no content type'!r}")
    dataset = Dataset(_graph_iris(default_graphs, "default-graph-uri"),
                      _graph_iris(named_graphs, "named-graph-uri"))
    return await run_protocol(ctx, text, request.headers.get("accept"), dataset)


# ---------------------------------------------------------------- the Service Description


async def _service_description_or_page(request: Request, ctx: Context) -> Response:
    accept = request.headers.get("accept")
    offers = [m for f in GRAPH_OFFERS for m in f.media_types]
    if negotiate(accept, ["text/html", *offers]) == "text/html":
        pages = pages_module()
        if pages is not None and hasattr(pages, "sparql_page"):
            return await pages.sparql_page(request, ctx)
    fmt = choose(accept, GRAPH_OFFERS) or formats.rdf("turtle")
    endpoint = str(request.url.replace(query="", fragment=""))
    return Response(service_description(endpoint, fmt.name), media_type=_with_charset(fmt.media_type),
                    headers={"Vary": "Accept"})


def service_description(endpoint: str, fmt: str = "turtle") -> bytes:
    """The SPARQL 1.1 Service Description of this endpoint, in an RDF format."""
    import pyoxigraph as ox

    sd = "http://www.w3.org/ns/sparql-service-description#"
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service, dataset, default = ox.BlankNode("service"), ox.BlankNode("dataset"), ox.BlankNode("default")

    def n(local: str) -> ox.NamedNode:
        return ox.NamedNode(sd + local)

    triples = [
        ox.Triple(service, rdf_type, n("Service")),
        ox.Triple(service, n("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, n("supportedLanguage"), n("SPARQL11Query")),
        ox.Triple(service, n("feature"), n("UnionDefaultGraph")),
        ox.Triple(service, n("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, n("Dataset")),
        ox.Triple(dataset, n("defaultGraph"), default),
        ox.Triple(default, rdf_type, n("Graph")),
    ]
    for f in (*RESULT_OFFERS, *GRAPH_OFFERS):
        local = _W3C_FORMAT.get(f.name) or ("SPARQL_Results_XML" if f.kind == "results" else "RDF_XML")
        triples.append(ox.Triple(service, n("resultFormat"), ox.NamedNode("http://www.w3.org/ns/formats/" + local)))
    for i, g in enumerate((ASSERTED_GRAPH, CONSENSUS_GRAPH, INFERRED_GRAPH)):
        node = ox.BlankNode(f"graph{i}")
        triples += [ox.Triple(dataset, n("namedGraph"), node), ox.Triple(node, rdf_type, n("NamedGraph")),
                    ox.Triple(node, n("name"), ox.NamedNode(g))]
    rdf_format = getattr(ox.RdfFormat, formats.rdf(fmt).oxigraph)
    kwargs = {"prefixes": {"sd": sd}} if fmt in ("turtle", "xml") else {}
    return ox.serialize(triples, format=rdf_format, **kwargs)


# ---------------------------------------------------------------- stored queries


def _param_doc(q: StoredQuery) -> list[dict[str, Any]]:
    defaults = q.defaults
    return [{"name": p.name, "type": p.kind, "default": defaults.get(p.name)} for p in q.parameters]


def describe_query(q: StoredQuery, base: str = "") -> dict[str, Any]:
    return {
        "name": q.name,
        "summary": q.summary,
        "description": str(q.header.get("description", "") or "").strip(),
        "tags": q.tags,
        "parameters": _param_doc(q),
        "questions": [{"id": c, "text": str((q.header.get("questions") or {}).get(c, ""))} for c in q.cqs],
        "url": f"{base}/api/queries/{q.name}",
    }


async def list_queries(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    base = str(request.base_url).rstrip("/")
    return JSONResponse([describe_query(q, base) for q in ctx.queries.values()])


async def run_stored(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    name = request.path_params["name"]
    # By name in the catalogue only: a name is never read as a path.
    q = ctx.queries.get(name)
    if q is None:
        close = difflib.get_close_matches(name, list(ctx.queries), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; GET /api/queries lists them"
        raise ServerError(404, f"no stored query named {name!r}{hint}")
    params: dict[str, str] = {}
    for key in request.query_params:
        value = _one(request.query_params, key)
        assert value is not None
        params[key] = value
    try:
        text = q.bind(params)
    except QueryError as e:
        raise ServerError(400, e.message) from None
    return await run_protocol(ctx, text, request.headers.get("accept"), Dataset())


# ---------------------------------------------------------------- OpenAPI


_SCHEMA = {"iri": {"type": "string", "format": "iri"}, "integer": {"type": "integer"},
           "decimal": {"type": "number"}, "date": {"type": "string", "format": "date"},
           "boolean": {"type": "boolean"}, "string": {"type": "string"}}
assert set(_SCHEMA) == set(PARAM_TYPES)


def openapi(ctx: Context, server: str) -> dict[str, Any]:
    """An OpenAPI 3 document: one GET operation per stored query, from its `#+` header."""
    results = {f.media_type: {} for f in RESULT_OFFERS} | {f.media_type: {} for f in GRAPH_OFFERS}
    errors = {
        "400": {"description": "a bad parameter (an unknown one, an invalid IRI, a value of the wrong type)",
                "content": {"text/plain": {}}},
        "406": {"description": "none of the accepted media types can be given", "content": {"text/plain": {}}},
        "503": {"description": "the query ran past the time limit", "content": {"text/plain": {}}},
    }
    paths: dict[str, Any] = {}
    for q in ctx.queries.values():
        doc = describe_query(q)
        parameters = []
        for p in doc["parameters"]:
            schema = dict(_SCHEMA[p["type"]])
            if p["default"] is not None:
                schema["default"] = p["default"]
            what = {"iri": "an IRI or a prefixed name such as actor:joshua-landis"}.get(p["type"], p["type"])
            parameters.append({"name": p["name"], "in": "query", "required": False, "schema": schema,
                               "description": f"{what}; empty leaves it unbound"})
        description = doc["description"]
        if doc["questions"]:
            description += "\n\nAnswers: " + "; ".join(f"{c['id']}: {c['text']}".rstrip(": ")
                                                     for c in doc["questions"])
        paths[f"/api/queries/{q.name}"] = {"get": {
            "operationId": q.name, "summary": q.summary, "description": description.strip(),
            "tags": q.tags, "parameters": parameters,
            "responses": {"200": {"description": "the query's results, by the Accept header", "content": results},
                          **errors},
        }}
    paths["/api/queries"] = {"get": {
        "operationId": "listQueries", "summary": "The stored queries, with their parameters",
        "responses": {"200": {"description": "a JSON list", "content": {"application/json": {}}}}}}
    paths["/sparql"] = {"get": {
        "operationId": "sparql", "summary": "The SPARQL 1.1 Protocol (read-only)",
        "parameters": [{"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "a SPARQL query; without it, the SPARQL Service Description"}],
        "responses": {"200": {"description": "results by the Accept header", "content": results}, **errors}}}
    from jisr_kg import __version__

    return {
        "openapi": "3.0.3",
        "info": {"title": "jisr-kg", "version": __version__,
                 "description": "The stored queries of the Jisr ash-Shughur knowledge graph, as a web API."},
        "servers": [{"url": server}],
        "paths": paths,
    }


async def openapi_json(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    doc = openapi(ctx, str(request.base_url).rstrip("/"))
    return Response(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", media_type="application/json")


def routes(ctx: Context) -> list[BaseRoute]:
    return [
        Route("/sparql", sparql_endpoint, methods=["GET", "POST"]),
        Route("/api/queries", list_queries, methods=["GET"]),
        Route("/api/queries/{name}", run_stored, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
    ]
