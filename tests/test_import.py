"""`digest import` end to end: news pages, feeds and text, from a local server and from files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator.driver.pipeline import render_site
from tests import hostile
from tests.conftest import MINIMAL_CONFIG, MakeSite, run_cli
from tests.newsroom import DATA, PAGES, Newsroom, Route, newsroom

CONFIG = MINIMAL_CONFIG + "import: {timeout: 1, delay: 0}\n"
RAIL = "/europe/2024/03/05/rail-workers-grodno-strike"
OFFICE = "/2024/04/11/opposition-office-vilnius/"
SEARCHES = "/news/2024-05-20/searches-journalists"
DOCTORS = "/news/2024/06/03/vrachi-uezzhayut/"
# Words of the pages' chrome: navigation, banners, share buttons, lists of other stories, footers.
CHROME = (
    "cookies", "Accept all", "Advertisement", "Subscribe for", "Share", "Read more", "Related", "Popular news",
    "Most read", "Comments", "All rights reserved", "Court in Minsk sentences", "Prices for bread",
    "Storm damage", "newsletter", "Donate", "Читайте также", "Цены на бензин", "Imprint", "Теги",
)  # fmt: skip


@pytest.fixture(scope="module")
def room() -> Iterator[Newsroom]:
    with newsroom() as served:
        yield served


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site({}, CONFIG)


def articles(root: Path) -> dict[str, tuple[dict[str, object], str]]:
    """Each article file below content/: its front matter and body, by its path below content/."""
    found = {}
    for path in sorted((root / "content").rglob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        found[path.relative_to(root / "content").as_posix()] = (yaml.safe_load(front), body)
    return found


def by_title(root: Path) -> dict[str, tuple[dict[str, object], str]]:
    return {str(front["title"]): (front, body) for front, body in articles(root).values()}


def test_news_pages_are_imported_with_their_facts_and_without_chrome(room: Newsroom, site: Path) -> None:
    code, out, err = run_cli("import", *(room.url(p) for p in PAGES), "-s", str(site), "-c", "belarus")
    assert code == 0, err
    found = by_title(site)
    assert len(found) == 4
    front, body = found["Rail workers in Grodno walk out over pay and arrests"]  # JSON-LD NewsArticle
    assert front == {
        "title": "Rail workers in Grodno walk out over pay and arrests",
        "date": "2024-03-05T07:45:00+02:00",
        "collection": "belarus",
        "summary": "The first strike at a state enterprise this year began at dawn on Tuesday.",
        "lang": "en-GB",
        "image": room.url("/media/grodno-depot.jpg"),
        "image_alt": "The locomotive depot in Grodno at dawn",
        "source": {
            "name": "Northern Ledger",
            "url": room.url(RAIL),
            "author": "Marta Kowalczyk",
            "published": "2024-03-05T07:45:00+02:00",
        },
        "draft": True,
    }
    assert body.startswith(
        "\nAbout two hundred workers of the locomotive depot"
    )  # no headline, no standfirst
    assert "\n> We are not asking for anything that was not promised to us." in body
    assert "\n- the release of the three detained workers;\n- the pay rise" in body
    assert "[website](https://prosecutor.example.gov/news/1234)" in body

    front, body = found["Exiled opposition opens an office in Vilnius"]  # OpenGraph only
    assert front["date"] == "2024-04-11T16:05:00-04:00" and front["lang"] == "en-US"
    assert front["source"] == {
        "name": "Baltic Courier", "url": room.url(OFFICE), "author": "Tomas Petrauskas",
        "published": "2024-04-11T16:05:00-04:00",
    }  # fmt: skip
    assert front["image_alt"] == "Guests at the opening of the office in Vilnius"
    assert "\n## A place to meet\n" in body and "“People come here not only with papers" in body

    front, body = found["Independent journalists face new wave of searches"]  # cookie banner, related list
    assert front["date"] == "2024-05-20T18:30:00+03:00"
    assert front["source"] == {
        "name": "East Desk", "url": room.url(SEARCHES), "author": "Anna Richter",
        "published": "2024-05-20T18:30:00+03:00",
    }  # fmt: skip
    assert len(body.strip().split("\n\n")) == 6 and body.rstrip().endswith(
        "the officials responsible for them."
    )

    front, body = found["Врачи из Гродно уезжают в Польшу"]  # windows-1251, declared only in the page
    assert front["lang"] == "ru" and front["date"] == "2024-06-03T12:10:00+03:00"
    assert front["source"] == {
        "name": "Региональные новости", "url": room.url(DOCTORS), "author": "Ольга Ковальчук",
        "published": "2024-06-03T12:10:00+03:00",
    }  # fmt: skip
    assert "«Мы не можем удержать молодых." in body
    assert "read as windows-1251 (<meta charset>)" in out

    everything = "\n".join(body for _, body in found.values())
    assert [word for word in CHROME if word.casefold() in everything.casefold()] == []
    assert "not found: lead image" in out  # said for the pages without one
    assert all(request[1].startswith("newsdigest/") for request in room.requests)


def test_saved_pages_import_as_their_urls_do(site: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    for name in PAGES.values():
        shutil.copy(DATA / name, saved / name)
    code, out, err = run_cli("import", *sorted(map(str, saved.iterdir())), "-s", str(site))
    assert code == 0, err
    found = by_title(site)
    front, _body = found["Врачи из Гродно уезжают в Польшу"]
    assert front["source"]["url"] == "https://region.example.by/news/2024/06/03/vrachi-uezzhayut/"  # type: ignore[index]
    assert "read as windows-1251 (<meta charset>)" in out
    assert found["Rail workers in Grodno walk out over pay and arrests"][0]["source"]["url"] == (  # type: ignore[index]
        "https://ledger.example.com/europe/2024/03/05/rail-workers-grodno-strike"
    )
    assert set(front) >= {"title", "date", "summary", "lang", "source", "draft"}


def test_failed_addresses_are_each_reported_and_the_rest_imported(room: Newsroom, site: Path) -> None:
    bad = {
        room.url("/missing"): "HTTP 404 Not Found",
        room.url("/slow"): "no answer within 1 s",
        room.url("/report.pdf"): "it is application/pdf, not a web page",
        room.url("/private/leak.html"): "robots.txt does not allow fetching it",
        "file:///etc/passwd": "only http:// and https:// addresses can be fetched",
    }
    code, _out, err = run_cli("import", room.url(RAIL), *bad, room.url(OFFICE), "-s", str(site))
    assert code == 1
    for url, reason in bad.items():
        assert re.search(rf"^error: cannot import {re.escape(url)}: .*{re.escape(reason)}", err, re.M), url
    assert "Failed: 5 errors. 2 articles imported." in err
    assert len(articles(site)) == 2 and "Traceback" not in err
    assert "/private/leak.html" not in [path for path, *_ in room.requests]  # robots.txt was asked first


def test_a_feed_imports_each_new_item_once(room: Newsroom, site: Path) -> None:
    feeds = ("--feed", room.url("/feed.rss"), "--feed", room.url("/feed.atom"))
    code, out, err = run_cli("import", *feeds, "--since", "2024-01-01", "-s", str(site))
    assert code == 0, err
    found = by_title(site)
    assert sorted(found) == [
        "Exiled opposition opens an office in Vilnius",
        "Independent journalists face new wave of searches",
        "Rail workers in Grodno walk out over pay and arrests",
        "Врачи из Гродно уезжают в Польшу",
    ]
    front, body = found["Independent journalists face new wave of searches"]  # the feed has a summary only
    assert front["source"]["url"] == room.url(SEARCHES)  # type: ignore[index]
    assert front["date"] == "2024-05-20T18:30:00+03:00" and front["draft"] is True
    assert "Four of the reporters were taken for questioning" in body  # the page's full text
    assert "1 item published before --since" in out

    fetched = len(room.requests)
    code, out, err = run_cli("import", *feeds, "--since", "2024-01-01", "-s", str(site))
    assert code == 0, err
    assert len(articles(site)) == 4  # nothing new
    assert out.count("skipped: its address is already the source of content/") == 4
    again = [p for p, *_ in room.requests[fetched:] if p != "/robots.txt"]
    assert again == ["/feed.rss", "/feed.atom"]  # no page was fetched again


def test_a_near_duplicate_is_skipped_and_check_reports_pairs(room: Newsroom, site: Path) -> None:
    assert run_cli("import", room.url(RAIL), "-s", str(site), "--publish")[0] == 0
    page = room.page("newsarticle-jsonld.html").decode()
    copy = (
        page.replace(
            "About two hundred workers of the locomotive depot in Grodno stopped work at six in the morning",
            "Hundreds of railway staff in the western city of Grodno put down their tools early",
        )
        .replace("Rail workers in Grodno walk out", "Grodno depot strikes")
        .replace(RAIL, "/wire/grodno-depot")
    )
    room.routes["/wire/grodno-depot"] = room.routes[RAIL].__class__(body=copy.encode())
    code, out, err = run_cli("import", room.url("/wire/grodno-depot"), "-s", str(site))
    assert code == 0, err
    assert re.search(
        r"/wire/grodno-depot: skipped: it is a near duplicate of content/2024-03-05-rail-workers-in-grodno-"
        r"walk-out-over-pay-and-arrests\.md \(\d\d% of its text in common\)",
        out,
    ), out
    assert len(articles(site)) == 1

    ((_, body),) = articles(site).values()
    first = "About two hundred workers of the locomotive depot in Grodno stopped work at six in the morning"
    wire = body.replace(first, "Railway staff in the western city of Grodno put down their tools early")
    assert wire != body
    (site / "content" / "copy.md").write_text(f"---\ntitle: Depot strike\ndate: 2024-03-06\n---\n{wire}")
    code, out, err = run_cli("check", "-s", str(site))
    assert code == 0, err
    assert re.search(
        r"content/copy\.md: warning: a near duplicate of \S*content/2024-03-05-rail-workers-in-grodno-walk-out-"
        r"over-pay-and-arrests\.md \(\d\d% of the text in common\)",
        err,
    ), err


def test_published_imports_build_with_their_source(room: Newsroom, site: Path) -> None:
    assert run_cli("import", room.url(OFFICE), "-s", str(site), "--publish", "-c", "world")[0] == 0
    (article,) = render_site(site).plan.site.articles.values()
    assert article.sources[0].name == "Baltic Courier" and article.sources[0].author == "Tomas Petrauskas"
    assert article.lang == "en-US" and article.date.isoformat() == "2024-04-11T16:05:00-04:00"
    assert "<h2" in article.body_html and "A place to meet" in article.body_html
    assert run_cli("build", "-s", str(site))[0] == 0


def test_text_in_any_encoding_imports_and_says_which(site: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_bytes(
        "Врачи уезжают\n\nЗа последний год областная больница потеряла почти сорок врачей и медицинских "
        "сестёр.\n\nБольшинство из них уехали работать в Польшу и Литву.\n".encode("cp1251")
    )
    code, out, err = run_cli("import", str(raw), "-s", str(site), "--date", "2024-06-03")
    assert code == 0, err
    assert "read as windows-1251 (detected)" in out
    (front, body), = articles(site).values()  # fmt: skip
    assert front["title"] == "Врачи уезжают" and "сорок врачей" in body


def test_a_title_without_text_is_refused(site: Path, tmp_path: Path) -> None:
    raw = tmp_path / "title.txt"
    raw.write_text("Just a headline\n\n", encoding="utf-8")
    code, _, err = run_cli("import", str(raw), "-s", str(site))
    assert code == 1 and "title.txt: error: cannot import: the text has a title" in err
    assert "hint: put the article's text under its title" in err and articles(site) == {}


def test_nothing_to_import_is_said(site: Path) -> None:
    code, _, err = run_cli("import", "-s", str(site))
    assert code == 1 and "nothing to import" in err


def test_a_feed_file_with_full_text_needs_no_page(room: Newsroom, site: Path, tmp_path: Path) -> None:
    paragraphs = "".join(
        f"<p>Paragraph {n} of the full text, as the feed carries it in content:encoded.</p>" for n in range(6)
    )
    feed = tmp_path / "full.rss"
    feed.write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Full Text Weekly</title><link>{room.base}/</link><description>x</description>
<item><title>All of it &amp; more</title><link>{room.base}/never-fetched</link>
<pubDate>Wed, 06 Mar 2024 10:00:00 +0100</pubDate><description>Only the teaser.</description>
<content:encoded><![CDATA[{paragraphs}<script>alert(1)</script><p onclick="x()">Last <b>bold</b>.</p>]]>
</content:encoded></item></channel></rss>""",
        encoding="utf-8",
    )
    before = len(room.requests)
    code, out, err = run_cli("import", "--feed", str(feed), "-s", str(site))
    assert code == 0, err
    assert "the feed carries the full text" in out
    ((front, body),) = articles(site).values()
    assert front["title"] == "All of it & more" and front["summary"] == "Only the teaser."
    assert front["date"] == "2024-03-06T10:00:00+01:00"
    assert front["source"] == {
        "name": "Full Text Weekly", "url": room.url("/never-fetched"), "published": "2024-03-06T10:00:00+01:00"
    }  # fmt: skip
    assert body.count("of the full text") == 6 and "Last **bold**." in body
    assert "alert" not in body and "onclick" not in body
    assert room.requests[before:] == []


def test_an_article_appears_whole_and_a_dead_runs_temporary_goes(room: Newsroom, site: Path) -> None:
    content = site / "content"
    content.mkdir(exist_ok=True)
    dead = content / ".digest-new-999999999-0badc0de.tmp"  # no process has this id
    dead.write_text("---\ntitle: half", encoding="utf-8")
    alive = content / f".digest-new-{os.getpid()}-0000.tmp"  # a run still writing
    alive.write_text("---\ntitle: being written", encoding="utf-8")
    assert run_cli("import", room.url(OFFICE), "-s", str(site))[0] == 0
    assert not dead.exists() and alive.exists()
    (name,) = articles(site)
    assert sorted(p.name for p in content.iterdir()) == sorted([alive.name, name])
    assert run_cli("build", "-s", str(site))[0] == 0  # the temporary file is hidden from the build


def test_with_images_the_lead_image_is_downloaded_beside_the_article(room: Newsroom, site: Path) -> None:
    import io

    from PIL import Image

    shot, out = Image.new("RGB", (1600, 900), (90, 60, 30)), io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (53.0, 41.0, 0.0)}
    shot.save(out, "JPEG", exif=exif)
    room.routes["/media/grodno-depot.jpg"] = Route(content_type="image/jpeg", body=out.getvalue())
    room.routes["/wp-content/uploads/2024/04/office-opening.jpg"] = Route(
        content_type="text/html", body=b"<p>no"
    )
    try:
        code, out_text, err = run_cli(
            "import",
            room.url(RAIL),
            room.url(OFFICE),
            "--images",
            "--publish",
            "-s",
            str(site),
            "-c",
            "belarus",
        )
    finally:
        del (
            room.routes["/media/grodno-depot.jpg"],
            room.routes["/wp-content/uploads/2024/04/office-opening.jpg"],
        )
    assert code == 0, err
    found = articles(site)
    bundle = "belarus/2024-03-05-rail-workers-in-grodno-walk-out-over-pay-and-arrests/index.md"
    assert found[bundle][0]["image"] == "lead.jpg"
    assert (site / "content" / bundle).with_name("lead.jpg").read_bytes() == out.getvalue()
    assert "the lead image was downloaded beside the article, as lead.jpg" in out_text
    office = next(front for front, _ in found.values() if "office" in str(front.get("image")))
    assert str(office["image"]).startswith(room.base)  # not an image: it stays a link, and says why
    assert (
        "could not be downloaded (it is text/html, not a JPEG, PNG or WebP image): it stays a link"
        in out_text
    )
    assert not list((site / "content").rglob(".digest-new-*"))
    dead = site / "content" / "belarus" / ".digest-new-999999999-0badc0de.tmp"  # a dead run's bundle
    dead.mkdir()
    (dead / "lead.jpg").write_bytes(b"half")
    assert run_cli("import", room.url(SEARCHES), "--images", "-s", str(site), "-c", "belarus")[0] == 0
    assert not dead.exists()
    assert run_cli("build", "-s", str(site))[0] == 0
    published = (
        site
        / "site"
        / "belarus"
        / "2024"
        / "03"
        / "05"
        / "rail-workers-in-grodno-walk-out-over-pay-and-arrests"
    )
    with Image.open(published / "lead-800w.webp") as image:
        assert image.size == (800, 450) and not image.getexif()


def test_an_import_from_a_server_that_drips_ends_at_its_deadline(make_site: MakeSite) -> None:
    site = make_site({}, MINIMAL_CONFIG + "import: {timeout: 0.3, delay: 0}\n")
    with hostile.hostile(hostile.drip_body) as base:
        started = time.monotonic()
        code, _out, err = run_cli("import", base + "/story", "-s", str(site))
        took = time.monotonic() - started
    assert code == 1 and "Traceback" not in err
    assert f"error: cannot import {base}/story: it did not arrive within 0.9 s" in err
    assert took < 3, f"{took:.1f} s"
    assert not articles(site)


def test_two_imports_of_one_story_at_the_same_moment_make_one_article(room: Newsroom, site: Path) -> None:
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 60, 30)).save(picture, "JPEG")
    path, image = "/2024/04/11/opposition-office-vilnius/?at=once", "/once/lead.jpg"
    page = room.page("opengraph-only.html")
    room.routes[path] = Route(
        body=re.sub(rb'(og:image" content=")[^"]*', lambda m: m[1] + image.encode(), page)
    )
    room.routes[image] = Route(
        content_type="image/jpeg", body=picture.getvalue(), delay=1.5
    )  # both wait here
    command = [sys.executable, "-m", "generator", "import", room.url(path), "--images", "-s", str(site)]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"
    ]
    said = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], said
    assert len(articles(site)) == 1, said
    assert sum(": skipped: " in out for out, _err in said) == 1, said


@pytest.mark.parametrize("image", ["javascript:alert(3)", "file:///etc/passwd", "data:image/png;base64,AAAA"])
def test_a_lead_image_that_is_not_on_the_web_is_left_out_with_a_note(
    room: Newsroom, site: Path, image: str
) -> None:
    page = room.page("opengraph-only.html")
    page = re.sub(rb'(<meta property="og:image" content=")[^"]*', lambda m: m[1] + image.encode(), page)
    room.routes["/odd-image"] = Route(body=page)
    code, out, err = run_cli("import", room.url("/odd-image"), "-s", str(site))
    assert code == 0, err
    assert f"left out the lead image {image!r}" in out + err
    ((front, _body),) = articles(site).values()
    assert "image" not in front and "image_alt" not in front
    html = render_site(site).files
    assert not any(image.encode() in data for data in html.values() if isinstance(data, bytes))


def test_a_feed_entry_without_a_summary_gets_none_and_no_glued_paragraphs(site: Path, tmp_path: Path) -> None:
    feed = tmp_path / "only-content.atom"
    feed.write_text(
        """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title>
<id>urn:desk</id><updated>2024-03-06T10:00:00Z</updated>
<entry><title>Prices &lt;b&gt;rose&lt;/b&gt;</title><id>urn:desk:1</id><link href="https://desk.example/1"/>
<updated>2024-03-06T10:00:00Z</updated><content type="html">"""
        + "".join(f"&lt;p&gt;Paragraph {n} of what grew over the past year.&lt;/p&gt;" for n in range(5))
        + """&lt;p&gt;Entry is free.&lt;/p&gt;</content></entry></feed>""",
        encoding="utf-8",
    )
    code, _, err = run_cli("import", "--feed", str(feed), "-s", str(site))
    assert code == 0, err
    ((front, body),) = articles(site).values()
    assert "summary" not in front  # the feed had none: the build takes the text's first paragraph
    assert front["title"] == "Prices rose"
    assert "year.Entry" not in body and "Entry is free." in body


def test_plain_text_of_html_keeps_a_space_between_blocks() -> None:
    from generator.importing.extract import _plain

    assert _plain("<p>over the past year.</p><p>Entry is free.</p>") == "over the past year. Entry is free."
    assert _plain("<ul><li>one</li><li>two</li></ul>x<br>y") == "one two x y"
