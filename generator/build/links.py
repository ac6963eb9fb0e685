"""Link checking for `digest check`: every internal link and asset of the built pages must resolve.

Works on the site in memory (output path to content), before anything is
written. Links to other hosts are not fetched: they are for the reader's
browser, and a check should not depend on the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from posixpath import dirname, normpath
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A link on page `page` (an output path) that leads nowhere in the site."""

    page: str
    link: str
    reason: str


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src") and not (tag == "link" and ("rel", "canonical") in attrs):
                self.links.append(value)
            elif name == "srcset":  # each candidate: "url 480w" (URLs of ours never hold a comma)
                self.links += [c.split()[0] for c in value.split(",") if c.strip()]
            elif name == "id":
                self.ids.add(value)


def scan(html: str) -> tuple[list[str], set[str]]:
    """The href, src and srcset addresses of a page, and its element ids."""
    scanner = _Scanner()
    scanner.feed(html)
    return scanner.links, scanner.ids


def find_broken_links(files: Mapping[str, bytes | object], base_path: str = "/") -> list[BrokenLink]:
    """Every internal link of every HTML page in `files` that does not resolve, with why.

    Relative links resolve from the page; links starting with `/` must stay
    below `base_path` (where the site is published). `files` maps output
    paths to content; only HTML values (bytes) are scanned.
    """
    scanned = {
        path: scan(content.decode("utf-8", "replace"))
        for path, content in files.items()
        if path.endswith(".html") and isinstance(content, bytes)
    }
    broken: list[BrokenLink] = []
    for page, (links, ids) in scanned.items():
        for link in links:
            reason = _check(page, link, files, scanned, ids, base_path)
            if reason:
                broken.append(BrokenLink(page, link, reason))
    return broken


def _check(
    page: str,
    link: str,
    files: Mapping[str, object],
    scanned: Mapping[str, tuple[list[str], set[str]]],
    ids: set[str],
    base_path: str,
) -> str:
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith(("mailto:", "tel:", "data:", "javascript:")):
        return ""
    path = unquote(parts.path)
    target: str | None
    if not path:
        target = page
    elif path.startswith("/"):
        if not path.startswith(base_path):
            return f"outside the site's base path {base_path}"
        target = _target(path[len(base_path) :], files)
    else:
        target = _target(normpath(f"{dirname(page)}/{path}").lstrip("/"), files, path.endswith("/"))
    if target is None or target not in files:
        return "no such page or file"
    if parts.fragment and target.endswith(".html"):
        target_ids = ids if target == page else scanned.get(target, ([], set()))[1]
        if unquote(parts.fragment) not in target_ids:
            return f"no element with id '{unquote(parts.fragment)}'"
    return ""


def _target(path: str, files: Mapping[str, object], is_folder: bool = False) -> str | None:
    if path.startswith("../") or path == "..":
        return None
    path = "" if path in (".", "./") else path
    if is_folder or path == "" or path.endswith("/"):
        return f"{path.rstrip('/')}/index.html".lstrip("/")
    if path not in files and f"{path}/index.html" in files:
        return f"{path}/index.html"
    return path
