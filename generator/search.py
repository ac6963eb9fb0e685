"""Search stage: index the article pages with Pagefind, one bundle per language.

Pagefind keeps one index per language and its browser script loads only the
index of the page's own `<html lang>`, stemmed by that language's rules. To
let a reader find Russian articles from an English page (and the other way
round) with each language's stemming, every language gets its own bundle
(`pagefind/en/`, `pagefind/ru/`), indexed with `--force-language`; the
theme's script imports each bundle's `pagefind.js` (separate modules, so
separate instances) and merges their results.

Only article pages are indexed: list pages would only repeat their articles.
Inside a page, the theme marks what counts with `data-pagefind-body`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import SiteError, SiteWarning, SourceLocation
from .model import Site, StaticFile

BUNDLE_DIR = "pagefind"
# What Pagefind writes besides the index that the theme's own search script does not use.
_UNUSED = (
    "pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.", "playground",
)  # fmt: skip


class SearchError(SiteError):
    """The search index could not be built."""


@dataclass(frozen=True, slots=True)
class Index:
    """The files of the search bundles, and what went into them."""

    files: tuple[StaticFile, ...]
    pages: Mapping[str, int]  # pages indexed, by language
    seconds: float
    warnings: tuple[SiteError, ...] = ()


def language_of(lang: str) -> str:
    """The language a page is indexed as: the primary subtag of its `lang` (`pt-BR` -> `pt`)."""
    return lang.split("-")[0].lower()


def languages(site: Site) -> list[str]:
    """The languages of the site's articles, each of which gets a bundle; the site's own first."""
    found = {language_of(a.lang or site.config.language) for a in site.articles.values()}
    first = language_of(site.config.language)
    return sorted(found, key=lambda code: (code != first, code))


def bundle_url(lang: str) -> str:
    return f"{BUNDLE_DIR}/{lang}/"


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
def index_pages(
    pages: Iterable[tuple[str, str]], locate: Callable[[str], Path], work_dir: Path
) -> Iterator[Index]:
    """Index `pages`, given as (output path, language), with Pagefind: one bundle per language.

    `locate(path)` says where the page's current HTML is (the build may not have
    moved it into place yet). The bundles are made in a temporary folder inside
    `work_dir` (on the output's file system, so that pages are hard-linked, not
    copied); the files of the index yielded live there until the block ends.
    """
    started = time.perf_counter()
    executable = find_pagefind()
    by_lang: dict[str, list[str]] = {}
    for path, lang in pages:
        by_lang.setdefault(language_of(lang), []).append(path)
    work = Path(tempfile.mkdtemp(prefix=".digest-search-", dir=work_dir))
    try:
        runs = []
        for lang, paths in sorted(by_lang.items()):
            source = work / "pages" / lang
            for path in paths:
                _link(locate(path), source / path)
            command = [str(executable), "--site", str(source), "--output-path", str(work / "out" / lang)]
            command += ["--force-language", lang, "--silent"]
            run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603 - Pagefind
            runs.append((lang, run))
        empty = []
        for lang, run in runs:  # the languages are indexed side by side
            output = run.communicate()[0].decode("utf-8", "replace").strip()
            if run.returncode and "not able to build an index" in output:
                empty.append(lang)  # no text in the pages: the theme's article.html lacks it
            elif run.returncode:
                raise SearchError(
                    f"Pagefind failed to index the {lang} pages (exit {run.returncode}): {output[-500:]}",
                    SourceLocation(executable),
                    "set 'search: false' in config.yaml to build without search",
                )
        files = tuple(
            StaticFile(PurePosixPath(BUNDLE_DIR, lang, rel), work / "out" / lang / rel)
            for lang in sorted(by_lang)
            for rel in _bundle_files(work / "out" / lang)
        )
        counts = {lang: len(paths) for lang, paths in sorted(by_lang.items()) if lang not in empty}
        warnings = tuple(
            SiteWarning(
                f"search: Pagefind found no text to index in the {lang} article pages",
                hint="mark the article text in the theme's article.html with data-pagefind-body",
            )
            for lang in empty
        )
        yield Index(files, counts, time.perf_counter() - started, warnings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
