"""A multilingual site's parts: one `Site` per language of `languages:`, as Hugo and Zola make one
site per language. Each part lists only its language's articles (home, collections, tags, authors,
stories, editions, archives, feeds) under its own URL prefix (`ru/`), in its own title and words;
the articles, their URLs and translations are the whole site's, shared by every part.

An article in a language that `languages:` does not name (a `lang: fr` quote) is listed in the
default language's part, as on a site of one language.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from generator.base.model import Collection, Config, Site, Tag

FALLBACK_LOCALE = "en"  # the theme's fallback language too (`theme.FALLBACK_LANGUAGE`)


def parts(site: Site) -> dict[str, Site]:
    """Each language's part of `site`, by code, the default language first; a site of one language
    is its own only part, under its language's code."""
    if not site.config.languages:
        return {site.config.language: site}
    return {spec.code: part(site, spec.code) for spec in site.config.languages}


def collection_titles(config: Config, code: str) -> dict[str, tuple[str, str]]:
    """Each collection's title and description in the language `code` (`title: {be: ..., en: ...}`)."""
    return {spec.key: spec.in_language(code) for spec in config.collections}


def part(site: Site, code: str) -> Site:
    """The part of `site` in the language `code`."""
    config = site.config
    spec = next(s for s in config.languages if s.code == code)
    home_of = config.home_of
    langs = site.langs
    listed = {
        i for i in site.article_ids if home_of(langs[i] if i in langs else site.articles[i].lang) == code
    }

    def only(ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(i for i in ids if i in listed)

    def tags(groups: tuple[Tag, ...]) -> tuple[Tag, ...]:
        kept = (replace(t, article_ids=only(t.article_ids)) for t in groups)
        return tuple(t for t in kept if t.article_ids)

    prefix = config.prefix_of(code)
    titles = collection_titles(config, code)
    return replace(
        site,
        config=replace(
            config,
            language=code,
            title=spec.title or config.title,
            description=spec.description or config.description,
            menu=config.menu if spec.menu is None else spec.menu,
            url_prefix=prefix,
        ),
        article_ids=only(site.article_ids),
        collections=tuple(
            Collection(c.key, *titles.get(c.key, (c.title, c.description)), only(c.article_ids))
            for c in site.collections
        ),
        tags=tags(site.tags),
        editions=tuple(e for e in site.editions if e.lang == code),
        outlets=tags(site.outlets),
        stories=tuple(
            s for s in (replace(s, article_ids=only(s.article_ids)) for s in site.stories) if s.article_ids
        ),
        corrected=only(site.corrected),
        bylines=tags(site.bylines),
    )


@lru_cache(maxsize=4096)
def format_day(day: str, pattern: str, lang: str) -> str:
    """An ISO day (`2020-09-03`) in a CLDR pattern ("long", "LLLL y") of the language `lang`:
    `September 3, 2020`, `3 верасня 2020 г.`."""
    from babel.dates import format_date

    return format_date(date.fromisoformat(day), pattern, locale=locale_of(lang))


@lru_cache(maxsize=64)
def locale_of(lang: str) -> Any:
    """Babel's locale of a language code (`be`, `pt-BR`); English for one it does not know."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)


@lru_cache(maxsize=64)
def direction(lang: str) -> str:
    """ "rtl" for a language written right to left (Arabic, Hebrew, Persian, Urdu), by CLDR; else "ltr"."""
    from babel import Locale, UnknownLocaleError

    try:
        order = Locale.parse(lang.replace("-", "_")).character_order
    except (UnknownLocaleError, ValueError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"
