"""The build cache in `.digest-cache/`: parsed articles, and the keys of the files last written.

`read_through` wraps the content stage: a file whose time stamp and size (or
failing that, text) are as the last build saw them is not parsed again.

A parsed article is reused while its file's text and everything else that
shapes its HTML (the generator's version, the Markdown settings, the time
zone) stay the same. A page is rendered again only when its key changes: a
hash of the page's template, the site's settings and theme, and the source
hashes of the articles it shows. Losing the cache only costs time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from generator.base import durable, parallel
from generator.base.errors import SiteError
from generator.base.hashing import code_key, stable_hash
from generator.base.model import Article, Config, FieldRules, Picture, Progress, Showing, no_progress
from generator.build import content, contentfiles
from generator.build.media import Facts
from generator.incremental import seal
from generator.incremental.articlestore import ArticleStore, StoredArticles

_FILE_STATS = "files.json"
_STATE = "state.json"
_MANIFEST = "manifest.json"
_MANIFEST_CHANGES = "manifest-changes.json"
MAX_MANIFEST_CHANGES = 5_000
_SEARCH = "search.json"
_INPUTS = "inputs.json"  # the first look's hashes of the files that are not articles
_MEDIA = "media.json"  # what the media stage found of each file, and its stat then
_VARIANTS = "images"  # the variants made of each image, by its key
# (modification time, size, inode, change time): a file unchanged since it was read. Time and size
# alone miss a change that keeps both (`cp -p`, a checkout); the inode and change time catch it.
FileStat = tuple[int, int, int, int]
_Manifest = tuple[str, dict[str, str], dict[str, Any]]  # output folder, keys and stats by path
_Check = tuple[str, int, list[str]]  # output folder, number of files, those not as the build left them
KnownFile = tuple[int, int, int, int, str]  # the `FileStat` of an article file and its source hash


def parse_fingerprint(config: Config) -> str:
    """What besides its own text decides how an article parses."""
    from generator.build.markup import MARKDOWN_SETTINGS

    return stable_hash(
        code_key(), MARKDOWN_SETTINGS, repr(config.markdown_extensions), config.markdown_configs,
        config.timezone, repr(FieldRules.of(config)),
    )  # fmt: skip


def stat_files(paths: Iterable[str]) -> dict[str, FileStat]:
    """The `FileStat` of each file; one that cannot be read is left out (reading it reports why)."""
    stats: dict[str, FileStat] = {}
    for path in paths:
        try:
            stats[path] = file_stat(os.stat(path))
        except OSError:
            continue
    return stats


def file_stat(st: os.stat_result) -> FileStat:
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


def read_through(
    cache: BuildCache,
    config: Config,
    paths: Sequence[str],
    stats: Mapping[str, FileStat],
    progress: Progress = no_progress,
    showing: Showing | None = None,
) -> tuple[tuple[Article, ...], list[SiteError]]:
    """`content.read_articles` for the article files `paths` (with their `stats`), through the cache.

    A file whose time stamp and size are what the last build saw is not read; one
    whose text is (a checkout, `cp -p`) is not parsed. An article kept while it
    was not shown whose turn has come is converted now. The articles are kept
    for the next build.
    """
    fingerprint = parse_fingerprint(config)
    stored = cache.load_articles(fingerprint)
    known = cache.load_file_stats()
    found: list[Article] = []
    seen: dict[str, KnownFile] = {}
    unsure: list[str] = []
    for path in paths:
        last, stat = known.get(path), stats.get(path)
        hit = stored.get(last[4]) if last and stat and last[:4] == stat else None
        if hit is not None and last is not None:
            found.append(hit)
            seen[path] = last
        else:
            unsure.append(path)
    to_parse = []
    for path in unsure:
        hit, source_hash = _stored_text(stored, path) if stored else (None, "")
        if hit is not None and path in stats:
            found.append(hit)
            seen[path] = (*stats[path], source_hash)
        else:
            to_parse.append(path)
    parsed, errors = content.read_articles(to_parse, config, progress, showing)
    for article in parsed:
        stat = stats.get(str(article.source_location.path))
        if stat:
            seen[str(article.source_location.path)] = (*stat, article.source_hash)
    if showing is not None:
        found, problems, _ = content.finish_shown(found, showing)
        errors += problems
    articles = content.sort_newest_first([*found, *parsed])
    cache.save_articles(fingerprint, articles, beside=True)
    if seen != known:
        cache.save_file_stats(seen)
    return articles, errors


def _difference(now: Mapping[str, Any], then: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from `then` to `now`: new and changed values, and None for those gone."""
    changed: dict[str, Any] = {k: v for k, v in now.items() if then.get(k) != v}
    changed.update((k, None) for k in then.keys() - now.keys())
    return changed


def _output_stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _stored_text(stored: Mapping[str, Article], path: str) -> tuple[Article | None, str]:
    """The stored article parsed from the very text the file at `path` holds, and its source hash."""
    try:
        source_hash = contentfiles.source_hash(Path(path), Path(path).read_bytes())
    except OSError:
        return None, ""
    return stored.get(source_hash), source_hash


class BuildCache:
    """The cache folder of one site; every read tolerates a missing or damaged cache."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._store = ArticleStore(folder)
        self._loaded: tuple[str, StoredArticles] | None = None  # read once a build
        self._output_stats: dict[str, list[int]] = {}  # of the output files as the manifest knew them
        self._output_check: Callable[[], _Check | None] | None = None  # begun by `start_output_check`
        self._manifest_base: tuple[str, str, dict[str, Any], dict[str, Any]] | None = (
            None  # as last read whole
        )
        self._manifest_stats_changed: dict[str, Any] = {}  # the stats its changes file held
        self._saving: Callable[[], object] | None = None  # the article store's save, begun beside

    def load_articles(self, fingerprint: str) -> Mapping[str, Article]:
        """Parsed articles by source hash, if they were parsed under the same fingerprint."""
        self.finish()
        if self._loaded is None or self._loaded[0] != fingerprint:
            self._loaded = (fingerprint, self._store.load(fingerprint))
        return self._loaded[1]

    def save_articles(self, fingerprint: str, articles: Iterable[Article], beside: bool = False) -> None:
        """Keep exactly `articles`, a whole build's, writing only those not stored yet; `beside`, where
        it can, in a forked child process while this one goes on to plan and render (`finish` waits
        for it; at 50,000 articles the store takes 1.7 s)."""
        self._loaded = None
        self.finish()
        if not (beside and parallel.forks_beside()):
            self._store.save(fingerprint, articles)
            return
        kept = [tuple(articles)]

        def save() -> bool:
            if kept:  # else the child failed, and this process let go of the articles: no save
                self._store.save(fingerprint, kept[0])
            return bool(kept)

        self._saving = parallel.beside(save)
        # The child has its own copy now. Holding the articles here until the build ends would keep
        # the unpublished ones alive (a third of the bench corpus: 220 MB more at 50,000).
        kept.clear()

    def finish(self) -> None:
        """Wait for the article store's save begun beside this process, if there is one."""
        saving, self._saving = self._saving, None
        if saving is not None:
            saving()

    def remember(self, fingerprint: str, articles: Iterable[Article], replaced: Iterable[str] = ()) -> None:
        """Add articles parsed outside a whole build (`layer.refresh`) to the articles stored
        under `fingerprint`, in place of those whose source hashes are `replaced`."""
        self._loaded = None
        self.finish()
        self._store.add(fingerprint, articles, replaced)

    def probe_through(
        self, paths: Sequence[Path], probe: Callable[[Sequence[Path]], Mapping[Path, Facts]]
    ) -> dict[Path, Facts]:
        """`probe(paths)` for the files whose time stamp and size are not what the last build saw;
        the facts the last build found for the others."""
        try:
            known = json.loads(self.read(_MEDIA) or b"{}")
        except ValueError:
            known = {}
        known = known if isinstance(known, dict) else {}
        found: dict[Path, Facts] = {}
        stats: dict[Path, FileStat] = {}
        for path in paths:
            with contextlib.suppress(OSError):
                stats[path] = file_stat(os.stat(path))
            last = known.get(str(path))
            if isinstance(last, list) and len(last) == 2 and path in stats and last[0] == list(stats[path]):
                with contextlib.suppress(TypeError, ValueError):
                    found[path] = Facts(*last[1])
        found.update(probe([p for p in paths if p not in found]))
        kept = {str(p): [list(stats[p]), list(dataclasses.astuple(found[p]))] for p in paths if p in stats}
        if kept != known:
            self.write(_MEDIA, json.dumps(kept, separators=(",", ":")).encode("utf-8"))
        return found

    def load_variants(self, picture: Picture) -> dict[str, bytes] | None:
        """The variants of `picture` made by an earlier build, by output path, if all are kept."""
        data = self.read(f"{_VARIANTS}/{picture.key}")
        if not data:
            return None
        header, _, blobs = data.partition(b"\n")
        try:
            parts = json.loads(header)
        except ValueError:
            return None
        made, start = {}, 0
        for width, fmt, size in parts if isinstance(parts, list) else ():
            made[picture.variant(int(width), str(fmt))] = blobs[start : start + int(size)]
            start += int(size)
        wanted = {path for path, _, _ in picture.variants()}
        return made if set(made) == wanted and start == len(blobs) else None

    def save_variants(self, picture: Picture, made: Mapping[str, bytes]) -> None:
        """Keep the variants of `picture` for later builds (under its key: the same image with the
        same settings, used by any article)."""
        parts = [(w, f, len(made[path])) for path, w, f in picture.variants()]
        header = json.dumps(parts, separators=(",", ":")).encode("utf-8")
        self.write(
            f"{_VARIANTS}/{picture.key}",
            b"\n".join([header, b"".join(made[p] for p, _, _ in picture.variants())]),
        )

    def prune_variants(self, keep: Iterable[str]) -> None:
        """Remove the kept variants of images that no longer are, or are no longer made so."""
        wanted = set(keep)
        with contextlib.suppress(OSError):
            for path in (self.folder / _VARIANTS).iterdir():
                if path.name not in wanted and not path.name.startswith("."):
                    path.unlink(missing_ok=True)

    def load_file_stats(self) -> dict[str, KnownFile]:
        """What the last build knew of each article file: (mtime, size, source hash) by path."""
        try:
            stored = json.loads(self.read(_FILE_STATS) or b"null")
        except ValueError:
            return {}
        if not isinstance(stored, dict):
            return {}
        return {
            k: (int(v[0]), int(v[1]), int(v[2]), int(v[3]), str(v[4]))
            for k, v in stored.items()
            if isinstance(v, list) and len(v) == 5
        }

    def save_file_stats(self, known: Mapping[str, KnownFile]) -> None:
        self.write(_FILE_STATS, json.dumps(known, separators=(",", ":")).encode("utf-8"))

    def load_input_hashes(self) -> dict[str, tuple[FileStat, str]]:
        """The stat and hash of each file (not an article) that the last first look read."""
        try:
            stored = json.loads(self.read(_INPUTS) or b"{}")
        except ValueError:
            return {}
        found: dict[str, tuple[FileStat, str]] = {}
        for path, value in stored.items() if isinstance(stored, dict) else ():
            with contextlib.suppress(TypeError, ValueError):
                (a, b, c, d), digest = value
                found[path] = ((int(a), int(b), int(c), int(d)), str(digest))
        return found

    def save_input_hashes(self, hashes: Mapping[str, tuple[FileStat, str]]) -> None:
        self.write(_INPUTS, json.dumps(hashes, separators=(",", ":")).encode("utf-8"))

    def load_state(self, signature: str, now: datetime) -> dict[str, Any] | None:
        """The last build's summary if it read exactly these inputs and nothing has fallen due since."""
        try:
            stored = json.loads(self.read(_STATE) or b"null")
        except ValueError:
            return None
        if not isinstance(stored, dict) or stored.get("signature") != signature:
            return None
        due = stored.get("next_change")
        if due and datetime.fromisoformat(due) <= now:
            return None
        summary = stored.get("summary")
        if not isinstance(summary, dict):
            return None
        return {**summary, "output_dir": Path(summary["output_dir"])}

    def save_state(self, signature: str, next_change: datetime | None, summary: Mapping[str, Any]) -> None:
        data = {"signature": signature, "next_change": next_change.isoformat() if next_change else None}
        self.write(_STATE, json.dumps({**data, "summary": dict(summary)}).encode("utf-8"))

    def output_checked(self, output_dir: Path, files: int, changed: list[str]) -> None:
        """Take `changed` as the files of `output_dir` that are not as the last build left them, of
        `files`, without a look at each (the output was just put back: `snapshot.restore`)."""
        found: _Check = (str(output_dir), files, changed)
        self._output_check = lambda: found

    def start_output_check(self) -> None:
        """Begin checking, beside this process, that the files the last build wrote are as it left
        them (`load_manifest`, `output_intact`): the stats take turns with the build's first look."""
        self._output_check = parallel.beside(self._output_changes)

    def output_intact(self, output_dir: Path) -> bool:
        """Whether the last build wrote into `output_dir`, and every file it wrote is still there as it
        left it."""
        found = self._checked(output_dir)
        return found is not None and found[1] > 0 and not found[2]

    def load_manifest(self, output_dir: Path) -> dict[str, str]:
        """The keys of the files the last build wrote into `output_dir`, or {} if that is not known.

        A file that is gone, or was changed by hand since (its size or time is
        not what the build left), has the key "": the next build writes it again.
        """
        stored = self._stored_manifest()
        found = self._checked(output_dir, stored)
        if stored is None or found is None:
            return {}
        _, keys, stats = stored
        changed = set(found[2])
        if not changed:  # as the build left it: the stored dicts are this object's own
            self._output_stats = stats
            return keys
        self._output_stats = {p: s for p, s in stats.items() if p not in changed}
        return {path: "" if path in changed else key for path, key in keys.items()}

    def _checked(self, output_dir: Path, stored: _Manifest | None = None) -> _Check | None:
        """The output check (`_output_changes`) for `output_dir`: the one begun beside this process
        if there is one, else made now."""
        check, self._output_check = self._output_check, None
        found = check() if check else None
        if found is None or found[0] != str(output_dir):
            found = self._output_changes(stored)
        return found if found is not None and found[0] == str(output_dir) else None

    def _output_changes(self, stored: _Manifest | None = None) -> _Check | None:
        """The output folder the manifest is of, its number of files, and those of them that are not as
        the last build left them (gone, or another size or time)."""
        stored = stored or self._stored_manifest()
        if stored is None:
            return None
        out, keys, stats = stored
        prefix = os.path.join(out, "")
        stat = os.stat
        changed = []
        for path in keys:  # the tightest loop: 80,000 files of a 50,000-article site take 0.2 s
            try:
                st = stat(prefix + path)
            except OSError:
                changed.append(path)
                continue
            was = stats.get(path)
            if was is None or was[1] != st.st_mtime_ns or was[0] != st.st_size:
                changed.append(path)
        return (out, len(keys), changed)

    def manifest_stats(self, output_dir: Path) -> dict[str, list[int]]:
        """The size and time of each file the last build left in `output_dir`, as the manifest
        holds them ({} if it is of another folder, or cannot be trusted)."""
        stored = self._stored_manifest()
        if stored is None or stored[0] != str(output_dir):
            return {}
        return {p: s for p, s in stored[2].items() if isinstance(s, list)}

    def _stored_manifest(self) -> _Manifest | None:
        """The output folder, keys and stats the manifest holds (its last whole version and the
        changes since, see `save_manifest`), if it can be read and no build is writing that folder."""
        try:
            stored = json.loads(self.read(_MANIFEST) or b"null")
            changes = json.loads(self.read(_MANIFEST_CHANGES) or b"null")
        except ValueError:
            return None
        if not isinstance(stored, dict) or not isinstance(stored.get("output_dir"), str):
            return None
        keys, stats = stored.get("keys"), stored.get("stats")
        if not isinstance(keys, dict) or not isinstance(stats, dict):
            return None
        generation = stored.get("generation")
        # Without a generation (written by an earlier version), the next save writes it whole.
        self._manifest_base = (
            (stored["output_dir"], generation, dict(keys), dict(stats))
            if isinstance(generation, str)
            else None
        )
        self._manifest_stats_changed = {}
        if isinstance(changes, dict) and changes.get("base") == generation:
            if changes.get("pending") or not all(isinstance(changes.get(f), dict) for f in ("keys", "stats")):
                return None  # a build was writing the folder, and did not finish
            self._manifest_stats_changed = dict(changes["stats"])
            for found, changed in ((keys, changes["keys"]), (stats, changes["stats"])):
                for path, value in changed.items():
                    if value is None:
                        found.pop(path, None)
                    else:
                        found[path] = value
        return stored["output_dir"], keys, stats

    def save_manifest(self, output_dir: Path, keys: Mapping[str, str], written: Iterable[str] = ()) -> None:
        """Keep the keys of the files in `output_dir`, and each one's size and time: those of the files
        `written` now, or not known to be as the last build left them, are taken again.

        What changed since the manifest was last written whole is kept beside it (an edit at 50,000
        articles changes a few of 80,000 files); past `MAX_MANIFEST_CHANGES` it is written whole again.
        The stats are compared only where they can differ: those taken now, and those the changes
        file already held.
        """
        out = str(output_dir)
        known = self._output_stats  # as the manifest read by this build holds them, those intact only
        taken = {path for path in written if path in keys}
        taken.update(keys.keys() - known.keys())
        fresh = {}
        for path in taken:
            stat = _output_stat(os.path.join(out, path))
            if stat is not None:
                fresh[path] = list(stat)
        base = self._manifest_base
        if base is not None and base[0] == out:
            base_stats = base[3]
            stats_changed: dict[str, Any] = {
                path: value
                for path, value in self._manifest_stats_changed.items()
                if value is not None and path in keys and path not in taken
            }
            stats_changed.update(
                (path, fresh.get(path)) for path in taken if fresh.get(path) != base_stats.get(path)
            )
            stats_changed.update((path, None) for path in base_stats.keys() - keys.keys())
            changes = {"base": base[1], "keys": _difference(keys, base[2]), "stats": stats_changed}
            if len(changes["keys"]) + len(stats_changed) <= MAX_MANIFEST_CHANGES:
                self.write(_MANIFEST_CHANGES, json.dumps(changes, separators=(",", ":")).encode("utf-8"))
                return
        stats = {path: fresh.get(path) or known[path] for path in keys if path in fresh or path in known}
        generation = secrets.token_hex(8)
        data = {"output_dir": out, "generation": generation, "keys": dict(sorted(keys.items()))}
        data["stats"] = stats
        self.write(_MANIFEST, json.dumps(data, separators=(",", ":")).encode("utf-8"))
        self.remove(_MANIFEST_CHANGES)
        self._manifest_base = (out, generation, dict(keys), dict(stats))
        self._manifest_stats_changed = {}

    def forget_output(self) -> None:
        """Drop what the last build wrote (keys, summary, search parts): the output is about to change.
        The manifest's last whole version stays, marked as not to be trusted until `save_manifest`."""
        base = self._manifest_base
        if base is not None:
            self.write(_MANIFEST_CHANGES, json.dumps({"base": base[1], "pending": True}).encode("utf-8"))
        for name in (*(() if base is not None else (_MANIFEST,)), _STATE, _SEARCH):
            with contextlib.suppress(OSError):
                (self.folder / name).unlink()

    def clean(self) -> None:
        """Remove temporary files that a killed run left in the cache folder, and the article shards
        that versions before the article store (`articlestore.py`) kept."""
        with contextlib.suppress(OSError):
            for path in (*self.folder.glob(".*.[0-9]*"), *self.folder.glob("*/.*.[0-9]*")):
                if path.name.rsplit(".", 1)[-1].isdigit():
                    path.unlink(missing_ok=True)
            for path in self.folder.glob("articles-?.pickle"):
                path.unlink(missing_ok=True)

    def load_search(self) -> dict[str, dict[str, Any]]:
        """The search index's parts as the last build made them, by name: {"key", "files": {path: key},
        "pages": {path: key}, "texts": {path: hash}, "hidden": {path: id}} (see `search.Part`)."""
        try:
            stored = json.loads(self.read(_SEARCH) or b"null")
        except ValueError:
            return {}
        if not isinstance(stored, dict):
            return {}
        return {
            str(name): part
            for name, part in stored.items()
            if isinstance(part, dict)
            and isinstance(part.get("key"), str)
            and all(isinstance(part.get(field, {}), dict) for field in ("files", "pages", "texts", "hidden"))
        }

    def save_search(self, parts: Mapping[str, Mapping[str, Any]]) -> None:
        self.write(_SEARCH, json.dumps(parts, sort_keys=True).encode("utf-8"))

    def remove(self, name: str) -> None:
        """Remove the cache file `name`, if it is there."""
        with contextlib.suppress(OSError):
            (self.folder / name).unlink()

    def read(self, name: str) -> bytes | None:
        """The data of the cache file `name`, if it is there and this machine sealed it (`seal.py`)."""
        try:
            return seal.unseal((self.folder / name).read_bytes())
        except OSError:
            return None

    def write(self, name: str, data: bytes) -> None:
        """Keep `data` as the cache file `name`, sealed, replacing it in one step."""
        with contextlib.suppress(OSError):  # a read-only site folder still builds, only without a cache
            durable.write_atomic(self.folder / name, seal.seal(data))


class MemoryCache(BuildCache):
    """A `BuildCache` for a long-running process such as `digest serve`: it reads the disk once,
    then keeps the latest articles and file stats in memory (still writing them for later builds)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._articles: dict[str, Article] | None = None
        self._fingerprint = ""
        self._known: dict[str, KnownFile] | None = None

    def load_articles(self, fingerprint: str) -> dict[str, Article]:
        if self._articles is None or self._fingerprint != fingerprint:
            self._articles, self._fingerprint = dict(super().load_articles(fingerprint)), fingerprint
        return self._articles

    def save_articles(self, fingerprint: str, articles: Iterable[Article], beside: bool = False) -> None:
        kept = {a.source_hash: a for a in articles}
        super().save_articles(fingerprint, kept.values(), beside)
        self._articles, self._fingerprint = kept, fingerprint

    def remember(self, fingerprint: str, articles: Iterable[Article], replaced: Iterable[str] = ()) -> None:
        """Keep articles parsed outside a whole build (`layer.refresh`) for the next one, in memory
        and on disk."""
        super().remember(fingerprint, articles, replaced)
        if self._articles is not None and self._fingerprint == fingerprint:
            for source_hash in replaced:
                self._articles.pop(source_hash, None)
            self._articles.update((a.source_hash, a) for a in articles)

    def load_file_stats(self) -> dict[str, KnownFile]:
        if self._known is None:
            self._known = super().load_file_stats()
        return dict(self._known)

    def save_file_stats(self, known: Mapping[str, KnownFile]) -> None:
        super().save_file_stats(known)
        self._known = dict(known)
