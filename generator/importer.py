"""Import stage for `digest import`: raw article text, as scraped from a news site, to an article.

`clean_text` is pure: it takes the raw text and gives the title, collection,
summary and paragraphs with a list of every repair it made. `import_file`
writes the article file and refuses to overwrite one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from .errors import BuildFailed, FrontMatterError, SourceLocation
from .model import CollectionSpec, Config
from .topics import collection_key, require_collection
from .urls import slugify

# Lines that news sites put around an article and scrapers keep.
CHROME = frozenset(
    {
        "popular news", "read more", "read also", "related news", "related articles", "share",
        "share this", "comments", "advertisement", "subscribe", "most read", "latest news",
        "follow us", "tags", "print", "back to top",
    }
)  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?…:;\"”»’)]$")
_DOUBLE_PERIOD = re.compile(r"(?<!\.)\.\.(?!\.)")
_SPACE_BEFORE_CLOSE = re.compile(r"([.!?,…])\s+”")
_BLOCK_START = re.compile(r"^([#>*+-]|\d+(?=[.)]))")


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
    fixed, count = _close_quotes(fixed)
    if count:
        notes.append(f"closed {count} {'quotation' if count == 1 else 'quotations'} with ” instead of “")
    fixed, count = _SPACE_BEFORE_CLOSE.subn(r"\1”", fixed)
    if count:
        notes.append(f"removed the space before {count} closing {'quote' if count == 1 else 'quotes'}")
    return fixed, notes


def _close_quotes(text: str) -> tuple[str, int]:
    """Turn an opening “ met while a quotation is open into a closing ”, moving it before the space."""
    out: list[str] = []
    is_open = False
    count = 0
    for index, char in enumerate(text):
        if char == "“" and is_open:
            count += 1
            is_open = False
            if out and out[-1] == " " and index + 1 < len(text) and not text[index + 1].isspace():
                out[-1] = "”"
                out.append(" ")
            else:
                out.append("”")
        else:
            if char == "“":
                is_open = True
            elif char == "”":
                is_open = False
            out.append(char)
    return "".join(out), count


def _is_chrome(line: str) -> bool:
    """A known trailer of news sites, or a line of three words or fewer with no closing punctuation."""
    plain = line.casefold().strip(" .:|>»›-")
    return plain in CHROME or (len(plain.split()) <= 3 and not _SENTENCE_END.search(line))


def _is_rubric(line: str) -> bool:
    """A short line without closing punctuation: a subtitle or a section name, not body text."""
    return len(line.split()) <= 25 and not _SENTENCE_END.search(line)


def _match_collection(line: str, collections: tuple[CollectionSpec, ...]) -> CollectionSpec | None:
    key = collection_key(line, collections)
    return next((s for s in collections if s.key == key), None)


def to_markdown(cleaned: Cleaned, date: datetime, collection: str, source: str = "") -> str:
    """The article file: YAML front matter, then one Markdown paragraph per recovered paragraph."""
    front: dict[str, object] = {"title": cleaned.title, "date": date.isoformat()}
    if collection:
        front["collection"] = collection
    if cleaned.summary:
        front["summary"] = cleaned.summary
    if source:
        front["source"] = source
    body = "\n\n".join(_escape_block_start(p) for p in cleaned.paragraphs)
    return (
        "---\n"
        + yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
        + "---\n\n"
        + body
        + "\n"
    )


def _escape_block_start(paragraph: str) -> str:
    """Keep a paragraph that starts like a heading, quote or list from becoming one."""
    match = _BLOCK_START.match(paragraph)
    if not match:
        return paragraph
    at = match.end() if match.group(1)[0].isdigit() else 0
    return paragraph[:at] + "\\" + paragraph[at:]


def import_file(
    config: Config,
    path: Path,
    collection: str | None = None,
    date: datetime | None = None,
) -> tuple[Path, Cleaned]:
    """Turn one raw text file into an article below the content folder; return its path and the repairs.

    The file is named after the day and the title, with `-2`... when one of that name exists:
    a headline that recurs is a new article. Raises `BuildFailed` for an unreadable or empty
    file, or an unknown collection.
    """
    where = SourceLocation(path)
    try:
        text = path.read_text(encoding="utf-8")
        cleaned = clean_text(text, config.collections)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise BuildFailed([FrontMatterError(f"cannot import: {reason}", where)]) from None
    name = collection or cleaned.collection
    key = require_collection(name, config.collections, where) if name else ""
    moment = (date or datetime.now(ZoneInfo(config.timezone))).replace(microsecond=0)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(config.timezone))
    from .scaffold import create_article

    folder = config.content_dir / key if key else config.content_dir
    slug = slugify(cleaned.title) or "article"
    return create_article(folder, moment, slug, to_markdown(cleaned, moment, key)), cleaned
