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
import json
import math
import os
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
    """The files of freshly indexed parts by part (in a temporary folder), and parts with no text."""

    files: Mapping[str, tuple[StaticFile, ...]]
    empty: tuple[str, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class Part:
    """A part of the index as a build made it: its key, and its files' keys by output path."""

    key: str
    files: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Refresh:
    """The parts of an index brought up to date: every part, and the files of those made anew
    (in a temporary folder, while `refresh`'s block lasts)."""

    parts: Mapping[str, Part]
    made: Mapping[str, tuple[StaticFile, ...]]
    index: Index | None  # None when every part was current

    def bundles(self) -> OutputFile:
        return bundles_file(sorted(self.parts))


@contextlib.contextmanager
def refresh(
    found: Parts,
    page_keys: Mapping[str, str],
    last: Mapping[str, Part],
    locate: Callable[[str], Path],
    work_dir: Path,
    is_current: Callable[[Part], bool] = lambda part: True,
    background: bool = False,
) -> Iterator[Refresh]:
    """Index the parts of `found` whose key changed since `last` (or that `is_current` doubts).

    Shared by `digest build` (parts on disk) and `digest serve` (in memory);
    `page_keys` are the search keys of the article pages, `locate` says where
    a page's HTML is. Changes nothing it is given.
    """
    wanted = part_keys(found, page_keys)
    kept = {
        name: last[name]
        for name in found
        if name in last and last[name].key == wanted[name] and is_current(last[name])
    }
    todo = {name: paths for name, paths in found.items() if name not in kept}
    if not todo:
        yield Refresh(kept, {}, None)
        return
    with index_parts(todo, locate, work_dir, background) as index:
        made = {
            name: Part(wanted[name], {str(f.path): file_hash(f.source) for f in files})
            for name, files in index.files.items()
        }
        yield Refresh({**kept, **made}, index.files, index)


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
    executable = find_pagefind()
    stat = executable.stat()
    tool = f"{executable}|{stat.st_size}|{stat.st_mtime_ns}"
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


@contextlib.contextmanager
def index_parts(
    todo: Mapping[str, Sequence[str]], locate: Callable[[str], Path], work_dir: Path, background: bool = False
) -> Iterator[Index]:
    """Index each part of `todo` (name -> output paths of its pages) into its own Pagefind bundle.

    `locate(path)` says where the page's current HTML is (the build may not have
    moved it into place yet). The bundles are made in a temporary folder inside
    `work_dir` (on the output's file system, so that pages are hard-linked, not
    copied); the files of the index yielded live there until the block ends. `background` runs
    Pagefind at a low priority, so that it leaves the cores to a preview's rebuilds.
    """
    started = time.perf_counter()
    executable = find_pagefind()
    work = Path(tempfile.mkdtemp(prefix=".digest-search-", dir=work_dir))
    try:
        runs = []
        for name, paths in sorted(todo.items()):
            source = work / "pages" / name
            for path in paths:
                _link(locate(path), source / path)
            lang = name.split("/")[0]
            command = [str(executable), "--site", str(source), "--output-path", str(work / "out" / name)]
            command += ["--force-language", lang, "--silent"]
            runs.append((name, command))
        empty = [name for name, ok in _run_all(runs, executable, background) if not ok]
        files = {
            name: tuple(
                StaticFile(PurePosixPath(BUNDLE_DIR, name, rel), work / "out" / name / rel)
                for rel in _bundle_files(work / "out" / name)
            )
            for name in sorted(todo)
            if name not in empty
        }
        yield Index(files, tuple(empty), time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
        with tempfile.TemporaryDirectory(prefix="digest-search-", dir=self._work_dir) as folder:
            pages = Path(folder, "site")

            def locate(path: str) -> Path:
                item = files[path]
                target = pages / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(item if isinstance(item, bytes) else item.read_bytes())
                return target

            with refresh(found, page_keys, self._parts, locate, Path(folder), background=True) as done:
                for made in done.made.values():
                    self._data.update((str(f.path), f.source.read_bytes()) for f in made)
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
    runs: Sequence[tuple[str, list[str]]], executable: Path, background: bool
) -> Iterator[tuple[str, bool]]:
    """Run the commands, as many at a time as there are cores; say of each part if it had text."""
    pending = list(runs)
    active: list[tuple[str, subprocess.Popen[bytes]]] = []
    while pending or active:
        while pending and len(active) < (os.cpu_count() or 1):
            name, command = pending.pop(0)
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
            for _, other in active:
                other.kill()
            raise SearchError(
                f"Pagefind failed to index {name} (exit {process.returncode}): {output[-500:]}",
                SourceLocation(executable),
                "set 'search: false' in config.yaml to build without search",
            )
        else:
            yield name, True


def _bundle_files(folder: Path) -> list[str]:
    found = []
    for base, _, names in os.walk(folder):
        for name in names:
            rel = Path(base, name).relative_to(folder).as_posix()
            if not rel.startswith(_UNUSED):
                found.append(rel)
    return sorted(found)


def _link(source: Path, target: Path) -> None:
    """Put `source` at `target` without copying its bytes where the file system allows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
