"""News pages and feeds to drafts: the article, its byline, date, language and outlet.

The body comes from trafilatura (which leaves out navigation, banners, share buttons and
"read more" lists), turned into Markdown by `htmlmd`. The facts come from where outlets put
them, best first: schema.org JSON-LD (`NewsArticle` and kin), then OpenGraph and `article:`
meta tags, then plain meta tags and the page itself, then what trafilatura found. A date keeps
the offset the outlet gave it. `Draft.missing` names each field that no source had.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from generator.base.model import Draft, Source
from generator.importing.htmlmd import to_markdown

ARTICLE_TYPES = frozenset({
    "NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
    "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle", "BlogPosting",
    "LiveBlogPosting", "Report", "SatiricalArticle", "TechArticle",
})  # fmt: skip
MIN_WORDS = 12  # what trafilatura finds in a page without an article is a few links' words
_LANG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


class NotAnArticle(ValueError):
    """A page in which no article text can be found."""


def read_page(html: str, url: str, tz: ZoneInfo) -> Draft:
    """The draft of a news page; `url` is where it came from ('' for a saved file)."""
    import lxml.html
    import trafilatura

    try:
        tree = lxml.html.document_fromstring(_XML_DECLARATION.sub("", html))
    except (ValueError, lxml.etree.ParserError) as error:
        raise NotAnArticle(f"it is not an HTML page ({error})") from None
    facts = _Facts(tree, url)
    image_alt = facts.image_alt()  # before trafilatura, which prunes the tree
    found: Any = trafilatura.bare_extraction(
        tree, url=url or None, with_metadata=True, include_links=True, include_formatting=True,
        include_comments=False, include_tables=True, include_images=True,
    )  # fmt: skip
    text = "".join(found.body.itertext()) if found is not None and found.body is not None else ""
    if len(text.split()) < MIN_WORDS:
        raise NotAnArticle(f"no article text was found in it (less than {MIN_WORDS} words)")
    title = facts.first("headline") or (found.title or "").strip()
    summary = facts.first("description") or (found.description or "").strip()
    converted = to_markdown(found.body, facts.canonical or url)
    body = _without_lead(converted.markdown, title, summary)
    published, date_note = facts.published(found.date or "", tz)
    source = Source(
        facts.first("outlet") or (found.sitename or "").strip() or _host(facts.canonical or url),
        facts.canonical or url,
        facts.first("author") or (found.author or "").strip(),
        published.isoformat() if published else "",
    )
    notes = [date_note] if date_note else []
    if converted.images:
        notes.append(f"left out {converted.images} image{'s' if converted.images > 1 else ''} of the text")
    if converted.links_dropped:
        notes.append(f"kept the text of {len(converted.links_dropped)} link(s) to non-web addresses")
    draft = Draft(
        title=title, body=body, summary=summary, date=published, lang=facts.lang(), source=source,
        image=facts.first("image") or (found.image or ""), image_alt=image_alt,
        notes=tuple(notes),
    )  # fmt: skip
    return _with_missing(draft)


def read_feed_item(entry: Any, feed_title: str, tz: ZoneInfo) -> tuple[Draft, bool]:
    """A feedparser entry as a draft, and whether it carries the full text (else only a summary)."""
    import lxml.html

    link = str(entry.get("link", "")).strip()
    content = [c for c in entry.get("content", []) if "html" in c.get("type", "") or c.get("value")]
    html = content[0]["value"] if content else entry.get("summary", "")
    body = (
        to_markdown(lxml.html.fragment_fromstring(html, create_parent="div"), link).markdown if html else ""
    )
    published, note = _feed_date(entry, tz)
    summary = ""
    if content and entry.get("summary") and entry["summary"].strip() != html.strip():
        summary = _plain(entry["summary"])  # feedparser copies the content where there is no summary
    draft = Draft(
        title=_plain(entry.get("title", "")),
        body=body,
        summary=summary,
        date=published,
        source=Source(feed_title or _host(link), link, str(entry.get("author", "")).strip(),
                      published.isoformat() if published else ""),
        notes=(note,) if note else (),
    )  # fmt: skip
    return _with_missing(draft), bool(content)


def _feed_date(entry: Any, tz: ZoneInfo) -> tuple[datetime | None, str]:
    for key in ("published", "updated", "created"):
        text = str(entry.get(key, "")).strip()
        if text:
            moment = parse_moment(text)
            if moment is not None:
                return _completed(moment, tz)
    return None, ""


def parse_moment(text: str) -> datetime | None:
    """A date from ISO 8601 (with or without an offset) or RFC 822 (RSS); None if it is neither."""
    text = text.strip()
    iso = re.sub(r"[Zz]$", "+00:00", text)
    iso = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", iso)
    try:
        return datetime.fromisoformat(
            iso.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", iso) else iso
        )
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _completed(moment: datetime, tz: ZoneInfo) -> tuple[datetime, str]:
    """An aware datetime; the note says what had to be assumed."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz), f"the date has no time zone; took the site's ({tz.key})"
    return moment, ""


class _Facts:
    """What a page says about itself in JSON-LD and meta tags."""

    def __init__(self, tree: Any, url: str) -> None:
        self.tree = tree
        self.url = url
        self.found: dict[str, list[str]] = {}
        items = list(_items(list(_json_ld(tree))))
        self.ids = {item["@id"]: item for item in items if isinstance(item.get("@id"), str)}
        article = next((item for item in items if ARTICLE_TYPES & _types(item)), None)
        if article is not None:
            self._from_json_ld(article)
        self._from_meta()
        self.canonical = next(
            (u for u in (self._link("canonical"), *self.found.get("url", [])) if _is_web(u)), ""
        )

    def first(self, name: str) -> str:
        return next((v for v in self.found.get(name, []) if v), "")

    def add(self, name: str, value: Any) -> None:
        text = " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""
        if text:
            self.found.setdefault(name, []).append(text)

    def _from_json_ld(self, item: dict[str, Any]) -> None:
        self.add("headline", item.get("headline") or item.get("name"))
        self.add("description", item.get("description"))
        for key in ("datePublished", "dateCreated", "dateModified"):
            self.add("date", item.get(key))
        self.add("lang", item.get("inLanguage") if isinstance(item.get("inLanguage"), str) else "")
        self.add("author", ", ".join(self.names(item.get("author"))))
        self.add("outlet", ", ".join(self.names(item.get("publisher"))))
        page = item.get("mainEntityOfPage")
        self.add("url", page.get("@id") or page.get("url") if isinstance(page, dict) else page)
        self.add("url", item.get("url"))
        image = item.get("image")
        image = image[0] if isinstance(image, list) and image else image
        self.add("image", image.get("url") or image.get("contentUrl") if isinstance(image, dict) else image)

    def names(self, value: Any) -> list[str]:
        """Names of schema.org persons or organisations: text, an item, a reference, or a list."""
        names = []
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "name" not in item:
                item = self.ids.get(str(item.get("@id")), item)
            name = item.get("name") if isinstance(item, dict) else item
            if isinstance(name, str) and name.strip() and not _is_web(name.strip()):
                names.append(" ".join(name.split()))
        return names

    def _from_meta(self) -> None:
        meta = {}
        for element in self.tree.iter("meta"):
            key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
            if key and key not in meta and element.get("content"):
                meta[key] = element.get("content").strip()
        for name, keys in (
            ("headline", ("og:title", "twitter:title")),
            ("description", ("og:description", "description", "twitter:description")),
            ("date", ("article:published_time", "datepublished", "date", "pubdate", "publish-date",
                      "dc.date", "article:modified_time")),
            ("author", ("author", "article:author", "dc.creator")),
            ("outlet", ("og:site_name", "application-name")),
            ("url", ("og:url",)),
            ("image", ("og:image", "og:image:url", "twitter:image")),
            ("image_alt", ("og:image:alt", "twitter:image:alt")),
            ("lang", ("og:locale", "content-language", "language")),
        ):  # fmt: skip
            for key in keys:
                value = meta.get(key, "")
                if name == "author" and _is_web(value):
                    continue  # article:author is often the author's page, not a name
                self.add(name, value.replace("_", "-") if name == "lang" else value)
        for element in self.tree.iter("time"):
            self.add("date", element.get("datetime"))
        self.add("lang", self.tree.get("lang"))
        if self.url and "url" not in self.found:
            self.add("url", self.url)
        for name in ("image", "url"):
            self.found[name] = [urljoin(self.url, u) if self.url else u for u in self.found.get(name, [])]

    def _link(self, rel: str) -> str:
        for element in self.tree.iter("link"):
            href = str(element.get("href") or "").strip()
            if rel in (element.get("rel") or "").lower().split() and href:
                return urljoin(self.url, href) if self.url else href
        return ""

    def image_alt(self) -> str:
        """The lead image's alt text: from meta tags, else from the page's own `img` of it."""
        image = self.first("image")
        for element in self.tree.iter("img") if image and not self.first("image_alt") else ():
            src = element.get("src") or ""
            if src and (urljoin(self.url, src) if self.url else src) == image:
                return " ".join((element.get("alt") or "").split())
        return self.first("image_alt")

    def lang(self) -> str:
        return next((v for v in self.found.get("lang", []) if _LANG.fullmatch(v)), "")

    def published(self, fallback: str, tz: ZoneInfo) -> tuple[datetime | None, str]:
        """The first date with a time and an offset; else the first date at all, completed."""
        moments = [m for m in map(parse_moment, self.found.get("date", [])) if m is not None]
        aware = [m for m in moments if m.tzinfo is not None]
        if aware:
            return aware[0], ""
        if moments:
            return _completed(moments[0], tz)
        if fallback and (moment := parse_moment(fallback)):
            return moment.replace(tzinfo=tz), f"only the day was found; took midnight in {tz.key}"
        return None, ""


def _json_ld(tree: Any) -> Iterator[Any]:
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json" and script.text:
            try:
                yield json.loads(script.text)
            except (ValueError, RecursionError):
                continue


def _items(data: Any) -> Iterator[dict[str, Any]]:
    """The top-level items of JSON-LD, in document order, with those of `@graph`s and lists."""
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack[:0] = item
        elif isinstance(item, dict):
            yield item
            graph = item.get("@graph")
            stack[:0] = graph if isinstance(graph, list) else []


def _types(item: dict[str, Any]) -> set[str]:
    kinds = item.get("@type", [])
    return {kinds} if isinstance(kinds, str) else {k for k in kinds if isinstance(k, str)}


def _without_lead(body: str, title: str, summary: str) -> str:
    """The body without its first blocks when they repeat the headline or the standfirst."""
    blocks = body.split("\n\n")
    repeats = {_words(title), _words(summary)} - {""}
    while blocks and _words(blocks[0]) in repeats:
        blocks.pop(0)
    return "\n\n".join(blocks)


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "td", "th",
     "table", "section", "article", "figure", "figcaption", "pre", "hr"}
)  # fmt: skip


def _plain(html: str) -> str:
    """The text of a bit of HTML (a feed's title or summary), with a space where one block ends and
    the next begins (`<p>...year.</p><p>Entry...` is "...year. Entry...", not "year.Entry")."""
    import lxml.html

    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in tree.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = " " + (element.tail or "")
    return " ".join(tree.text_content().split())


def _with_missing(draft: Draft) -> Draft:
    fields = {
        "headline": draft.title, "text": draft.body, "standfirst": draft.summary,
        "author": draft.source.author, "date": draft.date, "language": draft.lang,
        "outlet": draft.source.name, "address": draft.source.url, "lead image": draft.image,
    }  # fmt: skip
    return dataclasses.replace(draft, missing=tuple(name for name, value in fields.items() if not value))


def _is_web(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https") and bool(urlsplit(text).hostname)


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""
