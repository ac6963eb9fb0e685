"""Parsed articles kept between builds: one row each in an SQLite file of the cache folder.

A build that renders a few pages of a large site reads the few hundred rows
those pages show, and an edit writes the rows of the articles it parsed:
neither reads nor writes the whole store (at 50,000 articles that is 300 MB).
Each row is sealed on its own (`seal.py`) and holds one pickled article; a
row whose seal does not match, or whose article is not the one it is stored
under, reads as missing. A killed build leaves SQLite's journal, which the
next connection rolls back; a damaged file is removed and made again.
Losing the store only costs time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import pickle
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from generator.base.model import Article
from generator.incremental import seal
from generator.incremental.seal import DAMAGED

FILE = "articles.sqlite"
# Of the rows (3: one sealed pickled article each), and the fields an article has.
_FORMAT = (3, *(f.name for f in dataclasses.fields(Article)))
_SCHEMA = (
    "create table if not exists meta (name text primary key, value text not null)",
    "create table if not exists articles (hash text primary key, blob blob not null)",
)


class StoredArticles(Mapping[str, Article]):
    """Parsed articles by source hash, as the store keeps them: each read and unpickled when first
    asked for."""

    def __init__(self, store: ArticleStore | None = None, hashes: Iterable[str] = ()) -> None:
        self._store = store
        self._hashes = frozenset(hashes)
        self._loaded: dict[str, Article] = {}

    def __getitem__(self, source_hash: str) -> Article:
        article = self._loaded.get(source_hash)
        if article is None:
            blob = self._store.blob(source_hash) if self._store and source_hash in self._hashes else None
            try:
                article = seal.loads(blob) if blob else None
            except DAMAGED as exc:
                raise KeyError(source_hash) from exc  # parsed again, as if never stored
            if not isinstance(article, Article) or article.source_hash != source_hash:
                raise KeyError(source_hash)  # not what it is stored under: parsed again
            self._loaded[source_hash] = article
        return article

    def __contains__(self, source_hash: object) -> bool:
        return source_hash in self._hashes

    def __iter__(self) -> Iterator[str]:
        return iter(self._hashes)

    def __len__(self) -> int:
        return len(self._hashes)


class ArticleStore:
    """The article rows of one cache folder; every read tolerates a missing or damaged file, and a
    folder that cannot be written only leaves the build without a store."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE
        self._db: sqlite3.Connection | None = None
        self._pid = 0  # of the process that opened `_db`: a forked worker opens its own

    def load(self, fingerprint: str) -> StoredArticles:
        """The articles stored under `fingerprint` (see `cache.parse_fingerprint`)."""
        try:
            db = self._connect(create=False)
            if db is None or self._fingerprint(db) != _stamp(fingerprint):
                return StoredArticles()
            return StoredArticles(self, [h for (h,) in db.execute("select hash from articles")])
        except sqlite3.Error as exc:
            self._failed(exc)
            return StoredArticles()

    def blob(self, source_hash: str) -> bytes | None:
        """The unsealed pickle of the article stored under `source_hash`, if its seal holds."""
        try:
            db = self._connect(create=False)
            if db is None:
                return None
            row = db.execute("select blob from articles where hash = ?", (source_hash,)).fetchone()
        except sqlite3.Error:
            return None
        return seal.unseal(row[0]) if row and isinstance(row[0], bytes) else None

    def save(self, fingerprint: str, articles: Iterable[Article]) -> None:
        """Keep exactly `articles` (a whole build's): rows of others are deleted, and only rows of
        articles not stored yet are written."""
        wanted = {a.source_hash: a for a in articles}
        self._change(fingerprint, wanted, None)

    def add(self, fingerprint: str, articles: Iterable[Article], replaced: Iterable[str] = ()) -> None:
        """Store `articles` parsed outside a whole build, deleting the rows of `replaced` source
        hashes; nothing if the store holds articles of another fingerprint."""
        self._change(fingerprint, {a.source_hash: a for a in articles}, set(replaced))

    def _change(self, fingerprint: str, wanted: Mapping[str, Article], replaced: set[str] | None) -> None:
        try:
            db = self._connect(create=True)
            if db is None:
                return
            db.execute("begin immediate")
            try:
                if self._fingerprint(db) != _stamp(fingerprint):
                    if replaced is not None:
                        db.execute("rollback")
                        return  # rows of another fingerprint: the next whole build replaces them
                    db.execute("delete from articles")
                    stamp = _stamp(fingerprint)
                    db.execute("insert or replace into meta values ('fingerprint', ?)", (stamp,))
                have = {h for (h,) in db.execute("select hash from articles")}
                gone = (have - wanted.keys()) if replaced is None else (replaced & have) - wanted.keys()
                db.executemany("delete from articles where hash = ?", [(h,) for h in gone])
                # Pickled one at a time: a whole build's would hold 300 MB at 50,000 articles.
                rows = ((h, seal.seal(_pickled(a))) for h, a in wanted.items() if h not in have)
                db.executemany("insert into articles values (?, ?)", rows)
                db.execute("commit")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("rollback")
                raise
        except sqlite3.Error as exc:
            self._failed(exc)

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._db is not None and self._pid == os.getpid():
            return self._db
        self._db = None  # a forked worker never uses its parent's connection
        if not create and not self.path.exists():
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # A lost store only costs time, and each row is sealed: no waiting for the disk.
        db.execute("pragma synchronous = off")
        for statement in _SCHEMA:
            db.execute(statement)
        self._db, self._pid = db, os.getpid()
        return db

    def _fingerprint(self, db: sqlite3.Connection) -> str | None:
        row = db.execute("select value from meta where name = 'fingerprint'").fetchone()
        return str(row[0]) if row else None

    def _failed(self, error: sqlite3.Error) -> None:
        """Remove a store that SQLite cannot read (damaged, or not a database): it is made again on
        save. One that is locked by another process, or cannot be written, is left as it is."""
        self.close()
        if isinstance(error, sqlite3.OperationalError):
            return
        for path in (self.path, self.path.with_name(self.path.name + "-journal")):
            with contextlib.suppress(OSError):
                path.unlink()


def _stamp(fingerprint: str) -> str:
    return json.dumps([_FORMAT, fingerprint])


def _pickled(article: Article) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(article)
    return out.getvalue()


class _Pickler(pickle.Pickler):
    """Pickles an article's long texts from copies of them.

    Pickling a `str` that is not ASCII leaves its UTF-8 encoding cached on the
    string for as long as it lives (CPython keeps what `PyUnicode_AsUTF8AndSize`
    makes), and smart quotes make nearly every article's HTML non-ASCII: storing a
    whole build's articles made the build hold 270 MB more at 50,000 articles,
    its peak. A copy's encoding goes with the copy.
    """

    def reducer_override(self, obj: object) -> Any:
        if type(obj) is not Article:
            return NotImplemented
        function, values = obj.__reduce__()
        return function, tuple(map(_detached, values))


def _detached(value: object) -> object:
    if type(value) is str and len(value) > 256 and not value.isascii():
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    return value
