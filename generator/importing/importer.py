"""Import stage for `digest import`: text files, saved pages, URLs and feeds to draft articles.

Every input becomes a `Draft`: raw text through `textclean`, an HTML page through `extract`, a
feed item through `extract.read_feed_item` (with the item's page fetched when the feed carries
only a summary). A draft whose source address or text is already in content/ is skipped
(`dedupe`); the others become new article files, drafts unless `publish`. Each input gets an
`Outcome`; a failed one an error, and the others go on.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml

from generator.base import dedupe
from generator.base.errors import BuildFailed, SiteError, SourceLocation
from generator.base.lock import IMPORT_LOCK, site_lock
from generator.base.model import FORMAT_SUFFIX, Config, Draft, Source
from generator.base.urls import slugify
from generator.build import contentfiles, frontmatter
from generator.build.topics import require_collection
from generator.editing.scaffold import create_article, create_bundle
from generator.importing.decode import Decoded, UnknownEncoding, decode
from generator.importing.extract import NotAnArticle, read_feed_item, read_page
from generator.importing.fetch import USER_AGENT, Fetcher, FetchFailed
from generator.importing.htmlmd import escape, escape_block_start
from generator.importing.textclean import clean_text

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


class ImportProblem(SiteError):
    """An input that could not be imported: a file, an address or a feed, and why."""


@dataclass(frozen=True, slots=True)
class Outcome:
    given: str  # the file, address or feed item as given
    path: Path | None = None  # the article written, if one was
    notes: tuple[str, ...] = ()  # how it was read, what was repaired, what was not found
    skipped: str = ""  # why nothing was written


@dataclass(frozen=True, slots=True)
class Options:
    collection: str = ""  # a collection's key, already checked
    date: datetime | None = None  # instead of the date found
    publish: bool = False  # write `draft: true` unless this is set
    since: datetime | None = None  # feed items published before it are left out
    images: bool = False  # download the lead image beside the article (a page bundle)


class Importer:
    """Imports inputs one by one into `config`'s content folder, and keeps the errors."""

    def __init__(self, config: Config, options: Options = Options(), fetcher: Fetcher | None = None) -> None:
        settings = config.imports
        self.config = config
        self.options = options
        self.fetcher = fetcher or Fetcher(
            settings.user_agent or USER_AGENT, settings.timeout, settings.max_page_kb * 1024, settings.delay
        )
        self.errors: list[SiteError] = []
        self._index: dedupe.StoryIndex | None = None
        self._indexed: set[Path] = set()  # the files of content/ the index has read
        self.waiting: Callable[[str], None] = lambda _: None  # told when another import holds the lock
        self._image_problem = ""  # why the last lead image was not downloaded

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.config.timezone)

    def run(self, inputs: Sequence[str], feeds: Sequence[str] = ()) -> Iterator[Outcome]:
        """Import every input, then every feed's new items; failures go to `errors`."""
        for given in inputs:
            outcome = self.one(given)
            if outcome is not None:
                yield outcome
        for feed in feeds:
            yield from self.feed(feed)

    def one(self, given: str) -> Outcome | None:
        try:
            if "://" in given:
                return self.page_at(given)
            return self.file(Path(given))
        except FetchFailed as failed:
            self.fail(failed.url, failed.reason)
        except _Failed as failed:
            self.fail(given, str(failed), failed.hint, failed.path)
        return None

    def fail(self, given: str, reason: str, hint: str | None = None, path: Path | None = None) -> None:
        if path is not None:
            self.errors.append(ImportProblem(f"cannot import: {reason}", SourceLocation(path), hint))
        else:
            self.errors.append(ImportProblem(f"cannot import {given}: {reason}", None, hint))

    # Inputs

    def file(self, path: Path) -> Outcome:
        try:
            with path.open("rb") as handle:
                data = handle.read(self.fetcher.max_bytes + 1)
        except OSError as error:
            raise _Failed(error.strerror or str(error), path=path) from None
        if len(data) > self.fetcher.max_bytes:
            raise _Failed(
                f"it is larger than import: max_page_kb ({self.config.imports.max_page_kb} KB)", path=path
            )
        html = path.suffix.lower() in HTML_SUFFIXES or data.lstrip()[:15].lower().startswith(
            (b"<!doctype html", b"<html")
        )
        decoded = _decode(data, "", html, path)
        if html:
            return self.page(str(path), decoded, "")
        return self.text(str(path), decoded)

    def page_at(self, url: str) -> Outcome:
        fetched = self.fetcher.get(url)
        if fetched.media_type not in HTML_TYPES:
            hint = (
                "import it with --feed"
                if "xml" in fetched.media_type or "rss" in fetched.media_type
                else None
            )
            raise _Failed(f"it is {fetched.media_type or 'of no stated type'}, not a web page", hint)
        return self.page(url, _decode(fetched.body, fetched.charset, True), fetched.url)

    def page(self, given: str, decoded: Decoded, url: str) -> Outcome:
        try:
            draft = read_page(decoded.text, url, self.tz)
        except NotAnArticle as error:
            raise _Failed(str(error), path=None if url else Path(given)) from None
        return self.write(given, draft, (decoded.describe(),))

    def text(self, given: str, decoded: Decoded) -> Outcome:
        try:
            cleaned = clean_text(decoded.text, self.config.collections)
        except ValueError as error:
            raise _Failed(str(error), path=Path(given)) from None
        if not cleaned.paragraphs:
            raise _Failed(
                f"the text has a title ({cleaned.title!r}) but nothing under it",
                "put the article's text under its title, separated by an empty line",
                Path(given),
            )
        key = ""
        if cleaned.collection:
            try:
                key = require_collection(
                    cleaned.collection, self.config.collections, SourceLocation(Path(given))
                )
            except BuildFailed as failed:
                if not self.options.collection:
                    raise _Failed(failed.errors[0].message, failed.errors[0].hint, Path(given)) from None
        body = "\n\n".join(escape_block_start(escape(p)) for p in cleaned.paragraphs)
        draft = Draft(cleaned.title, body, cleaned.summary, collection=key)
        missing = ("standfirst",) * (not cleaned.summary) + ("author", "address", "outlet")
        notes = (decoded.describe(), *cleaned.repairs)
        return self.write(given, dataclasses.replace(draft, missing=missing), notes)

    def feed(self, given: str) -> Iterator[Outcome]:
        import feedparser

        try:
            if "://" in given:
                fetched = self.fetcher.get(given, FEED_ACCEPT)
                data, headers = (
                    fetched.body,
                    {"content-type": f"{fetched.media_type}; charset={fetched.charset}"},
                )
            else:
                data, headers = Path(given).read_bytes(), {}
        except FetchFailed as failed:
            self.fail(failed.url, failed.reason)
            return
        except OSError as error:
            self.fail(given, error.strerror or str(error), path=Path(given))
            return
        parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)  # bytes in: it fetches nothing
        if not parsed.entries and (parsed.bozo or not parsed.feed):
            self.fail(given, "it is not an RSS or Atom feed", "give the address of the feed, not of the site")
            return
        title = str(parsed.feed.get("title", "")).strip()
        older = 0
        for number, entry in enumerate(parsed.entries, 1):
            name = f"{given} item {number}"
            draft, full = read_feed_item(entry, title, self.tz)
            if self.options.since and draft.date and draft.date < self.options.since:
                older += 1
                continue
            link = draft.source.url
            if not link and not full:
                self.fail(name, "the item has neither a link nor its text")
                continue
            match = self.index.find("", [link])
            if match is not None:
                yield Outcome(link or name, skipped=match.describe())
                continue
            try:
                yield self.feed_item(link or name, draft, full)
            except FetchFailed as failed:
                self.fail(failed.url, failed.reason)
            except _Failed as failed:
                self.fail(link or name, str(failed), failed.hint)
        if older:
            yield Outcome(given, skipped=f"{older} item{'s' if older > 1 else ''} published before --since")

    def feed_item(self, given: str, item: Draft, full: bool) -> Outcome:
        """The item's draft, or (when the feed has only a summary) its page's, with the feed's facts
        where the page has none."""
        if full:
            return self.write(given, item, ("the feed carries the full text",))
        fetched = self.fetcher.get(given)
        if fetched.media_type not in HTML_TYPES:
            raise _Failed(f"the item's page is {fetched.media_type or 'of no stated type'}, not a web page")
        decoded = _decode(fetched.body, fetched.charset, True)
        try:
            page = read_page(decoded.text, fetched.url, self.tz)
        except NotAnArticle as error:
            raise _Failed(f"its page: {error}") from None
        source = Source(
            page.source.name or item.source.name, page.source.url or item.source.url,
            page.source.author or item.source.author, page.source.published or item.source.published,
        )  # fmt: skip
        merged = dataclasses.replace(
            page, title=page.title or item.title, date=page.date or item.date, source=source,
            summary=page.summary or item.summary,
        )  # fmt: skip
        still = {
            "headline": merged.title,
            "date": merged.date,
            "author": source.author,
            "outlet": source.name,
        }
        missing = tuple(m for m in page.missing if still.get(m, "") in ("", None))
        notes = ("the feed has a summary only: took the text from the item's page", decoded.describe())
        return self.write(given, dataclasses.replace(merged, missing=missing), notes)

    # Output

    def lead_image(self, draft: Draft) -> tuple[str, bytes] | None:
        """The draft's lead image, fetched (as politely as a page) and checked to be an image that the
        build can read: its file name (`lead.jpg`) and bytes; None, with the reason kept, if not."""
        from generator.build import media

        try:
            fetched = self.fetcher.get(
                draft.image, "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8"
            )
        except FetchFailed as failed:
            self._image_problem = failed.reason
            return None
        fmt = media.raster_format(fetched.body)
        if not fetched.media_type.startswith("image/") or fmt is None:
            self._image_problem = (
                f"it is {fetched.media_type or 'of no stated type'}, not a JPEG, PNG or WebP image"
            )
            return None
        return f"lead.{FORMAT_SUFFIX[fmt]}", fetched.body

    @property
    def index(self) -> dedupe.StoryIndex:
        """Every article in content/ (drafts too) by source address and text; read on first use."""
        if self._index is None:
            self._index = dedupe.StoryIndex(self.config.imports.duplicate_threshold)
            self._refresh_index()
        return self._index

    def _refresh_index(self) -> None:
        """Add to the index the articles of content/ it has not seen (another import's, say)."""
        index = self.index
        new = [p for p in map(Path, contentfiles.find_articles(self.config)) if p not in self._indexed]
        self._indexed.update(new)
        raws, _unreadable = contentfiles.load_files(contentfiles.ReadRules.of(self.config), new)
        for raw in raws:
            try:
                found = frontmatter.split(raw.text, raw.path)
            except SiteError:
                continue
            index.add(self.shown(raw.path), found.body, dedupe.source_urls(found.meta))

    def shown(self, path: Path) -> str:
        """An article's path as the editor sees it: from the site's folder (content/world/x.md)."""
        try:
            return path.relative_to(self.config.root).as_posix()
        except ValueError:
            return str(path)

    def write(self, given: str, draft: Draft, notes: tuple[str, ...]) -> Outcome:
        """Write the draft unless content/ has it already; the outcome says which, and why.

        The story is looked for twice: first in what this import has read (no lead image is fetched
        for a duplicate), then under the import lock with what other imports wrote since, so that
        two imports of one story at the same moment make one article."""
        notes = (*notes, *draft.notes)
        if draft.missing:
            notes += ("not found: " + ", ".join(draft.missing),)
        if not draft.title:
            raise _Failed("no headline was found", "save the page as it is served and import the file")
        draft, dropped = _web_only(draft)
        notes += dropped
        match = self.index.find(draft.body, [draft.source.url])
        if match is not None:
            return Outcome(given, skipped=match.describe(), notes=notes)
        lead = self.lead_image(draft) if self.options.images and draft.image else None
        if draft.image and self.options.images and lead is None:
            notes += (f"the lead image could not be downloaded ({self._image_problem}): it stays a link",)
        with site_lock(self.config.root, self.waiting, IMPORT_LOCK):  # one check-and-write at a time
            self._refresh_index()
            match = self.index.find(draft.body, [draft.source.url])
            if match is not None:
                return Outcome(given, skipped=match.describe(), notes=notes)
            return self._create(given, draft, lead, notes)

    def _create(
        self, given: str, draft: Draft, lead: tuple[str, bytes] | None, notes: tuple[str, ...]
    ) -> Outcome:
        moment = self.options.date or draft.date
        if moment is None:
            moment = datetime.now(self.tz).replace(microsecond=0)
            notes += ("no date was found: dated now; set it in the file, or import with --date",)
        key = self.options.collection or draft.collection
        folder = self.config.content_dir / key if key else self.config.content_dir
        slug = slugify(draft.title, self.config.slug_language) or "article"
        if lead is None:
            text = article_file(draft, moment, key, not self.options.publish)
            path = create_article(folder, moment, slug, text)
        else:
            name, data = lead
            text = article_file(dataclasses.replace(draft, image=name), moment, key, not self.options.publish)
            path = create_bundle(folder, moment, slug, text, {name: data})
            notes += (f"the lead image was downloaded beside the article, as {name}",)
        self.index.add(self.shown(path), draft.body, [draft.source.url] if draft.source.url else [])
        self._indexed.add(path)
        return Outcome(given, path, notes)


def article_file(draft: Draft, date: datetime, collection: str, is_draft: bool = True) -> str:
    """The article file: YAML front matter, then the Markdown body."""
    front: dict[str, object] = {"title": draft.title, "date": date.isoformat()}
    if collection:
        front["collection"] = collection
    for name in ("summary", "lang", "image", "image_alt"):
        if getattr(draft, name):
            front[name] = getattr(draft, name)
    source = {k: v for k, v in dataclasses.asdict(draft.source).items() if v}
    if source:
        front["source"] = source
    if is_draft:
        front["draft"] = True
    text = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{text}---\n\n{draft.body}\n"


def _web_only(draft: Draft) -> tuple[Draft, tuple[str, ...]]:
    """The draft with its lead image and source address kept only if they are http(s) or a path in
    the site (a page may say `og:image` is `javascript:...` or `file:///etc/passwd`), and a note for
    each one dropped."""
    notes = []
    if draft.image and not _loadable(draft.image):
        notes.append(
            f"left out the lead image {draft.image[:60]!r}: only http(s) addresses and paths are kept"
        )
        draft = dataclasses.replace(draft, image="", image_alt="")
    if draft.source.url and not _loadable(draft.source.url, local=False):
        notes.append(f"left out the source address {draft.source.url[:60]!r}: it is not http(s)")
        draft = dataclasses.replace(draft, source=dataclasses.replace(draft.source, url=""))
    return draft, tuple(notes)


def _loadable(address: str, local: bool = True) -> bool:
    parts = urlsplit(address)
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.hostname)
    return local and not parts.scheme and not parts.netloc


class _Failed(Exception):
    def __init__(self, reason: str, hint: str | None = None, path: Path | None = None) -> None:
        super().__init__(reason)
        self.hint = hint
        self.path = path


def _decode(data: bytes, declared: str, html: bool, path: Path | None = None) -> Decoded:
    try:
        return decode(data, declared, html)
    except UnknownEncoding as error:
        raise _Failed(str(error), "save it as UTF-8 text", path) from None
