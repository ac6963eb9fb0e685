from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from generator.base.errors import BuildFailed
from generator.build.config import parse_config
from generator.build.theme import builtin_themes_dir, find_theme, static_files
from generator.driver.pipeline import render_site
from tests.conftest import FIXED_NOW, REPO, MakeSite, article_html, article_text, html_of


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1200, 630), (40, 80, 120)).save(out, "JPEG")
    return out.getvalue()


def config_for(root: Path, text: str = "base_url: https://e.org/\n"):  # type: ignore[no-untyped-def]
    return parse_config(text, root / "config.yaml")


def test_builtin_themes_are_found_from_any_site(tmp_path: Path) -> None:
    theme, warnings = find_theme(config_for(tmp_path))
    assert theme.folder == builtin_themes_dir() / "default"
    assert warnings == ()


def test_compact_extends_default(tmp_path: Path) -> None:
    theme, _ = find_theme(config_for(tmp_path, "theme: compact\n"))
    assert [f.name for f in theme.folders] == ["compact", "default"]
    templates = theme.template_dirs
    assert templates[0].parent.name == "compact" and templates[1].parent.name == "default"
    static = {str(s.path): s.source for s in static_files(theme)}
    assert static["static/theme.css"].parent.parent.name == "compact"  # the child's file wins
    assert static["static/style.css"].parent.parent.name == "default"  # the rest is inherited


def test_site_overrides_come_before_the_theme(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("A"),
            "overrides/templates/404.html": "{% extends 'base.html' %}{% block main %}<p>Custom 404</p>{% endblock %}",
            "overrides/static/theme.css": "body { color: red }",
        }
    )
    result = render_site(root, now=FIXED_NOW)
    assert "<p>Custom 404</p>" in html_of(result, "404.html")
    assert "Skip to content" in html_of(result, "404.html")  # base.html still comes from the theme
    css = result.files["static/theme.css"]
    assert css == root / "overrides" / "static" / "theme.css"


def test_a_site_theme_extending_default_with_its_own_texts(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("A"),
            "themes/mine/theme.yaml": "extends: default\n",
            "themes/mine/i18n/en.yaml": "latest: Fresh off the press\n",
        },
        config="base_url: https://e.org/\ntheme: mine\nhome_latest: 3\n",
    )
    root_text = root / "content" / "world" / "b.md"
    root_text.write_text(article_text("B", "2020-09-04"), encoding="utf-8")
    home = html_of(render_site(root, now=FIXED_NOW), "index.html")
    assert "Fresh off the press" in home
    assert "Skip to content" in home  # other texts still come from default


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"themes/a/theme.yaml": "extends: b\n", "themes/b/theme.yaml": "extends: a\n"}, "loop"),
        ({"themes/a/theme.yaml": "extends: nowhere\n"}, "theme 'nowhere' not found"),
        ({"themes/a/theme.yaml": "extend: default\n"}, "unknown key 'extend'"),
        ({"themes/a/theme.yaml": "extends: [\n"}, "invalid YAML"),
    ],
)
def test_theme_file_errors(make_site: MakeSite, files: dict[str, str | bytes], message: str) -> None:
    root = make_site(files, config="theme: a\n")
    with pytest.raises(BuildFailed) as info:
        find_theme(config_for(root, "theme: a\n"))
    assert message in str(info.value)


def test_unknown_language_warns_and_falls_back_to_english(tmp_path: Path) -> None:
    _, warnings = find_theme(config_for(tmp_path, "language: fr\n"))
    assert len(warnings) == 1 and "no texts for language 'fr'" in warnings[0].message


def test_every_language_has_every_text() -> None:
    import yaml

    folder = REPO / "themes" / "default" / "i18n"
    tables = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in folder.glob("*.yaml")}
    assert set(tables) == {"en", "ru", "be", "uk", "pl", "lt", "de"}
    for language, table in tables.items():
        assert set(table) == set(tables["en"]), language
        for key, text in table.items():  # every plural form CLDR has for the language, and nothing else
            if isinstance(text, dict):
                from babel import Locale

                assert set(Locale.parse(language).plural_form.tags) | {"other"} <= set(text), (language, key)
    used = set()
    for template in (REPO / "themes").rglob("*.html"):
        used |= set(re.findall(r"""\bt\(["'](\w+)["']""", template.read_text(encoding="utf-8")))
    assert used <= set(tables["en"]), used - set(tables["en"])


@pytest.mark.parametrize(
    ("language", "two", "five", "month"),
    [
        ("be", "2 матэрыялы", "5 матэрыялаў", "верасень 2020"),
        ("uk", "2 матеріали", "5 матеріалів", "вересень 2020"),
        ("pl", "2 artykuły", "5 artykułów", "wrzesień 2020"),
        ("lt", "2 straipsniai", "10 straipsnių", "rugsėjis 2020"),
        ("de", "2 Beiträge", "5 Beiträge", "September 2020"),
    ],
)
def test_the_theme_speaks_the_languages_of_the_region(
    make_site: MakeSite, language: str, two: str, five: str, month: str
) -> None:
    """Belarusian, Ukrainian, Polish, Lithuanian and German texts, plurals by CLDR, dates by Babel."""
    count = 10 if language == "lt" else 5
    files = {f"content/world/a{i}.md": article_text(f"A{i}", f"2020-09-{i + 1:02d}") for i in range(count)}
    files["content/news/b1.md"] = article_text("B1", "2020-09-01")
    files["content/news/b2.md"] = article_text("B2", "2020-09-02")
    root = make_site(
        files, config=f"title: T\nbase_url: https://e.org/\nlanguage: {language}\nsearch: false\n"
    )
    result = render_site(root, now=FIXED_NOW)
    assert two in html_of(result, "news/index.html")
    assert five in html_of(result, "world/index.html")
    archive = html_of(result, "archive/2020/09/index.html")
    assert month.lower() in archive.lower(), archive[:2000]
    assert f'<html lang="{language}">' in html_of(result, "index.html")


def test_russian_site_gets_russian_texts_dates_and_plurals(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("Протесты", "2020-09-03", body="слово " * 500),
            "content/world/b.md": article_text("Марш", "2020-09-01"),
        },
        config="base_url: https://e.org/\nlanguage: ru\ncollections: [{key: world, title: Мир}]\n",
    )
    result = render_site(root, now=FIXED_NOW)
    article = article_html(result, "world/a.md")
    assert '<html lang="ru">' in article
    assert "3 сентября 2020\u202fг." in article  # Babel's narrow no-break space
    assert "2 минуты чтения" in article
    assert "Перейти к содержанию" in article
    collection = html_of(result, "world/index.html")
    assert "2 материала" in collection
    assert "Архив: сентябрь 2020" in html_of(result, "archive/2020/09/index.html")


def test_article_in_another_language_than_the_site(make_site: MakeSite) -> None:
    root = make_site({"content/world/a.md": article_text("Марш", lang="ru")})
    page = article_html(render_site(root, now=FIXED_NOW), "world/a.md")
    assert '<html lang="ru">' in page
    assert "Перейти к содержанию" in page  # the theme speaks the page's language where it can
    assert '<div class="wrap" lang="en">' in page  # the site's own name and nav stay marked English


def test_article_metadata(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text(
                "Night trains",
                "2020-09-02T08:00:00+03:00",
                summary="Sleepers are back",
                tags="[rail, climate]",
                authors="[Ann, Bob]",
                image="/img/train.jpg",
                updated="2020-09-04",
            ),
            "content/img/train.jpg": jpeg_bytes(),
        }
    )
    page = article_html(render_site(root, now=FIXED_NOW), "world/a.md")
    assert '<meta property="og:type" content="article">' in page
    assert '<meta property="og:image" content="https://example.org/img/train.jpg">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert '<meta property="article:tag" content="rail">' in page
    assert (
        '<time datetime="2020-09-02T05:00:00+00:00" data-pagefind-meta="date">September 2, 2020</time>'
        in page
    )
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Night trains"
    assert data["datePublished"] == "2020-09-02T05:00:00+00:00"  # in the site's time zone
    assert data["dateModified"].startswith("2020-09-04")
    assert [a["name"] for a in data["author"]] == ["Ann", "Bob"]
    assert data["publisher"]["name"] == "Test Digest"
    assert data["articleSection"] == "World"


def test_json_ld_cannot_break_out_of_its_script(make_site: MakeSite) -> None:
    root = make_site({"content/world/a.md": article_text("</script><script>alert(1)</script>")})
    page = article_html(render_site(root, now=FIXED_NOW), "world/a.md")
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert block and "alert(1)" in json.loads(block.group(1))["headline"]
    assert "<script>alert(1)" not in page


def test_related_and_neighbour_articles(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("A", "2020-01-01", tags="[x]"),
            "content/world/b.md": article_text("B", "2020-01-02", tags="[y]"),
            "content/world/c.md": article_text("C", "2020-01-03", tags="[x]"),
            "content/belarus/d.md": article_text("D", "2020-01-04", tags="[x]"),
        }
    )
    result = render_site(root, now=FIXED_NOW)
    page = article_html(result, "world/b.md")
    assert 'rel="prev" href="../../../../../world/2020/01/03/c/"' in page  # newer in the collection
    assert 'rel="next" href="../../../../../world/2020/01/01/a/"' in page  # older in the collection
    related = page.split('id="related-title"')[1]
    titles = re.findall(r'class="item-title"><a href="[^"]+">(\w)</a>', related)
    assert titles[:2] == ["C", "A"]  # same collection first, nearest first
    page_a = article_html(result, "world/a.md")
    related_a = re.findall(
        r'class="item-title"><a href="[^"]+">(\w)</a>', page_a.split('id="related-title"')[1]
    )
    assert related_a == [
        "C",
        "B",
        "D",
    ]  # shared tag x first, then the rest of the collection, then tag x elsewhere
