"""Archives from other generators build as they are: Jekyll, Hugo (YAML, TOML, JSON), Zola, Pelican.

Everything marked unpublished (a draft, `published: false`, `_drafts/`, `Status: draft`, a future
`publishDate`, a past `expiryDate`) carries the word NEVERPUBLISHED, and no file of the build,
the search index's compressed fragments included, may hold it.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import feedparser
import pytest

from tests.conftest import MakeSite, run_cli

CONFIG = """\
title: Migrated
base_url: https://news.example/
timezone: Europe/Vilnius
collections: [{key: world, title: World}]
menu: [{title: About, url: /about/}]
"""

HIDDEN = "NEVERPUBLISHED"

ARCHIVE = {
    # Jekyll: *.markdown, categories and space-separated tags, redirect_from, excerpt_separator, Liquid.
    "content/_posts/2020-09-01-minsk-march.markdown": """\
        ---
        layout: post
        title: Minsk marches again
        categories: world politics
        tags: minsk protests
        redirect_from: /2020/09/01/minsk-march.html
        excerpt_separator: <!--cut-->
        ---
        The opening words of the story.
        <!--cut-->
        More, with a {% include note.html %} Liquid tag.
        """,
    "content/_posts/2020-09-02-withdrawn.md": f"---\ntitle: {HIDDEN} withdrawn\npublished: false\n---\n{HIDDEN}\n",
    "content/_drafts/half-written.md": f"---\ntitle: {HIDDEN} draft\n---\n{HIDDEN} text.\n",
    # Hugo: YAML with url, aliases, lastmod and <!--more-->; TOML; JSON; publishDate; expiryDate; _index.md.
    "content/hugo/yaml-post.md": """\
        ---
        title: Hugo in YAML
        date: 2020-09-03T10:00:00+03:00
        lastmod: 2020-09-05
        url: /hugo/yaml/
        aliases: [/posts/hugo-in-yaml/]
        ---
        The summary part.
        <!--more-->
        The rest of it.
        """,
    "content/hugo/toml-post.md": """\
        +++
        title = "Hugo in TOML"
        date = 2020-09-04T10:00:00+03:00
        tags = ["toml"]
        +++
        Here is a map: {{< map region="minsk" >}}
        """,
    "content/hugo/json-post.md": '{\n  "title": "Hugo in JSON",\n  "date": "2020-09-05"\n}\nJSON body.\n',
    "content/hugo/later.md": f'+++\ntitle = "{HIDDEN} later"\ndate = 2020-09-06\npublishDate = 2099-01-01\n+++\n{HIDDEN}\n',
    "content/hugo/expired.md": f"---\ntitle: {HIDDEN} expired\ndate: 2020-08-01\nexpiryDate: 2020-08-15\n---\n{HIDDEN}\n",
    "content/world/_index.md": '+++\ntitle = "World"\ndescription = "Described by a section file."\n+++\n',
    # Zola: TOML with [taxonomies] and [extra]; a draft.
    "content/zola/zola-post.md": """\
        +++
        title = "From Zola"
        date = 2020-09-07
        [taxonomies]
        tags = ["zola"]
        categories = ["World"]
        [extra]
        lead = true
        +++
        Zola body.
        """,
    "content/zola/zola-draft.md": f'+++\ntitle = "{HIDDEN} zola"\ndate = 2020-09-08\ndraft = true\n+++\n{HIDDEN}\n',
    # Pelican: the Key: value header.
    "content/pelican/pelican-post.md": """\
        Title: From Pelican
        Date: 2020-09-09 10:20
        Category: World
        Tags: pelican, migration
        Slug: from-pelican
        Authors: Ann Example, Bob Example
        Summary: A post that Pelican wrote.

        Pelican body.
        """,
    "content/pelican/pelican-draft.md": f"Title: {HIDDEN} pelican\nDate: 2020-09-10\nStatus: draft\n\n{HIDDEN}\n",
    # A standalone page.
    "content/pages/about.md": "---\ntitle: About us\n---\nWho we are.\n",
}


@pytest.fixture
def migrated(make_site: MakeSite) -> tuple[Path, str]:
    root = make_site(ARCHIVE, config=CONFIG)
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    return root, err


def every_text(folder: Path) -> dict[str, bytes]:
    """Every file of the build, the search index's gzipped fragments and metadata unpacked."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            found[path.relative_to(folder).as_posix()] = data
    return found


def test_nothing_unpublished_reaches_any_file(migrated: tuple[Path, str]) -> None:
    root, _ = migrated
    files = every_text(root / "site")
    assert any(p.startswith("pagefind/") and p.endswith(".pf_fragment") for p in files)
    leaked = [path for path, data in files.items() if HIDDEN.encode() in data or b"neverpublished" in data]
    assert leaked == []


def test_every_format_builds_with_its_fields(migrated: tuple[Path, str]) -> None:
    root, _ = migrated
    site = root / "site"
    jekyll = (site / "world/2020/09/01/minsk-march/index.html").read_text(encoding="utf-8")
    assert "Minsk marches again" in jekyll and 'rel="tag">politics</a>' in jekyll and ">minsk</a>" in jekyll
    assert (site / "2020/09/01/minsk-march.html").is_file()  # redirect_from
    assert (site / "hugo/yaml/index.html").is_file() and (site / "posts/hugo-in-yaml/index.html").is_file()
    assert (site / "2020/09/04/toml-post/index.html").is_file() and (
        site / "2020/09/05/json-post/index.html"
    ).is_file()
    assert (site / "world/2020/09/07/zola-post/index.html").is_file()
    pelican = (site / "world/2020/09/09/from-pelican/index.html").read_text(encoding="utf-8")
    assert "Ann Example" in pelican and ">pelican</a>" in pelican
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo
    summaries = {e.title: e.summary for e in feed.entries}
    assert summaries["Minsk marches again"] == "The opening words of the story."
    assert summaries["Hugo in YAML"] == "The summary part."
    assert "About us" not in summaries
    world = (site / "world/index.html").read_text(encoding="utf-8")
    assert "Described by a section file." in world
    about = (site / "about/index.html").read_text(encoding="utf-8")
    assert "Who we are." in about and 'href="../about/" aria-current="page">About</a>' in about


def test_what_is_read_but_not_supported_is_said_file_by_file(migrated: tuple[Path, str]) -> None:
    _, err = migrated
    assert "2020-09-01-minsk-march.markdown:11: warning: a Liquid tag" in err
    assert "toml-post.md:6: warning: a Hugo shortcode" in err


def test_an_expired_article_leaves_the_site_when_it_expires(make_site: MakeSite) -> None:
    from datetime import datetime, timezone

    from generator.driver.pipeline import build

    root = make_site(
        {
            "content/world/a.md": "---\ntitle: Short-lived\ndate: 2020-09-01\nexpiryDate: 2020-10-01\n---\nText.\n"
        },
        config=CONFIG,
    )
    page = root / "site" / "world" / "2020" / "09" / "01" / "a" / "index.html"
    build(root, now=datetime(2020, 9, 15, tzinfo=timezone.utc))
    assert page.is_file()
    summary = build(root, now=datetime(2020, 9, 20, tzinfo=timezone.utc))
    assert summary.files == 0  # nothing changed yet: the quick answer
    build(root, now=datetime(2020, 10, 2, tzinfo=timezone.utc))
    assert not page.exists()


def test_jekyll_permalinks_give_the_urls_jekyll_gave(make_site: MakeSite) -> None:
    post = "---\ntitle: A Headline Unlike The File\ncategories: [World, Politics]\n"
    root = make_site(
        {
            "content/_posts/2020-09-01-the-file.md": post
            + "permalink: /:categories/:year/:title/\n---\nText.\n",
            "content/_posts/2020-09-02-other.md": post.replace("File", "Other")
            + "permalink: /:title.html\n---\nB\n",
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    assert (root / "site/world/politics/2020/the-file/index.html").is_file()
    assert (root / "site/other.html").is_file()


def test_an_old_sites_search_page_gives_way_to_the_sites_own(make_site: MakeSite) -> None:
    """PaperMod's `content/search.md` (`layout: search`) is a title and the theme's script."""
    root = make_site({"content/pages/search.md": '---\ntitle: "Search"\nlayout: "search"\n---\n',
                      "content/world/a.md": "---\ntitle: A\ndate: 2020-09-01\ncollection: world\n---\n\nText.\n"})  # fmt: skip
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    assert "search.md: warning: this search page of the old site is not written at /search/index.html" in err
    assert 'id="search' in (root / "site" / "search" / "index.html").read_text(encoding="utf-8")
