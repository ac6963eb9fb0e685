"""Running Pagefind: the program, its scratch folders, what it reads of a page, and its runs.

`index_parts` indexes parts of the site's article pages, each into a bundle of its
own, running as many Pagefind processes at a time as there are cores, in a scratch
folder on a memory file system where there is one. `search.py` decides which parts
to index; this module only indexes them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.base.errors import SiteError, SourceLocation
from generator.base.lock import process_alive
from generator.base.model import OutputFile

BUNDLE_DIR = "pagefind"
# What Pagefind writes besides the index that the theme's own search script does not use.
_UNUSED = (
    "pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.", "playground",
)  # fmt: skip


class SearchError(SiteError):
    """The search index could not be built."""


@dataclass(frozen=True, slots=True)
class Index:
    """What indexing did: the parts with no text, and how long it took."""

    empty: tuple[str, ...]
    seconds: float


def tool_key() -> str:
    """The Pagefind program, as a part's key knows it."""
    executable = find_pagefind()
    stat = executable.stat()
    return f"{executable}|{stat.st_size}|{stat.st_mtime_ns}"


def find_pagefind() -> Path:
    """The Pagefind program: `PAGEFIND_BINARY_PATH`, else the one that `pip install 'pagefind[bin]'`
    put in its package, else one on the PATH; the order of the `pagefind` package's own
    `get_executable`, without importing that (it imports asyncio and logging: 10-20 ms of every
    build with search)."""
    given = os.environ.get("PAGEFIND_BINARY_PATH")
    executable = Path(given) if given else _packaged_pagefind()
    if executable is None:
        found = shutil.which("pagefind_extended") or shutil.which("pagefind")
        executable = Path(found) if found else None
    if executable is None or not executable.is_file():
        raise SearchError(
            "search needs the Pagefind program, which is not installed",
            hint="run: pip install 'pagefind[bin]'  (or set 'search: false' in config.yaml)",
        )
    return executable


def _packaged_pagefind() -> Path | None:
    for package in ("pagefind_bin_extended", "pagefind_bin"):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for name in ("pagefind_extended", "pagefind", "pagefind_extended.exe", "pagefind.exe"):
                if (Path(folder) / name).is_file():
                    return Path(folder) / name
    return None


def index_parts(
    todo: Mapping[str, Sequence[str]],
    text: Callable[[str], bytes],
    deliver: Callable[[str, Sequence[OutputFile]], None],
    work_dir: Path,
    background: bool = False,
    extra: Callable[[str, Sequence[str]], Mapping[str, bytes]] | None = None,
) -> Index:
    """Index each part of `todo` (name -> output paths of its pages) into its own Pagefind bundle,
    and hand each bundle's files to `deliver` as soon as it is made, with the files that `extra`
    adds (given the part's name and files): their bytes, read once.

    Pagefind reads and writes in a scratch folder on a memory file system where
    there is one (see `scratch_root`; else in `work_dir`): on this kind of disk,
    its threads creating thousands of files at once in one folder cost more than
    the indexing. `text(path)` gives what it reads of a page (see `search_text`).
    A part's pages are written there just before its turn, and its folders are
    removed once `deliver` returns, so the scratch space holds a few parts at a
    time. `background` runs Pagefind at a low priority, so that it leaves the
    cores to a preview's rebuilds.
    """
    started = time.perf_counter()
    executable = find_pagefind()
    root = scratch_root(work_dir, max(map(len, todo.values())))
    work = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=root))
    try:

        def prepare(name: str) -> list[str]:
            source = work / "pages" / name
            for path in todo[name]:  # text, not `Path`s: thousands of pages
                target = os.path.join(source, path)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as page:
                    page.write(text(path))
            lang = name.split("/")[0]
            command = [str(executable), "--site", str(source), "--output-path", str(work / "out" / name)]
            return [*command, "--force-language", lang, "--silent"]

        empty = []
        largest_first = sorted(todo, key=lambda name: (-len(todo[name]), name))  # no core idle at the end
        for name, ok in _run_all(largest_first, prepare, executable, background):
            out = work / "out" / name
            if ok:
                made = _bundle_files(out)
                found = {rel: _read(os.path.join(out, rel)) for rel in made}
                found.update(extra(name, made) if extra else {})
                deliver(
                    name,
                    [OutputFile(PurePosixPath(BUNDLE_DIR, name, rel), found[rel]) for rel in sorted(found)],
                )
            else:
                empty.append(name)
            shutil.rmtree(work / "pages" / name, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)
        return Index(tuple(empty), time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


SCRATCH_PREFIX = "digest-search-"
SCRATCH_PAGE_BYTES = 64 * 1024  # room a page takes in the scratch folder, with its share of the index


def scratch_root(fallback: Path, pages: int) -> Path:
    """Where indexing's scratch folders go: `DIGEST_SCRATCH` if set; else a memory file system
    (`$XDG_RUNTIME_DIR`, `/dev/shm`) that is writable and has room for four parts of `pages` pages;
    else `fallback` (beside the output). Scratch folders that runs which died left there are
    removed first."""
    override = os.environ.get("DIGEST_SCRATCH")
    memory = [os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"]  # noqa: S108 - mkdtemp makes a private folder
    candidates = [override] if override else memory
    for candidate in candidates:
        if not candidate or not os.path.isdir(candidate) or not os.access(candidate, os.W_OK | os.X_OK):
            continue
        with contextlib.suppress(OSError):
            room = os.statvfs(candidate)
            if room.f_bavail * room.f_frsize > 4 * pages * SCRATCH_PAGE_BYTES:  # parts in flight
                remove_stale(Path(candidate))
                return Path(candidate)
    return fallback


def remove_stale(root: Path) -> None:
    """Remove this user's scratch folders below `root` whose process has ended."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            pid = entry.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
            if not entry.name.startswith(SCRATCH_PREFIX) or not pid.isdigit() or process_alive(int(pid)):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid == os.getuid() and entry.is_dir(
                    follow_symlinks=False
                ):
                    shutil.rmtree(entry.path, ignore_errors=True)


_ATTRIBUTE = b"data-pagefind-"
_MARKS = (b"meta", b"filter", b"sort")  # what an element outside the body elements may give
_TAG_NAME = re.compile(rb"[a-zA-Z][a-zA-Z0-9-]*")
_HTML_TAG = re.compile(rb"<html\b[^>]*>", re.I)
_VOID = frozenset(
    {b"meta", b"link", b"img", b"input", b"br", b"hr", b"source", b"area", b"base", b"col", b"embed", b"wbr"}
)


def search_text(html: bytes) -> bytes:
    """What Pagefind reads of a page: each element marked `data-pagefind-body`, and each element
    outside them that gives metadata, a filter or a sort key, in a page of their own under the
    page's `<html>` tag (its language). A page with no `data-pagefind-body`, or one whose marked
    element does not close, is given whole: Pagefind then reads all of it, as it would have."""
    marked = list(_marked(html))
    pieces: list[bytes] = []
    inside: list[tuple[int, int]] = []
    for start, opened, tag, kind in marked:
        if kind != b"body" or any(a <= start < b for a, b in inside):
            continue
        end = _element_end(html, tag, opened)
        if end is None:
            return html
        inside.append((start, end))
        pieces.append(_without_ignored(html, start, end, marked))
    if not pieces:
        return html
    for start, opened, tag, kind in marked:
        if kind not in _MARKS or any(a <= start < b for a, b in inside):
            continue
        end = opened if tag.lower() in _VOID else _element_end(html, tag, opened)
        if end is not None:
            inside.append((start, end))
            pieces.append(html[start:end])
    opening = _HTML_TAG.search(html)
    head = b'<head><meta charset="utf-8"></head><body>'
    return (opening.group(0) if opening else b"<html>") + head + b"\n".join(pieces) + b"</body></html>"


def _without_ignored(html: bytes, start: int, end: int, marked: list[tuple[int, int, bytes, bytes]]) -> bytes:
    """`html[start:end]` without the elements in it marked `data-pagefind-ignore` that hold no other
    mark: Pagefind leaves their text out, so a change there (the "Also in" line of a translated
    article) must not count as a change of what the index holds."""
    kept: list[bytes] = []
    at = start
    for begin, opened, tag, kind in marked:
        if kind != b"ignore" or not at <= begin < end:
            continue
        stop = _element_end(html, tag, opened)
        if stop is None or stop > end or any(begin < other < stop for other, *_ in marked):
            continue
        kept.append(html[at:begin])
        at = stop
    kept.append(html[at:end])
    return b"".join(kept)


def _marked(html: bytes) -> Iterator[tuple[int, int, bytes, bytes]]:
    """Each opening tag with a `data-pagefind-*` attribute, in order: where it starts and ends, its
    name, and the attribute's kind (`body`, `meta` ...). Found with `bytes.find`, which is many
    times faster than a regular expression tried at every `<` of the page."""
    at = html.find(_ATTRIBUTE)
    while at != -1:
        start = html.rfind(b"<", 0, at)
        close = html.find(b">", at)
        name = _TAG_NAME.match(html, start + 1) if start != -1 else None
        if name and close != -1 and html.find(b">", start, at) == -1 and html[at - 1 : at].isspace():
            kind = _TAG_NAME.match(html, at + len(_ATTRIBUTE))
            yield start, close + 1, name.group(0), kind.group(0) if kind else b""
        at = html.find(_ATTRIBUTE, at + len(_ATTRIBUTE))


def _element_end(html: bytes, tag: bytes, start: int) -> int | None:
    """Where the element whose opening tag ends at `start` ends (after its closing tag)."""
    pattern = re.compile(rb"<(/?)" + re.escape(tag) + rb"(?=[\s>/])", re.I)
    depth = 1
    for found in pattern.finditer(html, start):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            close = html.find(b">", found.end())
            return None if close < 0 else close + 1
    return None


def _run_all(
    names: Sequence[str], prepare: Callable[[str], list[str]], executable: Path, background: bool
) -> Iterator[tuple[str, bool]]:
    """Run Pagefind for each part (`prepare` writes its pages and gives the command), as many at a
    time as there are cores; say of each part, in turn, if it had text. The next part is started
    before a finished one is handed over, so that the cores index while the caller takes it."""
    pending = list(names)
    active: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start_more() -> None:
        while pending and len(active) < (os.cpu_count() or 1):
            name = pending.pop(0)
            process = subprocess.Popen(prepare(name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
            if background and hasattr(os, "setpriority"):
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, process.pid, 10)
            active.append((name, process))

    try:
        start_more()
        while active:
            name, process = active.pop(0)
            output = process.communicate()[0].decode("utf-8", "replace").strip()
            if process.returncode and "not able to build an index" not in output:
                raise SearchError(
                    f"Pagefind failed to index {name} (exit {process.returncode}): {output[-500:]}",
                    SourceLocation(executable),
                    "set 'search: false' in config.yaml to build without search",
                )
            start_more()
            yield name, not process.returncode  # no text in the pages: the theme's article.html lacks it
    finally:
        for _, other in active:
            other.kill()
            other.wait()


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _bundle_files(folder: Path) -> list[str]:
    found = []
    start = len(os.path.join(folder, ""))
    for base, _, names in os.walk(folder):
        prefix = os.path.join(base, "")[start:]
        found += [prefix + name for name in names if not (prefix + name).startswith(_UNUSED)]
    return sorted(found)
