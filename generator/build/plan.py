"""Plan stage: a `Site` and its theme become a `Plan`, every file of the build as data.

Pages are `PageSpec`s (a template and the articles it shows); feeds, the
sitemap and robots.txt are small and made here; static files are named. No
HTML is rendered and nothing is open: a plan is frozen data that can be
pickled, and `render.py` turns its specs into pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from itertools import groupby
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from generator.base.errors import BuildFailed, OutputConflictError, SiteError, SourceLocation
from generator.base.hashing import stable_hash
from generator.base.model import OutputFile, Picture, Site, StaticFile
from generator.base.urls import (
    CORRECTIONS_URL,
    SEARCH_URL,
    archive_url,
    author_url,
    collection_url,
    output_file_for,
    paged,
    source_url,
    story_url,
    tag_url,
)
from generator.build import feeds, media, search, theme
from generator.build.editions import edition_url, with_titles
from generator.build.redirects import render_redirects
from generator.build.topics import collection_neighbours, related_articles, story_neighbours


@dataclass(frozen=True, slots=True)
class PageSpec:
    """One page to render, as plain data: which template, and which articles it shows.

    Specs are cheap to make for the whole site; the template context is built
    only for the pages that must be rendered (see `Renderer`).
    """

    url: str
    template: str
    kind: str
    title: str = ""
    description: str = ""
    article: str = ""  # the article of an article page
    cards: tuple[str, ...] = ()  # every other article the page shows
    group: str = ""  # the collection key, tag slug or year of a list page
    number: int = 1  # pagination
    count: int = 1
    first_url: str = ""
    counts: str = ""  # a hash of the counts a list page shows (tags, months, a list's length)
    neighbours: tuple[str | None, str | None] = (None, None)  # URLs of the newer and older month
    origin: SourceLocation | None = None
    lang: str = ""

    def __reduce__(self) -> tuple[Any, ...]:
        # By position: the build cache keeps every spec, and this loads them four times faster.
        return (PageSpec, tuple(getattr(self, name) for name in _SPEC_FIELDS))


_SPEC_FIELDS = tuple(f.name for f in fields(PageSpec))


@dataclass(frozen=True, slots=True)
class Links:
    """The article-to-article links of a site: related articles and collection neighbours."""

    related: Mapping[str, tuple[str, ...]]
    neighbours: Mapping[str, tuple[str | None, str | None]]
    # Of each article in a running story: the story's key, and its earlier and later article.
    stories: Mapping[str, tuple[str, str | None, str | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, site: Site) -> Links:
        return cls(related_articles(site), collection_neighbours(site), story_neighbours(site))


def page_specs(site: Site, links: Links) -> list[PageSpec]:
    """Every HTML page of the site, in a stable order."""
    config = site.config
    newest = site.article_ids[: config.home_latest + 1]
    on_home = [i for c in site.collections for i in c.article_ids[: config.home_per_collection]]
    specs = [
        PageSpec(
            "", "home.html", "home", config.title, config.description or config.title,
            cards=tuple(dict.fromkeys((*newest, *on_home))),
        )
    ]  # fmt: skip
    for article_id in site.article_ids:
        article = site.articles[article_id]
        newer, older = links.neighbours.get(article_id, (None, None))
        _, earlier, later = links.stories.get(article_id, ("", None, None))
        cards = (*links.related[article_id], *(i for i in (newer, older, earlier, later) if i))
        specs.append(
            PageSpec(
                site.urls[article_id], "article.html", "article", article.title,
                article.summary or config.description, article=article_id, cards=cards,
                origin=article.source_location, lang=article.lang,
            )
        )  # fmt: skip
    for page_id in sorted(set(site.articles) - set(site.article_ids)):  # standalone pages
        page = site.articles[page_id]
        if page.kind != "page":
            continue
        specs.append(
            PageSpec(
                site.urls[page_id], "page.html", "page", page.title, page.summary or config.description,
                article=page_id, origin=page.source_location, lang=page.lang,
            )
        )  # fmt: skip
    specs += _edition_specs(site)
    for collection in site.collections:
        if collection.article_ids:  # like the navigation and the feeds, an empty collection has no page
            specs += _list_specs(
                "collection", collection.title, collection.key, collection.article_ids,
                collection_url(collection.key), config.per_page, collection.description,
            )  # fmt: skip
    specs.append(
        PageSpec(
            "tags/",
            "tags.html",
            "tags",
            counts=stable_hash(repr([(t.slug, t.name, len(t.article_ids)) for t in site.tags])),
        )
    )
    for tag in site.tags:
        specs += _list_specs("tag", tag.name, tag.slug, tag.article_ids, tag_url(tag.slug), config.per_page)
    corrected = [site.articles[i] for i in site.corrected]
    if corrected:
        listing = repr([(a.id, [c.date.isoformat() for c in a.corrections]) for a in corrected])
        specs.append(PageSpec(CORRECTIONS_URL, "corrections.html", "corrections",
                              cards=tuple(a.id for a in corrected), counts=stable_hash(listing)))  # fmt: skip
    for byline in site.bylines:
        specs += _list_specs("author", byline.name, byline.slug, byline.article_ids, author_url(byline.slug),
                             config.per_page)  # fmt: skip
    for story in site.stories:
        specs.append(
            PageSpec(story_url(story.key), "story.html", "story", story.title, story.description,
                     cards=story.article_ids, group=story.key)
        )  # fmt: skip
    if site.outlets:
        listing = repr([(o.slug, o.name, len(o.article_ids)) for o in site.outlets])
        specs.append(PageSpec(source_url(), "sources.html", "sources", counts=stable_hash(listing)))
    for outlet in site.outlets:
        specs += _list_specs(
            "source", outlet.name, outlet.slug, outlet.article_ids, source_url(outlet.slug), config.per_page
        )
    months = _months(site)
    specs.append(
        PageSpec(
            archive_url(),
            "archive.html",
            "archive",
            counts=stable_hash(repr([(m, len(ids)) for m, ids in months])),
        )
    )
    urls = [archive_url(year, month) for (year, month), _ in months]
    for index, ((year, month), ids) in enumerate(months):
        newer = urls[index - 1] if index else None
        older = urls[index + 1] if index + 1 < len(urls) else None
        specs.append(
            PageSpec(
                urls[index], "archive_month.html", "archive", f"{year}-{month:02d}", cards=ids,
                group=f"{year}-{month:02d}", neighbours=(newer, older),
            )
        )  # fmt: skip
    specs.append(PageSpec("404.html", "404.html", "404"))
    if config.search:
        specs.append(PageSpec(SEARCH_URL, "search.html", "search"))
    return specs


def _edition_specs(site: Site) -> list[PageSpec]:
    """A page per edition (its note, if any, and its articles, lead stories first), with links to the
    newer and older edition, and an editions index per collection, newest first."""
    specs: list[PageSpec] = []
    for key, group in groupby(site.editions, key=lambda e: e.collection):
        editions = list(group)
        collection = site.collection(key)
        title = collection.title if collection else key
        for n, edition in enumerate(editions):
            newer = editions[n - 1].url if n else None
            older = editions[n + 1].url if n + 1 < len(editions) else None
            note = site.articles[edition.note] if edition.note else None
            period = f"{title}: {edition.start.isoformat()} to {edition.end.isoformat()}"
            specs.append(
                PageSpec(
                    edition.url, "edition.html", "edition", edition.title, note.summary if note else period,
                    article=edition.note, cards=edition.article_ids, group=key, first_url=edition.id,
                    neighbours=(newer, older), origin=note.source_location if note else None,
                )
            )  # fmt: skip
        listing = [(e.id, e.title, e.url, len(e.article_ids), e.start.isoformat()) for e in editions]
        about = collection.description if collection else ""
        specs.append(
            PageSpec(edition_url(key), "editions.html", "editions", title, about, group=key,
                     counts=stable_hash(repr(listing)))
        )  # fmt: skip
    return specs


def _list_specs(
    kind: str,
    title: str,
    group: str,
    ids: tuple[str, ...],
    first_url: str,
    per_page: int,
    description: str = "",
) -> list[PageSpec]:
    """The pages of a paginated list: `first_url`, then `first_url/page/2/` and on."""
    chunks = [ids[i : i + per_page] for i in range(0, len(ids), per_page)] or [()]
    return [
        PageSpec(
            paged(first_url, n),
            f"{kind}.html",
            kind,
            title,
            description,
            cards=chunk,
            group=group,
            number=n,
            count=len(chunks),
            first_url=first_url,
            counts=str(len(ids)),
        )
        for n, chunk in enumerate(chunks, 1)
    ]


def _months(site: Site) -> list[tuple[tuple[int, int], tuple[str, ...]]]:
    """((year, month), article ids) for each month with articles, newest first, in the site's time zone."""
    tz = ZoneInfo(site.config.timezone)
    local = {i: site.articles[i].date.astimezone(tz) for i in site.article_ids}
    return [
        (month, tuple(ids))
        for month, ids in groupby(site.article_ids, key=lambda i: (local[i].year, local[i].month))
    ]


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything a build writes, as data: the site, its pages as specs, and the files made or copied."""

    site: Site
    theme: theme.Theme
    links: Links
    specs: Mapping[str, PageSpec]  # by output path, in a stable order
    feeds: tuple[OutputFile, ...]  # the feeds, the sitemap and robots.txt
    static: tuple[StaticFile, ...]
    search_parts: Mapping[str, Sequence[str]]  # article pages by search index part (see `search.parts`)
    warnings: tuple[SiteError, ...] = ()
    next_change: datetime | None = None  # when the next future-dated article falls due
    pictures: tuple[Picture, ...] = ()  # the articles' raster images, whose variants are made (media.py)
    problems: tuple[SiteError, ...] = ()  # errors kept for `check` to report with its own (see `prepare`)


def make_plan(
    site: Site, chosen_theme: theme.Theme, warnings: tuple[SiteError, ...], next_change: datetime | None
) -> Plan:
    """The plan of `site` with `chosen_theme`; raises `BuildFailed` if two files would share a path."""
    if site.editions:  # named in the theme's words
        language = site.config.language
        texts = chosen_theme.texts(language) or chosen_theme.texts(theme.FALLBACK_LANGUAGE) or {}
        titles = {c.key: c.title for c in site.collections}
        site = replace(site, editions=with_titles(site.editions, titles, texts, _babel_locale(language)))
    links = Links.of(site)
    # A theme of its own, made before search, has no search page; its pages can still use the index.
    # One made before standalone pages shows them with its article template.
    pages = [
        s
        if s.kind != "page" or theme.has_template(chosen_theme, s.template)
        else replace(s, template="article.html")
        for s in page_specs(site, links)
        if s.kind != "search" or theme.has_template(chosen_theme, s.template)
    ]
    specs = {output_file_for(s.url): s for s in pages}
    small = (
        *feeds.render_feeds(site), *feeds.render_sitemap(site, specs), feeds.render_robots(site),
        *render_redirects(site),
    )  # fmt: skip
    static = (*theme.static_files(chosen_theme), *media.files_of(site))
    pictures = tuple(media.pictures_of(site))
    _check_conflicts(pages, small, static, pictures)
    parts = search.parts(search.pages_of(site)) if site.config.search else {}
    return Plan(site, chosen_theme, links, specs, small, static, parts, warnings, next_change, pictures)


def _babel_locale(language: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(language.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return theme.FALLBACK_LANGUAGE


def _check_conflicts(
    specs: Sequence[PageSpec],
    small: Sequence[OutputFile],
    static: Sequence[StaticFile],
    pictures: Sequence[Picture] = (),
) -> None:
    """Two outputs at one path would silently overwrite each other: report each such pair."""
    seen: dict[str, Any] = {}
    errors: list[SiteError] = []
    items: list[tuple[str, Any]] = [(output_file_for(s.url), s.origin) for s in specs]
    items += [(str(o.path), o.origin) for o in small] + [(str(s.path), None) for s in static]
    items += [(path, SourceLocation(p.source)) for p in pictures for path, _, _ in p.variants()]
    for path, origin in items:
        if path in seen:
            first = seen[path]
            origins = ", ".join(str(o) for o in (first, origin) if o) or "the site's own pages"
            errors.append(
                OutputConflictError(
                    f"two pages would be written to /{path} ({origins})",
                    origin or first,
                    "give the article a different 'slug:' or collection, or drop the alias",
                )
            )
        else:
            seen[path] = origin
    if errors:
        raise BuildFailed(errors)


V = TypeVar("V")


def replaced(items: Mapping[str, V], changes: Mapping[str, V]) -> Mapping[str, V]:
    """`items` (a plan's articles or specs) with `changes` in place, by key. A mapping that loads
    its items lazily (see `planstore`) stays lazy: it has an `updated` method for this."""
    updated = getattr(items, "updated", None)
    if updated is not None:
        return updated(changes)  # type: ignore[no-any-return]
    return MappingProxyType({**items, **changes})
