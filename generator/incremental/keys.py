"""Keys layer: for each file of a `Plan`, a hash of everything it shows, so that a build renders
and writes only the files whose key changed since the last one.

`keys_of(plan)` gives every key; `with_new_text(plan, keys, fresh)` brings a
plan and its keys up to date when only some articles' text changed, or says
that a whole plan is needed. What a key covers is decided once per field, in
the tables below: a test fails when `Article` or `PageSpec` gains a field that
is in none of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.base.hashing import code_key, file_hash, stable_hash
from generator.base.model import Article, Site
from generator.build import feeds, media
from generator.build.pages import PageSpec
from generator.build.plan import Plan, replaced
from generator.build.theme import Theme

if TYPE_CHECKING:
    import jinja2

# Article fields. Every one is in the article's key through its `source_hash` (a hash of the file);
# the tables say what an edit of each may change besides the pages that show the article.
# LAYOUT: its place in lists, links, URLs and feeds' order: a change needs a whole plan.
ARTICLE_LAYOUT = frozenset(
    {
        "id", "slug", "title", "date", "source_location", "collections", "tags", "authors", "updated",
        "is_draft", "image", "sources", "corrections", "story", "lang", "url", "aliases", "categories",
        "publish_date",
        "expiry_date",
        "kind", "extra", "translation_key",
        "status",  # not from the file: in the article's key on its own (`article_keys`)
    }
)  # fmt: skip
# TEXT: only what the pages showing the article show (and its page's description): `with_new_text`.
ARTICLE_TEXT = frozenset(
    {
        "body_html",
        "summary",
        "word_count",
        "source_hash",
        "summary_from_text",
        "notes",
        "markdown",
        "markdown_line",
    }
)

# PageSpec fields. KEYED: hashed as they are into the page's key.
SPEC_KEYED = (
    "url", "template", "kind", "title", "description", "group", "number", "count", "first_url", "counts",
    "neighbours", "lang", "alternates",
)  # fmt: skip
# ARTICLES: the articles the page shows, in its key by their article keys.
SPEC_ARTICLES = frozenset({"article", "cards"})
# NOT SHOWN: where errors of the page are reported.
SPEC_NOT_SHOWN = frozenset({"origin"})


@dataclass(frozen=True, slots=True)
class Keys:
    """The keys of a plan's files, and what `with_new_text` needs to make a few of them again."""

    files: Mapping[str, str]  # output path -> key, for every file of the plan
    search: Mapping[str, str]  # article page path -> key of what the search index takes from it
    articles: Mapping[str, str]  # article id -> key
    site: str  # what every page shows: the generator, the config, the theme's texts, the navigation
    templates: Mapping[str, str]  # template name -> key of it and every template it uses
    shown_on: Mapping[str, tuple[str, ...]]  # article id -> output paths of the pages showing it


def keys_of(plan: Plan) -> Keys:
    """The key of every file of `plan`."""
    site = plan.site
    site_key = _site_key(site, plan.theme)
    templates = template_keys(plan.theme)
    articles = article_keys(site, site.articles)
    files = {path: page_key(spec, articles, site_key, templates) for path, spec in plan.specs.items()}
    files.update((str(o.path), stable_hash(o.content)) for o in plan.feeds)
    files.update((str(s.path), file_hash(s.source)) for s in plan.static)
    for picture in plan.pictures:
        files.update(media.variant_keys(picture))
    search = {
        path: _search_key(spec, site_key, templates, articles)
        for path, spec in plan.specs.items()
        if spec.kind == "article" and site.config.search
    }
    shown_on: dict[str, list[str]] = {}
    for path, spec in plan.specs.items():
        for article_id in (spec.article, *spec.cards) if spec.article else spec.cards:
            shown_on.setdefault(article_id, []).append(path)
    return Keys(
        files, search, articles, site_key, templates, {i: tuple(paths) for i, paths in shown_on.items()}
    )


def with_new_text(plan: Plan, keys: Keys, fresh: Mapping[str, Article]) -> tuple[Plan, Keys] | None:
    """`plan` and `keys` with the articles `fresh` (by id, collections resolved) in place of theirs,
    if only their text changed: every `ARTICLE_LAYOUT` field equal, so the same pages, lists and
    links. Only the pages and feeds showing them are keyed again. None if anything more changed.
    """
    site = plan.site
    for article_id, article in fresh.items():
        old = site.articles.get(article_id)
        if old is None or _layout(article) != _layout(old):
            return None
        if media.references(article) != media.references(old):
            return None  # another image or file: the media stage must look at it
    config = site.config
    site = dataclasses.replace(site, articles=replaced(site.articles, fresh))
    articles = {**keys.articles, **article_keys(site, fresh)}
    files = dict(keys.files)
    search = dict(keys.search)
    changes = {}
    for path in dict.fromkeys(path for i in fresh for path in keys.shown_on.get(i, ())):
        spec = plan.specs[path]
        if spec.article in fresh:
            description = fresh[spec.article].summary or config.description
            spec = changes[path] = dataclasses.replace(spec, description=description)
            if config.search:
                search[path] = _search_key(spec, keys.site, keys.templates, articles)
        files[path] = page_key(spec, articles, keys.site, keys.templates)
    news = feeds.render_feeds(site, fresh)
    files.update((str(o.path), stable_hash(o.content)) for o in news)
    renewed = {o.path for o in news}
    plan = dataclasses.replace(
        plan,
        site=site,
        specs=replaced(plan.specs, changes),
        feeds=(*news, *(o for o in plan.feeds if o.path not in renewed)),
    )
    return plan, dataclasses.replace(keys, files=files, search=search, articles=articles)


def _layout(article: Article) -> tuple[object, ...]:
    return tuple(getattr(article, name) for name in sorted(ARTICLE_LAYOUT))


def page_key(spec: PageSpec, articles: Mapping[str, str], site_key: str, templates: Mapping[str, str]) -> str:
    """Changes whenever anything the page shows changes: its data, its articles, its template, the site."""
    shown = [articles[spec.article]] if spec.article else []
    shown += [articles[i] for i in spec.cards]
    values = tuple(getattr(spec, name) for name in SPEC_KEYED)
    return stable_hash(site_key, templates.get(spec.template, ""), repr(values), "".join(shown))


def _search_key(
    spec: PageSpec, site_key: str, templates: Mapping[str, str], articles: Mapping[str, str]
) -> str:
    """What the search index takes from an article page: the page but its cards."""
    return stable_hash(site_key, templates.get(spec.template, ""), articles[spec.article], spec.lang)


def article_keys(site: Site, chosen: Mapping[str, Article]) -> dict[str, str]:
    """For each of the `chosen` articles of `site`, a hash of everything of it a page can show."""
    found = site.media
    return {
        i: stable_hash(a.source_hash, a.status, site.urls[i], *a.collections, repr(found.get(i, "")))
        for i, a in chosen.items()
    }


def _site_key(site: Site, chosen_theme: Theme) -> str:
    navigation = [(c.key, c.title, bool(c.article_ids)) for c in site.collections]
    # Every page's footer links to the sources and corrections pages once there are any.
    footer = (bool(site.outlets), bool(site.corrected))
    navigation.append(("", repr(footer), True))
    texts = repr(sorted((lang, sorted(table.items())) for lang, table in chosen_theme.translations.items()))
    return stable_hash(code_key(), repr(site.config), texts, repr(navigation))


def template_keys(chosen_theme: Theme) -> dict[str, str]:
    """For each template, a hash of its source and of every template it extends, includes or imports.

    A page's key holds its template's, so an edit of `404.html` renders one
    page again and an edit of `base.html` renders them all.
    """
    import jinja2  # only when keys are made: a build with nothing to do never needs Jinja

    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(d) for d in chosen_theme.template_dirs]))  # noqa: S701 - parsed, never rendered
    assert env.loader is not None
    sources: dict[str, str] = {}
    references: dict[str, frozenset[str] | None] = {}
    for name in env.loader.list_templates():
        source = env.loader.get_source(env, name)[0]
        sources[name] = source
        references[name] = _references(env, source)
    keys = {}
    for name in sources:
        closure, todo = {name}, [name]
        while todo:
            refs = references.get(todo.pop(), frozenset())
            if refs is None:  # a computed template name: it may be any of them
                closure = set(sources)
                break
            todo += [r for r in refs if r not in closure]
            closure |= refs
        keys[name] = stable_hash(*(f"{n}\0{sources.get(n, '')}" for n in sorted(closure)))
    return keys


_REFERENCES: dict[str, frozenset[str] | None] = {}  # by template source, for the rebuilds of `serve`


def _references(env: jinja2.Environment, source: str) -> frozenset[str] | None:
    """The templates `source` extends, includes or imports; None if it names one by an expression."""
    import jinja2.meta

    if source not in _REFERENCES:
        try:
            names = set(jinja2.meta.find_referenced_templates(env.parse(source)))
        except jinja2.TemplateSyntaxError:
            names = {None}
        if len(_REFERENCES) > 512:
            _REFERENCES.clear()
        _REFERENCES[source] = None if None in names else frozenset(n for n in names if n)
    return _REFERENCES[source]
