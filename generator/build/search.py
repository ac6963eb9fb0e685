"""Search stage: index the article pages with Pagefind, in parts by language and months.

Pagefind keeps one index per language and its browser script loads only the
index of the page's own `<html lang>`, stemmed by that language's rules. To
let a reader find Russian articles from an English page (and the other way
round) with each language's stemming, every language has bundles of its own
(`pagefind/en/...`, `pagefind/ru/...`), indexed with `--force-language`; the
theme's script loads one Pagefind instance per language and merges results.

Pagefind cannot update an index, and indexing takes a millisecond or two a
page, so a language's articles are indexed in parts of consecutive months
(`pagefind/en/2021-01/`), and an edit indexes only the pages whose text
changed, into a small part of recent edits (`pagefind/en/recent/`) that hides
their outdated copies; many edits fold back into their parts (`reindex`). Each
language's parts are merged in the browser (Pagefind's `mergeIndex`);
`pagefind/bundles.json` lists them. Running Pagefind is `indexer.py`'s.

Only article pages are indexed: list pages would only repeat their articles.
Inside a page, the theme marks what counts with `data-pagefind-body`.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import math
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from generator.base.errors import SiteError, SiteWarning
from generator.base.hashing import stable_hash
from generator.base.model import OutputFile, Site
from generator.base.urls import output_file_for
from generator.build.indexer import BUNDLE_DIR, Index, index_parts, search_text, tool_key

Parts = Mapping[str, Sequence[str]]  # the article pages' paths by part name (`en/2021-01`)
BUNDLES_FILE = f"{BUNDLE_DIR}/bundles.json"
PART_PAGES = 250  # the least pages of a part; doubled until a language has at most MAX_PARTS parts
MAX_PARTS = 20


@dataclass(frozen=True, slots=True)
class Page:
    """An article page to index."""

    path: str  # output path
    lang: str  # as `language_of` gives it
    month: str  # of the article's date, "2021-03": parts are runs of months


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


Deliver = Callable[[Sequence[OutputFile], Mapping[str, str]], None]  # a part's files, and their keys


def reindex(
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
    handed to `deliver` (their bytes, with their keys) as soon as Pagefind made
    them; its scratch files are gone when this returns. Changes nothing it is given.

    A part is kept when its pages' keys are as they were indexed, or when the
    pages whose key changed still give Pagefind the same text (a page's key
    also covers what surrounds its text). When only a few pages' text changed
    (at most `RECENT_PAGES` a language, new pages included) in parts indexed
    before, those pages alone are indexed, into the language's part of recent
    edits (`en/recent`), which lists the Pagefind ids of their outdated copies in
    the base parts (`hidden.json`) for the search script to leave out. Otherwise
    the changed parts are indexed again, which folds the recent edits back in.
    """
    tool = tool_key()
    wanted = part_keys(found, page_keys, tool)
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
            tool, name, *(f"{p}|{t}" for p, t in sorted(pages.items())), *sorted(hidden.values())
        )
        if before is not None and before.key == key and is_current(before):
            parts[name] = before
            continue
        todo[name] = sorted(pages)
        planned[name] = Part(key, {}, {p: page_keys.get(p, "") for p in pages}, dict(pages), hidden, tool)
    if not todo:
        return Refresh(parts, None)
    made: dict[str, Part] = {}

    def take(name: str, files: Sequence[OutputFile]) -> None:
        keys = {str(f.path): stable_hash(f.content) for f in files}
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


@dataclass(frozen=True, slots=True)
class Searched:
    """What indexing a build for search made: its report, the index's files' keys, and its parts."""

    report: Report = field(default_factory=Report)
    files: Mapping[str, str] = field(default_factory=dict)  # the index's files' keys by output path
    parts: Mapping[str, Part] = field(default_factory=dict)


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


def part_keys(
    parts: Mapping[str, Sequence[str]], page_keys: Mapping[str, str], tool: str | None = None
) -> dict[str, str]:
    """A key for each part: it changes when Pagefind (`tool`, see `tool_key`) or anything indexed of
    the part's pages does."""
    tool = tool or tool_key()
    return {
        name: stable_hash(tool, name, *(f"{p}|{page_keys.get(p, '')}" for p in paths))
        for name, paths in parts.items()
    }


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

        def deliver(made: Sequence[OutputFile], keys: Mapping[str, str]) -> None:
            self._data.update((str(f.path), f.content) for f in made)

        work_dir = self._work_dir or Path(tempfile.gettempdir())
        done = reindex(found, page_keys, self._parts, read, deliver, work_dir, background=True)
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
