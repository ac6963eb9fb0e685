"""Editions: a collection published by the day, the week or the month, as a digest is.

`group_editions` cuts each collection that has an `edition:` setting into
periods in the site's time zone (a week starts on `week_start`), newest first.
A period with no articles has no edition. An edition file (front matter
`edition: 2020-w36`, a collection, a title and `lead:` stories; its text is the
editor's note) gives its edition a title, a note and the stories to put first;
one for a period with no articles, or naming a story the edition does not
hold, is an error at the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from generator.base.errors import CollectionError, SiteError
from generator.base.model import Article, CollectionSpec, Config, Edition
from generator.build.config import WEEKDAYS

_ID = {
    "daily": re.compile(r"\d{4}-\d\d-\d\d"),
    "weekly": re.compile(r"\d{4}-w\d\d"),
    "monthly": re.compile(r"\d{4}-\d\d"),
}


def edition_url(collection: str, edition_id: str = "") -> str:
    """The editions index of a collection, or one edition's page."""
    return f"{collection}/editions/{edition_id}/" if edition_id else f"{collection}/editions/"


def period_of(day: date, kind: str, week_start: str = "monday") -> tuple[str, date, date]:
    """The id, first and last day of the edition of kind `kind` that holds `day`.

    A week that starts on another day than Monday is numbered as the ISO week
    of its Monday (`2020-w36`), so each week has one id whatever the start.
    """
    if kind == "daily":
        return day.isoformat(), day, day
    if kind == "monthly":
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return f"{day.year:04d}-{day.month:02d}", first, last
    offset = WEEKDAYS.index(week_start)
    first = day - timedelta(days=(day.weekday() - offset) % 7)
    year, week, _ = (first + timedelta(days=(7 - offset) % 7)).isocalendar()
    return f"{year:04d}-w{week:02d}", first, first + timedelta(days=6)


def group_editions(
    articles: Sequence[Article],
    specs: Iterable[CollectionSpec],
    notes: Iterable[Article],
    config: Config,
) -> tuple[tuple[Edition, ...], list[SiteError]]:
    """The editions of every collection that has them (each newest first), and the errors of the
    edition files. `articles` are newest first, with their collections resolved."""
    tz = ZoneInfo(config.timezone)
    kinds = {spec.key: spec.edition for spec in specs if spec.edition}
    periods: dict[tuple[str, str], list[str]] = {}
    bounds: dict[tuple[str, str], tuple[date, date]] = {}
    for article in articles:
        kind = kinds.get(article.collection)
        if kind:
            key = period_of(article.date.astimezone(tz).date(), kind, config.week_start)
            periods.setdefault((article.collection, key[0]), []).append(article.id)
            bounds[(article.collection, key[0])] = key[1:]
    by_id = {a.id: a for a in articles}
    notes_by_period, errors = _notes(notes, kinds, periods, by_id)
    editions = []
    for (collection, edition_id), ids in periods.items():
        note = notes_by_period.get((collection, edition_id))
        leads = _leads(note, ids, by_id, errors) if note else []
        ordered = (*leads, *(i for i in ids if i not in leads))
        start, end = bounds[(collection, edition_id)]
        title = note.title if note else ""  # named with the theme's words when the plan is made
        editions.append(
            Edition(collection, edition_id, title, start, end, ordered, note.id if note else "",
                    edition_url(collection, edition_id))
        )  # fmt: skip
    editions.sort(key=lambda e: (e.collection, e.start), reverse=True)
    return tuple(editions), errors


def _notes(
    notes: Iterable[Article],
    kinds: Mapping[str, str],
    periods: Mapping[tuple[str, str], list[str]],
    by_id: Mapping[str, Article],
) -> tuple[dict[tuple[str, str], Article], list[SiteError]]:
    found: dict[tuple[str, str], Article] = {}
    errors: list[SiteError] = []
    for note in notes:
        edition_id = str(note.extra.get("edition", "")).strip().lower()
        where = note.source_location
        kind = kinds.get(note.collection)
        if not kind:
            errors.append(
                CollectionError(
                    "an edition file must name a collection published in editions",
                    where,
                    "add 'collection: KEY' and give that collection 'edition: weekly' (or daily, monthly)",
                )
            )
        elif not _ID[kind].fullmatch(edition_id):
            example = {"daily": "2020-09-03", "weekly": "2020-w36", "monthly": "2020-09"}[kind]
            errors.append(CollectionError(f"'edition: {edition_id}' is not a {kind} edition", where,
                                          f"write it as {example}"))  # fmt: skip
        elif (note.collection, edition_id) not in periods:
            errors.append(
                CollectionError(
                    f"edition {edition_id} of '{note.collection}' has no articles",
                    where,
                    "an edition needs at least one article dated in its period",
                )
            )
        else:
            found[(note.collection, edition_id)] = note
    return found, errors


def _leads(
    note: Article, ids: Sequence[str], by_id: Mapping[str, Article], errors: list[SiteError]
) -> list[str]:
    """The article ids of the note's `lead:` stories, named by slug, file name or path."""
    given = note.extra.get("lead") or ()
    names = [given] if isinstance(given, str) else list(given) if isinstance(given, list) else []
    leads: list[str] = []
    for name in map(str, names):
        match = next(
            (i for i in ids if name in (i, by_id[i].slug, PurePosixPath(i).stem, PurePosixPath(i).name)), None
        )
        if match is None:
            errors.append(
                CollectionError(f"lead story {name!r} is not in this edition", note.source_location,
                                "name an article of the edition by its slug or file name")
            )  # fmt: skip
        elif match not in leads:
            leads.append(match)
    return leads


def with_titles(
    editions: Sequence[Edition], titles: Mapping[str, str], texts: Mapping[str, Any], lang: str
) -> tuple[Edition, ...]:
    """The editions, each without an edition file's title named in the theme's words and the site's
    language: "Solidarity with Belarus: Aug 31 – Sep 6, 2020" (`edition_title` in the theme's texts)."""
    from babel.dates import format_date, format_interval

    pattern = str(texts.get("edition_title") or "{collection}: {period}")
    named = []
    for edition in editions:
        if not edition.title:
            if edition.start == edition.end:
                period = format_date(edition.start, "long", locale=lang)
            elif edition.start.day == 1 and (edition.end + timedelta(days=1)).day == 1:
                period = format_date(edition.start, "LLLL y", locale=lang)
            else:
                period = format_interval(edition.start, edition.end, "yMMMd", locale=lang)
            collection = titles.get(edition.collection, edition.collection)
            edition = replace(edition, title=pattern.format(collection=collection, period=period))
        named.append(edition)
    return tuple(named)
