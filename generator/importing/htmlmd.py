"""HTML to Markdown for imported text: paragraphs, headings, quotes, lists, tables, links, emphasis.

It reads both HTML (a feed item's content) and the XML that trafilatura extracts from a page
(`head`, `quote`, `list`/`item`, `ref`, `hi`, `lb`). Everything else is text, and text is
escaped: what an outlet's page says can never become markup, raw HTML or attributes on our
pages (Python-Markdown passes raw HTML through, and `attr_list` reads `{: ...}`). Links keep only
http(s) and mailto targets, made absolute against the page's address; images are left out
(counted, so the import can say so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_LISTS = {"list", "ul", "ol"}
_QUOTES = {"quote", "blockquote"}
_IMAGES = {"graphic", "img", "picture", "video", "iframe", "svg"}
_DROPPED = {"script", "style", "noscript", "template", "button", "form", "input", "select", "textarea"}
_BLOCKS = {
    "p", "div", "section", "article", "main", "body", "header", "footer", "aside", "figure", "figcaption",
    "head", "table", "pre", "dl", "dt", "dd", "center", "details", "summary", "doc", "hr",
} | set(_HEADINGS) | _LISTS | _QUOTES  # fmt: skip
_BREAK = "\ue000"  # stands for a line break while whitespace is collapsed
_TEXT_ESCAPES = str.maketrans({
    "\\": "\\\\", "`": "\\`", "*": "\\*", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}",
    "&": "&amp;", "<": "&lt;", ">": "&gt;",
})  # fmt: skip
_LONE_UNDERSCORE = re.compile(r"(?<!\w)_|_(?!\w)")
_BLOCK_START = re.compile(r"^([#>+-]|\d+(?=[.)])|=+$)")
_LIST_START = re.compile(r"(- |\d+\. )")  # only lists start so: text paragraphs are escaped
_SAFE_SCHEMES = ("http", "https", "mailto")
_URL_SAFE = ":/?#@!$&'*+,;=%~"  # kept as they are in a link's target; spaces and brackets are encoded


@dataclass
class Converted:
    markdown: str
    images: int = 0  # images left out
    links_dropped: list[str] = field(default_factory=list)  # targets that were not http(s) or mailto


def to_markdown(element: Any, base_url: str = "") -> Converted:
    """The Markdown of an lxml element's content (its own tag is not kept)."""
    walk = _Walk(base_url)
    blocks = walk.blocks(element)
    return Converted("\n\n".join(blocks), walk.images, walk.dropped)


def escape(text: str) -> str:
    """Plain text as Markdown that shows it as it is. A `!` that ends it is escaped too: followed by
    a link, it would make the link an image."""
    escaped = _LONE_UNDERSCORE.sub(r"\\_", text.translate(_TEXT_ESCAPES))
    return escaped[:-1] + "\\!" if escaped.endswith("!") else escaped


def escape_block_start(paragraph: str) -> str:
    """Keep a paragraph that starts like a heading, quote or list from becoming one."""
    match = _BLOCK_START.match(paragraph)
    if not match:
        return paragraph
    if paragraph.startswith("="):  # a setext underline; `=` has no backslash escape
        return "&#61;" + paragraph[1:]
    at = match.end() if match.group(1)[0].isdigit() else 0
    return paragraph[:at] + "\\" + paragraph[at:]


class _Walk:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.images = 0
        self.dropped: list[str] = []

    def blocks(self, element: Any) -> list[str]:
        """The Markdown blocks of an element's children: text runs become paragraphs."""
        out: list[str] = []
        run: list[str] = [escape(element.text or "")]
        for child in element:
            tag = _tag(child)
            if tag in _BLOCKS:
                out += _paragraph(run)
                run = []
                out += self.block(child, tag)
            else:
                run.append(self.inline(child, tag))
            run.append(escape(child.tail or ""))
        return out + _paragraph(run)

    def block(self, element: Any, tag: str) -> list[str]:
        if tag in _HEADINGS or tag == "head":
            level = _HEADINGS.get(tag) or _HEADINGS.get(element.get("rend", ""), 2)
            text = _one_line(self.inline_content(element))
            return [f"{'#' * max(2, level)} {text}"] if text else []
        if tag in _QUOTES:
            inner = "\n\n".join(self.blocks(element))
            return ["\n".join(f"> {line}".rstrip() for line in inner.splitlines())] if inner else []
        if tag in _LISTS:
            return self.items(element, tag == "ol" or element.get("rend") == "ol")
        if tag == "table":
            return self.table(element)
        if tag == "pre":  # its lines, as text: code is rare in news, and text is safe in any block
            lines = [" ".join(line.split()) for line in _text_of(element).splitlines()]
            text = "  \n".join(escape_block_start(escape(line)) for line in lines if line)
            return [text] if text else []
        if tag == "hr":
            return []
        return self.blocks(element)

    def items(self, element: Any, ordered: bool) -> list[str]:
        lines = []
        number = 0
        for item in (c for c in element if _tag(c) in ("item", "li")):
            inner = ""
            for block in self.blocks(item):  # a list inside an item follows its line directly
                joint = "\n" if _LIST_START.match(block) else "\n\n"
                inner = f"{inner}{joint}{block}" if inner else block
            if not inner:
                continue
            number += 1
            first, *rest = inner.splitlines()
            lines.append((f"{number}. " if ordered else "- ") + first)
            lines += [f"    {line}" if line else "" for line in rest]
        return ["\n".join(lines)] if lines else []

    def table(self, element: Any) -> list[str]:
        rows = []
        for row in element.iter():
            if _tag(row) not in ("row", "tr"):
                continue
            cells = [c for c in row if _tag(c) in ("cell", "td", "th")]
            rows.append([_one_line(self.inline_content(c)).replace("|", "\\|") for c in cells])
        rows = [r for r in rows if any(r)]
        if not rows:
            return []
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + " --- |" * width)
        return ["\n".join(lines)]

    def inline_content(self, element: Any) -> str:
        parts = [escape(element.text or "")]
        for child in element:
            parts.append(self.inline(child, _tag(child)))
            parts.append(escape(child.tail or ""))
        return "".join(parts)

    def inline(self, element: Any, tag: str) -> str:
        if not tag or tag in _DROPPED:  # comments and processing instructions have no tag name
            return ""
        if tag in _IMAGES:
            self.images += 1
            return ""
        if tag in ("lb", "br"):
            return _BREAK
        if tag in _BLOCKS:  # a block inside inline content (a list in a quote's line): its text
            return " " + " ".join(self.block(element, tag)) + " "
        text = self.inline_content(element)
        if tag in ("ref", "a"):
            return self.link(text, element.get("target") or element.get("href") or "")
        if tag in ("hi", "strong", "b", "em", "i", "code"):
            mark = _emphasis(tag, element.get("rend", ""))
            inner = text.strip()
            if mark and inner and _BREAK not in inner:
                lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
                return f"{lead}{mark}{inner}{mark}{trail}"
        return text

    def link(self, text: str, target: str) -> str:
        if not target or not text.strip():
            return text
        url = urljoin(self.base_url, target.strip()) if self.base_url else target.strip()
        if urlsplit(url).scheme not in _SAFE_SCHEMES:
            self.dropped.append(target)
            return text
        return f"[{text.strip()}]({quote(url, safe=_URL_SAFE)})"


def _text_of(element: Any) -> str:
    """The text of an element, without that of scripts, styles and the like."""
    parts = [element.text or ""]
    for child in element:
        if _tag(child) and _tag(child) not in _DROPPED:
            parts.append(_text_of(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _emphasis(tag: str, rend: str) -> str:
    if tag in ("strong", "b") or rend == "#b":
        return "**"
    if tag in ("em", "i") or rend == "#i":
        return "*"
    return "`" if tag == "code" or rend == "#t" else ""


def _paragraph(run: list[str]) -> list[str]:
    text = _collapse("".join(run))
    return ["  \n".join(escape_block_start(line) for line in text.split("  \n"))] if text else []


def _collapse(text: str) -> str:
    """Whitespace as one space; a line break (`lb`, `br`) as Markdown's hard break."""
    text = " ".join(text.split())
    text = re.sub(f" ?{_BREAK}+ ?", _BREAK, text).strip(_BREAK + " ")
    return text.replace(_BREAK, "  \n")


def _one_line(text: str) -> str:
    """Text for a heading or a table cell, which cannot hold a line break."""
    return " ".join(text.replace(_BREAK, " ").split())


def _tag(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""
