"""`jisr-kg site -o DIR`: the static site. Every link of every page leads to a file that is there (and
to an anchor that is there), and every IRI of the data under https://w3id.org/jisr-kg/id/ has its page
and its RDF."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

from conftest import ROOT, jisr

# The site is written once per module (a module fixture): one xdist worker runs the module (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("site")

pytest.importorskip("jinja2")

ID = "https://w3id.org/jisr-kg/id/"


class Links(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src", "action"):
            if a.get(key) and not (tag == "a" and a.get("rel") == "external"):
                self.links.append(a[key])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    r = jisr("site", "-o", str(out))
    assert r.returncode == 0, r.stderr.decode()
    assert "wrote" in r.stdout.decode()
    return out


@pytest.mark.slow  # the whole site: about a minute
def test_every_link_of_the_site_leads_somewhere(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 1000
    parsed = {p: Links(p.read_text(encoding="utf-8")) for p in pages}
    broken = []
    checked = 0
    for page, links in parsed.items():
        for href in links.links:
            target, frag = urldefrag(href)
            parts = urlsplit(target)
            if parts.scheme or parts.netloc:
                broken.append((page.relative_to(site), href, "leaves the site"))
                continue
            dest = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            checked += 1
            if not dest.is_file():
                broken.append((page.relative_to(site), href, "no such file"))
            elif frag and dest.suffix == ".html":
                ids = parsed[dest].ids if dest in parsed else Links(dest.read_text(encoding="utf-8")).ids
                if unquote(frag) not in ids:
                    broken.append((page.relative_to(site), href, "no such anchor"))
    assert checked > 10000
    assert broken[:20] == []


@pytest.mark.slow
def test_every_iri_of_the_data_has_its_page_and_rdf(site: Path) -> None:
    query = f"""SELECT DISTINCT ?s WHERE {{ {{ ?s ?p ?o }} UNION {{ ?x ?p ?s }}
                FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{ID}")) }}"""
    r = jisr("query", "-", "--no-infer", "--format", "json", stdin=query)
    assert r.returncode == 0, r.stderr.decode()
    iris = [b["s"]["value"] for b in json.loads(r.stdout)["results"]["bindings"]]
    assert len(iris) > 1000
    missing = [i for i in iris if not (site / "id" / (i[len(ID):] + ".html")).is_file()]
    assert missing == []
    no_rdf = [i for i in iris for ext in (".ttl", ".nt", ".jsonld", ".rdf")
              if not (site / "id" / (i[len(ID):] + ext)).is_file()]
    assert no_rdf == []
    ttl = (site / "id" / "actor" / "joshua-landis.ttl").read_text(encoding="utf-8")
    assert "Joshua Landis" in ttl


@pytest.mark.slow
def test_the_site_is_complete_and_self_contained(site: Path) -> None:
    for name in ("index.html", "disputes.html", "source.html", "timeline.html", "map.html", "ontology.html",
                 "search.html", "search-all.html", "search-index.json", "static/style.css", "static/search.js"):
        assert (site / name).is_file(), name
    index = json.loads((site / "search-index.json").read_text(encoding="utf-8"))
    daraa = next(e for e in index if e["h"] == "id/place/daraa.html")
    assert "Darā" in daraa["n"]
    assert (site / ".jisr-kg-output").is_file()


def test_site_rewrites_its_own_folder(tmp_path: Path) -> None:
    # (on the small dataset of tests/pages: a second run replaces the folder it wrote, as it carries the
    # marker, and touches nothing beside it)
    out = tmp_path / "site"
    beside = tmp_path / "notes.txt"
    beside.write_text("keep me\n", encoding="utf-8")
    for _ in range(2):
        r = jisr("--data", str(ROOT / "tests" / "pages"), "site", "-o", str(out))
        assert r.returncode == 0, r.stderr.decode()
    assert beside.read_text(encoding="utf-8") == "keep me\n"
    bob = (out / "id" / "actor" / "bob.html").read_text(encoding="utf-8")
    assert "<script>alert" not in bob and "&lt;script&gt;" in bob
