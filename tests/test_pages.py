"""The pages for readers, in process: the server's app (create_app) answered through Starlette's test
client. What a reader sees: each page, its search form, the claims with their words, the links both
ways, the disputes side by side, the source's marks, and data shown as text, never as markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from conftest import ROOT

pytest.importorskip("starlette")
pytest.importorskip("jinja2")

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

HTML = {"accept": "text/html"}
MAIN_PAGES = ["/", "/disputes", "/source", "/timeline", "/map", "/search?q=landis", "/ontology",
              "/id/actor/joshua-landis", "/id/event/mutiny", "/id/claim/uprising-opposition-mutiny",
              "/id/place/jisr-ash-shughur", "/id/span/4010-4069"]


class Page(HTMLParser):
    """The links, ids, marks and forms of a page, and its text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.forms: list[dict] = []
        self.inputs: list[dict] = []
        self.scripts: list[dict] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append(a)
        elif tag == "input":
            self.inputs.append(a)
        elif tag == "script":
            self.scripts.append(a)
        elif tag == "link" and a.get("href"):
            self.links.append(a["href"])

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _client(data: Path | None):
    from starlette.testclient import TestClient

    from jisr_kg.web.app import create_app
    from jisr_kg.web.context import Context, Settings

    ctx = Context(Settings(data=data, workers=1))
    return TestClient(create_app(ctx)), ctx


@pytest.fixture(scope="module")
def client():
    c, ctx = _client(None)
    with c:
        yield c
    ctx.close()


@pytest.fixture(scope="module")
def hostile():
    c, ctx = _client(ROOT / "tests" / "pages")
    with c:
        yield c
    ctx.close()


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_every_page_has_csp_search_form_and_local_scripts_only(client, path: str) -> None:
    r = client.get(path, headers=HTML)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    page = Page(r.text)
    search = [f for f in page.forms if f.get("role") == "search"]
    assert search and search[0]["action"] == "/search"
    assert {"type": "search", "name": "q"}.items() <= next(i for i in page.inputs if i.get("name") == "q").items()
    # every script and stylesheet is served from this server
    assert all(s["src"].startswith("/static/") for s in page.scripts)
    assert not re.search(r'(src|href)="(https?:)?//(?!w3id\.org)', r.text.split("<main", 1)[0])


def test_links_of_the_main_pages_resolve(client) -> None:
    seen: set[str] = set()
    for path in MAIN_PAGES:
        for href in Page(client.get(path, headers=HTML).text).links:
            target, frag = urldefrag(href)
            if urlsplit(target).scheme or not target or target in seen:
                continue
            seen.add(target)
    assert len(seen) > 100
    broken = [t for t in sorted(seen) if client.get(t, headers=HTML).status_code != 200]
    assert broken == []


def test_entity_page_groups_claims_and_offers_each_rdf_format(client) -> None:
    r = client.get("/id/event/mutiny", headers=HTML)
    page = Page(r.text)
    text = " ".join(page.text)
    assert "alleged mutiny of a local Syrian Army battalion" in text
    assert "By claimant" in text and "By standing" in text
    assert "refuted" in text
    # the words of a claim inside their sentence, marked, with a link into the source
    assert "<mark>the Syrian opposition described the Jisr ash-Shughur clashes as crackdown against " \
           "pro-democracy protesters</mark>" in r.text
    assert "/source#span-1501-1607" in page.links
    for ext, media in ((".ttl", "text/turtle"), (".nt", "application/n-triples"), (".jsonld", "application/ld+json"),
                       (".rdf", "application/rdf+xml")):
        assert "/id/event/mutiny" + ext in page.links
        got = client.get("/id/event/mutiny" + ext)
        assert got.status_code == 200 and got.headers["content-type"].startswith(media)


def test_links_between_claims_show_both_ways(client) -> None:
    refuted = Page(client.get("/id/claim/uprising-opposition-mutiny", headers=HTML).text)
    text = " ".join(refuted.text)
    assert "refuted by" in text
    # the claim that refutes it says so on its own page
    refuting = [h for h in refuted.links if h.startswith("/id/claim/") and h != "/id/claim/uprising-opposition-mutiny"]
    assert any("refutes" in " ".join(Page(client.get(h, headers=HTML).text).text) for h in refuting)


def test_entity_page_lists_its_triples_by_graph_and_what_points_at_it(client) -> None:
    html = client.get("/id/span/4010-4069", headers=HTML).text
    table = html[html.index('<table class="triples">'):html.index("</table>", html.index('<table class="triples">'))]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(\w+)</td></tr>", table)
    shown = {(re.sub("<[^>]+>", "", p), re.sub("<[^>]+>", "", o), g) for p, o, g in rows}
    assert ("oa:hasSelector", "sel:4010-4069", "asserted") in shown  # its own triples, with their graph
    assert any(p == "dcterms:isPartOf" and g == "inferred" for p, _, g in shown)  # inferred ones too
    assert len(rows) == len({(p, o) for p, o, _ in rows})  # a triple in two graphs is one row
    incoming = html[html.index('<ul class="incoming">'):]
    assert '<a href="/id/claim/uprising-funeral-date">' in incoming and "jkg:evidence" in incoming


def test_each_link_between_claims_is_listed_once(client) -> None:
    # the event's page and its dispute show claims at both ends of the same links; a link is one line
    # on each claim, and a symmetric link asserted both ways (contradicts) one row of the dispute's table
    for path in ("/id/event/mutiny", "/disputes/event-mutiny", "/disputes/event-counter-insurgency-operation"):
        html = client.get(path, headers=HTML).text
        for ul in re.findall(r'<ul class="links">(.*?)</ul>', html, re.S):
            items = re.findall(r"<li>.*?</li>", ul)
            assert len(items) == len(set(items)), (path, items)
        rows = re.findall(r'<tr><td>[^\n]*?<a href="(/id/claim/[^"]+)">[^\n]*</td>\n<td><span class="rel rel-(\w+)">'
                          r'[^\n]*</td>\n<td>[^\n]*?<a href="(/id/claim/[^"]+)">', html)
        pairs = [(rel, *sorted((a, b))) if rel == "contradicts" else (rel, a, b) for a, rel, b in rows]
        assert len(pairs) == len(set(pairs)), (path, pairs)
    assert rows, "the dispute has a table of links"


def test_actor_page_lists_the_claims_it_makes(client) -> None:
    text = " ".join(Page(client.get("/id/actor/joshua-landis", headers=HTML).text).text)
    assert "claims made by Joshua Landis" in text
    assert "the mutiny story was mostly hearsay from pro-opposition refugees" in text


def test_search_ignores_accents_and_puts_exact_matches_first(client) -> None:
    r = client.get("/search", params={"q": "dara"}, headers=HTML)
    page = Page(r.text)
    results = [h for h in page.links if h.startswith("/id/")]
    assert results[0] == "/id/place/daraa"
    assert "Darā" in r.text
    suggest = client.get("/search.json", params={"q": "DARA"}).json()
    assert suggest[0]["href"] == "/id/place/daraa" and suggest[0]["kind"] == "Settlement"
    assert client.get("/search", params={"q": ""}, headers=HTML).status_code == 200


def test_dispute_page_shows_both_sides_and_who_refutes_whom(client) -> None:
    index = Page(client.get("/disputes", headers=HTML).text)
    disputes = [h for h in index.links if h.startswith("/disputes/")]
    assert len(disputes) >= 10
    r = client.get("/disputes/claim-uprising-opposition-mutiny", headers=HTML)
    assert r.status_code == 200
    columns = re.findall(r'<section class="column side-(\w+)"', r.text)
    assert "opposition" in columns and len(columns) >= 2
    text = " ".join(Page(r.text).text)
    assert "Who refutes, doubts or contradicts whom" in text and "refutes" in text
    assert "<svg" in r.text and 'class="edge rel-refutes"' in r.text
    # a claimant's name links to its page
    assert "/id/actor/syrian-opposition" in Page(r.text).links


def test_source_marks_every_span_and_each_leads_to_its_claims(client) -> None:
    r = client.get("/source", headers=HTML)
    page = Page(r.text)
    targets = {h[1:] for h in page.links if h.startswith("#span-")}
    assert len(targets) > 300
    assert targets <= page.ids  # every mark leads to the list of its claims
    section = r.text.split('id="span-4010-4069"', 1)[1].split("</section>", 1)[0]
    assert "/id/claim/uprising-funeral-date" in section
    assert 'class="unit covered' in r.text and "100.0%" in r.text


def test_timeline_and_map_draw_svg_and_list_the_rest(client) -> None:
    t = client.get("/timeline", headers=HTML).text
    assert t.count('class="dot"') > 30 and "before 2011" in t and "not dated" in t
    m = client.get("/map", headers=HTML).text
    assert m.count('class="pin"') >= 5
    unlocated = m.split("<h2>Not located</h2>", 1)[1]
    assert "railway station" in unlocated and "/id/place/jisr-ash-shughur" in unlocated


def test_unknown_pages_answer_404_as_html(client) -> None:
    for path in ("/id/actor/no-such-actor", "/disputes/no-such-point"):
        r = client.get(path, headers=HTML)
        assert r.status_code == 404 and "Not found" in r.text
        assert "content-security-policy" in r.headers


def test_data_is_shown_as_text_never_as_markup(hostile) -> None:
    paths = ["/", "/disputes", "/source", "/timeline", "/map", "/search?q=bob", "/id/actor/bob",
             "/id/actor/alice", "/id/claim/bob-left", "/id/place/house", "/disputes/event-leaving"]
    for path in paths:
        r = hostile.get(path, headers=HTML)
        assert r.status_code == 200, path
        body = r.text
        for bad in ("<script>alert", "<img src=x", "<svg onload", "<b>bold", "<i>&amp;", "<u>yard"):
            assert bad not in body, (path, bad)
    bob = hostile.get("/id/actor/bob", headers=HTML).text
    assert "&lt;script&gt;alert(&#34;bob&#34;)&lt;/script&gt; Bob &amp; &#34;Sons&#34;" in bob
    source = hostile.get("/source", headers=HTML).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in source
    # the only scripts of a page are the server's own
    assert re.findall(r"<script[^>]*>", bob) == ['<script src="/static/search.js" defer>']


def test_named_graphs_have_a_page(client) -> None:
    r = client.get("/graph/asserted", headers=HTML)
    assert r.status_code == 200 and "asserted graph" in r.text and "void:triples" in r.text
    assert client.get("/graph/no-such-graph", headers=HTML).status_code == 404


def test_ontology_terms_are_anchors_of_the_ontology_page(client) -> None:
    page = Page(client.get("/ontology", headers=HTML).text)
    assert {"Claim", "refutes", "Refuted", "GovernmentSide"} <= page.ids
    # a term named on an entity page links to its anchor
    assert any(h.startswith("/ontology#") for h in Page(client.get("/id/event/mutiny", headers=HTML).text).links)


def test_page_cache_tells_a_kept_404_from_a_page_never_rendered() -> None:
    from jisr_kg.web.pages import MISSING, PageCache

    cache = PageCache(size=2)
    assert cache.peek(("a",)) is MISSING
    assert cache.get(("a",), lambda: None) is None and cache.peek(("a",)) is None  # "no such page" is kept
    cache.get(("b",), lambda: "b")
    cache.get(("c",), lambda: "c")
    assert cache.peek(("a",)) is MISSING  # the least recently used went
    assert cache.get(("b",), lambda: "other") == "b"
