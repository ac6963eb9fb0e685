"""A CI build starts from a fresh clone: every file's time is new and there is no site/, but the
build cache is restored. Content hashes, not times, say what changed, and the site is put back from
the cache's snapshot of the last build (checked file by file against its sealed hashes), so such a
build renders and indexes nothing that did not change."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from generator.build import content
from generator.driver import pipeline
from generator.driver.pipeline import build
from generator.incremental import seal, snapshot
from tests.conftest import MakeSite, article_text, assert_same_site, run_cli

CONFIG = """\
title: Clone Digest
base_url: https://example.org/
collections:
  - {key: world, title: World}
"""


def _site(make_site: MakeSite) -> Path:
    files: dict[str, str | bytes] = {
        f"content/world/story-{n}.md": article_text(f"Story {n}", f"2020-09-{n + 1:02d}", collection="world")
        for n in range(6)
    }
    files["overrides/static/theme.css"] = "body { color: #111; }\n"
    files["content/world/notes.txt"] = "a file of the content folder\n"
    return make_site(files, CONFIG)


def _clone(root: Path, into: Path) -> None:
    """`root` as a fresh clone at the same path has it: its files copied anew (new times, inodes),
    no site/, the cache folder as a CI cache restores it."""
    shutil.copytree(root, into, ignore=shutil.ignore_patterns("site"), copy_function=shutil.copyfile)
    shutil.rmtree(root)
    into.rename(root)
    later = time.time() + 60
    for path in (root / "content").rglob("*"):
        os.utime(path, (later, later))


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = content.parse_files

    def counted(paths: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.extend(str(p) for p in paths)
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(content, "parse_files", counted)
    return parsed


def test_a_fresh_clone_with_the_cache_builds_nothing_again(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _site(make_site)
    assert run_cli("build", "--source", str(root))[0] == 0
    _clone(root, tmp_path / "copy")
    parsed = _counting(monkeypatch)
    planned: list[Path] = []
    real_prepare = pipeline.prepare
    monkeypatch.setattr(
        pipeline, "prepare", lambda root, **kw: planned.append(root) or real_prepare(root, **kw)
    )
    code, out, _ = run_cli("build", "--source", str(root))
    assert code == 0
    assert planned == []  # the last plan is used: the theme's and content's other files hashed the same
    assert "site/ was missing: " in out and "put back from the cache's copy of the last build" in out
    assert "(0 rendered), 0 files written" in out and "Search: 6 pages (en 6), up to date" in out
    assert parsed == []  # the same text under new times is not read again
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns("site", ".digest-cache"))
    build(clean, use_cache=False)
    assert_same_site(root / "site", clean / "site")
    parsed.clear()
    # An edit after it is built as any edit: one article parsed again.
    story = root / "content/world/story-2.md"
    story.write_text(story.read_text(encoding="utf-8").replace("First paragraph", "An edited paragraph"))
    summary = build(root)
    assert parsed == [str(story)] and summary.rendered < 10
    assert "An edited paragraph" in (root / "site/world/2020/09/03/story-2/index.html").read_text("utf-8")


def test_a_tampered_snapshot_publishes_nothing_it_did_not_seal(make_site: MakeSite, tmp_path: Path) -> None:
    root = _site(make_site)
    build(root)
    kept = root / ".digest-cache" / snapshot.FOLDER
    page = "world/2020/09/02/story-1/index.html"
    good = (root / "site" / page).read_bytes()
    (kept / page).unlink()  # a hard link: replaced, so that the site's own file stays as it is
    (kept / page).write_bytes(good.replace(b"Story 1", b"<script>steal()</script>"))
    (kept / "planted.html").write_bytes(b"<script>steal()</script>")
    shutil.rmtree(root / "site")
    summary = build(root)
    assert summary.refilled > 0 and summary.rendered == 1  # the changed page is made again
    assert (root / "site" / page).read_bytes() == good
    assert not (root / "site" / "planted.html").exists()


def test_a_snapshot_sealed_elsewhere_is_not_used(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _site(make_site)
    build(root)
    shutil.rmtree(root / "site")
    monkeypatch.setenv(seal.KEY_ENV, "another machine's key, not this one's")
    seal.key.cache_clear()
    try:
        summary = build(root)
    finally:
        seal.key.cache_clear()
    assert summary.refilled == 0 and summary.rendered == summary.pages  # built anew, not put back


def test_a_snapshot_that_cannot_be_linked_is_not_kept(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _site(make_site)

    def no_links(*args: Any, **kwargs: Any) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(snapshot.os, "link", no_links)
    build(root)
    assert not (root / ".digest-cache" / snapshot.FOLDER).exists()
    assert not (root / ".digest-cache" / snapshot.RECORD).exists()
    shutil.rmtree(root / "site")
    summary = build(root)
    assert summary.refilled == 0 and (root / "site/index.html").is_file()


def test_the_snapshot_follows_each_build(make_site: MakeSite, tmp_path: Path) -> None:
    root = _site(make_site)
    build(root)
    (root / "content/world/story-5.md").unlink()
    story = root / "content/world/story-0.md"
    story.write_text(story.read_text(encoding="utf-8").replace("Second paragraph", "A new paragraph"))
    build(root)
    kept = root / ".digest-cache" / snapshot.FOLDER
    site = root / "site"
    files = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert files == {p.relative_to(kept).as_posix() for p in kept.rglob("*") if p.is_file()}
    for path in files:
        assert os.path.samefile(site / path, kept / path), path  # hard links: no second copy
    shutil.rmtree(site)
    assert build(root).rendered == 0
    assert "A new paragraph" in (site / "world/2020/09/01/story-0/index.html").read_text("utf-8")
    assert not (site / "world/2020/09/06/story-5").exists()


def test_a_link_planted_in_the_snapshot_is_not_followed(make_site: MakeSite, tmp_path: Path) -> None:
    root = _site(make_site)
    build(root)
    folder = "world/2020/09/02/story-1"
    kept = root / ".digest-cache" / snapshot.FOLDER
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(kept / folder, elsewhere)  # the same bytes, in files someone else can change later
    shutil.rmtree(kept / folder)
    (kept / folder).symlink_to(elsewhere, target_is_directory=True)
    shutil.rmtree(root / "site")
    summary = build(root)
    assert summary.refilled > 0 and summary.rendered == 1
    page = root / "site" / folder / "index.html"
    assert page.read_bytes() == (elsewhere / "index.html").read_bytes()
    assert not os.path.samefile(page, elsewhere / "index.html")
