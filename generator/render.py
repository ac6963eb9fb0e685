"""Render stage: the `Site` through the theme's Jinja templates into HTML `OutputFile`s.

Templates never see model objects: `views.py` turns them into plain dicts,
and `PageContext` lists the keys a theme may rely on. Every page links to
the others with relative URLs built from `page.root`. The Jinja filters and
functions a theme can use are all registered in `make_environment`.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from . import views
from .errors import BuildFailed, SiteError, SourceLocation, TemplateError
from .model import PROGRESS_EVERY, Config, OutputFile, Progress, Site, no_progress
from .theme import FALLBACK_LANGUAGE, Theme
from .topics import collection_neighbours, related_articles
from .urls import archive_url, collection_url, output_path_for, paged, root_prefix, tag_url


@dataclass(frozen=True, slots=True)
class Page:
    """One page to render: where it goes, which template, and its context beyond `site` and `page`."""

    url: str
    template: str
    title: str
    kind: str
    context: dict[str, Any]
    origin: SourceLocation | None = None
    lang: str = ""
    description: str = ""
    pagination: dict[str, Any] | None = field(default=None)


def make_environment(theme: Theme) -> jinja2.Environment:
    """The Jinja environment for a theme: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date_text"] = _date_filter
    env.filters["month_text"] = _month_filter
    env.globals["t"] = _translate
    return env


@lru_cache(maxsize=4096)
def _format(day: str, pattern: str, lang: str) -> str:
    return format_date(date.fromisoformat(day[:10]), pattern, locale=_locale(lang))


@lru_cache(maxsize=64)
def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LANGUAGE)


@jinja2.pass_context
def _date_filter(context: jinja2.runtime.Context, value: str, pattern: str = "long") -> str:
    """An ISO date as people read it in the page's language: `3 сентября 2020 г.`, `September 3, 2020`."""
    return _format(value, pattern, context["page"]["ui_lang"])


@jinja2.pass_context
def _month_filter(context: jinja2.runtime.Context, value: str) -> str:
    """An ISO date's month and year, as a heading: `September 2020`, `сентябрь 2020`."""
    return _format(value, "LLLL y", context["page"]["ui_lang"])


@jinja2.pass_context
def _translate(context: jinja2.runtime.Context, key: str, n: int | None = None, **values: Any) -> str:
    """The theme's text for `key` in the page's language; `n` picks the plural form and fills `{n}`."""
    table: Mapping[str, Any] = context["i18n"]
    if key not in table:
        raise jinja2.UndefinedError(f"no text '{key}' in the theme's i18n/{context['page']['ui_lang']}.yaml")
    text = table[key]
    if isinstance(text, dict):
        form = _locale(context["page"]["ui_lang"]).plural_form(n if n is not None else 1)
        text = text.get(form, text.get("other", ""))
    return str(text).format(n=n, **values)


def plan_pages(site: Site) -> Iterator[Page]:
    """Every HTML page of the site, in a stable order."""
    config = site.config
    article_views = views.article_views(site)
    collection_views = {c.key: views.collection_view(c, config) for c in site.collections}
    related = related_articles(site)
    neighbours = collection_neighbours(site)

    newest = [article_views[i] for i in site.article_ids[: config.home_latest + 1]]
    sections = [
        {
            **collection_views[c.key],
            "articles": [article_views[i] for i in c.article_ids[: config.home_per_collection]],
        }
        for c in site.collections
        if c.article_ids
    ]
    yield Page(
        "", "home.html", config.title, "home",
        {"lead": newest[0] if newest else None, "articles": newest[1:], "sections": sections},
        description=config.description or config.title,
    )  # fmt: skip

    for article_id in site.article_ids:
        view = article_views[article_id]
        article = site.articles[article_id]
        newer, older = neighbours.get(article_id, (None, None))
        context = {
            "article": view,
            "related": [article_views[i] for i in related[article_id]],
            "newer": article_views[newer] if newer else None,
            "older": article_views[older] if older else None,
        }
        yield Page(
            view["url"], "article.html", view["title"], "article", context,
            article.source_location, article.lang, view["summary"] or config.description,
        )  # fmt: skip

    for collection in site.collections:
        if not collection.article_ids:
            continue  # like the navigation and the feeds, an empty collection has no page yet
        cview = collection_views[collection.key]
        yield from _list_pages(
            "collection", cview["title"], collection.article_ids, collection_url(collection.key),
            {"collection": cview}, article_views, config.per_page, cview["description"],
        )  # fmt: skip

    tag_views = [views.tag_view(t) for t in site.tags]
    yield Page("tags/", "tags.html", "", "tags", {"tags": tag_views})
    for tag, tview in zip(site.tags, tag_views, strict=True):
        yield from _list_pages(
            "tag",
            tag.name,
            tag.article_ids,
            tag_url(tag.slug),
            {"tag": tview},
            article_views,
            config.per_page,
        )

    years = views.archive_years(site, article_views)
    yield Page(archive_url(), "archive.html", "", "archive", {"years": years})
    for year in years:
        yield Page(year["url"], "archive_year.html", str(year["year"]), "archive", {"year": year})

    yield Page("404.html", "404.html", "", "404", {})


def _list_pages(
    kind: str,
    title: str,
    ids: tuple[str, ...],
    first_url: str,
    context: dict[str, Any],
    article_views: dict[str, views.ArticleView],
    per_page: int,
    description: str = "",
) -> Iterator[Page]:
    """The pages of a paginated list: `first_url`, then `first_url/page/2/` and on."""
    chunks = [ids[i : i + per_page] for i in range(0, len(ids), per_page)] or [()]
    urls = [paged(first_url, n) for n in range(1, len(chunks) + 1)]
    for index, chunk in enumerate(chunks):
        pagination = {
            "number": index + 1,
            "count": len(chunks),
            "url": urls[index],
            "prev_url": urls[index - 1] if index else None,
            "next_url": urls[index + 1] if index + 1 < len(urls) else None,
            "first_url": first_url,
        }
        yield Page(
            urls[index], f"{kind}.html", title, kind,
            {**context, "articles": [article_views[i] for i in chunk], "pagination": pagination},
            description=description, pagination=pagination,
        )  # fmt: skip


def render_pages(
    site: Site, env: jinja2.Environment, theme: Theme, progress: Progress = no_progress
) -> tuple[OutputFile, ...]:
    """Render every page; raise `BuildFailed` with each template error found."""
    site_view = views.site_view(site)
    outputs: list[OutputFile] = []
    errors: dict[str, SiteError] = {}
    pages = list(plan_pages(site))
    for done, page in enumerate(pages):
        if done % PROGRESS_EVERY == 0:
            progress("Rendering pages", done, len(pages))
        try:
            html = render_page(page, site_view, env, site.config, theme)
        except jinja2.TemplateError as exc:
            error = template_error(exc, theme)
            errors.setdefault(str(error), error)
            continue
        outputs.append(OutputFile(output_path_for(page.url), html.encode("utf-8"), page.origin))
    if errors:
        raise BuildFailed(list(errors.values()))
    return tuple(outputs)


def render_page(
    page: Page, site_view: views.SiteView, env: jinja2.Environment, config: Config, theme: Theme
) -> str:
    """Render one page to HTML text."""
    # 404.html is served at any depth, so its links start from the site's base path.
    root = config.base_path if page.kind == "404" else root_prefix(page.url)
    lang = page.lang or config.language
    # The theme's texts follow the page's language where the theme has them.
    candidates = (lang, config.language, FALLBACK_LANGUAGE)
    ui_lang = next((code for code in candidates if theme.texts(code) is not None), FALLBACK_LANGUAGE)
    texts = theme.texts(ui_lang) or {}
    canonical = config.base_url + page.url
    page_view: views.PageView = {
        "url": page.url,
        "root": root,
        "title": page.title,
        "description": page.description or config.description or config.title,
        "kind": page.kind,
        "canonical": canonical,
        "lang": lang,
        "ui_lang": ui_lang,
        "prev_url": page.pagination["prev_url"] if page.pagination else None,
        "next_url": page.pagination["next_url"] if page.pagination else None,
    }
    context: dict[str, Any] = {"site": site_view, "page": page_view, "i18n": texts, **page.context}
    if page.kind == "article":
        context["structured_data"] = views.news_article_data(page.context["article"], site_view, canonical)
    return env.get_template(page.template).render(context)


def template_error(exc: jinja2.TemplateError, theme: Theme) -> TemplateError:
    """A `TemplateError` located at the template file and line that failed."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        path = Path(exc.filename) if exc.filename else theme.folder / "templates" / str(exc.name)
        return TemplateError(f"template syntax: {exc.message}", SourceLocation(path, exc.lineno or 0))
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(
            f"template '{exc.name}' not found",
            SourceLocation(theme.folder / "templates"),
            f"theme '{theme.name}' (or a theme it extends) must provide {exc.name}",
        )
    location = SourceLocation(theme.folder / "templates")
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith((".html", ".xml")):
            location = SourceLocation(Path(filename), line)
    message = exc.message if exc.message else type(exc).__name__
    return TemplateError(
        message, location, "check the variable names against the theme contract in the README"
    )
