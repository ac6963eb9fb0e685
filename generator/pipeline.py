"""The build as a list of stages: config, articles, site, pages and feeds, then files.

`plan` runs every stage but the writer and returns what would be written;
`build` writes it. Each stage raises `BuildFailed` with all its errors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from . import content, feeds, links, render, theme, topics, writer
from .config import load_config
from .errors import BuildFailed, LinkError, OutputConflictError, SiteError
from .model import BuildResult, Config, OutputFile, Progress, StaticFile, no_progress


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What `build` did, for the one-line report."""

    articles: int
    collections: int
    warnings: tuple[SiteError, ...]
    pages: int
    files: int
    seconds: float
    output_dir: Path


def plan(
    root: Path,
    *,
    include_drafts: bool = False,
    include_future: bool = False,
    now: datetime | None = None,
    progress: Progress = no_progress,
    **overrides: Any,
) -> BuildResult:
    """Load, parse, group and render the site at `root` without writing anything.

    `overrides` replace config values (e.g. `output_dir`, `base_url`); `now`
    decides which articles are in the future (default: the current time).
    """
    config = load_config(root, **overrides)
    chosen_theme, warnings = theme.find_theme(config)
    articles, errors = content.read_articles(config, progress)
    articles = content.published(articles, now or datetime.now(timezone.utc), include_drafts, include_future)
    site = topics.assemble_site(articles, config, errors)
    env = render.make_environment(chosen_theme)
    pages = render.render_pages(site, env, chosen_theme, progress)
    outputs = (
        *pages,
        *feeds.render_feeds(site),
        *feeds.render_sitemap(site, pages),
        feeds.render_robots(site),
    )
    static = theme.static_files(chosen_theme)
    _check_conflicts(outputs, static)
    return BuildResult(site, outputs, static, warnings)


def _check_conflicts(outputs: tuple[OutputFile, ...], static: tuple[StaticFile, ...]) -> None:
    """Two outputs at one path would silently overwrite each other: report each such pair."""
    seen: dict[PurePosixPath, OutputFile] = {}
    errors: list[SiteError] = []
    for item in outputs:
        first = seen.setdefault(item.path, item)
        if first is not item:
            origins = ", ".join(str(o.origin) for o in (first, item) if o.origin) or "the site's own pages"
            errors.append(
                OutputConflictError(
                    f"two pages would be written to /{item.path} ({origins})",
                    item.origin or first.origin,
                    "give the article a different 'slug:' or collection",
                )
            )
    for asset in static:
        if asset.path in seen:
            errors.append(OutputConflictError(f"a static file and a page share /{asset.path}"))
    if errors:
        raise BuildFailed(errors)


def build(root: Path, **options: Any) -> BuildSummary:
    """Run every stage and write the site; the previous output survives any failure."""
    started = time.perf_counter()
    result = plan(root, **options)
    config = result.site.config
    try:
        writer.check_output_dir(config.output_dir, _protected(config))
        files = writer.write_site(result.outputs, result.static, config.output_dir)
    except SiteError as exc:
        raise BuildFailed([exc]) from None
    return _summary(result, files, started)


def _summary(result: BuildResult, files: int, started: float) -> BuildSummary:
    return BuildSummary(
        articles=len(result.site.articles),
        collections=sum(1 for c in result.site.collections if c.article_ids),
        warnings=result.warnings,
        pages=sum(1 for o in result.outputs if o.path.suffix == ".html"),
        files=files,
        seconds=time.perf_counter() - started,
        output_dir=result.site.config.output_dir,
    )


def check(root: Path, **options: Any) -> BuildSummary:
    """Everything `build` does but writing, plus a check of every internal link.

    Raises `BuildFailed` listing every problem: those of the build, else each broken link,
    located at the article whose page holds it.
    """
    started = time.perf_counter()
    result = plan(root, **options)
    origins = {str(o.path): o.origin for o in result.outputs}
    broken = links.find_broken_links(files_of(result), result.site.config.base_path)
    if broken:
        raise BuildFailed(
            [
                LinkError(
                    f"broken link '{b.link}' on /{b.page.removesuffix('index.html')}: {b.reason}",
                    origins.get(b.page),
                    "links between articles can be relative ('../other-slug/') or start with the base path",
                )
                for b in broken
            ]
        )
    return _summary(result, 0, started)


def files_of(result: BuildResult) -> dict[str, bytes | Path]:
    """The built site as a mapping from output path to content (or the static file to read)."""
    files: dict[str, bytes | Path] = {str(s.path): s.source for s in result.static}
    files.update((str(o.path), o.content) for o in result.outputs)
    return files


def _protected(config: Config) -> list[Path]:
    return [config.root, config.content_dir, config.root / "themes", config.root / "config.yaml"]
