"""A multilingual site's translations: which language each article is in, and which articles are one
another's translations.

An article's language comes, as in Hugo and Zola, from its file's name (`story.ru.md`), else from
the content folder of the language (`content/ru/...`), else from its `lang:`, else it is the
default language's. Translations share a key: `translation_key:` (Hugo's `translationKey`) when
given, else the file's path without the language (`story.md` for `story.ru.md` and `ru/story.md`).
Only a site with `languages:` in config.yaml has any of this.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from generator.base.errors import SiteError, TranslationError
from generator.base.model import Article

if TYPE_CHECKING:
    from generator.base.model import Site

GIVEN, BY_FILE = "key:", "file:"  # a key written in the front matter, and one made from the file's path


def key_of(given: str, base_id: str) -> str:
    """The translation key of an article: the one it gives, else its path without the language."""
    return GIVEN + given if given else BY_FILE + base_id


def shown(key: str) -> str:
    return key.removeprefix(GIVEN).removeprefix(BY_FILE)


def language_of(article_id: str, codes: Sequence[str]) -> tuple[str, str]:
    """The language that `article_id` names (by file name, then by folder; "" if neither), and the
    id without it."""
    folder, _, name = article_id.rpartition("/")
    stem, dot, suffix = name.rpartition(".")
    base, _, code = stem.rpartition(".")
    if dot and base and code in codes:
        return code, f"{folder}/{base}.{suffix}" if folder else f"{base}.{suffix}"
    first, _, rest = article_id.partition("/")
    if rest and first in codes:
        return first, rest
    return "", article_id


def group(
    articles: Iterable[Article], codes: Sequence[str]
) -> tuple[dict[str, tuple[str, ...]], list[SiteError]]:
    """Each article's translations (the ids of the others with its key, in the languages' order of
    the articles met), and an error for a second article of one key in one language, or for a key
    given by hand that no article of the default language (the first of `codes`) has. An article
    in a language the site does not have (`lang: fr` for a quote) is no one's translation."""
    by_key: dict[str, dict[str, Article]] = {}
    errors: list[SiteError] = []
    default = codes[0]
    for article in sorted(articles, key=lambda a: a.id):
        if not article.translation_key or article.lang not in codes:
            continue
        same = by_key.setdefault(article.translation_key, {})
        other = same.get(article.lang)
        if other is not None:
            errors.append(
                TranslationError(
                    f"a second '{article.lang}' translation of '{shown(article.translation_key)}' "
                    f"(the first is {other.source_location})",
                    article.source_location,
                    "give one of them another 'lang:' or 'translation_key:'",
                )
            )
            continue
        same[article.lang] = article
    found: dict[str, tuple[str, ...]] = {}
    for key, members in by_key.items():
        if len(members) > 1:
            ids = [a.id for a in members.values()]
            for article in members.values():
                found[article.id] = tuple(i for i in ids if i != article.id)
        elif default not in members and key.startswith(GIVEN):
            article = next(iter(members.values()))
            errors.append(
                TranslationError(
                    f"'translation_key: {key.removeprefix(GIVEN)}' names no article in the default language "
                    f"({default})",
                    article.source_location,
                    "give it the key of the article it translates, or drop the key",
                )
            )
    return found, errors


def to_translate(site: Site) -> list[str]:
    """What an editor translates next, per language of a multilingual site: the default language's
    articles and pages that have no version in it (and, for the default language, the others' that
    have none in it), and its translations older than their original (the original's `updated`
    later than the translation's, or than its date if it has none). A line each, by file."""
    config = site.config
    if not config.languages:
        return []
    default = config.languages[0].code
    shown = [a for a in site.articles.values() if a.kind in ("article", "page") and a.lang in _codes(site)]
    versions = {
        a.id: {site.articles[i].lang: site.articles[i] for i in (a.id, *site.translations.get(a.id, ()))}
        for a in shown
    }
    lines: list[str] = []
    for language in config.languages:
        code = language.code
        missing = sorted(
            a.id for a in shown
            if code not in versions[a.id] and (a.lang == default or (code == default and a.lang != default))
        )  # fmt: skip
        behind = []
        for article in sorted((a for a in shown if a.lang == code and code != default), key=lambda a: a.id):
            original = versions[article.id].get(default)
            if (
                original is not None
                and original.updated
                and original.updated > (article.updated or article.date)
            ):
                when = original.updated.date().isoformat()
                behind.append(f"{article.id} (its original {original.id} was updated {when})")
        if missing or behind:
            lines.append(
                f"{code} ({language.name}): {len(missing)} to translate, {len(behind)} behind the original"
            )
            lines += [f"  to translate: {i}" for i in missing]
            lines += [f"  behind: {line}" for line in behind]
    return lines


def _codes(site: Site) -> set[str]:
    return {language.code for language in site.config.languages}
