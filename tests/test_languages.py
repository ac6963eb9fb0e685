"""A digest in several languages (issue 28, first steps): `languages:`, translations linked by file
name, by language folder and by `translation_key`, URLs under /<code>/, reciprocal `hreflang`
alternates and "Also in" on every translated article; a site without `languages:` is unchanged."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import MakeSite, article_text, run_cli

HEAD = """\
title: Салідарнасць
base_url: https://digest.example/
search: false
"""
CONFIG = (
    HEAD
    + """\
languages:
  - {code: en, name: English}
  - {code: be, name: Беларуская, default: true}
  - {code: ru, name: Русский}
"""
)


def alternates(page: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))


def test_translations_are_linked_three_ways_and_every_alternate_is_reciprocal(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/news/march.md": article_text("Марш", "2020-09-03"),
            "content/news/march.ru.md": article_text("Марш по-русски", "2020-09-03"),  # by file name
            "content/en/news/march.md": article_text("The march", "2020-09-03"),  # by language folder
            "content/news/vote.md": article_text("Выбары", "2020-09-04", translation_key="vote-2020"),
            "content/news/golos.ru.md": article_text("Выборы", "2020-09-04", translationKey="vote-2020"),
            "content/news/alone.md": article_text("Толькі па-беларуску", "2020-09-05"),  # no translation
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    site = root / "site"
    pages = {
        "be": site / "news/2020/09/03/march/index.html",
        "ru": site / "ru/news/2020/09/03/march/index.html",
        "en": site / "en/news/2020/09/03/march/index.html",
    }
    found = {code: alternates(path.read_text(encoding="utf-8")) for code, path in pages.items()}
    expected = {
        code: f"https://digest.example/{path.relative_to(site).parent.as_posix()}/"
        for code, path in pages.items()
    }
    for code in pages:
        assert {k: v for k, v in found[code].items() if k != "x-default"} == expected, code  # reciprocal
        assert found[code]["x-default"] == expected["be"]
    be = pages["be"].read_text(encoding="utf-8")
    assert re.search(
        r'<p class="also-in meta" data-pagefind-ignore>Іншыя мовы: <a href="[^"]+" hreflang="en" lang="en">English</a>, <a href="[^"]+" hreflang="ru" lang="ru">Русский</a></p>',
        be,
    )
    assert '<html lang="ru">' in pages["ru"].read_text(encoding="utf-8")
    golos = (site / "ru/news/2020/09/04/golos/index.html").read_text(encoding="utf-8")
    assert alternates(golos)["be"] == "https://digest.example/news/2020/09/04/vote/"
    alone = (site / "news/2020/09/05/alone/index.html").read_text(encoding="utf-8")
    assert 'rel="alternate" hreflang' not in alone and "also-in" not in alone


def test_two_translations_in_one_language_and_a_key_of_nothing_are_located_errors(
    make_site: MakeSite,
) -> None:
    root = make_site(
        {
            "content/news/march.md": article_text("Марш", "2020-09-03"),
            "content/news/march.ru.md": article_text("Марш", "2020-09-03"),
            "content/ru/news/march.md": article_text("Марш ещё раз", "2020-09-03"),
            "content/news/lost.ru.md": article_text("Потерянный", "2020-09-03", translation_key="nowhere"),
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "Traceback" not in err
    assert "a second 'ru' translation of 'news/march.md'" in err
    assert "'translation_key: nowhere' names no article in the default language (be)" in err


def test_a_language_setting_is_checked_at_its_line(make_site: MakeSite) -> None:
    root = make_site(
        {"content/news/a.md": article_text("A")},
        config="title: T\nbase_url: https://e.org/\nlanguages:\n  - {code: be, name: Беларуская, default: true}\n  - {code: 'x y', name: X}\n",
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "config.yaml:5" in err and "language 'x y'" in err


LISTS = (
    HEAD
    + """\
collections:
  - {key: belarus, title: Belarus}
authors:
  - {key: ana, name: Ana}
languages:
  - {code: be, name: Беларуская, default: true, description: Навіны салідарнасці}
  - {code: ru, name: Русский, title: Солидарность}
  - {code: en, name: English, title: Solidarity}
"""
)


def test_every_list_and_feed_is_per_language_and_the_switcher_leads_to_the_same_page(
    make_site: MakeSite,
) -> None:
    import json

    import feedparser

    common = "collection: belarus\ntags: [march]\nauthor: Ana"
    root = make_site(
        {
            "content/belarus/march.md": article_text("Марш", "2020-09-03", **_fields(common)),
            "content/belarus/march.ru.md": article_text("Марш по-русски", "2020-09-03", **_fields(common)),
            "content/belarus/march.en.md": article_text("The march", "2020-09-03", **_fields(common)),
            "content/belarus/strike.md": article_text("Забастоўка", "2020-09-04", **_fields(common)),
        },
        config=LISTS,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    site = root / "site"
    read = lambda path: (site / path).read_text(encoding="utf-8")  # noqa: E731
    # Each language's home, collection, tag, author and archive pages list its own articles only.
    for prefix, mine, others in (("", "Забастоўка", "The march"), ("ru/", "Марш по-русски", "Забастоўка"),
                                 ("en/", "The march", "Марш по-русски")):  # fmt: skip
        for page in ("index.html", "belarus/index.html", "tags/march/index.html", "authors/ana/index.html",
                     "archive/2020/09/index.html", "tags/index.html", "archive/index.html"):  # fmt: skip
            html = read(prefix + page)
            if page != "tags/index.html" and page != "archive/index.html":
                assert mine in html and others not in html, prefix + page
            assert f'<html lang="{prefix.rstrip("/") or "be"}"' in html, prefix + page
        assert (site / prefix / "404.html").is_file()
    assert "<title>Солидарность</title>" in read("ru/index.html")
    assert '<a href="../ru/" aria-current="page">Солидарность</a>' in read("ru/index.html")  # its own home
    # The homes are one another's translations: reciprocal alternates, and the switcher between them.
    homes = {
        code: alternates(read(f"{p}index.html")) for code, p in (("be", ""), ("ru", "ru/"), ("en", "en/"))
    }
    assert all(found == homes["be"] for found in homes.values())
    assert homes["be"] == {"be": "https://digest.example/", "ru": "https://digest.example/ru/",
                           "en": "https://digest.example/en/", "x-default": "https://digest.example/"}  # fmt: skip
    # On an article, the switcher leads to its translation; where there is none, to that language's home.
    march = read("belarus/2020/09/03/march/index.html")
    switcher = re.search(r'<nav class="languages wrap"[^>]*>(.*?)</nav>', march, re.S)
    assert switcher
    links = dict(re.findall(r'<a href="([^"]+)" hreflang="([^"]+)"', switcher.group(1)))
    assert {v: k for k, v in links.items()} == {
        "be": "../../../../../belarus/2020/09/03/march/",
        "ru": "../../../../../ru/belarus/2020/09/03/march/",
        "en": "../../../../../en/belarus/2020/09/03/march/",
    }
    strike = read("belarus/2020/09/04/strike/index.html")
    assert 'href="../../../../../ru/" hreflang="ru"' in strike
    assert '<meta property="og:locale" content="be_BY">' in march
    assert '<meta property="og:locale:alternate" content="ru_RU">' in march
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', march).group(1))
    assert data["inLanguage"] == "be"
    assert [w["@id"] for w in data["workTranslation"]] == [
        "https://digest.example/ru/belarus/2020/09/03/march/",
        "https://digest.example/en/belarus/2020/09/03/march/",
    ]
    ru_data = read("ru/belarus/2020/09/03/march/index.html")
    assert '"translationOfWork": {"@id": "https://digest.example/belarus/2020/09/03/march/"' in ru_data
    # Feeds per language and per collection and language, in all three formats, ids apart.
    ids = {}
    for prefix, lang in (("", "be"), ("ru/", "ru"), ("en/", "en")):
        items = json.loads(read(prefix + "belarus/feed.json"))["items"]
        assert items and all(f"/{prefix}belarus/" in i["url"] for i in items)
        for feed in ("feed.xml", "belarus/feed.xml", "rss.xml", "belarus/rss.xml"):
            parsed = feedparser.parse(read(prefix + feed))
            assert not parsed.bozo, prefix + feed
            assert parsed.entries and all(f"/{prefix}belarus/" in e.link for e in parsed.entries), (
                prefix + feed
            )
        atom = feedparser.parse(read(prefix + "feed.xml"))
        assert atom.feed.language == lang
        ids[lang] = {e.id for e in atom.entries}
    assert not (ids["be"] & ids["ru"]) and not (ids["ru"] & ids["en"])
    # The sitemap lists every version of a translated page, itself included.
    sitemap = read("sitemap.xml")
    assert 'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in sitemap
    entry = re.search(
        r"<url><loc>https://digest.example/ru/belarus/2020/09/03/march/</loc>.*?</url>", sitemap
    )
    assert entry and entry.group(0).count("<xhtml:link") == 4  # be, ru, en and x-default


def _fields(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.splitlines())


def test_check_lists_what_to_translate_and_new_starts_a_translation(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/news/march.md": article_text("Марш", "2020-09-03", updated="2020-09-10"),
            "content/news/march.ru.md": article_text("Марш", "2020-09-03", updated="2020-09-04"),
            "content/news/march.en.md": article_text("March", "2020-09-03", updated="2020-09-11"),
            "content/news/strike.md": article_text("Забастоўка", "2020-09-04", translation_key="strike"),
            "content/ru/news/only.md": article_text("Только по-русски", "2020-09-05"),
        },
        config=CONFIG,
    )
    code, out, err = run_cli("check", "-s", str(root))
    assert code == 0, err
    assert "ru (Русский): 1 to translate, 1 behind the original" in out
    assert "to translate: news/strike.md" in out
    assert "behind: news/march.ru.md (its original news/march.md was updated 2020-09-10)" in out
    assert "en (English): 1 to translate, 0 behind the original" in out
    assert "be (Беларуская): 1 to translate" in out and "to translate: ru/news/only.md" in out
    # A translation starts with the original's fields, its key, its text, as a draft beside it.
    code, out, err = run_cli(
        "new", "-s", str(root), "--translation-of", str(root / "content/news/strike.md"), "--language", "ru"
    )
    assert code == 0, err
    made = root / "content/news/strike.ru.md"
    first, preview = out.strip().splitlines()
    assert first.endswith("strike.ru.md") and made.is_file()
    assert preview.endswith("at http://127.0.0.1:8000/ru/news/2020/09/04/strike/")  # under its language
    text = made.read_text(encoding="utf-8")
    assert "title: Забастоўка" in text and "translation_key: strike" in text and "draft: true" in text
    assert "First paragraph." in text
    code, _, err = run_cli(
        "new", "-s", str(root), "--translation-of", str(root / "content/ru/news/only.md"), "-l", "en"
    )
    assert code == 0 and (root / "content/en/news/only.md").is_file(), err  # the language-folder convention
    code, _, err = run_cli(
        "new", "-s", str(root), "--translation-of", str(made.with_name("strike.md")), "-l", "ru"
    )
    assert code == 1 and "the 'ru' translation exists" in err and "Traceback" not in err
    code, _, err = run_cli("new", "-s", str(root), "--translation-of", str(made), "-l", "fr")
    assert code == 1 and "the site has no language 'fr'" in err and "its languages: be, en, ru" in err
    code, out, err = run_cli("check", "-s", str(root), "--drafts")
    assert code == 0 and "ru (Русский): 0 to translate, 1 behind the original" in out, err


def test_editions_and_newsletters_are_per_language_in_its_words(make_site: MakeSite) -> None:
    config = LISTS.replace(
        "  - {key: belarus, title: Belarus}", "  - {key: belarus, title: Belarus, edition: monthly}"
    )
    config += "newsletter: {from: 'D <d@example.org>', unsubscribe: https://example.org/u}\n"
    root = make_site(
        {
            "content/belarus/march.md": article_text("Марш", "2020-09-03"),
            "content/belarus/march.ru.md": article_text("Марш по-русски", "2020-09-03"),
            "content/belarus/strike.en.md": article_text("The strike", "2020-10-26"),
        },
        config=config,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    site = root / "site"
    be = (site / "belarus/editions/2020-09/index.html").read_text(encoding="utf-8")
    ru = (site / "ru/belarus/editions/2020-09/index.html").read_text(encoding="utf-8")
    assert "Belarus: верасень 2020" in be and "Марш по-русски" not in be
    assert "Belarus: сентябрь 2020" in ru and "Марш по-русски" in ru
    assert (
        not (site / "ru/belarus/editions/2020-10").exists()
        and (site / "en/belarus/editions/2020-10").is_dir()
    )
    code, _, err = run_cli("newsletter", "belarus", "-s", str(root), "--language", "ru")
    assert code == 0, err
    letter = root / "newsletters/belarus-2020-09-ru"
    html = (letter / "newsletter.html").read_text(encoding="utf-8")
    assert 'lang="ru"' in html and "Марш по-русски" in html and "/ru/belarus/2020/09/03/march/" in html
    text = (letter / "newsletter.txt").read_text(encoding="utf-8")
    assert "Читать на сайте: https://digest.example/ru/belarus/editions/2020-09/" in text
    assert "Отписаться: https://example.org/u" in text and "Unsubscribe" not in text
    code, _, err = run_cli("newsletter", "belarus", "-s", str(root), "--language", "fr")
    assert code == 1 and "the site has no language 'fr'" in err


def test_an_edit_to_one_translation_rebuilds_to_what_a_clean_build_gives(tmp_path: Path) -> None:
    """Incremental builds of the multilingual example: each change re-renders what it must (its own
    pages, and the switchers and alternates of its siblings) and equals a clean build byte for byte."""
    import shutil

    from generator.driver.pipeline import build
    from tests.conftest import FIXED_NOW, MULTILINGUAL, assert_same_site

    root = tmp_path / "src"
    shutil.copytree(MULTILINGUAL, root)
    content = root / "content" / "belarus"
    out = tmp_path / "out"
    build(root, output_dir=out, now=FIXED_NOW)
    strike_be = out / "belarus/2020/10/26/national-strike/index.html"
    changes = {
        "edit a translation's text": lambda: _replace(
            content / "2020-08-16-march-for-freedom.ru.md", "мирно", "спокойно"
        ),
        "retitle a translation": lambda: _replace(
            content / "2020-08-16-march-for-freedom.en.md", "draws", "gathers"
        ),
        "add a translation": lambda: (content / "2020-10-26-national-strike.en.md").write_text(
            article_text("The national strike", "2020-10-26 10:00"), encoding="utf-8"
        ),
        "remove a translation": lambda: (content / "2020-09-05-womens-march.en.md").unlink(),
        "rename a language": lambda: _replace(
            root / "config.yaml", "title: Solidarity", "title: Solidarity Digest"
        ),
    }
    for name, change in changes.items():
        change()
        summary = build(root, output_dir=out, now=FIXED_NOW)
        clean = tmp_path / "clean"
        shutil.rmtree(clean, ignore_errors=True)
        build(root, output_dir=clean, now=FIXED_NOW, use_cache=False)
        assert_same_site(out, clean, name)
        if name == "edit a translation's text":
            assert 0 < summary.rendered < summary.pages / 4, name
        if name == "add a translation":  # the Belarusian original's switcher and alternates lead to it now
            assert (
                'hreflang="en" href="https://example.org/solidarity/en/belarus/2020/10/26/national-strike/"'
                in (strike_be.read_text(encoding="utf-8"))
            )


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_slugs_are_spelled_by_each_languages_rules_only_when_asked(make_site: MakeSite) -> None:
    files = {
        "content/news/2020-09-03-київ-сьогодні.md": article_text("Київ", "2020-09-03", lang="uk"),
        "content/news/гродна.md": article_text("Гродна", "2020-09-04"),  # the default's: Belarusian
        "content/news/münchen.md": article_text("München", "2020-09-05", lang="de"),
        "content/news/москва.md": article_text("Москва", "2020-09-06", lang="ru"),
        "content/news/titled.md": article_text("Ціханоўская", "2020-09-07", slug="Магілёў"),
    }
    standard = make_site(files, config=HEAD + "language: be\n")
    code, _, err = run_cli("build", "-s", str(standard))
    assert code == 0, err
    made = {p.parent.name for p in (standard / "site/news").glob("2020/09/*/*/index.html")}
    assert made == {"kiiv-sogodni", "grodna", "munchen", "moskva", "magileu"}  # today's slugs, kept

    by_language = make_site(files, config=HEAD + "language: be\ntransliteration: language\n")
    code, _, err = run_cli("build", "-s", str(by_language))
    assert code == 0, err
    made = {p.parent.name for p in (by_language / "site/news").glob("2020/09/*/*/index.html")}
    assert made == {"kyiv-sohodni", "hrodna", "muenchen", "moskva", "mahiliou"}

    code, out, _ = run_cli("new", "Вызваленне Гомеля", "--collection", "news", "-s", str(by_language))
    assert code == 0 and "vyzvaliennie-homielia" in out

    (by_language / "config.yaml").write_text(HEAD + "transliteration: belarusian\n", encoding="utf-8")
    code, _, err = run_cli("build", "-s", str(by_language))
    assert code == 1 and "config.yaml:4" in err and "'transliteration' must be standard or language" in err


def test_each_languages_transliteration_follows_its_official_romanization() -> None:
    from generator.base.urls import slugify

    cases = {
        ("uk", "Згорани"): "zghorany",  # зг apart from ж
        ("uk", "Євген Їжак"): "yevhen-yizhak",  # є, ї at a word's start
        ("uk", "Юрій Пилип"): "yurii-pylyp",
        ("uk", "з'їзд у Києві"): "zizd-u-kyievi",  # the apostrophe dropped, є inside a word
        ("be", "Ціханоўская"): "tsikhanouskaya",  # я after a vowel
        ("be", "Зьезд сям'і"): "zyezd-siami",
        ("be", "Беларусь"): "bielarus",  # е after a consonant
        ("be-tarask", "Гродна"): "hrodna",
        ("bg", "София Щастие"): "sofia-shtastie",
        ("de", "Grüße aus Köln"): "gruesse-aus-koeln",
        ("ru", "Київ"): "kiiv",  # a language without rules: the standard slug
        ("", "Київ"): "kiiv",
    }
    assert {key: slugify(key[1], key[0]) for key in cases} == cases


def test_the_default_language_in_its_own_folder_leaves_a_root_that_leads_there(make_site: MakeSite) -> None:
    from tests.hreflang import problems
    from tests.linkcheck import broken_links

    root = make_site(
        {
            "content/news/march.md": article_text("Марш", "2020-09-03"),
            "content/news/march.en.md": article_text("The march", "2020-09-03"),
        },
        config=CONFIG + "default_language_in_subdir: true\n",
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    site = root / "site"
    assert (site / "be/news/2020/09/03/march/index.html").is_file()
    assert not (site / "news").exists()  # nothing of the default's at the root
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'content="0; url=./be/"' in home and 'href="https://digest.example/be/"' in home
    assert "/ /be/ 302" in (site / "_redirects").read_text(encoding="utf-8")
    assert "Старонка не знойдзена" in (site / "404.html").read_text(encoding="utf-8")  # the default's
    page = (site / "en/news/2020/09/03/march/index.html").read_text(encoding="utf-8")
    assert alternates(page)["be"] == "https://digest.example/be/news/2020/09/03/march/"
    assert problems(site, "https://digest.example/") == []
    assert broken_links(site) == []


def test_a_collection_is_named_in_each_language_wherever_it_is_shown(make_site: MakeSite) -> None:
    config = LISTS.replace(
        "  - {key: belarus, title: Belarus}",
        "  - key: belarus\n    title: {be: Беларусь, en: Belarus in English}\n"
        "    description: {en: The protests}\n    edition: monthly",
    )
    root = make_site(
        {
            "content/belarus/march.md": article_text("Марш", "2020-09-03"),
            "content/belarus/march.ru.md": article_text("Марш по-русски", "2020-09-03"),
            "content/belarus/march.en.md": article_text("The march", "2020-09-03"),
        },
        config=config,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    site = root / "site"
    read = lambda path: (site / path).read_text(encoding="utf-8")  # noqa: E731
    en = read("en/belarus/index.html")
    assert "<h1>Belarus in English</h1>" in en and "The protests" in en
    assert "Belarus in English</a>" in read("en/belarus/2020/09/03/march/index.html")  # the kicker
    assert "<h1>Belarus in English: September 2020</h1>" in read("en/belarus/editions/2020-09/index.html")
    assert "<title>Belarus in English · Solidarity</title>" in read("en/belarus/feed.xml")
    assert "<h1>Беларусь</h1>" in read("belarus/index.html") and "Belarus in English" not in read(
        "index.html"
    )
    assert "<h1>Беларусь</h1>" in read("ru/belarus/index.html")  # no Russian title: the default's

    bad = config.replace("en: Belarus in English", "fr: Biélorussie")
    (root / "config.yaml").write_text(bad, encoding="utf-8")
    code, _, err = run_cli("build", "-s", str(root))
    line = bad.splitlines().index("  - key: belarus") + 1
    assert code == 1 and f"config.yaml:{line}" in err and "no language 'fr' in 'languages:'" in err
