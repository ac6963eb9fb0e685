"""Links between articles and to the site's files, as Jekyll, Hugo, Pelican and Zola write them, land on
the right page from wherever the site is published; a reference that names nothing is located."""

from __future__ import annotations

import re

import pytest

from generator.build.refs import relative
from tests.conftest import MakeSite, article_text, run_cli

CONFIG = (
    "title: Refs\nbase_url: https://example.org/news/\nsearch: false\n"
    "permalink: /:year/:month/:day/:slug.html\n"
)


def hrefs(page: bytes) -> list[str]:
    body = page.decode().split("<article", 1)[1].split("</article>", 1)[0]
    return re.findall(r'(?:href|src)="([^"]+)"', body)


def test_references_of_every_generator_become_relative_links_to_the_page_or_file(make_site: MakeSite) -> None:
    body = (
        "Jekyll: [post]({% post_url 2020-09-01-first %}), [link]({{ site.baseurl }}{% link _posts/2020-09-01-first.md %}),"
        " [root]({{ '/about/' | relative_url }}).\n\n"
        'Hugo: [ref]({{< ref "first" >}}), [relref]({{< relref "/_posts/2020-09-01-first.md#part" >}}).\n\n'
        "Pelican: [file]({filename}/_posts/2020-09-01-first.md), ![map]({static}/static/map.png)\n\n"
        "Zola: [zola](@/pages/about.md). Relative: [rel](2020-09-01-first.md).\n\n"
        "Old URL: [old](/2020/09/01/first.html), [alias](/old/first/), [gone](/nowhere/).\n"
    )
    root = make_site(
        {
            "content/_posts/2020-09-01-first.md": article_text(
                "First", "2020-09-01", aliases="[/old/first/]"
            ),
            "content/_posts/2020-09-02-second.md": article_text("Second", "2020-09-02", body=body),
            "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
            "content/static/map.png": b"\x89PNG\r\n\x1a\n",
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    links = hrefs((root / "site/2020/09/02/second.html").read_bytes())
    first = "first.html"  # the same folder, 2020/09/
    assert links[:3] == ["../01/" + first, "../01/" + first, "../../../about/"]
    assert links[3:5] == ["../01/" + first, "../01/first.html#part"]
    assert links[5:7] == ["../01/" + first, "../../../static/map.png"]
    assert links[7:9] == ["../../../about/", "../01/" + first]
    assert links[9:] == ["../01/" + first, "../01/" + first, "/nowhere/"]
    assert "{%" not in err and "Liquid" not in err and "shortcode" not in err
    code, out, err = run_cli("check", "-s", str(root))
    assert "/nowhere/" in out + err  # the only link that leads nowhere


def test_a_reference_to_nothing_or_a_missing_image_from_the_root_is_an_error_at_its_line(
    make_site: MakeSite,
) -> None:
    root = make_site(
        {
            "content/_posts/2020-09-02-second.md": article_text(
                "Second", "2020-09-02", body="Intro.\n\nSee [it]({% post_url 2020-01-01-never %}).\n"
            ),
            "content/_posts/2020-09-03-third.md": article_text(
                "Third", "2020-09-03", body="Intro.\n\n![Map](/static/images/map.png)\n"
            ),
            "content/_posts/2020-09-04-fine.md": article_text("Fine", "2020-09-04"),
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1
    assert "2020-09-02-second.md:8: error: the link '@/_posts/2020-01-01-never' names nothing" in err
    assert "2020-09-03-third.md:8: error: the image '/static/images/map.png' names nothing" in err
    assert not (root / "site").exists()
    code, _, err = run_cli("build", "-s", str(root), "--keep-going")
    assert code == 1 and (root / "site/2020/09/04/fine.html").is_file()
    code, out, err = run_cli("check", "-s", str(root))
    assert code == 1 and "names nothing" in out + err


@pytest.mark.parametrize(
    ("target", "page", "link"),
    [
        ("agreement.html", "about.html", "agreement.html"),  # a page at the root ending in .html
        ("x.png", "news/2020/a/", "../../../x.png"),
        ("news/a.html#x", "news/a.html", "#x"),
        ("index.html", "a/b/c.html", "../../index.html"),
        ("news/", "news/", "./"),
    ],
)
def test_a_link_is_relative_to_the_page_wherever_it_is(target: str, page: str, link: str) -> None:
    assert relative(target, page) == link
