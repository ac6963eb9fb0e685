"""Incremental builds give exactly what a clean build gives, and touch only what changed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.driver.pipeline import build
from tests.conftest import FIXED_NOW, MakeSite, article_text, assert_same_site, contents, tree

CONFIG = """\
title: Incremental
base_url: https://example.org/news/
per_page: 3
collections:
  - {key: world, title: World}
  - {key: belarus, title: Solidarity with Belarus}
"""


def stamps(folder: Path) -> dict[str, int]:
    """Modification times of the site's files; the marker's is the time of the last build, by design."""
    return {
        p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".newsdigest"
    }


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    files: dict[str, str | bytes] = {}
    for i in range(14):
        collection = "world" if i % 3 else "belarus"
        tags = "[minsk, protests]" if i % 2 else "[vilnius]"
        files[f"content/{collection}/a{i:02d}.md"] = article_text(
            f"Article {i}", f"2020-09-{i + 1:02d}", tags=tags, body=f"Body of article {i}.\n"
        )
    files["overrides/templates/404.html"] = (
        "{% extends 'base.html' %}{% block main %}<p>Lost</p>{% endblock %}"
    )
    return make_site(files, config=CONFIG)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


CHANGES: dict[str, Callable[[Path], None]] = {
    "edit a body": lambda root: edit(root / "content/world/a01.md", "Body of article 1.", "A new body."),
    "edit a title": lambda root: edit(root / "content/world/a02.md", "Article 2", "Renamed article"),
    "add an article": lambda root: (root / "content/belarus/new.md").write_text(
        article_text("Brand new", "2020-10-01", tags="[minsk]"), encoding="utf-8"
    ),
    "delete an article": lambda root: (root / "content/belarus/a03.md").unlink(),
    "move to another collection": lambda root: edit(
        root / "content/world/a04.md", "title:", "collection: belarus\ntitle:"
    ),
    "add a correction": lambda root: edit(
        root / "content/world/a05.md",
        "title:",
        "corrections: [{date: 2020-09-20, text: A name was wrong.}]\ntitle:",
    ),
    "join a story": lambda root: edit(root / "content/world/a07.md", "title:", "story: Long story\ntitle:"),
    "add a source": lambda root: edit(
        root / "content/world/a04.md", "title:", "source: https://agency.example/4\ntitle:"
    ),
    "edit a template": lambda root: edit(root / "overrides/templates/404.html", "Lost", "Nothing here"),
    "add a template": lambda root: (root / "overrides/templates/tags.html").write_text(
        "{% extends 'base.html' %}{% block main %}<p>{{ tags | length }} tags</p>{% endblock %}",
        encoding="utf-8",
    ),
    "remove a template": lambda root: (root / "overrides/templates/404.html").unlink(),
    "change the config": lambda root: edit(
        root / "config.yaml", "title: Incremental", "title: Renamed digest"
    ),
    "add a static file": lambda root: (
        (root / "overrides/static").mkdir(parents=True)
        or (root / "overrides/static/extra.css").write_text("p{}", encoding="utf-8")
    ),
}


def test_every_change_rebuilds_to_exactly_what_a_clean_build_gives(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    for name, change in CHANGES.items():
        change(site)
        summary = build(site, output_dir=out, now=FIXED_NOW)
        clean = tmp_path / "clean"
        shutil.rmtree(clean, ignore_errors=True)
        build(site, output_dir=clean, now=FIXED_NOW, use_cache=False)
        assert_same_site(out, clean, name)
        if name in ("change the config", "add a correction", "add a source"):
            # the site's title is on every page, and so is the first link to the corrections or sources
            assert summary.rendered == summary.pages, name
        else:
            assert summary.rendered < summary.pages, name
        if "template" in name:
            assert summary.rendered == 1, name


def test_an_edit_rewrites_only_the_files_it_changes(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    before, before_stamps = tree(out), stamps(out)
    CHANGES["edit a body"](site)
    summary = build(site, output_dir=out, now=FIXED_NOW)
    after, after_stamps = tree(out), stamps(out)
    changed = {path for path in after_stamps if after[path] != before.get(path)}
    rewritten = {path for path in after_stamps if after_stamps[path] != before_stamps.get(path)}
    assert "world/2020/09/02/a01/index.html" in changed
    assert rewritten == changed
    assert summary.rendered < summary.pages / 2


def test_nothing_changed_writes_nothing(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    before = stamps(out)
    summary = build(site, output_dir=out, now=FIXED_NOW)
    assert summary.rendered == 0 and summary.files == 0
    assert stamps(out) == before


def test_a_deleted_output_file_is_written_again(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    expected = tree(out)
    (out / "world" / "index.html").unlink()
    (out / "feed.xml").unlink()
    build(site, output_dir=out, now=FIXED_NOW)
    assert tree(out) == expected


def test_a_damaged_cache_only_costs_time(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    expected = tree(out)
    damaged = [item for item in (site / ".digest-cache").rglob("*") if item.is_file()]
    assert any(item.parent.name == "jinja" for item in damaged)  # compiled templates too
    for item in damaged:
        item.write_bytes(b"garbage")
    build(site, output_dir=out, now=FIXED_NOW)
    assert tree(out) == expected


def test_a_failed_incremental_build_changes_nothing(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    before, before_stamps = tree(out), stamps(out)
    CHANGES["edit a body"](site)
    (site / "overrides/templates/article.html").write_text(
        "{% extends 'base.html' %}{% block main %}{{ nope }}{% endblock %}", encoding="utf-8"
    )
    with pytest.raises(Exception, match="nope"):
        build(site, output_dir=out, now=FIXED_NOW)
    assert tree(out) == before and stamps(out) == before_stamps


def test_an_article_falling_due_is_published_without_any_edit(site: Path, tmp_path: Path) -> None:
    from datetime import datetime, timezone

    (site / "content/world/later.md").write_text(article_text("Later", "2030-01-01"), encoding="utf-8")
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    later = out / "world" / "2030" / "01" / "01" / "later"
    assert not later.exists()
    build(site, output_dir=out, now=FIXED_NOW)  # nothing changed: the quick answer
    assert not later.exists()
    due = datetime(2030, 1, 2, tzinfo=timezone.utc)
    build(site, output_dir=out, now=due)  # its text, kept unconverted while it was not shown, now is
    assert "<p>First paragraph.</p>" in (later / "index.html").read_text(encoding="utf-8")
    clean = tmp_path / "clean"
    build(site, output_dir=clean, now=due, use_cache=False)
    assert_same_site(out, clean)


def test_options_are_part_of_the_quick_answer(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    build(site, output_dir=out, now=FIXED_NOW, base_url="https://other.example/")
    assert "https://other.example/" in (out / "feed.xml").read_text(encoding="utf-8")


# The preview's quick plan: only the edited articles read again --------------------------------


@pytest.mark.parametrize(
    ("change", "quick"),
    [
        ("edit a body", True),
        ("edit a title", False),  # the lists and links may change: a whole plan
        ("break an article", False),  # the whole plan reports the error
        ("edit a template", False),
    ],
)
def test_an_edited_body_is_planned_quickly_and_gives_a_whole_plans_output(
    site: Path, change: str, quick: bool
) -> None:
    from generator.base.model import no_progress
    from generator.build import writer
    from generator.driver.pipeline import MemoryDestination, Plain, render_site, run
    from generator.incremental import layer
    from generator.incremental.keys import keys_of

    first = render_site(site.absolute(), now=FIXED_NOW)
    paths = {
        "edit a body": "content/world/a01.md",
        "edit a title": "content/world/a02.md",
        "break an article": "content/world/a04.md",
        "edit a template": "overrides/templates/404.html",
    }
    changes = {
        **CHANGES,
        "break an article": lambda root: edit(root / "content/world/a04.md", "date: 2020", "date: nope"),
    }
    changes[change](site)
    changed = frozenset({site.absolute() / paths[change]})
    updated = layer.refresh(first.plan, first.keys, changed, None, FIXED_NOW)
    assert (updated is not None) == quick
    if updated is None:
        return
    plan, keys = updated
    fresh = render_site(site.absolute(), now=FIXED_NOW)
    assert keys == keys_of(plan)  # the keys brought up to date are those of the plan
    assert keys.files == fresh.keys.files and keys.search == fresh.keys.search
    output = writer.MemoryOutput(first.files)
    made = run(site.absolute(), Plain(previous=first.keys.files, plan=plan), MemoryDestination(output),
               no_progress, {"now": FIXED_NOW})  # fmt: skip
    rendered = made.summary.rendered
    assert contents(output) == contents(fresh)
    assert 0 < rendered < len(plan.specs) / 3


# The next build's quick plan: the last build's, kept in the cache ----------------------------


def build_from_kept_plan(site: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    """A build that fails if it makes a whole plan instead of bringing the kept one up to date."""
    from generator.driver import pipeline

    def whole_plan(*args: object, **kwargs: object) -> None:
        raise AssertionError("a whole plan was made")

    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "prepare", whole_plan)
        return build(site, output_dir=out, now=FIXED_NOW)


def clean_build(site: Path, tmp_path: Path) -> Path:
    """The output folder of a clean build of `site`."""
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    build(site, output_dir=clean, now=FIXED_NOW, use_cache=False)
    return clean


def test_text_edits_build_from_the_kept_plan_to_what_a_clean_build_gives(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    world, belarus = site / "content/world", site / "content/belarus"
    edits = [
        lambda: edit(
            world / "a13.md", "Body of article 13.", "The newest, in every feed and on the home page."
        ),
        lambda: edit(belarus / "a00.md", "Body of article 0.", "The oldest, *emphasised*."),
        lambda: edit(world / "a13.md", "The newest", "Edited again: the newest"),  # a second time
        lambda: (
            edit(world / "a05.md", "Body of article 5.", "Two at once."),
            edit(world / "a07.md", "Body of article 7.", "Two at once, too."),
        ),
        lambda: edit(world / "a08.md", "title:", "summary: A summary of its own\ntitle:"),
    ]
    for number, change in enumerate(edits):
        change()
        summary = build_from_kept_plan(site, out, monkeypatch)
        assert_same_site(out, clean_build(site, tmp_path), str(number))
        assert 0 < summary.rendered < summary.pages / 2  # type: ignore[attr-defined]
    assert "Edited again: the newest" in (out / "feed.xml").read_text(encoding="utf-8")


def test_anything_but_text_makes_a_whole_plan(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    for name in (
        "edit a title",
        "add an article",
        "delete an article",
        "edit a template",
        "change the config",
    ):
        CHANGES[name](site)
        with pytest.raises(AssertionError, match="whole plan"):
            build_from_kept_plan(site, out, monkeypatch)
        build(site, output_dir=out, now=FIXED_NOW)
        assert_same_site(out, clean_build(site, tmp_path), name)


def test_a_kept_plan_whose_articles_are_gone_from_the_cache_is_not_used(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    (site / ".digest-cache" / "articles.sqlite").unlink()
    CHANGES["edit a body"](site)
    with pytest.raises(AssertionError, match="whole plan"):
        build_from_kept_plan(site, out, monkeypatch)
    build(site, output_dir=out, now=FIXED_NOW)
    assert_same_site(out, clean_build(site, tmp_path))


def test_a_plan_kept_by_another_version_is_not_used(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.incremental import keptplan

    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    CHANGES["edit a body"](site)
    monkeypatch.setattr(keptplan, "FORMAT", keptplan.FORMAT + 1)
    with pytest.raises(AssertionError, match="whole plan"):
        build_from_kept_plan(site, out, monkeypatch)


def test_an_edit_keeps_what_it_changed_beside_the_whole_plan(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.incremental import keptplan

    out = tmp_path / "out"
    build(site, output_dir=out, now=FIXED_NOW)
    cache = site / ".digest-cache"
    whole = (cache / keptplan.FILE).read_bytes()
    assert not (cache / keptplan.CHANGES).exists()
    for number in range(3):
        edit(
            site / "content/world/a13.md",
            "Body of article 13." if number == 0 else f"Edit {number - 1}.",
            f"Edit {number}.",
        )
        build_from_kept_plan(site, out, monkeypatch)
        assert (cache / keptplan.FILE).read_bytes() == whole  # not written again
        assert 0 < (cache / keptplan.CHANGES).stat().st_size < len(whole) / 10
    assert_same_site(out, clean_build(site, tmp_path))
    monkeypatch.setattr(keptplan, "MAX_CHANGES", 0)  # the changes have grown: the whole plan again
    edit(site / "content/world/a13.md", "Edit 2.", "Edit 3.")
    build_from_kept_plan(site, out, monkeypatch)
    assert (cache / keptplan.FILE).read_bytes() != whole and not (cache / keptplan.CHANGES).exists()
    monkeypatch.setattr(keptplan, "MAX_CHANGES", 5_000)
    edit(site / "content/world/a13.md", "Edit 3.", "Edit 4.")
    build_from_kept_plan(site, out, monkeypatch)
    assert_same_site(out, clean_build(site, tmp_path))
    (cache / keptplan.CHANGES).write_bytes(b"damaged")  # read as missing: only time is lost
    edit(site / "content/world/a13.md", "Edit 4.", "Edit 5.")
    build(site, output_dir=out, now=FIXED_NOW)
    assert_same_site(out, clean_build(site, tmp_path))
