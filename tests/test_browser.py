"""The pages in a real browser: Debian's chromium driven by playwright, against the server on
127.0.0.1. Each page loads with no console error and no request to another host; search finds a
thing by part of its name and opens it (with and without JavaScript); a dispute page shows both
sides; a mark in the source leads to its claims; the timeline and the map render (screenshots kept
under the test's tmp folder); axe-core finds no serious or critical violation; data holding markup
runs no script.

Skipped only when chromium is not installed and CI is unset: under CI the browser must be there
(.ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (apt-get install chromium); CI is unset", allow_module_level=True)
if not os.environ.get("CI"):
    pytest.importorskip("playwright", reason="the Python package playwright is not installed")
    pytest.importorskip("uvicorn", reason="uvicorn is not installed")

from playwright.sync_api import Page, sync_playwright  # noqa: E402 - after the skip above

# A real browser: about a minute and a half (run by .ci/run). One xdist worker runs the whole module, so that
# the browser and the server start once (`--dist loadgroup`).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
PAGES = ["/", "/disputes", "/disputes/claim-uprising-opposition-mutiny", "/source", "/timeline", "/map",
         "/search?q=landis", "/ontology", "/id/actor/joshua-landis", "/id/event/mutiny",
         "/id/claim/uprising-opposition-mutiny", "/id/place/jisr-ash-shughur"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app under uvicorn in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, data: Path | None) -> None:
        import uvicorn

        from jisr_kg.web.app import create_app
        from jisr_kg.web.context import Context, Settings

        self.ctx = Context(Settings(data=data, workers=1))
        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.ctx), host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.ctx.close()


@pytest.fixture(scope="module")
def server():
    s = Server(None)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watch:
    """What went wrong on a page: console errors, script errors, failed requests, requests elsewhere."""

    def __init__(self, page: Page, host: str) -> None:
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))

        def request(r) -> None:  # a playwright Request
            parts = urlsplit(r.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != host:
                self.problems.append(f"request to another host: {r.url}")

        page.on("request", request)


def _page(browser, server: Server, **kwargs):
    context = browser.new_context(**kwargs)
    page = context.new_page()
    return context, page, Watch(page, urlsplit(server.url).netloc)


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors_or_foreign_requests(browser, server: Server, path: str) -> None:
    context, page, watch = _page(browser, server)
    try:
        response = page.goto(server.url + path, wait_until="load")
        assert response is not None and response.status == 200
        assert "default-src 'self'" in (response.headers.get("content-security-policy") or "")
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").first.is_visible()
        assert watch.problems == []
    finally:
        context.close()


def test_search_as_you_type_finds_and_opens(browser, server: Server) -> None:
    context, page, watch = _page(browser, server)
    try:
        page.goto(server.url + "/")
        page.get_by_role("searchbox").fill("landi")
        suggestion = page.locator(".suggestions a", has_text="Joshua Landis").first
        suggestion.wait_for(timeout=10_000)
        # keyboard: down into the list, open the first suggestion
        page.get_by_role("searchbox").press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_url("**/id/actor/joshua-landis", timeout=10_000)
        assert page.locator("h1").inner_text() == "Joshua Landis"
        assert watch.problems == []
    finally:
        context.close()


def test_plain_search_form_works_without_javascript(browser, server: Server) -> None:
    context, page, watch = _page(browser, server, java_script_enabled=False)
    try:
        page.goto(server.url + "/")
        page.get_by_role("searchbox").fill("DARA")
        page.get_by_role("searchbox").press("Enter")
        page.wait_for_url("**/search?q=DARA", timeout=10_000)
        first = page.locator("ol.results a").first
        assert first.inner_text() == "Daraa"
        first.click()
        page.wait_for_url("**/id/place/daraa", timeout=10_000)
        assert "Darā" in page.locator("main").inner_text()
    finally:
        context.close()


def test_dispute_page_shows_both_sides(browser, server: Server, tmp_path: Path) -> None:
    context, page, watch = _page(browser, server, viewport={"width": 1200, "height": 900})
    try:
        page.goto(server.url + "/disputes")
        links = [a.get_attribute("href") for a in page.locator("ol.points a").all()]
        assert len(links) >= 10
        # the first (most linked) point where both the government's and the opposition's side speak
        for href in links:
            page.goto(server.url + href)
            government = page.locator("section.column.side-government")
            opposition = page.locator("section.column.side-opposition")
            if government.count() and opposition.count():
                break
        else:
            pytest.fail("no dispute page has both the government side and the opposition side")
        assert government.is_visible() and opposition.is_visible()
        # side by side on a wide screen
        assert government.bounding_box()["y"] == pytest.approx(opposition.bounding_box()["y"], abs=2)
        assert government.locator("article.claim").count() > 0 and opposition.locator("article.claim").count() > 0
        assert page.locator("figure.network svg circle").count() >= 3
        page.screenshot(path=str(tmp_path / "dispute.png"))
        print(f"screenshot: {tmp_path / 'dispute.png'} ({page.url})")
        assert watch.problems == []
    finally:
        context.close()


def test_a_span_in_the_source_leads_to_its_claims(browser, server: Server) -> None:
    context, page, watch = _page(browser, server)
    try:
        page.goto(server.url + "/source")
        mark = page.locator('.article a.ev[href="#span-4010-4069"]').first
        mark.scroll_into_view_if_needed()
        mark.click()
        assert page.url.endswith("#span-4010-4069")
        section = page.locator("#span-4010-4069")
        assert section.is_visible()
        claim = section.locator("a", has_text="the funeral of Basil al-Masri took place on 4 June 2011")
        claim.click()
        page.wait_for_url("**/id/claim/uprising-funeral-date")
        assert "4 June 2011" in page.locator("h1").inner_text()
        assert watch.problems == []
    finally:
        context.close()


@pytest.mark.parametrize("path, name", [("/timeline", "timeline"), ("/map", "map")])
def test_timeline_and_map_render(browser, server: Server, tmp_path: Path, path: str, name: str) -> None:
    context, page, watch = _page(browser, server, viewport={"width": 1200, "height": 900})
    try:
        page.goto(server.url + path)
        svg = page.locator("main figure svg").first
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 300
        marks = svg.locator("circle")
        assert marks.count() >= 5
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
        assert watch.problems == []
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/", "/disputes/claim-uprising-opposition-mutiny", "/source", "/timeline", "/map",
                                  "/id/event/mutiny"])
def test_readable_at_phone_width(browser, server: Server, path: str) -> None:
    context, page, watch = _page(browser, server, viewport={"width": 375, "height": 740})
    try:
        page.goto(server.url + path)
        # nothing wider than the screen but the pictures, which scroll in their own box
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 376
        assert page.get_by_role("searchbox").is_visible()
    finally:
        context.close()


def test_keyboard_skip_link_and_focus(browser, server: Server) -> None:
    context, page, watch = _page(browser, server)
    try:
        page.goto(server.url + "/id/event/mutiny")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "A"
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_serious_violation(browser, server: Server, path: str) -> None:
    # axe is injected by the test (the page's own CSP would refuse it, rightly)
    context, page, watch = _page(browser, server, bypass_csp=True)
    try:
        page.goto(server.url + path)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""")
        serious = [v for v in result if v["impact"] in ("serious", "critical")]
        assert serious == []
    finally:
        context.close()


def test_data_holding_markup_runs_no_script(browser) -> None:
    s = Server(ROOT / "tests" / "pages")
    try:
        context, page, watch = _page(browser, s)
        try:
            for path in ("/", "/source", "/timeline", "/map", "/id/actor/bob", "/id/claim/bob-left",
                         "/disputes/event-leaving", "/search?q=bob"):
                page.goto(s.url + path)
                page.wait_for_load_state("networkidle")
            assert "<script>" in page.locator("main").inner_text()  # shown as text
            page.get_by_role("searchbox").fill("script")
            page.locator(".suggestions a").first.wait_for(timeout=10_000)
            assert watch.problems == []
        finally:
            context.close()
    finally:
        s.stop()


def test_static_site_searches_in_the_browser(browser, tmp_path: Path) -> None:
    # the static site of the small dataset, served by a plain file server: search runs in the page
    import functools
    import http.server

    from conftest import jisr

    out = tmp_path / "site"
    r = jisr("--data", str(ROOT / "tests" / "pages"), "site", "-o", str(out))
    assert r.returncode == 0, r.stderr.decode()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page, urlsplit(url).netloc)
    try:
        page.goto(url + "/id/place/house.html")
        page.get_by_role("searchbox").fill("BOB")
        first = page.locator(".suggestions a").first
        first.wait_for(timeout=10_000)
        first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/id/actor/bob.html")
        assert "<script>" in page.locator("h1").inner_text()
        page.goto(url + "/search.html?q=alice")
        page.locator("#results a").first.wait_for(timeout=10_000)
        assert page.locator("#results a").first.get_attribute("href") == "id/actor/alice.html"
        assert watch.problems == []
    finally:
        context.close()
        httpd.shutdown()
        thread.join(timeout=10)
