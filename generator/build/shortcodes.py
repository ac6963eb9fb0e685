"""Other generators' template code in article text, translated to the Markdown it stands for.

Jekyll's Liquid tags `highlight` (with or without `linenos`), `raw` and `comment` (these three in code
blocks too, as Liquid runs before Markdown) and `{{ page.title }}`, and Hugo's built-in shortcodes
`highlight`, `figure`, `param` and the embeds `youtube`, `vimeo`, `gist`, `x`/`tweet` and `instagram`
become code blocks, figures, text and links to what the embed showed (no third-party script).
References to other articles and files (Jekyll's `post_url`, `link`, `{{ site.baseurl }}` and
`relative_url`, Hugo's `ref` and `relref`, Pelican's `{filename}` and `{static}`) become the `@`
addresses that the media stage resolves to the page or file (`refs`). Code
blocks and code spans are never touched. What is left (data-driven Liquid, a site's own shortcodes)
stays as written, and the content stage names it once per file (`fields.FieldReader.unsupported`).
Every translation keeps the text's line count, so that later errors still point at the file's lines.
"""

from __future__ import annotations

import html
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from typing import Any

REF = "@"  # the start of an address that names a source path (Zola's `@/`; `@name` from the page): `refs`

# A fenced code block (``` or ~~~, up to its closing fence or the end of the text).
_FENCED = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,}).*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)  # an inline code span
_HIGHLIGHT = re.compile(
    r"\{%-?\s*highlight\s+([\w+#.-]+)[^%]*?-?%\}[ \t]*\n?(.*?)\n?[ \t]*\{%-?\s*endhighlight\s*-?%\}"
    r"|\{\{<\s*highlight\s+([\w+#.-]+)[^>]*>\}\}[ \t]*\n?(.*?)\n?[ \t]*\{\{<\s*/highlight\s*>\}\}",
    re.DOTALL,
)
_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.DOTALL)
_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}(.*?)\{%-?\s*endcomment\s*-?%\}", re.DOTALL)
_PAGE_TITLE = re.compile(r"\{\{-?\s*page\.title\s*-?\}\}")
_SHORTCODE = re.compile(
    r"\{\{<\s*(figure|youtube|vimeo|gist|tweet|x|instagram|param)\s+(.*?)\s*/?>\}\}", re.DOTALL
)
# References to another article or file (`refs`): Jekyll's `post_url` and `link`, Hugo's `ref` and
# `relref`, Pelican's `{filename}`, `{static}` and `{attach}`; Jekyll's site root before a path.
_POST_URL = re.compile(r"\{%-?\s*post_url\s+([^\s%]+)\s*-?%\}")
_LINK_TAG = re.compile(r"\{%-?\s*link\s+([^\s%]+)\s*-?%\}")
_REF = re.compile(r"\{\{([<%])\s*(?:ref|relref)\s+(.*?)\s*[>%]\}\}")
_URL_FILTER = re.compile(r"\{\{-?\s*([\"'])([^\"'{}]*)\1\s*\|\s*(?:relative_url|absolute_url)\s*-?\}\}")
_SITE_ROOT = re.compile(
    r"(?:\{\{-?\s*site\.url\s*-?\}\})?\{\{-?\s*site\.baseurl\s*-?\}\}(?=[/{@])"
    r"|\{\{-?\s*site\.url\s*-?\}\}(?=[/{@])"
)
_PELICAN = re.compile(r"\{(?:filename|static|attach)\}|\|(?:filename|static|attach)\|")
_KRAMDOWN_HEADING = re.compile(r"^(#{1,6}[ \t].*?)[ \t]*\n\{:[ \t]*([^}\n]*)\}[ \t]*$", re.M)
_SITE_VALUE = re.compile(r"\{\{-?\s*site\.(?:params\.)?([A-Za-z_][\w.]*)\s*-?\}\}")  # Jekyll's, Hugo's
TEMPLATE_CODE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)  # what is left is named (`fields`)
_MARK = "\x00"  # stands for a kept block while the rest is translated (no article text holds it)


def translate(
    text: str,
    title: str,
    params: Mapping[str, Any] | None = None,
    html: bool = False,
    site: Mapping[str, Any] | None = None,
) -> str:
    """`text` with the template code of other generators that has a meaning here translated; `params`
    are the article's front matter fields (Hugo's `{{< param >}}`), `site` the config's `params:`
    (Jekyll's `{{ site.x }}`, and Hugo's `param` when the article has none). With `html`, the text is
    an HTML article's (`contentfiles.is_html_article`): the translations are HTML, and Markdown's
    code is not code there."""
    if "{" not in text and "|" not in text:
        return text
    kept: list[str] = []

    def keep(block: str) -> str:
        kept.append(block)
        return f"{_MARK}{len(kept) - 1}{_MARK}"

    text = _RAW.sub(lambda m: keep(m.group(1)), text)  # Liquid runs first: in code blocks too
    text = _COMMENT.sub(lambda m: "\n" * m.group(1).count("\n"), text)
    text = _HIGHLIGHT.sub(_highlighted(keep, html), text)
    if not html:
        text = _FENCED.sub(lambda m: keep(m.group()), text)  # code written as Markdown is left as it is
    fields = {**(site or {}), **(params or {})}

    def change(part: str) -> str:
        part = _SHORTCODE.sub(lambda m: _shortcode(m, fields, html), _PAGE_TITLE.sub(title, part))
        if not html and "{:" in part:  # kramdown's attributes on the line below a heading: on its line
            part = _KRAMDOWN_HEADING.sub(lambda m: f"{m.group(1)} {{: {m.group(2).strip()}}}\n", part)
        if site and "site." in part:
            part = _SITE_VALUE.sub(lambda m: _site_value(m, site), part)
        return _references(part)

    text = change(text) if html else _outside_spans(text, change)
    while _MARK in text:
        text = re.sub(f"{_MARK}(\\d+){_MARK}", lambda m: kept[int(m.group(1))], text)
    return text


# A fence whose info string has more than the language (Hugo's ```go {file="x"}, ```py title="x"):
# Python-Markdown would not see the block at all. Only the language is kept (hl_lines= it reads).
_INFO_STRING = re.compile(r"^([ \t]{0,3}(?:`{3,}|~{3,})[ \t]*[\w#.+-]+)[ \t]+(?!hl_lines=)[^`\n]+$", re.M)


def plain_fences(text: str) -> str:
    """`text` with each code fence's info string cut to its language (CommonMark's reading)."""
    return _INFO_STRING.sub(r"\1", text) if "``" in text or "~~" in text else text


def _references(text: str) -> str:
    """`text` with its references to articles and files as the addresses `refs` resolves: `@/path`
    from the content folder, `@path` from the article's folder (then by the file's name)."""
    if "{" not in text and "|" not in text:
        return text
    text = _POST_URL.sub(lambda m: f"{REF}/_posts/{m.group(1).lstrip('/')}", text)
    text = _LINK_TAG.sub(lambda m: f"{REF}/{m.group(1).lstrip('/')}", text)
    text = _REF.sub(_hugo_ref, text)
    text = _URL_FILTER.sub(lambda m: "/" + m.group(2).lstrip("/"), text)
    text = _SITE_ROOT.sub("", text)
    return _PELICAN.sub(REF, text)


def _hugo_ref(found: re.Match[str]) -> str:
    arguments = _arguments(found.group(2))
    path = (arguments or {}).get("0") or (arguments or {}).get("path", "")
    if not path or any(c in path for c in " <>\"'"):
        return found.group()
    return f"{REF}{path}"


def _highlighted(keep: Callable[[str], str], html: bool) -> Callable[[re.Match[str]], str]:
    def block(found: re.Match[str]) -> str:
        language, code = found.group(1) or found.group(3), found.group(2) or found.group(4) or ""
        return keep(_pre(language, code) if html else _fence(language, code))

    return block


def code_free(text: str) -> Iterator[tuple[int, str]]:
    """The parts of `text` outside code blocks and code spans, each with its offset in `text`."""
    start = 0
    for block in _FENCED.finditer(text):
        yield from _spans_apart(text[start : block.start()], start)
        start = block.end()
    yield from _spans_apart(text[start:], start)


def _spans_apart(text: str, offset: int) -> Iterator[tuple[int, str]]:
    start = 0
    for span in _SPAN.finditer(text):
        yield offset + start, text[start : span.start()]
        start = span.end()
    yield offset + start, text[start:]


def _outside_spans(text: str, change: Callable[[str], str]) -> str:
    pieces, start = [], 0
    for span in _SPAN.finditer(text):
        pieces += [change(text[start : span.start()]), span.group()]
        start = span.end()
    return "".join([*pieces, change(text[start:])])


def _fence(language: str, code: str) -> str:
    """A fenced code block of `code`, long enough a fence that the code cannot close it."""
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{code}\n{fence}"


def _site_value(found: re.Match[str], site: Mapping[str, Any]) -> str:
    """A site value (`{{ site.repository }}`, `{{ site.twitter.username }}`) if it is text or a number;
    else the tag as written (named as template code)."""
    value: Any = site
    for key in found.group(1).split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    return found.group()


def _pre(language: str, code: str) -> str:
    """The HTML code block of `code` (for an HTML article), on as many lines as the fenced one."""
    escaped = html.escape(code, quote=False)
    return f'<pre>\n<code class="language-{html.escape(language)}">{escaped}</code>\n</pre>'


def _shortcode(found: re.Match[str], params: Mapping[str, Any], as_html: bool = False) -> str:
    name, arguments = found.group(1), _arguments(found.group(2))
    if arguments is None:
        return found.group()  # not as Hugo writes it: left as written, and named
    if name == "param":
        value = params.get(arguments.get("0", ""))
        return (
            str(value)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool)
            else found.group()
        )
    if name in _LINKS:
        return _link(name, arguments, as_html) or found.group()
    if name == "figure":
        source = arguments.get("src", "")
        if not source:
            return found.group()
        alt = arguments.get("alt") or arguments.get("caption") or arguments.get("title", "")
        caption = arguments.get("caption") or arguments.get("title", "")
        image = f'<img src="{html.escape(source)}" alt="{html.escape(alt)}">'
        if arguments.get("link"):
            image = f'<a href="{html.escape(arguments["link"])}">{image}</a>'
        shown = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        return f"<figure>{image}{shown}</figure>" + "\n" * found.group().count("\n")  # the same lines
    video = arguments.get("id") or arguments.get("0", "")
    if not re.fullmatch(r"[\w-]+", video):
        return found.group()
    if name == "youtube":
        return _anchor("Video on YouTube", f"https://www.youtube.com/watch?v={video}", as_html)
    return _anchor("Video on Vimeo", f"https://vimeo.com/{video}", as_html)


# Hugo's built-in embeds, as a link to what they show (no embed: no third-party script or tracker).
_LINKS = {
    "gist": ("Gist", "https://gist.github.com/{user}/{id}", ("user", "id")),
    "tweet": ("Post on X", "https://x.com/{user}/status/{id}", ("user", "id")),
    "x": ("Post on X", "https://x.com/{user}/status/{id}", ("user", "id")),
    "instagram": ("Post on Instagram", "https://www.instagram.com/p/{id}/", ("id",)),
}


def _link(name: str, arguments: Mapping[str, str], as_html: bool) -> str | None:
    """The link of an embed shortcode, its values named or by position; None if one is amiss."""
    label, pattern, keys = _LINKS[name]
    values = {key: arguments.get(key) or arguments.get(str(index), "") for index, key in enumerate(keys)}
    if not all(re.fullmatch(r"[\w.-]+", value) for value in values.values()):
        return None
    return _anchor(label, pattern.format(**values), as_html)


def _anchor(label: str, url: str, as_html: bool) -> str:
    """A link, in Markdown or (for an HTML article) in HTML; `url` is made of safe characters."""
    return f'<a href="{url}">{label}</a>' if as_html else f"[{label}]({url})"


def _arguments(text: str) -> dict[str, str] | None:
    """A shortcode's arguments, named (`src="x"`) or by position (`"0"`, `"1"`...); None if unreadable."""
    try:
        words = shlex.split(text.replace("\n", " "))
    except ValueError:
        return None
    found: dict[str, str] = {}
    for index, word in enumerate(words):
        name, equals, value = word.partition("=")
        if equals and re.fullmatch(r"\w+", name):
            found[name] = value
        else:
            found[str(index)] = word
    return found
