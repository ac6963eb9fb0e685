"""Render stage: the `Site` through the theme's Jinja templates into HTML `OutputFile`s.

Templates never see model objects: `views.py` turns them into plain dicts,
and `PageContext` lists the keys a theme may rely on. Every page links to
the others with relative URLs built from `page.root`.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from . import views
from .errors import BuildFailed, SiteError, SourceLocation, TemplateError
from .model import Config, OutputFile, Site
from .theme import Theme
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
    env.filters["pluralize"] = lambda n, one, many: one if n == 1 else many
    return env


def plan_pages(site: Site) -> Iterator[Page]:
    """Every HTML page of the site, in a stable order."""
    config = site.config
    article_views = views.article_views(site)
    collection_views = {c.key: views.collection_view(c, config) for c in site.collections}

    latest = [article_views[i] for i in site.article_ids[: config.home_latest]]
    sections = [
        {
            **collection_views[c.key],
            "articles": [article_views[i] for i in c.article_ids[: config.home_per_collection]],
        }
        for c in site.collections
        if c.article_ids
    ]
    yield Page("", "home.html", config.title, "home", {"articles": latest, "sections": sections})

    for article_id in site.article_ids:
        view = article_views[article_id]
        article = site.articles[article_id]
        yield Page(
            view["url"], "article.html", view["title"], "article", {"article": view},
            article.source_location, article.lang,
        )  # fmt: skip

    for collection in site.collections:
        cview = collection_views[collection.key]
        yield from _list_pages(
            "collection", cview["title"], collection.article_ids, collection_url(collection.key),
            {"collection": cview}, article_views, config.per_page,
        )  # fmt: skip

    tag_views = [views.tag_view(t) for t in site.tags]
    yield Page("tags/", "tags.html", "Tags", "tags", {"tags": tag_views})
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
    yield Page(archive_url(), "archive.html", "Archive", "archive", {"years": years})
    for year in years:
        yield Page(year["url"], "archive_year.html", f"Archive {year['year']}", "archive", {"year": year})

    yield Page("404.html", "404.html", "Page not found", "404", {})


def _list_pages(
    kind: str,
    title: str,
    ids: tuple[str, ...],
    first_url: str,
    context: dict[str, Any],
    article_views: dict[str, views.ArticleView],
    per_page: int,
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
            urls[index],
            f"{kind}.html",
            title if index == 0 else f"{title} (page {index + 1})",
            kind,
            {**context, "articles": [article_views[i] for i in chunk], "pagination": pagination},
        )


def render_pages(site: Site, env: jinja2.Environment, theme: Theme) -> tuple[OutputFile, ...]:
    """Render every page; raise `BuildFailed` with each template error found."""
    site_view = views.site_view(site)
    outputs: list[OutputFile] = []
    errors: dict[str, SiteError] = {}
    for page in plan_pages(site):
        try:
            html = render_page(page, site_view, env, site.config)
        except jinja2.TemplateError as exc:
            error = template_error(exc, theme)
            errors.setdefault(str(error), error)
            continue
        outputs.append(OutputFile(output_path_for(page.url), html.encode("utf-8"), page.origin))
    if errors:
        raise BuildFailed(list(errors.values()))
    return tuple(outputs)


def render_page(page: Page, site_view: views.SiteView, env: jinja2.Environment, config: Config) -> str:
    """Render one page to HTML text."""
    # 404.html is served at any depth, so its links start from the site's base path.
    root = config.base_path if page.kind == "404" else root_prefix(page.url)
    context = {
        "site": site_view,
        "page": {
            "url": page.url,
            "root": root,
            "title": page.title,
            "kind": page.kind,
            "canonical": config.base_url + page.url,
            "lang": page.lang or config.language,
        },
        **page.context,
    }
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
            f"theme '{theme.name}' must provide {exc.name}",
        )
    location = SourceLocation(theme.folder / "templates")
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".html") or filename.endswith(".xml"):
            location = SourceLocation(Path(filename), line)
    message = exc.message if exc.message else type(exc).__name__
    return TemplateError(
        message, location, "check the variable names against the theme contract in the README"
    )
