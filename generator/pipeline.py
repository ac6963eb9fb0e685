"""The build as a list of stages: config, articles, site, pages and feeds, then files.

`prepare` runs every stage up to rendering and says what each output file's
key is; `plan` renders the pages whose key changed and returns what would be
written; `build` streams those pages to the writer; `check` adds a link check
and writes nothing. Each stage raises `BuildFailed` with all its errors.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import generator

from . import content, snapshot, theme, writer
from .cache import BuildCache, parse_fingerprint
from .config import load_config
from .errors import BuildFailed, LinkError, OutputConflictError, SiteError
from .hashing import stable_hash
from .model import (
    CACHE_DIR,
    Article,
    BuildResult,
    Config,
    OutputFile,
    Progress,
    Site,
    StaticFile,
    no_progress,
)
from .urls import output_file_for

if TYPE_CHECKING:
    from . import render, search

# Rendering, feeds and links pull in Jinja, Babel and Markdown: they are imported where they are
# used, so that `digest --help` and a build with nothing to do start fast.


@dataclass(frozen=True, slots=True)
class Prepared:
    """A site ready to render: its pages as specs, the small files made already, and every file's key."""

    site: Site
    renderer: render.Renderer
    specs: Mapping[str, render.PageSpec]  # by output path, in a stable order
    small: tuple[OutputFile, ...]  # feeds, sitemap, robots.txt
    static: tuple[StaticFile, ...]
    keys: Mapping[str, str]  # output path -> key, for every file of the site
    warnings: tuple[SiteError, ...]
    next_change: datetime | None = None  # when the next future-dated article is due
    # For each article page, a key of what the search index takes from it: the page but its cards.
    index_keys: Mapping[str, str] = field(default_factory=dict)
    # What `update` needs to redo the keys of a few pages: the keys every page and article has.
    site_key: str = ""
    templates: Mapping[str, str] = field(default_factory=dict)
    article_keys: Mapping[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    search_parts: Mapping[str, Sequence[str]] = field(default_factory=dict)  # article pages by index part
    shown_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # article id -> pages showing it


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
    rendered: int = 0
    indexed: Mapping[str, int] = field(default_factory=dict)  # search: pages by language
    index_parts: tuple[int, int] = (0, 0)  # search: parts indexed in this build, parts in all
    index_seconds: float | None = None  # how long indexing took; None if the index was current


def prepare(
    root: Path,
    *,
    include_drafts: bool = False,
    include_future: bool = False,
    now: datetime | None = None,
    progress: Progress = no_progress,
    cache: BuildCache | None = None,
    listing: content.Listing | None = None,
    **overrides: Any,
) -> Prepared:
    """Load, parse and group the site at `root`, and plan its pages, without rendering or writing.

    `overrides` replace config values (e.g. `output_dir`, `base_url`); `now`
    decides which articles are in the future (default: the current time);
    `cache` lends parsed articles from earlier builds and keeps this one's.
    """
    from . import feeds, render, search, topics

    config = load_config(root, **overrides)
    chosen_theme, warnings = theme.find_theme(config)
    fingerprint = parse_fingerprint(config)
    cached = cache.load_articles(fingerprint) if cache else {}
    known = cache.load_index() if cache else {}
    if listing is None or listing.folder != config.content_dir:
        listing = content.list_articles(config.content_dir)
    articles, errors, index = content.read_articles(config, progress, cached, known, listing)
    if cache:
        cache.save_articles(fingerprint, articles, cached)
        if index != known:
            cache.save_index(index)
    moment = now or datetime.now(timezone.utc)
    upcoming = [a.date for a in articles if a.date > moment and (include_drafts or not a.is_draft)]
    articles = content.published(articles, moment, include_drafts, include_future)
    site = topics.assemble_site(articles, config, errors)
    page_links = render.Links.of(site)
    renderer = render.Renderer(site, chosen_theme, page_links, cache.folder / "jinja" if cache else None)
    templates = render.template_keys(renderer.env)
    # A theme of its own, made before search, has no search page; its pages can still use the index.
    pages = [s for s in render.page_specs(site, page_links) if s.kind != "search" or s.template in templates]
    specs = {output_file_for(s.url): s for s in pages}
    site_key = _site_key(config, chosen_theme, site)
    article_keys = render.article_keys(site)
    keys = {path: render.page_key(s, article_keys, site_key, templates) for path, s in specs.items()}
    small = (*feeds.render_feeds(site), *feeds.render_sitemap(site, keys), feeds.render_robots(site))
    static = theme.static_files(chosen_theme)
    _check_conflicts(pages, small, static)
    keys.update((str(o.path), stable_hash(o.content)) for o in small)
    keys.update((str(s.path), _static_key(s)) for s in static)
    next_change = None if include_future or not upcoming else min(upcoming)
    index_keys = {
        path: _index_key(s, site_key, templates, article_keys)
        for path, s in specs.items()
        if s.kind == "article" and config.search
    }
    search_parts = search.parts(search.pages_of(site)) if config.search else {}
    shown_on: dict[str, list[str]] = {}
    for path, spec in specs.items():
        for article_id in (spec.article, *spec.cards) if spec.article else spec.cards:
            shown_on.setdefault(article_id, []).append(path)
    return Prepared(
        site, renderer, specs, small, static, keys, warnings, next_change, index_keys,
        site_key, templates, article_keys, fingerprint, search_parts,
        {article_id: tuple(paths) for article_id, paths in shown_on.items()},
    )  # fmt: skip


def update(
    before: Prepared, paths: frozenset[Path], cache: BuildCache | None = None, now: datetime | None = None
) -> Prepared | None:
    """`before` with the article files `paths` read again, if only their text changed: the same
    title, date, collections, tags and every other field but the body and summary, so the same
    pages, lists and links. Only the keys of the pages showing those articles (their specs'
    descriptions), and the feeds, are made again.

    None when anything more may have changed (another file, front matter, an error, an article
    falling due): then `prepare` is needed. This is what makes `digest serve`, and a `digest build`
    from the plan the last build kept (`snapshot`), quick on large sites.
    """
    from . import feeds, render, topics

    site = before.site
    config = site.config
    if not paths or (before.next_change and (now or datetime.now(timezone.utc)) >= before.next_change):
        return None
    if not all(path.is_relative_to(config.content_dir) for path in paths):
        return None
    if any(path.relative_to(config.content_dir).as_posix() not in site.articles for path in paths):
        return None  # a new, removed, unpublished or other file
    parsed, errors, _ = content.parse_files(sorted(paths), config, frozenset())
    resolved, _, problems = topics.resolve_collections(parsed, config)
    if errors or problems or len(resolved) != len(paths):
        return None
    fresh = {a.id: a for a in resolved}
    for article in resolved:
        old = site.articles.get(article.id)
        if old is None or _shown(article) != _shown(old):
            return None
    if cache:
        cache.remember(before.fingerprint, parsed, [site.articles[i].source_hash for i in fresh])
    site = dataclasses.replace(site, articles=snapshot.with_changes(site.articles, fresh))
    renderer = render.Renderer(
        site, before.renderer.theme, before.renderer.links, before.renderer.bytecode_dir
    )
    article_keys = {**before.article_keys, **render.article_keys(site, fresh)}
    keys = dict(before.keys)
    index_keys = dict(before.index_keys)
    changes = {}
    for path in dict.fromkeys(path for i in fresh for path in before.shown_on.get(i, ())):
        spec = before.specs[path]
        if spec.article in fresh:
            spec = changes[path] = dataclasses.replace(
                spec, description=fresh[spec.article].summary or config.description
            )
            if config.search:
                index_keys[path] = _index_key(spec, before.site_key, before.templates, article_keys)
        keys[path] = render.page_key(spec, article_keys, before.site_key, before.templates)
    specs = snapshot.with_changes(before.specs, changes)
    news = feeds.render_feeds(site, fresh)
    keys.update((str(o.path), stable_hash(o.content)) for o in news)
    renewed = {o.path for o in news}
    small = (*news, *(o for o in before.small if o.path not in renewed))
    return dataclasses.replace(
        before, site=site, renderer=renderer, specs=specs, small=small, keys=keys, index_keys=index_keys,
        article_keys=article_keys,
    )  # fmt: skip


def _shown(article: Article) -> Article:
    """The article but its text and what comes of it (summary, length): the pages that show those
    are the ones showing the article, whose keys `update` makes again."""
    return dataclasses.replace(article, body_html="", summary="", word_count=0, source_hash="")


def _index_key(
    spec: render.PageSpec, site_key: str, templates: Mapping[str, str], article_keys: Mapping[str, str]
) -> str:
    return stable_hash(site_key, templates.get(spec.template, ""), article_keys[spec.article], spec.lang)


def _site_key(config: Config, chosen_theme: theme.Theme, site: Site) -> str:
    """Everything every page depends on: the generator, the config, the theme's texts, the navigation."""
    navigation = [(c.key, c.title, bool(c.article_ids)) for c in site.collections]
    texts = repr(sorted((lang, sorted(table.items())) for lang, table in chosen_theme.translations.items()))
    return stable_hash(generator.__version__, repr(config), texts, repr(navigation))


def _static_key(item: StaticFile) -> str:
    try:
        return stable_hash(item.source.read_bytes())
    except OSError:
        return ""


def plan(
    root: Path,
    *,
    previous: Mapping[str, str] | None = None,
    progress: Progress = no_progress,
    before: Prepared | None = None,
    changed: frozenset[Path] = frozenset(),
    **options: Any,
) -> BuildResult:
    """Everything a build would write, in memory; pages whose key is in `previous` unchanged are left out.

    With `before` (the `prepared` of an earlier result) and the files `changed` since, only
    the changed articles are read again where that is enough (see `update`).
    """
    from . import render

    quick = update(before, changed, options.get("cache")) if before is not None else None
    prepared = quick or prepare(root, progress=progress, **options)
    previous = previous or {}
    todo = [prepared.specs[path] for path in prepared.specs if previous.get(path) != prepared.keys[path]]
    pages = tuple(render.render_pages(prepared.renderer, todo, progress))
    return BuildResult(
        prepared.site,
        (*pages, *prepared.small),
        prepared.static,
        prepared.warnings,
        prepared.keys,
        prepared.index_keys,
        prepared,
    )


def _check_conflicts(
    specs: Sequence[render.PageSpec], small: Sequence[OutputFile], static: Sequence[StaticFile]
) -> None:
    """Two outputs at one path would silently overwrite each other: report each such pair."""
    seen: dict[str, Any] = {}
    errors: list[SiteError] = []
    items: list[tuple[str, Any]] = [(output_file_for(s.url), s.origin) for s in specs]
    items += [(str(o.path), None) for o in small] + [(str(s.path), None) for s in static]
    for path, origin in items:
        if path in seen:
            first = seen[path]
            origins = ", ".join(str(o) for o in (first, origin) if o) or "the site's own pages"
            errors.append(
                OutputConflictError(
                    f"two pages would be written to /{path} ({origins})",
                    origin or first,
                    "give the article a different 'slug:' or collection",
                )
            )
        else:
            seen[path] = origin
    if errors:
        raise BuildFailed(errors)


def build(
    root: Path, *, use_cache: bool = True, progress: Progress = no_progress, **options: Any
) -> BuildSummary:
    """Run every stage and write the site; the previous output survives any failure.

    With the cache, only pages whose key changed since the last build into the
    same folder are rendered and written, and files that no longer belong to
    the site are removed.
    """
    started = time.perf_counter()
    cache = BuildCache(root / CACHE_DIR) if use_cache else None
    inputs = _inputs(root, options) if cache else None
    now = options.get("now") or datetime.now(timezone.utc)
    if cache and inputs:
        done = cache.load_state(inputs.signature, now)
        if done is not None and _output_intact(cache, Path(done["output_dir"])):
            os.utime(Path(done["output_dir"]) / writer.MARKER)  # checked against the sources: current
            return BuildSummary(**{**done, "warnings": (), "files": 0, "rendered": 0,
                                   "seconds": time.perf_counter() - started})  # fmt: skip
    kept = _kept_plan(cache, inputs, now) if cache and inputs else None
    listing = inputs.listing if inputs else None
    prepared = kept or prepare(root, progress=progress, cache=cache, listing=listing, **options)
    config = prepared.site.config
    output_dir = config.output_dir
    try:
        writer.check_output_dir(output_dir, _protected(config))
    except SiteError as exc:
        raise BuildFailed([exc]) from None
    previous = cache.load_manifest(output_dir) if cache and writer.is_ours(output_dir) else {}

    out = str(output_dir)
    keys = dict(prepared.keys)  # and the search bundle's files, once indexed

    def changed(path: str) -> bool:
        return not previous or previous.get(path) != keys[path] or not os.path.isfile(os.path.join(out, path))

    from . import render

    todo = [prepared.specs[path] for path in prepared.specs if changed(path)]
    try:
        with writer.Transaction(output_dir, incremental=bool(previous)) as transaction:
            transaction.add(render.render_into(prepared.renderer, todo, transaction.sink, progress))
            transaction.write(o for o in prepared.small if changed(str(o.path)))
            transaction.copy(s for s in prepared.static if changed(str(s.path)))
            searched = _index_search(prepared, transaction, cache, keys, changed)
            files = transaction.commit(sorted(set(previous) - set(keys)))
    except SiteError as exc:
        raise BuildFailed([exc]) from None
    summary = _summary(prepared, files, started, rendered=len(todo))
    summary = dataclasses.replace(
        summary,
        indexed=searched.pages,
        index_parts=searched.parts,
        index_seconds=searched.seconds,
        warnings=(*summary.warnings, *searched.warnings),
    )
    if cache:
        cache.save_manifest(output_dir, keys)
        if inputs and not summary.warnings:
            snapshot.save(cache, inputs.frame, inputs.listing.stats, prepared)
            counts = {k: getattr(summary, k) for k in ("articles", "collections", "pages", "indexed")}
            counts["index_parts"] = (0, summary.index_parts[1])  # as the next build, if nothing changes
            cache.save_state(
                inputs.signature, prepared.next_change, {**counts, "output_dir": str(output_dir)}
            )
    return summary


def _kept_plan(cache: BuildCache, inputs: _Inputs, now: datetime) -> Prepared | None:
    """The last build's plan, brought up to date if only some articles' text changed since; else None."""
    found = None if inputs.theme_warned else snapshot.load(cache, inputs.frame, inputs.theme)
    if found is None:
        return None
    before, stats = found
    listing = inputs.listing
    changed = frozenset(Path(p) for p in listing.paths if listing.stats.get(p) != stats.get(p))
    if not changed:
        return before if not before.next_change or now < before.next_change else None
    return update(before, changed, cache, now)


def _index_search(
    prepared: Prepared,
    transaction: writer.Transaction,
    cache: BuildCache | None,
    keys: dict[str, str],
    changed: Callable[[str], bool],
) -> search.Report:
    """Index the article pages for search: the parts whose pages changed since the last build.

    The bundles' files join `keys` (so that the manifest lists them and stale
    ones are removed); only files whose bytes changed are written.
    """
    from . import search

    site = prepared.site
    if not site.config.search:
        return search.Report()
    parts = prepared.search_parts
    wanted = search.part_keys(parts, prepared.index_keys)
    last = cache.load_search() if cache else {}
    kept = {}
    for name, key in wanted.items():
        before = last.get(name)
        if before and before["key"] == key:
            keys.update(before["files"])
            if not any(changed(path) for path in before["files"]):
                kept[name] = before
                continue
            for path in before["files"]:
                del keys[path]
    todo = {name: parts[name] for name in parts if name not in kept}
    made = dict(kept)
    index = None
    if todo:
        with search.index_parts(todo, transaction.locate, transaction.output_dir.parent) as index:
            for name, files in index.files.items():
                made[name] = {"key": wanted[name], "files": {str(f.path): _static_key(f) for f in files}}
                keys.update(made[name]["files"])
                transaction.move(f for f in files if changed(str(f.path)))
    listing = search.bundles_file(sorted(made))
    keys[str(listing.path)] = stable_hash(listing.content)
    transaction.write([listing] if changed(str(listing.path)) else [])
    if cache:
        cache.save_search(made)
    counts: collections.Counter[str] = collections.Counter()
    for name in made:
        counts[name.split("/")[0]] += len(parts[name])
    return search.Report(
        dict(sorted(counts.items())),
        (len(todo), len(parts)),
        index.seconds if index else None,
        tuple(search.empty_warning(name) for name in index.empty) if index else (),
    )


def _output_intact(cache: BuildCache, output_dir: Path) -> bool:
    """True if every file the last build wrote into `output_dir` is still there."""
    if not writer.is_ours(output_dir):
        return False
    out = str(output_dir)
    manifest = cache.load_manifest(output_dir)
    return bool(manifest) and all(os.path.isfile(os.path.join(out, path)) for path in manifest)


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What a build reads, as a first look before its stages finds it (see `_inputs`)."""

    signature: str  # a hash of all of it
    frame: str  # a hash of all but the article files' times and sizes
    listing: content.Listing  # the article files, so that the build need not look again
    theme: theme.Theme
    theme_warned: bool  # finding the theme gave warnings (which a kept plan would not repeat)


def _inputs(root: Path, options: Mapping[str, Any]) -> _Inputs | None:
    """Hashes of everything a build reads, by file names, times and sizes; None if the config or
    theme cannot be read (the build's own stages then report why).

    Equal signatures mean that nothing changed since the last build, which
    then need not even load its cache: the answer is in a few thousand stats.
    An equal frame means that the last build's plan can be brought up to date.
    """
    overrides = {k: v for k, v in options.items() if k in ("output_dir", "base_url", "theme")}
    try:
        config = load_config(root, **overrides)
        chosen_theme, warnings = theme.find_theme(config)
    except BuildFailed:
        return None
    listing = content.list_articles(config.content_dir)
    files: list[str] = [config.source.read_text(encoding="utf-8") if config.source else "", *listing.paths]
    folders = [*chosen_theme.folders, *([chosen_theme.overrides] if chosen_theme.overrides else [])]
    for folder in [config.content_dir, *folders]:
        for path in content.walk_files(folder):
            if folder != config.content_dir or not path.endswith(".md"):
                with contextlib.suppress(OSError):
                    st = os.stat(path)
                    files.append(f"{path}|{st.st_mtime_ns}|{st.st_size}")
    settings = {k: v for k, v in options.items() if k not in ("now", "progress")}
    frame = stable_hash(generator.__version__, repr(config), repr(sorted(settings.items())), *files)
    signature = stable_hash(frame, *(f"{path}|{listing.stats.get(path)}" for path in listing.paths))
    return _Inputs(signature, frame, listing, chosen_theme, bool(warnings))


def check(root: Path, **options: Any) -> BuildSummary:
    """Everything `build` does but writing, plus a check of every internal link.

    Raises `BuildFailed` listing every problem: those of the build, else each broken link,
    located at the article whose page holds it.
    """
    from . import links

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
    pages = sum(1 for path in result.keys if path.endswith(".html"))
    return BuildSummary(
        len(result.site.articles), _collections(result.site), result.warnings, pages, 0,
        time.perf_counter() - started, result.site.config.output_dir, pages,
    )  # fmt: skip


def files_of(result: BuildResult) -> dict[str, bytes | Path]:
    """The built site as a mapping from output path to content (or the static file to read)."""
    files: dict[str, bytes | Path] = {str(s.path): s.source for s in result.static}
    files.update((str(o.path), o.content) for o in result.outputs)
    return files


def _collections(site: Site) -> int:
    return sum(1 for c in site.collections if c.article_ids)


def _summary(prepared: Prepared, files: int, started: float, rendered: int) -> BuildSummary:
    return BuildSummary(
        articles=len(prepared.site.articles),
        collections=_collections(prepared.site),
        warnings=prepared.warnings,
        pages=len(prepared.specs),
        files=files,
        seconds=time.perf_counter() - started,
        output_dir=prepared.site.config.output_dir,
        rendered=rendered,
    )


def _protected(config: Config) -> list[Path]:
    return [config.root, config.content_dir, config.root / "themes", config.root / "config.yaml"]
