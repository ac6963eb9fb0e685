"""Page kinds: every HTML page of a site as a `PageSpec` (a template and the articles it shows), made
by one small function per kind of page, registered in `PAGE_KINDS`.

Specs are plain data, cheap to make for the whole site; `render.py` turns them into pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from generator.base.errors import SourceLocation
from generator.base.hashing import stable_hash
from generator.base.model import Site
from generator.base.urls import (
    CORRECTIONS_URL,
    SEARCH_URL,
    archive_url,
    author_url,
    collection_url,
    paged,
    source_url,
    story_url,
    tag_url,
)
from generator.build import languages
from generator.build.editions import edition_url
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
    alternates: tuple[str, ...] = ()  # of a list page of a multilingual site: the languages it is in

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
        """The links of `site`; on a multilingual site, each language's among its own articles."""
        related: dict[str, tuple[str, ...]] = {}
        neighbours: dict[str, tuple[str | None, str | None]] = {}
        stories: dict[str, tuple[str, str | None, str | None]] = {}
        for part in languages.parts(site).values():
            related.update(related_articles(part))
            neighbours.update(collection_neighbours(part))
            stories.update(story_neighbours(part))
        return cls(related, neighbours, stories)


def _home_page(site: Site, links: Links) -> list[PageSpec]:
    config = site.config
    newest = site.article_ids[: config.home_latest + 1]
    on_home = [i for c in site.collections for i in c.article_ids[: config.home_per_collection]]
    cards = tuple(dict.fromkeys((*newest, *on_home)))
    home = config.url_prefix
    return [
        PageSpec(home, "home.html", "home", config.title, config.description or config.title, cards=cards)
    ]


def _article_pages(site: Site, links: Links) -> list[PageSpec]:
    specs = []
    for article_id in site.article_ids:
        article = site.articles[article_id]
        newer, older = links.neighbours.get(article_id, (None, None))
        _, earlier, later = links.stories.get(article_id, ("", None, None))
        cards = (*links.related[article_id], *(i for i in (newer, older, earlier, later) if i))
        cards += site.translations.get(article_id, ())  # its translations' URLs and titles are on it
        specs.append(
            PageSpec(
                site.urls[article_id], "article.html", "article", article.title,
                article.summary or site.config.description, article=article_id, cards=cards,
                origin=article.source_location, lang=article.lang,
            )
        )  # fmt: skip
    return specs


def _standalone_pages(site: Site, links: Links) -> list[PageSpec]:
    """Standalone pages: the articles of kind `page`, in no list."""
    specs = []
    for page_id in sorted(set(site.articles) - set(site.article_ids)):
        page = site.articles[page_id]
        if page.kind != "page":
            continue
        specs.append(
            PageSpec(
                site.urls[page_id], "page.html", "page", page.title, page.summary or site.config.description,
                article=page_id, origin=page.source_location, lang=page.lang,
            )
        )  # fmt: skip
    return specs


def _collection_pages(site: Site, links: Links) -> list[PageSpec]:
    specs = []
    for collection in site.collections:
        if collection.article_ids:  # like the navigation and the feeds, an empty collection has no page
            specs += _list_specs(
                "collection", collection.title, collection.key, collection.article_ids,
                site.config.url_prefix + collection_url(collection.key), site.config.per_page,
                collection.description,
            )  # fmt: skip
    return specs


def _tag_index(site: Site, links: Links) -> list[PageSpec]:
    counts = stable_hash(repr([(t.slug, t.name, len(t.article_ids)) for t in site.tags]))
    return [PageSpec(site.config.url_prefix + "tags/", "tags.html", "tags", counts=counts)]


def _tag_pages(site: Site, links: Links) -> list[PageSpec]:
    per_page, home = site.config.per_page, site.config.url_prefix
    return [
        spec
        for tag in site.tags
        for spec in _list_specs(
            "tag", tag.name, tag.slug, tag.article_ids, home + tag_url(tag.slug), per_page
        )
    ]


def _corrections_page(site: Site, links: Links) -> list[PageSpec]:
    corrected = [site.articles[i] for i in site.corrected]
    if not corrected:
        return []
    listing = repr([(a.id, [c.date.isoformat() for c in a.corrections]) for a in corrected])
    return [PageSpec(site.config.url_prefix + CORRECTIONS_URL, "corrections.html", "corrections",
                     cards=tuple(a.id for a in corrected), counts=stable_hash(listing))]  # fmt: skip


def _author_pages(site: Site, links: Links) -> list[PageSpec]:
    return [
        spec
        for byline in site.bylines
        for spec in _list_specs(
            "author",
            byline.name,
            byline.slug,
            byline.article_ids,
            site.config.url_prefix + author_url(byline.slug),
            site.config.per_page,
        )
    ]


def _story_pages(site: Site, links: Links) -> list[PageSpec]:
    return [
        PageSpec(site.config.url_prefix + story_url(story.key), "story.html", "story", story.title,
                 story.description, cards=story.article_ids, group=story.key)
        for story in site.stories
    ]  # fmt: skip


def _source_index(site: Site, links: Links) -> list[PageSpec]:
    if not site.outlets:
        return []
    listing = repr([(o.slug, o.name, len(o.article_ids)) for o in site.outlets])
    return [
        PageSpec(
            site.config.url_prefix + source_url(), "sources.html", "sources", counts=stable_hash(listing)
        )
    ]


def _source_pages(site: Site, links: Links) -> list[PageSpec]:
    per_page, home = site.config.per_page, site.config.url_prefix
    return [
        spec
        for outlet in site.outlets
        for spec in _list_specs(
            "source", outlet.name, outlet.slug, outlet.article_ids, home + source_url(outlet.slug), per_page
        )
    ]


def _archive_pages(site: Site, links: Links) -> list[PageSpec]:
    """The archive's index, then a page per month, each linking to the newer and older month."""
    months = _months(site)
    counts = stable_hash(repr([(m, len(ids)) for m, ids in months]))
    home = site.config.url_prefix
    specs = [PageSpec(home + archive_url(), "archive.html", "archive", counts=counts)]
    urls = [home + archive_url(year, month) for (year, month), _ in months]
    for index, ((year, month), ids) in enumerate(months):
        newer = urls[index - 1] if index else None
        older = urls[index + 1] if index + 1 < len(urls) else None
        specs.append(
            PageSpec(
                urls[index], "archive_month.html", "archive", f"{year}-{month:02d}", cards=ids,
                group=f"{year}-{month:02d}", neighbours=(newer, older),
            )
        )  # fmt: skip
    return specs


def _not_found_page(site: Site, links: Links) -> list[PageSpec]:
    return [PageSpec(site.config.url_prefix + "404.html", "404.html", "404")]


def _search_page(site: Site, links: Links) -> list[PageSpec]:
    return (
        [PageSpec(site.config.url_prefix + SEARCH_URL, "search.html", "search")] if site.config.search else []
    )


def _edition_pages(site: Site, links: Links) -> list[PageSpec]:
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
            PageSpec(site.config.url_prefix + edition_url(key), "editions.html", "editions", title, about,
                     group=key, counts=stable_hash(repr(listing)))
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


PageKind = Callable[[Site, Links], list[PageSpec]]

# Every kind of page, in the order the site lists them: a new kind of page is one function and one entry.
PAGE_KINDS: tuple[PageKind, ...] = (
    _home_page,
    _article_pages,
    _standalone_pages,
    _edition_pages,
    _collection_pages,
    _tag_index,
    _tag_pages,
    _corrections_page,
    _author_pages,
    _story_pages,
    _source_index,
    _source_pages,
    _archive_pages,
    _not_found_page,
    _search_page,
)


# The kinds of page that each language of a multilingual site has of its own (see `languages.py`).
LISTS = tuple(k for k in PAGE_KINDS if k not in (_article_pages, _standalone_pages))


def page_specs(site: Site, links: Links) -> list[PageSpec]:
    """Every HTML page of the site, in a stable order: those of each kind of `PAGE_KINDS` in turn;
    on a multilingual site, the articles' pages, then each language's lists, home to 404."""
    if not site.config.languages:
        return [spec for kind in PAGE_KINDS for spec in kind(site, links)]
    config = site.config
    lists = [
        replace(spec, lang=code)
        for code, part in languages.parts(site).items()
        for kind in LISTS
        for spec in kind(part, links)
    ]
    rest = [spec.url.removeprefix(config.prefix_of(spec.lang)) for spec in lists]
    found: dict[str, list[str]] = {}
    for spec, path in zip(lists, rest, strict=True):
        if spec.kind != "404":
            found.setdefault(path, []).append(spec.lang)
    lists = [
        replace(spec, alternates=tuple(found[path])) if len(found.get(path, ())) > 1 else spec
        for spec, path in zip(lists, rest, strict=True)
    ]  # the same list in each language: one another's translations, as Hugo has them
    if config.default_language_in_subdir:  # hosts serve /404.html for every path: the default's
        lists.append(PageSpec("404.html", "404.html", "404", lang=config.languages[0].code))
    return [*_article_pages(site, links), *_standalone_pages(site, links), *lists]
