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
