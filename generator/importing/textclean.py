"""Cleaning of raw article text, as copied from a news site, for `digest import`.

`clean_text` is pure: it takes the raw text and gives the title, collection, summary and
paragraphs, with a note for every repair it made, each at its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from generator.base.model import CollectionSpec
from generator.build.topics import collection_key

# Lines that news sites put around an article and scrapers keep.
CHROME = frozenset(
    {
        "popular news", "read more", "read also", "related news", "related articles", "share",
        "share this", "comments", "advertisement", "subscribe", "most read", "latest news",
        "follow us", "tags", "print", "back to top",
    }
)  # fmt: skip
# Headings of the lists of other stories that follow an article ("Popular news", then headlines).
TRAILERS = frozenset(
    {
        "popular news", "popular", "read more", "read also", "related news", "related articles",
        "related stories", "related", "most read", "most popular", "latest news", "more news",
        "more stories", "recommended", "you may also like", "top stories", "editor's picks",
        "читайте также", "популярное", "популярные новости", "самое читаемое", "новости по теме",
        "главное", "последние новости", "lesen sie auch", "meistgelesen", "czytaj także",
    }
)  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?…:;\"”»’)]$")
_DOUBLE_PERIOD = re.compile(r"(?<!\.)\.\.(?!\.)")
_QUOTES = {"“": "”", "«": "»"}  # opening mark: closing mark
HEADLINE_WORDS = 20  # a line of the trailer's list is a headline, not a paragraph


@dataclass(frozen=True, slots=True)
class Cleaned:
    """An article recovered from raw text, and what was repaired on the way."""

    title: str
    paragraphs: tuple[str, ...]
    summary: str = ""
    collection: str = ""
    repairs: tuple[str, ...] = field(default=())


def clean_text(text: str, collections: tuple[CollectionSpec, ...] = ()) -> Cleaned:
    """Recover title, collection, summary and paragraphs from scraped text, repairing as it goes."""
    lines = [(n, " ".join(line.split())) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    if not lines:
        raise ValueError("the file has no text")
    repairs: list[str] = []
    (_, title), rest = lines[0], lines[1:]

    kept = []
    for n, line in rest:
        if line.casefold() == title.casefold():
            repairs.append(f"line {n}: dropped a repeated title")
        else:
            kept.append((n, line))
    trailer = next(
        (i for i, (_, line) in enumerate(kept) if i and _plain(line) in TRAILERS
         and all(len(rest.split()) <= HEADLINE_WORDS for _, rest in kept[i + 1 :])),
        None,
    )  # fmt: skip
    if trailer is not None:
        (n, line), after = kept[trailer], len(kept) - trailer - 1
        del kept[trailer:]
        more = f" and the {after} headline{'s' if after > 1 else ''} after it" if after else ""
        repairs.append(f"line {n}: dropped site chrome '{line}'{more}")
    while kept and _is_chrome(kept[-1][1]):
        n, line = kept.pop()
        repairs.append(f"line {n}: dropped site chrome '{line}'")

    collection = ""
    if kept and (spec := _match_collection(kept[0][1], collections)):
        n, line = kept.pop(0)
        collection = spec.key
        repairs.append(f"line {n}: '{line}' taken as the collection '{spec.key}'")
    elif len(kept) > 2 and _is_rubric(kept[0][1]) and _is_rubric(kept[1][1]):
        # Two short lines under the title: a rubric (the site's section), then a subtitle.
        n, line = kept.pop(0)
        collection = line
        repairs.append(f"line {n}: '{line}' taken as the collection")

    summary = ""
    if len(kept) > 1 and _is_rubric(kept[0][1]):
        n, summary = kept.pop(0)
        repairs.append(f"line {n}: subtitle taken as the summary")

    paragraphs = []
    for n, line in kept:
        fixed, notes = repair_paragraph(line)
        paragraphs.append(fixed)
        repairs.extend(f"line {n}: {note}" for note in notes)
    by_line = sorted(repairs, key=lambda r: int(r.split()[1].rstrip(":")))
    return Cleaned(title, tuple(paragraphs), summary, collection, tuple(by_line))


def repair_paragraph(text: str) -> tuple[str, list[str]]:
    """Fix doubled periods and quotations closed with an opening mark; say what was fixed."""
    notes = []
    fixed, count = _DOUBLE_PERIOD.subn(".", text)
    if count:
        notes.append(f"repaired {count} doubled {'period' if count == 1 else 'periods'}")
    fixed, closed, spaces = _close_quotes(fixed)
    for mark, count in closed.items():
        opening = next(o for o, c in _QUOTES.items() if c == mark)
        notes.append(
            f"closed {count} {'quotation' if count == 1 else 'quotations'} with {mark} instead of {opening}"
        )
    if spaces:
        notes.append(f"removed the space before {spaces} closing {'quote' if spaces == 1 else 'quotes'}")
    return fixed, notes


def _close_quotes(text: str) -> tuple[str, dict[str, int], int]:
    """Close quotations that a scraper closed with the opening mark (“…“, «…«) and remove a space
    before a closing mark (“…? ”) unless the quotation also opened with one (French « … »).

    Returns the text, how many were closed with each mark, and how many spaces were removed.
    """
    out: list[str] = []
    spaced: dict[str, bool] = {}  # the open quotations: opening mark -> a space follows it
    closed: dict[str, int] = {}
    spaces = 0
    for index, char in enumerate(text):
        after = text[index + 1] if index + 1 < len(text) else ""
        closing = _QUOTES.get(char) if char in spaced else None
        if char in _QUOTES and closing is None:
            spaced[char] = after.isspace()
            out.append(char)
            continue
        if closing is not None:  # an opening mark while its quotation is open: it closes it
            closed[closing] = closed.get(closing, 0) + 1
            if out and out[-1] == " " and after and not after.isspace():
                out[-1] = closing  # “…, “Putin said: the mark belongs before the space
                out.append(" ")
                spaced.pop(char)
                continue
            char = closing
        opening = next((o for o, c in _QUOTES.items() if c == char), None)
        if opening is not None and opening in spaced:
            if out and out[-1] == " " and not spaced[opening]:
                out.pop()
                spaces += 1
            spaced.pop(opening)
        out.append(char)
    return "".join(out), closed, spaces


def _is_chrome(line: str) -> bool:
    """A known trailer of news sites, or a line of three words or fewer with no closing punctuation."""
    plain = _plain(line)
    return (
        plain in CHROME or plain in TRAILERS or (len(plain.split()) <= 3 and not _SENTENCE_END.search(line))
    )


def _plain(line: str) -> str:
    return line.casefold().strip(" .:|>»›-")


def _is_rubric(line: str) -> bool:
    """A short line without closing punctuation: a subtitle or a section name, not body text."""
    return len(line.split()) <= 25 and not _SENTENCE_END.search(line)


def _match_collection(line: str, collections: tuple[CollectionSpec, ...]) -> CollectionSpec | None:
    key = collection_key(line, collections)
    return next((s for s in collections if s.key == key), None)
