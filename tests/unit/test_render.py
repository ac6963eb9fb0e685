from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.base.errors import BuildFailed, TemplateError
from generator.driver.pipeline import render_site
from tests.conftest import FIXED_NOW, SAMPLE_SITE, MakeSite, article_html, article_text, html_of

THEMED = """\
title: T
base_url: https://e.org/
theme: mine
"""


def test_pages_use_relative_links_and_absolute_canonicals() -> None:
    result = render_site(SAMPLE_SITE, now=FIXED_NOW)
    page = html_of(result, "belarus/page/2/index.html")
    assert 'href="../../../static/style.css"' in page
    assert '<link rel="canonical" href="https://example.org/sub/path/belarus/page/2/">' in page
    assert 'rel="prev" href="../../../belarus/"' in page
    home = html_of(result, "index.html")
    assert 'href="./static/style.css"' in home


def test_404_links_from_the_base_path_so_it_works_at_any_depth() -> None:
    page = html_of(render_site(SAMPLE_SITE, now=FIXED_NOW), "404.html")
    assert 'href="/sub/path/static/style.css"' in page


def test_article_language_reaches_html_lang() -> None:
    result = render_site(SAMPLE_SITE, now=FIXED_NOW)
    assert '<html lang="ru">' in article_html(result, "belarus/cyrillic.md")
    assert '<html lang="en">' in html_of(result, "index.html")


def test_titles_are_escaped() -> None:
    page = article_html(render_site(SAMPLE_SITE, now=FIXED_NOW), "world/escaping.md")
    assert "<script>" not in page
    assert "Tags &lt;script&gt;alert(1)&lt;/script&gt; &amp; ampersands" in page


def make_theme(make_site: MakeSite, templates: dict[str, str]) -> Path:
    files: dict[str, str | bytes] = {"content/a.md": article_text("A")}
    for name in ("home", "article", "collection", "tag", "tags", "archive", "archive_month", "404"):
        files[f"themes/mine/templates/{name}.html"] = "<p>{{ page.title }}</p>"
    files.update({f"themes/mine/templates/{k}": v for k, v in templates.items()})
    return make_site(files, config=THEMED)


def test_undefined_variable_names_the_template_and_line(make_site: MakeSite) -> None:
    root = make_theme(
        make_site, {"article.html": "<h1>{{ article.title }}</h1>\n<p>{{ article.subtitle }}</p>\n"}
    )
    with pytest.raises(BuildFailed) as info:
        render_site(root, now=FIXED_NOW)
    (error,) = info.value.errors
    assert isinstance(error, TemplateError)
    assert str(error.location).endswith("themes/mine/templates/article.html:2")
    assert "subtitle" in error.message


def test_template_syntax_error_names_the_line(make_site: MakeSite) -> None:
    root = make_theme(make_site, {"home.html": "<p>ok</p>\n{% if %}\n"})
    with pytest.raises(BuildFailed) as info:
        render_site(root, now=FIXED_NOW)
    (error,) = info.value.errors
    assert str(error.location).endswith("themes/mine/templates/home.html:2")


def test_missing_template_is_a_clear_error(make_site: MakeSite) -> None:
    root = make_site(
        {"content/a.md": article_text("A"), "themes/mine/templates/home.html": "x"}, config=THEMED
    )
    with pytest.raises(BuildFailed) as info:
        render_site(root, now=FIXED_NOW)
    assert any("template 'article.html' not found" in e.message for e in info.value.errors)


def test_unknown_theme_lists_the_available_ones(make_site: MakeSite) -> None:
    root = make_site({}, config="theme: nosuch\n")
    with pytest.raises(BuildFailed) as info:
        render_site(root, now=FIXED_NOW)
    (error,) = info.value.errors
    assert "theme 'nosuch' not found" in error.message
    assert error.hint and "default" in error.hint


@pytest.mark.parametrize(
    ("template", "values"),
    [
        ("{{ d.title }}", {"d": {"title": "T"}}),
        ("{{ d.items is callable }}", {"d": {"items": "the key"}}),  # a dict's method, as in Jinja
        ("{{ d.get('a') }}", {"d": {"a": 1, "get": 2}}),
        ("{{ d.nested.x }}", {"d": {"nested": {"x": "deep"}}}),
        ("{{ o.real }}", {"o": 3}),
        ("{{ d.missing is defined }}", {"d": {}}),
    ],
)
def test_attribute_lookup_on_dicts_is_jinjas(template: str, values: dict[str, object]) -> None:
    import jinja2

    from generator.build.render import _Environment

    ours = _Environment(undefined=jinja2.StrictUndefined).from_string(template).render(values)
    theirs = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(values)
    assert ours == theirs


def test_a_missing_key_is_still_an_error() -> None:
    import jinja2

    from generator.build.render import _Environment

    with pytest.raises(jinja2.UndefinedError, match="missing"):
        _Environment(undefined=jinja2.StrictUndefined).from_string("{{ d.missing }}").render(d={})


def test_templates_are_compiled_once_per_process_not_once_per_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import jinja2

    from generator.build import render
    from generator.driver.pipeline import build

    compiled: list[str | None] = []
    real = jinja2.Environment.compile

    def counted(self: Any, source: Any, name: Any = None, filename: Any = None, *args: Any, **kw: Any) -> Any:
        compiled.append(name)
        return real(self, source, name, filename, *args, **kw)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    monkeypatch.setattr(render._InProcess, "codes", {})
    for n in (1, 2):  # two sites, built without a cache: nothing shared on disk
        root = tmp_path / f"site-{n}"
        shutil.copytree(SAMPLE_SITE, root)
        build(root, use_cache=False)
        if n == 1:
            assert "article.html" in compiled
            compiled.clear()
    assert compiled == []
    overrides = tmp_path / "site-2" / "overrides" / "templates"
    overrides.mkdir(parents=True)
    (overrides / "404.html").write_text("{% extends 'base.html' %}{% block main %}Gone{% endblock %}\n")
    build(tmp_path / "site-2", use_cache=False)
    assert compiled == ["404.html"]  # another file under the same name is compiled, not taken for it
