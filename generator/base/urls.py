"""Slugs, page URLs and output paths.

A page URL here is a path relative to the site root that ends in `/`
(`belarus/kremlin-fears/`; the home page is `''`). Pages link to each other
with relative URLs, so the site works at a domain root and under a subpath.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import PurePosixPath

from slugify import slugify as _slugify

from generator.base.translit import transliterate


@lru_cache(maxsize=65536)
def slugify(text: str, lang: str = "") -> str:
    """A lowercase ASCII slug; Cyrillic and other scripts are transliterated, by `lang`'s own rules
    where it has them (`translit.py`: Ukrainian `Київ` kyiv, Belarusian `Гродна` hrodna) and by
    the standard table otherwise (and always without `lang`: `kiiv`, `grodna`).

    Cached: tags and collection names come back thousands of times a build.
    """
    if lang:
        text = transliterate(text, lang)
    return str(_slugify(text, max_length=80, word_boundary=True, save_order=True))


PERMALINK_TOKENS = ("collection", "categories", "year", "month", "day", "slug", "filename", "title", "path")
# The date's other forms, as Jekyll spells them (and Hugo's :monthname): old URL schemes use them.
DATE_TOKENS = (
    "i_month", "i_day", "short_year", "y_day", "short_month", "long_month", "monthname", "week",
    "short_day", "long_day", "hour", "minute", "second",
)  # fmt: skip
_TOKEN = re.compile(r":([A-Za-z_]+)")


def permalink_problem(pattern: str) -> str | None:
    """What is wrong with a permalink pattern, or None: tokens are spelled as Hugo and Jekyll spell
    them (`:year`), it ends in `/` or `.html`, and names each article apart (`:slug`, `:filename`,
    `:title`)."""
    unknown = [t for t in _TOKEN.findall(pattern) if t not in PERMALINK_TOKENS and t not in DATE_TOKENS]
    if unknown:
        return f"unknown token ':{unknown[0]}' in the permalink {pattern!r}"
    if not (pattern.endswith("/") or pattern.endswith(".html")):
        return f"the permalink {pattern!r} must end with '/' or '.html'"
    if any(part in (".", "..") for part in pattern.split("/")):
        return f"the permalink {pattern!r} may not contain '.' or '..' folders"
    return None


def permalink(
    pattern: str,
    *,
    collection: str,
    day: date,
    slug: str,
    filename: str,
    title: str,
    categories: tuple[str, ...] = (),
    path: str = "",
    moment: datetime | None = None,
) -> str:
    """The page URL (relative: `belarus/2020/09/03/slug/`) that `pattern` makes for an article;
    empty folders (an article outside any collection) drop out. `path` is the folder of the
    article's file in the content folder (Jekyll's and Hugo's `:path`, as written: its folders are
    the old site's). `moment` is the date and time, in the site's time zone, for the hour, minute
    and second (midnight without it). Raises ValueError if unsafe."""
    values = {
        "path": path,
        "collection": collection, "year": f"{day.year:04d}", "month": f"{day.month:02d}",
        "day": f"{day.day:02d}", "slug": slug, "filename": slugify(filename), "title": slugify(title),
        "categories": "/".join(slugify(c) for c in categories) if categories else collection,
    }  # fmt: skip
    if _uses_date_forms(pattern):
        values.update(_date_forms(moment or datetime(day.year, day.month, day.day)))
    text = _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), pattern.strip())
    url = "/".join(part for part in text.split("/") if part)
    if pattern.strip().endswith("/") and url:
        url += "/"
    output_file_for(url)  # raises ValueError for anything outside the output folder
    return url


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@lru_cache(maxsize=256)
def _uses_date_forms(pattern: str) -> bool:
    return any(token in DATE_TOKENS for token in _TOKEN.findall(pattern))


def _date_forms(moment: datetime) -> dict[str, str]:
    """`DATE_TOKENS`' values, in English as Jekyll and Hugo write them whatever the site's language."""
    month, weekday = _MONTHS[moment.month - 1], _DAYS[moment.weekday()]
    return {
        "i_month": str(moment.month), "i_day": str(moment.day), "short_year": f"{moment.year % 100:02d}",
        "y_day": f"{moment.timetuple().tm_yday:03d}", "short_month": month[:3], "long_month": month,
        "monthname": month.lower(), "week": f"{moment.isocalendar()[1]:02d}", "short_day": weekday[:3],
        "long_day": weekday, "hour": f"{moment.hour:02d}", "minute": f"{moment.minute:02d}",
        "second": f"{moment.second:02d}",
    }  # fmt: skip


def collection_url(key: str, page: int = 1) -> str:
    return paged(f"{key}/", page)


def source_url(outlet: str = "", page: int = 1) -> str:
    """The page of a source outlet (what the digest took from it), or the index of outlets."""
    return paged(f"sources/{outlet}/", page) if outlet else "sources/"


def author_url(key: str, page: int = 1) -> str:
    """An author's page."""
    return paged(f"authors/{key}/", page)


def story_url(key: str) -> str:
    """The timeline of a running story."""
    return f"stories/{key}/"


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


CORRECTIONS_URL = "corrections/"  # every correction the digest made, and its feed
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


CARD_NAME = "social-card.png"


def card_file_for(url: str) -> str:
    """The output path of the social card of the page at `url` (see `cards.py`): beside its
    `index.html`, or named after its file (`news/story.html` -> `news/story-card.png`)."""
    path = output_file_for(url)
    if path == "index.html" or path.endswith("/index.html"):
        return path[: -len("index.html")] + CARD_NAME
    return path.rsplit(".", 1)[0] + "-card.png"


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


# The content types of output files, as the preview server and S3 deploys send them.
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
}


def content_type(key: str) -> str:
    """The Content-Type of the output file at `key` (a path in the site)."""
    suffix = posixpath.splitext(key)[1].lower()
    if key.endswith("feed.xml"):
        return "application/atom+xml; charset=utf-8"
    return TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"
