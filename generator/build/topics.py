"""Topics stage: resolve each article's collections, group articles into
collections and tags, and assemble the in-memory `Site`.

Input articles are newest first; every grouping keeps that order.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from types import MappingProxyType
from zoneinfo import ZoneInfo

from generator.base.errors import BuildFailed, CollectionError, OutputConflictError, SiteError, SourceLocation
from generator.base.model import Article, Collection, CollectionSpec, Config, Edition, Site, Tag
from generator.base.urls import permalink, slugify
from generator.build import translations
from generator.build.config import KEY_PATTERN, RESERVED_KEYS


def collection_key(name: str, specs: Iterable[CollectionSpec]) -> str | None:
    """The key of the collection `name` means: a key or a title, in any case, or their slug."""
    folded, slug = _fold(name), slugify(name)
    for spec in specs:
        if folded in (spec.key, _fold(spec.title)) or slug in (spec.key, slugify(spec.title)):
            return spec.key
    return None


def unknown_collection(
    name: str, specs: tuple[CollectionSpec, ...], location: SourceLocation | None
) -> CollectionError:
    """The error for a collection name that matches none of `specs`, with a "did you mean" hint."""
    choices = [s.key for s in specs] + [s.title for s in specs]
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    by_title = {s.title: s.key for s in specs}
    if close:
        hint = f"did you mean '{by_title.get(close[0], close[0])}'?"
    else:
        hint = "known collections: " + ", ".join(s.key for s in specs)
    return CollectionError(
        f"unknown collection '{name}'",
        _at_its_line(location, name),
        hint + " (collections are listed in config.yaml)",
    )


_COLLECTION_KEY = re.compile(r"^(collection|collections|categories|category|section)\s*[:=]", re.I)


def _at_its_line(location: SourceLocation | None, name: str) -> SourceLocation | None:
    """`location` at the front matter line that names the collection `name` (read again: an error
    is rare, and articles keep no line of each field)."""
    if location is None or location.line:
        return location
    try:
        lines = location.path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return location
    under = False
    for number, line in enumerate(lines[:200], 1):
        if number > 1 and line.strip() in ("---", "+++"):
            break
        if _COLLECTION_KEY.match(line.strip()):
            under = True
        elif line[:1].strip():  # another key at the left margin
            under = False
        if under and name in line:
            return SourceLocation(location.path, number)
    return location


def require_collection(name: str, specs: tuple[CollectionSpec, ...], location: SourceLocation | None) -> str:
    """The key for `name`; any slug when no collections are configured. Raises `BuildFailed` if unknown."""
    key = collection_key(name, specs) if specs else _open_key(name)
    if not key:
        raise BuildFailed([unknown_collection(name, specs, location)])
    return key


def resolve_collections(
    articles: Iterable[Article], config: Config
) -> tuple[tuple[Article, ...], tuple[CollectionSpec, ...], list[SiteError]]:
    """Replace the collection names articles give with collection keys.

    A name matches a configured collection by key, by title, or by slug, in
    any case; an unknown name is an error, returned with the results. An
    article that names none takes its first category (Jekyll, Pelican) that
    is a collection, the others becoming tags; else the folder it sits in
    under `content/` when that folder is a collection. With no collections
    in the config, the names the articles use form the collections.
    """
    specs = list(config.collections)
    is_open = not specs
    errors: list[SiteError] = []
    resolved: list[Article] = []
    known: dict[str, str | None] = {}  # name -> key, as thousands of articles repeat a few names

    def collection_key_of(name: str) -> str | None:
        if name not in known:
            known[name] = collection_key(name, specs)
        return known[name]

    codes = tuple(spec.code for spec in config.languages)
    for article in articles:
        keys: list[str] = []
        names = article.collections
        if not names and article.categories:  # Jekyll, Pelican: a category that is a collection
            matching = [c for c in article.categories if collection_key_of(c) or is_open]
            if matching:
                names = (matching[0],)
                rest = tuple(c for c in article.categories if c != matching[0] and c not in article.tags)
                article = dataclasses.replace(article, tags=article.tags + rest)
            else:
                article = dataclasses.replace(article, tags=article.tags + article.categories)
        parts = _without_language(article.id, codes).split("/")
        bundled = len(parts) == 2 and parts[1].rsplit(".", 1)[0] == "index"  # a bundle at the top: no folder
        if not names and len(parts) > 1 and not bundled and not article.id.startswith("_"):
            folder = parts[0]
            if is_open or collection_key_of(folder) == folder:
                names = (folder.replace("-", " ").replace("_", " ").title() if is_open else folder,)
        for name in names:
            key = collection_key_of(name)
            if key is None and is_open and (key := _open_key(name)):
                specs.append(CollectionSpec(key, name))
                known.clear()
            if key is None:
                if article.collections:
                    errors.append(unknown_collection(name, config.collections, article.source_location))
            elif key not in keys:
                keys.append(key)
        found = tuple(keys)
        resolved.append(
            article if found == article.collections else dataclasses.replace(article, collections=found)
        )
    return tuple(resolved), tuple(specs), errors


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def _open_key(name: str) -> str:
    key = slugify(name)
    if key in RESERVED_KEYS:
        key += "-1"
    return key if KEY_PATTERN.fullmatch(key) else ""


def group_collections(
    articles: tuple[Article, ...], specs: tuple[CollectionSpec, ...]
) -> tuple[Collection, ...]:
    """One `Collection` per spec, in config order, each listing its articles newest first."""
    members: dict[str, list[str]] = {s.key: [] for s in specs}
    for article in articles:
        for key in article.collections:
            members[key].append(article.id)
    return tuple(Collection(s.key, s.title, s.description, tuple(members[s.key])) for s in specs)


def group_tags(articles: tuple[Article, ...]) -> tuple[Tag, ...]:
    """One `Tag` per tag slug, sorted by name; the first spelling met names it."""
    names: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for article in articles:
        for tag in article.tags:
            slug = slugify(tag)
            if not slug:
                continue
            names.setdefault(slug, tag)
            ids = members.setdefault(slug, [])
            if not ids or ids[-1] != article.id:
                ids.append(article.id)
    return tuple(
        Tag(slug, names[slug], tuple(members[slug]))
        for slug in sorted(names, key=lambda s: (names[s].casefold(), s))
    )


PAGE_PERMALINK = "/:slug/"  # a standalone page (About, Contact): no date, no collection


def assign_urls(articles: tuple[Article, ...], config: Config) -> tuple[dict[str, str], list[SiteError]]:
    """Each article's URL, from its `url:` or its collection's (else the site's) permalink pattern.

    Two articles at the same URL are an `OutputConflictError`, and so is a URL outside the output.
    """
    patterns = {spec.key: spec.permalink for spec in config.collections if spec.permalink}
    tz = ZoneInfo(config.timezone)
    urls: dict[str, str] = {}
    owners: dict[str, Article] = {}
    errors: list[SiteError] = []
    codes = tuple(spec.code for spec in config.languages)
    for article in sorted(articles, key=lambda a: a.id):
        try:
            url = article_url(article, config, patterns, tz, codes)
        except ValueError as unsafe:
            message = f"the URL pattern {str(unsafe)!r} gives an unsafe path for this article"
            errors.append(OutputConflictError(message, article.source_location))
            continue
        if url in owners:
            other = owners[url]
            errors.append(
                OutputConflictError(
                    f"this article and {other.source_location} would both be written to /{url}",
                    article.source_location,
                    "give one of them a different 'slug:' (or 'url:') in its front matter",
                )
            )
            continue
        owners[url] = article
        urls[article.id] = url
    return urls, errors


def _without_language(article_id: str, codes: tuple[str, ...]) -> str:
    """The id of an article as its collection and URL see it: without its language's folder
    (`ru/news/x.md`) or suffix (`news/x.ru.md`) on a multilingual site."""
    return translations.language_of(article_id, codes)[1] if codes else article_id


def article_url(
    article: Article,
    config: Config,
    patterns: Mapping[str, str] | None = None,
    tz: ZoneInfo | None = None,
    codes: tuple[str, ...] | None = None,
) -> str:
    """The URL (relative) that the site's patterns give `article`, before any conflict is seen;
    raises ValueError, with the pattern, if the path would be unsafe."""
    if patterns is None:
        patterns = {spec.key: spec.permalink for spec in config.collections if spec.permalink}
    tz = tz or ZoneInfo(config.timezone)
    codes = tuple(spec.code for spec in config.languages) if codes is None else codes
    pattern = article.url or (PAGE_PERMALINK if article.kind == "page" else "")
    pattern = pattern or patterns.get(article.collection) or config.permalink
    moment = article.date.astimezone(tz)
    source = PurePosixPath(_without_language(article.id, codes))
    jekyll = bool({"_posts", "_drafts"} & set(source.parts))  # :title: the file name
    if source.stem in ("index", "_index") and len(source.parts) > 1:  # a bundle, a section: by its folder
        source = source.parent
    try:
        url = permalink(
            pattern, collection=article.collection, day=moment.date(), slug=article.slug,
            filename=source.stem, categories=article.categories,
            title=article.slug if jekyll else article.title, path=_folder_path(source),
            moment=moment.replace(tzinfo=None),
        )  # fmt: skip
    except ValueError:
        raise ValueError(pattern) from None
    return url if article.url else config.prefix_of(article.lang) + url  # a language's under /<code>/


def _folder_path(source: PurePosixPath) -> str:
    """The folder of an article's file, for `:path`: without Jekyll's `_posts` and `_drafts`, and
    without the folder of a Jekyll collection (`_docs/`: its label is in the pattern)."""
    parts = [p for p in source.parent.parts if p not in ("_posts", "_drafts")]
    return "/".join(parts[1:] if parts and parts[0].startswith("_") else parts)


def assemble_site(articles: tuple[Article, ...], config: Config, errors: Iterable[SiteError] = ()) -> Site:
    """Resolve collections, group, and give every article its URL.

    Raises `BuildFailed` with the given earlier `errors` and every error found
    here, so that one run reports all broken articles.
    """
    stories = tuple(a for a in articles if a.kind == "article")
    pages = tuple(a for a in articles if a.kind == "page")
    resolved, specs, collection_errors = resolve_collections(stories, config)
    notes, _, note_errors = resolve_collections([a for a in articles if a.kind == "edition"], config)
    sections = [a for a in articles if a.kind == "section"]
    specs = with_sections(specs, sections)
    keys = {s.key for s in specs}  # a section of no collection (Hugo's list of pages) is a page of its own
    pages += tuple(
        dataclasses.replace(a, kind="page")
        for a in sections
        if "/" in a.id and a.id.split("/")[0] not in keys
    )
    urls, url_errors = assign_urls((*resolved, *pages), config)
    editions, edition_errors = _editions(resolved, specs, notes, config)
    urls.update((e.note, e.url) for e in editions if e.note)
    linked, translation_errors = (
        translations.group((*resolved, *pages), [spec.code for spec in config.languages])
        if config.languages
        else ({}, [])
    )
    found = [*errors, *collection_errors, *note_errors, *url_errors, *edition_errors, *translation_errors]
    if found:
        raise BuildFailed(found)
    shown_notes = {e.note for e in editions}
    return Site(
        config=config,
        articles=MappingProxyType(
            {a.id: a for a in (*resolved, *pages, *notes) if a.kind != "edition" or a.id in shown_notes}
        ),
        article_ids=tuple(a.id for a in resolved),
        collections=group_collections(resolved, specs),
        tags=group_tags(resolved),
        urls=MappingProxyType(urls),
        editions=editions,
        outlets=group_outlets(resolved),
        stories=group_stories(resolved, config, [a for a in articles if a.kind == "story"]),
        corrected=corrected_ids(resolved),
        bylines=group_bylines(resolved, config),
        translations=MappingProxyType(linked),
        langs=MappingProxyType({a.id: a.lang for a in resolved}),
    )


def _editions(
    articles: tuple[Article, ...],
    specs: tuple[CollectionSpec, ...],
    notes: tuple[Article, ...],
    config: Config,
) -> tuple[tuple[Edition, ...], list[SiteError]]:
    """The editions of the site; of a multilingual site, each language's apart (its articles, its
    edition files, under its URL prefix), one language after the other."""
    from generator.build.editions import group_editions

    if not config.languages:
        return group_editions(articles, specs, notes, config)
    editions: list[Edition] = []
    errors: list[SiteError] = []
    for language in config.languages:
        code = language.code
        mine = [a for a in articles if config.home_of(a.lang) == code]
        found, problems = group_editions(
            mine, specs, [n for n in notes if config.home_of(n.lang) == code], config
        )
        prefix = config.prefix_of(code)
        editions += [dataclasses.replace(e, url=prefix + e.url, lang=code) for e in found]
        errors += problems
    return tuple(editions), errors


def author_key(name: str, config: Config) -> str | None:
    """The configured author a byline name means: by key or by name, in any case."""
    folded = _fold(name)
    return next((a.key for a in config.authors if folded in (a.key, _fold(a.name))), None)


def group_bylines(articles: tuple[Article, ...], config: Config) -> tuple[Tag, ...]:
    """Each configured author with their articles, newest first, in the config's order."""
    members: dict[str, list[str]] = {a.key: [] for a in config.authors}
    for article in articles:
        for name in article.authors or ((config.author,) if config.author else ()):
            key = author_key(name, config)
            if key and article.id not in members[key]:
                members[key].append(article.id)
    return tuple(Tag(a.key, a.name, tuple(members[a.key])) for a in config.authors if members[a.key])


def corrected_ids(articles: tuple[Article, ...]) -> tuple[str, ...]:
    """The articles with corrections, the one corrected last first."""
    corrected = [a for a in articles if a.corrections]
    corrected.sort(key=lambda a: a.corrections[-1].date, reverse=True)
    return tuple(a.id for a in corrected)


def group_stories(
    articles: tuple[Article, ...], config: Config, files: Iterable[Article] = ()
) -> tuple[Collection, ...]:
    """One `Collection` per running story, its articles oldest first: the stories of the config in
    their order, then those of story files (`stories/<key>.md`: title, description), then those only
    named by articles (titled by the name)."""
    specs = list(config.stories)
    known = {s.key for s in specs}
    specs += [CollectionSpec(f.slug, f.title, f.summary) for f in files if f.slug not in known]
    members: dict[str, list[str]] = {s.key: [] for s in specs}
    for article in reversed(articles):  # oldest first
        if not article.story:
            continue
        key = collection_key(article.story, specs)
        if key is None:
            key = slugify(article.story)
            if not key:
                continue
            specs.append(CollectionSpec(key, article.story))
            members[key] = []
        members[key].append(article.id)
    return tuple(
        Collection(s.key, s.title, s.description, tuple(members[s.key])) for s in specs if members[s.key]
    )


def group_outlets(articles: tuple[Article, ...]) -> tuple[Tag, ...]:
    """One `Tag` per source outlet (its key, its name as first met, the articles taken from it,
    newest first), sorted by name."""
    names: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for article in articles:
        for source in article.sources:
            key = source.outlet
            if key:
                names.setdefault(key, source.name)
                ids = members.setdefault(key, [])
                if article.id not in ids:
                    ids.append(article.id)
    return tuple(
        Tag(k, names[k], tuple(members[k])) for k in sorted(names, key=lambda k: (names[k].casefold(), k))
    )


def with_sections(
    specs: tuple[CollectionSpec, ...], sections: Iterable[Article]
) -> tuple[CollectionSpec, ...]:
    """The collections, with what Hugo's `content/<key>/_index.md` says of its folder's collection:
    its title where the config gives none of its own, and its description where the config gives none."""
    found = {a.id.split("/", 1)[0]: a for a in sections if "/" in a.id}
    updated = []
    for spec in specs:
        section = found.get(spec.key)
        if section is not None:
            title = spec.title if spec.title != spec.key else section.title or spec.title
            spec = dataclasses.replace(spec, title=title, description=spec.description or section.summary)
        updated.append(spec)
    return tuple(updated)


def related_articles(site: Site, limit: int = 4, window: int = 12) -> dict[str, tuple[str, ...]]:
    """For each article, up to `limit` related ones: the same collection first, then shared tags.

    Candidates are the `window` nearest articles in time on each side, in the
    article's collection and in each of its tags' lists, ranked by tags shared,
    then by closeness. Bounding the window keeps this linear in the site's size.
    """
    lists = {c.key: c.article_ids for c in site.collections}
    positions = {key: {a: i for i, a in enumerate(ids)} for key, ids in lists.items()}
    tag_lists = {t.slug: t.article_ids for t in site.tags}
    tag_positions = {slug: {a: i for i, a in enumerate(ids)} for slug, ids in tag_lists.items()}
    slugs = {a.id: frozenset(slugify(t) for t in a.tags) for a in site.articles.values()}
    result: dict[str, tuple[str, ...]] = {}
    for article_id in site.article_ids:
        article = site.articles[article_id]
        mine = slugs[article_id]
        picks: list[str] = []
        if article.collection:
            ids = lists[article.collection]
            same = _nearby(ids, positions[article.collection][article_id], window, mine, slugs)
            picks = [candidate[-1] for candidate in sorted(same)[:limit]]
        if len(picks) < limit and mine:
            others = {
                candidate
                for slug in mine
                if slug in tag_lists
                for candidate in _nearby(
                    tag_lists[slug], tag_positions[slug][article_id], window, mine, slugs
                )
                if candidate[0] < 0
            }
            for *_, other in sorted(others):
                if len(picks) == limit:
                    break
                if other not in picks:
                    picks.append(other)
        result[article_id] = tuple(picks)
    return result


def _nearby(
    ids: tuple[str, ...], at: int, window: int, tags: frozenset[str], slugs: dict[str, frozenset[str]]
) -> list[tuple[int, int, int, str]]:
    """(minus tags shared, distance, position, id) for the articles within `window` of `at`.

    Sorting these ranks more shared tags first, then nearer, then newer.
    """
    return [
        (-len(tags & slugs[ids[j]]), abs(j - at), j, ids[j])
        for j in range(max(0, at - window), min(len(ids), at + window + 1))
        if j != at
    ]


def story_neighbours(site: Site) -> dict[str, tuple[str, str | None, str | None]]:
    """For each article in a running story: the story's key, and the (earlier, later) article of it."""
    result: dict[str, tuple[str, str | None, str | None]] = {}
    for story in site.stories:
        ids = story.article_ids
        for i, article_id in enumerate(ids):
            result[article_id] = (
                story.key,
                ids[i - 1] if i else None,
                ids[i + 1] if i + 1 < len(ids) else None,
            )
    return result


def collection_neighbours(site: Site) -> dict[str, tuple[str | None, str | None]]:
    """For each article, the (newer, older) article next to it in its primary collection."""
    result: dict[str, tuple[str | None, str | None]] = {}
    for collection in site.collections:
        ids = collection.article_ids
        for i, article_id in enumerate(ids):
            if site.articles[article_id].collection == collection.key:
                result[article_id] = (ids[i - 1] if i else None, ids[i + 1] if i + 1 < len(ids) else None)
    return result
