"""The keys layer: every field of what a page shows has a decision, and keys follow the plan."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from generator.base.model import Article
from generator.build.pages import PageSpec
from generator.driver.pipeline import prepare
from generator.incremental import keys
from tests.conftest import FIXED_NOW, SAMPLE_SITE


def test_every_article_field_is_decided_once() -> None:
    decided = [keys.ARTICLE_LAYOUT, keys.ARTICLE_TEXT]
    names = {f.name for f in dataclasses.fields(Article)}
    assert set().union(*decided) == names, "decide in keys.py whether a new Article field is layout or text"
    assert not keys.ARTICLE_LAYOUT & keys.ARTICLE_TEXT


def test_every_page_spec_field_is_decided_once() -> None:
    decided = [set(keys.SPEC_KEYED), keys.SPEC_ARTICLES, keys.SPEC_NOT_SHOWN]
    names = {f.name for f in dataclasses.fields(PageSpec)}
    assert set().union(*decided) == names, "decide in keys.py whether a new PageSpec field is keyed"
    assert sum(len(d) for d in decided) == len(names)  # none in two tables


@pytest.mark.parametrize("name", [*keys.SPEC_KEYED, "cards"])
def test_a_change_of_any_keyed_spec_field_changes_the_page_key(name: str) -> None:
    plan = prepare(SAMPLE_SITE, now=FIXED_NOW)
    plan_keys = keys.keys_of(plan)
    path, spec = next((p, s) for p, s in plan.specs.items() if s.kind == "collection" and s.cards)
    value = getattr(spec, name)
    if isinstance(value, str):
        other: object = value + "x"
    elif isinstance(value, int):
        other = value + 1
    elif name == "cards":
        other = value[:-1]
    else:
        other = ("newer/", None)
    changed = dataclasses.replace(spec, **{name: other})
    before = keys.page_key(spec, plan_keys.articles, plan_keys.site, plan_keys.templates)
    assert plan_keys.files[path] == before
    assert keys.page_key(changed, plan_keys.articles, plan_keys.site, plan_keys.templates) != before


def test_a_spec_origin_is_not_in_the_key() -> None:
    plan = prepare(SAMPLE_SITE, now=FIXED_NOW)
    plan_keys = keys.keys_of(plan)
    spec = next(s for s in plan.specs.values() if s.kind == "article")
    moved = dataclasses.replace(spec, origin=None)
    args = (plan_keys.articles, plan_keys.site, plan_keys.templates)
    assert keys.page_key(moved, *args) == keys.page_key(spec, *args)


@pytest.mark.parametrize("name", sorted(keys.ARTICLE_LAYOUT - {"id", "source_location"}))
def test_a_layout_change_needs_a_whole_plan(name: str) -> None:
    plan = prepare(SAMPLE_SITE, now=FIXED_NOW)
    plan_keys = keys.keys_of(plan)
    article = next(a for a in plan.site.articles.values() if a.tags and a.collections)
    value = getattr(article, name)
    other = {
        str: lambda v: v + "x",
        bool: lambda v: not v,
        tuple: lambda v: (*v, "extra"),
    }.get(type(value), lambda v: None if v is not None else "x")(value)
    if name == "date":
        other = value.replace(year=value.year - 1)
    if name == "extra":
        other = {"id": "urn:other"}
    changed = dataclasses.replace(article, **{name: other})
    assert keys.with_new_text(plan, plan_keys, {article.id: changed}) is None


def test_a_text_change_rekeys_only_the_pages_showing_the_article() -> None:
    plan = prepare(SAMPLE_SITE, now=FIXED_NOW)
    plan_keys = keys.keys_of(plan)
    article = next(a for a in plan.site.articles.values() if a.collections)
    edited = dataclasses.replace(article, body_html="<p>New.</p>", summary="New.", source_hash="new")
    found = keys.with_new_text(plan, plan_keys, {article.id: edited})
    assert found is not None
    new_plan, new_keys = found
    assert new_keys == keys.keys_of(new_plan)
    changed = {p for p in new_keys.files if new_keys.files[p] != plan_keys.files[p]}
    pages = {p for p in changed if p.endswith(".html")}
    assert pages == set(plan_keys.shown_on[article.id])
    assert "feed.xml" in changed
    assert plan.site.articles[article.id] is article  # the plan it was given is unchanged


def test_a_template_edit_changes_the_keys_of_its_pages_only(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "site"
    shutil.copytree(SAMPLE_SITE, root)
    before = keys.keys_of(prepare(root, now=FIXED_NOW))
    (root / "overrides/templates").mkdir(parents=True)
    (root / "overrides/templates/404.html").write_text("{% extends 'base.html' %}", encoding="utf-8")
    after = keys.keys_of(prepare(root, now=FIXED_NOW))
    assert {p for p in after.files if after.files[p] != before.files.get(p)} == {"404.html"}
