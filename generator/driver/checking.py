"""`digest check`: everything `build` does but writing, in memory, and then every internal link, the
pages the last build published that this one would not, unknown bylines and near duplicates."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.base.errors import BuildFailed, LinkError, MediaError, SiteError, SiteWarning, SourceLocation
from generator.base.model import Article, BuildSummary, Config, Site
from generator.build import media, translations
from generator.driver.pipeline import collections_count, render_site
from generator.incremental import layer

if TYPE_CHECKING:
    from generator.build import links
    from generator.build.pages import PageSpec


def check(root: Path, **options: Any) -> BuildSummary:
    """Everything `build` does but writing, plus a check of every internal link.

    Raises `BuildFailed` listing every problem: those of the build, else each broken link,
    located at the article whose page holds it.
    """
    from generator.build import links

    started = time.perf_counter()
    # Every broken file is left out and said, and the links of all the others are checked.
    result = render_site(root, keep_problems=True, keep_going=True, make=media.unmade, **options)
    site = result.plan.site
    problems = result.plan.problems
    broken = links.find_broken_links(result.files, site.config.base_path)
    reported = {p.address for p in problems if isinstance(p, MediaError)}  # not a broken link too
    if broken or problems:
        specs = result.plan.specs
        raise BuildFailed(
            [
                *problems,
                *(_link_error(b, specs) for b in broken if b.link not in reported),
            ]
        )
    pages = sum(1 for path in result.keys.files if path.endswith(".html"))
    warnings = (
        *result.plan.warnings, *_vanished(root, site.config, result.files), *_unknown_authors(site),
        *_near_duplicates(site),
    )  # fmt: skip
    return BuildSummary(
        len(site.article_ids), collections_count(site), warnings, pages, 0,
        time.perf_counter() - started, site.config.output_dir, pages,
        to_translate=tuple(translations.to_translate(site)),
    )  # fmt: skip


def _link_error(broken: links.BrokenLink, specs: Mapping[str, PageSpec]) -> LinkError:
    return LinkError(
        f"broken link '{broken.link}' on /{broken.page.removesuffix('index.html')}: {broken.reason}",
        specs[broken.page].origin if broken.page in specs else None,
        "links between articles can be relative ('../other-slug/') or start with the base path",
    )


def _near_duplicates(site: Site) -> list[SiteError]:
    """A warning for each pair of articles that tell the same story in nearly the same words."""
    from generator.base.dedupe import near_pairs

    articles = site.articles
    texts = ((a.id, a.body_html) for a in articles.values() if a.kind == "article")
    return [
        SiteWarning(
            f"a near duplicate of {articles[first].source_location} ({similarity:.0%} of the text in common)",
            articles[second].source_location,
            "if one story was published twice, keep one and list the other's URL under its 'aliases:'",
        )
        for first, second, similarity in near_pairs(texts, site.config.imports.duplicate_threshold)
    ]


def _unknown_authors(site: Site) -> list[SiteError]:
    """A warning for each byline name that no entry of `authors:` matches (it builds, without a page)."""
    from generator.build.topics import author_key

    if not site.config.authors:
        return []
    found: dict[str, Article] = {}
    for article_id in site.article_ids:
        article = site.articles[article_id]
        for name in article.authors:
            if author_key(name, site.config) is None:
                found.setdefault(name, article)
    return [
        SiteWarning(
            f"the author '{name}' is not in authors: of config.yaml",
            article.source_location,
            "add them there (key, name, bio, url) to give them a page, or fix the spelling",
        )
        for name, article in sorted(found.items())
    ]


def _vanished(root: Path, config: Config, files: Mapping[str, object]) -> list[SiteError]:
    """A warning for each page the last build wrote into the output folder that this one would not:
    a published URL should live on, as a redirect (`aliases:`) if its article moved."""
    published = layer.open_cache(root).load_manifest(config.output_dir)
    where = SourceLocation(config.source) if config.source else None
    found: list[SiteError] = []
    for path in sorted(published):
        if path.endswith(".html") and path not in files and not path.startswith("pagefind/"):
            url = "/" + path.removesuffix("index.html")
            hint = f"if its article moved, add 'aliases: [{url}]' to that article's front matter"
            found.append(
                LinkError(f"{url} was published by the last build; this one has no page there", where, hint)
            )
    return found
