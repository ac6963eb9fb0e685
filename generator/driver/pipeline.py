"""The build as a list of stages: config, theme, articles, site, plan; then files.

`prepare` runs the stages up to the `Plan` and knows nothing of caches.
`write_changes` is the one driver: it renders and writes the files whose key
(`keys.py`) changed since the last build into an output, on disk (`build`) or
in memory (`render_site`, `check`, and the preview's `session.py`). `build`
reaches the plan through the incremental layer (`layer.py`), which
wraps `prepare`. Each stage raises `BuildFailed` with all its errors.
"""

from __future__ import annotations

import collections
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from generator.base import parallel
from generator.base.errors import (
    BuildFailed,
    LinkError,
    MediaError,
    SiteError,
    SiteWarning,
    SourceLocation,
    warning_from,
    warning_record,
)
from generator.base.hashing import stable_hash
from generator.base.lock import site_lock
from generator.base.model import Article, Config, OutputFile, Progress, Showing, Site, StaticFile, no_progress
from generator.build import content, imagemeta, media, theme, writer
from generator.build.config import load_config
from generator.incremental import layer

if TYPE_CHECKING:
    import jinja2

    from generator.build import links, search
    from generator.build.plan import PageSpec, Plan
    from generator.incremental.cache import BuildCache
    from generator.incremental.keys import Keys

# Planning, keys, rendering and links pull in Jinja, Babel and Markdown: they are imported where they
# are used, so that `digest --help` and a build with nothing to do start fast.


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


@dataclass(frozen=True, slots=True)
class BuildResult:
    """A build made in memory: its plan and keys, and the files rendered, made or copied."""

    plan: Plan
    keys: Keys
    files: Mapping[str, bytes | Path]  # output path -> bytes, or the static file to copy
    rendered: int  # pages


def prepare(
    root: Path,
    *,
    read: layer.Reader = content.read_content,
    probe: media.Prober = media.probe_files,
    keep_problems: bool = False,
    include_drafts: bool = False,
    include_future: bool = False,
    now: datetime | None = None,
    progress: Progress = no_progress,
    **overrides: Any,
) -> Plan:
    """Load, parse and group the site at `root`, and plan its files, without rendering or writing.

    `overrides` replace config values (e.g. `output_dir`, `base_url`); `now`
    decides which articles are in the future (default: the current time);
    `read` is the content stage and `probe` the media stage's look at files (the build cache wraps
    both). A missing image is an error, raised with the others of its stage; with `keep_problems`
    they are kept in the plan's `problems` instead (for `check`, which reports them with the
    broken links).
    """
    from generator.build import topics
    from generator.build.plan import make_plan

    config = load_config(root, **overrides)
    chosen_theme, warnings = theme.find_theme(config)
    moment = now or datetime.now(timezone.utc)
    articles, errors = read(config, progress, Showing(moment, include_drafts, include_future))
    notes = tuple(note for a in articles for note in a.notes)
    due = content.next_change(articles, moment, include_drafts)
    articles = content.published(articles, moment, include_drafts, include_future)
    site = topics.assemble_site(articles, config, errors)
    site, media_errors, media_warnings = media.collect(site, probe)
    if media_errors and not keep_problems:
        raise BuildFailed(media_errors)
    next_change = None if include_future and not any(a.expiry_date for a in articles) else due
    plan = make_plan(site, chosen_theme, (*warnings, *notes, *media_warnings), next_change)
    return dataclasses.replace(plan, problems=tuple(media_errors)) if media_errors else plan


def write_changes(
    plan: Plan,
    plan_keys: Keys,
    previous: Mapping[str, str],
    output: writer.Output,
    progress: Progress = no_progress,
    bytecode: jinja2.BytecodeCache | None = None,
    make: media.Maker = media.make_all,
) -> int:
    """Render and write into `output` every file whose key is not what `previous` (the last build's
    keys) says, or that `output` lacks; return how many pages were rendered. `make` makes the
    variants of images (the build cache wraps it)."""
    write_made(plan, plan_keys, previous, output, make)
    return render_changes(plan, plan_keys, previous, output, progress, bytecode)


def write_made(
    plan: Plan,
    plan_keys: Keys,
    previous: Mapping[str, str],
    output: writer.Output,
    make: media.Maker = media.make_all,
) -> None:
    """Write the feeds, static files and image variants of `plan` that changed (see `write_changes`)."""
    output.write(o for o in plan.feeds if _changed(str(o.path), plan_keys, previous, output))
    static = [s for s in plan.static if _changed(str(s.path), plan_keys, previous, output)]
    images = [s for s in static if s.path.suffix.lower() in imagemeta.SUFFIXES]  # without their metadata
    output.copy(s for s in static if s.path.suffix.lower() not in imagemeta.SUFFIXES)
    output.write(OutputFile(s.path, imagemeta.without_metadata(s.source.read_bytes())) for s in images)
    due = [
        p
        for p in plan.pictures
        if any(_changed(path, plan_keys, previous, output) for path, _, _ in p.variants())
    ]
    for made in make(due, plan.site.config.images.quality):
        changed = {path: data for path, data in made.items() if _changed(path, plan_keys, previous, output)}
        output.write(OutputFile(PurePosixPath(p), d) for p, d in changed.items() if isinstance(d, bytes))
        output.copy(StaticFile(PurePosixPath(p), d) for p, d in changed.items() if isinstance(d, Path))


def render_changes(
    plan: Plan,
    plan_keys: Keys,
    previous: Mapping[str, str],
    output: writer.Output,
    progress: Progress = no_progress,
    bytecode: jinja2.BytecodeCache | None = None,
) -> int:
    """Render and write the pages of `plan` that changed; return how many (see `write_changes`)."""
    from generator.build import render

    todo = [plan.specs[path] for path in plan.specs if _changed(path, plan_keys, previous, output)]
    renderer = render.Renderer(plan.site, plan.theme, plan.links, bytecode)
    output.add(render.render_into(renderer, todo, output.sink, progress))
    return len(todo)


def _changed(path: str, plan_keys: Keys, previous: Mapping[str, str], output: writer.Output) -> bool:
    return previous.get(path) != plan_keys.files[path] or not output.holds(path)


def render_site(
    root: Path,
    *,
    previous: Mapping[str, str] | None = None,
    progress: Progress = no_progress,
    make: media.Maker = media.make_all,
    **options: Any,
) -> BuildResult:
    """Everything a build would write, in memory; files whose key is in `previous` unchanged are left
    out. `make` makes the variants of images (`media.unmade` names them without making them)."""
    from generator.incremental.keys import keys_of

    plan = prepare(root, progress=progress, **options)
    plan_keys = keys_of(plan)
    output = writer.MemoryOutput()
    rendered = write_changes(plan, plan_keys, previous or {}, output, progress, make=make)
    return BuildResult(plan, plan_keys, output.files, rendered)


def build(
    root: Path,
    *,
    use_cache: bool = True,
    progress: Progress = no_progress,
    waiting: Callable[[str], None] = lambda _: None,
    **options: Any,
) -> BuildSummary:
    """Run every stage and write the site; the previous output survives any failure, even a kill.

    One build runs at a time per site (`waiting` is told if this one waits).
    It first finishes or rolls back a build that was killed, and removes what
    that left. With the cache, only files whose key changed since the last
    build into the same folder are rendered and written, and files that no
    longer belong to the site are removed.
    """
    with site_lock(root, waiting):
        return _build(root, use_cache, progress, options)


def _build(root: Path, use_cache: bool, progress: Progress, options: dict[str, Any]) -> BuildSummary:
    cache = layer.open_cache(root) if use_cache else None
    try:
        return _build_with(root, cache, progress, options)
    finally:
        if cache:
            cache.finish()  # the article store's save, which goes on beside the build


def _build_with(
    root: Path, cache: BuildCache | None, progress: Progress, options: dict[str, Any]
) -> BuildSummary:
    started = time.perf_counter()
    if cache:
        cache.start_output_check()
    inputs = layer.look(root, options) if cache else None
    output_dir = inputs.output_dir if inputs else _output_dir(root, options)
    if output_dir:
        writer.recover(output_dir)
    if cache:
        cache.clean()
    now = options.get("now") or datetime.now(timezone.utc)
    if cache and inputs:
        done = layer.last_summary(cache, inputs, now)
        if done is not None:
            warned = tuple(warning_from(record) for record in done.get("warnings", ()))
            return BuildSummary(**{**done, "warnings": warned, "files": 0, "rendered": 0,
                                   "seconds": time.perf_counter() - started})  # fmt: skip
    from generator.incremental.keys import keys_of

    previous = _last_keys(cache, output_dir)
    found = layer.kept_plan(cache, inputs, now) if cache and inputs else None
    if found is not None and not _feeds_at_hand(found, previous):
        found = None  # a feed the output lacks was kept without its bytes: make the whole plan
    if found is None:
        read = layer.reader(cache, inputs) if cache else content.read_content
        probe = layer.prober(cache) if cache else media.probe_files
        plan = prepare(root, read=read, probe=probe, progress=progress, **options)
        found = plan, keys_of(plan)
    plan, plan_keys = found
    del found
    config = plan.site.config
    inputs_dir, output_dir = output_dir, config.output_dir
    try:
        writer.check_output_dir(output_dir, _protected(config))
    except SiteError as exc:
        raise BuildFailed([exc]) from None
    if output_dir != inputs_dir:  # the config named another folder than the first look found
        previous = _last_keys(cache, output_dir)
    last_search = layer.last_search(cache) if cache else {}
    shown = [kind for kind in ("drafts", "future") if options.get(f"include_{kind}")]
    marker = f"{writer.MARKER_TEXT}unpublished: {', '.join(shown) or 'none'}\n"  # deploy reads it
    try:
        present = {path for path, key in previous.items() if key}  # as the last build left them
        with writer.Transaction(output_dir, bool(previous), marker, present) as transaction:
            from generator.incremental.compiled import sealed_bytecode

            compiled = sealed_bytecode(cache.folder / "jinja") if cache else None
            # Feeds first: then the plan is kept without their bytes (as it is saved), and their memory
            # is given back before the render workers are forked (each maps its parent's pages).
            make = layer.picture_maker(cache) if cache else media.make_all
            write_made(plan, plan_keys, previous, transaction, make)
            plan = dataclasses.replace(
                plan, feeds=tuple(dataclasses.replace(o, content=b"") for o in plan.feeds)
            )
            parallel.release_memory()
            rendered = render_changes(plan, plan_keys, previous, transaction, progress, compiled)
            searched = _index_search(plan, plan_keys, previous, transaction, last_search)
            manifest = {**plan_keys.files, **searched.files}
            if cache:
                cache.forget_output()  # until the commit is done, no build may trust the last one's keys
            files = transaction.commit(sorted(set(previous) - set(manifest)))
    except SiteError as exc:
        raise BuildFailed([exc]) from None
    report = searched.report
    summary = BuildSummary(
        articles=len(plan.site.article_ids),
        collections=_collections(plan.site),
        warnings=(*plan.warnings, *report.warnings),
        pages=len(plan.specs),
        files=files,
        seconds=time.perf_counter() - started,
        output_dir=output_dir,
        rendered=rendered,
        indexed=report.pages,
        index_parts=report.parts,
        index_seconds=report.seconds,
    )
    if cache:
        cache.save_manifest(output_dir, manifest, transaction.written)
        layer.save_search(cache, searched.parts)
        cache.prune_variants(p.key for p in plan.pictures)  # those of images no longer used, or changed
        if inputs and not summary.warnings:  # a kept plan would not say an edited article's warnings
            layer.save(cache, inputs, plan, plan_keys)
        if inputs:  # the next build, if nothing changes, says this one's summary and warnings again
            counts = {k: getattr(summary, k) for k in ("articles", "collections", "pages", "indexed")}
            counts["index_parts"] = (0, summary.index_parts[1])
            counts["warnings"] = [warning_record(w) for w in summary.warnings]
            cache.save_state(inputs.signature, plan.next_change, {**counts, "output_dir": str(output_dir)})
    return summary


@dataclass(frozen=True, slots=True)
class _Searched:
    report: search.Report
    files: Mapping[str, str] = field(default_factory=dict)  # the index's files' keys by output path
    parts: Mapping[str, search.Part] = field(default_factory=dict)


def _index_search(
    plan: Plan,
    plan_keys: Keys,
    previous: Mapping[str, str],
    transaction: writer.Transaction,
    last: Mapping[str, search.Part],
) -> _Searched:
    """Index the article pages for search: the parts whose pages changed since the last build.
    Only files whose bytes changed are written."""
    from generator.build import search

    if not plan.site.config.search:
        return _Searched(search.Report())

    def changed(path: str, key: str) -> bool:
        return previous.get(path) != key or not transaction.holds(path)

    def is_current(part: search.Part) -> bool:
        return not any(changed(path, key) for path, key in part.files.items())

    def deliver(made: Sequence[OutputFile], keys: Mapping[str, str]) -> None:
        transaction.write(f for f in made if changed(str(f.path), keys[str(f.path)]))

    def read(path: str) -> bytes:
        return transaction.locate(path).read_bytes()

    parts = plan.search_parts
    done = search.refresh(parts, plan_keys.search, last, read, deliver, transaction.work, is_current)
    listing = done.bundles()
    files = {path: key for part in done.parts.values() for path, key in part.files.items()}
    files[str(listing.path)] = stable_hash(listing.content)
    transaction.write([listing] if changed(str(listing.path), files[str(listing.path)]) else [])
    counts: collections.Counter[str] = collections.Counter()
    for name in done.parts.keys() & parts.keys():  # the base parts with text (a part of edits repeats pages)
        counts[name.split("/")[0]] += len(parts[name])
    index = done.index
    report = search.Report(
        dict(sorted(counts.items())),
        (len(done.indexed), len(parts)),
        index.seconds if index else None,
        tuple(search.empty_warning(name) for name in index.empty) if index else (),
    )
    return _Searched(report, files, done.parts)


def check(root: Path, **options: Any) -> BuildSummary:
    """Everything `build` does but writing, plus a check of every internal link.

    Raises `BuildFailed` listing every problem: those of the build, else each broken link,
    located at the article whose page holds it.
    """
    from generator.build import links

    started = time.perf_counter()
    result = render_site(root, keep_problems=True, make=media.unmade, **options)  # links need only names
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
        len(site.article_ids), _collections(site), warnings, pages, 0,
        time.perf_counter() - started, site.config.output_dir, pages,
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


def _collections(site: Site) -> int:
    return sum(1 for c in site.collections if c.article_ids)


def _last_keys(cache: BuildCache | None, output_dir: Path | None) -> dict[str, str]:
    """The keys of the files the last build wrote into `output_dir` ("" for one not as it left it)."""
    if cache is None or output_dir is None or not writer.is_ours(output_dir):
        return {}
    return cache.load_manifest(output_dir)


def _feeds_at_hand(found: tuple[Plan, Keys], previous: Mapping[str, str]) -> bool:
    """Whether every feed this build would write from a kept plan has its bytes."""
    from generator.incremental.keptplan import has_feed_bytes

    plan, plan_keys = found
    due = [str(o.path) for o in plan.feeds if previous.get(str(o.path)) != plan_keys.files[str(o.path)]]
    return has_feed_bytes(plan, due)


def _output_dir(root: Path, options: Mapping[str, Any]) -> Path | None:
    """The output folder a build of `root` with `options` writes, if its config can be read."""
    try:
        return load_config(root, output_dir=options.get("output_dir")).output_dir
    except BuildFailed:
        return None


def _protected(config: Config) -> list[Path]:
    return [config.root, config.content_dir, config.root / "themes", config.root / "config.yaml"]
