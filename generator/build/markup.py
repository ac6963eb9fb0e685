"""Markup stage: Markdown text to HTML, and the plain-text facts drawn from it.

`to_html` uses Python-Markdown with what a news editor needs: tables,
footnotes, fenced code, attribute lists, heading anchors and smart
typography. The last two are done here rather than by the `toc` and `smarty`
extensions, which cost more than the rest of the conversion together
(measured in bench/README.md); the result is the same markup.
"""

from __future__ import annotations

import html
import importlib
import re
import signal
import sys
import threading
import xml.etree.ElementTree as etree
from collections.abc import Callable
from functools import lru_cache

import markdown
from markdown import inlinepatterns as ip
from markdown import util
from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode, unique
from markdown.preprocessors import NormalizeWhitespace, Preprocessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from generator.build import embeds

EXTENSIONS = ("tables", "footnotes", "fenced_code", "attr_list", "sane_lists")
BUILTIN_EXTENSIONS = frozenset({
    "abbr", "admonition", "attr_list", "codehilite", "def_list", "extra", "fenced_code", "footnotes",
    "legacy_attrs", "legacy_em", "md_in_html", "meta", "nl2br", "sane_lists", "smarty", "tables", "toc",
    "wikilinks",
})  # fmt: skip  # Python-Markdown's own, by the short names config.yaml may use
MARKDOWN_SETTINGS = (
    f"{EXTENSIONS}|heading-ids|typography-1|inline-triggers-1|embeds-1"  # part of the build cache's key
)

_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_FOOTNOTE_REF = re.compile(r'<sup id="fnref[^"]*">.*?</sup>', re.DOTALL)
_WORD = re.compile(r"\w+")
# Table cell alignment comes out as inline styles, which a strict content
# security policy blocks; a class does the same job from the stylesheet.
_ALIGN_STYLE = re.compile(r' style="text-align: (left|center|right);"')


class _HeadingIds(Treeprocessor):
    """Give every heading an `id` from its text (readable in any script), unique in the article."""

    def run(self, root: etree.Element) -> None:
        used: set[str] = set()
        for element in root.iter():
            if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                given = element.get("id")
                if given:
                    used.add(given)
                    continue
                text = "".join(element.itertext())
                element.set("id", unique(slugify_unicode(text, "-") or "section", used))


class _HeadingIdsExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After attr_list (priority 8), so that `{: #custom }` ids win.
        md.treeprocessors.register(_HeadingIds(md), "heading_ids", 4)


# For each regular expression of Python-Markdown's inline patterns (and the footnotes
# extension's), the characters of which a text must hold one for it to match: the literal
# every match includes. A pattern whose expression is not listed is always tried.
_TRIGGERS = {
    ip.BACKTICK_RE: "`", ip.ESCAPE_RE: "\\", ip.REFERENCE_RE: "[", ip.LINK_RE: "[",
    ip.IMAGE_LINK_RE: "!", ip.IMAGE_REFERENCE_RE: "!", ip.AUTOLINK_RE: "<", ip.AUTOMAIL_RE: "<",
    ip.LINE_BREAK_RE: "\n", ip.HTML_RE: "<", ip.ENTITY_RE: "&", r"\[\^([^\]]*)\]": "[",
}  # fmt: skip


def _needs(pattern: object) -> str | None:
    """The characters `pattern` needs in a text to match it, or None if it is not known."""
    tokens = getattr(pattern, "tokens", None)  # the emphasis delimiters (*, _) of Python-Markdown 3.11
    if isinstance(tokens, list) and all(isinstance(t, str) and t for t in tokens):
        return "".join(t[0] for t in tokens)
    expression = getattr(pattern, "pattern", None)
    return _TRIGGERS.get(expression) if isinstance(expression, str) else None


class _QuickInline(InlineProcessor):
    """Python-Markdown's inline processor, which tries each of its ~15 patterns on every piece of
    text; this one skips a pattern when the text lacks every character the pattern needs. Same
    output, a third less time for a whole conversion (tests/unit/test_markup.py compares both)."""

    _quick: list[tuple[object, str | None]] | None = None

    def _patterns(self) -> list[tuple[object, str | None]]:
        """The patterns in order, each with what it needs; worked out once, on first use."""
        if self._quick is None:
            self._quick = [(pattern, _needs(pattern)) for pattern in self.inlinePatterns]
        return self._quick

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        # Replaces InlineProcessor.__handleInline (a name-mangled method): the loop over the patterns.
        if isinstance(data, util.AtomicString):
            return data
        start = 0
        patterns = self._patterns()
        while patternIndex < len(patterns):
            pattern, needs = patterns[patternIndex]
            if needs and not (needs in data if len(needs) == 1 else any(c in data for c in needs)):
                patternIndex, start = patternIndex + 1, 0
                continue
            data, matched, start = self._InlineProcessor__applyPattern(pattern, data, patternIndex, start)  # type: ignore[attr-defined]
            if not matched:
                patternIndex += 1
        return data


def _without_pygments() -> None:
    """Import Python-Markdown's code highlighter as if Pygments were not installed.

    `fenced_code` imports it, and it imports Pygments if it can, which looks up
    Pygments' plugins among every installed package (30 ms a build). Highlighting
    is off here (the `codehilite` extension is not used), so the output is the same.
    """
    if "markdown.extensions.codehilite" in sys.modules or "pygments" in sys.modules:
        return
    sys.modules["pygments"] = None  # type: ignore[assignment]  # makes `import pygments` fail
    try:
        importlib.import_module("markdown.extensions.codehilite")
    finally:
        del sys.modules["pygments"]


# The site's own extensions (`markdown:` in config.yaml), by module, and their settings as JSON: set
# by `use` before a build reads its articles (worker processes inherit it).
_chosen: tuple[tuple[str, ...], str] = ((), "{}")


def use(extensions: tuple[str, ...], configs_json: str = "{}") -> None:
    """Convert with these extensions too (module names, see `extension_module`) from now on."""
    global _chosen
    _chosen = (tuple(extensions), configs_json)


def extension_module(name: str) -> str:
    """The module of an extension as config.yaml names it: Python-Markdown's own by its short name
    (`admonition`), any other by its module (`pymdownx.tasklist`)."""
    return name if "." in name else f"markdown.extensions.{name}"


def extension_problem(name: str, settings: object = None) -> str | None:
    """Why the extension `name` (with `settings`) cannot be used, or None."""
    try:
        module = importlib.import_module(extension_module(name))
    except ImportError as exc:
        return f"cannot import {extension_module(name)} ({exc})"
    make = getattr(module, "makeExtension", None)
    if make is None:
        return f"{extension_module(name)} is not a Markdown extension (it has no makeExtension)"
    try:
        make(**(settings if isinstance(settings, dict) else {}))
    except (TypeError, KeyError, ValueError) as exc:
        return f"its settings are not accepted ({exc})"
    return None


def _converter() -> markdown.Markdown:
    return _converter_for(*_chosen)


@lru_cache(maxsize=4)
def _converter_for(extra: tuple[str, ...], configs_json: str) -> markdown.Markdown:
    # One converter per process, reset before each use: building one costs about
    # as much as converting an article. `reset()` clears footnotes, abbreviations
    # and references, so nothing leaks from one article into the next.
    # Extensions by module, not by name: a name makes Python-Markdown read every installed
    # package's entry points, which costs more than converting an article (40 ms).
    import json

    _without_pygments()
    extensions = [importlib.import_module(f"markdown.extensions.{n}").makeExtension() for n in EXTENSIONS]
    configs = json.loads(configs_json)
    extensions += [
        importlib.import_module(extension_module(name)).makeExtension(**configs.get(name, {}))
        for name in extra
        if extension_module(name) not in {f"markdown.extensions.{n}" for n in EXTENSIONS}
    ]
    md = markdown.Markdown(extensions=[*extensions, _HeadingIdsExtension()], output_format="html")
    md.treeprocessors.register(_QuickInline(md), "inline", 20)
    for name, needs in _BLOCK_NEEDS.items():
        if name in md.parser.blockprocessors:  # an extension may have replaced it
            _tried_if(md.parser.blockprocessors[name], needs)
    for name, marks in _PREPROCESSOR_NEEDS.items():
        if name in md.preprocessors:
            _run_if(md.preprocessors[name], marks)
    md.preprocessors.register(_QuickWhitespace(md), "normalize_whitespace", 30)
    md.preprocessors.register(_Braces(md), "braces", 35)
    _tree_pass_if(md.treeprocessors["attr_list"], md)
    return md


# What every block that a block processor takes holds, for those that search a whole block with a
# regular expression or split it into rows (Python-Markdown tries each on every paragraph): a block
# without it is not tried. Their patterns: a `>` or `#` at the start of a line, three `-`, `*` or
# `_` on a line, a reference's or a footnote's definition (`[id]:`, `[^id]:`), a setext heading's
# underline, and a table's `|`.
_BLOCK_NEEDS: dict[str, Callable[[str], bool]] = {
    "quote": lambda block: ">" in block,
    "hashheader": lambda block: "#" in block,
    "hr": lambda block: block.count("-") >= 3 or block.count("*") >= 3 or block.count("_") >= 3,
    "reference": lambda block: "]:" in block,
    "footnote": lambda block: "[^" in block,
    "setextheader": lambda block: "\n=" in block or "\n-" in block,
    "table": lambda block: "|" in block,
}
# Likewise for the preprocessors that look at the whole text: a fence; raw HTML or a character
# reference (the HTML parser completes `&#1` with its `;`).
_PREPROCESSOR_NEEDS = {"fenced_code_block": ("```", "~~~"), "html_block": ("<", "&")}


def _tried_if(processor: BlockProcessor, needs: Callable[[str], bool]) -> None:
    test = processor.test

    def quick_test(parent: etree.Element, block: str) -> bool:
        return needs(block) and test(parent, block)

    setattr(processor, "test", quick_test)  # noqa: B010 - on this instance only


def _run_if(processor: Preprocessor, marks: tuple[str, ...]) -> None:
    """Run the preprocessor only on a text holding one of `marks`; without, it gives the lines back
    as they are (none of which holds a newline)."""
    run = processor.run

    def quick_run(lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        return run(lines) if any(mark in text for mark in marks) else lines

    setattr(processor, "run", quick_run)  # noqa: B010 - on this instance only


class _QuickWhitespace(NormalizeWhitespace):
    """Python-Markdown's whitespace pass, which searches the whole text for lines of spaces only
    where there is a space before a line's end."""

    def run(self, lines: list[str]) -> list[str]:
        source = "\n".join(lines)
        source = source.replace(util.STX, "").replace(util.ETX, "")
        source = source.replace("\r\n", "\n").replace("\r", "\n") + "\n\n"
        source = source.expandtabs(self.md.tab_length)
        if " \n" in source:
            source = _BLANK_LINE.sub("\n", source)
        return source.split("\n")


_BLANK_LINE = re.compile(r"(?<=\n) +\n")


class _Braces(Preprocessor):
    """Notes whether the text holds a `{`, without which attribute lists' tree pass finds nothing."""

    def run(self, lines: list[str]) -> list[str]:
        self.md.has_braces = any("{" in line for line in lines)  # type: ignore[attr-defined]
        return lines


def _tree_pass_if(processor: Treeprocessor, md: markdown.Markdown) -> None:
    run = processor.run

    def quick_run(root: etree.Element) -> etree.Element | None:
        return run(root) if getattr(md, "has_braces", True) else None

    setattr(processor, "run", quick_run)  # noqa: B010 - on this instance only


MAX_BRACKETS = 1_000  # per paragraph: Python-Markdown's link patterns are quadratic in them (its #798)
TIME_LIMIT = 20.0  # seconds for one article, where the process can keep time (its main thread)


class TooSlow(Exception):
    """A conversion ran past its time limit."""


def slow_paragraph(text: str) -> tuple[int, int] | None:
    """The line (from 1) and bracket count of the first paragraph with more than `MAX_BRACKETS` '['."""
    if text.count("[") <= MAX_BRACKETS:
        return None
    line = 1
    for paragraph in re.split(r"(\n[ \t]*\n)", text):
        count = paragraph.count("[") - paragraph.count("\\[")
        if count > MAX_BRACKETS:
            return line, count
        line += paragraph.count("\n")
    return None


def to_html_within(text: str, seconds: float) -> str:
    """`to_html`, raising `TooSlow` after `seconds` where a timer can interrupt it (the main thread
    of a process: a build and its workers); elsewhere (the preview's watcher thread) unbounded."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return to_html(text)

    def interrupt(signum: int, frame: object) -> None:
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return to_html(text)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def to_html(text: str) -> str:
    """Render Markdown to an HTML fragment with smart typography."""
    converter = _converter()
    converter.reset()
    result = smarten(embeds.cards(converter.convert(text)))  # cards first: a URL's text stays as it is
    return _ALIGN_STYLE.sub(r' class="align-\1"', result) if 'style="text-align' in result else result


# Typography: straight quotes, dashes and dots become typographic ones, outside tags and code.
_SMART = re.compile(
    r"<(pre|code|kbd|script|style|samp)\b.*?</\1>|<[^>]+>|---|--|\.\.\.|&quot;|[\"']",
    re.DOTALL | re.IGNORECASE,
)
_BLOCK_TAG = re.compile(r"</?(p|li|h[1-6]|td|th|blockquote|div|br|dt|dd|ol|ul|table|tr|hr)\b", re.IGNORECASE)
_OPENS_AFTER = frozenset(" \t\n([{\u2014\u2013-")
_FIXED = {"---": "\u2014", "--": "\u2013", "...": "\u2026"}


def smarten(fragment: str) -> str:
    """Typographic quotes, apostrophes, dashes and ellipses in the text of an HTML fragment.

    One pass over the fragment: tags, code and preformatted text are kept as
    they are; a quote opens after a space, a bracket or a dash (or at the start
    of a block) and closes otherwise, judged across inline tags.
    """
    if not any(mark in fragment for mark in ('"', "'", "--", "...", "&quot;")):
        return fragment
    before = " "  # the visible character before the text at hand
    last_end = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal before, last_end
        mark = match.group(0)
        start = match.start()
        if start > last_end:
            before = fragment[start - 1]
        last_end = match.end()
        if mark[0] == "<":
            if _BLOCK_TAG.match(mark):
                before = " "
            elif match.group(1):
                before = _TAG.sub("", mark)[-1:] or before
            return mark
        result = _FIXED.get(mark)
        if result is None:
            is_opening = before in _OPENS_AFTER
            if mark == "'":
                following = fragment[match.end() : match.end() + 1]
                result = "\u2018" if is_opening and following.isalnum() else "\u2019"
            else:
                result = "\u201c" if is_opening else "\u201d"
        before = result[-1]
        return result

    return _SMART.sub(replace, fragment)


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
