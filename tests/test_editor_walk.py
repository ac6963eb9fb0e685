"""A new editor's first walk, as the README leads it, with the real command in processes of its own:
init, new (which says where the preview shows the draft), serve (the draft is there, with its
banner), build (it is not)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def digest(cwd: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_init_new_serve_shows_the_draft_marked_and_build_leaves_it_out(tmp_path: Path) -> None:
    digest(tmp_path, "init", "walk")
    site = tmp_path / "walk"
    said = digest(site, "new", "Первый материал", "--collection", "news")
    address = re.search(r"http://127\.0\.0\.1:8000/(\S+)", said)
    assert address, said
    server = subprocess.Popen([sys.executable, "-m", "generator", "serve", "--port", "0"], cwd=site,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert server.stdout is not None
        line = ""
        deadline = time.monotonic() + 60
        while "Serving" not in line and time.monotonic() < deadline:
            line = server.stdout.readline()
        base = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        assert base, line
        page = ""
        while "<h1>" not in page and time.monotonic() < deadline:  # the first build may still run
            try:
                with urllib.request.urlopen(base.group(1) + address.group(1), timeout=10) as answer:
                    page = answer.read().decode("utf-8")
            except OSError:
                time.sleep(0.2)
        assert "<h1>Первый материал</h1>" in page
        assert 'class="preview-status" role="status"' in page and "Draft: not published" in page
    finally:
        server.terminate()
        server.wait(timeout=20)
    digest(site, "build")
    built = site / "site"
    assert not (built / address.group(1)).exists()
    assert not any("Первый материал" in p.read_text(encoding="utf-8") for p in built.rglob("*.html"))
    assert not any("preview-status" in p.read_text(encoding="utf-8") for p in built.rglob("*.html"))
