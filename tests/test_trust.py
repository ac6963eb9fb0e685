"""What readers trust a digest by: where each story comes from (issue 16; sources so far)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser

from tests.conftest import MakeSite, article_text, run_cli

CONFIG = """\
title: Trusted
base_url: https://news.example/
collections: [{key: world, title: World}]
"""

TWO_SOURCES = """\
[https://www.agency.example/minsk/1,
 {name: The Daily Example, url: 'https://daily.example/story', author: Ann Reporter, published: 2020-09-02,
  archived: 'https://web.archive.org/web/2020/https://daily.example/story'}]"""


def built(make_site: MakeSite) -> Path:
    root = make_site(
        {
            "content/world/a.md": article_text("Two sources", "2020-09-03", source=TWO_SOURCES),
            "content/world/b.md": article_text(
                "One source", "2020-09-04", source="'https://agency.example/2'"
            ),
            "content/world/c.md": article_text("No source", "2020-09-05"),
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    return root / "site"


def test_sources_are_shown_on_the_page_and_in_the_json_ld(make_site: MakeSite) -> None:
    site = built(make_site)
    page = (site / "world/2020/09/03/a/index.html").read_text(encoding="utf-8")
    block = page.split('<div class="sources">')[1].split("</div>")[0]
    assert '<a href="https://www.agency.example/minsk/1" rel="external">agency.example</a>' in block
    assert (
        '<a href="https://daily.example/story" rel="external">The Daily Example</a>, by Ann Reporter' in block
    )
    assert '<time datetime="2020-09-02">September 2, 2020</time>' in block and "archived copy" in block
    assert 'href="../../../../../sources/the-daily-example/"' in block
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    based = data["isBasedOn"]
    assert [w["@type"] for w in based] == ["CreativeWork", "CreativeWork"]
    assert based[0] == {"@type": "CreativeWork", "url": "https://www.agency.example/minsk/1",
                        "publisher": {"@type": "Organization", "name": "agency.example"}}  # fmt: skip
    assert based[1]["author"] == {"@type": "Person", "name": "Ann Reporter"}
    assert based[1]["datePublished"] == "2020-09-02" and based[1]["archivedAt"].startswith(
        "https://web.archive"
    )


def test_each_outlet_has_a_page_of_what_the_digest_took_from_it(make_site: MakeSite) -> None:
    site = built(make_site)
    outlet = (site / "sources/agency-example/index.html").read_text(encoding="utf-8")
    titles = re.findall(r'class="item-title"><a href="[^"]+">([^<]+)</a>', outlet)
    assert titles == ["One source", "Two sources"]  # newest first
    index = (site / "sources/index.html").read_text(encoding="utf-8")
    assert index.index("agency.example") < index.index("The Daily Example")
    assert "<loc>https://news.example/sources/the-daily-example/</loc>" in (site / "sitemap.xml").read_text(
        encoding="utf-8"
    )


def test_feeds_say_where_a_story_comes_from(make_site: MakeSite) -> None:
    site = built(make_site)
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo
    via = {e.title: [link.href for link in e.links if link.rel == "via"] for e in feed.entries}
    assert via["Two sources"] == ["https://www.agency.example/minsk/1", "https://daily.example/story"]
    assert via["No source"] == []


def test_a_source_that_is_not_a_web_address_is_an_error_at_its_line(make_site: MakeSite) -> None:
    root = make_site(
        {"content/world/a.md": article_text("A", source="{name: X, url: 'ftp://x.example/'}")}, config=CONFIG
    )
    code, _, err = run_cli("check", "-s", str(root))
    assert code == 1 and "a.md:4: error: a source's url must start with http:// or https://" in err


CORRECTED = """[{date: 2020-09-06, text: 'An earlier version gave the wrong *day* of the march.'},
 {date: 2020-09-05, text: An earlier version misspelled a name.}]"""


def test_a_correction_is_shown_dated_in_the_page_json_ld_feeds_and_the_corrections_page(
    make_site: MakeSite,
) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("Corrected", "2020-09-03", corrections=CORRECTED),
            "content/world/b.md": article_text(
                "Also corrected", "2020-09-04", corrections="[{date: 2020-09-07, text: A figure was wrong.}]"
            ),
            "content/world/c.md": article_text("Fine", "2020-09-05"),
        },
        config=CONFIG,
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    site = root / "site"
    page = (site / "world/2020/09/03/a/index.html").read_text(encoding="utf-8")
    notice = page.split('<aside class="corrections"')[1].split("</aside>")[0]
    assert notice.index("September 6, 2020") < notice.index("September 5, 2020")  # newest first
    assert "the wrong <em>day</em> of the march" in notice
    assert page.index('<aside class="corrections"') < page.index('<div class="body">')  # at the top
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["dateModified"].startswith("2020-09-06")
    assert data["correction"][0] == {"@type": "CorrectionComment", "datePublished": data["correction"][0]["datePublished"],
                                     "text": "An earlier version gave the wrong day of the march."}  # fmt: skip
    entry = next(
        e for e in feedparser.parse((site / "feed.xml").read_bytes()).entries if e.title == "Corrected"
    )
    assert entry.updated.startswith("2020-09-06")
    listing = (site / "corrections/index.html").read_text(encoding="utf-8")
    order = [
        listing.index(text) for text in ("A figure was wrong", "the wrong <em>day</em>", "misspelled a name")
    ]
    assert order == sorted(order) and "Fine" not in listing
    feed = feedparser.parse((site / "corrections/feed.xml").read_bytes())
    assert not feed.bozo and [e.title for e in feed.entries] == ["Also corrected", "Corrected", "Corrected"]
    assert len({e.id for e in feed.entries}) == 3


def test_a_correction_older_than_its_article_is_an_error(make_site: MakeSite) -> None:
    late = "[{date: 2020-09-01, text: Too early.}]"
    root = make_site({"content/world/a.md": article_text("A", "2020-09-03", corrections=late)}, config=CONFIG)
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "a.md:4: error: a correction dated 2020-09-01 is older than the article" in err


def test_a_running_story_has_a_timeline_its_articles_link_along_it_and_a_feed(make_site: MakeSite) -> None:
    config = CONFIG.replace("collections: [{key: world, title: World}]", "collections: [{key: world, title: World}, "
                            "{key: belarus, title: Belarus}]\nstories: [{key: protests, title: The protests, "
                            "description: Day by day.}]")  # fmt: skip
    root = make_site(
        {
            "content/belarus/day1.md": article_text("Day one", "2020-08-10", story="protests"),
            "content/world/reaction.md": article_text("The world reacts", "2020-08-12", story="The protests"),
            "content/belarus/day30.md": article_text("Day thirty", "2020-09-06", story="protests"),
            "content/world/other.md": article_text("Unrelated", "2020-08-11"),
        },
        config=config,
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    site = root / "site"
    timeline = (site / "stories/protests/index.html").read_text(encoding="utf-8")
    titles = re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', timeline)
    assert titles == ["Day one", "The world reacts", "Day thirty"]  # date order, across collections
    assert "Day by day." in timeline
    middle = (site / "world/2020/08/12/reaction/index.html").read_text(encoding="utf-8")
    nav = middle.split('class="neighbours story-nav"')[1].split("</nav>")[0]
    assert 'href="../../../../../stories/protests/">The protests</a>' in nav
    assert "Day one" in nav and "Day thirty" in nav
    feed = feedparser.parse((site / "stories/protests/feed.xml").read_bytes())
    assert not feed.bozo and [e.title for e in feed.entries] == ["Day thirty", "The world reacts", "Day one"]


def test_every_feed_comes_in_three_formats_with_the_same_entries(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("First", "2020-09-03", tags="[minsk]", story="protests"),
            "content/world/b.md": article_text("Second", "2020-09-04", tags="[minsk]", story="protests"),
        },
        config=CONFIG + "feed_content: summary\n",
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    site = root / "site"
    for folder in ("", "world/", "tags/minsk/", "stories/protests/"):
        atom = feedparser.parse((site / folder / "feed.xml").read_bytes())
        rss = feedparser.parse((site / folder / "rss.xml").read_bytes())
        data = json.loads((site / folder / "feed.json").read_text(encoding="utf-8"))
        assert not atom.bozo and not rss.bozo and rss.version == "rss20"
        assert [e.id for e in atom.entries] == [e.id for e in rss.entries] == [i["id"] for i in data["items"]]
        assert [e.title for e in atom.entries] == ["Second", "First"]
        assert not any("content" in e for e in atom.entries)  # summaries only, as configured
        assert all(i["content_text"] == i["summary"] and "content_html" not in i for i in data["items"])
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'type="application/rss+xml" title="Trusted (RSS)" href="./rss.xml"' in home
    assert 'type="application/feed+json" title="Trusted (JSON Feed)" href="./feed.json"' in home
    tag = (site / "tags/minsk/index.html").read_text(encoding="utf-8")
    assert 'href="../../tags/minsk/rss.xml"' in tag


def test_an_author_has_a_page_feeds_a_linked_byline_and_a_person_in_the_json_ld(make_site: MakeSite) -> None:
    config = CONFIG + (
        "authors:\n  - {key: ann, name: Ann Reporter, bio: Covers Minsk., url: 'https://ann.example/'}\n"
    )
    root = make_site(
        {
            "content/world/a.md": article_text("By Ann", "2020-09-03", author="ann"),
            "content/world/b.md": article_text("By Ann again", "2020-09-04", author="'Ann Reporter'"),
            "content/world/c.md": article_text("By a guest", "2020-09-05", author="Guest Writer"),
        },
        config=config,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    site = root / "site"
    page = (site / "authors/ann/index.html").read_text(encoding="utf-8")
    titles = re.findall(r'class="item-title"><a href="[^"]+">([^<]+)</a>', page)
    assert titles == ["By Ann again", "By Ann"] and "Covers Minsk." in page and 'rel="me external"' in page
    article = (site / "world/2020/09/03/a/index.html").read_text(encoding="utf-8")
    assert '<a href="../../../../../authors/ann/" rel="author">Ann Reporter</a>' in article
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', article, re.S).group(1)
    )
    assert data["author"] == [{"@type": "Person", "name": "Ann Reporter", "url": "https://news.example/authors/ann/",
                               "sameAs": "https://ann.example/"}]  # fmt: skip
    guest = (site / "world/2020/09/05/c/index.html").read_text(encoding="utf-8")
    assert "Guest Writer" in guest and 'rel="author"' not in guest  # a byline without a page
    for name in ("feed.xml", "rss.xml", "feed.json"):
        assert (site / "authors/ann" / name).is_file()
    code, _, err = run_cli("check", "-s", str(root))
    assert code == 0 and "c.md: warning: the author 'Guest Writer' is not in authors: of config.yaml" in err


def test_one_article_with_everything_readers_trust_in_every_format(make_site: MakeSite) -> None:
    config = CONFIG + "authors: [{key: ann, name: Ann Reporter}]\n"
    story_file = "---\ntitle: The long march\ndescription: Every week of it.\n---\n"
    fields = {"author": "ann", "story": "long-march", "source": TWO_SOURCES,
              "corrections": "[{date: 2020-09-06, text: A date was wrong.}]"}  # fmt: skip
    root = make_site(
        {
            "content/stories/long-march.md": story_file,
            "content/world/a.md": article_text("All of it", **fields),
        },
        config=config,
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    site = root / "site"
    timeline = (site / "stories/long-march/index.html").read_text(encoding="utf-8")
    assert "<h1>The long march</h1>" in timeline and "Every week of it." in timeline
    rss = feedparser.parse((site / "rss.xml").read_bytes()).entries[0]
    assert [link.href for link in rss.links if link.rel == "via"][:1] == [
        "https://www.agency.example/minsk/1"
    ]
    assert rss.author == "Ann Reporter"
    item = json.loads((site / "feed.json").read_text(encoding="utf-8"))["items"][0]
    assert [s["name"] for s in item["_newsdigest"]["sources"]] == ["agency.example", "The Daily Example"]
    assert item["date_modified"].startswith("2020-09-06") and item["authors"] == [{"name": "Ann Reporter"}]
    atom = feedparser.parse((site / "stories/long-march/feed.xml").read_bytes()).entries[0]
    assert atom.updated.startswith("2020-09-06")
