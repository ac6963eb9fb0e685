"""The bundled site in headless Chromium: no console errors, no failed or foreign requests,
no serious accessibility violations (axe-core), under a strict content security policy.

Screenshots at 375 and 1280 px are written to tests/artifacts/screens/ for people to look at.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TESTS, TOOLS, require

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BASE = "/digest/"  # the bundled config's base_url path: the site is served as it would be deployed
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SCREENS = TESTS / "artifacts" / "screens"
ARTICLE = "belarus/the-kremlin-fears-a-repetition-of-the-belarusian-scenario/"
PAGES = {"home": "", "collection": "belarus/", "article": ARTICLE, "404": "no/such/page/"}


class _Handler(SimpleHTTPRequestHandler):
    """Serves the site under BASE with a strict CSP, its 404 page for unknown paths, and axe-core."""

    axe: Path

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def do_GET(self) -> None:
        if self.path == "/__axe__.js":
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


@pytest.fixture(scope="module")
def origin(bundled_site: Path) -> Iterator[str]:
    axe = require(TOOLS / "axe-core" / "axe.min.js", "axe-core (npm)")
    handler = type("Handler", (_Handler,), {"axe": axe})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(bundled_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(CHROMIUM, "Chromium (Debian package chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def visit(browser: Any, origin: str, name: str, width: int, scheme: str = "light") -> dict[str, Any]:
    """Open one page; return what went wrong on the way and axe-core's serious violations."""
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    problems: list[str] = []
    requests: list[str] = []
    url = origin + BASE + PAGES[name]

    def on_console(message: Any) -> None:
        # The browser logs the 404 status of the not-found page itself; that one is expected.
        if message.type == "error" and message.location.get("url") != url:
            problems.append(f"console {message.type}: {message.text} at {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("request", lambda r: requests.append(r.url))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 and r.url != url else None,
    )
    response = page.goto(url, wait_until="load")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}-{width}-{scheme}.png"), full_page=True)
    page.add_script_tag(url="/__axe__.js")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    foreign = [r for r in requests if not r.startswith(origin) and not r.startswith("data:")]
    return {"status": response.status, "problems": problems, "axe": serious, "foreign": foreign}


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_is_clean_in_a_real_browser(browser: Any, origin: str, name: str, width: int) -> None:
    result = visit(browser, origin, name, width)
    assert result["status"] == (404 if name == "404" else 200)
    assert result["problems"] == []
    assert result["foreign"] == []
    assert result["axe"] == [], json.dumps(result["axe"], indent=1, ensure_ascii=False)


@pytest.mark.parametrize("name", ["home", "article"])
def test_dark_scheme_passes_axe(browser: Any, origin: str, name: str) -> None:
    result = visit(browser, origin, name, 1280, scheme="dark")
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
