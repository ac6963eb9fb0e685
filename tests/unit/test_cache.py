from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest

from generator.base import parallel
from generator.incremental import cache as cache_module
from generator.incremental import seal
from generator.incremental.cache import BuildCache, MemoryCache
from tests.conftest import make_article


def rows(folder: Path) -> dict[str, int]:
    """The article store's rows: each source hash and its row id (a rewritten row gets a new one)."""
    with closing(sqlite3.connect(folder / "articles.sqlite")) as db:
        return dict(db.execute("select hash, rowid from articles"))


def set_row(folder: Path, source_hash: str, blob: bytes) -> None:
    with closing(sqlite3.connect(folder / "articles.sqlite")) as db, db:
        db.execute("insert or replace into articles values (?, ?)", (source_hash, blob))


def test_articles_round_trip_and_a_new_fingerprint_forgets_them(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    articles = [make_article(id=f"a{i}", source_hash=f"{i:x}abc") for i in range(20)]
    cache.save_articles("fp", articles)
    loaded = cache.load_articles("fp")
    assert loaded == {a.source_hash: a for a in articles}
    assert cache.load_articles("other") == {}
    cache.save_articles("other", articles[:2])
    assert set(BuildCache(tmp_path).load_articles("other")) == {"0abc", "1abc"}
    assert BuildCache(tmp_path).load_articles("fp") == {}


def children() -> set[str]:
    """This process's child processes (Linux), finished ones not yet waited for included."""
    return {
        pid for task in Path("/proc/self/task").iterdir() for pid in (task / "children").read_text().split()
    }


def test_a_save_beside_the_build_is_done_and_its_process_gone_when_finish_returns(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    articles = [make_article(id=f"a{i}", source_hash=f"{i}h") for i in range(5)]
    before = children()
    cache.save_articles("fp", articles, beside=True)
    assert (cache._saving is not None) == parallel.forks_beside()  # a child process writes them
    cache.finish()
    assert cache._saving is None
    assert set(BuildCache(tmp_path).load_articles("fp")) == {a.source_hash for a in articles}
    assert children() == before  # waited for, not left a zombie
    cache.save_articles("fp", articles[:2], beside=True)
    assert set(cache.load_articles("fp")) == {"0h", "1h"}  # a read waits for the save


SAVED_BESIDE = """
import sys
from pathlib import Path
from generator.base import parallel
from tests.unit.test_cache import test_a_save_beside_the_build_is_done_and_its_process_gone_when_finish_returns as saved
assert parallel.forks_beside(), "one thread and two workers: the save runs in a child process"
saved(Path(sys.argv[1]))
"""


def test_the_save_beside_the_build_is_checked_in_a_child_process_too(tmp_path: Path) -> None:
    """The test above, in a process of one thread (a test runner's threads keep `beside` from forking)."""
    from tests.conftest import REPO

    env = {**os.environ, "DIGEST_WORKERS": "2"}
    done = subprocess.run([sys.executable, "-c", SAVED_BESIDE, str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_only_new_articles_are_written(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    articles = [make_article(id=f"a{i}", source_hash=f"{i % 16:x}{i}") for i in range(32)]
    cache.save_articles("fp", articles)
    before = rows(tmp_path)
    edited = [*articles[1:], make_article(id="a0", source_hash="0new")]
    cache.save_articles("fp", edited)
    after = rows(tmp_path)
    assert set(after) == set(before) - {"00"} | {"0new"}
    assert {h: after[h] for h in before if h != "00"} == {h: i for h, i in before.items() if h != "00"}


def test_storing_articles_leaves_no_copy_of_their_text_behind(tmp_path: Path) -> None:
    """CPython caches a string's UTF-8 encoding on it when pickle writes it (`sys.getsizeof` counts
    it): a whole build's stored articles would hold their text twice."""
    import sys

    body = "<p>“Quoted” text, and more of it.</p>\n" * 40
    articles = [make_article(id=f"a{i}", source_hash=f"{i}", body_html=body + str(i)) for i in range(3)]
    sizes = [sys.getsizeof(a.body_html) for a in articles]
    BuildCache(tmp_path).save_articles("fp", articles)
    assert [sys.getsizeof(a.body_html) for a in articles] == sizes
    assert BuildCache(tmp_path).load_articles("fp") == {a.source_hash: a for a in articles}
    pickle.dumps(articles[0])  # the control: what plain pickling does
    assert sys.getsizeof(articles[0].body_html) > sizes[0]


def test_memory_cache_reads_the_disk_once(tmp_path: Path) -> None:
    BuildCache(tmp_path).save_articles("fp", [make_article(source_hash="abc")])
    cache = MemoryCache(tmp_path)
    assert set(cache.load_articles("fp")) == {"abc"}
    set_row(tmp_path, "abc", b"gone")
    assert set(cache.load_articles("fp")) == {"abc"}  # from memory
    cache.save_articles("fp", [make_article(source_hash="def")])
    assert set(cache.load_articles("fp")) == {"def"}
    assert set(BuildCache(tmp_path).load_articles("fp")) == {"def"}  # and written for later builds


def test_a_damaged_cache_reads_as_empty_and_is_made_again(tmp_path: Path) -> None:
    (tmp_path / "articles.sqlite").write_bytes(b"not a database, " * 512)
    (tmp_path / "manifest.json").write_text("{", encoding="utf-8")
    cache = BuildCache(tmp_path)
    assert cache.load_articles("fp") == {}
    assert cache.load_manifest(tmp_path / "site") == {}
    assert cache.load_file_stats() == {}
    cache.save_articles("fp", [make_article(source_hash="abc")])
    assert set(BuildCache(tmp_path).load_articles("fp")) == {"abc"}


def test_articles_are_read_only_when_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles = [make_article(id=f"a{i}", source_hash=f"{i:x}abc") for i in range(8)]
    BuildCache(tmp_path).save_articles("fp", articles)
    loaded = cache_module.BuildCache(tmp_path).load_articles("fp")
    calls = []
    real = seal.unseal
    monkeypatch.setattr(seal, "unseal", lambda data: calls.append(1) or real(data))
    assert "3abc" in loaded and "zzz" not in loaded and len(loaded) == 8
    assert calls == []
    assert loaded["3abc"] == articles[3] and loaded.get("3abc") is loaded["3abc"]
    assert calls == [1]


def test_remember_writes_only_its_own_rows(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    articles = [make_article(id=f"a{i}", source_hash=f"{i % 16:x}{i}") for i in range(32)]
    cache.save_articles("fp", articles)
    before = rows(tmp_path)
    edited = make_article(id="a0", title="Edited", source_hash="1new")
    cache.remember("fp", [edited], replaced=["00"])
    after = rows(tmp_path)
    assert {h: after[h] for h in after if h != "1new"} == {h: i for h, i in before.items() if h != "00"}
    loaded = cache.load_articles("fp")
    assert "00" not in loaded and loaded["1new"] == edited
    assert {h: loaded[h] for h in loaded if h != "1new"} == {a.source_hash: a for a in articles[1:]}
    cache.remember("another", [make_article(source_hash="2new")])
    assert rows(tmp_path) == after  # rows of another fingerprint are never mixed in


def test_a_damaged_article_reads_as_missing(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    cache.save_articles("fp", [make_article(source_hash="abc"), make_article(id="b", source_hash="abd")])
    set_row(tmp_path, "abc", seal.seal(b"garbage"))
    set_row(tmp_path, "abd", seal.seal(pickle.dumps("not an article")))
    set_row(tmp_path, "abe", seal.seal(pickle.dumps(make_article(source_hash="a-different-text"))))
    set_row(tmp_path, "abf", pickle.dumps(make_article(source_hash="abf")))  # not sealed
    loaded = cache.load_articles("fp")
    assert {"abc", "abd", "abe", "abf"} <= set(loaded)
    assert not [h for h in ("abc", "abd", "abe", "abf") if loaded.get(h) is not None]


def test_beside_computes_in_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    assert threading.active_count() == 1  # else the child would not be forked
    assert parallel.beside(os.getpid)() != os.getpid()


def test_beside_computes_here_when_the_child_fails_or_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    parent = os.getpid()

    def only_here() -> int:
        if os.getpid() != parent:
            raise OSError("the child fails")
        return parent

    assert parallel.beside(only_here)() == parent
    stop = threading.Event()
    running = threading.Thread(target=stop.wait)
    running.start()
    try:
        assert parallel.beside(os.getpid)() == parent  # forking beside threads is not safe
    finally:
        stop.set()
        running.join()


def test_the_output_check_finds_files_gone_or_changed_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    for name in ("a.html", "b.html", "c.html"):
        (out / name).write_text(name, encoding="utf-8")
    cache = BuildCache(tmp_path / "cache")
    cache.save_manifest(out, {"a.html": "ka", "b.html": "kb", "c.html": "kc"})
    cache.start_output_check()
    assert cache.output_intact(out)
    (out / "a.html").write_text("defaced", encoding="utf-8")
    (out / "b.html").unlink()
    cache.start_output_check()
    assert not cache.output_intact(out)
    cache.start_output_check()
    assert cache.load_manifest(out) == {"a.html": "", "b.html": "", "c.html": "kc"}
    assert cache.load_manifest(tmp_path / "elsewhere") == {}


def test_the_manifest_keeps_its_changes_beside_it_and_a_build_in_progress_makes_it_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    out.mkdir()
    for name in ("a", "b", "c"):
        (out / name).write_text(name, encoding="utf-8")
    folder = tmp_path / "cache"
    BuildCache(folder).save_manifest(out, {"a": "1", "b": "1", "c": "1"})
    whole = (folder / "manifest.json").read_bytes()
    cache = BuildCache(folder)
    assert cache.load_manifest(out) == {"a": "1", "b": "1", "c": "1"}
    cache.forget_output()  # the build writes the folder
    assert BuildCache(folder).load_manifest(out) == {}  # were it killed now: nothing is trusted
    (out / "b").write_text("new b", encoding="utf-8")
    (out / "d").write_text("d", encoding="utf-8")
    (out / "c").unlink()
    cache.save_manifest(out, {"a": "1", "b": "2", "d": "1"}, written=["b", "d"])
    assert (folder / "manifest.json").read_bytes() == whole  # only the changes were written
    assert (folder / "manifest-changes.json").stat().st_size < 200
    assert BuildCache(folder).load_manifest(out) == {"a": "1", "b": "2", "d": "1"}
    (out / "a").write_text("by hand", encoding="utf-8")
    assert BuildCache(folder).load_manifest(out) == {"a": "", "b": "2", "d": "1"}
    monkeypatch.setattr(cache_module, "MAX_MANIFEST_CHANGES", 0)
    fresh = BuildCache(folder)
    fresh.load_manifest(out)
    fresh.save_manifest(out, {"a": "3", "b": "2", "d": "1"}, written=["a"])
    assert (folder / "manifest.json").read_bytes() != whole and not (
        folder / "manifest-changes.json"
    ).exists()
    assert BuildCache(folder).load_manifest(out) == {"a": "3", "b": "2", "d": "1"}


@pytest.mark.parametrize("seed", range(4))
def test_a_manifest_kept_as_changes_reads_back_as_the_folder_is_after_many_builds(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Builds that add, rewrite and drop files, with files changed or removed by hand between them:
    after each, the manifest (whole or its changes) holds exactly each file's key, size and time."""
    import random

    chance = random.Random(seed)
    out, folder = tmp_path / "site", tmp_path / "cache"
    out.mkdir()
    keys: dict[str, str] = {}
    for build in range(25):
        cache = BuildCache(folder)
        cache.start_output_check()
        previous = cache.load_manifest(out)
        whole = build and chance.random() < 0.2  # now and then written whole
        monkeypatch.setattr(cache_module, "MAX_MANIFEST_CHANGES", 0 if whole else 5000)
        wanted = dict(keys)
        for name in chance.sample([f"p{n}.html" for n in range(30)], 6):
            if chance.random() < 0.3:
                wanted.pop(name, None)
            else:
                wanted[name] = chance.choice(["1", "2", wanted.get(name, "1")])
        written = [p for p, k in wanted.items() if previous.get(p) != k]
        for path in written:
            (out / path).write_text(f"{path} {wanted[path]} {build}", encoding="utf-8")
        for path in set(previous) - set(wanted):
            (out / path).unlink(missing_ok=True)
        cache.save_manifest(out, wanted, written)
        stored = BuildCache(folder)._stored_manifest()
        assert stored is not None
        files = {p: [(out / p).stat().st_size, (out / p).stat().st_mtime_ns] for p in wanted}
        assert stored == (str(out), wanted, files)
        keys = wanted
        for path in chance.sample(sorted(keys), min(2, len(keys))):  # by hand, between builds
            if chance.random() < 0.5:
                (out / path).unlink()
            else:
                (out / path).write_text("by hand, and longer than any build's", encoding="utf-8")


def test_a_manifest_of_an_earlier_version_is_written_whole_again(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "a").write_text("a", encoding="utf-8")
    folder = tmp_path / "cache"
    stat = (out / "a").stat()
    legacy = {"output_dir": str(out), "keys": {"a": "1"}, "stats": {"a": [stat.st_size, stat.st_mtime_ns]}}
    BuildCache(folder).write("manifest.json", json.dumps(legacy).encode("utf-8"))  # no generation
    cache = BuildCache(folder)
    assert cache.load_manifest(out) == {"a": "1"}
    cache.save_manifest(out, {"a": "2"}, written=["a"])
    assert not (folder / "manifest-changes.json").exists()
    again = BuildCache(folder)
    again.start_output_check()
    assert again.output_intact(out) and again.load_manifest(out) == {"a": "2"}


def test_a_dead_previews_folder_of_variants_is_removed(tmp_path: Path) -> None:
    from generator.incremental import layer

    cache = BuildCache(tmp_path)
    dead, alive = tmp_path / "preview-999999999", tmp_path / f"preview-{os.getppid()}"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "a.webp").write_bytes(b"x")
    assert layer.preview_folder(cache) == tmp_path / f"preview-{os.getpid()}"
    assert not dead.exists() and alive.exists()


def test_the_cache_keys_change_with_the_code_not_only_with_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import generator
    from generator.base import hashing

    package = tmp_path / "generator"
    shutil.copytree(Path(generator.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(generator, "__file__", str(package / "__init__.py"))
    hashing.code_key.cache_clear()
    try:
        before = hashing.code_key()
        views = package / "build" / "views.py"
        views.write_text(views.read_text(encoding="utf-8") + "\n# another commit, the same version\n")
        hashing.code_key.cache_clear()
        assert hashing.code_key() != before
    finally:
        hashing.code_key.cache_clear()
