"""An SMTP server on 127.0.0.1 that fails on purpose, step by step, as the test scripts it.

`Postbox.script` maps (recipient, step) to what to do at that step of that recipient's next try:
"drop" (close the connection), "reset" (close it with a TCP reset), "stall" (say nothing), or an
SMTP answer such as "451 4.3.0 try later". Steps are "rcpt", "data" (the 354 answer) and "end"
(the answer after the message's final dot). Each action is used once. A message whose text was
received whole is kept in `taken` unless the server refuses it, even when the answer to it is then
dropped: what a real server would have delivered. `closed` makes the server refuse every new connection.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from tests.hostile import listening


@dataclass
class Postbox:
    port: int = 0
    script: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    taken: dict[str, list[bytes]] = field(default_factory=dict)
    connections: int = 0
    closed: bool = False

    def act(self, recipient: str, step: str) -> str:
        actions = self.script.get((recipient, step), [])
        return actions.pop(0) if actions else ""


@contextmanager
def postbox() -> Iterator[Postbox]:
    box = Postbox()

    def serve(conn: socket.socket) -> None:
        if box.closed:
            conn.close()
            return
        box.connections += 1
        _session(box, conn)

    with listening(serve) as box.port:
        yield box


class _Gone(Exception):
    pass


def _session(box: Postbox, conn: socket.socket) -> None:
    reader = conn.makefile("rb")
    with conn, suppress(OSError, _Gone):
        conn.settimeout(30)
        conn.sendall(b"220 postbox ready\r\n")
        recipient = ""
        while line := reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250-postbox\r\n250 8BITMIME\r\n")
            elif verb == b"MAIL":
                recipient = ""
                conn.sendall(b"250 OK\r\n")
            elif verb == b"RCPT":
                recipient = line.split(b"<", 1)[1].split(b">", 1)[0].decode()
                _answer(box, conn, recipient, "rcpt", b"250 OK")
            elif verb == b"DATA":
                if not _answer(box, conn, recipient, "data", b"354 go on"):
                    continue
                data = b""
                while (part := reader.readline()) not in (b".\r\n", b""):
                    data += part
                action = box.act(recipient, "end")
                if action in ("", "drop", "reset", "stall"):  # taken, whether or not it says so
                    box.taken.setdefault(recipient, []).append(data)
                _do(conn, action, b"250 taken")
            elif verb == b"RSET":
                conn.sendall(b"250 OK\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"502 not here\r\n")


def _answer(box: Postbox, conn: socket.socket, recipient: str, step: str, fine: bytes) -> bool:
    """Answer `fine`, or do what the script says; whether the answer was `fine`."""
    return _do(conn, box.act(recipient, step), fine)


def _do(conn: socket.socket, action: str, fine: bytes) -> bool:
    if action == "drop":
        raise _Gone
    if action == "reset":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise _Gone
    if action == "stall":
        conn.recv(1)  # until the client gives up, or the server closes
        raise _Gone
    conn.sendall((action.encode() or fine) + b"\r\n")
    return not action
