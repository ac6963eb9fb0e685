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
