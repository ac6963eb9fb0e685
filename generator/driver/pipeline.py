"""The build as a list of stages: config, theme, articles, site, plan; then files.

`prepare` runs the stages up to the `Plan` and knows nothing of caches. `run` is
the one driver: prepare -> keys -> the files whose key (`keys.py`) changed since
the last build, written into a destination. It asks a `Layer` at each step (the
cache folder's `layer.Cached` for `build`, serve's in-memory one, or `Plain`,
which keeps nothing) and writes into a `Destination` (the output folder in one
transaction, or memory for `render_site`, `check` and the preview). Each stage
raises `BuildFailed` with all its errors.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from generator.base import parallel
from generator.base.errors import (
    BuildFailed,
    SiteError,
    warning_from,
)
from generator.base.hashing import stable_hash
from generator.base.lock import site_lock
from generator.base.model import (
    Article,
    BuildSummary,
    Config,
    OutputFile,
    Progress,
    Showing,
    Site,
    StaticFile,
    no_progress,
)
from generator.build import content, imagemeta, markup, media, theme, writer
from generator.build.config import load_config, output_dir_of
from generator.incremental import layer
from generator.incremental.layer import Made

if TYPE_CHECKING:
    import jinja2

    from generator.build import search
    from generator.build.plan import Plan
    from generator.incremental.keys import Keys

# Planning, keys, rendering and links pull in Jinja, Babel and Markdown: they are imported where they
# are used, so that `digest --help` and a build with nothing to do start fast.


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
    read: content.Reader = content.read_content,
    probe: media.Prober = media.probe_files,
    keep_problems: bool = False,
    keep_going: bool = False,
    include_drafts: bool = False,
    include_future: bool = False,
    mark_unpublished: bool = False,
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
    broken links). With `keep_going`, every article file with an error is left out and the site is
    planned without it; the errors are the plan's `problems` (make's `--keep-going`).
    `mark_unpublished` (the preview's) marks drafts and articles not yet live for their banner.
    """
    from generator.build import topics
    from generator.build.plan import make_plan

    config = load_config(root, **overrides)
    markup.use(config.markdown_extensions, config.markdown_configs)  # the site's own extensions, if any
    chosen_theme, warnings = theme.find_theme(config)
    moment = now or datetime.now(timezone.utc)
    articles, errors = read(config, progress, Showing(moment, include_drafts, include_future))
    notes = tuple(note for a in articles for note in a.notes)
    due = content.next_change(articles, moment, include_drafts)
    articles = content.published(articles, moment, include_drafts, include_future)
    if mark_unpublished:  # the preview's: a banner on each draft and scheduled article
        articles = content.marked(articles, moment)
    files, left_out = media.content_files(config)
    published = [str(f.path) for f in (*files, *theme.static_files(chosen_theme))]
    if keep_going:
        site, media_warnings, media_errors = _without_broken_files(articles, config, errors, probe, published)
    else:
        site = topics.assemble_site(articles, config, errors)
        site, media_errors, media_warnings = media.attach(site, probe, published)
        if media_errors and not keep_problems:
            raise BuildFailed(media_errors)
    next_change = None if include_future and not any(a.expiry_date for a in articles) else due
    plan = make_plan(site, chosen_theme, (*warnings, *notes, *media_warnings, *left_out), next_change, files)
    return dataclasses.replace(plan, problems=tuple(media_errors)) if media_errors else plan


def _without_broken_files(
    articles: tuple[Article, ...],
    config: Config,
    errors: Sequence[SiteError],
    probe: media.Prober,
    published: Sequence[str],
) -> tuple[Site, list[SiteError], list[SiteError]]:
    """The site without every article file that has an error: its media warnings, and the errors of
    the files left out. Leaving one out can show another's error (a URL it no longer shares, an
    edition note): each round leaves out what the last found. An error that no article file holds
    (the config's, the theme's) fails the build as it would have."""
    from generator.build import topics

    left_out = list(errors)  # the files that could not be read or parsed are out already
    for _ in range(len(articles) + 1):
        try:
            site = topics.assemble_site(articles, config)
            site, found, media_warnings = media.attach(site, probe, published)
        except BuildFailed as failed:
            found = list(failed.errors)
        if not found:
            return site, media_warnings, left_out
        broken = {
            e.location.path
            for e in found
            if e.location and e.location.path.is_relative_to(config.content_dir)
        }
        if not broken or any(not e.location or e.location.path not in broken for e in found):
            raise BuildFailed([*left_out, *found])
        left_out += found
        articles = tuple(a for a in articles if a.source_location.path not in broken)
    raise BuildFailed(left_out)  # not reached: each round leaves out at least one file


def write_made(
    plan: Plan,
    plan_keys: Keys,
    previous: Mapping[str, str],
    output: writer.Output,
    make: media.Maker = media.make_all,
) -> None:
    """Write into `output` the feeds, static files and image variants of `plan` whose key is not what
    `previous` (the last build's keys) says, or that `output` lacks. `make` makes the variants of
    images (the incremental layer wraps it)."""
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
    """Render and write the pages of `plan` that changed (see `write_made`); return how many."""
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
    """Everything a build would write, in memory, through the same driver as `build`; files whose key
    is in `previous` unchanged are left out. `make` makes the variants of images (`media.unmade` names
    them without making them)."""
    plan = prepare(root, progress=progress, **options)  # kept with its feeds' bytes, for the caller
    output = writer.MemoryOutput()
    made = run(root, Plain(make, previous, plan), MemoryDestination(output), progress, options)
    assert made.keys is not None
    return BuildResult(plan, made.keys, output.files, made.summary.rendered)


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
        wrapper: Layer = layer.Cached(root) if use_cache else Plain()
        try:
            return run(root, wrapper, DiskDestination(options), progress, options).summary
        finally:
            wrapper.finish()  # the article store's save, which goes on beside the build


# The one driver ------------------------------------------------------------------------------------

MakePlan = Callable[[content.Reader, media.Prober], "Plan"]


class Layer(Protocol):
    """What the driver asks of the incremental layer, in the order it asks (`layer.Cached` keeps a
    cache folder, serve's keeps the last plan in memory, `Plain` keeps nothing)."""

    restored: int  # files of a missing output folder that `look` put back (incremental/snapshot.py)

    def look(self, root: Path, options: Mapping[str, Any]) -> Path | None:
        """The output folder the build will write, from a first look at the inputs (None if unknown)."""
        ...

    def answer(self, now: datetime) -> Mapping[str, Any] | None:
        """The last build's summary, if nothing changed since it: then nothing is planned or written."""
        ...

    def previous(self, output_dir: Path | None) -> dict[str, str]:
        """The keys of the files the last build wrote into `output_dir`."""
        ...

    def plan(self, make: MakePlan, previous: Mapping[str, str], now: datetime) -> tuple[Plan, Keys]:
        """The plan and its keys: kept and brought up to date, or `make` (the stages), read through it."""
        ...

    def make_pictures(self) -> media.Maker: ...

    def bytecode(self) -> jinja2.BytecodeCache | None: ...

    def last_search(self) -> Mapping[str, search.Part]: ...

    def committing(self) -> None:
        """The output is about to change: the last build's keys can no longer be trusted."""
        ...

    def save(self, made: Made) -> None:
        """Keep what the next build starts from."""
        ...

    def finish(self) -> None: ...


class Destination(Protocol):
    """Where a build's files go: the output folder in one transaction, or memory."""

    def recover(self, output_dir: Path | None) -> None:
        """Finish or roll back a build of `output_dir` that was killed."""
        ...

    def open(
        self, config: Config, previous: Mapping[str, str]
    ) -> contextlib.AbstractContextManager[writer.Output]:
        """The output the files are written into, until `commit`."""
        ...

    def index(
        self, plan: Plan, plan_keys: Keys, previous: Mapping[str, str], last: Mapping[str, search.Part]
    ) -> search.Searched: ...

    def commit(self, stale: Sequence[str]) -> tuple[int, Sequence[str]]:
        """Show the files written, removing the `stale` ones; how many files, and which were written."""
        ...


def run(
    root: Path, wrapper: Layer, destination: Destination, progress: Progress, options: Mapping[str, Any]
) -> Made:
    """The one driver: prepare -> keys -> write the changes into `destination`, with the incremental
    layer `wrapper` asked in one place at each step. `build`, `render_site` (and so `check`) and serve's
    rebuild all come here, and differ only in the layer and the destination."""
    started = time.perf_counter()
    output_dir = wrapper.look(root, options)
    destination.recover(output_dir)
    now = options.get("now") or datetime.now(timezone.utc)
    done = wrapper.answer(now)
    if done is not None:
        return _answered(done, started, wrapper.restored)

    def make(read: content.Reader, probe: media.Prober) -> Plan:
        return prepare(root, read=read, probe=probe, progress=progress, **options)

    previous = wrapper.previous(output_dir)
    plan, plan_keys = wrapper.plan(make, previous, now)
    config = plan.site.config
    if config.output_dir != output_dir:  # the config named another folder than the first look found
        previous = wrapper.previous(config.output_dir)
    try:
        with destination.open(config, previous) as output:
            # Feeds first: then the plan is kept without their bytes (as it is saved), and their memory
            # is given back before the render workers are forked (each maps its parent's pages).
            write_made(plan, plan_keys, previous, output, wrapper.make_pictures())
            plan = dataclasses.replace(
                plan, feeds=tuple(dataclasses.replace(o, content=b"") for o in plan.feeds)
            )
            parallel.release_memory()
            rendered = render_changes(plan, plan_keys, previous, output, progress, wrapper.bytecode())
            searched = destination.index(plan, plan_keys, previous, wrapper.last_search())
            manifest = {**plan_keys.files, **searched.files}
            wrapper.committing()
            files, written = destination.commit(sorted(set(previous) - set(manifest)))
    except SiteError as exc:
        raise BuildFailed([exc]) from None
    report = searched.report
    summary = BuildSummary(
        articles=len(plan.site.article_ids),
        collections=collections_count(plan.site),
        warnings=(*plan.warnings, *report.warnings),
        pages=len(plan.specs),
        files=files,
        seconds=time.perf_counter() - started,
        output_dir=config.output_dir,
        rendered=rendered,
        indexed=report.pages,
        index_parts=report.parts,
        index_seconds=report.seconds,
        left_out=plan.problems,  # with keep_going
        refilled=wrapper.restored,
    )
    made = Made(plan, plan_keys, manifest, written, searched, summary, whole=not previous)
    wrapper.save(made)
    return made


def _answered(done: Mapping[str, Any], started: float, refilled: int) -> Made:
    """The last build's summary said again: nothing was planned, rendered or written."""
    warned = tuple(warning_from(record) for record in done.get("warnings", ()))
    summary = BuildSummary(**{**done, "warnings": warned, "files": 0, "rendered": 0, "refilled": refilled,
                              "seconds": time.perf_counter() - started})  # fmt: skip
    return Made(None, None, {}, (), None, summary)


class Plain:
    """The layer that keeps nothing: every build plans the whole site and writes every file
    (`--no-cache`), or, given a plan and the keys of files already made, only the others."""

    restored = 0  # it keeps no snapshot to put back

    def __init__(
        self,
        make: media.Maker = media.make_all,
        previous: Mapping[str, str] | None = None,
        plan: Plan | None = None,
    ) -> None:
        self._make = make
        self._previous = dict(previous or {})
        self._plan = plan

    def look(self, root: Path, options: Mapping[str, Any]) -> Path | None:
        if self._plan is not None:
            return self._plan.site.config.output_dir
        return output_dir_of(root, options.get("output_dir"))

    def answer(self, now: datetime) -> Mapping[str, Any] | None:
        return None

    def previous(self, output_dir: Path | None) -> dict[str, str]:
        return self._previous

    def plan(self, make: MakePlan, previous: Mapping[str, str], now: datetime) -> tuple[Plan, Keys]:
        from generator.incremental.keys import keys_of

        plan = self._plan or make(content.read_content, media.probe_files)
        return plan, keys_of(plan)

    def make_pictures(self) -> media.Maker:
        return self._make

    def bytecode(self) -> jinja2.BytecodeCache | None:
        return None

    def last_search(self) -> Mapping[str, search.Part]:
        return {}

    def committing(self) -> None:
        pass

    def save(self, made: Made) -> None:
        pass

    def finish(self) -> None:
        pass


class DiskDestination:
    """The output folder, written in one transaction: the old site or the new one, even after a kill;
    the search index is made into it."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        shown = [kind for kind in ("drafts", "future") if options.get(f"include_{kind}")]
        self.marker = f"{writer.MARKER_TEXT}unpublished: {', '.join(shown) or 'none'}\n"  # deploy reads it
        self.transaction: writer.Transaction | None = None

    def recover(self, output_dir: Path | None) -> None:
        if output_dir:
            writer.recover(output_dir)

    def open(self, config: Config, previous: Mapping[str, str]) -> writer.Transaction:
        try:
            writer.check_output_dir(config.output_dir, _protected(config))
        except SiteError as exc:
            raise BuildFailed([exc]) from None
        present = {path for path, key in previous.items() if key}  # as the last build left them
        self.transaction = writer.Transaction(config.output_dir, bool(previous), self.marker, present)
        return self.transaction

    def index(
        self, plan: Plan, plan_keys: Keys, previous: Mapping[str, str], last: Mapping[str, search.Part]
    ) -> search.Searched:
        assert self.transaction is not None
        return _index_search(plan, plan_keys, previous, self.transaction, last)

    def commit(self, stale: Sequence[str]) -> tuple[int, Sequence[str]]:
        assert self.transaction is not None
        return self.transaction.commit(stale), self.transaction.written


class MemoryDestination:
    """Memory: the files of `output`, which may start with those a last build made; no search index."""

    def __init__(self, output: writer.MemoryOutput) -> None:
        self.output = output

    def recover(self, output_dir: Path | None) -> None:
        pass

    @contextlib.contextmanager
    def open(self, config: Config, previous: Mapping[str, str]) -> Iterator[writer.MemoryOutput]:
        yield self.output

    def index(
        self, plan: Plan, plan_keys: Keys, previous: Mapping[str, str], last: Mapping[str, search.Part]
    ) -> search.Searched:
        return _no_search()

    def commit(self, stale: Sequence[str]) -> tuple[int, Sequence[str]]:
        for path in stale:
            self.output.files.pop(path, None)  # a file the site no longer has
        return 0, ()


def _index_search(
    plan: Plan,
    plan_keys: Keys,
    previous: Mapping[str, str],
    transaction: writer.Transaction,
    last: Mapping[str, search.Part],
) -> search.Searched:
    """Index the article pages for search: the parts whose pages changed since the last build.
    Only files whose bytes changed are written."""
    from generator.build import search

    if not plan.site.config.search:
        return search.Searched()

    def changed(path: str, key: str) -> bool:
        return previous.get(path) != key or not transaction.holds(path)

    def is_current(part: search.Part) -> bool:
        return not any(changed(path, key) for path, key in part.files.items())

    def deliver(made: Sequence[OutputFile], keys: Mapping[str, str]) -> None:
        transaction.write(f for f in made if changed(str(f.path), keys[str(f.path)]))

    def read(path: str) -> bytes:
        return transaction.locate(path).read_bytes()

    parts = plan.search_parts
    done = search.reindex(parts, plan_keys.search, last, read, deliver, transaction.work, is_current)
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
    return search.Searched(report, files, done.parts)


def _no_search() -> search.Searched:
    from generator.build import search

    return search.Searched()


def collections_count(site: Site) -> int:
    return sum(1 for c in site.collections if c.article_ids)


def _protected(config: Config) -> list[Path]:
    return [config.root, config.content_dir, config.root / "themes", config.root / "config.yaml"]
