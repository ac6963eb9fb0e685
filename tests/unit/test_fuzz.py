"""Whatever a user writes, the build answers with its own errors, never a crash."""

from __future__ import annotations

import re
from html import escape as html_escape
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.base.errors import BuildFailed
from generator.build.config import parse_config
from generator.build.content import parse_article
from generator.build.contentfiles import RawArticle

KEYS = ["title", "date", "updated", "tags", "collection", "slug", "draft", "source", "author", "summary"]
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "2020-13-45",
            "2020-01-01",
            "[a, b]",
            "{a: 1}",
            "!!binary aGk=",
            "true",
            "12:30",
            "'",
            "~",
            "&x 1",
            "*x",
        ]
    ),
)
FRONT = st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=6).map(
    lambda pairs: "".join(f"{k}: {v}\n" for k, v in pairs)
)


@settings(max_examples=150, deadline=None)
@given(front=FRONT, body=st.text(max_size=40))
def test_front_matter_never_crashes(front: str, body: str) -> None:
    raw = RawArticle("a.md", Path("/c/a.md"), f"---\n{front}---\n{body}")
    try:
        parse_article(raw, ZoneInfo("UTC"))
    except BuildFailed as failed:
        assert all(e.location and e.location.path == Path("/c/a.md") for e in failed.errors)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=80))
def test_any_text_as_an_article_never_crashes(text: str) -> None:
    """Any text is an article of that file, or errors that each name the file."""
    try:
        article = parse_article(RawArticle("a.md", Path("/c/a.md"), text), ZoneInfo("UTC"))
    except BuildFailed as failed:
        assert failed.errors and all(e.location and e.location.path == Path("/c/a.md") for e in failed.errors)
    else:
        assert article.id == "a.md" and article.source_location.path == Path("/c/a.md")


CONFIG_KEYS = ["title", "base_url", "per_page", "timezone", "collections", "language", "theme", "tittle"]


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(CONFIG_KEYS), VALUES), max_size=6))
def test_config_never_crashes(pairs: list[tuple[str, str]]) -> None:
    """Any config is a `Config`, or errors that each name config.yaml (a line where one is known)."""
    try:
        config = parse_config("".join(f"{k}: {v}\n" for k, v in pairs), Path("/s/config.yaml"))
    except BuildFailed as failed:
        assert failed.errors
        assert all(e.location and e.location.path == Path("/s/config.yaml") for e in failed.errors)
    else:
        assert config.source == Path("/s/config.yaml") and config.per_page > 0


TAGS = ["p", "div", "article", "blockquote", "ul", "ol", "li", "a", "b", "em", "h2", "table", "tr", "td",
        "script", "img", "br", "pre", "code", "span", "section"]  # fmt: skip
TEXT = st.text(alphabet=st.sampled_from([*"ab <>&\"'`*_[](){}:#-|!\\=\n.1", "ж", "«", "”"]), max_size=30)


@st.composite
def html_trees(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            attrs = draw(st.sampled_from(["", ' href="javascript:alert(1)"', ' href="/x y"', ' onclick="x()"',
                                          ' src="x" onerror="alert(1)"']))  # fmt: skip
            parts.append(f"<{tag}{attrs}>{draw(html_trees(depth + 1))}</{tag}>")
        else:
            parts.append(html_escape(draw(TEXT), quote=False))
    return "".join(parts)


@settings(max_examples=400, deadline=None)
@given(html_trees())
def test_any_html_becomes_markdown_that_renders_no_markup_of_its_own(html: str) -> None:
    """Whatever a page holds, its Markdown gives only the elements we write: no script, handler or
    attribute, and no link but to the web."""
    import lxml.html

    from generator.build.markup import to_html
    from generator.importing.htmlmd import to_markdown

    try:
        element = lxml.html.fragment_fromstring(html or "x", create_parent="div")
    except Exception:  # lxml refuses some fragments outright; a page would be refused the same way
        return
    rendered = to_html(to_markdown(element, "https://outlet.example/").markdown)
    for tag in re.findall(r"<([a-z0-9]+)([^>]*)>", rendered):
        assert tag[0] in ALLOWED_TAGS, tag
        attributes = re.findall(r'\s([a-z-]+)="([^"]*)"', tag[1])
        assert all(name in ("href", "id") for name, _ in attributes), tag
        assert all(value.startswith(("https://", "http://", "mailto:", "#")) or name == "id"
                   for name, value in attributes), tag  # fmt: skip


ALLOWED_TAGS = {"p", "blockquote", "ul", "ol", "li", "a", "strong", "em", "h2", "h3", "h4", "h5", "h6",
                "table", "thead", "tbody", "tr", "th", "td", "br", "pre", "code", "hr", "sup", "div"}  # fmt: skip


PIECES = st.sampled_from(
    [b"<", b">", b"</", b"article", b"div", b" data-pagefind-body", b" data-pagefind-meta='x'", b"data-pagefind-",
     b"<html lang=ru>", b"text", b" ", b"\"", b"<meta data-pagefind-filter='f' content=1>"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40).map(b"".join))
def test_search_text_takes_any_page(html: bytes) -> None:
    """Whatever a theme writes, what Pagefind is given is the page itself or a part of it."""
    from generator.build.indexer import search_text

    text = search_text(html)
    if b"data-pagefind-body" not in html:
        assert text == html  # nothing marked: the page whole
    elif text != html:  # a page of the marked elements, each one a piece of the page as it was
        assert text.startswith(b"<html") and text.endswith(b"</body></html>")
        body = text.split(b"<body>", 1)[1].removesuffix(b"</body></html>")
        assert body and all(piece in html for piece in body.split(b"\n"))


IMAGE_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@settings(max_examples=300, deadline=None)
@given(alt=IMAGE_TEXT, title=IMAGE_TEXT, before=IMAGE_TEXT, alone=st.booleans())
def test_a_local_image_becomes_one_picture_whatever_its_texts(
    alt: str, title: str, before: str, alone: bool
) -> None:
    """Markdown with a local image, its alt text and title any characters: the page shows one
    picture of it, with exactly that alt text, and no element that the texts made."""
    from html.parser import HTMLParser

    from generator.base.model import ImageSettings, Media
    from generator.build import media
    from generator.build.markup import to_html

    label = alt.replace("\\", "").replace("[", "").replace("]", "")
    caption = title.replace("\\", "").replace('"', "").replace(")", "")
    markdown = (
        f'![{label}](photo.jpg "{caption}")'
        if alone
        else f'{html_escape(before)} ![{label}](photo.jpg "{caption}")'
    )
    body = to_html(markdown)
    fact = media.Facts("k", "jpeg", 1000, 600)
    found = media.picture("a/photo.jpg", fact, ImageSettings(), Path("photo.jpg"))
    page = media.responsive_body(
        body, Media({"photo.jpg": found}, {}, {"photo.jpg": "photo.jpg"}, "a"), "100vw"
    )

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tags: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))

    parsed, given = Tags(), Tags()
    parsed.feed(page)
    given.feed(body)
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    if "<img" not in body:  # Markdown did not read it as an image (brackets in the texts): left alone
        assert page == body
        return
    (written,) = [attrs for tag, attrs in given.tags if tag == "img"]
    assert len(images) == 1 and images[0]["src"] == "photo-800w.jpg"
    assert images[0]["alt"] == written["alt"]  # the alt text as Markdown read it, escaped once
    if images[0].get("title") is None and written.get("title"):
        assert f"<figcaption>{html_escape(written['title'] or '', quote=False)}</figcaption>" in page
    assert images[0]["srcset"] == "photo-480w.jpg 480w, photo-800w.jpg 800w, photo.jpg 1000w"
    allowed = {tag for tag, _ in given.tags} | {"figure", "figcaption", "picture", "source"}
    assert {tag for tag, _ in parsed.tags} <= allowed  # no element that the texts made
    assert sum(tag == "picture" for tag, _ in parsed.tags) == 1
