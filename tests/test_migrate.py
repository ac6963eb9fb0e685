"""`digest migrate`: an archive of each generator (Jekyll, Hugo, Zola, Pelican), small and written
here with the cases real archives have, becomes a newsdigest site that builds, keeps every old URL,
and whose internal links all resolve; what cannot be honoured is said file by file."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import feedparser
import pytest
from PIL import Image

from tests.conftest import run_cli
from tests.linkcheck import broken_links


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 400), (30, 60, 90)).save(out, "PNG")
    return out.getvalue()


JEKYLL = {
    "_config.yml": """\
        title: Old Jekyll News
        url: https://old.example
        baseurl: /news
        timezone: Europe/Vilnius
        permalink: /:categories/:year/:month/:day/:title.html
        exclude: [notes.txt]
        repository: https://github.com/old/news
        collections:
          docs: {output: true, permalink: "/:collection/:path/"}
          drafts_box: {output: false}
        plugins: [jekyll-feed, jekyll-redirect-from, jekyll-scholar]
        defaults:
          - scope: {path: "", type: posts}
            values: {author: Desk}
        """,
    "_posts/2008-08-23-minsk-marches.md": """\
        ---
        layout: post
        title: Minsk marches
        date: 2008-08-23 14:00
        categories: world
        image: {path: /assets/img/march.png, alt: The march}
        ---
        The march, as in [the follow-up]({% post_url 2008-08-24-follow-up %}) and
        [about us]({{ site.baseurl }}{% link about.md %}).
        ![Crowd]({{ '/assets/img/march.png' | relative_url }})
        {% highlight python linenos %}
        print("{{ not liquid }}")
        {% endhighlight %}
        """,
    "_posts/2008-08-24-follow-up.markdown": """\

        ---
        title: Follow-up
        date: 2008-08-24 5:00:00 +0000
        categories: world
        redirect_from: /old/follow-up.html
        ---
        Back to [the march](/news/world/2008/08/23/minsk-marches.html). {% include widget.html %}
        """,
    "_posts/2008-08-25-broken.md": "---\ntitle: Broken\ndate: not a date\n---\nText.\n",
    "_posts/2008-08-27-release.md": """\
        ---
        title: Release notes
        categories: [team]
        ---
        Code at {{ site.repository }}; see [the 1.0 notes](#v1-0).

        ## 1.0 / 2008-08-27
        {: #v1-0}

        The first.
        """,
    "team.md": "---\ntitle: The team\npermalink: /team/\n---\nWho builds it.\n",  # the collection 'team' yields
    "_docs/setup.md": "---\nredirect_from: /setup.html\n---\n# Setting up\n\n![Shot](../../assets/img/march.png)\n",
    "_docs/setup-again.md": "---\ntitle: Setup, again\nredirect_from: /setup.html\n---\nThe same.\n",
    "_drafts_box/x.md": "---\ntitle: Box\n---\nNot published by Jekyll.\n",
    "_drafts/unfinished.md": "---\ntitle: Unfinished NEVERPUBLISHED\n---\nNEVERPUBLISHED\n",
    "_posts/2008-08-26-old-html.html": "---\ntitle: An HTML post\n---\n<p>Made in <em>HTML</em>.</p>\n",
    "about.md": "---\nlayout: page\ntitle: About\n---\nWho we are.\n",
    "contact.md": "---\nlayout: default\ntitle: Contact\n---\nWrite to us.\n",
    "index.html": "---\nlayout: home\n---\n{% for post in site.posts %}{{ post.title }}{% endfor %}\n",
    "atom.xml": '---\nlayout: null\n---\n<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">{% for post in site.posts %}{% endfor %}</feed>\n',
    "404.html": "---\npermalink: /404.html\n---\nNot here.\n",
    "README.md": "# The old blog\n",
    "notes.txt": "excluded\n",
    "assets/img/march.png": png(),
    "_layouts/post.html": "---\n---\n{{ content }}\n",
    "Gemfile": "source 'https://rubygems.org'\n",
}
JEKYLL_URLS = [
    "world/2008/08/23/minsk-marches.html",
    "world/2008/08/24/follow-up.html",
    "old/follow-up.html",  # redirect_from
    "2008/08/26/old-html.html",
    "about.html",
    "contact.html",
    "assets/img/march.png",
    "team/index.html",  # the page, not the collection's list
    "docs/setup/index.html",
    "docs/setup-again/index.html",
    "setup.html",
    "team/2008/08/27/release.html",
    "atom.xml",  # the old feed: the site's Atom feed there too
]

HUGO = {
    "hugo.toml": """\
        baseURL = "https://hugo.example/"
        title = "Old Hugo News"
        languageCode = "en-us"
        timeZone = "Europe/Riga"
        [permalinks]
          posts = "/:year/:month/:slug/"
        [taxonomies]
          tag = "tags"
          series = "series"
        """,
    "content/_index.md": "---\ntitle: Home\n---\nWelcome to the old site.\n",
    "content/posts/_index.md": "---\ntitle: All the posts\ndescription: What we wrote\n---\n",
    "content/posts/first-post.md": """\
        +++
        title = "First post"
        date = 2020-03-01T10:00:00+02:00
        tags = ["riga"]
        images = ["/img/cover.png"]
        aliases = ["/2020/first/"]
        +++
        See {{< ref "second" >}} and {{< relref "/about.md" >}}.
        {{< figure src="/img/cover.png" alt="Cover" caption="The cover" >}}
        {{< youtube w7Ft2ymGmfc >}}
        {{< mywidget >}}
        """,
    "content/posts/second/index.md": """\
        ---
        title: Second post
        slug: the-second
        date: 2020-03-02
        draft: false
        ---
        Back to [the first]({{< ref "first-post.md" >}}).
        """,
    "content/posts/second/featured.png": png(),
    "content/posts/third/index.html": "---\ntitle: Third, in HTML\ndate: 2020-03-03\n---\n<p>HTML content.</p>\n",
    "content/posts/draft.md": "---\ntitle: NEVERPUBLISHED\ndate: 2020-03-04\ndraft: true\n---\nNEVERPUBLISHED\n",
    "content/about.md": "---\ntitle: About\n---\nWho we are.\n",
    "content/_common/_index.md": "---\ncascade:\n  build:\n    render: never\n---\n",  # a headless bundle
    "content/_common/snippet.md": "---\n# Do not remove front matter.\n---\nA NEVERPUBLISHED snippet.\n",
    "content/docs/_index.md": "---\ntitle: Docs\n---\nThe manual.\n",  # a section of no collection: a page
    "content/docs/setup/_index.md": "---\ntitle: Setting up\n---\n",
    "content/docs/setup/install.md": """\
        ---
        title: Install
        aliases: [/docs/setup/install]
        ---
        ```go {file="main.go" linenos=true}
        package main
        ```
        """,
    "static/img/cover.png": png(),
    "layouts/_default/single.html": "{{ .Content }}\n",
}
HUGO_URLS = [
    "2020/03/first-post/index.html",
    "2020/03/the-second/index.html",
    "2020/03/third-in-html/index.html",
    "2020/first/index.html",  # an alias
    "index.xml",  # Hugo's RSS
    "about/index.html",
    "img/cover.png",
    "docs/index.html",
    "docs/setup/index.html",
    "docs/setup/install/index.html",
]

ZOLA = {
    "config.toml": """\
        base_url = "https://zola.example"
        title = "Old Zola News"
        generate_feeds = true
        feed_filenames = ["atom.xml", "rss.xml"]
        default_language = "en"
        taxonomies = [{name = "tags"}]
        """,
    "content/blog/_index.md": '+++\ntitle = "Blog"\nsort_by = "date"\n+++\n',
    "content/blog/2021-05-01-spring.md": """\
        +++
        title = "Spring"
        [taxonomies]
        tags = ["season"]
        +++
        Next: [summer](@/blog/summer.md).
        """,
    "content/blog/summer.md": '+++\ntitle = "Summer"\ndate = 2021-06-01\n+++\nBack to [spring](@/blog/2021-05-01-spring.md).\n',
    "content/docs/_index.md": '+++\ntitle = "Docs"\n+++\n',
    "content/docs/install.md": '+++\ntitle = "Install"\n+++\nRun it. ![Shot](/shot.png)\n',
    "static/shot.png": png(),
    "templates/index.html": "{{ section.title }}\n",
    # The Rust blog's way: no date, the URL (and so the date) in `path`; a bundle at the top.
    "content/Release-1/index.md": '+++\npath = "2016/09/29/release-1"\ntitle = "Release 1"\naliases = ["releases/1"]\n+++\n![Chart](chart.png)\n',
    "content/Release-1/chart.png": png(),
    "content/later.md": '+++\npath = "2016/10/01/later"\ntitle = "Later"\n+++\n![The chart](../../../../2016/09/29/release-1/chart.png)\n',
}
ZOLA_URLS = [
    "blog/spring/index.html",
    "blog/summer/index.html",
    "docs/install/index.html",
    "shot.png",
    "2016/09/29/release-1/index.html",
    "releases/1/index.html",
    "2016/10/01/later/index.html",
    "atom.xml",
    "rss.xml",
]

PELICAN = {
    "pelicanconf.py": """\
        import os
        AUTHOR = 'Desk'
        SITENAME = 'Old Pelican News'
        SITEURL = 'https://pelican.example'
        TIMEZONE = 'Europe/Warsaw'
        DEFAULT_LANG = 'pl'
        ARTICLE_URL = '{category}/{slug}.html'
        ARTICLE_SAVE_AS = '{category}/{slug}.html'
        PAGE_URL = 'pages/{slug}.html'
        STATIC_PATHS = ['static']
        THEME = os.path.join('themes', 'mine')
        """,
    "content/Politics/warsaw-vote.md": """\
        Title: Warsaw votes
        Date: 2019-10-13 20:00
        Tags: elections, warsaw
        Image: /static/images/vote.png

        The vote. ![Ballot]({static}/static/images/vote.png) See [the result]({filename}/Politics/result.md).
        """,
    "content/Politics/result.md": "Title: The result\nDate: 2019-10-14\n\nBack to [the vote]({filename}warsaw-vote.md).\n",
    "content/Culture/festival.md": "Title: Festival\nDate: 2019-08-01\nStatus: draft\n\nNEVERPUBLISHED\n",
    "content/pages/about.md": "Title: About us\n\nWho we are.\n",
    "content/Politics/special.md": "Title: Special\nDate: 2019-10-15\nSave_as: specials/one.html\n\nOne.\n",
    "content/static/images/vote.png": png(),
    "content/old.rst": "Old\n###\n\n:date: 2010-10-03\n",
}
PELICAN_URLS = [
    "politics/warsaw-votes.html",
    "politics/the-result.html",
    "pages/about-us.html",
    "specials/one.html",  # its own Save_as
    "feeds/all.atom.xml",  # Pelican's feed, kept
    "category/politics.html",  # the old category and tag pages redirect
    "tag/warsaw.html",
    "static/images/vote.png",
]


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


CASES = {
    "jekyll": (JEKYLL, JEKYLL_URLS, "/news/"),
    "hugo": (HUGO, HUGO_URLS, "/"),
    "zola": (ZOLA, ZOLA_URLS, "/"),
    "pelican": (PELICAN, PELICAN_URLS, "/"),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def migrated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, str]:
    name = request.param
    old = write(tmp_path_factory.mktemp(f"{name}-old"), CASES[name][0])
    new = tmp_path_factory.mktemp(f"{name}-new") / "site-src"
    code, out, err = run_cli("migrate", str(old), str(new))
    assert code == 0, err
    return name, new, out


def test_migrate_keeps_every_old_url_and_every_link_resolves(migrated: tuple[str, Path, str]) -> None:
    name, new, _ = migrated
    code, _, err = run_cli("build", "-s", str(new), "--keep-going")
    assert code == (1 if name == "jekyll" else 0), err  # the Jekyll archive has one broken post
    assert "Traceback" not in err
    site = new / "site"
    missing = [url for url in CASES[name][1] if not (site / url).is_file()]
    assert not missing, (
        f"{name}: old URLs not answered: {missing}; written: {sorted(str(p.relative_to(site)) for p in site.rglob('*.html'))[:40]}"
    )
    assert broken_links(site, CASES[name][2]) == []
    assert not [p for p in site.rglob("*") if p.is_file() and b"NEVERPUBLISHED" in p.read_bytes()]
    feeds = {
        "jekyll": ("atom.xml", "feed.xml"),
        "hugo": ("index.xml", "rss.xml"),
        "pelican": ("feeds/all.atom.xml", "feed.xml"),
    }
    if name in feeds:
        old_feed, ours = feeds[name]
        assert (site / old_feed).read_bytes() == (site / ours).read_bytes()
        assert feedparser.parse((site / old_feed).read_bytes()).entries
    if name == "pelican":
        moved = (site / "category/politics.html").read_text(encoding="utf-8")
        assert 'http-equiv="refresh" content="0; url=../politics/"' in moved
    if name == "hugo":
        install = (site / "docs/setup/install/index.html").read_text(encoding="utf-8")
        assert '<pre><code class="language-go">package main' in install
        assert "The manual." in (site / "docs/index.html").read_text(encoding="utf-8")
    if name == "jekyll":
        release = (site / "team/2008/08/27/release.html").read_text(encoding="utf-8")
        assert (
            "Code at https://github.com/old/news;" in release
            and '<h2 id="v1-0">1.0 / 2008-08-27</h2>' in release
        )
        assert "<h1>Who builds it." not in (site / "team/index.html").read_text() and "Who builds it." in (
            site / "team/index.html"
        ).read_text(encoding="utf-8")
        setup = (site / "docs/setup/index.html").read_text(encoding="utf-8")
        assert "<h1>Setting up</h1>" in setup and 'src="../../assets/img/march.png"' in setup
        assert "the collection page /team/index.html is not written: this article has that URL" in err
        assert "the redirect from /setup.html is not written: another article redirects from there" in err
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "{% post_url" not in text and "{{< ref" not in text and "{filename}" not in text, page


def test_the_report_says_what_maps_and_what_is_left_behind(migrated: tuple[str, Path, str]) -> None:
    name, new, out = migrated
    config = (new / "config.yaml").read_text(encoding="utf-8")
    expected = {
        "jekyll": [
            "Jekyll site in",
            "maps: posts: Jekyll's permalink '/:categories/:year/:month/:day/:title.html'",
            "not copied: README.md: Markdown without front matter (the old site published it as a plain file)",
            "not copied: notes.txt: excluded",
            "not copied: _layouts/",
            "not copied: 404.html",
            "plugin jekyll-scholar: not run",
            "content/_posts/2008-08-25-broken.md:3: error",
            "follow-up.markdown:8: warning: a Liquid tag in the text ({% include widget.html %})",
            "the collection docs: /:collection/:path/ is /docs/:path/:filename/ here",
            "not copied: _drafts_box/: a Jekyll collection without pages of its own",
        ],
        "hugo": ["Hugo site in", "section posts: Hugo's '/:year/:month/:slug/'", "taxonomy 'series'", "layouts/",
                 "first-post.md:11: warning: a Hugo shortcode in the text ({{< mywidget >}})"],
        "zola": ["Zola site in", "templates/", "undated files are pages, as the old site made them: docs",
                 "collections: blog\n", "posts: 4, pages: 1"],
        "pelican": ["Pelican site in", "ARTICLE_URL '{category}/{slug}.html' is /:categories/:slug.html",
                    "THEME is computed", "old.rst' is left out: it is written in reStructuredText"],
    }[name]  # fmt: skip
    for text in expected:
        assert text in out, f"{name}: {text!r} not in the report:\n{out}"
    assert "Traceback" not in out
    if name == "jekyll":
        assert "base_url: https://old.example/news/" in config and "timezone: Europe/Vilnius" in config
        assert "repository: https://github.com/old/news" in config
    if name == "pelican":
        assert "slug_source: title" in config and "language: pl" in config


def test_check_on_a_migrated_archive_finds_only_what_is_really_broken(
    migrated: tuple[str, Path, str],
) -> None:
    name, new, _ = migrated
    if name == "jekyll":
        (new / "content" / "_posts" / "2008-08-25-broken.md").unlink()  # the one bad file, fixed
    code, out, err = run_cli("check", "-s", str(new))
    assert code == 0, out + err


def test_migrate_refuses_a_folder_without_a_site_and_a_target_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli("migrate", str(tmp_path / "empty"), str(tmp_path / "new"))
    assert code == 1 and "no Jekyll, Hugo, Zola or Pelican site here" in err and "Traceback" not in err
    old = write(
        tmp_path / "old",
        {"pelicanconf.py": "SITENAME = 'x'\n", "content/a.md": "Title: A\nDate: 2020-01-01\n\nA\n"},
    )
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = run_cli("migrate", str(old), str(tmp_path / "full"))
    assert code == 1 and "not empty" in err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_a_pelican_config_is_read_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    old = write(
        tmp_path / "old",
        {
            "pelicanconf.py": f"open({str(marker)!r}, 'w').write('x')\nSITENAME = 'Safe'\nARTICLE_URL = '{{slug}}/'\n",
            "content/a.md": "Title: A\nDate: 2020-01-01\n\nA\n",
        },
    )
    code, _, err = run_cli("migrate", str(old), str(tmp_path / "new"))
    assert code == 0, err
    assert not marker.exists()
    assert "permalink: /:slug/" in (tmp_path / "new" / "config.yaml").read_text()
