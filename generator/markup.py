"""Markup stage: Markdown text to HTML, and the plain-text facts drawn from it.

`to_html` uses Python-Markdown with what a news editor needs: tables,
footnotes, fenced code, attribute lists, heading anchors, smart typography.
"""

from __future__ import annotations

import html
import re

import markdown
from markdown.extensions.toc import TocExtension, slugify_unicode

EXTENSIONS: tuple[str | markdown.Extension, ...] = (
    "extra",  # tables, footnotes, fenced code, attribute lists, abbreviations, definition lists
    "sane_lists",
    "smarty",
    TocExtension(slugify=slugify_unicode, toc_depth="2-4"),
)

_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_FOOTNOTE_REF = re.compile(r'<sup id="fnref[^"]*">.*?</sup>', re.DOTALL)
_WORD = re.compile(r"\w+")
# Table cell alignment comes out as inline styles, which a strict content
# security policy blocks; a class does the same job from the stylesheet.
_ALIGN_STYLE = re.compile(r' style="text-align: (left|center|right);"')


def to_html(text: str) -> str:
    """Render Markdown to an HTML fragment. A new converter per call keeps no state between articles."""
    html = markdown.Markdown(extensions=list(EXTENSIONS), output_format="html").convert(text)
    return _ALIGN_STYLE.sub(r' class="align-\1"', html) if 'style="text-align' in html else html


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment: tags removed, entities decoded, spaces folded."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def first_paragraph(body_html: str) -> str:
    """The first paragraph of rendered HTML as plain text, for a default summary."""
    match = _FIRST_PARAGRAPH.search(body_html)
    if not match:
        return ""
    text = plain_text(_FOOTNOTE_REF.sub("", match.group(1)))
    # Tags leave a space before punctuation that followed them; fold it back.
    return re.sub(r" ([,.;:!?»”’)])", r"\1", text)


def word_count(body_html: str) -> int:
    """The number of words a reader reads, for the reading time."""
    return len(_WORD.findall(_TAG.sub(" ", body_html)))
