"""Content stage: parse every article (found and read by `contentfiles.py`; its fields read by `fields.py`).

`read_articles(paths, config)` gives the articles newest first and an error
for every broken file, all at once. It reads only what it is given (the
build cache wraps it, see `cache.read_through`). `parse_article` is pure: it
takes a file's text and gives an `Article`, so it can run in any process.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from generator.base import parallel, yamlutil
from generator.base.errors import BuildFailed, FrontMatterError, SiteError, SiteWarning, SourceLocation
from generator.base.model import (
    NO_RULES,
    Article,
    Config,
    FieldDefaults,
    FieldRules,
    Progress,
    Showing,
    no_progress,
)
from generator.build import frontmatter
from generator.build.contentfiles import HTML_SUFFIXES, RawArticle, ReadRules, find_articles, load_files
from generator.build.fields import FieldReader

# The content stage as the build calls it (the incremental layer wraps it): articles and errors.
Reader = Callable[[Config, Progress, Showing], tuple[tuple[Article, ...], list[Any]]]


def read_content(
    config: Config, progress: Progress = no_progress, showing: Showing | None = None
) -> tuple[tuple[Article, ...], list[SiteError]]:
    """Find, read and parse every article below the config's content folder (see `read_articles`)."""
    return read_articles(find_articles(config), config, progress, showing)


def read_articles(
    paths: Sequence[str], config: Config, progress: Progress = no_progress, showing: Showing | None = None
) -> tuple[tuple[Article, ...], list[SiteError]]:
    """Read and parse the article files `paths` (on all cores for many).

    Returns the good articles newest first, and an error for each broken file
    (so that later stages can still report their own problems in the same run).
    The text of an article that `showing` does not show is checked but not
    converted (see `finish`); without `showing`, every article's is.
    """
    articles, errors = parse_files([Path(p) for p in paths], config, progress, showing)
    return sort_newest_first(articles), errors


def parse_files(
    paths: list[Path], config: Config, progress: Progress = no_progress, showing: Showing | None = None
) -> tuple[list[Article], list[SiteError]]:
    """Read and parse the files (on all cores for many); collect the errors of all of them.

    Workers read the files themselves, so the texts never pass through (or
    stay in) this process.
    """
    from generator.build import markup

    markup.use(config.markdown_extensions, config.markdown_configs)  # before the workers fork
    articles: list[Article] = []
    errors: list[SiteError] = []
    done = 0
    progress("Reading articles", 0, len(paths))
    state = (ReadRules.of(config), ZoneInfo(config.timezone), showing, FieldRules.of(config))
    for parsed, problems in parallel.map_chunks(_parse_chunk, paths, PARSE_CHUNK, state):
        articles += parsed
        errors += problems
        done = min(done + PARSE_CHUNK, len(paths))
        progress("Reading articles", done, len(paths))
    return articles, errors


PARSE_CHUNK = 40


def _parse_chunk(
    state: tuple[ReadRules, ZoneInfo, Showing | None, FieldRules], paths: Sequence[Path]
) -> tuple[list[Article], list[SiteError]]:
    rules, tz, showing, fields = state
    raws, errors = load_files(rules, paths)
    articles: list[Article] = []
    for raw in raws:
        try:
            articles.append(parse_article(raw, tz, showing, fields))
        except BuildFailed as failed:
            errors += failed.errors
    return articles, errors


def finish_shown(
    articles: Sequence[Article], showing: Showing
) -> tuple[list[Article], list[SiteError], list[Article]]:
    """`articles` with the text of each one that `showing` shows converted (those read while they
    were not shown: a draft since published, an article fallen due); the errors of those that
    fail; and the articles converted now (for the cache to keep)."""
    pending = [a for a in articles if a.markdown and shows(a, showing)]
    if not pending:
        return list(articles), [], []
    done: dict[str, Article] = {}
    errors: list[SiteError] = []
    for finished, problems in parallel.map_chunks(_finish_chunk, pending, PARSE_CHUNK, None):
        done.update((a.id, a) for a in finished)
        errors += problems
    failed = {a.id for a in pending} - done.keys()
    kept = [done.get(a.id, a) for a in articles if a.id not in failed]
    return kept, errors, list(done.values())


def _finish_chunk(_: None, articles: Sequence[Article]) -> tuple[list[Article], list[SiteError]]:
    finished: list[Article] = []
    errors: list[SiteError] = []
    for article in articles:
        try:
            finished.append(finish(article))
        except BuildFailed as failed:
            errors += failed.errors
    return finished, errors


def sort_newest_first(articles: Iterable[Article]) -> tuple[Article, ...]:
    """Newest first; the id breaks ties so the order never depends on the file system."""
    by_id = sorted(articles, key=lambda a: a.id)
    return tuple(sorted(by_id, key=lambda a: a.date, reverse=True))


def parse_article(
    raw: RawArticle, tz: ZoneInfo, showing: Showing | None = None, fields: FieldRules = NO_RULES
) -> Article:
    """Parse one article file; raise `BuildFailed` with every problem in it. Its text is converted
    unless `showing` is given and does not show it (see `finish`). `fields` are the config's
    `defaults:` (the fields the file lacks), `slug_source` and `params:`."""
    path = raw.path
    bad = yamlutil.find_forbidden(raw.text)
    removed = None
    if bad:  # as a browser or another generator would take it: without the character, and said
        line, col, message = bad
        raw = dataclasses.replace(raw, text=yamlutil.FORBIDDEN.sub("", raw.text))
        removed = SiteWarning(
            f"{message}; it was removed, with any other such character in the file",
            SourceLocation(path, line, col),
            "remove it from the file to silence this warning",
        )
    try:
        found = frontmatter.split(raw.text, path)
    except FrontMatterError as exc:
        raise BuildFailed([exc]) from None
    given = default_fields(raw.id, fields.defaults)
    if given:
        found = dataclasses.replace(found, meta={**given, **found.meta})
    reader = FieldReader(raw, found, tz, fields)
    held = yamlutil.forbidden_value(found.meta)
    if held:
        key, message = held
        reader.error(key[0] if key else "", message, "remove it")
        raise BuildFailed(reader.errors)
    article = reader.article(found.body, found.body_line)
    if removed:
        article = dataclasses.replace(article, notes=(removed, *article.notes))
    return finish(article) if showing is None or shows(article, showing) else article


def default_fields(article_id: str, defaults: Sequence[FieldDefaults]) -> dict[str, Any]:
    """The fields that `defaults` give the file `article_id`: the most specific scope's value wins
    (the longer path, then the one that names a type), as in Jekyll."""
    found: dict[str, Any] = {}
    scopes = sorted(
        (d for d in defaults if d.applies_to(article_id)), key=lambda d: (len(d.path), bool(d.kind))
    )
    for scope in scopes:
        found.update(json.loads(scope.values_json))
    return found


def finish(article: Article) -> Article:
    """The article with its text converted: `body_html`, the summary from its first paragraph
    when it has none of its own, and the word count. A conversion that takes longer than
    `markup.TIME_LIMIT` is an error at the text's first line."""
    from generator.build import markup

    if not article.markdown:
        return article
    try:
        if article.source_location.path.suffix.lower() in HTML_SUFFIXES:
            body_html = article.markdown.strip()  # an HTML article (Jekyll's .html post, Hugo's index.html)
        else:
            body_html = markup.to_html_within(article.markdown, markup.TIME_LIMIT)
    except markup.TooSlow:
        raise BuildFailed(
            [
                FrontMatterError(
                    f"converting the text took more than {markup.TIME_LIMIT:g} s",
                    SourceLocation(article.source_location.path, article.markdown_line),
                    "look for a very long run of brackets, asterisks or HTML tags, and split it",
                )
            ]
        ) from None
    return dataclasses.replace(
        article,
        body_html=body_html,
        summary=article.summary or markup.first_paragraph(body_html),
        word_count=markup.word_count(body_html),
        markdown="",
        markdown_line=0,
    )


def published(
    articles: Iterable[Article],
    now: datetime,
    include_drafts: bool = False,
    include_future: bool = False,
) -> tuple[Article, ...]:
    """The articles a build shows: drafts (`draft: true`, Jekyll's `published: false` and `_drafts/`,
    Pelican's `Status: draft`) and future ones (by `date` or Hugo's `publishDate`) only when asked
    for; expired ones (Hugo's `expiryDate`) never."""
    showing = Showing(now, include_drafts, include_future)
    return tuple(a for a in articles if shows(a, showing))


def shows(article: Article, showing: Showing) -> bool:
    """Whether a build that shows `showing` shows `article` (see `published`)."""
    return (
        (showing.include_drafts or not article.is_draft)
        and (showing.include_future or _goes_live(article) <= showing.now)
        and (article.expiry_date is None or article.expiry_date > showing.now)
    )


def marked(articles: Iterable[Article], now: datetime) -> tuple[Article, ...]:
    """The articles, each draft marked "draft" and each one not live at `now` "scheduled": what the
    preview shows on their pages (a build never marks them)."""
    return tuple(
        dataclasses.replace(a, status="draft" if a.is_draft else "scheduled" if _goes_live(a) > now else "")
        for a in articles
    )


def live_date(article: Article) -> datetime:
    """When the article goes live: its date, or Hugo's publishDate if later."""
    return _goes_live(article)


def next_change(articles: Iterable[Article], now: datetime, include_drafts: bool = False) -> datetime | None:
    """When the set of published articles next changes by itself: an article falls due or expires."""
    moments = [
        moment
        for a in articles
        if include_drafts or not a.is_draft
        for moment in (_goes_live(a), a.expiry_date)
        if moment is not None and moment > now
    ]
    return min(moments) if moments else None


def _goes_live(article: Article) -> datetime:
    return max(article.date, article.publish_date) if article.publish_date else article.date
