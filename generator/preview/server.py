"""Preview server for `digest serve`: serves a built site from memory and reloads open pages.

`DevServer` knows nothing about build stages. It is given a `rebuild`
callable that returns the site's files (output path to bytes, or to a file
to read), and serves the last good result. A failed rebuild keeps that result
and shows the errors on top of every page until the next good rebuild. Open
pages learn about rebuilds over server-sent events from a script that only
served pages carry; nothing here is ever written into the output folder.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from generator.base.errors import BuildFailed
from generator.base.urls import content_type

Files = Mapping[str, "bytes | Path"]

EVENTS = "/__digest__/events"
SCRIPT = "/__digest__/reload.js"
RELOAD_JS = b"""// Injected by `digest serve` only: reloads the page after each rebuild.
(function () {
  var source = new EventSource("/__digest__/events");
  source.addEventListener("reload", function () { location.reload(); });
})();
"""
STYLE = "/__digest__/preview.css"
PREVIEW_CSS = b"""/* Injected by `digest serve` only: the build errors over the page. A stylesheet, not a
   style attribute, so that the site's own Content-Security-Policy (style-src 'self') lets it apply. */
#digest-build-error { position: fixed; inset: 0; z-index: 2147483647; overflow: auto; margin: 0;
  padding: 2rem; background: #fff; color: #a00; font: 14px/1.5 monospace; white-space: pre-wrap; }
"""
KEEPALIVE_SECONDS = 15.0
IDLE_SECONDS = 20.0  # a connection that sends no request for this long is closed
HEAD_SECONDS = 10.0  # a request whose line and headers take longer in all is cut off (slow drips)
ALL_INTERFACES = frozenset({"", "0", "0.0.0.0", "::", "[::]"})  # noqa: S104 - names, not a binding


def bind_address(host: str) -> str:
    """The address to listen on for `--host`: `0` is 0.0.0.0, `[::1]` is ::1."""
    host = host.strip()
    if host in ("", "0"):
        return "0.0.0.0"  # noqa: S104 - the user asked for every interface
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_own_host(header: str | None) -> bool:
    """True for a Host header naming this machine: an IP address, localhost, or its host name.

    A web page the editor visits can point a name it controls at 127.0.0.1
    (DNS rebinding) and then read the preview; its requests carry that name,
    which is answered with 421. Addresses cannot be rebound, so any is fine.
    """
    if header is None:
        return True  # HTTP/1.0 without a Host: not a browser
    name = header.strip().lower()
    if name.startswith("["):  # [::1]:8000
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.rsplit(":", 1)[0]
    name = name.rstrip(".")
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    own = {"localhost", socket.gethostname().lower(), socket.getfqdn().lower()}
    return name in own or name.endswith(".localhost")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the server shows: the last good files, and the errors of the latest build, if it failed."""

    files: Files
    errors: tuple[str, ...] = ()
    generation: int = 0
    kept_going: bool = False  # the errors are of articles left out; the rest of the site is current


@dataclass(frozen=True, slots=True)
class WithErrors:
    """What a rebuild that kept going gives: the files of every good article, and the errors of the
    ones it left out, shown on every page as a failed build's are."""

    files: Files
    errors: tuple[str, ...]


class DevServer:
    """A threaded HTTP server over the latest `Snapshot`, with a `rebuild()` that refreshes it."""

    def __init__(
        self,
        rebuild: Callable[[frozenset[Path]], Files | WithErrors],
        host: str = "127.0.0.1",
        port: int = 8000,
    ) -> None:
        self._rebuild = rebuild
        self.idle_seconds = IDLE_SECONDS
        self.head_seconds = HEAD_SECONDS
        self._changed = threading.Condition()
        self._rebuild_lock = threading.RLock()  # `patch` may be called from within a rebuild
        self.stopping = False
        self.snapshot = Snapshot({})
        self._extra: Files = {}  # files made apart from the rebuild (the search index), see `patch`
        address = bind_address(host)
        server_class = _IPv6Server if ":" in address else _Server
        self.httpd = server_class((address, port), _handler_for(self))

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def rebuild(self, changed: frozenset[Path] = frozenset()) -> Snapshot:
        """Run the build (told which files `changed`); keep the last good files if it fails, and show
        the errors of one that failed or left files out. Wakes every open page."""
        with self._rebuild_lock:
            previous = self.snapshot
            try:
                built = self._rebuild(changed)
                kept, errors = (built.files, built.errors) if isinstance(built, WithErrors) else (built, ())
                snapshot = Snapshot({**kept, **self._extra}, errors, previous.generation + 1, bool(errors))
            except BuildFailed as failed:
                snapshot = Snapshot(
                    previous.files, tuple(str(e) for e in failed.errors), previous.generation + 1
                )
            with self._changed:
                self.snapshot = snapshot
                self._changed.notify_all()
            return snapshot

    def patch(self, extra: Files) -> None:
        """Serve `extra` in place of the files the last `patch` gave, now and after every rebuild,
        without reloading open pages: for what is made in the background, like the search index."""
        with self._rebuild_lock:
            current = self.snapshot
            files = {k: v for k, v in current.files.items() if k not in self._extra}
            self._extra = dict(extra)
            with self._changed:
                self.snapshot = Snapshot(
                    {**files, **self._extra}, current.errors, current.generation, current.kept_going
                )

    def wait_for_change(self, generation: int, timeout: float) -> int:
        """Block until a rebuild newer than `generation` (or the timeout); return the current one."""
        with self._changed:
            self._changed.wait_for(lambda: self.snapshot.generation > generation or self.stopping, timeout)
            return self.snapshot.generation

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        with self._changed:
            self.stopping = True
            self._changed.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()


class _Server(ThreadingHTTPServer):
    """The threaded HTTP server, quiet about clients that hang up or time out."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _IPv6Server(_Server):
    """The threaded server on an IPv6 address; on `::` it takes IPv4 connections too."""

    address_family = socket.AF_INET6

    def server_bind(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def resolve(files: Files, raw_path: str) -> tuple[HTTPStatus, str]:
    """Map a request path to a key of `files`: (200, key), (301, new path) or (404, '').

    Only keys of `files` can ever be served, so `..`, encoded dots and slashes,
    backslashes and absolute paths find nothing outside the site.
    """
    path = unquote(urlsplit(raw_path).path)
    if "\\" in path or "\x00" in path or not path.startswith("/"):
        return HTTPStatus.NOT_FOUND, ""
    parts = path.split("/")
    if any(part in (".", "..") for part in parts) or "//" in path:
        return HTTPStatus.NOT_FOUND, ""
    key = path.lstrip("/")
    if key == "" or key.endswith("/"):
        key += "index.html"
    if key in files:
        return HTTPStatus.OK, key
    if f"{key}/index.html" in files:
        return HTTPStatus.MOVED_PERMANENTLY, path + "/"
    return HTTPStatus.NOT_FOUND, ""


def decorate(page: bytes, errors: tuple[str, ...], kept_going: bool = False) -> bytes:
    """Add the reload script, and the build errors when the last build failed or left articles out,
    to an HTML page."""
    extra = f'<script src="{SCRIPT}"></script>'
    if errors:
        extra += f'<link rel="stylesheet" href="{STYLE}">'
        listing = html.escape("\n".join(errors))
        headline = (
            "These articles are left out of the site for their errors; everything else is current."
            if kept_going
            else "The build failed; this is the last good version of the site."
        )
        extra += (
            f'<div id="digest-build-error" role="alert"><strong>{headline}'
            f"</strong>\n\n{listing}\n\nSave a fix and this page reloads.</div>"
        )
    marker = page.rfind(b"</body>")
    data = extra.encode("utf-8")
    return page[:marker] + data + page[marker:] if marker >= 0 else page + data


def _handler_for(server: DevServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "digest-serve"

        def setup(self) -> None:
            self.request.settimeout(server.idle_seconds)  # an idle connection is closed, holding no thread
            super().setup()

        def handle_one_request(self) -> None:
            """One request, whose line and headers must arrive within `head_seconds` of its first
            byte: a client that drips a header line now and then is cut off, not waited for."""
            try:
                first = self.rfile.peek(1)  # type: ignore[attr-defined]  # waits at most idle_seconds
            except OSError:
                first = b""
            if not first:
                self.close_connection = True
                return
            self._cut = threading.Timer(server.head_seconds, self._cut_off)
            self._cut.daemon = True
            self._cut.start()
            try:
                super().handle_one_request()
            finally:
                self._cut.cancel()

        def _cut_off(self) -> None:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def parse_request(self) -> bool:
            parsed = super().parse_request()
            self._cut.cancel()  # the head has arrived in time
            return parsed

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            if self._own_host():
                self._respond(send_body=False)

        def do_GET(self) -> None:
            if not self._own_host():
                return
            if self.path == EVENTS:
                self._events()
            elif self.path == SCRIPT:
                self._send(HTTPStatus.OK, RELOAD_JS, "text/javascript; charset=utf-8")
            elif self.path == STYLE:
                self._send(HTTPStatus.OK, PREVIEW_CSS, "text/css; charset=utf-8")
            else:
                self._respond(send_body=True)

        def _own_host(self) -> bool:
            """Answer 400 to two Host headers and 421 to a host not this machine's, whether it is
            named in the Host header or in an absolute-form target (`GET http://host/path`)."""
            hosts = self.headers.get_all("Host") or []
            if len(hosts) > 1:
                return self._refuse(HTTPStatus.BAD_REQUEST, "A request may carry one Host header.\n")
            host = hosts[0] if hosts else None
            if not self.path.startswith("/"):
                target = urlsplit(self.path)
                if target.scheme.lower() not in ("http", "https") or not target.netloc:
                    return self._refuse(HTTPStatus.BAD_REQUEST, "The request target is not a path.\n")
                host = target.netloc  # RFC 9112 3.2.2: the target's host is the one that counts
                self.path = target.path or "/"
                if target.query:
                    self.path += "?" + target.query
            if is_own_host(host):
                return True
            text = "This preview answers only to localhost and IP addresses (DNS rebinding guard).\n"
            return self._refuse(HTTPStatus.MISDIRECTED_REQUEST, text)

        def _refuse(self, status: HTTPStatus, text: str) -> bool:
            self._send(status, text.encode(), "text/plain; charset=utf-8")
            self.close_connection = True
            return False

        def _respond(self, send_body: bool) -> None:
            snapshot = server.snapshot
            status, key = resolve(snapshot.files, self.path)
            if status == HTTPStatus.MOVED_PERMANENTLY:
                self.send_response(status)
                self.send_header("Location", key)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if status == HTTPStatus.NOT_FOUND:
                key = "404.html" if "404.html" in snapshot.files else ""
            body = _read(snapshot.files[key]) if key else b"Not found"
            kind = content_type(key) if key else "text/plain; charset=utf-8"
            if kind.startswith("text/html"):
                body = decorate(body, snapshot.errors, snapshot.kept_going)
            self._send(status, body, kind, send_body)

        def _send(self, status: HTTPStatus, body: bytes, kind: str, send_body: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            generation = server.snapshot.generation
            try:
                self.wfile.write(b"retry: 1000\n\n")
                self.wfile.flush()
                while not server.stopping:
                    now = server.wait_for_change(generation, KEEPALIVE_SECONDS)
                    if server.stopping:
                        break
                    message = f"event: reload\ndata: {now}\n\n" if now > generation else ": keep-alive\n\n"
                    generation = now
                    self.wfile.write(message.encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


def _read(item: bytes | Path) -> bytes:
    if isinstance(item, bytes):
        return item
    try:
        return item.read_bytes()
    except OSError:  # a theme file removed since the last build; the next rebuild drops it
        return b""


def serve(
    server: DevServer,
    folders: tuple[list[Path], list[Path]],
    keep: Callable[[Path], bool],
    report: Callable[[Snapshot, float, frozenset[Path]], None],
) -> None:
    """Build once, then serve until Ctrl-C, rebuilding whenever a watched file changes.

    `folders` is (folders watched with all below them, folders watched alone).
    """
    from generator.preview.watch import Watcher

    def on_change(paths: frozenset[Path]) -> None:
        started = time.perf_counter()
        snapshot = server.rebuild(paths)
        report(snapshot, time.perf_counter() - started, paths)

    on_change(frozenset())
    deep, shallow = folders
    watcher = Watcher(deep, on_change, keep, shallow=shallow).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
        server.shutdown()
