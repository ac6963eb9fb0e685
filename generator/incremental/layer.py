"""The incremental layer around the plain build: the cache, the kept plan and the quick answers.

The plain build (`pipeline.prepare`: config -> theme -> articles -> site ->
plan) knows nothing of this module. Here, around it: a first look at the
inputs (file names, times and sizes) says whether anything changed since the
last build; if only some articles' text did, the last build's plan and keys
(`keptplan`) are brought up to date (`refresh`); otherwise a whole plan is
made, with articles read through the cache (`cache.read_through`). Anything
this layer is unsure of falls back to the whole plan.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.base.errors import BuildFailed, warning_record
from generator.base.hashing import code_key, stable_hash
from generator.base.model import CACHE_DIR, Article, BuildSummary, Config, Picture, Progress, Showing
from generator.build import content, contentfiles, media, theme, writer
from generator.build.config import load_config, output_dir_of
from generator.incremental import snapshot
from generator.incremental.cache import (
    BuildCache,
    FileStat,
    KnownFile,
    file_stat,
    parse_fingerprint,
    read_through,
    stat_files,
)

if TYPE_CHECKING:
    import jinja2

    from generator.build import search
    from generator.build.plan import Plan
    from generator.incremental.keys import Keys

# The layer's plan and keys pull in Jinja and the grouping stages: they are imported where they are
# used, so that a build with nothing to do answers from a few thousand stats.


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a build reads, as a first look finds it: file names, times and sizes, hashed."""

    signature: str  # a hash of all of it
    frame: str  # a hash of all but the article files' times and sizes
    paths: list[str]  # the article files, as text, sorted
    stats: dict[str, FileStat]  # of each article file
    theme_warned: bool  # finding the theme gave warnings (which a kept plan would not repeat)
    output_dir: Path


def open_cache(root: Path) -> BuildCache:
    """The build cache of the site at `root`."""
    return BuildCache(root / CACHE_DIR)


def look(root: Path, options: Mapping[str, Any], cache: BuildCache | None = None) -> Inputs | None:
    """Hashes of everything a build of `root` reads; None if the config or theme cannot be read
    (the build's own stages then report why).

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
    others: list[str] = []  # the content folder's other files, from the same walk
    paths = contentfiles.find_articles(config, others)
    stats = stat_files(paths)
    files: list[str] = [config.source.read_text(encoding="utf-8") if config.source else "", *paths]
    # The other files by their bytes' hash, not their times: a fresh clone (a CI build) gives every
    # file a new time. A file whose stat is what the last look saw keeps the hash it had then.
    known = cache.load_input_hashes() if cache else {}
    hashes: dict[str, tuple[FileStat, str]] = {}
    for folder in theme.input_folders(config, chosen_theme):
        for path in others if folder == config.content_dir else contentfiles.walk_files(folder):
            with contextlib.suppress(OSError):
                stat = file_stat(os.stat(path))
                last = known.get(path)
                digest = last[1] if last and last[0] == stat else stable_hash(Path(path).read_bytes())
                hashes[path] = (stat, digest)
                files.append(f"{path}|{digest}")
    if cache and hashes != known:
        cache.save_input_hashes(hashes)
    settings = {k: v for k, v in options.items() if k not in ("now", "progress")}
    frame = stable_hash(code_key(), repr(config), repr(sorted(settings.items())), *files)
    signature = stable_hash(frame, repr([(path, stats.get(path)) for path in paths]))  # one repr: fast
    return Inputs(signature, frame, paths, stats, bool(warnings), config.output_dir)


def reader(cache: BuildCache, inputs: Inputs | None = None) -> content.Reader:
    """The content stage through `cache`, over the article files `inputs` found (or a new look)."""

    def read(config: Config, progress: Progress, showing: Showing) -> tuple[tuple[Article, ...], list[Any]]:
        if inputs is not None:
            paths, stats = inputs.paths, inputs.stats
        else:
            paths = contentfiles.find_articles(config)
            stats = stat_files(paths)
        return read_through(cache, config, paths, stats, progress, showing)

    return read


def refill(cache: BuildCache, output_dir: Path | None) -> Callable[[], int] | None:
    """Begin putting a missing output folder back from the cache's snapshot of it (see
    `snapshot.py`), after finishing or rolling back a build that was killed: call what this returns
    to wait for it, and for how many files; None if there is nothing to put back."""
    if output_dir is None or output_dir.exists():
        return None
    writer.recover(output_dir)
    stats = cache.manifest_stats(output_dir) if not output_dir.exists() else {}
    if not stats:
        return None
    restoring = snapshot.restore(cache, output_dir, stats)

    def finish() -> int:
        restored = restoring()
        if restored:  # each file was just checked: the output check need not look at them again
            cache.output_checked(output_dir, len(stats), sorted(stats.keys() - set(restored)))
        return len(restored)

    return finish


def prober(cache: BuildCache) -> media.Prober:
    """The media stage's look at files through `cache`: a file whose time stamp and size are what
    the last build saw is not read again."""

    def probe(paths: Sequence[Path]) -> Mapping[Path, media.Facts]:
        return cache.probe_through(paths, media.probe_files)

    return probe


def picture_maker(cache: BuildCache) -> media.Maker:
    """`media.make_all` through `cache`: the variants of an image made before with the same bytes
    and settings are read from the cache, never made again; those made now are kept. Social cards
    are drawn: keeping each in a file of its own would cost more than drawing it."""

    def make(pictures: Sequence[Picture], quality: int) -> Iterator[Mapping[str, bytes | Path]]:
        todo: dict[str, list[Picture]] = {}  # by key: one image used by several articles is made once
        drawn = [p for p in pictures if p.card is not None]  # social cards: 2 ms each, never kept here
        # (a missing output folder gets them back from the snapshot, `snapshot.py`)
        yield from media.make_all(drawn, quality)
        for picture in pictures:
            if picture.card is not None:
                continue
            kept = cache.load_variants(picture)
            if kept is None:
                todo.setdefault(picture.key, []).append(picture)
            else:
                yield kept
        first = [same[0] for same in todo.values()]
        for picture, made in zip(first, media.make_all(first, quality), strict=True):
            cache.save_variants(picture, made)
            for user in todo[picture.key]:
                yield {user.variant(w, f): made[picture.variant(w, f)] for _, w, f in picture.variants()}

    return make


def picture_files(cache: BuildCache, folder: Path) -> media.Maker:
    """`picture_maker(cache)`, each variant written into `folder` and given by its file there:
    `digest serve` then keeps paths in memory, not the bytes of every variant (half a megabyte a
    photo). Each file is replaced in one step, so the server never reads one half written."""
    made = picture_maker(cache)

    def make(pictures: Sequence[Picture], quality: int) -> Iterator[Mapping[str, bytes | Path]]:
        folder.mkdir(parents=True, exist_ok=True)
        for variants in made(pictures, quality):
            files: dict[str, bytes | Path] = {}
            for path, data in variants.items():
                name = hashlib.blake2b(path.encode("utf-8"), digest_size=16).hexdigest() + Path(path).suffix
                temporary = folder / f".{name}.{os.getpid()}"
                temporary.write_bytes(data if isinstance(data, bytes) else data.read_bytes())
                os.replace(temporary, folder / name)
                files[path] = folder / name
            yield files

    return make


def preview_folder(cache: BuildCache) -> Path:
    """A folder of this process in the cache folder, for `picture_files`; those of processes that
    are gone are removed."""
    from generator.base.lock import process_alive

    with contextlib.suppress(OSError):
        for found in cache.folder.glob("preview-*"):
            pid = found.name.removeprefix("preview-")
            if pid.isdigit() and not process_alive(int(pid)) and found.is_dir() and not found.is_symlink():
                shutil.rmtree(found, ignore_errors=True)
    return cache.folder / f"preview-{os.getpid()}"


def refresh(
    plan: Plan, plan_keys: Keys, paths: frozenset[Path], cache: BuildCache | None, now: datetime
) -> tuple[Plan, Keys] | None:
    """`plan` and its keys with the article files `paths` read again, if only their text changed
    (see `keys.with_new_text`); None when anything more may have changed (another file, front
    matter, an error, an article falling due): then a whole plan is needed."""
    site = plan.site
    config = site.config
    if not paths or (plan.next_change and now >= plan.next_change):
        return None
    if not all(path.is_relative_to(config.content_dir) for path in paths):
        return None
    if any(path.relative_to(config.content_dir).as_posix() not in site.articles for path in paths):
        return None  # a new, removed, unpublished or other file
    from generator.build import topics
    from generator.incremental import keys

    parsed, errors = content.parse_files(sorted(paths), config)
    resolved, _, problems = topics.resolve_collections(parsed, config)
    if errors or problems or len(resolved) != len(paths):
        return None
    # As `media.attach` gives them, and marked as the preview marked them (front matter is unchanged).
    fresh = {a.id: replace(media.with_bundle_cover(a), status=site.articles[a.id].status) for a in resolved}
    if any(a.kind != site.articles[a.id].kind for a in fresh.values()):
        return None  # a section that the site made a page (`topics.assemble_site`), or the reverse
    updated = keys.with_new_text(plan, plan_keys, fresh)
    if updated is not None and cache:
        cache.remember(parse_fingerprint(config), parsed, [site.articles[i].source_hash for i in fresh])
    return updated


def kept_plan(cache: BuildCache, inputs: Inputs, now: datetime) -> tuple[Plan, Keys] | None:
    """The last build's plan and keys, brought up to date if only some articles' text changed
    since; else None."""
    from generator.incremental import keptplan

    found = None if inputs.theme_warned else keptplan.load(cache, inputs.frame)
    if found is None:
        return None
    plan, plan_keys, stats = found
    changed = new_text(cache, [p for p in inputs.paths if inputs.stats.get(p) != stats.get(p)], inputs.stats)
    if not changed:
        return (plan, plan_keys) if not plan.next_change or now < plan.next_change else None
    return refresh(plan, plan_keys, changed, cache, now)


def new_text(cache: BuildCache, paths: Sequence[str], stats: Mapping[str, FileStat]) -> frozenset[Path]:
    """Of the article files `paths`, whose time or size is not what the last build saw, those whose
    bytes changed too. A checkout or a fresh clone (a CI build) gives every file a new time: its
    text, hashed, says that nothing else changed. The files found the same are known by their new
    stats from now on."""
    known = cache.load_file_stats()
    changed: set[Path] = set()
    same: dict[str, KnownFile] = {}
    for text in paths:
        path, last, stat = Path(text), known.get(text), stats.get(text)
        try:
            if last is None or stat is None or contentfiles.source_hash(path, path.read_bytes()) != last[4]:
                changed.add(path)
            else:
                same[text] = (*stat, last[4])
        except OSError:
            changed.add(path)
    if same:
        cache.save_file_stats({**known, **same})
    return frozenset(changed)


def last_summary(cache: BuildCache, inputs: Inputs, now: datetime) -> dict[str, Any] | None:
    """The last build's summary if it read exactly these `inputs`, nothing has fallen due since,
    and every file it wrote is still there as it left it; its output folder's marker then says
    "current"."""
    done = cache.load_state(inputs.signature, now)
    if done is None:
        return None
    output_dir = Path(done["output_dir"])
    if not writer.is_ours(output_dir) or not cache.output_intact(output_dir):
        return None  # a file is gone or was changed by hand
    os.utime(output_dir / writer.MARKER)  # checked against the sources: current
    return done


def last_search(cache: BuildCache) -> dict[str, search.Part]:
    """The search index's parts as the last build left them."""
    from generator.build.search import Part

    return {
        name: Part(
            part["key"],
            part["files"],
            part.get("pages", {}),
            part.get("texts", {}),
            part.get("hidden", {}),
            str(part.get("tool", "")),
        )
        for name, part in cache.load_search().items()
    }


def save_search(cache: BuildCache, parts: Mapping[str, search.Part]) -> None:
    cache.save_search(
        {
            name: {
                "key": p.key,
                "files": dict(p.files),
                "pages": dict(p.pages),
                "texts": dict(p.texts),
                "hidden": dict(p.hidden),
                "tool": p.tool,
            }
            for name, p in parts.items()
        }
    )


def save(cache: BuildCache, inputs: Inputs, plan: Plan, plan_keys: Keys) -> None:
    """Keep the plan and keys for the next build, which starts from them if only text changed."""
    from generator.incremental import keptplan

    keptplan.save(cache, inputs.frame, inputs.stats, plan, plan_keys)


@dataclass(frozen=True, slots=True)
class Made:
    """One run of the driver: its plan and keys, every output file's key, and the summary."""

    plan: Plan | None  # None when the last build's summary was said again
    keys: Keys | None
    manifest: Mapping[str, str]
    written: Sequence[str]
    searched: search.Searched | None  # None when the last build's summary was said again
    summary: BuildSummary
    whole: bool = False  # every file was written (no earlier output to build on)


class Cached:
    """The layer of `digest build`: the cache folder of the site at `root`, asked by the driver at each
    step (`pipeline.Layer`): a first look, the last summary when nothing changed, the kept plan brought
    up to date, articles and images read through the cache, and what the next build starts from."""

    def __init__(self, root: Path) -> None:
        self.cache = open_cache(root)
        self.inputs: Inputs | None = None
        self.restored = 0  # files of the output folder put back from the cache's snapshot

    def look(self, root: Path, options: Mapping[str, Any]) -> Path | None:
        restoring = refill(self.cache, output_dir_of(root, options.get("output_dir")))
        if restoring is None:
            self.cache.start_output_check()  # beside the first look
        self.inputs = look(root, options, self.cache)  # while the workers put site/ back, if it is gone
        self.restored = restoring() if restoring else 0
        if restoring and not self.restored:
            self.cache.start_output_check()
        if self.inputs:
            return self.inputs.output_dir
        return output_dir_of(root, options.get("output_dir"))

    def answer(self, now: datetime) -> Mapping[str, Any] | None:
        self.cache.clean()
        return last_summary(self.cache, self.inputs, now) if self.inputs else None

    def previous(self, output_dir: Path | None) -> dict[str, str]:
        """The keys of the files the last build wrote into `output_dir` ("" for one not as it left it)."""
        if output_dir is None or not writer.is_ours(output_dir):
            return {}
        return self.cache.load_manifest(output_dir)

    def plan(
        self, make: Callable[[content.Reader, media.Prober], Plan], previous: Mapping[str, str], now: datetime
    ) -> tuple[Plan, Keys]:
        from generator.incremental import keptplan
        from generator.incremental.keys import keys_of

        found = kept_plan(self.cache, self.inputs, now) if self.inputs else None
        if found is not None:
            kept, kept_keys = found
            due = [
                str(o.path) for o in kept.feeds if previous.get(str(o.path)) != kept_keys.files[str(o.path)]
            ]
            if keptplan.has_feed_bytes(kept, due):
                return found
            # a feed the output lacks was kept without its bytes: make the whole plan
        plan = make(reader(self.cache, self.inputs), prober(self.cache))
        return plan, keys_of(plan)

    def make_pictures(self) -> media.Maker:
        return picture_maker(self.cache)

    def bytecode(self) -> jinja2.BytecodeCache | None:
        from generator.incremental.compiled import sealed_bytecode

        return sealed_bytecode(self.cache.folder / "jinja")

    def last_search(self) -> Mapping[str, search.Part]:
        return last_search(self.cache)

    def committing(self) -> None:
        self.cache.forget_output()  # until the commit is done, no build may trust the last one's keys

    def save(self, made: Made) -> None:
        plan, plan_keys, summary = made.plan, made.keys, made.summary
        assert plan is not None and plan_keys is not None
        cache, inputs = self.cache, self.inputs
        cache.save_manifest(summary.output_dir, made.manifest, made.written)
        snapshot.sync(cache, summary.output_dir, made.manifest, made.written, made.whole)
        save_search(cache, made.searched.parts if made.searched else {})
        cache.prune_variants(p.key for p in plan.pictures)  # those of images no longer used, or changed
        if inputs is None or summary.left_out:
            return  # the next build reads the files left out again, and says their errors again
        if not summary.warnings:  # a kept plan would not say an edited article's warnings
            save(cache, inputs, plan, plan_keys)
        # The next build, if nothing changes, says this one's summary and warnings again.
        counts: dict[str, Any] = {
            k: getattr(summary, k) for k in ("articles", "collections", "pages", "indexed")
        }
        counts["index_parts"] = (0, summary.index_parts[1])
        counts["warnings"] = [warning_record(w) for w in summary.warnings]
        cache.save_state(
            inputs.signature, plan.next_change, {**counts, "output_dir": str(summary.output_dir)}
        )

    def finish(self) -> None:
        self.cache.finish()  # the article store's save, which goes on beside the build
