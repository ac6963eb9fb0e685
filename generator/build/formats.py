"""RSS 2.0 and JSON Feed 1.1 twins of the Atom feeds (`feeds.py`): the same entries, in the same
order, with the same ids, for the readers and services that want one of those formats.

Each Atom feed at `<page>/feed.xml` gets `<page>/rss.xml` and `<page>/feed.json`. Entries carry
the full text unless `feed_content: summary`. The XML helpers every feed uses live here too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from html import escape as html_escape
from pathlib import PurePosixPath

from generator.base.model import Article, Config, OutputFile, Site
from generator.base.urls import absolute
from generator.build.media import feed_html

RSS_NAME = "rss.xml"
JSON_NAME = "feed.json"


def rss(
    site: Site, page_url: str, title: str, subtitle: str, ids: Sequence[str], identity: dict[str, str]
) -> OutputFile:
    """The RSS 2.0 feed beside the Atom feed of `page_url`; `identity` gives each entry's id."""
    config = site.config
    base = config.base_url
    articles = [site.articles[i] for i in ids]
    full = config.feed_content == "full"
    newest = max((updated_of(a) for a in articles), default=None)
    self_link = quoteattr(absolute(base, page_url) + RSS_NAME)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        "<channel>",
        f"<title>{html_escape(title, quote=False)}</title>",
        f"<link>{html_escape(absolute(base, page_url), quote=False)}</link>",
        f"<description>{html_escape(subtitle or title, quote=False)}</description>",
        f"<language>{html_escape(config.language, quote=False)}</language>",
        f'<atom:link href={self_link} rel="self" type="application/rss+xml"/>',
    ]
    if newest:
        lines.append(f"<lastBuildDate>{format_datetime(newest)}</lastBuildDate>")
    for article in articles:
        link = absolute(base, site.urls[article.id])
        lines += [
            "<item>",
            f"<title>{html_escape(article.title, quote=False)}</title>",
            f"<link>{html_escape(link, quote=False)}</link>",
            f'<guid isPermaLink="false">{html_escape(identity[article.id], quote=False)}</guid>',
            f"<pubDate>{format_datetime(article.date)}</pubDate>",
            *(
                f"<dc:creator>{html_escape(name, quote=False)}</dc:creator>"
                for name in bylines(article, config)
            ),
            *(f"<category>{html_escape(tag, quote=False)}</category>" for tag in article.tags),
            f"<description>{html_escape(article.summary, quote=False)}</description>",
            *(
                f'<atom:link rel="via" href={quoteattr(src.url)} title={quoteattr(src.name)}/>'
                for src in article.sources
                if src.url
            ),
        ]
        if full:
            lines.append(
                f"<content:encoded>{html_escape(feed_html(site, article), quote=False)}</content:encoded>"
            )
        lines.append("</item>")
    lines += ["</channel>", "</rss>\n"]
    return OutputFile(PurePosixPath(page_url + RSS_NAME), "\n".join(lines).encode("utf-8"))


def json_feed(
    site: Site, page_url: str, title: str, subtitle: str, ids: Sequence[str], identity: dict[str, str]
) -> OutputFile:
    """The JSON Feed 1.1 beside the Atom feed of `page_url`."""
    config = site.config
    base = config.base_url
    full = config.feed_content == "full"
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": absolute(base, page_url),
        "feed_url": absolute(base, page_url) + JSON_NAME,
        "language": config.language,
        "items": [_item(site, site.articles[i], identity[i], full) for i in ids],
    }
    if subtitle:
        feed["description"] = subtitle
    text = json.dumps(feed, ensure_ascii=False, indent=1) + "\n"
    return OutputFile(PurePosixPath(page_url + JSON_NAME), text.encode("utf-8"))


def bylines(article: Article, config: Config) -> list[str]:
    """The names an article's byline shows: a configured author's name for their key or name."""
    from generator.build.topics import author_key

    names = {a.key: a.name for a in config.authors}
    return [names.get(author_key(name, config) or "", name) for name in article.authors]


def _item(site: Site, article: Article, identity: str, full: bool) -> dict[str, object]:
    item: dict[str, object] = {
        "id": identity,
        "url": absolute(site.config.base_url, site.urls[article.id]),
        "title": article.title,
        "summary": article.summary,
        "date_published": article.date.isoformat(timespec="seconds"),
        "date_modified": updated_of(article).isoformat(timespec="seconds"),
    }
    if full:
        item["content_html"] = feed_html(site, article)
    else:
        item["content_text"] = article.summary
    if article.authors:
        item["authors"] = [{"name": name} for name in bylines(article, site.config)]
    if article.tags:
        item["tags"] = list(article.tags)
    if article.sources:  # an extension object, as JSON Feed 1.1 allows: where the story comes from
        item["_newsdigest"] = {"sources": [{"name": s.name, "url": s.url} for s in article.sources]}
    return item


def escape(text: str) -> str:
    """`&`, `<` and `>` as XML entities (as `xml.sax.saxutils.escape`, whose import costs 30 ms)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """`text` escaped and quoted as an XML attribute value (as `xml.sax.saxutils.quoteattr`)."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))


def updated_of(article: Article) -> datetime:
    """When an article last changed: its date, or a later `updated` (a correction sets it)."""
    return max(article.date, article.updated) if article.updated else article.date
