"""The content folder's other files: published at their own paths, as Jekyll publishes a site's files,
except Jekyll's own folders, page bundles' files, old templates and links that lead outside."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import MakeSite, article_text, run_cli, tree

CONFIG = (
    "title: Files\nbase_url: https://example.org/\nsearch: false\ncollections: [{key: world, title: World}]\n"
)


def published(root: Path) -> dict[str, bytes]:
    return tree(root / "site")


def test_the_content_folders_other_files_are_published_at_their_own_paths(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """As Jekyll publishes a site's files: links from the site's root to them resolve."""
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the web", encoding="utf-8")
    root = make_site(
        {
            "content/world/a.md": article_text(
                "A", "2020-09-01", body="![Map](/static/images/map.png) and [the brief](brief.pdf)\n"
            ),
            "content/world/brief.pdf": b"%PDF-1.4 brief\n",  # an article's file: beside its page only
            "content/static/images/map.png": b"\x89PNG\r\n\x1a\n",
            "content/CNAME": "news.example.org\n",
            "content/report.pdf": b"%PDF-1.4\n",
            "content/_includes/head.html": "<meta>\n",  # Jekyll's own folder
            "content/_config.yml": "title: Old\n",  # and file
            "content/world/old.rst": "Old post\n########\n\n:date: 2010-10-03\n",  # Pelican's reStructuredText
            "content/index.html": "---\nlayout: default\n---\n{% for post in site.posts %}{% endfor %}\n",
            "content/robots.txt": "User-agent: *\n",  # the site makes its own
            "content/world/bundle/index.md": article_text("Bundle", "2020-09-02"),
            "content/world/bundle/notes.txt": "Published beside its page only.\n",
        },
        config=CONFIG,
    )
    (root / "content" / "leak.txt").symlink_to(outside)
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    files = published(root)
    assert files["static/images/map.png"] == b"\x89PNG\r\n\x1a\n"
    assert files["CNAME"] == b"news.example.org\n" and "report.pdf" in files
    assert not any(
        p.startswith(("_includes", "world/bundle/")) or p in ("leak.txt", "_config.yml") for p in files
    )
    assert "world/2020/09/01/a/brief.pdf" in files and "world/brief.pdf" not in files
    assert files["index.html"].startswith(b"<!doctype html>")  # the home page, not the old template
    assert files["robots.txt"] != b"User-agent: *\n" and files["world/2020/09/02/bundle/notes.txt"]
    assert "'index.html' is left out: it starts with front matter" in err
    assert "'robots.txt' is left out: the site has its own" in err
    assert "'leak.txt' is left out" in err
    assert "'world/old.rst' is left out: it is written in reStructuredText" in err
    assert "never" in err and "Traceback" not in err


def test_html_files_with_front_matter_are_articles_as_jekyll_and_hugo_read_them(make_site: MakeSite) -> None:
    """A Jekyll `.html` post, a Hugo `index.html` bundle and a page with a title are articles, their
    text used as the HTML it is (never Markdown), their template code translated as HTML; an old
    template (Liquid that lists posts, `_layouts/`) is left out with a warning."""
    root = make_site(
        {
            "content/_posts/2020-09-03-old.html": (
                "---\ntitle: Old post\n---\n<p>Hello *not emphasis* <b>world</b></p>\n"
                "{% highlight python %}\nx = '<a>'\n{% endhighlight %}\n"
                '<p><a href="{{ site.baseurl }}{% link about.html %}">About</a></p>\n'
            ),
            "content/world/trip/index.html": (
                '---\ntitle: Trip\ndate: 2020-09-04\n---\n<p>Look</p>\n<a href="notes.txt">notes</a>\n'
                "{{< youtube abc_1 >}}\n"
            ),
            "content/world/trip/notes.txt": "beside the trip\n",
            "content/about.html": "---\ntitle: About us\nlayout: page\npermalink: /about.html\n---\n<p>We are</p>\n",
            "content/index.html": "---\nlayout: default\n---\n{% for post in site.posts %}{% endfor %}\n",
            "content/_layouts/post.html": "---\nlayout: default\n---\n{{ content }}\n",
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    files = published(root)
    old = files["2020/09/03/old/index.html"].decode()
    assert "<p>Hello *not emphasis* <b>world</b></p>" in old
    assert "<pre>\n<code class=\"language-python\">x = '&lt;a&gt;'</code>\n</pre>" in old
    assert '<a href="../../../../about.html">About</a>' in old
    trip = files["world/2020/09/04/trip/index.html"].decode()
    assert '<a href="https://www.youtube.com/watch?v=abc_1">Video on YouTube</a>' in trip
    assert files["world/2020/09/04/trip/notes.txt"] == b"beside the trip\n"
    assert "<p>We are</p>" in files["about.html"].decode()
    assert files["index.html"].startswith(b"<!doctype html>")
    assert not any(p.startswith("_layouts") for p in files)
    assert "'index.html' is left out: it starts with front matter" in err
    assert "give it a title and replace its template code" in err
    assert "_layouts" not in err and "Traceback" not in err
