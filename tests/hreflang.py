"""A Google-style hreflang check of a built site on disk: every page's `<link rel="alternate"
hreflang>` set and every sitemap entry's `xhtml:link` set must name pages that exist, include the
page itself, have an `x-default`, and be returned by every page it names (the same set there).
Run as `python -m tests.hreflang SITE BASE_URL`; prints each problem, exits 1 if there is one."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alternates: dict[str, str] = {}
        self.canonical = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag != "link":
            return
        if found.get("rel") == "canonical":
            self.canonical = found.get("href", "")
        elif found.get("rel") == "alternate" and "hreflang" in found:
            self.alternates[found["hreflang"]] = found.get("href", "")


def _file_of(site: Path, base_url: str, url: str) -> Path | None:
    if not url.startswith(base_url):
        return None
    rest = url[len(base_url) :]
    path = site / rest / "index.html" if rest.endswith("/") or not rest else site / rest
    return path if path.is_file() else None


def _sets(site: Path) -> dict[str, dict[str, str]]:
    """Each page's canonical URL -> its hreflang set (pages with one)."""
    found: dict[str, dict[str, str]] = {}
    for page in sorted(site.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.alternates:
            found[parser.canonical] = parser.alternates
    return found


def problems(site: Path, base_url: str) -> list[str]:
    """What a search engine's hreflang report would flag, one line each."""
    sets = _sets(site)
    said: list[str] = []
    for url, alternates in sets.items():
        if "x-default" not in alternates:
            said.append(f"{url}: no x-default")
        if url not in alternates.values():
            said.append(f"{url}: its set does not name itself")
        for lang, href in alternates.items():
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)*|x-default", lang):
                said.append(f"{url}: bad language code {lang!r}")
            if _file_of(site, base_url, href) is None:
                said.append(f"{url}: {lang} -> {href} does not exist")
            elif lang != "x-default" and sets.get(href) != alternates:
                said.append(f"{url}: {href} ({lang}) does not link back with the same set")
    for sitemap in sorted(site.glob("sitemap*.xml")):
        for entry in ElementTree.parse(sitemap).getroot().iter(f"{SITEMAP}url"):
            loc = entry.findtext(f"{SITEMAP}loc", "")
            links = {e.get("hreflang", ""): e.get("href", "") for e in entry.iter(f"{XHTML}link")}
            if links and links != sets.get(loc):
                said.append(f"{sitemap.name}: {loc}: its alternates differ from the page's")
            if not links and loc in sets:
                said.append(f"{sitemap.name}: {loc}: no alternates, though the page has them")
    return said


if __name__ == "__main__":
    found = problems(Path(sys.argv[1]), sys.argv[2])
    print("\n".join(found) or "hreflang: no problems")
    sys.exit(1 if found else 0)
