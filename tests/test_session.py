"""The preview's session: what changed decides what a rebuild does, and the result is a whole build's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from generator.driver import pipeline
from generator.preview.session import Preview
from tests.conftest import MakeSite, article_text

CONFIG = """\
title: Preview
base_url: https://example.org/
search: false
collections:
  - {key: world, title: World}
"""


@pytest.fixture
def preview(make_site: MakeSite) -> Iterator[Preview]:
    files: dict[str, str | bytes] = {
        f"content/world/a{i}.md": article_text(f"Article {i}", f"2020-09-{i + 1:02d}", body=f"Body {i}.\n")
        for i in range(6)
    }
    root = make_site(files, config=CONFIG)
    session = Preview(
        root, "127.0.0.1", 0, {"include_drafts": False, "include_future": False}, lambda _: None
    )
    try:
        yield session
    finally:
        session.index.close()
        session.server.httpd.server_close()


def as_bytes(files: object) -> dict[str, bytes]:
    assert isinstance(files, dict)
    return {k: v if isinstance(v, bytes) else v.read_bytes() for k, v in files.items()}


def whole_build(preview: Preview) -> dict[str, bytes]:
    result = pipeline.render_site(preview.root, base_url=preview.url)
    return as_bytes(dict(result.files))


def forbid_whole_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    def whole_plan(*args: object, **kwargs: object) -> None:
        raise AssertionError("a whole plan was made")

    monkeypatch.setattr(pipeline, "prepare", whole_plan)


def test_a_text_edit_is_rebuilt_from_the_last_plan(preview: Preview, monkeypatch: pytest.MonkeyPatch) -> None:
    preview.rebuild(frozenset())
    article = preview.root / "content/world/a2.md"
    article.write_text(article_text("Article 2", "2020-09-03", body="Edited.\n"), encoding="utf-8")
    with monkeypatch.context() as patched:
        forbid_whole_plans(patched)
        files = preview.rebuild(frozenset({article}))
    assert b"Edited." in as_bytes(files)["world/2020/09/03/a2/index.html"]
    assert as_bytes(files) == whole_build(preview)


@pytest.mark.parametrize(
    "change",
    ["title", "config", "template", "new article"],
)
def test_anything_else_makes_a_whole_plan(
    preview: Preview, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    preview.rebuild(frozenset())
    root = preview.root
    if change == "title":
        path = root / "content/world/a2.md"
        path.write_text(article_text("Renamed", "2020-09-03", body="Body 2.\n"), encoding="utf-8")
    elif change == "config":
        path = root / "config.yaml"
        path.write_text(CONFIG.replace("Preview", "Renamed"), encoding="utf-8")
    elif change == "template":
        path = root / "overrides/templates/404.html"
        path.parent.mkdir(parents=True)
        path.write_text("{% extends 'base.html' %}{% block main %}Gone{% endblock %}", encoding="utf-8")
    else:
        path = root / "content/world/new.md"
        path.write_text(article_text("New", "2020-10-01"), encoding="utf-8")
    with monkeypatch.context() as patched:
        forbid_whole_plans(patched)
        with pytest.raises(AssertionError, match="whole plan"):
            preview.rebuild(frozenset({path}))
    files = preview.rebuild(frozenset({path}))
    assert as_bytes(files) == whole_build(preview)


def test_the_preview_shows_drafts_and_scheduled_articles_marked_and_a_build_never_does(
    make_site: MakeSite,
) -> None:
    from generator.driver.pipeline import build

    files: dict[str, str | bytes] = {
        "content/world/live.md": article_text("Live one", "2020-09-01"),
        "content/world/draft.md": article_text("Draft one", "2020-09-02").replace(
            "---\n\n", "draft: true\n---\n\n"
        ),
        "content/world/later.md": article_text("Later one", "2099-01-02T10:00:00Z"),
    }
    root = make_site(files, config=CONFIG)
    shown = {"include_drafts": True, "include_future": True, "mark_unpublished": True}
    for options, expected in ((shown, {"live", "draft", "later"}), ({}, {"live"})):
        session = Preview(root, "127.0.0.1", 0, options, lambda _: None)
        try:
            pages = as_bytes(session.rebuild(frozenset()))
        finally:
            session.index.close()
            session.server.httpd.server_close()
        articles = {k: v.decode() for k, v in pages.items() if k.startswith("world/") and k.endswith("/index.html")
                    and k.count("/") > 2}  # fmt: skip
        titles = {
            n
            for n in ("Live one", "Draft one", "Later one")
            if any(f"<h1>{n}</h1>" in t for t in articles.values())
        }
        assert titles == {f"{n.capitalize()} one" for n in expected}
        banners = [t for t in articles.values() if "preview-status" in t]
        if options:
            draft = next(t for t in articles.values() if "<h1>Draft one</h1>" in t)
            later = next(t for t in articles.values() if "<h1>Later one</h1>" in t)
            assert (
                'class="preview-status" role="status" data-pagefind-ignore>Draft: not published</p>' in draft
            )
            assert "Scheduled for January 2, 2099: not published yet" in later
            assert len(banners) == 2
        else:
            assert banners == []
    build(root)
    site = root / "site"
    built = [
        p.read_text(encoding="utf-8")
        for p in site.rglob("*")
        if p.is_file() and p.suffix in (".html", ".xml", ".json")
    ]
    assert not any("preview-status" in text or "Draft one" in text or "Later one" in text for text in built)
