"""Fetching for `digest import`: polite, bounded HTTP(S) requests that never run what they get.

A `Fetcher` names itself in its User-Agent, asks robots.txt first (RFC 9309: a robots.txt that
cannot be read for a server or network error, or 429, means "keep out"; any other 4xx, "welcome")
and keeps its Crawl-delay, waits `delay` seconds between requests to one host, follows at most
`MAX_REDIRECTS` redirects and only to http(s), gives up after `timeout` seconds of silence and
reads at most `max_bytes`. Every failure is a `FetchFailed` naming the URL and the reason.

Silence is not the only way a server can hold a reader: one that drips a byte at a time never
lets a socket timeout fire. So every `get` also has a wall-clock deadline of `DEADLINE_FACTOR` x
`timeout` (robots.txt, redirects, headers, TLS and body together; polite pauses are added to it):
a watchdog shuts every socket the request opened when it passes, whatever the server is doing.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from email.message import Message
from typing import IO, Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from generator import __version__

USER_AGENT = f"newsdigest/{__version__} (digest import; +https://pypi.org/project/newsdigest/)"
ROBOTS_NAME = "newsdigest"  # the name a robots.txt group can address
MAX_REDIRECTS = 5
MAX_CRAWL_DELAY = 30.0  # a longer Crawl-delay is kept at this: an import must end
DEADLINE_FACTOR = 3  # one `get` ends within this many times `timeout`, plus its polite pauses
_CHUNK = 64 * 1024


class FetchFailed(Exception):
    """A URL that could not be fetched, and why, in words for the editor."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # where the answer came from, after redirects
    media_type: str  # "text/html", lowercased, without parameters
    charset: str  # as the server declared it, or ""
    body: bytes


@dataclass
class Fetcher:
    user_agent: str = USER_AGENT
    timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    delay: float = 1.0  # seconds between two requests to the same host
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _robots: dict[str, RobotFileParser | str] = field(default_factory=dict)  # by origin; str: why not
    _last: dict[str, float] = field(default_factory=dict)  # the time of the last request, by host
    _deadline: _Deadline | None = None  # the one of the `get` under way

    def get(self, url: str, accept: str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5") -> Fetched:
        """GET `url` after robots.txt allows it; raises `FetchFailed`, at the latest at the deadline."""
        _require_http(url)
        with _Deadline(self.timeout * DEADLINE_FACTOR) as deadline:
            self._deadline = deadline
            try:
                self._allowed(url)
                fetched = self._get(url, accept)
            except FetchFailed:
                if deadline.expired:  # whatever the shut socket made of it, the deadline is why
                    raise FetchFailed(url, deadline.reason) from None
                raise
            finally:
                self._deadline = None
            if deadline.expired:  # a body cut short by the watchdog is not the page
                raise FetchFailed(url, deadline.reason)
            return fetched

    def _get(self, url: str, accept: str) -> Fetched:
        asked = {"User-Agent": self.user_agent, "Accept": accept, "Accept-Encoding": "gzip"}
        request = urllib.request.Request(url, headers=asked)  # noqa: S310 - http(s) only, checked
        deadline = self._deadline
        assert deadline is not None, "_get runs only inside get"
        opener = urllib.request.build_opener(_Redirects(self), _Watched(deadline), _WatchedTLS(deadline))
        self._wait(url)
        try:
            if deadline.expired:
                raise FetchFailed(url, deadline.reason)
            with opener.open(request, timeout=self.timeout) as answer:
                body = _read_bounded(answer, self.max_bytes, url)
                headers: Message = answer.headers
                body = _decompressed(body, headers.get("Content-Encoding", ""), self.max_bytes, url)
                return Fetched(
                    answer.geturl(), headers.get_content_type(), headers.get_content_charset() or "", body
                )
        except urllib.error.HTTPError as error:
            if error.code in (301, 302, 303, 307, 308):
                raise FetchFailed(url, f"more than {MAX_REDIRECTS} redirects") from None
            raise FetchFailed(url, f"HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            timed_out = isinstance(error.reason, TimeoutError)
            raise FetchFailed(
                url, f"no answer within {self.timeout:g} s" if timed_out else _why(error.reason)
            ) from None
        except TimeoutError:
            raise FetchFailed(url, f"no answer within {self.timeout:g} s") from None
        except http.client.HTTPException as error:
            raise FetchFailed(url, f"its answer is not valid HTTP ({_why(error)})") from None
        except (OSError, ValueError) as error:
            raise FetchFailed(url, _why(error)) from None

    def _wait(self, url: str) -> None:
        """Keep `delay` (or the host's Crawl-delay) between two requests to the same host."""
        host = urlsplit(url).netloc
        robots = self._robots.get(_origin(url))
        pause = self.delay
        if isinstance(robots, RobotFileParser):
            asked = robots.crawl_delay(ROBOTS_NAME)
            pause = max(pause, min(float(asked), MAX_CRAWL_DELAY) if asked else 0.0)
        if host in self._last:
            left = self._last[host] + pause - self.clock()
            if left > 0:
                if self._deadline is not None:
                    self._deadline.extend(left)
                self.sleep(left)
        self._last[host] = self.clock()

    def _allowed(self, url: str) -> None:
        """Raise `FetchFailed` unless the robots.txt of the URL's origin lets us fetch it."""
        origin = _origin(url)
        if origin not in self._robots:
            self._robots[origin] = self._read_robots(origin)
        robots = self._robots[origin]
        if isinstance(robots, str):
            raise FetchFailed(url, robots)
        if not robots.can_fetch(ROBOTS_NAME, url):
            raise FetchFailed(url, f"{origin}/robots.txt does not allow fetching it")

    def _read_robots(self, origin: str) -> RobotFileParser | str:
        robots = RobotFileParser(origin + "/robots.txt")
        try:
            text = self._get(origin + "/robots.txt", "text/plain").body.decode("utf-8", errors="replace")
        except FetchFailed as failed:
            status = failed.reason.split()[1] if failed.reason.startswith("HTTP ") else ""
            if status.startswith("4") and status != "429":  # no robots.txt: everything is allowed
                text = ""
            else:
                return f"its site's robots.txt cannot be read ({failed.reason}), so it may not be fetched"
        robots.parse(text.splitlines())
        return robots


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow at most MAX_REDIRECTS redirects, only to http(s), and only where robots.txt allows."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        target = urljoin(req.full_url, headers.get("Location") or headers.get("URI") or "")
        _require_http(target, f"redirected to {target}, which is not http or https")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        target = urljoin(req.full_url, newurl)
        _require_http(target, f"redirected to {target}, which is not http or https")
        if _origin(target) != _origin(req.full_url):
            self.fetcher._allowed(target)
        self.fetcher._wait(target)
        return super().redirect_request(req, fp, code, msg, headers, target)


class _Deadline:
    """A wall-clock limit on one `get`: when it passes, every socket the get opened is shut down.

    A read blocked on a shut-down socket returns at once (end of file, or an error), so no server
    behaviour can outlast it: not a drip of body bytes, not endless header lines, not a TLS
    handshake that never ends. A watchdog thread looks ten times a second.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._done = threading.Event()

    @property
    def reason(self) -> str:
        return f"it did not arrive within {self.seconds:g} s (the limit is {DEADLINE_FACTOR} x timeout)"

    def extend(self, seconds: float) -> None:
        """Add a pause the fetcher keeps on purpose (a Crawl-delay) to the time allowed."""
        self.ends += seconds
        self.seconds += seconds

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)
        return sock

    def __enter__(self) -> _Deadline:
        threading.Thread(target=self._watch, name="fetch-deadline", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(min(0.1, max(0.0, self.ends - time.monotonic()))):
            if time.monotonic() >= self.ends:
                with self._lock:
                    self.expired = True
                    for sock in self._sockets:
                        _shut(sock)
                return


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):  # already closed: nothing left to stop
        sock.shutdown(socket.SHUT_RDWR)


def _watched_connection(base: type[http.client.HTTPConnection], deadline: _Deadline) -> Any:
    """`base` with every raw socket it opens handed to `deadline` before TLS or any byte is read."""

    def connect(address: Any, timeout: Any = None, source: Any = None) -> socket.socket:
        return deadline.watch(socket.create_connection(address, timeout, source))

    def make(host: str, **kw: Any) -> http.client.HTTPConnection:
        connection = base(host, **kw)
        connection._create_connection = connect  # type: ignore[attr-defined]
        return connection

    return make


class _Watched(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: Any) -> Any:
        return self.do_open(_watched_connection(http.client.HTTPConnection, self.deadline), req)


class _WatchedTLS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: Any) -> Any:
        make = _watched_connection(http.client.HTTPSConnection, self.deadline)
        return self.do_open(make, req, context=self._context)  # type: ignore[attr-defined]


def _read_bounded(answer: Any, limit: int, url: str) -> bytes:
    """At most `limit` bytes (the deadline's watchdog ends a server that drips)."""
    length = answer.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        raise FetchFailed(
            url, f"it is {int(length) // 1024:,} KB, more than the limit of {limit // 1024:,} KB"
        )
    chunks, size = [], 0
    while chunk := answer.read1(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise FetchFailed(url, f"it is more than the limit of {limit // 1024:,} KB")
        chunks.append(chunk)
    return b"".join(chunks)


def _decompressed(body: bytes, coding: str, limit: int, url: str) -> bytes:
    """The body as sent before compression, at most `limit` bytes of it (a gzip bomb stops there)."""
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise FetchFailed(url, f"it came compressed as {coding!r}, which was not asked for")
    unpack = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, told by the header
    try:
        data = unpack.decompress(body, limit + 1)
    except zlib.error as error:
        raise FetchFailed(url, f"its {coding} compression is broken ({error})") from None
    if len(data) > limit:
        raise FetchFailed(url, f"it is more than the limit of {limit // 1024:,} KB once uncompressed")
    return data


def _require_http(url: str, reason: str = "") -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchFailed(url, reason or "only http:// and https:// addresses can be fetched")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _why(reason: object) -> str:
    """The words of a network error, without Python's wrapping."""
    if isinstance(reason, socket.gaierror):
        return "the host name is not known"
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[0].lower() + reason.strerror[1:]
    return str(reason)
