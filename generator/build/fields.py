"""Front matter fields to an `Article`: each field checked as Jekyll, Hugo, Pelican, Zola and
newsdigest write it, every error located at its line (the content stage's field reader).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from generator.base.errors import BuildFailed, FrontMatterError, SiteError, SiteWarning, SourceLocation
from generator.base.model import NO_RULES, Article, Correction, FieldRules, Source
from generator.base.urls import output_file_for, permalink_problem, slugify
from generator.build import frontmatter, shortcodes, translations
from generator.build.config import LANG_PATTERN
from generator.build.contentfiles import HTML_SUFFIXES, RawArticle

_DATE_PREFIX = re.compile(r"(\d{4})-(\d{2})-(\d{2})-")
_DATE_IN_URL = re.compile(r"(?:^|.*?/)(\d{4})/(\d{2})/(\d{2})/")


UNDATED = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the date of a page or section that gives none


_PUBLISH_DATE = ("publishDate", "publishdate", "pubdate", "publish_date")


_EXPIRY_DATE = ("expiryDate", "expirydate", "unpublishdate", "expiry_date")


_KNOWN = frozenset(
    {
        "title", "date", "collection", "collections", "tags", "author", "authors", "summary",
        "description", "slug", "draft", "updated", "lastmod", "modified", "image", "source", "sources",
        "corrections", "story",
        "lang", "translation_key", "translationKey",
        "url",
        "permalink", "aliases", "redirect_from", "categories", "category", "published", "status",
        "excerpt_separator", *_PUBLISH_DATE, *_EXPIRY_DATE,
    }
)  # fmt: skip


# The fields that name an article's lead image, in the order they are tried (all but `image` stay in
# `extra` for themes that read them).
_IMAGE_KEYS = ("image", "images", "featured_image", "featuredImage", "feature_image", "cover", "og_image")
# Liquid tags and output ({% ... %}, {{ ... }}) and Hugo shortcodes ({{< ... >}}, {{% ... %}}).


_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)  # a Markdown heading of the first level
_HOME_FILES = frozenset(
    f"{name}{suffix}" for name in ("index", "_index") for suffix in (".md", ".markdown", ".html")
)


def _never_rendered(meta: Mapping[str, Any]) -> bool:
    """Hugo's headless bundles and snippets (`headless: true`, `build: {render: never}`, the older
    `_build: {render: false}`) and Zola's `render = false`: read, but never a page of their own."""
    build = meta.get("build") or meta.get("_build")
    render = build.get("render") if isinstance(build, dict) else meta.get("render", True)
    return meta.get("headless") is True or render in (False, "never", "Never")


def _is_jekyll(article_id: str) -> bool:
    return bool({"_posts", "_drafts"} & set(PurePosixPath(article_id).parts))


class FieldReader:
    """Checks front matter fields one by one, collecting errors located at their lines."""

    def __init__(
        self, raw: RawArticle, found: frontmatter.FrontMatter, tz: ZoneInfo, rules: FieldRules = NO_RULES
    ) -> None:
        self.raw = raw
        self.rules = rules
        self.meta = {str(k): v for k, v in found.meta.items()}
        self.found = found
        self.tz = tz
        self.errors: list[SiteError] = []
        self._lines: dict[tuple[str, ...], int] | None = None

    def error(self, key: str, message: str, hint: str | None = None) -> None:
        if self._lines is None:
            self._lines = self.found.lines()
        line = self._lines.get((key,), self.found.front_line)
        self.errors.append(FrontMatterError(message, SourceLocation(self.raw.path, line), hint))

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

    def names(self, key: str, split_commas: bool, split_spaces: bool = False) -> tuple[str, ...]:
        value = self.meta.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            items: list[Any] = value.split(",") if split_commas else [value]
            if split_spaces and len(items) == 1:
                items = value.split()
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

    def lead_image(self) -> tuple[str, str]:
        """The lead image's address and alt text, from whichever field the archive's generator uses:
        `image:` as text or as Jekyll's `{path, alt}`, Hugo's `images:` list (its first) and
        `featured_image:`, a theme's `cover: {image, alt}`, Pelican's `og_image:`."""
        for key in _IMAGE_KEYS:
            value = self.meta.get(key)
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, list):
                value = value[0]
            if isinstance(value, dict):
                address = next((value[k] for k in ("path", "src", "url", "image") if value.get(k)), "")
                if not address or not isinstance(address, str):
                    if key != "image":
                        continue  # another tool's settings of the same name
                    self.error(key, f"'{key}' must name an image: a path or URL, or {{path: ...}}")
                    return "", ""
                return self._image_address(key, address), " ".join(str(value.get("alt") or "").split())
            if isinstance(value, (bool, bytes, int, float)):
                if key == "image":
                    self.error(key, f"'{key}' must name an image: a path or URL")
                    return "", ""
                continue  # another tool's flag of the same name (`cover: true`)
            return self._image_address(key, str(value)), ""
        return "", ""

    def _image_address(self, key: str, address: str) -> str:
        """The address, if it is one a page may load: a path in the site or http(s); '' and an error
        for any other scheme (`javascript:`, `file:`, `data:`), which no reader's browser should be
        handed as an image or a social card."""
        address = " ".join(address.split())
        scheme = urlsplit(address).scheme.lower()
        if scheme and scheme not in ("http", "https"):
            self.error(key, f"'{key}' must be a path in the site or an http(s) address, not {address[:60]!r}")
            return ""
        return address

    def flag(self, key: str) -> bool:
        value = self.meta.get(key, False)
        if not isinstance(value, bool):
            self.error(key, f"'{key}' must be true or false, not {value!r}")
            return False
        return value

    def sources(self) -> tuple[Source, ...]:
        """`source:` (or `sources:`): a name, a URL, or a mapping (name, url, author, published,
        archived); one or a list."""
        key = "sources" if "sources" in self.meta else "source"
        value = self.meta.get(key)
        items = value if isinstance(value, list) else [] if value is None else [value]
        found = []
        for item in items:
            made = self.one_source(key, item)
            if made is not None and made not in found:
                found.append(made)
        return tuple(found)

    def corrections(self, published: datetime | None) -> tuple[Correction, ...]:
        """`corrections:`, a list of `{date, text}` (text in Markdown), oldest first; one dated before
        the article is an error."""
        from generator.build import markup

        value = self.meta.get("corrections")
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
            example = "corrections: [{date: 2020-09-05, text: An earlier version misspelled a name.}]"
            self.error(
                "corrections", "'corrections' must be a list of entries with 'date' and 'text'", example
            )
            return ()
        found = []
        for item in value:
            text = str(item.get("text") or "").strip()
            try:
                day = parse_date(item.get("date"), self.tz)
            except ValueError:
                self.error("corrections", f"a correction's date is not a date: {item.get('date')!r}")
                continue
            if not text:
                self.error("corrections", "a correction needs its 'text'")
            elif published is not None and day < published.replace(hour=0, minute=0, second=0, microsecond=0):
                self.error("corrections", f"a correction dated {day.date()} is older than the article")
            else:
                found.append(Correction(day, markup.to_html(text)))
        return tuple(sorted(found, key=lambda c: c.date))

    def one_source(self, key: str, value: object) -> Source | None:
        if isinstance(value, str) and value.strip():
            text = value.strip()
            return Source(_bare_host(text), text) if _is_url(text) else Source(text)
        if not isinstance(value, dict) or not ({"name", "url"} & set(value)):
            self.error(key, f"each '{key}' must be a name, a URL, or a mapping with 'name' and 'url'")
            return None
        fields = {name: str(value.get(name) or "").strip() for name in ("name", "url", "author", "archived")}
        for name in ("url", "archived"):
            if fields[name] and not _is_url(fields[name]):
                self.error(
                    key, f"a source's {name} must start with http:// or https://, not {fields[name]!r}"
                )
                fields[name] = ""
        published = ""
        if value.get("published"):
            try:
                published = parse_date(value["published"], self.tz).date().isoformat()
            except ValueError:
                self.error(key, f"a source's 'published' is not a date: {value['published']!r}")
        name = fields["name"] or _bare_host(fields["url"])
        return Source(name, fields["url"], fields["author"], published, fields["archived"])

    def article(self, body: str, body_line: int = 1) -> Article:
        raw = self.raw
        kind = self.kind()
        # A section's title may come from the config; a page needs none (Jekyll's, Hugo's, Zola's).
        title = self.text("title", required=kind not in ("section", "page", "headless"))
        if not title and kind == "page":
            heading = _HEADING.search(body)
            title = (
                heading.group(1).strip() if heading else file_slug(raw.path).replace("-", " ").capitalize()
            )
        url = self.page_url()
        # A date from the file's name (Jekyll's, Zola's), else from the old URL (`2020/09/03/name`).
        prefix = _DATE_PREFIX.match(raw.path.name) or _DATE_IN_URL.match(url)
        in_drafts = "_drafts" in PurePosixPath(raw.id).parts  # Jekyll's drafts have no date yet
        publish_date = self.when_any(_PUBLISH_DATE)
        dated = prefix or publish_date or in_drafts or kind != "article"
        when = self.when("date", required=not dated)
        if when is None:
            day = "-".join(prefix.groups()) if prefix else ""
            when = publish_date or (parse_date(day, self.tz) if prefix else None) or UNDATED
        updated = self.when_any(("updated", "lastmod", "modified"))
        given_slug = self.text("slug")
        codes = self.rules.languages
        in_language, base_id = translations.language_of(raw.id, codes) if codes else ("", raw.id)
        named = raw.path.with_name(PurePosixPath(base_id).name)  # `story.ru.md`: slugged as `story.md` is
        lang = self.text("lang") or (in_language or codes[0] if codes else "")
        by = (lang or self.rules.slug_language) if self.rules.slug_language else ""  # whose spelling
        made = slugify(title, by) if self.rules.slug_source == "title" and title else file_slug(named, by)
        slug = slugify(given_slug, by) if given_slug else made or slugify(title, by)
        if title and not slug:
            self.error(
                "slug" if given_slug else "title",
                f"cannot make a URL slug from {given_slug or title!r}",
                "add 'slug: some-words' to the front matter",
            )
        aliases = self.aliases()
        jekyll = _is_jekyll(raw.id)  # Jekyll splits a text of tags and categories at spaces
        collections = self.names("collection", False) + self.names("collections", False)
        tags = self.names("tags", True, jekyll)
        categories = self.names("categories", True, jekyll) + self.names("category", True)
        authors = self.names("author", False) + self.names("authors", False)
        summary_given = self.text("summary") or self.text("description")
        is_draft = self.flag("draft") or self.meta.get("published") is False or self.unpublished_status()
        is_draft = is_draft or in_drafts
        sources = self.sources()
        corrections = self.corrections(when)
        story = self.text("story")
        image, image_alt = self.lead_image()
        given_key = self.text("translation_key") or self.text("translationKey")
        key = translations.key_of(given_key, base_id) if codes else ""
        if lang and not LANG_PATTERN.fullmatch(lang):
            self.error("lang", f"'lang' must be a language code, not {lang!r}", "write it as en, ru or pt-BR")
        expiry_date = self.when_any(_EXPIRY_DATE)
        if self.errors:
            raise BuildFailed(self.errors)
        assert when is not None
        if corrections and (updated is None or corrections[-1].date > updated):
            updated = corrections[-1].date  # a correction is a change readers are told of
        _check_brackets(body, raw.path, body_line)
        excerpt = self.excerpt(body)
        html = raw.path.suffix.lower() in HTML_SUFFIXES  # an HTML article: its text is HTML already
        site = json.loads(self.rules.params_json) if self.rules.params_json != "{}" else {}
        body = shortcodes.translate(body, title, self.meta, html, site)  # what the old generator's tags meant
        if not html:
            body = shortcodes.plain_fences(body)
        return Article(
            source_hash=raw.source_hash,
            id=raw.id,
            slug=slug,
            title=title,
            date=when,
            body_html="",
            summary=summary_given or excerpt,
            source_location=SourceLocation(raw.path),
            collections=tuple(dict.fromkeys(collections)),
            tags=tags,
            authors=tuple(dict.fromkeys(authors)),
            updated=updated,
            is_draft=is_draft,
            image=image,
            sources=sources,
            corrections=corrections,
            story=story,
            lang=lang,
            translation_key=key,
            url=url,
            aliases=aliases,
            categories=categories,
            publish_date=publish_date,
            expiry_date=expiry_date,
            summary_from_text=not (summary_given or excerpt),
            kind=kind,
            notes=self.unsupported(body, body_line) + self.unshown(kind, body, body_line),
            extra=MappingProxyType(
                {
                    **({"image_alt": image_alt} if image_alt else {}),
                    **{k: v for k, v in self.meta.items() if k not in _KNOWN},
                }
            ),
            markdown=body,
            markdown_line=body_line,
        )

    def kind(self) -> str:
        """ "section" for Hugo's `_index.md`; "page" for a file under `pages/`, or with `type: page`
        or Jekyll's `layout: page`; else "article"."""
        if _never_rendered(self.meta):
            return "headless"
        if self.raw.id in _HOME_FILES or (self.raw.path.stem == "_index" and self.raw.id.count("/") == 1):
            return "section"  # the home page's (Hugo's, Jekyll's), a collection's (Hugo's, Zola's)
        if "edition" in self.meta:
            return "edition"
        if PurePosixPath(self.raw.id).parts[0] == "stories" or self.meta.get("type") == "story":
            return "story"
        parts = PurePosixPath(self.raw.id).parts
        if self.raw.path.stem == "_index":  # a section below a collection (Zola's, Hugo's): a page of its own
            return "page"
        if parts[0] == "pages" or "page" in (self.meta.get("type"), self.meta.get("layout")):
            return "page"
        return "article"

    def when_any(self, keys: Sequence[str]) -> datetime | None:
        """The first of the date fields `keys` that is given (Hugo spells some several ways)."""
        for key in keys:
            if key in self.meta:
                return self.when(key, required=False)
        return None

    def unpublished_status(self) -> bool:
        """Pelican's `Status: draft` (or `hidden`): not published."""
        status = self.meta.get("status")
        return isinstance(status, str) and status.strip().lower() in ("draft", "hidden")

    def excerpt(self, body: str) -> str:
        """The text before `<!--more-->` (Hugo) or the front matter's `excerpt_separator` (Jekyll), as
        plain text: the summary when none is given."""
        from generator.build import markup

        separator = self.text("excerpt_separator") or "<!--more-->"
        if separator not in body:
            return ""
        return " ".join(markup.plain_text(markup.to_html(body.split(separator, 1)[0])).split())

    def unshown(self, kind: str, body: str, body_line: int) -> tuple[SiteError, ...]:
        """A warning for the text of the old site's home page (`content/index.md`, `_index.md`): the
        home page here lists the latest articles, and shows no text of its own."""
        if kind != "section" or "/" in self.raw.id or not body.strip():
            return ()
        return (
            SiteWarning(
                "the text of the old home page is not shown: the home page lists the latest articles",
                SourceLocation(self.raw.path, body_line),
                "make it a page (add 'type: page' and a title) or move it into overrides/ as a template",
            ),
        )

    def unsupported(self, body: str, body_line: int) -> tuple[SiteError, ...]:
        """One warning for template code in the text (Liquid tags, Hugo shortcodes), which is shown
        as it is written: it is never run."""
        if "{%" not in body and "{{" not in body:
            return ()
        parts = shortcodes.code_free(body)  # code shows template code as code: not named
        hits = ((offset, shortcodes.TEMPLATE_CODE.search(part)) for offset, part in parts)
        first = next(((offset, hit) for offset, hit in hits if hit), None)
        if first is None:
            return ()
        offset, found = first
        line = body_line + body.count("\n", 0, offset + found.start())
        what = "a Hugo shortcode" if found.group().startswith(("{{<", "{{%")) else "a Liquid tag"
        return (
            SiteWarning(
                f"{what} in the text ({found.group()[:40]}) is shown as written: article text is never run",
                SourceLocation(self.raw.path, line),
                "replace it with Markdown or HTML",
            ),
        )

    def page_url(self) -> str:
        """The URL that `url:` (Hugo, Pelican), `permalink:` (Jekyll, tokens allowed), `save_as:`
        (Pelican) or, in TOML front matter, `path` (Zola) gives, as a pattern."""
        zola = self.found.kind == "toml" and "path" in self.meta
        key = "url" if "url" in self.meta else "permalink" if "permalink" in self.meta or not zola else "path"
        if "save_as" in self.meta:  # Pelican's: the file the page is written to, which its links name
            key = "save_as"
        given = self.text(key)
        if not given:
            return ""
        if key == "save_as":
            given = given.removesuffix("index.html")
        if key in ("path", "save_as") and not given.startswith("/"):
            given = "/" + given  # Zola's path and Pelican's save_as are from the site's root
        if not given.endswith(("/", ".html")):
            given += "/"
        problem = permalink_problem(given)
        if problem:
            self.error(key, problem, "write a path such as /about/ or /2020/09/weekly-briefing/")
        return given

    def aliases(self) -> tuple[str, ...]:
        """The earlier URLs of the article (`aliases:` of Hugo, `redirect_from:` of Jekyll), relative."""
        found: list[str] = []
        for key in ("aliases", "redirect_from"):
            for given in self.names(key, split_commas=False):
                url = given.strip().lstrip("/")
                if url and not url.endswith(("/", ".html")):
                    url += "/"
                try:
                    output_file_for(url)
                except ValueError:
                    self.error(
                        key, f"the alias {given!r} is not a path inside the site", "write it as /old/path/"
                    )
                    continue
                if url not in found:
                    found.append(url)
        return tuple(found)


def _check_brackets(body: str, path: Path, body_line: int) -> None:
    """A paragraph that Python-Markdown would take minutes over is an error at its line, whether
    the article is shown now or later."""
    from generator.build import markup

    slow = markup.slow_paragraph(body)
    if slow is not None:
        line, count = slow
        raise BuildFailed(
            [
                FrontMatterError(
                    f"a paragraph with {count:,} '[' (Python-Markdown needs minutes for it)",
                    SourceLocation(path, body_line + line - 1),
                    f"split it (at most {markup.MAX_BRACKETS:,} a paragraph), or write '\\['",
                )
            ]
        )


def file_slug(path: Path, lang: str = "") -> str:
    """The slug a file's name gives: `2020-09-03-weekly-briefing.md` gives `weekly-briefing`, and
    `weekly-briefing/index.md` (a page bundle) the same; spelled by `lang`'s rules if given."""
    stem = path.stem if path.stem not in ("index", "_index") else path.parent.name
    dated = _DATE_PREFIX.match(stem)
    return slugify(stem[dated.end() :] if dated else stem, lang)


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
        try:
            result = datetime.fromisoformat(text)
        except ValueError:
            result = _lenient_date(text)
    else:
        raise ValueError(value)
    return result.replace(tzinfo=tz) if result.tzinfo is None else result


# What Jekyll (Ruby's Time.parse), Hugo, Pelican and Zola also read as a date: one-digit months, days
# and hours, no seconds, a space or a T, a space before the offset, offsets with or without a colon,
# slashes between the parts of the date, the year again before the offset, and a zone's abbreviation
# after the offset.
_LENIENT = re.compile(
    r"(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:(?:[ \t]+|T)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6})\d*)?)?)?"
    r"(?:[ \t]+(?P=y)(?=[ \t]))?"  # the year again, as `date` prints it (Ruby's parser skips it)
    r"[ \t]*(?P<z>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?(?:[ \t]+[A-Z]{2,5})?",
    re.IGNORECASE,
)


def _lenient_date(text: str) -> datetime:
    """A date or date-time in any of the forms of `_LENIENT`; raises `ValueError` for others."""
    found = _LENIENT.fullmatch(text)
    if not found:
        raise ValueError(text)
    part = found.groupdict()
    moment = datetime(
        int(part["y"]), int(part["m"]), int(part["d"]), int(part["H"] or 0), int(part["M"] or 0),
        int(part["S"] or 0), int((part["f"] or "0").ljust(6, "0")),
    )  # fmt: skip
    zone = (part["z"] or "").upper()
    if not zone:
        return moment
    if zone in ("Z", "UTC", "GMT"):
        return moment.replace(tzinfo=timezone.utc)
    digits = zone[1:].replace(":", "").ljust(4, "0")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment.replace(tzinfo=timezone(offset if zone[0] == "+" else -offset))


def _bare_host(url: str) -> str:
    """A URL's host without `www.`: the name of an outlet given only by a link."""
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
    return host.removeprefix("www.")


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))
