from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest

from generator.base.errors import BuildFailed, CollectionError, OutputConflictError
from generator.base.errors import SourceLocation as Loc
from generator.base.model import CollectionSpec
from generator.build.topics import assemble_site, group_tags, resolve_collections
from tests.conftest import make_article, make_config

SPECS = (CollectionSpec("world", "World"), CollectionSpec("belarus", "Solidarity with Belarus"))
CONFIG = make_config(collections=SPECS)


def resolve(*articles, config=CONFIG):  # type: ignore[no-untyped-def]
    resolved, specs, errors = resolve_collections(articles, config)
    return resolved, specs, errors


@pytest.mark.parametrize("name", ["belarus", "Solidarity with Belarus", "solidarity with belarus", "BELARUS"])
def test_collection_named_by_key_or_title_in_any_case(name: str) -> None:
    (article,), _, errors = resolve(make_article(collections=(name,)))
    assert errors == []
    assert article.collections == ("belarus",)


def test_folder_gives_the_collection_when_front_matter_names_none() -> None:
    (article,), _, _ = resolve(make_article(id="belarus/x.md"))
    assert article.collections == ("belarus",)
    (other,), _, errors = resolve(make_article(id="_posts/x.md"))
    assert other.collections == () and errors == []


def test_unknown_collection_suggests_the_closest() -> None:
    location = Loc(Path("/site/content/x.md"))
    _, _, errors = resolve(make_article(collections=("Belarrus",), source_location=location))
    assert len(errors) == 1 and isinstance(errors[0], CollectionError)
    assert str(errors[0]).startswith("/site/content/x.md: error: unknown collection 'Belarrus'")
    assert errors[0].hint and "did you mean 'belarus'?" in errors[0].hint


def test_without_configured_collections_articles_form_them() -> None:
    config = make_config()
    resolved, specs, errors = resolve(
        make_article(id="a.md", collections=("Solidarity with Belarus",)),
        make_article(id="b.md", collections=("solidarity with belarus", "Tech")),
        make_article(id="science/c.md"),
        config=config,
    )
    assert errors == []
    assert [(s.key, s.title) for s in specs] == [
        ("solidarity-with-belarus", "Solidarity with Belarus"),
        ("tech", "Tech"),
        ("science", "Science"),
    ]
    assert [a.collections for a in resolved] == [
        ("solidarity-with-belarus",),
        ("solidarity-with-belarus", "tech"),
        ("science",),
    ]


def test_tags_group_by_slug_keep_first_spelling_and_sort_by_name() -> None:
    tags = group_tags(
        (
            make_article(id="a", tags=("Open Data", "belarus")),
            make_article(id="b", tags=("open data", "Протесты")),
        )
    )
    assert [(t.slug, t.name, t.article_ids) for t in tags] == [
        ("belarus", "belarus", ("a",)),
        ("open-data", "Open Data", ("a", "b")),
        ("protesty", "Протесты", ("b",)),
    ]


def test_assemble_site_groups_and_assigns_urls() -> None:
    site = assemble_site(
        (
            make_article(id="b.md", slug="b", collections=("world",)),
            make_article(id="a.md", slug="a", collections=("belarus", "world")),
            make_article(id="c.md", slug="c"),
        ),
        CONFIG,
    )
    assert site.urls == {
        "a.md": "belarus/2020/09/03/a/",
        "b.md": "world/2020/09/03/b/",
        "c.md": "2020/09/03/c/",
    }
    assert [(c.key, c.article_ids) for c in site.collections] == [
        ("world", ("b.md", "a.md")),
        ("belarus", ("a.md",)),
    ]


def test_permalink_patterns_site_wide_per_collection_and_per_article() -> None:
    config = dataclasses.replace(
        CONFIG,
        permalink="/news/:year/:slug/",
        collections=(CollectionSpec("world", "World", permalink="/:collection/:filename.html"),
                     CollectionSpec("belarus", "Belarus")),
    )  # fmt: skip
    site = assemble_site(
        (
            make_article(id="w/2020-09-03-b.md", slug="b", collections=("world",)),
            make_article(id="a.md", slug="a", collections=("belarus",)),
            make_article(id="c.md", slug="c", url="/about/"),
            make_article(id="d.md", slug="d", url="/:collection/:title/", title="A Title"),
        ),
        config,
    )
    assert site.urls == {
        "w/2020-09-03-b.md": "world/2020-09-03-b.html", "a.md": "news/2020/a/", "c.md": "about/",
        "d.md": "a-title/",
    }  # fmt: skip


def test_recurring_headlines_get_their_own_urls() -> None:
    weekly = [
        make_article(id=f"w{day}.md", slug="weekly-briefing", title="Weekly briefing", collections=("world",),
                     date=datetime(2020, 9, day, 10, tzinfo=timezone.utc))
        for day in (3, 10)
    ]  # fmt: skip
    site = assemble_site(tuple(weekly), CONFIG)
    assert sorted(site.urls.values()) == [
        "world/2020/09/03/weekly-briefing/",
        "world/2020/09/10/weekly-briefing/",
    ]


def test_two_articles_at_one_url_and_unknown_collections_fail_together() -> None:
    with pytest.raises(BuildFailed) as info:
        assemble_site(
            (
                make_article(id="x.md", slug="same", collections=("world",)),
                make_article(id="y.md", slug="same", collections=("world",)),
                make_article(id="z.md", collections=("nowhere",)),
            ),
            CONFIG,
        )
    kinds = sorted(type(e).__name__ for e in info.value.errors)
    assert kinds == [CollectionError.__name__, OutputConflictError.__name__]
    conflict = next(e for e in info.value.errors if isinstance(e, OutputConflictError))
    assert "/world/2020/09/03/same/" in conflict.message
