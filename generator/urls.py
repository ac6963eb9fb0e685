"""Slugs, page URLs and output paths.

A page URL here is a path relative to the site root that ends in `/`
(`belarus/kremlin-fears/`; the home page is `''`). Pages link to each other
with relative URLs, so the site works at a domain root and under a subpath.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import PurePosixPath

from slugify import slugify as _slugify


@lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """A lowercase ASCII slug; Cyrillic and other scripts are transliterated.

    Cached: tags and collection names come back thousands of times a build.
    """
    return str(_slugify(text, max_length=80, word_boundary=True, save_order=True))


def article_url(collection: str, slug: str) -> str:
    """`<collection>/<slug>/`, or `<slug>/` for an article outside any collection."""
    return f"{collection}/{slug}/" if collection else f"{slug}/"


def collection_url(key: str, page: int = 1) -> str:
    return paged(f"{key}/", page)


def tag_url(slug: str, page: int = 1) -> str:
    return paged(f"tags/{slug}/", page)


def paged(url: str, page: int) -> str:
    """The URL of page `page` of a list whose first page is at `url`."""
    return url if page == 1 else f"{url}page/{page}/"


def feed_url(collection: str = "") -> str:
    """The Atom feed of a collection, or of the whole site."""
    return f"{collection}/feed.xml" if collection else "feed.xml"


def archive_url(year: int | None = None, month: int | None = None) -> str:
    if year is None:
        return "archive/"
    return f"archive/{year}/" if month is None else f"archive/{year}/{month:02d}/"


SEARCH_URL = "search/"  # the search page, not a result itself: left out of the sitemap


def output_path_for(url: str) -> PurePosixPath:
    """The file a page URL is written to: `a/b/` gives `a/b/index.html`.

    Raises ValueError for anything that is not a plain relative path of safe
    segments, so no URL can name a file outside the output folder.
    """
    return PurePosixPath(output_file_for(url))


@cache
def output_file_for(url: str) -> str:
    """`output_path_for` as text, which is what the build's bookkeeping uses."""
    path = url + "index.html" if url.endswith("/") or not url else url
    if not is_safe_text_path(path):
        raise ValueError(f"unsafe output path {url!r}")
    return path


def is_safe_text_path(path: str) -> bool:
    """`is_safe_path` for a POSIX path given as text."""
    return bool(path) and "\\" not in path and all(p and not p.startswith(".") for p in path.split("/"))


def is_safe_path(path: PurePosixPath) -> bool:
    """True for a relative path with no empty, `.`, `..` or hidden segment."""
    return is_safe_text_path(path.as_posix())


def root_prefix(url: str) -> str:
    """The relative link from the page at `url` back to the site root."""
    depth = url.count("/")
    return "../" * depth if depth else "./"


def absolute(base_url: str, url: str) -> str:
    """The absolute URL of a page, for feeds, sitemaps and canonical links."""
    return base_url + url
