"""A pretend set of news sites on 127.0.0.1 for the import tests: pages, feeds, and bad answers.

Each fixture page in tests/data/import is served at its own canonical path, with its outlet's
origin (https://ledger.example.com ...) replaced by this server's, as its outlet would serve it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).parent / "data" / "import"
ORIGINS = (b"https://ledger.example.com", b"https://courier.example.org", b"https://eastdesk.example.net",
           b"https://region.example.by")  # fmt: skip
PAGES = {
    "/europe/2024/03/05/rail-workers-grodno-strike": "newsarticle-jsonld.html",
    "/2024/04/11/opposition-office-vilnius/": "opengraph-only.html",
    "/news/2024-05-20/searches-journalists": "cookie-banner.html",
    "/news/2024/06/03/vrachi-uezzhayut/": "russian-windows-1251.html",
}
SLOW_SECONDS = 3.0


@dataclass
class Route:
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    body: bytes = b""
    delay: float = 0.0
    location: str = ""
    encoding: str = ""  # Content-Encoding, when the body is compressed


class Newsroom:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, str]] = []  # (path, User-Agent, Accept-Encoding)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        for path, name in PAGES.items():
            content_type = "text/html" if "1251" in name else "text/html; charset=utf-8"
            self.routes[path] = Route(body=self.page(name), content_type=content_type)
        self.routes["/robots.txt"] = Route(
            content_type="text/plain", body=b"User-agent: *\nDisallow: /private/\n"
        )
        self.routes["/feed.rss"] = Route(content_type="application/rss+xml", body=self.feed("feed.rss"))
        self.routes["/feed.atom"] = Route(content_type="application/atom+xml", body=self.feed("feed.atom"))
        self.routes["/slow"] = Route(body=self.page("opengraph-only.html"), delay=SLOW_SECONDS)
        self.routes["/report.pdf"] = Route(content_type="application/pdf", body=b"%PDF-1.4\n%\xe2\xe3\n")
        self.routes["/private/leak.html"] = Route(body=self.page("cookie-banner.html"))

    def page(self, name: str) -> bytes:
        data = (DATA / name).read_bytes()
        for origin in ORIGINS:
            data = data.replace(origin, self.base.encode())
        return data

    def feed(self, name: str) -> bytes:
        return (DATA / name).read_bytes().replace(b"{base}", self.base.encode())

    def url(self, path: str) -> str:
        return self.base + path


def _handler(room: Newsroom) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            room.requests.append(
                (self.path, self.headers.get("User-Agent", ""), self.headers.get("Accept-Encoding", ""))
            )
            route = room.routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            time.sleep(route.delay)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            if route.location:
                self.send_header("Location", route.location)
            if route.encoding:
                self.send_header("Content-Encoding", route.encoding)
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def newsroom() -> Iterator[Newsroom]:
    room = Newsroom()
    thread = threading.Thread(target=room.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield room
    finally:
        room.server.shutdown()
        room.server.server_close()
