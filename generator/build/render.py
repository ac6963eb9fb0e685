"""Render stage: a plan's page specs through the theme's Jinja templates into HTML, into a sink.

Templates never see model objects: `views.py` turns them into plain dicts,
and `PageContext` lists the keys a theme may rely on. Every page links to
the others with relative URLs built from `page.root`. The Jinja filters and
functions a theme can use are all registered in `make_environment`.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from types import CodeType
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale, UnknownLocaleError
from markupsafe import Markup

from generator.base import parallel
from generator.base.errors import BuildFailed, SiteError, SourceLocation, TemplateError
from generator.base.model import Config, Progress, Site, no_progress
from generator.base.urls import absolute, author_url, output_file_for, paged, root_prefix, story_url
from generator.build import languages, views
from generator.build.pages import Links, PageSpec
from generator.build.theme import FALLBACK_LANGUAGE, Theme
from generator.build.writer import Sink


def make_environment(theme: Theme, bytecode_cache: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """The Jinja environment for a theme: autoescaped, strict about undefined names.

    With a `bytecode_cache` (the incremental layer's, which keeps compiled templates between builds),
    templates are not compiled again in every build.
    """
    env = _Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one environment serves one build; no need to stat templates per page
        bytecode_cache=_InProcess(bytecode_cache),
    )
    env.filters["date_text"] = _date_filter
    env.filters["month_text"] = _month_filter
    env.globals["t"] = _translate
    include = _cached_include(env)
    env.globals["cached_include"] = include
    env.globals["card"] = _card(include)
    return env


class _InProcess(jinja2.BytecodeCache):
    """Compiled templates kept in this process, in front of `then` (the build cache's, if any): a
    process that builds more than once (`digest serve`, a test suite) compiles each template once.
    Jinja keys them by template name and file, and checks the source's checksum."""

    codes: ClassVar[dict[str, tuple[str, CodeType]]] = {}

    def __init__(self, then: jinja2.BytecodeCache | None) -> None:
        self.then = then

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        found = self.codes.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]
            return
        if self.then is not None:
            self.then.load_bytecode(bucket)
            if bucket.code is not None:
                self.codes[bucket.key] = (bucket.checksum, bucket.code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.code is not None:
            self.codes[bucket.key] = (bucket.checksum, bucket.code)
        if self.then is not None:
            self.then.dump_bytecode(bucket)


class _Environment(jinja2.Environment):
    """Jinja's environment, quicker at `view.key` on the plain dicts that views are.

    Jinja looks up `x.key` as an attribute first and, for a dict, only after that
    fails as an item: raising and catching an exception each time, about a hundred
    times a page. Here a dict's item comes first, unless `key` names a dict
    method (`items`, `get`, ...), so that every lookup gives what Jinja's gives.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


_DICT_ATTRIBUTES = frozenset(dir(dict))


def _cached_include(env: jinja2.Environment) -> Callable[..., Markup]:
    """`cached_include(name, key, **values)`: render a partial once for each distinct `key`.

    The masthead, the footer and article cards are the same on thousands of
    pages; rendering each distinct one once makes pages several times faster.
    Everything the partial shows must be part of `key`, except the link to the
    site root (`page.root`, or a `root` value), which is filled in afterwards.
    """
    rendered: dict[tuple[str, str], str] = {}

    @jinja2.pass_context
    def cached_include(context: jinja2.runtime.Context, name: str, key: str, **values: Any) -> Markup:
        hit = rendered.get((name, key))
        if hit is None:
            shown = context["page"]
            page = {
                **shown,
                "root": _ROOT_MARK,
                "home": _ROOT_MARK + shown.get("home", "")[len(shown["root"]) :],
            }
            marked = {**values, "root": _ROOT_MARK} if "root" in values else values
            hit = env.get_template(name).render({**context.get_all(), **marked, "page": page})
            rendered[(name, key)] = hit
        return Markup(hit.replace(_ROOT_MARK, context["page"]["root"]))  # noqa: S704 - rendered, escaped

    return cached_include


_ROOT_MARK = "\x00root\x00"


def _card(include: Callable[..., Markup]) -> Callable[..., Markup]:
    """`card(article, root, heading="h3", show_collection=true)`: an article in a list (`_card.html`),
    through `cached_include`, keyed by the article, the heading and the page's languages. A function
    rather than a macro: a Jinja macro call costs more than the card's cached copy (thousands a build)."""

    @jinja2.pass_context
    def card(
        context: jinja2.runtime.Context,
        article: Any,
        root: str,
        heading: str = "h3",
        show_collection: bool = True,
    ) -> Markup:
        page = context["page"]
        key = f"{article['id']}|{heading}|{show_collection}|{page['lang']}|{page['ui_lang']}"
        values = {"article": article, "root": root, "heading": heading, "show_collection": show_collection}
        return include(context, "_card.html", key, **values)

    return card


@lru_cache(maxsize=64)
def og_locale(lang: str) -> str:
    """Open Graph's form of a language: `be_BY`, `pt_BR` (its likeliest territory, by CLDR)."""
    from babel.core import get_global

    code = lang.replace("-", "_")
    likely: Mapping[str, str] = get_global("likely_subtags")
    try:
        found = Locale.parse(code if "_" in code else likely.get(code, code))
    except (UnknownLocaleError, ValueError):
        return code
    return f"{found.language}_{found.territory}" if found.territory else found.language


@jinja2.pass_context
def _date_filter(context: jinja2.runtime.Context, value: str, pattern: str = "long") -> str:
    """An ISO date as people read it in the page's language: `3 сентября 2020 г.`, `September 3, 2020`."""
    return languages.format_day(value[:10], pattern, context["page"]["ui_lang"])


@jinja2.pass_context
def _month_filter(context: jinja2.runtime.Context, value: str) -> str:
    """An ISO date's month and year, as a heading: `September 2020`, `сентябрь 2020`."""
    return languages.format_day(value, "LLLL y", context["page"]["ui_lang"])


@jinja2.pass_context
def _translate(context: jinja2.runtime.Context, key: str, n: int | None = None, **values: Any) -> str:
    """The theme's text for `key` in the page's language; `n` picks the plural form and fills `{n}`."""
    table: Mapping[str, Any] = context["i18n"]
    if key not in table:
        raise jinja2.UndefinedError(f"no text '{key}' in the theme's i18n/{context['page']['ui_lang']}.yaml")
    text = table[key]
    if isinstance(text, dict):
        form = languages.locale_of(context["page"]["ui_lang"]).plural_form(n if n is not None else 1)
        text = text.get(form, text.get("other", ""))
    return str(text).format(n=n, **values)


class Renderer:
    """Builds template contexts and renders pages of one site; views are made once, on demand.

    One instance serves a whole build; worker processes each get a copy.
    """

    def __init__(
        self, site: Site, theme: Theme, links: Links, bytecode_cache: jinja2.BytecodeCache | None = None
    ) -> None:
        self.site = site
        self.theme = theme
        self.links = links
        self.bytecode_cache = bytecode_cache
        self._env: jinja2.Environment | None = None
        self._views: dict[str, views.ArticleView] = {}
        self._tz = ZoneInfo(site.config.timezone)
        self._titles = {c.key: c.title for c in site.collections}
        self._titles_by_language: dict[str, dict[str, str]] = {}
        self._parts: dict[str, Site] = {}  # a multilingual site's languages (`languages.py`), as met
        self._site_views: dict[str, views.SiteView] = {}

    @property
    def env(self) -> jinja2.Environment:
        if self._env is None:
            self._env = make_environment(self.theme, self.bytecode_cache)
        return self._env

    def view(self, article_id: str) -> views.ArticleView:
        view = self._views.get(article_id)
        if view is None:
            site = self.site
            view = views.article_view(
                site.articles[article_id],
                site.urls[article_id],
                self._titles_in(site.articles[article_id].lang),
                site.config,
                self._tz,
                site.media.get(article_id),
            )
            self._views[article_id] = view
        return view

    def _with_body(self, article_id: str) -> views.ArticleView:
        """The view of an article for its own page: with its text, its local images as pictures."""
        site = self.site
        found = site.media.get(article_id)
        return views.with_body(
            self.view(article_id), site.articles[article_id], found, site.config.images.sizes
        )

    def _titles_in(self, lang: str) -> dict[str, str]:
        """The collections' titles as an article in `lang` names them."""
        config = self.site.config
        if not any(spec.translated for spec in config.collections):
            return self._titles
        code = config.home_of(lang)
        if code not in self._titles_by_language:
            found = languages.collection_titles(config, code)
            self._titles_by_language[code] = {
                **self._titles,
                **{key: title for key, (title, _) in found.items()},
            }
        return self._titles_by_language[code]

    def part(self, lang: str) -> Site:
        """The site as a page in `lang` shows it: on a multilingual site, that language's part."""
        config = self.site.config
        if not config.languages:
            return self.site
        code = config.home_of(lang)
        if code not in self._parts:
            self._parts[code] = languages.part(self.site, code)
            self._site_views[code] = views.site_view(self._parts[code])
        return self._parts[code]

    def render(self, spec: PageSpec) -> bytes:
        """Render one page; raises jinja2.TemplateError."""
        part = self.part(spec.lang)
        site_view = self._site_views.get(part.config.language) or self._site_views.setdefault(
            "", views.site_view(part)
        )
        context = {**self.context(spec), "translations": self.translations(spec)}
        return render_page(spec, context, site_view, self.env, part.config, self.theme).encode("utf-8")

    def context(self, spec: PageSpec) -> dict[str, Any]:
        """The template keys beyond `site`, `page` and `i18n` (see `views.PageContext`)."""
        site = self.part(spec.lang)
        config, view = site.config, self.view
        if spec.kind == "home":
            newest = [view(i) for i in site.article_ids[: config.home_latest + 1]]
            sections = [
                {
                    **views.collection_view(c, config),
                    "articles": [view(i) for i in c.article_ids[: config.home_per_collection]],
                }
                for c in site.collections
                if c.article_ids
            ]
            return {"lead": newest[0] if newest else None, "articles": newest[1:], "sections": sections}
        if spec.kind == "page":
            return {"article": self._with_body(spec.article)}
        if spec.kind == "article":
            newer, older = self.links.neighbours.get(spec.article, (None, None))
            story = self._story_links(spec.article)
            return {
                "article": self._with_body(spec.article),
                "related": [view(i) for i in self.links.related[spec.article]],
                "newer": view(newer) if newer else None,
                "older": view(older) if older else None,
                "story": story,
            }
        if spec.kind == "story":
            told = next(s for s in site.stories if s.key == spec.group)
            about = {"title": told.title, "description": told.description, "url": spec.url,
                     "feed_url": spec.url + "feed.xml", "count": len(told.article_ids)}  # fmt: skip
            return {"story": about, "articles": [view(i) for i in spec.cards]}
        if spec.kind == "corrections":
            made = [
                {"date": c.date.astimezone(self._tz).isoformat(), "text": Markup(c.text), "article": view(i)}  # noqa: S704
                for i in spec.cards
                for c in site.articles[i].corrections
            ]
            return {"corrections": sorted(made, key=lambda c: c["date"], reverse=True)}
        if spec.kind == "author":
            return {**self._author(spec.group, site), "articles": [view(i) for i in spec.cards],
                    "pagination": _pagination(spec)}  # fmt: skip
        if spec.kind == "sources":
            return {"outlets": [views.outlet_view(o, config.url_prefix) for o in site.outlets]}
        if spec.kind == "source":
            outlet = next(o for o in site.outlets if o.slug == spec.group)
            articles = [view(i) for i in spec.cards]
            return {
                "outlet": views.outlet_view(outlet, config.url_prefix),
                "articles": articles,
                "pagination": _pagination(spec),
            }
        if spec.kind in ("collection", "tag"):
            if spec.kind == "collection":
                found = site.collection(spec.group)
                assert found is not None
                editions = (
                    f"{config.url_prefix}{found.key}/editions/"
                    if any(e.collection == found.key for e in site.editions)
                    else ""
                )
                extra = {"collection": {**views.collection_view(found, config), "editions_url": editions}}
            else:
                tag = next(t for t in site.tags if t.slug == spec.group)
                extra = {"tag": views.tag_view(tag, config.url_prefix)}
            return {**extra, "articles": [view(i) for i in spec.cards], "pagination": _pagination(spec)}
        if spec.kind == "tags":
            return {"tags": [views.tag_view(t, config.url_prefix) for t in site.tags]}
        if spec.kind == "archive":
            if spec.template == "archive.html":
                return {"years": views.archive_years(site)}
            return {"month": views.archive_month([view(i) for i in spec.cards], spec.neighbours)}
        if spec.kind in ("edition", "editions"):
            return self._edition_context(spec)
        return {}

    def _author(self, key: str, site: Site) -> dict[str, Any]:
        """A configured author's page: their profile and how many articles carry their byline."""
        found = next(a for a in site.config.authors if a.key == key)
        count = next(len(b.article_ids) for b in site.bylines if b.slug == key)
        page_url = site.config.url_prefix + author_url(key)
        return {"author": {"name": found.name, "bio": found.bio, "url": found.url, "image": found.image,
                           "page_url": page_url, "count": count}}  # fmt: skip

    def translations(self, spec: PageSpec) -> list[dict[str, Any]]:
        """This page in each language it is in, each `{lang, name, url, href, current}`, in the order
        of `languages:`, for `hreflang` alternates, the switcher and the "Also in" line: an article's
        translations, or a list page's twins (the home, a collection in every language); [] for a
        page in one language only."""
        site = self.site
        config = site.config
        names = {language.code: language.name for language in config.languages}
        if spec.article and spec.kind in ("article", "page"):
            others = site.translations.get(spec.article, ())
            order = list(names)
            members = (
                sorted((spec.article, *others), key=lambda i: order.index(site.articles[i].lang))
                if others
                else []
            )
            found = [(site.articles[i].lang, site.urls[i], i == spec.article) for i in members]
        else:
            rest = spec.url.removeprefix(config.prefix_of(spec.lang))
            found = [(code, config.prefix_of(code) + rest, code == spec.lang) for code in spec.alternates]
        return [
            {
                "lang": code,
                "name": names[code],
                "url": url,
                "href": absolute(config.base_url, url),
                "current": current,
                "locale": og_locale(code),
            }
            for code, url, current in found
        ]

    def _story_links(self, article_id: str) -> dict[str, Any] | None:
        """The running story an article is part of, with the story's earlier and later article."""
        if article_id not in self.links.stories:
            return None
        key, earlier, later = self.links.stories[article_id]
        article = self.site.articles[article_id]
        part = self.part(article.lang)
        told = next(s for s in part.stories if s.key == key)
        return {
            "title": told.title, "url": part.config.url_prefix + story_url(key),
            "count": len(told.article_ids),
            "earlier": self.view(earlier) if earlier else None, "later": self.view(later) if later else None,
        }  # fmt: skip

    def _edition_context(self, spec: PageSpec) -> dict[str, Any]:
        site = self.part(spec.lang)
        home = site.config.url_prefix
        found = site.collection(spec.group)
        collection = views.collection_view(found, site.config) if found else None
        editions = [e for e in site.editions if e.collection == spec.group]
        if spec.kind == "editions":
            return {
                "collection": collection,
                "editions": [views.edition_view(e, None, home=home) for e in editions],
            }
        edition = next(e for e in editions if e.url == spec.url)
        note = site.articles[edition.note] if edition.note else None
        newer, older = (next((e for e in editions if e.url == url), None) for url in spec.neighbours)
        return {
            "collection": collection,
            "edition": views.edition_view(
                edition, note, site.media.get(edition.note), site.config.images.sizes, home
            ),
            "articles": [self.view(i) for i in spec.cards],
            "newer": views.edition_view(newer, None, home=home) if newer else None,
            "older": views.edition_view(older, None, home=home) if older else None,
        }


def _pagination(spec: PageSpec) -> dict[str, Any]:
    urls = [paged(spec.first_url, n) for n in range(1, spec.count + 1)]
    index = spec.number - 1
    return {
        "number": spec.number,
        "count": spec.count,
        "url": spec.url,
        "prev_url": urls[index - 1] if index else None,
        "next_url": urls[index + 1] if index + 1 < len(urls) else None,
        "first_url": spec.first_url,
    }


def render_into(
    renderer: Renderer, specs: Sequence[PageSpec], sink: Sink, progress: Progress = no_progress
) -> Iterator[tuple[str, object]]:
    """Render `specs` (on all cores for many), each worker putting its pages into `sink`; yield
    each page's output path and what `sink.put` gave for it.

    A disk sink writes the page in the worker and gives its path: pages never
    travel back to this process, which saves the copying and the memory.
    Raises `BuildFailed` with every distinct template error once all pages were tried.
    """
    errors: dict[str, SiteError] = {}
    done = 0
    progress("Rendering pages", 0, len(specs))
    state = (renderer, specs, sink)
    for results in parallel.map_chunks(_render_chunk, list(range(len(specs))), RENDER_CHUNK, state):
        for path, result in results:
            if isinstance(result, SiteError):
                errors.setdefault(str(result), result)
            else:
                yield path, result
        done += len(results)
        progress("Rendering pages", done, len(specs))
    if errors:
        raise BuildFailed(list(errors.values()))


RENDER_CHUNK = 64


def _render_chunk(
    state: tuple[Renderer, Sequence[PageSpec], Sink], indices: Sequence[int]
) -> list[tuple[str, object]]:
    renderer, specs, sink = state
    results: list[tuple[str, object]] = []
    for index in indices:
        spec = specs[index]
        path = output_file_for(spec.url)
        try:
            html = renderer.render(spec)
        except jinja2.TemplateError as exc:
            results.append((path, template_error(exc, renderer.theme)))
            continue
        results.append((path, sink.put(path, html)))
    return results


def render_page(
    spec: PageSpec,
    context: dict[str, Any],
    site_view: views.SiteView,
    env: jinja2.Environment,
    config: Config,
    theme: Theme,
) -> str:
    """Render one page to HTML text."""
    # 404.html is served at any depth, so its links start from the site's base path.
    root = config.base_path if spec.kind == "404" else root_prefix(spec.url)
    lang = spec.lang or config.language
    # The theme's texts follow the page's language where the theme has them.
    candidates = (lang, config.language, FALLBACK_LANGUAGE)
    ui_lang = next((code for code in candidates if theme.texts(code) is not None), FALLBACK_LANGUAGE)
    texts = theme.texts(ui_lang) or {}
    canonical = absolute(config.base_url, spec.url)
    pagination = context.get("pagination")
    page_view: views.PageView = {
        "url": spec.url,
        "root": root,
        "title": spec.title,
        "description": spec.description or config.description or config.title,
        "kind": spec.kind,
        "canonical": canonical,
        "lang": lang,
        "ui_lang": ui_lang,
        "prev_url": pagination["prev_url"] if pagination else None,
        "next_url": pagination["next_url"] if pagination else None,
        "home": root + config.url_prefix,
        "dir": languages.direction(lang),
        "ui_dir": languages.direction(ui_lang),
        "locale": og_locale(lang),
        "translations": context.get("translations", []),
        "languages": _switcher(config, lang, context.get("translations", [])),
    }
    full: dict[str, Any] = {"site": site_view, "page": page_view, "i18n": texts, **context}
    if spec.kind == "article":
        full["structured_data"] = views.news_article_data(
            context["article"], site_view, canonical, page_view["translations"]
        )
    return env.get_template(spec.template).render(full)


def _switcher(config: Config, lang: str, translations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each language of a multilingual site, `{lang, name, url, current, translated}`: the URL of this
    page in it where there is one, else of its home page (what readers of multilingual themes ask)."""
    here = config.home_of(lang)
    found = {t["lang"]: t["url"] for t in translations}
    return [
        {
            "lang": spec.code,
            "name": spec.name,
            "url": found.get(spec.code, config.prefix_of(spec.code)),
            "current": spec.code == here,
            "translated": spec.code in found,
        }
        for spec in config.languages
    ]


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
