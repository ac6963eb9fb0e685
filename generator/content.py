"""Content stage: find every article under `content/`, split and check its front matter.

`read_articles(config)` returns the articles sorted newest first and raises
`BuildFailed` listing every broken file at once. `parse_article` is pure: it
takes a file's text and gives an `Article`, so it can run in any process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from . import parallel, yamlutil
from .config import LANG_PATTERN
from .errors import BuildFailed, FrontMatterError, SiteError, SourceLocation
from .hashing import stable_hash
from .model import Article, Config, Progress, Source, no_progress
from .urls import slugify

_DATE_PREFIX = re.compile(r"(\d{4}-\d{2}-\d{2})-")
_FENCE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_KNOWN = frozenset(
    {
        "title", "date", "collection", "collections", "tags", "author", "authors", "summary",
        "description", "slug", "draft", "updated", "lastmod", "image", "source", "lang",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RawArticle:
    """One article file as read from disk, before parsing."""

    id: str
    path: Path
    text: str

    source_hash: str = ""  # changes whenever the text or the place of the file does


def discover(content_dir: Path) -> list[Path]:
    """Every `*.md` below `content_dir`, sorted, skipping hidden files and folders."""
    return [Path(p) for p in walk_files(content_dir, ".md")]


def walk_files(folder: Path, suffix: str = "") -> list[str]:
    """The paths (as sorted text) of the files below `folder` ending in `suffix`, skipping hidden ones.

    A dangling link is kept, so that reading it reports the problem. Text, not
    `Path` objects: on large sites sorting paths is a measurable cost.
    """
    found: list[str] = []
    for base, subfolders, names in os.walk(folder):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        found += [os.path.join(base, n) for n in names if n.endswith(suffix) and not n.startswith(".")]
    found.sort()
    return found


FileStat = tuple[int, int]  # (modification time in ns, size): a file unchanged since it was read


def stat_files(paths: Iterable[str]) -> dict[str, FileStat]:
    """The `FileStat` of each file; one that cannot be read is left out (reading it reports why)."""
    stats: dict[str, FileStat] = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        stats[path] = (st.st_mtime_ns, st.st_size)
    return stats


@dataclass(frozen=True, slots=True)
class Listing:
    """The article files below a content folder (as text, sorted) and the `FileStat` of each that
    could be stat'ed: what tells a build which files changed, at a few microseconds a file."""

    folder: Path
    paths: list[str]
    stats: dict[str, FileStat]


def list_articles(content_dir: Path) -> Listing:
    paths = walk_files(content_dir, ".md")
    return Listing(content_dir, paths, stat_files(paths))


def read_articles(
    config: Config,
    progress: Progress = no_progress,
    cached: Mapping[str, Article] | None = None,
    known: Mapping[str, tuple[int, int, str]] | None = None,
    listing: Listing | None = None,
) -> tuple[tuple[Article, ...], list[SiteError], dict[str, tuple[int, int, str]]]:
    """Read and parse every article below the config's content folder.

    Returns the good articles newest first, an error for each broken file (so
    that later stages can still report their own problems in the same run),
    and what is known of each file: (mtime, size, source hash). An article in
    `cached` (by source hash) is taken as it is instead of parsed again; a file
    whose mtime and size are as `known` says is not even read. `listing` saves
    looking at the folder again when the caller did already.
    """
    listing = listing or list_articles(config.content_dir)
    paths, stats = listing.paths, listing.stats
    cached = cached or {}
    known = known or {}
    articles: list[Article] = []
    index: dict[str, tuple[int, int, str]] = {}
    to_read: list[Path] = []
    for path in paths:
        seen = known.get(path)
        stat = stats.get(path)
        hit = cached.get(seen[2]) if seen and stat and seen[:2] == stat else None
        if hit is not None and seen is not None:
            articles.append(hit)
            index[path] = seen
        else:
            to_read.append(Path(path))
    parsed, errors, hits = parse_files(to_read, config, frozenset(cached), progress)
    for path_text, source_hash in hits:
        articles.append(cached[source_hash])
        index[path_text] = (*stats[path_text], source_hash)
    for article in parsed:
        stat = stats.get(str(article.source_location.path))
        if stat:
            index[str(article.source_location.path)] = (*stat, article.source_hash)
    return sort_newest_first(articles + parsed), errors, index


def load_files(content_dir: Path, paths: Iterable[Path]) -> tuple[list[RawArticle], list[SiteError]]:
    """Read each file as UTF-8; an unreadable or non-UTF-8 file becomes an error."""
    raws: list[RawArticle] = []
    errors: list[SiteError] = []
    for path in paths:
        try:
            data = path.read_bytes()
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            errors.append(
                FrontMatterError(
                    "file is not valid UTF-8 text",
                    SourceLocation(path, line),
                    "save the file with UTF-8 encoding",
                )
            )
            continue
        except OSError as exc:
            errors.append(FrontMatterError(f"cannot read file: {exc.strerror}", SourceLocation(path)))
            continue
        rel = path.relative_to(content_dir).as_posix()
        raws.append(RawArticle(rel, path, text.lstrip("\ufeff"), stable_hash(str(path), data)))
    return raws, errors


def parse_files(
    paths: list[Path], config: Config, known: frozenset[str], progress: Progress = no_progress
) -> tuple[list[Article], list[SiteError], list[tuple[str, str]]]:
    """Read and parse the files (on all cores for many); collect the errors of all of them.

    Workers read the files themselves, so the texts never pass through (or
    stay in) this process. A file whose source hash is in `known` is not
    parsed: it comes back in the third list as (path, source hash).
    """
    articles: list[Article] = []
    errors: list[SiteError] = []
    hits: list[tuple[str, str]] = []
    done = 0
    progress("Reading articles", 0, len(paths))
    state = (config.content_dir, ZoneInfo(config.timezone), known)
    for results in parallel.map_chunks(_parse_chunk, paths, PARSE_CHUNK, state):
        for result in results:
            if isinstance(result, Article):
                articles.append(result)
            elif result and isinstance(result[0], str):
                hits.append(result)
            else:
                errors.extend(result)
        done += len(results)
        progress("Reading articles", done, len(paths))
    return articles, errors, hits


PARSE_CHUNK = 40
_Parsed = Article | tuple[SiteError, ...] | tuple[str, str]


def _parse_chunk(state: tuple[Path, ZoneInfo, frozenset[str]], paths: Sequence[Path]) -> list[_Parsed]:
    content_dir, tz, known = state
    raws, problems = load_files(content_dir, paths)
    results: list[_Parsed] = [(problem,) for problem in problems]
    for raw in raws:
        if raw.source_hash in known:
            results.append((str(raw.path), raw.source_hash))
            continue
        try:
            results.append(parse_article(raw, tz))
        except BuildFailed as failed:
            results.append(failed.errors)
    return results


def sort_newest_first(articles: Iterable[Article]) -> tuple[Article, ...]:
    """Newest first; the id breaks ties so the order never depends on the file system."""
    by_id = sorted(articles, key=lambda a: a.id)
    return tuple(sorted(by_id, key=lambda a: a.date, reverse=True))


def split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """Split `---` front matter from the body; return (yaml, body, line of the body's first line)."""
    if text.startswith("+++"):
        raise FrontMatterError(
            "TOML front matter (+++) is not supported",
            SourceLocation(path, 1),
            "convert it to YAML between --- lines",
        )
    if not _FENCE.match(text):
        raise FrontMatterError(
            "no front matter found",
            SourceLocation(path, 1),
            "start the file with a line '---', then 'title:' and 'date:', then a closing '---'",
        )
    start = text.index("\n") + 1 if "\n" in text else len(text)
    close = _CLOSE.search(text, start)
    if not close:
        raise FrontMatterError(
            "front matter is not closed",
            SourceLocation(path, 1),
            "add a line '---' after the last front matter field",
        )
    front = text[start : close.start()]
    body_start = close.end() + 1
    body_line = text.count("\n", 0, body_start) + 1
    return front, text[body_start:], body_line


def parse_article(raw: RawArticle, tz: ZoneInfo) -> Article:
    """Parse one article file; raise `BuildFailed` with every problem in it."""
    path = raw.path
    try:
        front, body, _ = split_front_matter(raw.text, path)
    except FrontMatterError as exc:
        raise BuildFailed([exc]) from None
    try:
        meta = yamlutil.load(front) if front.strip() else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 2, mark.column + 1) if mark else (1, 0)
        raise BuildFailed(
            [
                FrontMatterError(
                    f"invalid YAML in front matter: {exc.problem or exc.context}",
                    SourceLocation(path, line, col),
                    "check quoting: a value containing ': ' or starting with a quote must be quoted",
                )
            ]
        ) from None
    except (yaml.YAMLError, yamlutil.ValueProblem) as exc:
        raise BuildFailed(
            [FrontMatterError(f"invalid value in front matter: {exc}", SourceLocation(path, 2))]
        ) from None
    if not isinstance(meta, dict):
        raise BuildFailed(
            [FrontMatterError("front matter must be 'key: value' lines", SourceLocation(path, 2))]
        )
    return _FieldReader(raw, meta, front, tz).article(body)


class _FieldReader:
    """Checks front matter fields one by one, collecting errors located at their lines."""

    def __init__(self, raw: RawArticle, meta: dict[Any, Any], front: str, tz: ZoneInfo) -> None:
        self.raw = raw
        self.meta = {str(k): v for k, v in meta.items()}
        self.front = front
        self.tz = tz
        self.errors: list[SiteError] = []
        self._lines: dict[tuple[str, ...], int] | None = None

    def error(self, key: str, message: str, hint: str | None = None) -> None:
        if self._lines is None:
            self._lines = yamlutil.key_lines(self.front)
        line = self._lines.get((key,), 0)
        self.errors.append(
            FrontMatterError(message, SourceLocation(self.raw.path, line + 1 if line else 2), hint)
        )

    def text(self, key: str, required: bool = False) -> str:
        value = self.meta.get(key)
        if value is None or value == "":
            if required:
                self.error(key, f"missing '{key}'", f"add a line '{key}: ...' to the front matter")
            return ""
        if isinstance(value, (dict, list, bool, bytes)):
            self.error(key, f"'{key}' must be text, not {type(value).__name__}")
            return ""
        return " ".join(str(value).split())

    def names(self, key: str, split_commas: bool) -> tuple[str, ...]:
        value = self.meta.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            items: list[Any] = value.split(",") if split_commas else [value]
        elif isinstance(value, list):
            items = value
        else:
            self.error(key, f"'{key}' must be a name or a list of names, not {value!r}")
            return ()
        out: list[str] = []
        for item in items:
            if isinstance(item, (dict, list)) or item is None:
                self.error(key, f"each entry of '{key}' must be a name, not {item!r}")
                continue
            name = " ".join(str(item).split())
            if name and name not in out:
                out.append(name)
        return tuple(out)

    def when(self, key: str, required: bool) -> datetime | None:
        value = self.meta.get(key)
        if value is None:
            if required:
                self.error(
                    key,
                    "missing 'date'",
                    "add 'date: 2020-09-03' (or a date-time such as 2020-09-03T10:30:00+03:00)",
                )
            return None
        try:
            return parse_date(value, self.tz)
        except ValueError:
            self.error(
                key,
                f"'{key}' is not an ISO 8601 date: {value!r}",
                "write it as 2020-09-03, 2020-09-03 10:30 or 2020-09-03T10:30:00+03:00",
            )
            return None

    def flag(self, key: str) -> bool:
        value = self.meta.get(key, False)
        if not isinstance(value, bool):
            self.error(key, f"'{key}' must be true or false, not {value!r}")
            return False
        return value

    def source(self) -> Source | None:
        value = self.meta.get("source")
        if value is None:
            return None
        if isinstance(value, str):
            return Source(value, value) if _is_url(value) else Source(value)
        if (isinstance(value, dict) and "name" in value) or (isinstance(value, dict) and "url" in value):
            url = str(value.get("url") or "")
            if url and not _is_url(url):
                self.error("source", f"source url must start with http:// or https://, not {url!r}")
                url = ""
            return Source(str(value.get("name") or url), url)
        self.error("source", "'source' must be a name, a URL, or a mapping with 'name' and 'url'")
        return None

    def article(self, body: str) -> Article:
        from . import markup  # Markdown is loaded only when an article is parsed

        raw = self.raw
        title = self.text("title", required=True)
        prefix = _DATE_PREFIX.match(raw.path.name)
        when = self.when("date", required=not prefix)
        if when is None and prefix and "date" not in self.meta:
            when = parse_date(prefix.group(1), self.tz)
        updated = self.when("updated", required=False) or self.when("lastmod", required=False)
        slug_text = self.text("slug") or title
        slug = slugify(slug_text) if slug_text else ""
        if title and not slug:
            self.error(
                "slug" if "slug" in self.meta else "title",
                f"cannot make a URL slug from {slug_text!r}",
                "add 'slug: some-words' to the front matter",
            )
        collections = self.names("collection", False) + self.names("collections", False)
        tags = self.names("tags", True)
        authors = self.names("author", False) + self.names("authors", False)
        summary_given = self.text("summary") or self.text("description")
        is_draft = self.flag("draft")
        source = self.source()
        image = self.text("image")
        lang = self.text("lang")
        if lang and not LANG_PATTERN.fullmatch(lang):
            self.error("lang", f"'lang' must be a language code, not {lang!r}", "write it as en, ru or pt-BR")
        if self.errors:
            raise BuildFailed(self.errors)
        assert when is not None
        body_html = markup.to_html(body)
        return Article(
            source_hash=raw.source_hash,
            id=raw.id,
            slug=slug,
            title=title,
            date=when,
            body_html=body_html,
            summary=summary_given or markup.first_paragraph(body_html),
            source_location=SourceLocation(raw.path),
            collections=tuple(dict.fromkeys(collections)),
            tags=tags,
            authors=tuple(dict.fromkeys(authors)),
            updated=updated,
            is_draft=is_draft,
            image=image,
            source=source,
            lang=lang,
            word_count=markup.word_count(body_html),
            extra=MappingProxyType({k: v for k, v in self.meta.items() if k not in _KNOWN}),
        )


def parse_date(value: object, tz: ZoneInfo) -> datetime:
    """An aware datetime from a YAML date, datetime or ISO 8601 string; naive values are in `tz`."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        result = datetime.fromisoformat(text)
    else:
        raise ValueError(value)
    return result.replace(tzinfo=tz) if result.tzinfo is None else result


def published(
    articles: Iterable[Article],
    now: datetime,
    include_drafts: bool = False,
    include_future: bool = False,
) -> tuple[Article, ...]:
    """The articles a build shows: drafts and future-dated ones only when asked for."""
    return tuple(
        a for a in articles if (include_drafts or not a.is_draft) and (include_future or a.date <= now)
    )


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))
