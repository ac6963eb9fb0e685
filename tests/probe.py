"""The hostile-user probe of issue 29, run again with new cases of each kind: `python -m tests.probe`.

Each case runs the real `digest` command in a process of its own against a site in a temporary
folder, and against misbehaving servers on 127.0.0.1 (tests/hostile.py, tests/smtp_hostile.py);
the table says, for each, whether it ended within its bound, without a traceback, with an error
that names what is wrong, with nothing sent twice and no temporary file left after the next run.
Exit status 1 if any case failed. Not part of the suite (it takes a minute); its table goes into
the issue's note.
"""

from __future__ import annotations

import io
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests import hostile
from tests.smtp_hostile import postbox

REPO = Path(__file__).resolve().parent.parent
CONFIG = "title: Probe\nbase_url: https://probe.example/\nsearch: false\ncollections: [{key: world, title: World}]\n"
ARTICLE = "---\ntitle: {title}\ndate: 2020-09-0{n}\ncollection: world\n---\n\n{body}\n"
TIMEOUT = 1.0  # import: timeout in the cases, so that the bound is 3 s (+1 s to start Python)


@dataclass
class Row:
    kind: str
    case: str
    seconds: float
    bound: float
    ok: bool
    said: str


def digest(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[int, str, float]:
    """`digest ARGS -s root` in its own process: (exit code, all it printed, seconds)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "generator", *args, "-s", str(root)],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def new_site(folder: Path, extra: str = "") -> Path:
    root = Path(tempfile.mkdtemp(dir=folder))
    (root / "content" / "world").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG + extra, encoding="utf-8")
    for n in (1, 2):
        text = ARTICLE.format(title=f"Story {n}", n=n, body=f"Words of story {n}. " * 30)
        (root / "content" / "world" / f"s{n}.md").write_text(text, encoding="utf-8")
    return root


def leftovers(root: Path) -> list[str]:
    """Temporary files a run left: beside the output, in it, in the cache, in content/."""
    found = [p.name for p in root.iterdir() if p.name.startswith(".") and p.name != ".digest-cache"]
    for folder in (root / "site", root / ".digest-cache", root / "content"):
        if folder.is_dir():
            found += [
                p.name for p in folder.rglob("*") if p.name.endswith(".tmp") or ".digest-work" in p.name
            ]
    return found


def clean(said: str) -> bool:
    return "Traceback" not in said and " object at 0x" not in said


# Kinds of case -----------------------------------------------------------------------------------


def import_cases(folder: Path) -> list[Row]:
    def stream_headers_forever(conn: socket.socket, line: str) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
        hostile.send_all(conn, hostile.drip(b"X: " + b"y" * 60000 + b"\r\n", 0.05, 200))

    def one_byte_every_third_second(conn: socket.socket, line: str) -> None:
        body = b"<html><body><article><p>" + b"a word " * 500 + b"</p></article></body></html>"
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body))
        hostile.send_all(conn, hostile.drip(body, 0.3, 1))

    def chunked_drip(conn: socket.socket, line: str) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        hostile.send_all(conn, (b"1\r\nx\r\n" for _ in range(10000) if time.sleep(0.2) is None))

    def redirect_loop(conn: socket.socket, line: str) -> None:
        time.sleep(0.3)
        conn.sendall(
            b"HTTP/1.1 301 Moved\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    def status_line_drip(conn: socket.socket, line: str) -> None:
        hostile.send_all(conn, hostile.drip(b"HTTP/1.1 200 OK" + b" " * 5000, 0.2, 1))

    def garbage(conn: socket.socket, line: str) -> None:
        conn.sendall(b"\x00\xff not http at all\r\n\r\n")

    def slow_gzip_bomb(conn: socket.socket, line: str) -> None:
        bomb = zlib.compress(b"\0" * 50_000_000, 9)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n"
        conn.sendall(head % len(bomb))
        hostile.send_all(conn, hostile.drip(bomb, 0.01, 4096))

    cases: dict[str, hostile.Behave] = {
        "endless header line": stream_headers_forever,
        "1 byte every 0.3 s": one_byte_every_third_second,
        "chunked body, a byte every 0.2 s": chunked_drip,
        "redirect loop, 0.3 s a hop": redirect_loop,
        "status line that drips": status_line_drip,
        "stall after the request": hostile.stall,
        "reset": hostile.reset,
        "not HTTP": garbage,
        "slow TLS handshake": hostile.slow_tls,
        "slow deflate bomb": slow_gzip_bomb,
    }
    rows = []
    for name, behave in cases.items():
        root = new_site(folder, f"import: {{timeout: {TIMEOUT}, delay: 0}}\n")
        with hostile.hostile(behave) as base:
            url = (base.replace("http", "https", 1) if behave is hostile.slow_tls else base) + "/story"
            code, said, took = digest(root, "import", url)
        bound = 3 * TIMEOUT + 1.5
        ok = code == 1 and took < bound and clean(said) and f"cannot import {url}" in said
        ok = ok and not list((root / "content").rglob("*.md"))[2:] and leftovers(root) == []
        rows.append(Row("import", name, took, bound, ok, said.strip().splitlines()[0][:110]))
    return rows


def concurrency_cases(folder: Path) -> list[Row]:
    from tests.newsroom import Route, newsroom

    rows = []
    with newsroom() as room:
        for parallel in (2, 4):
            root = new_site(folder, "import: {timeout: 5, delay: 0}\n")
            path = f"/2024/04/11/opposition-office-vilnius/?n={parallel}"
            room.routes[path] = Route(body=room.page("opengraph-only.html"), delay=0.3)
            started = time.monotonic()
            command = [sys.executable, "-m", "generator", "import", room.url(path), "-s", str(root)]
            runs = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    for _ in range(parallel)]  # fmt: skip
            said = "".join(run.communicate(timeout=60)[0] for run in runs)
            took = time.monotonic() - started
            made = [p for p in (root / "content").rglob("*.md") if p.name not in ("s1.md", "s2.md")]
            ok = len(made) == 1 and said.count(": skipped: ") == parallel - 1 and clean(said)
            rows.append(Row("import", f"{parallel} imports of one story at once", took, 60, ok,
                            f"{len(made)} article, {said.count(': skipped: ')} skipped"))  # fmt: skip
    return rows


def _jpeg(size: tuple[int, int] = (800, 600)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))  # fmt: skip


def _flipped_png() -> bytes:
    """A real PNG with one byte of its pixel data changed (its CRC no longer matches)."""
    from PIL import Image

    out = io.BytesIO()
    Image.linear_gradient("L").resize((64, 64)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[data.index(b"IDAT") + 10] ^= 0xFF
    return bytes(data)


def image_cases(folder: Path) -> list[Row]:
    from PIL import Image

    gif, webp_as_jpg = io.BytesIO(), io.BytesIO()
    Image.new("P", (10, 10)).save(gif, "GIF")
    Image.new("RGB", (50, 50)).save(webp_as_jpg, "WEBP")
    jpeg = _jpeg()
    cases = {
        "JPEG cut in half": ("a.jpg", jpeg[: len(jpeg) // 2], "is cut short or damaged"),
        "JPEG without its last 2 bytes": ("a.jpg", jpeg[:-2], "is cut short or damaged"),
        "empty file": ("a.png", b"", "is not an image"),
        "HTML saved as .png": ("a.png", b"<!doctype html><p>404</p>", "is not an image"),
        "WebP under .jpg": ("a.jpg", webp_as_jpg.getvalue(), "is a WEBP image under a .jpg name"),
        "GIF": ("a.gif.png", gif.getvalue(), "is a GIF image"),
        "PNG header of 40000 x 40000": ("a.png", _png_claiming(40000, 40000), "has 40,000 x 40,000 pixels"),
        "PNG whose pixels are missing": ("a.png", _png_claiming(64, 64), "is cut short or damaged"),
        "PNG with a flipped byte": ("a.png", _flipped_png(), "is cut short or damaged"),
    }
    rows = []
    for name, (file, data, expected) in cases.items():
        for command in ("check", "build"):
            root = new_site(folder)
            (root / "content" / "world" / file).write_bytes(data)
            (root / "content" / "world" / "s1.md").write_text(
                ARTICLE.format(title="Pictured", n=1, body=f"![A picture]({file})"), encoding="utf-8"
            )
            code, said, took = digest(root, command)
            ok = code == 1 and clean(said) and f"s1.md:7: error: '{file}' {expected}" in said
            ok = ok and not (root / "site").exists() and leftovers(root) == []
            line = next((x for x in said.splitlines() if "error:" in x), said.strip()[:110])
            rows.append(
                Row("image", f"{name} ({command})", took, 60, ok, line.split("/content/", 1)[-1][:110])
            )
    return rows


def mail_cases(folder: Path) -> list[Row]:
    rows = []
    scripts: dict[str, dict[tuple[str, str], list[str]]] = {
        "drop after the text, twice over": {("b@probe.example", "end"): ["drop"], ("c@probe.example", "end"): ["drop"]},
        "reset at RCPT, then 451": {("b@probe.example", "rcpt"): ["reset", "451 4.3.0 later"]},
        "421 at DATA": {("b@probe.example", "data"): ["421 4.3.2 shutting down"]},
        "550 at RCPT, 554 after the text": {("b@probe.example", "rcpt"): ["550 5.1.1 unknown"],
                                             ("c@probe.example", "end"): ["554 5.7.1 spam"]},
        "stall at DATA, three times": {("b@probe.example", "data"): ["stall"] * 3},
    }  # fmt: skip
    readers = "a@probe.example\nb@probe.example\nc@probe.example\nd@probe.example\n"
    for name, script in scripts.items():
        with postbox() as box:
            smtp = f", smtp: {{host: 127.0.0.1, port: {box.port}, security: none, timeout: 1}}}}"
            root = new_site(folder, "newsletter: {from: 'P <p@probe.example>', unsubscribe: 'https://probe.example/bye/'"
                            + smtp + "\n")  # fmt: skip
            (root / "config.yaml").write_text((root / "config.yaml").read_text().replace(
                "{key: world, title: World}", "{key: world, title: World, edition: weekly}"))  # fmt: skip
            people = root / "readers.txt"
            people.write_text(readers, encoding="utf-8")
            box.script.update({k: list(v) for k, v in script.items()})
            args = ("newsletter", "world", "--send", "--to", str(people))
            first, second = digest(root, *args), digest(root, *args)
            twice = [a for a, taken in box.taken.items() if len(taken) > 1]
            said = first[1] + second[1]
            counted = "Failed: sent" in first[1] or first[0] == 0
            ok = not twice and clean(said) and counted and leftovers(root) == []
            summary = next((x for x in first[1].splitlines() if x.startswith(("Failed:", "Sent"))), "")
            rows.append(
                Row("mail", name, first[2] + second[2], 120, ok, f"{summary[:80]}; twice: {twice or 'none'}")
            )
    recipients = {
        "CR inside a line": "a@probe.example\rb@probe.example\n",
        "two addresses in a line": "a@probe.example; b@probe.example\n",
        "an SMTP command": "MAIL FROM:<x@evil.example>\n",
        "a tab and a NUL": "a@probe.example\t\x00\n",
        "a group": "friends: a@probe.example, b@probe.example;\n",
    }
    for name, text in recipients.items():
        root = new_site(folder, "newsletter: {from: 'P <p@probe.example>', unsubscribe: 'https://probe.example/bye/',"
                        " smtp: {host: 127.0.0.1, port: 9, security: none}}\n")  # fmt: skip
        (root / "config.yaml").write_text((root / "config.yaml").read_text().replace(
            "{key: world, title: World}", "{key: world, title: World, edition: weekly}"))  # fmt: skip
        (root / "readers.txt").write_text(text, encoding="utf-8", newline="")
        code, said, took = digest(root, "newsletter", "world", "--send", "--to", str(root / "readers.txt"))
        ok = code == 1 and clean(said) and "readers.txt:1: error:" in said and "Nothing was sent" in said
        line = next((x for x in said.splitlines() if "error:" in x), said.strip()[:110])
        rows.append(Row("recipients", name, took, 60, ok, line.split("readers.txt", 1)[-1][:110]))
    return rows


def preview_cases(folder: Path) -> list[Row]:
    root = new_site(folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "generator", "serve", "-s", str(root), "--port", str(port)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    rows = []
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        cases = {
            "absolute target, foreign host": (b"GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"421"),
            "absolute https target, foreign": (b"GET https://evil.example:443/x HTTP/1.1\r\nHost: localhost\r\n\r\n", b"421"),
            "Host twice, second foreign": (b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n", b"400"),
            "Host with a foreign name": (b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", b"421"),
            "CONNECT to a foreign host": (b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example\r\n\r\n", b"501"),
        }  # fmt: skip
        for name, (request, status) in cases.items():
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(request)
                answer = conn.recv(200).split(b"\r\n", 1)[0]
            took = time.monotonic() - started
            rows.append(
                Row("preview", name, took, 5, answer.split(b" ")[1:2] == [status], answer.decode()[:60])
            )
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            try:
                for n in range(40):
                    time.sleep(1)
                    conn.sendall(b"X-Drip-%d: y\r\n" % n)
                closed = conn.recv(10) == b""
            except OSError:
                closed = True
        took = time.monotonic() - started
        rows.append(
            Row(
                "preview",
                "a header line every second",
                took,
                12,
                closed and took < 12,
                "closed" if closed else "open",
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return rows


def main() -> None:
    kinds: list[Callable[[Path], list[Row]]] = [
        import_cases,
        concurrency_cases,
        image_cases,
        mail_cases,
        preview_cases,
    ]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="digest-probe-") as folder:
        for kind in kinds:
            rows += kind(Path(folder))
    print("| kind | case | time | bound | result | said |\n|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.kind} | {row.case} | {row.seconds:.1f} s | {row.bound:g} s | "
              f"{'ok' if row.ok else 'FAILED'} | {row.said.replace('|', '/')} |")  # fmt: skip
    failed = [r for r in rows if not r.ok]
    print(f"\n{len(rows)} cases, {len(failed)} failed")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
