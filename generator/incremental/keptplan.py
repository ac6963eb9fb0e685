"""The last build's plan and keys, kept in the cache so that the next `digest build` can start from them.

After an edit of a few articles' text, grouping, linking and keying thousands
of articles again would cost more than the rest of the build. The plan is
kept as it was (specs, links, feeds and its keys, but not the articles
themselves: the article cache lends those one at a time, when a page or feed
needs one), with the `frame` of inputs it was made from (everything but the
articles' texts) and the time stamp and size of every article file.
`layer.refresh` then redoes what the changed files change, or says that
a whole plan is needed. Nothing here imports the orchestrator or makes a renderer.

A kept plan is only ever used for the frame it was made from, and is
consistent in itself, so an old one is as safe as the newest; losing it
only costs time. Its feeds are kept without their bytes (a feed is written
again only when its key changes, and then it is made again): see
`has_feed_bytes`.
"""

from __future__ import annotations

import copyreg
import dataclasses
import io
import pickle
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from generator.base.model import Article, Collection, Config, OutputFile, Site, Tag
from generator.build.pages import Links, PageSpec
from generator.build.plan import Plan
from generator.build.theme import Theme
from generator.incremental import seal
from generator.incremental.cache import BuildCache, FileStat, parse_fingerprint
from generator.incremental.keys import Keys
from generator.incremental.seal import DAMAGED

FILE = "plan.pickle"
CHANGES = "plan-changes.pickle"  # what builds from the kept plan changed since it was written whole
FORMAT = 3
MAX_CHANGES = 5_000  # entries the changes may hold before the whole plan is written again


Entry = tuple[str, tuple[str, ...]]  # an article's source hash and collection keys


class SiteArticles(Mapping[str, Article]):
    """A site's articles by id, each taken from the article cache when first used.

    The cache keeps articles as parsed, with the collection names they give;
    `entries` has each one's source hash and the collection keys those became.
    """

    def __init__(
        self,
        entries: Mapping[str, Entry],
        stored: Mapping[str, Article],
        loaded: Mapping[str, Article] | None = None,  # articles already at hand, by id
    ) -> None:
        self.entries = entries
        self._stored = stored
        self._loaded: dict[str, Article] = dict(loaded or {})

    def __getitem__(self, article_id: str) -> Article:
        article = self._loaded.get(article_id)
        if article is None:
            source_hash, collections = self.entries[article_id]
            article = self._stored[source_hash]
            if article.collections != collections:
                article = dataclasses.replace(article, collections=collections)
            self._loaded[article_id] = article
        return article

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def updated(self, fresh: Mapping[str, Article]) -> SiteArticles:
        """These articles with `fresh` (by id, collections resolved) in place of the ones they had."""
        entries = {**self.entries, **article_entries(fresh)}
        return SiteArticles(entries, self._stored, {**self._loaded, **fresh})


@dataclass(frozen=True, slots=True)
class _Kept:
    """A kept plan as it was written whole: what its changes are a difference from."""

    generation: str  # made anew each time the plan is written whole
    frame: str
    keys: Keys
    entries: Mapping[str, Entry]
    stats: Mapping[str, FileStat]
    specs: Mapping[str, bytes]  # the pickled specs the changes already replace


class StoredSpecs(Mapping[str, PageSpec]):
    """A plan's page specs by output path, each unpickled when first used; `changed` ones
    (by `updated`) in place of what was stored, which was `kept`."""

    def __init__(
        self,
        blobs: Mapping[str, bytes],
        changed: Mapping[str, PageSpec] | None = None,
        kept: _Kept | None = None,
    ) -> None:
        self._blobs = blobs
        self._changed = dict(changed or {})
        self._loaded: dict[str, PageSpec] = {}
        self.kept = kept

    def __getitem__(self, path: str) -> PageSpec:
        spec = self._changed.get(path) or self._loaded.get(path)
        if spec is None:
            spec = self._loaded[path] = seal.loads(self._blobs[path])
        return spec

    def __contains__(self, path: object) -> bool:
        return path in self._blobs

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)

    def updated(self, changes: Mapping[str, PageSpec]) -> StoredSpecs:
        """These specs with `changes` (by path, each path one of theirs) in place of the ones they had."""
        return StoredSpecs(self._blobs, {**self._changed, **changes}, self.kept)

    def changed_blobs(self) -> dict[str, bytes]:
        """The specs changed since they were stored, pickled."""
        return {path: _pickled(spec) for path, spec in self._changed.items()}

    def blobs(self) -> dict[str, bytes]:
        """Each spec pickled: as stored, unless changed."""
        return {
            path: _pickled(self._changed[path]) if path in self._changed else blob
            for path, blob in self._blobs.items()
        }


def _pickled(item: object) -> bytes:
    return pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)


def article_entries(articles: Mapping[str, Article]) -> dict[str, Entry]:
    """The `Entry` of each article, by id, without loading the articles of a `SiteArticles`."""
    if isinstance(articles, SiteArticles):
        return dict(articles.entries)
    return {i: (a.source_hash, a.collections) for i, a in articles.items()}


def save(cache: BuildCache, frame: str, stats: Mapping[str, FileStat], plan: Plan, keys: Keys) -> None:
    """Keep `plan` and its `keys`, made from the inputs `frame` and the article files as `stats` says.

    A plan brought up to date from a kept one (`keys.with_new_text`) is kept as what changed since
    that one was written whole, in a small file beside it: an edit does not write 60 MB at 50,000
    articles. When the changes grow past `MAX_CHANGES` entries, the whole plan is written again.
    """
    specs = plan.specs
    kept = specs.kept if isinstance(specs, StoredSpecs) else None
    changes = _changes_since(kept, frame, stats, plan, keys) if kept else None
    if changes is not None and sum(len(v) for v in changes.values() if isinstance(v, dict)) <= MAX_CHANGES:
        cache.write(CHANGES, _dump(changes))
        return
    site = plan.site
    data = {
        "format": _format(),
        "generation": secrets.token_hex(8),
        "frame": frame,
        "stats": dict(stats),
        "entries": article_entries(site.articles),
        # Feeds without their bytes: the keys say which changed, and the output folder holds the rest.
        "plan": dataclasses.replace(
            plan, site=dataclasses.replace(site, articles={}), specs={}, feeds=_bare(plan)
        ),
        "specs": (
            specs.blobs()
            if isinstance(specs, StoredSpecs)
            else {path: _pickled(spec) for path, spec in specs.items()}
        ),
        "keys": keys,
    }
    cache.write(FILE, _dump(data))
    cache.remove(CHANGES)  # made for the plan written before; never applied to this one (`generation`)


def _changes_since(
    kept: _Kept, frame: str, stats: Mapping[str, FileStat], plan: Plan, keys: Keys
) -> dict[str, Any] | None:
    """What differs between `plan` and `keys` (brought up to date from `kept`) and `kept`; None if
    more than the text of some articles changed (then the whole plan is written)."""
    base = kept.keys
    same = keys.shown_on is base.shown_on and keys.templates is base.templates and keys.site == base.site
    entries = article_entries(plan.site.articles)
    mappings = ((keys.files, base.files), (keys.search, base.search), (keys.articles, base.articles))
    mappings += ((entries, kept.entries), (stats, kept.stats))  # type: ignore[assignment]
    if not same or kept.frame != frame or any(now.keys() != then.keys() for now, then in mappings):
        return None
    files, search, articles, entries_changed, stats_changed = (
        {k: v for k, v in now.items() if then[k] != v} for now, then in mappings
    )
    assert isinstance(plan.specs, StoredSpecs)
    return {
        "base": kept.generation,
        "specs": {**kept.specs, **plan.specs.changed_blobs()},
        "files": files,
        "search": search,
        "articles": articles,
        "entries": entries_changed,
        "stats": stats_changed,
        "feeds": _bare(plan),
    }


def load(cache: BuildCache, frame: str) -> tuple[Plan, Keys, Mapping[str, FileStat]] | None:
    """The plan and keys kept for `frame`, and the article files' stats they were made from; or None."""
    data = _read(cache, FILE)
    if data is None or data.get("format") != _format() or data.get("frame") != frame:
        return None
    plan: Plan = data["plan"]
    stored = cache.load_articles(parse_fingerprint(plan.site.config))
    base: Keys = data["keys"]
    kept = _Kept(data["generation"], frame, base, data["entries"], data["stats"], {})
    keys, entries, stats, specs = base, dict(kept.entries), dict(kept.stats), data["specs"]
    changes = _read(cache, CHANGES)
    if changes is not None and changes.get("base") == kept.generation:
        kept = dataclasses.replace(kept, specs=changes["specs"])
        specs = {**specs, **changes["specs"]}
        keys = dataclasses.replace(
            base,
            files={**base.files, **changes["files"]},
            search={**base.search, **changes["search"]},
            articles={**base.articles, **changes["articles"]},
        )
        entries.update(changes["entries"])
        stats.update(changes["stats"])
        plan = dataclasses.replace(plan, feeds=changes["feeds"])
    if not all(h in stored for h, _ in entries.values()):
        return None  # the article cache lost some of them: a whole plan is needed
    site = dataclasses.replace(plan.site, articles=SiteArticles(entries, stored))
    plan = dataclasses.replace(plan, site=site, specs=StoredSpecs(specs, kept=kept))
    return plan, keys, stats


def _read(cache: BuildCache, name: str) -> dict[str, Any] | None:
    blob = cache.read(name)
    try:
        data = seal.loads(blob) if blob else None
    except DAMAGED:
        return None
    return data if isinstance(data, dict) else None


def _dump(data: object) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, MappingProxyType: _reduce_proxy}
    pickler.dump(data)
    return out.getvalue()


def _bare(plan: Plan) -> tuple[OutputFile, ...]:
    """The plan's feeds without their bytes."""
    return tuple(dataclasses.replace(o, content=b"") for o in plan.feeds)


def has_feed_bytes(plan: Plan, paths: object) -> bool:
    """True unless a feed among `paths` (those a build must write) is one kept without its bytes."""
    wanted = set(paths)  # type: ignore[call-overload]
    return all(o.content for o in plan.feeds if str(o.path) in wanted)


def _format() -> tuple[object, ...]:
    """The version of this file's layout, and the fields of the types it holds: a plan kept by
    another version of the generator is not used."""
    types = (Plan, Keys, PageSpec, Links, Site, Config, Collection, Tag, Theme)
    return (FORMAT, *((t.__name__, *(f.name for f in dataclasses.fields(t))) for t in types))


def _reduce_proxy(mapping: MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return (_proxy, (dict(mapping),))


def _proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)
