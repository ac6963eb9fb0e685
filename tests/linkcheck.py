"""The link checker applied to a built site on disk: every internal href and src must resolve."""

from __future__ import annotations

from pathlib import Path

from generator.build.links import find_broken_links


def broken_links(site: Path, base_path: str = "/") -> list[str]:
    """Every internal link in every HTML page of `site` that does not resolve, as 'page -> link'."""
    files: dict[str, bytes | object] = {
        p.relative_to(site).as_posix(): (p.read_bytes() if p.suffix == ".html" else p)
        for p in site.rglob("*")
        if p.is_file()
    }
    return [f"{b.page} -> {b.link} ({b.reason})" for b in find_broken_links(files, base_path)]
