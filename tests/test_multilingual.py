"""The bundled multilingual example (examples/multilingual: the Belarus collection in Belarusian,
Russian and English, some articles without a translation, one Arabic article) judged as a reader
and a search engine would: feeds in every language, a Google-style hreflang check, and in Chromium
the switcher leading to the same article in the other language and back, axe at zero in every
language, and the Arabic page reading right to left (its screenshot is in tests/artifacts/screens/).

The Nu checker and the link checker run on it with the other sites, in test_validity.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from tests.conftest import MakeSite, article_text, run_cli
from tests.hreflang import problems
from tests.test_browser import Visit, serving

pytestmark = pytest.mark.slow

BASE_URL = "https://example.org/digest/"
MARCH = "belarus/2020/08/16/march-for-freedom/"
ARABIC = "belarus/2020/09/20/arab-press/"


def test_every_language_has_its_feeds_with_only_its_articles(multilingual_site: Path) -> None:
    for prefix, lang, count in (("", "be", 5), ("ru/", "ru", 2), ("en/", "en", 3)):
        for feed in (
            "feed.xml",
            "rss.xml",
            "belarus/feed.xml",
            "belarus/rss.xml",
            "belarus/editions/feed.xml",
        ):
            parsed = feedparser.parse((multilingual_site / prefix / feed).read_bytes())
            assert not parsed.bozo and parsed.entries, prefix + feed
            if "editions" not in feed:
                assert len(parsed.entries) == count, prefix + feed
                assert all(e.link.startswith(BASE_URL + prefix + "belarus/2020/") for e in parsed.entries)
        assert feedparser.parse((multilingual_site / prefix / "feed.xml").read_bytes()).feed.language == lang
        items = json.loads((multilingual_site / prefix / "feed.json").read_text(encoding="utf-8"))["items"]
        assert len(items) == count


def test_every_hreflang_set_is_reciprocal_and_names_pages_that_exist(multilingual_site: Path) -> None:
    assert problems(multilingual_site, BASE_URL) == []
    sitemap = (multilingual_site / "sitemap.xml").read_text(encoding="utf-8")
    assert sitemap.count("<xhtml:link") > 30


def test_the_hreflang_check_finds_a_missing_return_link(multilingual_site: Path, tmp_path: Path) -> None:
    """Guards the test above: a translation that does not link back is reported."""
    import shutil

    site = tmp_path / "site"
    shutil.copytree(multilingual_site, site)
    page = site / "ru" / MARCH / "index.html"
    html = page.read_text(encoding="utf-8")
    page.write_text(
        html.replace(f'hreflang="en" href="{BASE_URL}en/{MARCH}"', 'hreflang="en" href="x"'), "utf-8"
    )
    found = problems(site, BASE_URL)
    assert any("does not link back" in p for p in found) and any("does not exist" in p for p in found)


@pytest.fixture(scope="module")
def ml_origin(multilingual_site: Path) -> Iterator[str]:
    with serving(multilingual_site) as found:
        yield found


def _switch(tab: Visit, lang: str) -> None:
    with tab.page.expect_navigation():
        tab.page.click(f'nav.languages a[hreflang="{lang}"]')


def test_the_switcher_leads_to_the_translation_and_back_else_to_the_languages_home(
    browser: Any, ml_origin: str
) -> None:
    tab = Visit(browser, ml_origin)
    tab.goto(MARCH)
    _switch(tab, "ru")
    assert tab.page.url.endswith("/digest/ru/" + MARCH)
    assert tab.page.locator("h1").inner_text() == "Марш за свободу собрал сотни тысяч"
    _switch(tab, "en")
    assert tab.page.url.endswith("/digest/en/" + MARCH)
    _switch(tab, "be")
    assert tab.page.url.endswith("/digest/" + MARCH)
    tab.goto("belarus/2020/10/26/national-strike/")  # in Russian, not in English
    _switch(tab, "en")
    assert tab.page.url.endswith("/digest/en/")
    assert tab.page.locator("html").get_attribute("lang") == "en"
    assert [p for p in tab.problems if "ERR_ABORTED" not in p] == []  # a click may cut a page's icon short
    tab.close()


PAGES = ["", f"en/{MARCH}", "ru/belarus/", "en/belarus/editions/", ARABIC]  # each kind and language


def test_pages_in_every_language_pass_axe_with_no_errors(browser: Any, ml_origin: str) -> None:
    tab = Visit(browser, ml_origin)  # one tab for them all: a context costs more than a page
    for path in PAGES:
        response = tab.goto(path)
        tab.screenshot("multilingual-" + (path.strip("/").replace("/", "-") or "home"))
        assert response.status == 200, path
        assert tab.axe() == [], path
    assert tab.problems == [] and tab.foreign == []
    tab.close()


def test_the_arabic_article_reads_right_to_left(browser: Any, ml_origin: str) -> None:
    tab = Visit(browser, ml_origin, viewport={"width": 1024, "height": 900})
    tab.goto(ARABIC)
    tab.screenshot("multilingual-rtl-article")
    found = tab.page.evaluate(
        """() => {
        const p = document.querySelector('.body p');
        const range = document.createRange();
        range.setStart(p.firstChild, 0); range.setEnd(p.firstChild, 1);
        const first = range.getBoundingClientRect(), box = p.getBoundingClientRect();
        const masthead = document.querySelector('.masthead');
        return {dir: document.documentElement.dir, direction: getComputedStyle(p).direction,
                fromRight: box.right - first.right, fromLeft: first.left - box.left,
                mastheadDir: getComputedStyle(masthead).direction,
                overflow: document.documentElement.scrollWidth - window.innerWidth};
    }"""
    )
    assert found["dir"] == "rtl" and found["direction"] == "rtl"
    assert found["fromRight"] < 2 < found["fromLeft"]  # its first letter at the right edge of the text
    assert found["mastheadDir"] == "ltr"  # the Belarusian interface around it reads left to right
    assert found["overflow"] <= 0  # nothing pushed off the page's side
    tab.close()


def test_search_from_a_belarusian_page_finds_belarusian_first_and_widens_to_every_language(
    browser: Any, ml_origin: str
) -> None:
    tab = Visit(browser, ml_origin)
    tab.goto("search/?q=" + "марш")  # Belarusian «марш»: Russian has the same word
    page = tab.page
    page.wait_for_function("() => document.querySelector('.search-page .search').dataset.shown === 'марш'")
    mine = page.locator(".search-page .hit-title a").evaluate_all("links => links.map(a => a.href)")
    assert mine and not any("/ru/" in link or "/en/" in link for link in mine)
    page.check(".search-every input")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.search-page .hit-title a')].some(a => a.href.includes('/ru/'))"
    )
    every = page.locator(".search-page .hit-title a").evaluate_all("links => links.map(a => a.href)")
    russian = [i for i, link in enumerate(every) if "/ru/" in link]
    assert len(every) > len(mine) and min(russian) == len(mine)  # Belarusian first, then the rest
    assert "every=1" in page.url
    assert tab.axe() == []
    tab.screenshot("multilingual-search-every-language")
    assert tab.problems == [] and tab.foreign == []
    tab.close()


def test_an_edit_on_a_multilingual_site_reads_only_the_articles_its_pages_show(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.incremental import keptplan

    files: dict[str, str | bytes] = {}
    for n in range(40):
        lang = "ru" if n % 3 else "en"
        files[f"content/world/story-{n:02d}.md"] = article_text(
            f"Story {n}", f"2020-{1 + n % 12:02d}-{1 + n % 28:02d}", collection="world", lang=lang
        )
    config = (
        "title: T\nbase_url: https://example.org/\nsearch: false\nsocial_cards: false\n"
        "collections: [{key: world, title: World}]\n"
        "languages:\n  - {code: en, name: English, default: true}\n  - {code: ru, name: Русский}\n"
    )
    root = make_site(files, config)
    assert run_cli("build", "--source", str(root))[0] == 0
    story = root / "content/world/story-07.md"
    story.write_text(story.read_text(encoding="utf-8").replace("Second paragraph", "Edited"), "utf-8")
    read: list[str] = []
    real = keptplan.SiteArticles.__getitem__

    def counted(self: Any, article_id: str) -> Any:
        read.append(article_id)
        return real(self, article_id)

    monkeypatch.setattr(keptplan.SiteArticles, "__getitem__", counted)
    code, out, _ = run_cli("build", "--source", str(root))
    assert code == 0 and "rendered" in out
    assert read and len(set(read)) < 30, sorted(set(read))  # not every article, to learn its language
