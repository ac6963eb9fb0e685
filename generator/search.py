"""Search stage: index the article pages with Pagefind, in parts by language and months.

Pagefind keeps one index per language and its browser script loads only the
index of the page's own `<html lang>`, stemmed by that language's rules. To
let a reader find Russian articles from an English page (and the other way
round) with each language's stemming, every language has bundles of its own
(`pagefind/en/...`, `pagefind/ru/...`), indexed with `--force-language`; the
theme's script loads one Pagefind instance per language and merges results.

Pagefind cannot update an index, and indexing takes a few milliseconds a
page, so a language's articles are indexed in parts of consecutive months
(`pagefind/en/2021-01/`): an edit re-indexes its own part only. Each
language's parts are merged in the browser (Pagefind's `mergeIndex`);
`pagefind/bundles.json` lists them.

Only article pages are indexed: list pages would only repeat their articles.
Inside a page, the theme marks what counts with `data-pagefind-body`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import SiteError, SiteWarning, SourceLocation
from .hashing import file_hash, stable_hash
from .model import OutputFile, Site, StaticFile
from .urls import output_file_for

BUNDLE_DIR = "pagefind"
Parts = Mapping[str, Sequence[str]]  # the article pages' paths by part name (`en/2021-01`)
BUNDLES_FILE = f"{BUNDLE_DIR}/bundles.json"
PART_PAGES = 250  # the least pages of a part; doubled until a language has at most MAX_PARTS parts
MAX_PARTS = 20
# What Pagefind writes besides the index that the theme's own search script does not use.
_UNUSED = (
    "pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.", "playground",
)  # fmt: skip


class SearchError(SiteError):
    """The search index could not be built."""


@dataclass(frozen=True, slots=True)
class Page:
    """An article page to index."""

    path: str  # output path
    lang: str  # as `language_of` gives it
    month: str  # of the article's date, "2021-03": parts are runs of months


@dataclass(frozen=True, slots=True)
class Index:
    """What indexing did: the parts with no text, and how long it took."""

    empty: tuple[str, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class Part:
    """A part of the index as a build made it: its key; its files' keys by output path; each of
    its pages' search key and the hash of the text Pagefind read of it (`search_text`), by path;
    and, for a part of recent edits, the Pagefind id of each outdated copy of a page in its base
    part, which readers are not shown."""

    key: str
    files: Mapping[str, str]
    pages: Mapping[str, str] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    hidden: Mapping[str, str] = field(default_factory=dict)
    tool: str = ""  # the Pagefind that made it: bundles of another are never mixed with its own


@dataclass(frozen=True, slots=True)
class Refresh:
    """The parts of an index brought up to date: every part, and what indexing did."""

    parts: Mapping[str, Part]
    index: Index | None  # None when every part was current
    indexed: tuple[str, ...] = ()  # the parts indexed anew (with text or not)

    def bundles(self) -> OutputFile:
        return bundles_file(sorted(self.parts))


Deliver = Callable[[Sequence[StaticFile], Mapping[str, str]], None]  # a part's files, and their keys


def refresh(
    found: Parts,
    page_keys: Mapping[str, str],
    last: Mapping[str, Part],
    read: Callable[[str], bytes],
    deliver: Deliver,
    work_dir: Path,
    is_current: Callable[[Part], bool] = lambda part: True,
    background: bool = False,
) -> Refresh:
    """Bring the index of the parts `found` up to date with the pages' keys.

    Shared by `digest build` (parts on disk) and `digest serve` (in memory);
    `page_keys` are the search keys of the article pages, `read` gives the
    bytes of a page or of a file of the last index. Each part's files are
    handed to `deliver` (with their keys) as soon as Pagefind made them, and
    are gone when it returns. Changes nothing it is given.

    A part is kept when its pages' keys are as they were indexed, or when the
    pages whose key changed still give Pagefind the same text (a page's key
    also covers what surrounds its text). When only a few pages' text changed
    (at most `RECENT_PAGES` a language, new pages included) in parts indexed
    before, those pages alone are indexed, into the language's part of recent
    edits (`en/recent`), which lists the Pagefind ids of their outdated copies in
    the base parts (`hidden.json`) for the search script to leave out. Otherwise
    the changed parts are indexed again, which folds the recent edits back in.
    """
    wanted = part_keys(found, page_keys)
    tool = _tool()
    texts: dict[str, str] = {}

    def text(path: str) -> bytes:
        data = search_text(read(path))
        texts[path] = hashlib.blake2b(data, digest_size=8).hexdigest()
        return data

    parts: dict[str, Part] = {}
    todo: dict[str, list[str]] = {}
    changes: dict[str, _Change] = {}
    for name, paths in found.items():
        before = last.get(name)
        if before is not None and before.key == wanted[name] and is_current(before):
            parts[name] = before
        elif before is not None and before.pages and before.tool == tool and is_current(before):
            change = _changes(paths, page_keys, before, text, texts)
            if change.pages or change.stale:
                changes[name] = change
            same_texts = {p: texts[p] for p in change.same}
            parts[name] = dataclasses.replace(  # the pages whose text is as indexed are current
                before, key=wanted[name] if not (change.pages or change.stale) else before.key,
                pages={**before.pages, **change.same}, texts={**before.texts, **same_texts},
            )  # fmt: skip
        else:
            todo[name] = list(paths)
    planned = {n: Part(wanted[n], {}, {p: page_keys.get(p, "") for p in todo[n]}, tool=tool) for n in todo}
    recent = _recent(changes) if not todo else None
    if changes and recent is None:  # too many, or other parts are indexed anyway: fold them back
        for name in changes:
            todo[name] = list(found[name])
            planned[name] = Part(wanted[name], {}, {p: page_keys.get(p, "") for p in found[name]}, tool=tool)
    for lang, (pages, stale) in sorted((recent or {}).items()):
        name = f"{lang}/{RECENT}"
        before = last.get(name)
        bases = {n: p for n, p in parts.items() if n.startswith(f"{lang}/")}
        hidden = _hidden_ids(stale, bases, before, read)
        key = stable_hash(
            _tool(), name, *(f"{p}|{t}" for p, t in sorted(pages.items())), *sorted(hidden.values())
        )
        if before is not None and before.key == key and is_current(before):
            parts[name] = before
            continue
        todo[name] = sorted(pages)
        planned[name] = Part(key, {}, {p: page_keys.get(p, "") for p in pages}, dict(pages), hidden, tool)
    if not todo:
        return Refresh(parts, None)
    made: dict[str, Part] = {}

    def take(name: str, files: Sequence[StaticFile]) -> None:
        keys = {str(f.path): file_hash(f.source) for f in files}
        deliver(files, keys)
        part = planned[name]
        made[name] = dataclasses.replace(
            part, files=keys, texts={p: texts[p] for p in part.pages if p in texts}
        )

    def extra(name: str, made_files: Sequence[str]) -> dict[str, bytes]:
        """A part of recent edits lists the ids to hide (none of its own, which a page whose text
        was made again as it was would share)."""
        if not name.endswith(f"/{RECENT}"):
            return {}
        own = {rel.removeprefix("fragment/").removesuffix(".pf_fragment") for rel in made_files}
        hidden = {p: i for p, i in planned[name].hidden.items() if i not in own}
        planned[name] = dataclasses.replace(planned[name], hidden=hidden)
        return {HIDDEN_FILE: json.dumps(sorted(hidden.values())).encode("utf-8") + b"\n"}

    index = index_parts(todo, text, take, work_dir, background, extra)
    return Refresh({**parts, **made}, index, tuple(sorted(todo)))


RECENT = "recent"  # the name of a language's part of recent edits
RECENT_PAGES = 100  # more changed pages than this in a language, and their parts are indexed again
HIDDEN_FILE = "hidden.json"


@dataclass(frozen=True, slots=True)
class _Change:
    """How a part's pages differ from what it holds: pages to index (path -> text hash), pages
    whose copy in it is outdated or gone, and pages whose key changed but not their text (path -> key)."""

    pages: Mapping[str, str]
    stale: frozenset[str]
    same: Mapping[str, str]


def _changes(
    paths: Sequence[str],
    page_keys: Mapping[str, str],
    before: Part,
    text: Callable[[str], bytes],
    texts: Mapping[str, str],
) -> _Change:
    pages: dict[str, str] = {}
    same: dict[str, str] = {}
    for path in paths:
        key = page_keys.get(path, "")
        if before.pages.get(path) == key:
            continue
        text(path)  # its hash, in `texts`
        if path in before.pages and before.texts.get(path) == texts[path]:
            same[path] = key
        else:
            pages[path] = texts[path]
    listed = set(paths)
    stale = frozenset(p for p in before.pages if p not in listed or p in pages)
    return _Change(pages, stale, same)


def _recent(changes: Mapping[str, _Change]) -> dict[str, tuple[dict[str, str], set[str]]] | None:
    """By language, the pages to index as recent edits and the stale copies to hide; None when a
    language has none to index (only pages gone) or more than `RECENT_PAGES`."""
    recent: dict[str, tuple[dict[str, str], set[str]]] = {}
    for name, change in changes.items():
        pages, stale = recent.setdefault(name.split("/")[0], ({}, set()))
        pages.update(change.pages)
        stale.update(change.stale)
    if any(not pages or len(pages) > RECENT_PAGES for pages, _ in recent.values()):
        return None
    return recent


def _hidden_ids(
    stale: set[str], bases: Mapping[str, Part], before: Part | None, read: Callable[[str], bytes]
) -> dict[str, str]:
    """The Pagefind id of each stale page's copy in its base part, by page path; the ids that the
    last part of recent edits found are taken from it, the others read from the parts' fragments."""
    known = dict(before.hidden) if before else {}
    hidden = {p: known[p] for p in stale if p in known}
    wanted = {_url_of(p): p for p in stale if p not in hidden}
    for part in bases.values():
        if not wanted:
            break
        if not any(p in part.pages for p in wanted.values()):
            continue
        for path in part.files:
            if path.endswith(".pf_fragment"):
                data = json.loads(gzip.decompress(read(path)).removeprefix(b"pagefind_dcd"))
                page = wanted.pop(data.get("url"), None)
                if page is not None:
                    hidden[page] = path.rsplit("/", 1)[1].removesuffix(".pf_fragment")
    return hidden


def _url_of(path: str) -> str:
    """The URL Pagefind gives the page at output `path` (relative to the site's root)."""
    return "/" + path.removesuffix("index.html")


@dataclass(frozen=True, slots=True)
class Report:
    """What the search stage of a build did."""

    pages: Mapping[str, int] = field(default_factory=dict)  # pages in the index, by language
    parts: tuple[int, int] = (0, 0)  # parts indexed in this build, parts in all
    seconds: float | None = None  # None when every part was current
    warnings: tuple[SiteError, ...] = ()


def language_of(lang: str) -> str:
    """The language a page is indexed as: the primary subtag of its `lang` (`pt-BR` -> `pt`).
    It names folders, so anything but two or three letters (config and articles are checked
    for that already) becomes `unknown`."""
    code = lang.split("-")[0].lower()
    return code if code.isascii() and code.isalpha() and 2 <= len(code) <= 3 else "unknown"


def pages_of(site: Site) -> list[Page]:
    """The article pages of `site`, as the index sees them (standalone pages are not results)."""
    default = site.config.language
    return [
        Page(output_file_for(site.urls[i]), language_of(a.lang or default), a.date.strftime("%Y-%m"))
        for i, a in site.articles.items()
        if a.kind == "article"
    ]


def part_keys(parts: Mapping[str, Sequence[str]], page_keys: Mapping[str, str]) -> dict[str, str]:
    """A key for each part: it changes when Pagefind or anything indexed of the part's pages does."""
    tool = _tool()
    return {
        name: stable_hash(tool, name, *(f"{p}|{page_keys.get(p, '')}" for p in paths))
        for name, paths in parts.items()
    }


def _tool() -> str:
    """The Pagefind program, as a part's key knows it."""
    executable = find_pagefind()
    stat = executable.stat()
    return f"{executable}|{stat.st_size}|{stat.st_mtime_ns}"


def parts(pages: Sequence[Page]) -> dict[str, list[str]]:
    """The pages' paths by part (`en/2021-01`): each language's months, oldest first, gathered
    into runs of at least `PART_PAGES` pages (more on large sites, to keep to `MAX_PARTS`).

    A run is named after its first month and ends where it reaches the size,
    so that new articles, which come in the newest months, change the last part only.
    """
    by_lang: dict[str, dict[str, list[str]]] = {}
    for page in pages:
        by_lang.setdefault(page.lang, {}).setdefault(page.month, []).append(page.path)
    found: dict[str, list[str]] = {}
    for lang, months in sorted(by_lang.items()):
        total = sum(len(paths) for paths in months.values())
        size = PART_PAGES * 2 ** max(0, math.ceil(math.log2(max(1.0, total / (PART_PAGES * MAX_PARTS)))))
        current: list[str] = []
        for month in sorted(months):
            if not current:
                name = f"{lang}/{month}"
                found[name] = current
            current += sorted(months[month])
            if len(current) >= size:
                current = []
    return found


def bundles_file(names: Sequence[str]) -> OutputFile:
    """`pagefind/bundles.json`: each language's parts, as folders below `pagefind/`."""
    listing: dict[str, list[str]] = {}
    for name in sorted(names):
        listing.setdefault(name.split("/")[0], []).append(f"{name}/")
    data = json.dumps(listing, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return OutputFile(PurePosixPath(BUNDLES_FILE), data + b"\n")


def find_pagefind() -> Path:
    """The Pagefind program (`pip install 'pagefind[bin]'`, or PAGEFIND_BINARY_PATH)."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        found = shutil.which("pagefind_extended") or shutil.which("pagefind")
        executable = Path(found) if found else None
    else:
        executable = get_executable()
    if executable is None or not executable.is_file():
        raise SearchError(
            "search needs the Pagefind program, which is not installed",
            hint="run: pip install 'pagefind[bin]'  (or set 'search: false' in config.yaml)",
        )
    return executable


def index_parts(
    todo: Mapping[str, Sequence[str]],
    text: Callable[[str], bytes],
    deliver: Callable[[str, Sequence[StaticFile]], None],
    work_dir: Path,
    background: bool = False,
    extra: Callable[[str, Sequence[str]], Mapping[str, bytes]] | None = None,
) -> Index:
    """Index each part of `todo` (name -> output paths of its pages) into its own Pagefind bundle,
    and hand each bundle's files to `deliver` as soon as it is made, with the files that `extra`
    adds (given the part's name and files).

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
            for path in todo[name]:
                target = source / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(text(path))
            lang = name.split("/")[0]
            command = [str(executable), "--site", str(source), "--output-path", str(work / "out" / name)]
            return [*command, "--force-language", lang, "--silent"]

        empty = []
        for name, ok in _run_all(sorted(todo), prepare, executable, background):
            out = work / "out" / name
            if ok:
                for rel, data in (extra(name, _bundle_files(out)) if extra else {}).items():
                    (out / rel).write_bytes(data)
                files = [
                    StaticFile(PurePosixPath(BUNDLE_DIR, name, rel), out / rel) for rel in _bundle_files(out)
                ]
                deliver(name, files)
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
    (`$XDG_RUNTIME_DIR`, `/dev/shm`) that is writable and has room for two parts of `pages` pages;
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
            if room.f_bavail * room.f_frsize > 2 * pages * SCRATCH_PAGE_BYTES:
                remove_stale(Path(candidate))
                return Path(candidate)
    return fallback


def remove_stale(root: Path) -> None:
    """Remove this user's scratch folders below `root` whose process has ended."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            pid = entry.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
            if not entry.name.startswith(SCRATCH_PREFIX) or not pid.isdigit() or _alive(int(pid)):
                continue
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_uid == os.getuid() and entry.is_dir(
                    follow_symlinks=False
                ):
                    shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_BODY = re.compile(rb"<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*\bdata-pagefind-body\b[^>]*>")
_MARKED = re.compile(rb"<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*\bdata-pagefind-(?:meta|filter|sort)\b[^>]*>")
_HTML_TAG = re.compile(rb"<html\b[^>]*>", re.I)
_VOID = frozenset(
    {b"meta", b"link", b"img", b"input", b"br", b"hr", b"source", b"area", b"base", b"col", b"embed", b"wbr"}
)


def search_text(html: bytes) -> bytes:
    """What Pagefind reads of a page: each element marked `data-pagefind-body`, and each element
    outside them that gives metadata, a filter or a sort key, in a page of their own under the
    page's `<html>` tag (its language). A page with no `data-pagefind-body`, or one whose marked
    element does not close, is given whole: Pagefind then reads all of it, as it would have."""
    pieces: list[bytes] = []
    inside: list[tuple[int, int]] = []
    for found in _BODY.finditer(html):
        if any(start <= found.start() < end for start, end in inside):
            continue
        end = _element_end(html, found.group(1), found.end())
        if end is None:
            return html
        inside.append((found.start(), end))
        pieces.append(html[found.start() : end])
    if not pieces:
        return html
    for found in _MARKED.finditer(html):
        if any(start <= found.start() < end for start, end in inside):
            continue
        end = (
            found.end()
            if found.group(1).lower() in _VOID
            else _element_end(html, found.group(1), found.end())
        )
        if end is not None:
            inside.append((found.start(), end))
            pieces.append(html[found.start() : end])
    opening = _HTML_TAG.search(html)
    head = b'<head><meta charset="utf-8"></head><body>'
    return (opening.group(0) if opening else b"<html>") + head + b"\n".join(pieces) + b"</body></html>"


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


class MemoryIndex:
    """The search bundles of `digest serve`, in memory; a rebuild re-indexes the changed parts only."""

    def __init__(self, work_dir: Path | None = None) -> None:
        self._parts: Mapping[str, Part] = {}
        self._data: dict[str, bytes] = {}  # the parts' files by output path
        self._work_dir = work_dir  # where Pagefind's temporary folders go (the system's by default)

    def update(
        self, found: Parts, page_keys: Mapping[str, str], files: Mapping[str, bytes | Path]
    ) -> dict[str, bytes]:
        """The bundle files for the site whose `parts` are `found` and whose pages are `files`
        (bytes, or a file to read)."""

        def read(path: str) -> bytes:  # a page, or a file of the index made before
            item = files[path] if path in files else self._data[path]
            return item if isinstance(item, bytes) else item.read_bytes()

        def deliver(made: Sequence[StaticFile], keys: Mapping[str, str]) -> None:
            self._data.update((str(f.path), f.source.read_bytes()) for f in made)

        work_dir = self._work_dir or Path(tempfile.gettempdir())
        done = refresh(found, page_keys, self._parts, read, deliver, work_dir, background=True)
        self._parts = done.parts
        listing = done.bundles()
        current = {path for part in self._parts.values() for path in part.files}
        self._data = {path: data for path, data in self._data.items() if path in current}
        return {**self._data, str(listing.path): listing.content}


class LiveIndex:
    """A `MemoryIndex` kept up to date on a thread of its own, so that a preview rebuild need not
    wait for Pagefind: `request` and go on; `publish` gets the bundle files when they are ready.
    Requests that come while one is indexed are merged: only the latest is indexed next.
    `close` waits for the part being indexed and removes every temporary file."""

    def __init__(self, publish: Callable[[dict[str, bytes]], None], warn: Callable[[str], None]) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="digest-search-"))
        self._index = MemoryIndex(self._folder)
        self._publish = publish
        self._warn = warn
        self._job: tuple[Parts, Mapping[str, str], Mapping[str, bytes | Path]] | None = None
        self._closed = False
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="search-index", daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._ready:
            self._closed, self._job = True, None
            self._ready.notify()
        self._thread.join(timeout=60)
        shutil.rmtree(self._folder, ignore_errors=True)

    def request(self, found: Parts, page_keys: Mapping[str, str], files: Mapping[str, bytes | Path]) -> None:
        with self._ready:
            self._job = (found, page_keys, files)
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._job is not None or self._closed)
                if self._job is None:
                    return  # closed
                job, self._job = self._job, None
            try:
                self._publish(self._index.update(*job))
            except SiteError as exc:
                self._warn(f"no search in the preview: {exc}")


def empty_warning(name: str) -> SiteWarning:
    return SiteWarning(
        f"search: Pagefind found no text to index in the article pages of {name}",
        hint="mark the article text in the theme's article.html with data-pagefind-body",
    )


def _run_all(
    names: Sequence[str], prepare: Callable[[str], list[str]], executable: Path, background: bool
) -> Iterator[tuple[str, bool]]:
    """Run Pagefind for each part (`prepare` writes its pages and gives the command), as many at a
    time as there are cores; say of each part, in turn, if it had text."""
    pending = list(names)
    active: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        while pending or active:
            while pending and len(active) < (os.cpu_count() or 1):
                name = pending.pop(0)
                command = prepare(name)
                process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
                if background and hasattr(os, "setpriority"):
                    with contextlib.suppress(OSError):
                        os.setpriority(os.PRIO_PROCESS, process.pid, 10)
                active.append((name, process))
            name, process = active.pop(0)
            output = process.communicate()[0].decode("utf-8", "replace").strip()
            if process.returncode and "not able to build an index" in output:
                yield name, False  # no text in the pages: the theme's article.html lacks it
            elif process.returncode:
                raise SearchError(
                    f"Pagefind failed to index {name} (exit {process.returncode}): {output[-500:]}",
                    SourceLocation(executable),
                    "set 'search: false' in config.yaml to build without search",
                )
            else:
                yield name, True
    finally:
        for _, other in active:
            other.kill()
            other.wait()


def _bundle_files(folder: Path) -> list[str]:
    found = []
    for base, _, names in os.walk(folder):
        for name in names:
            rel = Path(base, name).relative_to(folder).as_posix()
            if not rel.startswith(_UNUSED):
                found.append(rel)
    return sorted(found)
