"""The values passed between build stages.

Every type here is a frozen dataclass; a stage returns new values and never
changes the ones it was given. Nothing in this module does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from generator.base.errors import SiteError, SourceLocation

EMPTY: Mapping[str, Any] = MappingProxyType({})
CACHE_DIR = ".digest-cache"  # below the site folder: what builds keep for the next one

# Told (stage name, items done, items in all) as long stages go; for progress bars.
Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """The default `Progress`: says nothing."""


# A date in the URL: recurring headlines ("Weekly briefing") never collide, and the slug comes from the
# file's name, which the editor does not retype when a headline is corrected.
DEFAULT_PERMALINK = "/:collection/:year/:month/:day/:slug/"


@dataclass(frozen=True, slots=True)
class AuthorSpec:
    """An author as `config.yaml` describes them: the byline links to their page."""

    key: str
    name: str
    bio: str = ""
    url: str = ""
    image: str = ""


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """A language of a multilingual site, as `config.yaml`'s `languages:` describes it."""

    code: str  # en, be, pt-BR
    name: str  # as its speakers write it: Беларуская
    title: str = ""  # the site's title in it, if another
    description: str = ""
    menu: tuple[tuple[str, str], ...] | None = None  # its own menu, if another


@dataclass(frozen=True, slots=True)
class CollectionSpec:
    """A collection as `config.yaml` describes it."""

    key: str
    title: str
    description: str = ""
    order: int = 0
    permalink: str = ""  # the pattern of its articles' URLs; the site's `permalink` if empty
    edition: str = ""  # "daily", "weekly" or "monthly": the collection is also published in editions
    # On a multilingual site, its title and description in each other language: (code, title, text).
    translated: tuple[tuple[str, str, str], ...] = ()

    def in_language(self, code: str) -> tuple[str, str]:
        """Its title and description as read in the language `code` (its own where none is given)."""
        for lang, title, description in self.translated:
            if lang == code:
                return title or self.title, description or self.description
        return self.title, self.description


@dataclass(frozen=True, slots=True)
class FieldDefaults:
    """Front matter values for the files under `path` (relative to the content folder: a folder or one
    file; "" for all)
    of one `kind` ("posts": under `_posts/`, "drafts", "pages": any other file, "" for every file),
    as Jekyll's `defaults:` gives them: a file's own value wins, then the most specific scope's."""

    path: str
    kind: str
    values_json: str  # the values as JSON text: data that any process reads, and that hashes alike

    def applies_to(self, article_id: str) -> bool:
        parts = article_id.split("/")
        kind = "posts" if "_posts" in parts else "drafts" if "_drafts" in parts else "pages"
        inside = not self.path or article_id == self.path or article_id.startswith(self.path + "/")
        return inside and self.kind in ("", kind)


@dataclass(frozen=True, slots=True)
class FieldRules:
    """What besides a file's text decides its fields: the config's `defaults:`, `slug_source` and
    `params:` (which template code in the text may name); data that any process takes."""

    defaults: tuple[FieldDefaults, ...] = ()
    slug_source: str = "filename"
    params_json: str = "{}"
    languages: tuple[str, ...] = ()  # a multilingual site's codes, the default first: `story.ru.md`, `ru/`
    # With `transliteration: language`, the site's language: slugs spelled by each article's
    # language's own rules (`translit.py`); "" keeps the standard slugs.
    slug_language: str = ""

    @classmethod
    def of(cls, config: Config) -> FieldRules:
        codes = tuple(spec.code for spec in config.languages)
        return cls(config.defaults, config.slug_source, config.params_json, codes, config.slug_language)


NO_RULES = FieldRules()


@dataclass(frozen=True, slots=True)
class Showing:
    """Which articles a build shows: those published at `now`, and drafts or future ones when asked
    for (never expired ones); see `content.published`."""

    now: datetime
    include_drafts: bool = False
    include_future: bool = False


@dataclass(frozen=True, slots=True)
class ImportSettings:
    """`import:` in config.yaml: how `digest import` fetches and what it calls a duplicate."""

    duplicate_threshold: float = 0.8  # share of five-word runs two texts have in common
    timeout: float = 20.0  # seconds a server may stay silent
    max_page_kb: int = 5120  # a bigger page or feed is not read
    delay: float = 1.0  # seconds between two requests to one host (robots.txt may ask for more)
    user_agent: str = ""  # the default names newsdigest and its version


@dataclass(frozen=True, slots=True)
class ImageSettings:
    """`images:` in config.yaml: the variants made of every local raster image (see `media.py`)."""

    widths: tuple[int, ...] = (480, 800, 1200, 1600)  # pixels; an image is never enlarged
    formats: tuple[str, ...] = ("webp",)  # made beside the image's own format: webp, avif
    quality: int = 80  # of JPEG, WebP and AVIF
    sizes: str = "(min-width: 42rem) 40rem, 100vw"  # the width an image takes on the page, for `sizes`


@dataclass(frozen=True, slots=True)
class Picture:
    """A local raster image as the site publishes it: variants beside the page of the article that
    uses it, turned as its EXIF orientation says and without its metadata."""

    path: str  # output path of the largest variant in the image's own format (its name as written)
    width: int  # of the largest variant
    height: int
    widths: tuple[int, ...]  # of every variant, smallest first, the largest last
    formats: tuple[str, ...]  # the image's own format first ("jpeg", "png", "webp"), then the others
    source: Path  # the content file (of a social card: the article's file)
    key: str  # a hash of the source's bytes and the settings it is made with
    card: Card | None = None  # a social card drawn for an article without a lead image (cards.py)

    def variant(self, width: int, fmt: str) -> str:
        """The output path of the variant `width` pixels wide in format `fmt`."""
        if width == self.widths[-1] and fmt == self.formats[0]:
            return self.path
        stem = self.path.rsplit(".", 1)[0]
        return f"{stem}-{width}w.{FORMAT_SUFFIX[fmt]}"

    def variants(self) -> list[tuple[str, int, str]]:
        """(output path, width, format) of every variant."""
        return [(self.variant(w, f), w, f) for f in self.formats for w in self.widths]


FORMAT_SUFFIX = {"jpeg": "jpg", "png": "png", "webp": "webp", "avif": "avif"}


@dataclass(frozen=True, slots=True)
class CardText:
    """A text of a social card's template (`card.yaml`, see `cards.py`), in the box it fills."""

    field: str  # what it shows: "site", "collection", "title" or "date"
    font: Path
    size: int  # in pixels; shrunk down to `min_size` until the text fits its box
    min_size: int
    line_height: float  # times the size
    colour: str
    box: tuple[int, int, int, int]  # left, top, width, height
    upper: bool = False  # in capitals


@dataclass(frozen=True, slots=True)
class CardTemplate:
    """A theme's social card: its size, background, bands of colour and texts."""

    source: Path  # the card.yaml it was read from
    width: int
    height: int
    background: str
    bands: tuple[tuple[tuple[int, int, int, int], str], ...]  # (left, top, width, height), colour
    texts: tuple[CardText, ...]
    key: str  # a hash of the template and its fonts' bytes


@dataclass(frozen=True, slots=True)
class Card:
    """What one article's social card shows, in its template."""

    template: CardTemplate
    texts: tuple[tuple[str, str], ...]  # (field, text)


@dataclass(frozen=True, slots=True)
class Media:
    """The local files an article uses (see `media.py`), by the address its text gives them."""

    pictures: Mapping[str, Picture] = field(default_factory=dict)  # raster images
    files: Mapping[str, StaticFile] = field(default_factory=dict)  # published as they are
    urls: Mapping[str, str] = field(default_factory=dict)  # each address as the page links it
    folder: str = ""  # the output folder of the article's page, where they are published


@dataclass(frozen=True, slots=True)
class Config:
    """The validated contents of `config.yaml`, with CLI overrides applied."""

    root: Path
    title: str = "News digest"
    description: str = ""
    base_url: str = "http://127.0.0.1:8000/"
    language: str = "en"
    timezone: str = "UTC"
    author: str = ""
    theme: str = "default"
    content_dir: Path = Path("content")
    output_dir: Path = Path("site")
    per_page: int = 10
    home_latest: int = 10
    home_per_collection: int = 4
    feed_entries: int = 20
    feed_content: str = "full"  # or "summary": feeds carry the summary only
    search: bool = True  # index the articles with Pagefind after the build
    social_cards: bool = True  # draw a link preview picture for each article without a lead image
    card_size: tuple[int, int] = (1200, 630)  # of the theme's cards: set by the plan stage (cards.py)
    permalink: str = DEFAULT_PERMALINK  # the pattern of articles' URLs (urls.permalink)
    menu: tuple[tuple[str, str], ...] = ()  # (title, URL) links the theme shows beside the collections
    stories: tuple[CollectionSpec, ...] = ()  # running stories: key, title, description
    authors: tuple[AuthorSpec, ...] = ()  # the digest's authors: a page and feeds each
    week_start: str = "monday"  # the first day of a weekly edition's week, in `timezone`
    newsletter: Mapping[str, Any] = field(default_factory=dict, compare=False)  # from, unsubscribe, smtp
    max_article_kb: int = 1024  # a bigger article file is an error (a runaway export, a wrong file)
    allow_outside_symlinks: bool = False  # read article files that links lead to outside the site
    collections: tuple[CollectionSpec, ...] = ()
    source: Path | None = None
    imports: ImportSettings = field(default_factory=ImportSettings, repr=False, compare=False)
    images: ImageSettings = field(default_factory=ImageSettings)
    slug_source: str = "filename"  # a slug's source when none is given: "filename" or "title" (Pelican's)
    transliteration: str = "standard"  # or "language": slugs by each language's own rules
    languages: tuple[LanguageSpec, ...] = ()  # a multilingual site's, the default (`language`) first
    default_language_in_subdir: bool = False  # the default language under /<code>/ too (Hugo's option)
    url_prefix: str = ""  # of one language's part of a multilingual site: "ru/" (see `languages.py`)
    defaults: tuple[FieldDefaults, ...] = ()  # front matter fields that files lack, by folder (Jekyll's)
    params_json: str = "{}"  # the site's own values (`params:`), as JSON: `{{ site.x }}`, `{{< param x >}}`
    redirects: tuple[tuple[str, str], ...] = ()  # (old URL, URL now), both from the site's root, no "/"
    feed_aliases: tuple[tuple[str, str], ...] = ()  # (atom, rss or json, a path): the site feed there too
    csp: tuple[tuple[str, str], ...] | None = ()  # directives replacing the default policy's; None: none
    markdown_extensions: tuple[str, ...] = ()  # `markdown: extensions:` beside the default ones
    markdown_configs: str = "{}"  # `markdown: extension_configs:`, as JSON (sorted keys)
    # Deploy targets by name; not part of what pages depend on.
    deploy: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR

    @property
    def base_path(self) -> str:
        """The path part of `base_url`, always ending in `/` (e.g. `/digest/`)."""
        rest = self.base_url.split("://", 1)[-1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else "/"

    @property
    def slug_language(self) -> str:
        """Whose spelling a new slug takes: the site's language with `transliteration: language`
        (an article's own `lang` overrides it), else "" for the standard slugs."""
        return self.language if self.transliteration == "language" else ""

    def home_of(self, lang: str) -> str:
        """The language part of the site that `lang` is read in: a code of `languages:`, else the
        default language's ("" on a site of one language)."""
        codes = [spec.code for spec in self.languages]
        return lang if lang in codes else (codes[0] if codes else "")

    def prefix_of(self, lang: str) -> str:
        """Where the pages of `lang` live: "ru/" for a language that is not the default, "" for the
        default (unless `default_language_in_subdir`) and on a site of one language."""
        home = self.home_of(lang)
        if not home or (home == self.languages[0].code and not self.default_language_in_subdir):
            return ""
        return f"{home}/"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a story came from (an outlet's report), shown on the page, in feeds and in JSON-LD."""

    name: str
    url: str = ""
    author: str = ""
    published: str = ""  # ISO date of the original, if given
    archived: str = ""  # an archived copy (Wayback Machine, archive.today)

    @property
    def outlet(self) -> str:
        """The key of the outlet's page (`/sources/<outlet>/`): its name as a slug, else its host."""
        from generator.base.urls import slugify

        return slugify(self.name) or slugify(self.url.split("://", 1)[-1].split("/", 1)[0])


@dataclass(frozen=True, slots=True)
class Correction:
    """A correction an article carries in the open: when it was made, and what it says (HTML)."""

    date: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Article:
    """One parsed article. `id` is its path below `content/`, in POSIX form."""

    id: str
    slug: str
    title: str
    date: datetime
    body_html: str
    summary: str
    source_location: SourceLocation
    collections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    updated: datetime | None = None
    is_draft: bool = False
    image: str = ""
    sources: tuple[Source, ...] = ()
    corrections: tuple[Correction, ...] = ()  # oldest first
    story: str = ""  # the running story it is part of (a name; a story's key once the site is assembled)
    lang: str = ""
    url: str = ""  # front matter's `url:` (Hugo) or `permalink:` (Jekyll): a pattern for this page alone
    aliases: tuple[str, ...] = ()  # earlier URLs (aliases:, redirect_from:), relative: each redirects here
    categories: tuple[str, ...] = ()  # Jekyll's and Pelican's: a collection when one matches, else tags
    publish_date: datetime | None = None  # Hugo's publishDate: not shown before it
    expiry_date: datetime | None = None  # Hugo's expiryDate: not shown from it on
    summary_from_text: bool = False  # the summary is the text's first paragraph (a page shows it once)
    kind: str = "article"  # "page": no date, in no list or feed; "section": `_index.md`; "edition": a note
    notes: tuple[SiteError, ...] = ()  # what was read but not supported (Liquid tags, shortcodes): warnings
    word_count: int = 0
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    translation_key: str = ""  # on a multilingual site: what its translations share (`translations`)
    source_hash: str = ""  # of the file's text: the build cache's key for this article
    status: str = ""  # in `digest serve` only: "draft" or "scheduled" (not published yet); never in a build
    # The Markdown of an article that was not shown when it was read (a draft, a future or expired
    # one), and its first line in the file: `body_html`, the summary from the text and the word
    # count are made from it when it is shown (`content.finish`).
    markdown: str = ""
    markdown_line: int = 0

    @property
    def collection(self) -> str:
        """The primary collection's key, or '' when the article has none."""
        return self.collections[0] if self.collections else ""

    def __reduce__(self) -> tuple[Any, ...]:
        # MappingProxyType cannot be pickled; worker processes and the build cache need to.
        values = [getattr(self, name) for name in _ARTICLE_FIELDS]
        values[_EXTRA] = dict(self.extra)
        return (_article, tuple(values))


_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
_EXTRA = _ARTICLE_FIELDS.index("extra")


def _article(*values: Any) -> Article:
    article = Article(*values)
    object.__setattr__(article, "extra", MappingProxyType(article.extra))
    return article


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag and the articles that carry it, newest first."""

    slug: str
    name: str
    article_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Collection:
    """A topic collection: its description and its articles' ids, newest first."""

    key: str
    title: str
    description: str
    article_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Edition:
    """One edition of a collection: a period's articles (lead stories first), with the editor's note
    of its edition file, if there is one."""

    collection: str
    id: str  # 2020-09-03, 2020-w36 or 2020-09
    title: str
    start: date  # the period's first and last day, in the site's time zone
    end: date
    article_ids: tuple[str, ...]
    note: str = ""  # the id of its edition file (an `Article` of kind "edition"), or ""
    url: str = ""
    lang: str = ""  # on a multilingual site, the language whose articles it gathers


@dataclass(frozen=True, slots=True)
class Site:
    """The whole site in memory: config, articles by id, and their groupings.

    `article_ids` lists every article newest first; `urls` maps an article id
    to its output URL path (relative to the site root, ending in `/`).
    """

    config: Config
    articles: Mapping[str, Article]
    article_ids: tuple[str, ...]
    collections: tuple[Collection, ...]
    tags: tuple[Tag, ...]
    urls: Mapping[str, str]
    editions: tuple[Edition, ...] = ()  # newest first within each collection
    outlets: tuple[Tag, ...] = ()  # each source outlet (slug, name) and the articles taken from it
    stories: tuple[Collection, ...] = ()  # each running story and its articles, oldest first
    corrected: tuple[str, ...] = ()  # the articles with corrections, the latest correction first
    bylines: tuple[Tag, ...] = ()  # each configured author (key, name) with their articles, newest first
    media: Mapping[str, Media] = field(default_factory=dict)  # the local files each article uses, by id
    translations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # id -> its translations' ids
    # Each listed article's `lang`, so that a language's part (`languages.part`) is found without
    # loading every article (a kept plan holds them in the article store, read one by one).
    langs: Mapping[str, str] = field(default_factory=dict)

    def collection(self, key: str) -> Collection | None:
        """The collection with this key, if any."""
        return next((c for c in self.collections if c.key == key), None)


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One file of the built site, at a path relative to the output folder."""

    path: PurePosixPath
    content: bytes
    origin: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class StaticFile:
    """A theme file copied as it is into the output folder."""

    path: PurePosixPath
    source: Path


@dataclass(frozen=True, slots=True)
class Draft:
    """An article that `digest import` recovered from a text file, a web page or a feed item."""

    title: str
    body: str  # Markdown
    summary: str = ""  # the standfirst
    date: datetime | None = None  # as the outlet gave it, with its offset
    collection: str = ""
    lang: str = ""
    image: str = ""  # the lead image's absolute URL, left where it is
    image_alt: str = ""
    source: Source = Source("")
    notes: tuple[str, ...] = ()  # every repair, and what had to be assumed
    missing: tuple[str, ...] = ()  # the fields that could not be found


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What a build did, for the one-line report."""

    articles: int
    collections: int
    warnings: tuple[SiteError, ...]
    pages: int
    files: int
    seconds: float
    output_dir: Path
    rendered: int = 0
    indexed: Mapping[str, int] = field(default_factory=dict)  # search: pages by language
    index_parts: tuple[int, int] = (0, 0)  # search: parts indexed in this build, parts in all
    index_seconds: float | None = None  # how long indexing took; None if the index was current
    left_out: tuple[SiteError, ...] = ()  # with --keep-going: the errors of the article files left out
    to_translate: tuple[str, ...] = ()  # `check` of a multilingual site: what to translate next, a line each
    refilled: int = 0  # files of a missing output folder put back from the cache (incremental/snapshot.py)
