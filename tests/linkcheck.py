"""A small link checker for a built site: every internal href and src must resolve to a file."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(site: Path, base_path: str = "/") -> list[str]:
    """Every internal link in every HTML page of `site` that does not resolve, as 'page -> link'."""
    pages = {p: parse(p) for p in site.rglob("*.html")}
    broken = []
    for page, found in pages.items():
        page_dir = PurePosixPath("/" + page.relative_to(site).as_posix()).parent
        for link in found.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:")):
                continue
            if not parts.path:
                target_file = page
            else:
                if parts.path.startswith("/"):
                    if not parts.path.startswith(base_path):
                        broken.append(f"{page.relative_to(site)} -> {link} (outside {base_path})")
                        continue
                    target = PurePosixPath("/" + parts.path[len(base_path) :])
                else:
                    target = _normalise(page_dir / unquote(parts.path))
                target_file = site / str(target).lstrip("/")
                if parts.path.endswith("/") or target_file.is_dir():
                    target_file = target_file / "index.html"
            if not target_file.is_file():
                broken.append(f"{page.relative_to(site)} -> {link}")
            elif parts.fragment and target_file.suffix == ".html":
                ids = pages[target_file].ids if target_file in pages else parse(target_file).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)} -> {link} (no such id)")
    return broken


def _normalise(path: PurePosixPath) -> PurePosixPath:
    parts: list[str] = []
    for part in path.parts[1:]:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath("/", *parts)
