"""Hostile servers on 127.0.0.1: each connection is handed to a function that misbehaves on purpose.

`hostile(behave)` serves every connection in its own thread with `behave(conn, request_line)`;
`/robots.txt` is answered at once with 404 (everything allowed), so a test meets the misbehaviour
on the page it asks for. A behaviour ends when the client goes (a send fails) or after a minute.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

Behave = Callable[[socket.socket, str], None]


@contextmanager
def listening(serve: Callable[[socket.socket], None]) -> Iterator[int]:
    """A port on 127.0.0.1 whose every connection is served by `serve` in a thread of its own."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    served: list[tuple[socket.socket, threading.Thread]] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=serve, args=(conn,), daemon=True)
            served.append((conn, thread))
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        acceptor.join()
        listener.close()
        for conn, thread in served:  # end every behaviour: no thread outlives the server
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            thread.join(timeout=5)


@contextmanager
def hostile(behave: Behave) -> Iterator[str]:
    """The base URL (http://127.0.0.1:PORT) of a server that treats every request with `behave`."""

    def serve(conn: socket.socket) -> None:
        with conn, suppress(OSError):
            conn.settimeout(60)
            line = _request_line(conn)
            if " /robots.txt " in line:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            behave(conn, line)

    with listening(serve) as port:
        yield f"http://127.0.0.1:{port}"


def _request_line(conn: socket.socket) -> str:
    """The request's first line, after reading its headers (or the first bytes of a TLS hello)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk or chunk[:1] == b"\x16":  # gone, or a TLS ClientHello: no request line
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def drip(data: bytes, every: float, size: int = 8) -> Iterator[bytes]:
    """`data` in pieces of `size` bytes, one every `every` seconds, for at most a minute."""
    ends = time.monotonic() + 60
    for start in range(0, len(data), size):
        if time.monotonic() > ends:
            return
        time.sleep(every)
        yield data[start : start + size]


def send_all(conn: socket.socket, pieces: Iterator[bytes]) -> None:
    for piece in pieces:
        conn.sendall(piece)


def drip_body(conn: socket.socket, line: str) -> None:
    """Honest headers, then the body 8 bytes at a time, each well within any read timeout."""
    body = b"<html><body><article><p>" + b"word " * 2000 + b"</p></article></body></html>"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body))
    send_all(conn, drip(body, 0.1))


def endless_headers(conn: socket.socket, line: str) -> None:
    """A status line, then one header line every 0.1 s, never the blank line that ends them."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    send_all(conn, drip(b"".join(b"X-Pad-%d: x\r\n" % n for n in range(600)), 0.1, 14))


def stall(conn: socket.socket, line: str) -> None:
    """Read the request and never answer (until the client or the server closes the connection)."""
    conn.recv(1)


def reset(conn: socket.socket, line: str) -> None:
    """Read the request, then drop the connection with a TCP reset."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def slow_tls(conn: socket.socket, line: str) -> None:
    """Answer a TLS hello with a record header for 16 KB, then drip its bytes."""
    conn.sendall(b"\x16\x03\x03\x40\x00")
    send_all(conn, drip(b"\x02" * 16384, 0.1, 1))


def slow_redirects(conn: socket.socket, line: str) -> None:
    """Redirect /hop/N to /hop/N+1 after 0.2 s each: a chain within the limit, too slow in all."""
    path = line.split(" ")[1] if line.count(" ") >= 2 else "/hop/0"
    step = int(path.rsplit("/", 1)[-1]) if path.rsplit("/", 1)[-1].isdigit() else 0
    time.sleep(0.2)
    conn.sendall(
        b"HTTP/1.1 302 Found\r\nLocation: /hop/%d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        % (step + 1)
    )
