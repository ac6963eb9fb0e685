"""The bundled site (plus the articles of tests/data/search) in headless Chromium: no console
errors, no failed or foreign requests, no serious accessibility violations (axe-core), under the
security headers the site's own `_headers` file gives (its Content-Security-Policy: a violation is
a console error); and search, typed into the page as a reader would.

Screenshots at 375 and 1280 px are written to tests/artifacts/screens/ for people to look at.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, TESTS, TOOLS, require, searchable_sources

pytestmark = pytest.mark.slow

BASE = "/digest/"  # the bundled config's base_url path: the site is served as it would be deployed
# Every Content-Security-Policy violation, on the console (Chromium logs most, not all, by itself).
VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));"""
AXE = "/__axe__.js"  # the test's own script, outside the site: the site's policy allows 'self'
SCREENS = TESTS / "artifacts" / "screens"
ARTICLE = "belarus/2020/09/03/kremlin-fears-belarusian-scenario/"
PAGES = {
    "home": "",
    "collection": "belarus/",
    "article": ARTICLE,
    "edition": "belarus/editions/2020-w36/",
    "source": "sources/newsdigest-sample-content/",
    "corrections": "corrections/",
    "story": "stories/belarus-2020/",
    "author": "authors/editors/",
    "search": "search/",
    "404": "no/such/page/",
}


def site_headers(site: Path) -> list[tuple[str, str]]:
    """The headers that the site's `_headers` file gives every path, as Netlify sends them."""
    lines = (site / "_headers").read_text(encoding="utf-8").splitlines()
    assert lines and lines[0].endswith("/*"), "the site's _headers names no path"
    return [tuple(line.strip().split(": ", 1)) for line in lines[1:] if line.startswith(" ")]  # type: ignore[misc]


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site under BASE with the headers of its `_headers` file, its 404 page for unknown
    paths, and axe-core."""

    axe: Path
    headers_to_send: list[tuple[str, str]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        for name, value in self.headers_to_send:
            self.send_header(name, value)
        super().end_headers()

    def do_GET(self) -> None:
        if self.path == AXE:
            self._send(200, self.axe.read_bytes(), "text/javascript")
        elif self.path.startswith(BASE):
            self.path = "/" + self.path[len(BASE) :]
            super().do_GET()
        else:
            self.send_error(404)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code != 404:
            super().send_error(code, message, explain)
            return
        self._send(404, (Path(self.directory) / "404.html").read_bytes(), "text/html; charset=utf-8")

    def _send(self, code: int, body: bytes, kind: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serving(site: Path) -> Iterator[str]:
    """The built `site` served under BASE from 127.0.0.1 with its own security headers (see
    `_Handler`); its origin."""
    axe = require(TOOLS / "axe-core" / "axe.min.js", "axe-core (npm)")
    handler = type("Handler", (_Handler,), {"axe": axe, "headers_to_send": site_headers(site)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def origin(searchable_site: Path) -> Iterator[str]:
    with serving(searchable_site) as found:
        yield found


class Visit:
    """One browser tab on the site, recording console errors, failed and foreign requests."""

    def __init__(self, browser: Any, origin: str, **options: Any) -> None:
        self.origin = origin
        self.context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.url = ""
        self.page.on("console", self._console)
        self.page.add_init_script(VIOLATIONS)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # The browser logs the 404 status of the not-found page itself; that one is expected.
        expected = message.location.get("url") == self.url and "Failed to load resource" in message.text
        if message.type == "error" and not expected:
            self.problems.append(f"console {message.type}: {message.text} at {message.location}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.url != self.url:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def goto(self, path: str) -> Any:
        self.url = self.origin + BASE + path
        return self.page.goto(self.url, wait_until="load")

    def screenshot(self, name: str) -> None:
        SCREENS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)

    def axe(self) -> list[str]:
        """axe-core's serious and critical violations on the page as it is now."""
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.add_script_tag(url=AXE)
        results = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    @property
    def foreign(self) -> list[str]:
        return [r for r in self.requests if not r.startswith(self.origin) and not r.startswith("data:")]

    def close(self) -> None:
        self.context.close()


def visit(
    browser: Any, origin: str, name: str, widths: tuple[int, ...] = (1280,), scheme: str = "light"
) -> dict[str, Any]:
    """Open one page, then look at it at each width (one load: the page is laid out again);
    return what went wrong on the way and axe-core's serious violations at any width."""
    tab = Visit(browser, origin, viewport={"width": widths[0], "height": 900}, color_scheme=scheme)
    response = tab.goto(PAGES[name])
    serious = []
    for width in widths:
        tab.page.set_viewport_size({"width": width, "height": 900})
        tab.screenshot(f"{name}-{width}-{scheme}")
        serious += [f"{width} px: {problem}" for problem in tab.axe()]
    tab.close()
    return {"status": response.status, "problems": tab.problems, "axe": serious, "foreign": tab.foreign}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_clean_in_a_real_browser(browser: Any, origin: str, name: str) -> None:
    result = visit(browser, origin, name, (1280, 375))
    assert result["status"] == (404 if name == "404" else 200)
    assert result["problems"] == []
    assert result["foreign"] == []
    assert result["axe"] == [], json.dumps(result["axe"], indent=1, ensure_ascii=False)


@pytest.mark.parametrize("name", ["home", "article"])
def test_dark_scheme_passes_axe(browser: Any, origin: str, name: str) -> None:
    result = visit(browser, origin, name, scheme="dark")
    assert result["problems"] == [] and result["axe"] == []


def test_layout_fits_a_phone_screen(browser: Any, origin: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    for path in PAGES.values():
        page.goto(origin + BASE + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
    context.close()


def test_axe_does_report_a_violation(browser: Any, origin: str) -> None:
    """Guards the tests above: axe finds a real problem when there is one."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(origin + BASE)
    page.evaluate("document.querySelector('img, a').textContent = ''")
    page.add_script_tag(url="/__axe__.js")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    assert any(v["id"] == "link-name" for v in results["violations"])


# Search ---------------------------------------------------------------------------------------

RUSSIAN_SAMPLE = "Пример: студенты Минска выходят на марш"  # tagged «протесты»
PROTEST_WAVE = "Волна протестов в Гродно"  # «протестов» in its title and body
BEEKEEPERS = "Beekeepers count their hives after a wet summer"  # tagged apiculture


def search_box(tab: Visit, query: str) -> list[str]:
    """Type `query` into the masthead's search box; return the titles of the results it shows."""
    box = tab.page.locator(".search-box")
    box.locator("input").fill(query)
    tab.page.wait_for_function("q => document.querySelector('.search-box').dataset.shown === q", arg=query)
    return box.locator(".hit-title").all_inner_texts()


def test_search_box_finds_articles_in_both_languages_from_any_page(browser: Any, origin: str) -> None:
    tab = Visit(browser, origin)
    tab.goto("")  # an English page
    found = search_box(tab, "протесты")  # another grammatical form than the article's «протестов»
    assert PROTEST_WAVE in found and RUSSIAN_SAMPLE in found
    assert BEEKEEPERS in search_box(tab, "beekeepers")
    assert search_box(tab, "apiculture")[0] == BEEKEEPERS  # a tag, in no article's text
    assert BEEKEEPERS in search_box(tab, "technology")  # its collection, Science & Technology
    tab.screenshot("search-box-1280")
    assert tab.axe() == []  # with the results open
    tab.goto("belarus/2020/09/01/sample-students-minsk/")  # a Russian page
    assert tab.page.locator("html").get_attribute("lang") == "ru"
    assert "A harbour town waits for the ferry" in search_box(tab, "ferries")
    assert PROTEST_WAVE in search_box(tab, "протест")
    assert tab.problems == [] and tab.foreign == []
    tab.close()


def test_search_results_show_collection_and_date_and_pass_axe(browser: Any, origin: str) -> None:
    for scheme in ("light", "dark"):
        tab = Visit(browser, origin, color_scheme=scheme)
        tab.goto("search/?q=Klaip%C4%97da")
        tab.page.wait_for_selector(".search-page .hit")
        hits = tab.page.locator(".hit")
        assert hits.count() == 1
        assert hits.locator(".hit-title a").inner_text() == "A harbour town waits for the ferry"
        assert (
            hits.locator(".hit-title a")
            .get_attribute("href")
            .endswith(  # type: ignore[union-attr]
                "/digest/europe/2020/08/17/harbour/"
            )
        )
        assert hits.locator(".meta").inner_text() == "Europe · August 17, 2020"
        assert hits.locator("mark").first.inner_text() == "Klaipėda"
        assert tab.page.locator(".search-status").inner_text() == "1 article found"
        tab.screenshot(f"search-page-{scheme}")
        assert tab.axe() == []
        assert tab.problems == [] and tab.foreign == []
        tab.close()


def test_search_lists_only_articles_not_list_pages(browser: Any, origin: str) -> None:
    tab = Visit(browser, origin)
    tab.goto("search/?q=Belarus")
    tab.page.wait_for_selector(".search-page .hit")
    urls = tab.page.locator(".hit-title a").evaluate_all("links => links.map(a => a.pathname)")
    assert len(urls) >= 3
    assert all(re.fullmatch(r"/digest/[a-z]+/\d{4}/\d\d/\d\d/[a-z0-9-]+/", url) for url in urls), urls
    tab.close()


def test_search_works_from_the_keyboard(browser: Any, origin: str) -> None:
    tab = Visit(browser, origin)
    tab.goto("europe/")
    page = tab.page
    for _ in range(5):  # skip link, site name, then the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "search-box-q":
            break
    assert page.evaluate("document.activeElement.id") == "search-box-q"
    page.keyboard.type("ferry")
    page.wait_for_selector(".search-box .hit a")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "A harbour town waits for the ferry"
    page.keyboard.press("Escape")
    assert page.locator(".search-box .search-results").is_hidden()
    assert page.evaluate("document.activeElement.id") == "search-box-q"
    page.keyboard.press("Enter")  # the full results on the search page
    page.wait_for_url("**/digest/search/?q=ferry")
    page.wait_for_selector(".search-page .hit")
    page.locator(".hit-title a").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/digest/europe/2020/08/17/harbour/")
    assert tab.problems == []
    tab.close()


def test_without_javascript_search_is_a_link_to_a_page_that_explains(browser: Any, origin: str) -> None:
    tab = Visit(browser, origin, java_script_enabled=False)
    tab.goto("")
    link = tab.page.locator(".search-box .search-link")
    assert link.is_visible() and tab.page.locator(".search-box form").is_hidden()
    link.click()
    tab.page.wait_for_url("**/digest/search/")
    assert tab.page.locator(".search-page form").is_hidden()
    assert "needs JavaScript" in tab.page.locator(".search-nojs").inner_text()
    tab.screenshot("search-page-no-js")  # (axe needs JavaScript: the page is checked with it above)
    tab.close()


def test_an_old_url_takes_the_browser_to_the_article(browser: Any, origin: str) -> None:
    tab = Visit(browser, origin)
    tab.goto("belarus/the-kremlin-fears-a-repetition-of-the-belarusian-scenario/")  # an alias: the URL before
    tab.page.wait_for_url("**" + BASE + ARTICLE)
    assert tab.page.locator("h1").inner_text() == "The Kremlin fears a repetition of the Belarusian scenario"
    assert tab.problems == [] and tab.foreign == []
    tab.close()


@pytest.mark.parametrize("width", [600, 375])
def test_the_newsletter_reads_at_600_and_375_px_and_asks_no_host(browser: Any, width: int) -> None:
    from generator.driver.pipeline import prepare
    from generator.publish.newsletter import make_newsletter

    letter = make_newsletter(prepare(REPO), "belarus")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_content(letter.html, wait_until="load")
    assert requests == []  # no image, font or stylesheet from anywhere
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert page.locator("h1").inner_text() == letter.subject
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"newsletter-{width}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="module")
def edited_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The searchable site built, then one article edited and built again: the edit is indexed as
    a recent edit, beside the base parts that still hold its old text."""
    from generator.build import search
    from generator.driver.pipeline import build

    root = searchable_sources(tmp_path_factory.mktemp("edited"))
    part_pages, search.PART_PAGES = search.PART_PAGES, 3
    try:
        build(root)
        bees = root / "content" / "beekeepers.md"
        text = bees.read_text(encoding="utf-8").replace("honey harvest", "buckwheat zeppelins")
        bees.write_text(text, encoding="utf-8")
        assert build(root).index_parts == (1, 3)  # the recent edits only
    finally:
        search.PART_PAGES = part_pages
    listing = json.loads((root / "site/pagefind/bundles.json").read_text(encoding="utf-8"))
    assert listing["en"] == ["en/2020-08/", "en/2020-09/", "en/recent/"]
    with serving(root / "site") as found:
        yield found


def test_an_edited_article_is_found_by_its_new_words_only(browser: Any, edited_origin: str) -> None:
    tab = Visit(browser, edited_origin)
    tab.goto("")
    assert search_box(tab, "zeppelins") == [BEEKEEPERS]  # its new words, from the recent edits
    assert search_box(tab, "harvest") == []  # its old words: the base part's copy is hidden
    assert search_box(tab, "beekeepers").count(BEEKEEPERS) == 1  # once, not twice
    assert PROTEST_WAVE in search_box(tab, "протестов")  # the other parts as before
    assert tab.problems == [] and tab.foreign == []
    tab.close()


def test_the_sites_own_policy_does_block_an_inline_script(
    browser: Any, searchable_site: Path, tmp_path: Path
) -> None:
    """Guards the tests above: a page that breaks the site's policy shows it on the console."""
    import shutil

    copy = tmp_path / "site"
    shutil.copytree(searchable_site, copy)
    page = copy / ARTICLE / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", "<script>document.title = 'x'</script></body>"),
                    encoding="utf-8")  # fmt: skip
    with serving(copy) as served:
        tab = Visit(browser, served)
        tab.goto(ARTICLE)
        title, problems = tab.page.title(), tab.problems
        tab.close()
    assert title != "x" and any("Content Security Policy" in p for p in problems), problems
