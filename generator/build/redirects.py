"""Redirects for moved URLs: each article's `aliases:` (Hugo) and `redirect_from:` (Jekyll).

Every old URL gets a small page that sends the browser on (a meta refresh, a
canonical link to the new URL, `noindex`, and a visible link for anyone the
refresh does not move), and `_redirects` lists them all for hosts that read
one (Netlify, Cloudflare Pages) and answer with a real 301.
"""

from __future__ import annotations

import html
from pathlib import PurePosixPath

from generator.base.errors import SourceLocation
from generator.base.model import OutputFile, Site
from generator.base.urls import absolute, output_path_for, root_prefix

REDIRECTS_FILE = "_redirects"

_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<link rel="canonical" href="{canonical}">
<meta http-equiv="refresh" content="0; url={link}">
</head>
<body>
<p>This page has moved: <a href="{link}">{title}</a>.</p>
</body>
</html>
"""


def render_redirects(site: Site) -> tuple[OutputFile, ...]:
    """A redirect page at each alias of each article and each of the config's `redirects:`, and the
    `_redirects` list (if any)."""
    config = site.config
    pages: list[OutputFile] = []
    rules: list[str] = []
    for article_id in sorted(site.articles):
        article = site.articles[article_id]
        if not article.aliases:
            continue
        target = site.urls[article_id]
        for alias in article.aliases:
            if alias.rstrip("/") == target.rstrip("/"):
                continue  # the article's own URL, written again (Hugo lowercases it): no redirect
            link = html.escape(root_prefix(alias) + target)
            page = _PAGE.format(
                lang=html.escape(article.lang or config.language),
                title=html.escape(article.title),
                canonical=html.escape(absolute(config.base_url, target)),
                link=link,
            )
            pages.append(OutputFile(output_path_for(alias), page.encode("utf-8"), article.source_location))
            rules.append(f"{config.base_path}{alias} {config.base_path}{target} 301")
    moved = config.redirects
    if config.languages and config.default_language_in_subdir:  # the root leads to the default's home
        moved = (("", config.prefix_of(config.languages[0].code)), *moved)
    for old, target in moved:  # the config's: list pages that moved (`digest migrate` writes them)
        link = html.escape(root_prefix(old) + (target or "./"))
        page = _PAGE.format(
            lang=html.escape(config.language),
            title=html.escape(config.title),
            canonical=html.escape(absolute(config.base_url, target)),
            link=link,
        )
        origin = SourceLocation(config.source) if config.source else None
        pages.append(OutputFile(output_path_for(old), page.encode("utf-8"), origin))
        status = 302 if not old else 301  # the root's target is a choice that may change; a move is not
        rules.append(f"{config.base_path}{old} {config.base_path}{target} {status}")
    if rules:
        pages.append(
            OutputFile(PurePosixPath(REDIRECTS_FILE), ("\n".join(sorted(rules)) + "\n").encode("utf-8"))
        )
    return tuple(pages)
