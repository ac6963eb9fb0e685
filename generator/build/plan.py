"""Plan stage: a `Site` and its theme become a `Plan`, every file of the build as data.

Pages are `PageSpec`s, made by the page kinds of `pages.py`; feeds, the
sitemap and robots.txt are small and made here; static files are named. No
HTML is rendered and nothing is open: a plan is frozen data that can be
pickled, and `render.py` turns its specs into pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

from generator.base.errors import BuildFailed, OutputConflictError, SiteError, SiteWarning, SourceLocation
from generator.base.model import Edition, OutputFile, Picture, Site, StaticFile
from generator.base.urls import (
    output_file_for,
)
from generator.build import cards, feeds, languages, media, search, security, theme
from generator.build.editions import with_titles
from generator.build.pages import Links, PageSpec, page_specs
from generator.build.redirects import render_redirects


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
    site: Site,
    chosen_theme: theme.Theme,
    warnings: tuple[SiteError, ...],
    next_change: datetime | None,
    content: Sequence[StaticFile] = (),
) -> Plan:
    """The plan of `site` with `chosen_theme`; raises `BuildFailed` if two files would share a path.
    `content` are the content folder's other files (`media.content_files`), each published at its own
    path unless the site makes a file there."""
    if site.editions:  # named in the theme's words, each in its language's
        named: list[Edition] = []
        for language in dict.fromkeys(e.lang or site.config.language for e in site.editions):
            texts = chosen_theme.texts(language) or chosen_theme.texts(theme.FALLBACK_LANGUAGE) or {}
            mine = [e for e in site.editions if (e.lang or site.config.language) == language]
            titles = {c.key: c.title for c in site.collections}
            titles.update(
                (k, title) for k, (title, _) in languages.collection_titles(site.config, language).items()
            )
            named += with_titles(mine, titles, texts, _babel_locale(language))
        site = replace(site, editions=tuple(named))
    card = cards.find_template(chosen_theme) if site.config.social_cards else None
    site = cards.with_template(site, card)
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
    pages, replaced_search = _own_search_page_first(pages, site)
    pages, redirects, yielded = _old_urls_first(pages, render_redirects(site))
    warnings = (*warnings, *replaced_search, *yielded)
    specs = {output_file_for(s.url): s for s in pages}
    headers, said = _security(site, chosen_theme, content)
    warnings = (*warnings, *said)
    small = (
        *feeds.render_feeds(site), *feeds.render_sitemap(site, specs, _alternates(site, specs)),
        feeds.render_robots(site),
        *redirects, *headers,
    )  # fmt: skip
    static = (*theme.static_files(chosen_theme), *media.files_of(site))
    pictures = tuple(media.pictures_of(site))
    if card is not None:
        shown = (s.article for s in specs.values() if s.kind in ("article", "page") and s.article)
        pictures += tuple(cards.card_pictures(site, card, dict.fromkeys(shown)))
    taken = {*specs, *(str(o.path) for o in small), *(str(s.path) for s in static)}
    used = {s.source for s in static} | {p.source for p in pictures}  # published beside their article
    for item in content:  # a file of the content folder at its own path, unless the site makes one there
        if item.source in used:
            continue
        if str(item.path) in taken:
            where = SourceLocation(item.source)
            hint = "the site makes this file itself; rename yours to publish it"
            warnings = (
                *warnings,
                SiteWarning(f"'{item.path}' is left out: the site has its own", where, hint),
            )
        else:
            static += (item,)
    _check_conflicts(pages, small, static, pictures)
    parts = search.parts(search.pages_of(site)) if site.config.search else {}
    return Plan(site, chosen_theme, links, specs, small, static, parts, warnings, next_change, pictures)


def _own_search_page_first(pages: list[PageSpec], site: Site) -> tuple[list[PageSpec], list[SiteError]]:
    """An old site's search page (`layout: search`, as Hugo themes such as PaperMod make it: a title
    and the theme's script) at the URL of the site's own search page is not written: the site's own
    takes its place. Each is said."""
    search_at = {output_file_for(s.url) for s in pages if s.kind == "search"}
    kept: list[PageSpec] = []
    said: list[SiteError] = []
    for spec in pages:
        article = site.articles.get(spec.article) if spec.article else None
        if (
            article is not None
            and output_file_for(spec.url) in search_at
            and article.extra.get("layout") == "search"
        ):
            hint = (
                "the site's search page (with its own index) is written there; remove the file to say nothing"
            )
            message = f"this search page of the old site is not written at /{output_file_for(spec.url)}"
            said.append(SiteWarning(message, spec.origin, hint))
        else:
            kept.append(spec)
    return kept, said


def _old_urls_first(
    pages: list[PageSpec], redirects: Sequence[OutputFile]
) -> tuple[list[PageSpec], list[OutputFile], list[SiteError]]:
    """An article's URL wins over a list of the site's making: a collection's or a tag's page at the
    URL of an article or page (a Jekyll page at `/team/`, a category `team`) is not written; nor is
    a redirect from the URL of a page (Hugo lets the page win), nor a second redirect from one URL
    (an archive's `redirect_from` written twice: Jekyll keeps one in silence). Each is said. Any
    other clash stays an error (`_check_conflicts`)."""
    owned = {output_file_for(s.url): s for s in pages if s.article}
    kept: list[PageSpec] = []
    yielded: list[SiteError] = []
    for spec in pages:
        path = output_file_for(spec.url)
        owner = owned.get(path)
        if owner is not None and owner is not spec and spec.kind in ("collection", "tag"):
            message = f"the {spec.kind} page /{path} is not written: this article has that URL"
            yielded.append(SiteWarning(message, owner.origin, "give the article another URL to have both"))
        else:
            kept.append(spec)
    pages_at = {output_file_for(s.url) for s in kept}
    taken: set[str] = set()
    moved: list[OutputFile] = []
    for page in redirects:
        path = str(page.path)
        if path in pages_at or path in taken:
            there = "a page is there" if path in pages_at else "another article redirects from there"
            message = f"the redirect from /{path} is not written: {there}"
            yielded.append(SiteWarning(message, page.origin, "drop the alias"))
        else:
            taken.add(path)
            moved.append(page)
    return kept, moved, yielded


def _alternates(site: Site, specs: Mapping[str, PageSpec]) -> dict[str, list[tuple[str, str]]]:
    """Of each page in several languages, by output path: (language, URL) of each of its versions,
    in the order of `languages:` (an article's translations, a list's twins)."""
    if not site.config.languages:
        return {}
    config = site.config
    order = [language.code for language in config.languages]
    found: dict[str, list[tuple[str, str]]] = {}
    for path, spec in specs.items():
        if spec.article and spec.kind in ("article", "page"):
            others = site.translations.get(spec.article, ())
            if others:
                members = sorted((spec.article, *others), key=lambda i: order.index(site.articles[i].lang))
                found[path] = [(site.articles[i].lang, site.urls[i]) for i in members]
        elif spec.alternates:
            rest = spec.url.removeprefix(config.prefix_of(spec.lang))
            found[path] = [(code, config.prefix_of(code) + rest) for code in spec.alternates]
    return found


def _babel_locale(language: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(language.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return theme.FALLBACK_LANGUAGE


def _security(
    site: Site, chosen: theme.Theme, content: Sequence[StaticFile]
) -> tuple[tuple[OutputFile, ...], tuple[SiteWarning, ...]]:
    """The `_headers` file of the site's policy (none if `csp: false`, or if content/ has its own,
    which is then published as it is), and a warning at each inline script of its templates."""
    chosen_policy = security.site_policy(site)
    if chosen_policy is None:
        return (), ()
    said = tuple(security.inline_script_warnings(chosen.template_dirs, chosen_policy))
    own = next((item for item in content if str(item.path) == security.HEADERS_FILE), None)
    if own is not None:
        hint = "add the Content-Security-Policy of the pages' <meta> to it, or remove it to have ours"
        note = SiteWarning("your _headers is published as it is, without the site's security headers",
                           SourceLocation(own.source), hint)  # fmt: skip
        return (), (*said, note)
    return (security.render_headers(chosen_policy, site.config.base_path),), said


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
    its items lazily (see `keptplan`) stays lazy: it has an `updated` method for this."""
    updated = getattr(items, "updated", None)
    if updated is not None:
        return updated(changes)  # type: ignore[no-any-return]
    return MappingProxyType({**items, **changes})
