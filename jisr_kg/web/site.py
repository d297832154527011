"""`jisr-kg site -o DIR`: the pages of the server as static files, for any static host.

Every page is rendered with relative links to `.html` files (so the site works from any folder, on
any host, and from the file system), every IRI of the data under https://w3id.org/jisr-kg/id/ gets its
page and its description in each RDF graph format (the same bounded description the server gives,
decision 0012), and search runs in the browser over `search-index.json`. The folder is written beside
the target and swapped in, and only over a folder that `jisr-kg site` wrote before (jisr_kg.fsutil).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jisr_kg.rdf.namespaces import ID, ONTOLOGY
from jisr_kg.web import pages
from jisr_kg.web import readmodel as rm

Progress = Callable[[str], None]

_IRIS = f"""
SELECT DISTINCT ?s WHERE {{
  {{ GRAPH <https://w3id.org/jisr-kg/graph/asserted> {{ ?s ?p ?o }} }}
  UNION {{ GRAPH <https://w3id.org/jisr-kg/graph/asserted> {{ ?x ?p ?s }} }}
  FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{ID}"))
}} ORDER BY ?s
"""


@dataclass
class SiteSummary:
    out_dir: Path
    pages: int = 0
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    entities: list[str] = field(default_factory=list)


def data_iris(reader: rm.Reader) -> list[str]:
    """Every IRI under id/ that the asserted data names (as subject or object)."""
    return [r["s"].value for r in reader.rows(_IRIS)]


def render_site(reader: rm.Reader, store: object | None = None, progress: Progress | None = None,
                ) -> tuple[dict[str, bytes], list[str]]:
    """Every file of the site, by relative path, and the IRIs that got a page. `store` (a pyoxigraph
    Store) gives each entity's RDF; without it, no RDF files are written."""
    from jisr_kg.search import SearchIndex

    r = pages.Renderer(static=True)
    files: dict[str, bytes] = {}

    def put(path: str, html: str | None) -> None:
        if html is not None:
            files[pages.page_file(path)] = html.encode("utf-8")

    put("/", pages.index_html(r, reader))
    put("/disputes", pages.disputes_html(r, reader))
    for p in rm.disputed_points(reader):
        put(f"/disputes/{p['slug']}", pages.dispute_html(r, reader, p["slug"]))
    put("/source", pages.source_html(r, reader))
    put("/timeline", pages.timeline_html(r, reader))
    put("/map", pages.map_html(r, reader))
    put("/ontology", pages.entity_html(r, reader, ONTOLOGY))
    put("/search", pages.search_html(r, reader, ""))
    files["404.html"] = pages.not_found_html(r, "There is no such page.").encode("utf-8")

    index = SearchIndex.from_select(reader.select)
    entries = sorted(index.entries, key=lambda e: (e.label.casefold(), e.iri))
    listed = [{"label": e.label, "kind": e.kind, "path": rm.path_of(e.iri)} for e in entries if rm.path_of(e.iri)]
    files["search-all.html"] = r.render("search-all.html", "/search-all", title="Everything by name",
                                        results=listed).encode("utf-8")
    files["search-index.json"] = json.dumps(
        [{"h": pages.page_file(rm.path_of(e.iri) or "/"), "l": e.label, "k": e.kind, "n": [n for n, _ in e.names]}
         for e in entries if rm.path_of(e.iri)], ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    iris = data_iris(reader)
    if progress:
        progress(f"rendering {len(iris)} entity pages")
    for n, iri in enumerate(iris, 1):
        path = rm.path_of(iri)
        if path is None:
            continue
        put(path, pages.entity_html(r, reader, iri))
        if store is not None:
            files.update(_rdf_files(store, iri, path))
        if progress and n % 1000 == 0:
            progress(f"{n} of {len(iris)} entity pages")

    for f in sorted(pages.HERE.joinpath("static").rglob("*")):
        if f.is_file():
            files["static/" + f.relative_to(pages.HERE / "static").as_posix()] = f.read_bytes()
    return files, iris


def _rdf_files(store: object, iri: str, path: str) -> dict[str, bytes]:
    """The IRI's description in each graph format, as the server's /id/...{.ttl,.nt,...} gives it."""
    from jisr_kg.sparql.query import from_oxigraph, with_prefixes
    from jisr_kg.sparql.results import GraphResult, write_graph
    from jisr_kg.web.resolve import description_query

    result = from_oxigraph(store.query(with_prefixes(description_query(iri)),  # type: ignore[attr-defined]
                                       use_default_graph_as_union=True))
    assert isinstance(result, GraphResult)
    name = path.lstrip("/")
    return {name + f.extension: write_graph(result, f.name) for f in pages.DOWNLOADS}


def write_site(out_dir: Path, data: Path | list[Path] | None = None, *, progress: Progress | None = None,
               ) -> SiteSummary:
    """Render the site and swap it in at `out_dir` (checked first: never over a folder this command did
    not write, the data, or the current folder)."""
    import pyoxigraph as ox

    from jisr_kg.fsutil import check_output_dir, publish_dir
    from jisr_kg.pipeline.build import ensure_store, input_paths

    t = time.perf_counter()
    target = check_output_dir(out_dir, "site", protected=input_paths(data))
    store_path = ensure_store(data, progress=progress)
    units = data / "source" / "units.tsv" if isinstance(data, Path) else None
    store = ox.Store.read_only(str(store_path))
    reader = rm.Reader.over(store, units_path=units if units and units.is_file() else None)
    files, iris = render_site(reader, store, progress=progress)
    if progress:
        progress(f"writing {len(files)} files")
    publish_dir(target, files, "site")
    return SiteSummary(target, pages=sum(1 for n in files if n.endswith(".html")), files=len(files),
                       bytes=sum(len(b) for b in files.values()), seconds=time.perf_counter() - t, entities=iris)
