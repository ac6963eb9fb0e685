"""`digest serve` as a user runs it: a real process, real sockets, real file edits."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from generator.preview.server import DevServer, resolve
from tests.conftest import MakeSite, article_text

pytestmark = pytest.mark.slow

FILES = {"index.html": b"home", "a/index.html": b"a", "static/style.css": b"css", "404.html": b"missing"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", (200, "index.html")),
        ("/a/", (200, "a/index.html")),
        ("/a", (301, "/a/")),
        ("/static/style.css?v=1", (200, "static/style.css")),
        ("/../a/index.html", (404, "")),
        ("/%2e%2e/a/index.html", (404, "")),
        ("/static/..%2f..%2fconfig.yaml", (404, "")),
        ("/static/%2e%2e%2fstyle.css", (404, "")),
        ("/a\\..\\index.html", (404, "")),
        ("/a%5c..%5cindex.html", (404, "")),
        ("//etc/passwd", (404, "")),
        ("/etc/passwd", (404, "")),
        ("/a/%00", (404, "")),
    ],
)
def test_resolve_only_finds_files_of_the_site(path: str, expected: tuple[int, str]) -> None:
    status, key = resolve(FILES, path)
    assert (int(status), key) == expected


class Served:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.host, port = url.split("//")[1].rstrip("/").split(":")
        self.port = int(port)

    def get(self, path: str) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def wait_for(self, path: str, text: str, seconds: float = 2.0) -> float:
        """Poll until the page holds `text`; return how long that took."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if text in self.get(path)[2]:
                return time.monotonic() - started
            time.sleep(0.05)
        raise AssertionError(f"{path} did not show {text!r} within {seconds} s")


def start(root: Path, *args: str, **env: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "-s", str(root), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"at (http://\S+)", line)
    assert match, (line, process.stderr.read() if process.poll() is not None else "")
    return process, match.group(1)


@pytest.fixture
def served(make_site: MakeSite) -> Iterator[Served]:
    root = make_site(
        {
            "content/world/a.md": article_text("Alpha", body="Original text.\n"),
            "content/world/b.md": article_text("Beta", "2020-09-01"),
        }
    )
    process, url = start(root)
    server = Served(process, url)
    server.root = root  # type: ignore[attr-defined]
    server.wait_for("/", "Alpha", seconds=10)
    yield server
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(10)


def test_pages_types_and_404(served: Served) -> None:
    status, headers, body = served.get("/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert '<script src="/__digest__/reload.js"></script>' in body
    assert served.get("/static/style.css")[1]["content-type"] == "text/css; charset=utf-8"
    assert served.get("/feed.xml")[1]["content-type"] == "application/atom+xml; charset=utf-8"
    status, _, body = served.get("/no/such/page/")
    assert status == 404 and "Page not found" in body
    assert served.get("/world/2020/09/03/a")[0] == 301


def test_nothing_outside_the_site_is_served(served: Served, tmp_path: Path) -> None:
    root: Path = served.root  # type: ignore[attr-defined]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    static = root / "overrides" / "static"
    static.mkdir(parents=True)
    (static / "leak.txt").symlink_to(secret)
    (static / "fine.txt").write_text("fine", encoding="utf-8")
    served.wait_for("/static/fine.txt", "fine")
    for path in (
        "/static/leak.txt",
        "/../config.yaml",
        "/%2e%2e/config.yaml",
        "/static/..%2f..%2fconfig.yaml",
        "/..%5cconfig.yaml",
        "/static/..\\..\\config.yaml",
        "//etc/passwd",
        "/etc/passwd",
        str(secret),
    ):
        status, _, body = served.get(path)
        assert status == 404, path
        assert "TOP SECRET" not in body and "base_url" not in body, path


def test_edit_reloads_and_a_broken_article_shows_its_error(served: Served) -> None:
    root: Path = served.root  # type: ignore[attr-defined]
    article = root / "content" / "world" / "a.md"
    events: list[str] = []
    listening = threading.Event()

    def listen() -> None:
        connection = http.client.HTTPConnection(served.host, served.port, timeout=10)
        connection.request("GET", "/__digest__/events")
        response = connection.getresponse()
        listening.set()
        while True:
            line = response.fp.readline().decode()
            if not line:
                break
            events.append(line)
            if line.startswith("event: reload"):
                break

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert listening.wait(5)

    article.write_text(article_text("Alpha", body="Edited text.\n"), encoding="utf-8")
    served.wait_for("/world/2020/09/03/a/", "Edited text.", seconds=10)  # how fast: bench/run.py measures it
    listener.join(5)
    assert any(e.startswith("event: reload") for e in events)

    article.write_text("---\ntitle: Alpha\ndate: [broken\n---\nBroken text.\n", encoding="utf-8")
    served.wait_for("/world/2020/09/03/a/", "digest-build-error")
    _, _, page = served.get("/world/2020/09/03/a/")
    assert "a.md:4:" in page and "invalid YAML" in page  # file, line and message
    assert "Edited text." in page  # the last good page is still served under the message
    assert served.process.poll() is None

    article.write_text(article_text("Alpha", body="Fixed text.\n"), encoding="utf-8")
    served.wait_for("/world/2020/09/03/a/", "Fixed text.")
    assert "digest-build-error" not in served.get("/world/2020/09/03/a/")[2]


def test_concurrent_requests(served: Served) -> None:
    paths = [
        "/",
        "/world/",
        "/world/2020/09/03/a/",
        "/world/2020/09/01/b/",
        "/feed.xml",
        "/static/style.css",
    ] * 5
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda p: served.get(p)[0], paths))
    assert statuses == [200] * len(paths)


def test_ctrl_c_stops_cleanly(served: Served) -> None:
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(10) == 0
    assert served.process.stdout is not None
    assert "Stopped." in served.process.stdout.read()


def test_busy_port_says_so(served: Served) -> None:
    root: Path = served.root  # type: ignore[attr-defined]
    result = subprocess.run(
        [sys.executable, "-m", "generator", "serve", "-s", str(root), "--port", str(served.port)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 1
    assert "already in use" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_binding_to_all_interfaces_warns(make_site: MakeSite) -> None:
    root = make_site({"content/world/a.md": article_text("Alpha")})
    process, _ = start(root, "--host", "0.0.0.0")
    try:
        time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
    assert process.stderr is not None
    assert "warning: serving on all interfaces" in process.stderr.read()


def test_the_preview_has_a_search_index_that_follows_edits(served: Served) -> None:
    root: Path = served.root  # type: ignore[attr-defined]
    served.wait_for("/pagefind/bundles.json", '{"en":["en/2020-09/"]}', seconds=10)  # made in the background
    status, headers, _ = served.get("/pagefind/en/2020-09/pagefind.js")
    assert status == 200 and headers["content-type"] == "text/javascript; charset=utf-8"
    assert served.get("/pagefind/en/2020-09/pagefind-entry.json")[0] == 200
    (root / "content/world/c.md").write_text(article_text("Gamma", "2019-01-05"), encoding="utf-8")
    served.wait_for("/pagefind/bundles.json", '{"en":["en/2019-01/"]}', seconds=10)
    assert served.get("/pagefind/en/2020-09/pagefind.js")[0] == 404  # the old part is gone


def test_stopping_leaves_no_temporary_files_even_while_indexing(make_site: MakeSite, tmp_path: Path) -> None:
    from generator.build.indexer import find_pagefind

    root = make_site({"content/world/a.md": article_text("Alpha", body="Original text.\n")})
    temporary, slow, private = tmp_path / "tmp", tmp_path / "slow", tmp_path / "private"
    temporary.mkdir()
    private.mkdir()
    # Pagefind, once `slow` exists, reads the pages, then takes two seconds to write the index:
    # the preview is stopped in between, and its temporary folder must not come back.
    wrapper = tmp_path / "pagefind"
    wrapper.write_text(
        f"""#!/bin/sh
if [ -e "{slow}" ] && [ "$1" = --site ]; then
  copy="$(mktemp -d "{private}/site.XXXXXX")"; cp -r "$2/." "$copy"; shift 2; sleep 2
  exec "{find_pagefind()}" --site "$copy" "$@"
fi
exec "{find_pagefind()}" "$@"
""",
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    process, url = start(root, TMPDIR=str(temporary), PAGEFIND_BINARY_PATH=str(wrapper))
    server = Served(process, url)
    server.wait_for("/pagefind/bundles.json", "en/2020-09/", seconds=10)
    slow.touch()
    (root / "content/world/a.md").write_text(article_text("Alpha", body="Edited.\n"), encoding="utf-8")
    server.wait_for("/world/2020/09/03/a/", "Edited.", seconds=10)
    time.sleep(0.5)  # Pagefind has started on the edited part
    assert list(temporary.iterdir())
    process.send_signal(signal.SIGINT)
    assert process.wait(20) == 0
    time.sleep(3)  # a Pagefind left running would write its index now
    assert list(temporary.iterdir()) == []


# guards -----------------------------------------------------------------------------------------


@pytest.fixture
def dev_server() -> Iterator[DevServer]:
    """The server alone, in this process, over a few files."""
    server = DevServer(lambda changed: FILES, "127.0.0.1", 0)
    server.rebuild()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def ask(port: int, host_header: str | None, address: str = "127.0.0.1") -> int:
    connection = http.client.HTTPConnection(address, port, timeout=5)
    connection.putrequest("GET", "/", skip_host=True)
    if host_header is not None:
        connection.putheader("Host", host_header)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:{port}", 200), ("localhost:{port}", 200), ("[::1]:{port}", 200), ("192.168.1.20:{port}", 200),
        ("digest.localhost:{port}", 200), (None, 200), ("attacker.example:{port}", 421), ("evil.com", 421),
        ("localhost.evil.com:{port}", 421), ("127.0.0.1.nip.io:{port}", 421),
    ],
)  # fmt: skip
def test_only_the_previews_own_host_names_are_answered(
    dev_server: DevServer, host: str | None, status: int
) -> None:
    port = dev_server.httpd.server_address[1]
    assert ask(port, host.format(port=port) if host else None) == status


def test_an_idle_connection_is_closed(dev_server: DevServer) -> None:
    dev_server.idle_seconds = 0.5
    port = dev_server.httpd.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
        started = time.monotonic()
        assert idle.recv(100) == b""  # the server hung up
        assert time.monotonic() - started < 3
    assert ask(port, "localhost") == 200  # and still serves


def raw(port: int, request: bytes) -> bytes:
    """The answer's status line to `request`, sent as it is."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        return conn.recv(4096).split(b"\r\n", 1)[0]


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"GET http://evil.example/ HTTP/1.1\r\nHost: localhost\r\n\r\n", b"421"),
        (b"GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n", b"421"),
        (b"GET http://localhost/ HTTP/1.1\r\nHost: evil.example\r\n\r\n", b"200"),
        (b"GET http://127.0.0.1/ HTTP/1.1\r\n\r\n", b"200"),
        (b"GET ftp://localhost/ HTTP/1.1\r\nHost: localhost\r\n\r\n", b"400"),
        (b"GET * HTTP/1.1\r\nHost: localhost\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n", b"400"),
    ],
    ids=["absolute-foreign", "absolute-foreign-both", "absolute-own", "absolute-no-host", "ftp", "star",
         "two-hosts", "two-same-hosts"],
)  # fmt: skip
def test_foreign_absolute_targets_and_two_host_headers_are_refused(
    dev_server: DevServer, request_head: bytes, status: bytes
) -> None:
    assert raw(dev_server.httpd.server_address[1], request_head).split(b" ")[1] == status


def test_a_request_whose_headers_drip_is_cut_off(dev_server: DevServer) -> None:
    dev_server.head_seconds = 0.5
    port = dev_server.httpd.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        started = time.monotonic()
        slow.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        with contextlib.suppress(OSError):  # the server hangs up between two lines
            for n in range(20):
                time.sleep(0.3)  # each line well within the idle limit of 20 s
                slow.sendall(b"X-Drip-%d: x\r\n" % n)
        assert slow.recv(100) == b""
        assert time.monotonic() - started < 3
    assert ask(port, "localhost") == 200  # and still serves


@pytest.mark.parametrize(("host", "address", "warned"), [("0", "127.0.0.1", True), ("::", "::1", True),
                                                        ("::", "127.0.0.1", True), ("::1", "::1", False)])  # fmt: skip
def test_every_interface_and_ipv6(make_site: MakeSite, host: str, address: str, warned: bool) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    root = make_site({"content/world/a.md": article_text("Alpha")})
    process, url = start(root, "--host", host)
    try:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        deadline = time.monotonic() + 10
        while ask(port, "localhost", address) != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ask(port, "localhost", address) == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
    assert process.stderr is not None
    err = process.stderr.read()
    assert ("serving on all interfaces" in err) == warned and "Traceback" not in err


def test_rebuilds_with_worker_processes_print_no_traceback(make_site: MakeSite) -> None:
    files = {f"content/world/a{i}.md": article_text(f"Article {i}", tags="[t1]") for i in range(260)}
    root = make_site(files)
    process, _ = start(root)
    assert process.stdout is not None and process.stderr is not None
    try:
        assert "Built" in process.stdout.readline()
        time.sleep(1.0)  # the watcher starts after the first build
        config = root / "config.yaml"
        config.write_text(config.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
        assert select.select([process.stdout], [], [], 20)[0], "no rebuild within 20 s"
        assert "(config)" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert "Traceback" not in process.stderr.read()
