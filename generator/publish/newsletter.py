"""Newsletter stage for `digest newsletter`: one edition as an email, ready for any mailing tool.

The HTML comes from the theme's `newsletter.html` (a table 600 px wide that
narrows to a phone's width), with its CSS inlined by `css-inline`, no script,
no external stylesheet and absolute URLs only. Beside it: a `text/plain` twin
with every headline and URL, and a `.eml` (multipart/alternative, with Subject,
From, Date, Message-ID and List-Unsubscribe). Gmail clips a message past
102 KB, so a bigger edition is cut at a story boundary, with a link to the rest
on the web.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jinja2

from generator.base.errors import BuildFailed, SiteError, SourceLocation
from generator.base.model import Edition
from generator.base.urls import absolute
from generator.build.media import feed_html
from generator.build.plan import Plan

CLIP_BYTES = 102 * 1024  # Gmail clips a message's HTML past this
_LINK = re.compile(r'(href|src)="(?!https?:|mailto:|#|data:)([^"]*)"')


@dataclass(frozen=True, slots=True)
class Newsletter:
    """An edition as an email: its subject, HTML and plain text, the message, and the stories cut."""

    edition: Edition
    subject: str
    html: str
    text: str
    message: bytes
    cut: int  # stories left out to stay under CLIP_BYTES (the email links to the rest)


def make_newsletter(
    plan: Plan, collection: str, edition_id: str | None = None, language: str | None = None
) -> Newsletter:
    """The newsletter of an edition of `collection` (its newest without `edition_id`); of a
    multilingual site, of its edition in `language` (the default language's without), in that
    language's title and words. Raises `BuildFailed` for an unknown collection, edition or
    language, or a missing `newsletter:` setting."""
    from generator.build import languages, render

    site = plan.site
    config = site.config
    where = SourceLocation(config.source) if config.source else None
    codes = [spec.code for spec in config.languages]
    if language and language not in codes:
        have = ", ".join(codes) or "none (the site has no languages: in config.yaml)"
        raise _failed(f"the site has no language '{language}'", where, f"its languages: {have}")
    if codes:
        site = languages.part(site, language or codes[0])
        config = site.config
    keys = [c.key for c in config.collections]
    if collection not in keys:
        close = difflib.get_close_matches(collection, keys, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"the collections: {', '.join(keys) or 'none'}"
        raise _failed(f"there is no collection '{collection}'", None, hint)
    editions = [e for e in site.editions if e.collection == collection]
    if not editions:
        known = ", ".join(sorted({e.collection for e in site.editions})) or "none"
        raise _failed(f"collection '{collection}' has no editions (collections in editions: {known})", where,
                      "give the collection 'edition: weekly' (or daily, monthly) in config.yaml")  # fmt: skip
    edition = next((e for e in editions if e.id == edition_id), None) if edition_id else editions[0]
    if edition is None:
        listed = ", ".join(e.id for e in editions[:8]) + (", ..." if len(editions) > 8 else "")
        raise _failed(f"--edition {edition_id}: '{collection}' has no such edition", None,
                      f"its editions, newest first: {listed}")  # fmt: skip
    sender, unsubscribe = config.newsletter.get("from", ""), config.newsletter.get("unsubscribe", "")
    if not sender or not unsubscribe.startswith(("https://", "http://", "mailto:")):
        example = (
            "newsletter: {from: 'Digest <news@example.org>', unsubscribe: https://example.org/unsubscribe}"
        )
        raise _failed("the newsletter needs 'from' and an 'unsubscribe' URL", where, example)
    env = render.make_environment(plan.theme)
    lang = config.language
    texts = plan.theme.texts(lang) or plan.theme.texts("en") or {}
    web_url = absolute(config.base_url, edition.url)
    note = site.articles[edition.note] if edition.note else None
    stories = [_story(plan, i) for i in edition.article_ids]
    context: dict[str, Any] = {
        "page": {"ui_lang": lang, "lang": lang, "root": config.base_url},
        "i18n": texts,
        "site": {"title": config.title, "url": config.base_url},
        "edition": {
            "title": edition.title,
            "start": edition.start.isoformat(),
            "end": edition.end.isoformat(),
        },
        "note": _absolute_links(feed_html(site, note), web_url) if note else "",  # its images' too
        "preheader": note.summary if note else " · ".join(s["title"] for s in stories[:3]),
        "web_url": web_url,
        "unsubscribe": unsubscribe,
    }
    try:
        template = env.get_template("newsletter.html")
    except jinja2.TemplateNotFound:
        hint = "extend the default theme, or copy its templates/newsletter.html"
        raise _failed("the theme has no newsletter.html", where, hint) from None
    inliner = _inliner()
    shown = len(stories)
    while True:
        page = template.render({**context, "stories": stories[:shown], "cut": len(stories) - shown})
        html = inliner.inline(page)
        if len(html.encode("utf-8")) <= CLIP_BYTES or shown <= 1:
            break
        shown -= 1
    from generator.build.markup import plain_text

    words = (
        str(texts.get("newsletter_web", "Read on the web")),
        str(texts.get("newsletter_unsubscribe", "Unsubscribe")),
    )
    text = _plain(edition, plain_text(note.body_html) if note else "", stories, (web_url, unsubscribe), words)
    mailto = config.newsletter.get("unsubscribe_mailto", "")
    message = _message(edition.title, sender, (unsubscribe, mailto), html, text, config.base_url)
    return Newsletter(edition, edition.title, html, text, message, len(stories) - shown)


def write_newsletter(letter: Newsletter, folder: Path) -> list[Path]:
    """Write `newsletter.html`, `newsletter.txt` and `newsletter.eml` into `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"newsletter.html": letter.html.encode("utf-8"), "newsletter.txt": letter.text.encode("utf-8"),
             "newsletter.eml": letter.message}  # fmt: skip
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def _story(plan: Plan, article_id: str) -> dict[str, str]:
    article = plan.site.articles[article_id]
    return {
        "title": article.title,
        "url": absolute(plan.site.config.base_url, plan.site.urls[article_id]),
        "summary": article.summary,
        "date": article.date.isoformat(),
    }


def _absolute_links(fragment: str, base: str) -> str:
    return _LINK.sub(lambda m: f'{m.group(1)}="{urljoin(base, m.group(2))}"', fragment)


def _plain(
    edition: Edition, note: str, stories: list[dict[str, str]], links: tuple[str, str], words: tuple[str, str]
) -> str:
    """The text part: the note, each story, and the web and unsubscribe links in the edition's words."""
    lines = [edition.title, "=" * len(edition.title), ""]
    if note:
        lines += [note, ""]
    for story in stories:
        lines += [story["title"], story["url"], story["summary"], ""]
    lines += [f"{words[0]}: {links[0]}", f"{words[1]}: {links[1]}", ""]
    return "\n".join(lines)


def _message(
    subject: str, sender: str, unsubscribe: tuple[str, str], html: str, text: str, base_url: str
) -> bytes:
    """The email; `unsubscribe` is (the page or mailto: link, an address that unsubscribes whoever
    writes to it, or ''): both go into `List-Unsubscribe`, and an https page gets RFC 8058's
    one-click `List-Unsubscribe-Post`, which large mailbox providers ask of bulk senders."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = "undisclosed-recipients:;"
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    host = base_url.split("://", 1)[-1].split("/", 1)[0].split(":")[0]
    message["Message-ID"] = make_msgid(domain=host or None)
    page, address = unsubscribe
    links = [page] + ([f"mailto:{address.removeprefix('mailto:')}?subject=unsubscribe"] if address else [])
    message["List-Unsubscribe"] = ", ".join(f"<{link}>" for link in links)
    if page.startswith("https://"):
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


def _inliner() -> Any:
    try:
        import css_inline
    except ImportError:
        raise _failed("the newsletter needs css-inline", None, "pip install css-inline") from None
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def _failed(message: str, where: SourceLocation | None, hint: str) -> BuildFailed:
    return BuildFailed([SiteError(message, where, hint)])
