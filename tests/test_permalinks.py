"""URLs a newsroom can keep: recurring headlines, corrected headlines, permalink patterns, redirects."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser

from tests.conftest import MakeSite, article_text, run_cli

CONFIG = """\
title: Forever
base_url: https://news.example/
collections: [{key: world, title: World}]
"""


def entries(root: Path) -> dict[str, tuple[str, str]]:
    """Each feed entry's title: (id, link)."""
    feed = feedparser.parse((root / "site" / "feed.xml").read_bytes())
    return {e.title: (e.id, e.link) for e in feed.entries}


def test_recurring_headlines_build_with_urls_of_their_own(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/2020-09-03-weekly-briefing.md": article_text("Weekly briefing", "2020-09-03"),
            "content/world/2020-09-10-weekly-briefing.md": article_text("Weekly briefing", "2020-09-10"),
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    for day in ("03", "10"):
        assert (root / "site" / "world" / "2020" / "09" / day / "weekly-briefing" / "index.html").is_file()


def test_a_corrected_headline_keeps_the_url_and_the_feed_id(make_site: MakeSite) -> None:
    article = "content/world/minsk-march.md"
    root = make_site({article: article_text("Thousands march in Minsk", "2020-09-06")}, config=CONFIG)
    assert run_cli("build", "-s", str(root))[0] == 0
    before = entries(root)["Thousands march in Minsk"]
    path = root / article
    path.write_text(
        path.read_text(encoding="utf-8").replace("Thousands", "Tens of thousands"), encoding="utf-8"
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    assert entries(root)["Tens of thousands march in Minsk"] == before
    assert before[1] == "https://news.example/world/2020/09/06/minsk-march/"


def test_a_site_wide_pattern_reaches_pages_feeds_and_the_sitemap(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("A", "2020-09-03"),
            "content/b.md": article_text("B", "2020-09-04"),
        },
        config=CONFIG + "permalink: /:year/:month/:day/:slug/\n",
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    site = root / "site"
    assert (site / "2020/09/03/a/index.html").is_file() and (site / "2020/09/04/b/index.html").is_file()
    assert entries(root)["A"][1] == "https://news.example/2020/09/03/a/"
    assert "<loc>https://news.example/2020/09/04/b/</loc>" in (site / "sitemap.xml").read_text(
        encoding="utf-8"
    )
    assert 'href="../2020/09/03/a/"' in (site / "world" / "index.html").read_text(encoding="utf-8")


def test_a_collection_pattern_and_a_front_matter_url(make_site: MakeSite) -> None:
    config = CONFIG.replace(
        "{key: world, title: World}", "{key: world, title: World, permalink: '/w/:slug.html'}"
    )
    root = make_site(
        {"content/world/a.md": article_text("A"), "content/about.md": article_text("About us", url="/about")},
        config=config,
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    assert (root / "site" / "w" / "a.html").is_file() and (root / "site" / "about" / "index.html").is_file()


def test_an_unknown_token_is_an_error_at_its_line(make_site: MakeSite) -> None:
    root = make_site({"content/world/a.md": article_text("A")}, config=CONFIG + "permalink: /:yr/:slug/\n")
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and re.search(r"config\.yaml:4: error: unknown token ':yr'", err), err
    assert ":year" in err  # the hint lists the tokens


def test_an_alias_redirects_and_yields_to_a_page(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("A", aliases="[/world/old-a/, /2019/a.html]"),
            "content/world/b.md": article_text("B", "2020-09-01", redirect_from="/world/old-b/"),
        },
        config=CONFIG,
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    page = (root / "site" / "world" / "old-a" / "index.html").read_text(encoding="utf-8")
    assert '<meta http-equiv="refresh" content="0; url=../../world/2020/09/03/a/">' in page
    assert '<link rel="canonical" href="https://news.example/world/2020/09/03/a/">' in page
    assert '<meta name="robots" content="noindex">' in page
    assert (root / "site" / "2019" / "a.html").is_file()
    assert (root / "site" / "_redirects").read_text(encoding="utf-8").splitlines() == [
        "/2019/a.html /world/2020/09/03/a/ 301",
        "/world/old-a/ /world/2020/09/03/a/ 301",
        "/world/old-b/ /world/2020/09/01/b/ 301",
    ]
    assert "old-a" not in (root / "site" / "sitemap.xml").read_text(encoding="utf-8")
    (root / "content/world/c.md").write_text(
        article_text("C", aliases="[/world/2020/09/01/b/]"), encoding="utf-8"
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err  # as Hugo does: the page stays, the redirect is not written, and that is said
    assert "c.md" in err and "the redirect from /world/2020/09/01/b/index.html is not written" in err
    page = (root / "site" / "world" / "2020" / "09" / "01" / "b" / "index.html").read_text(encoding="utf-8")
    assert "<h1>B</h1>" in page


def test_check_reports_a_url_the_last_build_published(make_site: MakeSite) -> None:
    root = make_site({"content/world/a.md": article_text("A")}, config=CONFIG)
    assert run_cli("build", "-s", str(root))[0] == 0
    (root / "content/world/a.md").rename(root / "content/world/renamed.md")
    code, out, err = run_cli("check", "-s", str(root))
    assert code == 0 and "1 warning" in out
    assert "/world/2020/09/03/a/ was published by the last build" in err
    assert "aliases: [/world/2020/09/03/a/]" in err
    path = root / "content/world/renamed.md"
    path.write_text(article_text("A", aliases="[/world/2020/09/03/a/]"), encoding="utf-8")
    code, out, err = run_cli("check", "-s", str(root))
    assert code == 0 and "no problems found" in out, err
