from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.base.model import Config, LanguageSpec
from generator.build import feeds
from generator.build.feeds import entry_id, render_feeds, render_robots, render_sitemap
from generator.driver.pipeline import BuildResult, render_site
from tests.conftest import FIXED_NOW, SAMPLE_SITE, make_article


@pytest.fixture(scope="module")
def result() -> BuildResult:
    return render_site(SAMPLE_SITE, now=FIXED_NOW)


def test_every_feed_parses_cleanly_with_complete_entries(result: BuildResult) -> None:
    feeds = {str(f.path): f for f in render_feeds(result.plan.site)}
    atom = [p for p in feeds if p.endswith("feed.xml")]
    assert atom[:3] == ["feed.xml", "belarus/feed.xml", "world/feed.xml"]
    assert all(p.startswith("tags/") for p in atom[3:]) and len(atom) > 5  # and one per tag
    for path in atom:
        folder = path.removesuffix("feed.xml")
        atom_feed, rss_feed = (
            feedparser.parse(feeds[path].content),
            feedparser.parse(feeds[folder + "rss.xml"].content),
        )
        json_feed = json.loads(feeds[folder + "feed.json"].content)
        assert not atom_feed.bozo and not rss_feed.bozo, (path, atom_feed.get("bozo_exception"))
        assert (atom_feed.version, rss_feed.version) == ("atom10", "rss20")
        assert json_feed["version"] == "https://jsonfeed.org/version/1.1"
        assert atom_feed.entries
        for entry in atom_feed.entries:
            assert entry.title and entry.id and entry.published_parsed and entry.updated_parsed
            assert entry.link.startswith("https://example.org/sub/path/")
        ids = [e.id for e in atom_feed.entries]
        assert [e.id for e in rss_feed.entries] == ids == [item["id"] for item in json_feed["items"]]
        assert [e.link for e in rss_feed.entries] == [item["url"] for item in json_feed["items"]]
        assert all(item["content_html"] and item["date_published"] for item in json_feed["items"])


def test_site_feed_holds_the_newest_entries_up_to_the_limit(result: BuildResult) -> None:
    parsed = feedparser.parse(render_feeds(result.plan.site)[0].content)
    assert len(parsed.entries) == 3  # feed_entries in the sample config
    assert parsed.entries[0].title == "The Kremlin fears a repetition of the Belarusian scenario"
    assert parsed.feed.links[0].href == "https://example.org/sub/path/feed.xml"
    assert parsed.feed.updated == "2020-09-03T10:00:00+03:00"


def test_escaped_title_and_html_content_survive_the_round_trip(result: BuildResult) -> None:
    world = next(f for f in render_feeds(result.plan.site) if str(f.path) == "world/feed.xml")
    parsed = feedparser.parse(world.content)
    entry = next(e for e in parsed.entries if "script" in e.title)
    assert entry.title == "Tags <script>alert(1)</script> & ampersands"
    assert "<table>" in entry.content[0].value
    assert entry.updated.startswith("2020-08-31")


def test_entry_ids_are_tag_uris_unless_front_matter_gives_one() -> None:
    article = make_article()
    site = Config(root=Path("."), base_url="https://example.org/")
    assert (
        entry_id(article, replace(site, base_url="https://example.org:8080/x/"))
        == "tag:example.org,2020-09-03:/x/a/"
    )
    renamed = dataclasses.replace(article, title="A corrected headline", collections=())
    assert entry_id(renamed, site) == "tag:example.org,2020-09-03:/a/"
    given = make_article(extra={"id": "urn:uuid:1234"})
    assert entry_id(given, site) == "urn:uuid:1234"
    # On a multilingual site the default language's ids stay as they were; a translation's has its language.
    many = replace(
        site, languages=(LanguageSpec("be", "Беларуская"), LanguageSpec("ru", "Русский")), language="be"
    )
    assert entry_id(dataclasses.replace(article, lang="be"), many) == "tag:example.org,2020-09-03:/a/"
    assert entry_id(dataclasses.replace(article, lang="ru"), many) == "tag:example.org,2020-09-03:/ru/a/"


def test_sitemap_lists_pages_but_not_404_search_and_robots_names_it(result: BuildResult) -> None:
    pages = [path for path in result.files if path.endswith(".html")]
    assert {"404.html", "search/index.html"} <= set(pages)
    (sitemap,) = render_sitemap(result.plan.site, pages)
    text = sitemap.content.decode()
    assert "<loc>https://example.org/sub/path/</loc>" in text
    assert "404" not in text and "/search/" not in text
    assert text.count("<url>") == len(pages) - 2
    assert "<lastmod>2020-09-03T10:00:00+03:00</lastmod>" in text
    robots = render_robots(result.plan.site).content.decode()
    assert "Sitemap: https://example.org/sub/path/sitemap.xml" in robots


def test_sitemap_splits_into_an_index_past_the_limit(
    result: BuildResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("generator.build.feeds.SITEMAP_LIMIT", 5)
    pages = [path for path in result.files if path.endswith(".html")]
    files = render_sitemap(result.plan.site, pages)
    assert str(files[-1].path) == "sitemap.xml"
    assert b"<sitemapindex" in files[-1].content
    assert len(files) - 1 == -(-(len(pages) - 2) // 5)  # all but the 404 and search pages


def test_feed_without_articles_is_still_valid(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("base_url: https://e.org/\n", encoding="utf-8")
    empty = render_site(tmp_path, now=FIXED_NOW)
    parsed = feedparser.parse(render_feeds(empty.plan.site)[0].content)
    assert not parsed.bozo and parsed.entries == []


@given(st.text())
def test_escaping_is_the_standard_librarys(text: str) -> None:
    from xml.sax.saxutils import escape, quoteattr

    assert feeds.escape(text) == escape(text)
    assert feeds.quoteattr(text) == quoteattr(text)
