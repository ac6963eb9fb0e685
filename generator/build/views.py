"""Template views: the plain dicts a theme receives, built from the model.

The `TypedDict`s here are the theme contract: a template may rely on these
keys and nothing else. URLs in views are relative to the site root, so a
template writes `{{ page.root }}{{ article.url }}`.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from markupsafe import Markup

from generator.base.model import Article, Collection, Config, Edition, Media, Site, Source, Tag
from generator.base.urls import (
    CORRECTIONS_URL,
    SEARCH_URL,
    absolute,
    archive_url,
    author_url,
    card_file_for,
    collection_url,
    feed_url,
    slugify,
    source_url,
    tag_url,
)
from generator.build import cards, content, languages, media, security
from generator.build.indexer import BUNDLE_DIR
from generator.build.markup import plain_text

WORDS_PER_MINUTE = 220


class LinkView(TypedDict):
    title: str
    url: str


class ArticleView(TypedDict):
    id: str
    title: str
    url: str
    date: str  # ISO 8601 in the site's time zone; templates format it with `| date_text`
    updated: str | None
    summary: str
    standfirst: (
        str  # the summary above the text on its own page; empty where it is the text's first paragraph
    )
    body: Markup  # the article's HTML on its own page (article.html); empty in lists
    collection: LinkView | None
    collections: list[LinkView]
    tags: list[LinkView]
    authors: list[str]
    image: str  # absolute URL, or '' (for link previews and feeds)
    image_path: str  # a local lead image's path from the site's root, or ''
    picture: dict[str, Any] | None  # a local raster lead image's variants (see `media.picture_view`)
    image_width: int  # of the variant `image` names, when known
    image_height: int
    image_alt: str
    image_caption: str
    image_credit: str
    # What link previews show (og:image): the lead image, or the article's social card (cards.py);
    # url (absolute), width and height (0 when not known), alt. None when there is neither.
    share: dict[str, Any] | None
    source: dict[str, str] | None  # the first of `sources`
    sources: list[dict[str, str]]  # name, url, author, published, archived, outlet_url
    corrections: list[dict[str, Any]]  # date and text (HTML) of each correction, newest first
    bylines: list[dict[str, str]]  # each author's name and, for a configured author, url (their page)
    lang: str
    dir: str  # "ltr", or "rtl" for an article in Arabic, Hebrew...
    reading_minutes: int
    extra: dict[str, Any]
    status: str  # in `digest serve` only: "draft", "scheduled" or ""
    goes_live: str | None  # a scheduled one's moment


class SiteView(TypedDict):
    title: str
    description: str
    base_url: str
    language: str
    author: str
    collections: list[dict[str, str]]  # key, title, url, feed_url of each non-empty collection
    menu: list[
        dict[str, str]
    ]  # title and url of each `menu:` entry (a url in the site is relative to the root)
    feed_url: str
    search: SearchView | None  # None when search is off
    home_url: str  # this language's home page, relative to the root: "" (or "ru/" on a multilingual site)
    csp: str  # the Content-Security-Policy for a <meta> ("" with csp: false)
    sources_url: str  # the index of source outlets, or "" when no article names a source
    corrections_url: str  # the corrections page, or "" when nothing was corrected


class SearchView(TypedDict):
    url: str  # the search page
    index: str  # the folder of the Pagefind bundles, with bundles.json listing them


class PageView(TypedDict):
    url: str  # relative to the site root
    root: str  # relative link from this page to the site root, e.g. '../../'
    title: str
    description: str
    kind: str  # home, article, page, collection, tag, tags, archive, edition, editions, search, 404
    canonical: str
    lang: str  # language of the page's content, for <html lang>
    ui_lang: str  # language of the theme's texts on this page
    prev_url: str | None  # pagination, relative to the site root
    next_url: str | None
    home: str  # relative link to the home page of the page's language: `root` ("../../") or "../../ru/"
    locale: str  # Open Graph's form of `lang`: be_BY
    ui_dir: str  # the direction of the theme's texts' language
    dir: str  # the direction its language is written in: "ltr" or "rtl" (Arabic, Hebrew, Persian, Urdu)
    translations: list[dict[str, Any]]  # this page in each language it is in (`hreflang`); [] if one
    languages: list[dict[str, Any]]  # the switcher: each language, linking to this page in it, else its home


class PageContext(TypedDict, total=False):
    """Every key a template may receive. `site` and `page` are always there."""

    site: SiteView
    page: PageView
    i18n: dict[str, Any]  # the theme's texts in page.ui_lang; use t("key", n=...) in templates
    article: ArticleView  # article.html
    related: list[ArticleView]  # article.html: same collection first, then shared tags
    newer: ArticleView | None  # article.html: neighbours in the article's collection
    older: ArticleView | None
    structured_data: dict[str, Any]  # article.html: JSON-LD NewsArticle, write with | tojson
    lead: ArticleView | None  # home.html: the newest article
    articles: list[ArticleView]  # home, collection and tag pages
    sections: list[dict[str, Any]]  # home: each collection view with its newest `articles`
    collection: dict[str, Any]  # collection.html
    tag: dict[str, Any]  # tag.html
    tags: list[dict[str, Any]]  # tags.html
    pagination: dict[str, Any]  # number, count, url, prev_url, next_url, first_url
    years: list[dict[str, Any]]  # archive.html: year, count, months (date, url, count)
    month: dict[str, Any]  # archive_month.html: date, articles, count, newer_url, older_url


def site_view(site: Site) -> SiteView:
    """The site for templates; on a multilingual site, one language's part (see `languages.py`):
    its title, its collections and feeds under its URL prefix."""
    config = site.config
    home = config.url_prefix
    return {
        "title": config.title,
        "description": config.description,
        "base_url": config.base_url,
        "language": config.language,
        "author": config.author,
        "collections": [
            {
                "key": c.key,
                "title": c.title,
                "url": home + collection_url(c.key),
                "feed_url": home + feed_url(c.key),
            }
            for c in site.collections
            if c.article_ids
        ],
        "menu": [
            {"title": title, "url": url.lstrip("/") if url.startswith("/") else url}
            for title, url in config.menu
        ],
        "feed_url": home + feed_url(),
        "sources_url": home + source_url() if site.outlets else "",
        "corrections_url": home + CORRECTIONS_URL if site.corrected else "",
        "search": ({"url": home + SEARCH_URL, "index": f"{BUNDLE_DIR}/"} if config.search else None),
        "home_url": home,
        "csp": security.meta_value(chosen) if (chosen := security.site_policy(site)) else "",
    }


def article_view(
    article: Article,
    url: str,
    titles: dict[str, str],
    config: Config,
    tz: ZoneInfo,
    found: Media | None = None,
) -> ArticleView:
    home = config.prefix_of(article.lang)  # its links lead to the lists of its own language
    links = [{"title": titles[k], "url": home + collection_url(k)} for k in article.collections]
    date = article.date.astimezone(tz)
    updated = article.updated.astimezone(tz) if article.updated else None
    view: ArticleView = {
        "id": article.id,
        "title": article.title,
        "url": url,
        "date": date.isoformat(),
        "updated": updated.isoformat() if updated else None,
        "summary": article.summary,
        "standfirst": "" if article.summary_from_text else article.summary,
        "body": Markup(""),  # filled in on the article's own page only: see `with_body`
        "collection": links[0] if links else None,
        "collections": links,
        "tags": [{"title": t, "url": home + tag_url(_tag_slug(t))} for t in article.tags if _tag_slug(t)],
        "authors": list(article.authors) or ([config.author] if config.author else []),
        "bylines": [
            _byline(name, config, home)
            for name in (article.authors or ((config.author,) if config.author else ()))
        ],
        **_lead_image(article, config, found or Media()),  # type: ignore[typeddict-item]
        "share": None,
        "source": _source_view(article.sources[0], home) if article.sources else None,
        "sources": [_source_view(s, home) for s in article.sources],
        "corrections": [
            {"date": c.date.astimezone(tz).isoformat(), "text": Markup(c.text)}  # noqa: S704 - the editor's Markdown
            for c in reversed(article.corrections)
        ],
        "lang": article.lang or config.language,
        "dir": languages.direction(article.lang or config.language),
        "reading_minutes": max(1, round(article.word_count / WORDS_PER_MINUTE)),
        "extra": dict(article.extra),
        # In `digest serve` only: "draft" or "scheduled", and when it goes live (never in a build).
        "status": article.status,
        "goes_live": _goes_live(article, tz) if article.status == "scheduled" else None,
    }
    view["share"] = _share(view, article, url, config)
    return view


def _share(view: ArticleView, article: Article, url: str, config: Config) -> dict[str, Any] | None:
    if view["image"]:
        keys = ("image", "image_width", "image_height", "image_alt")
        return dict(zip(("url", "width", "height", "alt"), (view[k] for k in keys), strict=True))  # type: ignore[literal-required]
    if cards.wants_card(article, config):
        width, height = config.card_size
        return {"url": absolute_url(config.base_url, card_file_for(url)), "width": width, "height": height,
                "alt": article.title}  # fmt: skip
    return None


def _goes_live(article: Article, tz: ZoneInfo) -> str:
    return content.live_date(article).astimezone(tz).isoformat()


def _lead_image(article: Article, config: Config, found: Media) -> dict[str, Any]:
    """The lead image: `image` its absolute URL (for link previews and feeds) and, for a local one,
    `image_path` its path from the site's root and `picture` its variants (see `media.picture_view`)."""
    text = {k: str(article.extra.get(f"image_{k}") or "").strip() for k in ("alt", "caption", "credit")}
    view: dict[str, Any] = {
        "image": "",
        "image_path": "",
        "picture": None,
        "image_width": 0,
        "image_height": 0,
    }
    view.update({f"image_{k}": v for k, v in text.items()})
    address = article.image
    if not address:
        return view
    picture = found.pictures.get(address)
    published = found.files.get(address)
    if picture is not None:
        path, width, height = media.share_image(picture)
        sizes = config.images.sizes
        view["picture"] = media.picture_view(
            picture, "", text["alt"], sizes, False, text["caption"], text["credit"]
        )
        view.update(image_path=picture.path, image_width=width, image_height=height)
    elif published is not None:
        path = view["image_path"] = str(published.path)
    elif "://" in address:
        path = address
    elif media.local_path(address) is None:  # a path from the site's root
        path = view["image_path"] = address.lstrip("/")
    else:
        return view  # a file the article's folder lacks: an error of the build (`media.attach`)
    view["image"] = absolute_url(config.base_url, path)
    return view


def with_body(
    view: ArticleView, article: Article, found: Media | None = None, sizes: str = ""
) -> ArticleView:
    """The view with the article's HTML, for its own page. Views in lists leave it out, so that the
    thousands of views a build keeps do not each hold a copy of an article. Its local images
    become responsive pictures (`sizes` is `images: sizes`), and its local addresses those they
    are published at."""
    body = article.body_html
    if found is not None and found.urls:
        body = media.responsive_body(body, found, sizes)
    return {**view, "body": Markup(body)}  # noqa: S704 - rendered from the editor's Markdown


def absolute_url(base_url: str, link: str) -> str:
    """`link` as an absolute URL: kept if it has a scheme, else taken from the site root."""
    return link if "://" in link else absolute(base_url, link.lstrip("/"))


def news_article_data(
    article: ArticleView, site: SiteView, canonical: str, translations: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """schema.org NewsArticle structured data for search engines (JSON-LD); of a translated article,
    the original (the one in the language first in `languages:`) names its translations in
    `workTranslation`, and each translation names it in `translationOfWork`."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article["title"][:110],
        "description": article["summary"],
        "datePublished": article["date"],
        "dateModified": article["updated"] or article["date"],
        "inLanguage": article["lang"],
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "url": canonical,
        "publisher": {"@type": "Organization", "name": site["title"], "url": site["base_url"]},
        "author": [_person(b, site["base_url"]) for b in article["bylines"]]
        or [{"@type": "Organization", "name": site["title"]}],
    }
    if translations:
        original, *others = translations
        if original["current"]:
            data["workTranslation"] = [_work(t) for t in others]
        else:
            data["translationOfWork"] = _work(original)
    if article["collection"]:
        data["articleSection"] = article["collection"]["title"]
    if article["tags"]:
        data["keywords"] = [tag["title"] for tag in article["tags"]]
    if article["image"] and article["image_width"]:
        data["image"] = [
            {
                "@type": "ImageObject",
                "url": article["image"],
                "width": article["image_width"],
                "height": article["image_height"],
                **({"caption": article["image_caption"]} if article["image_caption"] else {}),
                **({"creditText": article["image_credit"]} if article["image_credit"] else {}),
            }
        ]
    elif article["image"]:
        data["image"] = [article["image"]]
    elif article["share"]:  # the social card
        share = article["share"]
        data["image"] = [
            {"@type": "ImageObject", "url": share["url"], "width": share["width"], "height": share["height"]}
        ]
    if article["sources"]:
        data["isBasedOn"] = [_based_on(s) for s in article["sources"]]
    if article["corrections"]:
        data["correction"] = [
            {"@type": "CorrectionComment", "datePublished": c["date"], "text": plain_text(str(c["text"]))}
            for c in article["corrections"]
        ]
    return data


def _work(translation: dict[str, Any]) -> dict[str, Any]:
    return {"@type": "NewsArticle", "@id": translation["href"], "inLanguage": translation["lang"]}


def _person(byline: dict[str, str], base_url: str) -> dict[str, Any]:
    """schema.org Person for a byline; a configured author has the URL of their page."""
    person: dict[str, Any] = {"@type": "Person", "name": byline["name"]}
    if byline["url"]:
        person["url"] = absolute(base_url, byline["url"])
    if byline["profile"]:
        person["sameAs"] = byline["profile"]
    return person


def _based_on(source: dict[str, str]) -> dict[str, Any]:
    """schema.org `isBasedOn`: the report the digest retells, as a CreativeWork."""
    work: dict[str, Any] = {
        "@type": "CreativeWork",
        "publisher": {"@type": "Organization", "name": source["name"]},
    }
    if source["url"]:
        work["url"] = source["url"]
    if source["author"]:
        work["author"] = {"@type": "Person", "name": source["author"]}
    if source["published"]:
        work["datePublished"] = source["published"]
    if source["archived"]:
        work["archivedAt"] = source["archived"]
    return work


def _byline(name: str, config: Config, home: str = "") -> dict[str, str]:
    """A byline name, with the page of the configured author it names ("" for a name without one)."""
    from generator.build.topics import author_key

    key = author_key(name, config)
    found = next((a for a in config.authors if a.key == key), None)
    return {"name": found.name if found else name, "url": home + author_url(found.key) if found else "",
            "profile": found.url if found else ""}  # fmt: skip


def _source_view(source: Source, home: str = "") -> dict[str, str]:
    """A source for templates, with the URL of its outlet's page."""
    return {
        "name": source.name, "url": source.url, "author": source.author, "published": source.published,
        "archived": source.archived, "outlet_url": home + source_url(source.outlet),
    }  # fmt: skip


def _tag_slug(name: str) -> str:
    return slugify(name)


def collection_view(collection: Collection, config: Config) -> dict[str, Any]:
    return {
        "key": collection.key,
        "title": collection.title,
        "description": collection.description,
        "url": config.url_prefix + collection_url(collection.key),
        "feed_url": config.url_prefix + feed_url(collection.key),
        "count": len(collection.article_ids),
    }


def edition_view(
    edition: Edition, note: Article | None, found: Media | None = None, sizes: str = "", home: str = ""
) -> dict[str, Any]:
    """An edition for templates: its period as ISO dates, its count, and the editor's note as HTML
    (its local images as pictures, see `with_body`)."""
    body = note.body_html if note else ""
    if found is not None and found.urls:
        body = media.responsive_body(body, found, sizes)
    return {
        "id": edition.id,
        "title": edition.title,
        "url": edition.url,
        "index_url": f"{home}{edition.collection}/editions/",
        "feed_url": f"{home}{edition.collection}/editions/feed.xml",
        "start": edition.start.isoformat(),
        "end": edition.end.isoformat(),
        "count": len(edition.article_ids),
        "note": Markup(body),  # noqa: S704 - the editor's Markdown
    }


def outlet_view(outlet: Tag, home: str = "") -> dict[str, Any]:
    """A source outlet: its name, page and how many of the digest's stories came from it."""
    return {"title": outlet.name, "url": home + source_url(outlet.slug), "count": len(outlet.article_ids)}


def tag_view(tag: Tag, home: str = "") -> dict[str, Any]:
    return {"title": tag.name, "url": home + tag_url(tag.slug), "count": len(tag.article_ids)}


def archive_years(site: Site) -> list[dict[str, Any]]:
    """Years, newest first, each with its months: their article counts and page URLs."""
    tz = ZoneInfo(site.config.timezone)
    dates = [site.articles[i].date.astimezone(tz) for i in site.article_ids]
    years = []
    for year, in_year in groupby(dates, key=lambda d: d.year):
        months = [
            {
                "month": month,
                "date": f"{year:04d}-{month:02d}-01",
                "url": site.config.url_prefix + archive_url(year, month),
                "count": len(list(group)),
            }
            for month, group in groupby(in_year, key=lambda d: d.month)
        ]
        years.append({"year": year, "count": sum(m["count"] for m in months), "months": months})
    return years


def archive_month(articles: list[ArticleView], around: tuple[str | None, str | None]) -> dict[str, Any]:
    """One month of the archive: its articles, newest first, and the months next to it."""
    first = articles[0]["date"] if articles else "1970-01-01"
    return {
        "date": first[:7] + "-01",  # format with | month_text
        "articles": articles,
        "count": len(articles),
        "newer_url": around[0],
        "older_url": around[1],
    }
