"""The stages behind `digest import`: fetching, decoding, HTML to Markdown, duplicates, cleaning."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from generator.base.dedupe import StoryIndex, near_pairs, same_url, source_urls
from generator.base.errors import BuildFailed
from generator.build.config import parse_config
from generator.build.markup import to_html
from generator.importing.decode import UnknownEncoding, decode, label
from generator.importing.extract import parse_moment, read_page
from generator.importing.fetch import DEADLINE_FACTOR, MAX_REDIRECTS, Fetcher, FetchFailed
from generator.importing.htmlmd import to_markdown
from generator.importing.textclean import clean_text, repair_paragraph
from tests import hostile
from tests.newsroom import Newsroom, Route, newsroom

UTC = ZoneInfo("UTC")
STORY = " ".join(
    f"Sentence {n} tells what the council of the city decided about the {n}th street and its trees."
    for n in range(40)
)


@pytest.fixture(scope="module")
def room() -> Iterator[Newsroom]:
    with newsroom() as served:
        yield served


def fetcher(**kw: object) -> Fetcher:
    return Fetcher(timeout=1.0, delay=0.0, **kw)  # type: ignore[arg-type]


# Fetching


def test_a_redirect_chain_longer_than_the_limit_is_refused(room: Newsroom) -> None:
    for n in range(MAX_REDIRECTS + 2):
        room.routes[f"/hop/{n}"] = Route(status=302, location=f"/hop/{n + 1}")
    room.routes[f"/hop/{MAX_REDIRECTS + 2}"] = Route(body=b"<p>arrived</p>")
    with pytest.raises(FetchFailed, match=f"more than {MAX_REDIRECTS} redirects"):
        fetcher().get(room.url("/hop/0"))
    assert fetcher().get(room.url(f"/hop/{3}")).body == b"<p>arrived</p>"  # 4 hops: fine


def test_a_redirect_away_from_the_web_is_refused(room: Newsroom) -> None:
    room.routes["/to-file"] = Route(status=301, location="file:///etc/passwd")
    with pytest.raises(FetchFailed, match="redirected to file:///etc/passwd, which is not http or https"):
        fetcher().get(room.url("/to-file"))


def test_a_page_over_the_size_limit_is_not_read(room: Newsroom) -> None:
    room.routes["/big"] = Route(body=b"x" * 5000)
    with pytest.raises(FetchFailed, match="more than the limit of 2 KB"):
        fetcher(max_bytes=2048).get(room.url("/big"))
    assert len(fetcher(max_bytes=8192).get(room.url("/big")).body) == 5000


def test_a_compressed_page_is_unpacked_and_a_bomb_stopped(room: Newsroom) -> None:
    room.routes["/gzip"] = Route(body=gzip.compress(b"<p>small</p>"), encoding="gzip")
    room.routes["/bomb"] = Route(body=gzip.compress(b"0" * 10_000_000), encoding="gzip")
    room.routes["/brotli"] = Route(body=b"\x00\x01", encoding="br")
    assert fetcher().get(room.url("/gzip")).body == b"<p>small</p>"
    with pytest.raises(FetchFailed, match="more than the limit of 64 KB once uncompressed"):
        fetcher(max_bytes=65536).get(room.url("/bomb"))
    with pytest.raises(FetchFailed, match="compressed as 'br', which was not asked for"):
        fetcher().get(room.url("/brotli"))
    assert ("/gzip", "gzip") in [(p, e) for p, _, e in room.requests]


@pytest.mark.parametrize(
    ("status", "allowed"),
    [(404, True), (410, True), (401, True), (403, True), (429, False), (500, False), (503, False)],
)
def test_robots_txt_that_cannot_be_read(status: int, allowed: bool) -> None:
    with newsroom() as room:  # a robots.txt of its own
        room.routes["/robots.txt"] = Route(status=status, body=b"")
        room.routes["/page"] = Route(body=b"<p>page</p>")
        if allowed:
            assert fetcher().get(room.url("/page")).body == b"<p>page</p>"
        else:
            with pytest.raises(FetchFailed, match=r"robots\.txt"):
                fetcher().get(room.url("/page"))
            assert [path for path, *_ in room.requests] == ["/robots.txt"]


def test_robots_txt_addressed_to_newsdigest_and_its_crawl_delay(room: Newsroom) -> None:
    usual = room.routes["/robots.txt"]
    room.routes["/robots.txt"] = Route(
        content_type="text/plain",
        body=b"User-agent: newsdigest\nDisallow: /archive/\nCrawl-delay: 7\n\nUser-agent: *\nDisallow: /\n",
    )
    room.routes["/news/a"] = Route(body=b"a")
    room.routes["/news/b"] = Route(body=b"b")
    waited: list[float] = []
    now = [100.0]
    polite = Fetcher(timeout=1.0, delay=1.0, clock=lambda: now[0], sleep=waited.append)
    try:
        assert polite.get(room.url("/news/a")).body == b"a"
        assert polite.get(room.url("/news/b")).body == b"b"
        with pytest.raises(FetchFailed, match="does not allow"):
            polite.get(room.url("/archive/old"))
    finally:
        room.routes["/robots.txt"] = usual
    assert waited and all(w == pytest.approx(7.0) for w in waited)  # the Crawl-delay, not 1 s


def test_an_unknown_host_and_a_closed_port_are_named() -> None:
    with pytest.raises(FetchFailed, match="connection was refused"):
        fetcher().get("http://127.0.0.1:9/")
    with pytest.raises(FetchFailed, match="only http:// and https://"):
        fetcher().get("javascript:alert(1)")


# Decoding


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r", "utf-8", "utf-16"])
def test_russian_text_is_read_in_any_common_encoding(encoding: str) -> None:
    text = "Большинство врачей уехали работать в Польшу и Литву, где зарплата выше в несколько раз. " * 3
    data = text.encode(encoding)
    found = decode(data)
    assert found.text.strip("\ufeff") == text
    assert found.encoding == label(encoding)


def test_a_wrong_declared_charset_is_said_and_the_bytes_decide() -> None:
    data = "<meta charset='windows-1251'><p>Жители области</p>".encode("cp1251")
    found = decode(data, declared="utf-8", html=True)
    assert found.text.endswith("<p>Жители области</p>")
    assert "the charset 'utf-8' (declared by the server) does not fit the bytes" in found.describe()


def test_bytes_that_are_no_text_are_refused() -> None:
    with pytest.raises(UnknownEncoding):
        decode(bytes(range(256)) * 4)


# HTML to Markdown


def markdown_of(html: str, base: str = "https://outlet.example/news/") -> str:
    return to_markdown(lxml.html.fragment_fromstring(html, create_parent="div"), base).markdown


def test_an_exclamation_mark_before_a_link_never_makes_it_an_image() -> None:
    markdown = markdown_of('<p>Wow!<a href="/x.png">see</a></p>')
    assert to_html(markdown) == '<p>Wow!<a href="https://outlet.example/x.png">see</a></p>'


def test_links_are_absolute_and_only_to_the_web() -> None:
    markdown = markdown_of(
        '<p>See <a href="../report.pdf">the report</a>, <a href="javascript:alert(1)">this</a> and '
        '<a href="https://x.org/a b(c)">that</a>.</p>'
    )
    assert markdown == (
        "See [the report](https://outlet.example/report.pdf), this and [that](https://x.org/a%20b%28c%29)."
    )
    assert to_html(markdown).count("<a ") == 2


def test_nested_lists_quotes_tables_and_emphasis() -> None:
    markdown = markdown_of(
        "<h1>Big</h1><ol><li>one<ul><li>inner</li></ul></li><li><b>two</b></li></ol>"
        "<blockquote><p>first</p><p>second <i>line</i></p></blockquote>"
        "<table><tr><th>Name</th><th>Votes</th></tr><tr><td>A|B</td><td>80%</td></tr></table>"
        "<p>one<br>two</p><pre>code  kept<script>x()</script></pre>"
    )
    assert markdown == (
        "## Big\n\n1. one\n    - inner\n2. **two**\n\n> first\n>\n> second *line*\n\n"
        "| Name | Votes |\n| --- | --- |\n| A\\|B | 80% |\n\none  \ntwo\n\ncode kept"
    )
    html = to_html(markdown)
    assert "<ol>" in html and "<ul>" in html and "<table>" in html and "<blockquote>" in html


def test_scripts_comments_and_images_never_reach_the_markdown() -> None:
    converted = to_markdown(
        lxml.html.fragment_fromstring(
            "<p>Text<script>alert(1)</script><!-- note --><img src=x onerror=alert(1)> more</p>"
            "<p>&lt;script&gt;alert(2)&lt;/script&gt; {: onclick=alert(3)}</p>",
            create_parent="div",
        )
    )
    assert converted.images == 1
    html = to_html(converted.markdown)
    assert html == "<p>Text more</p>\n<p>&lt;script&gt;alert(2)&lt;/script&gt; {: onclick=alert(3)}</p>"


# Pages


def test_a_page_with_no_article_is_refused() -> None:
    from generator.importing.extract import NotAnArticle

    with pytest.raises(NotAnArticle):
        read_page("<html><body><nav><a href='/'>Home</a></nav></body></html>", "", UTC)


def test_a_date_without_an_offset_takes_the_sites_zone_and_says_so() -> None:
    page = f"<html><head><meta property='article:published_time' content='2024-03-05T10:00'></head><body><article><h1>A headline</h1><p>{STORY}</p></article></body></html>"
    draft = read_page(page, "", ZoneInfo("Europe/Minsk"))
    assert draft.date is not None and draft.date.isoformat() == "2024-03-05T10:00:00+03:00"
    assert any("no time zone" in note for note in draft.notes)
    assert {"author", "outlet", "address", "lead image"} <= set(draft.missing)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-03-05T07:45:00+02:00", "2024-03-05T07:45:00+02:00"),
        ("2024-03-05T07:45:00Z", "2024-03-05T07:45:00+00:00"),
        ("2024-03-05T07:45:00+0200", "2024-03-05T07:45:00+02:00"),
        ("Tue, 05 Mar 2024 07:45:00 +0200", "2024-03-05T07:45:00+02:00"),
        ("2024-03-05", "2024-03-05T00:00:00"),
    ],
)
def test_dates_as_outlets_write_them(text: str, iso: str) -> None:
    moment = parse_moment(text)
    assert moment is not None and moment.isoformat() == iso


def test_deep_or_broken_json_ld_is_passed_over() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    page = (
        f"<html><head><script type='application/ld+json'>{deep}</script>"
        "<script type='application/ld+json'>{broken</script>"
        "<meta property='og:title' content='From the meta tag'></head>"
        f"<body><article><p>{STORY}</p></article></body></html>"
    )
    assert read_page(page, "", UTC).title == "From the meta tag"


# Duplicates


def test_addresses_that_name_the_same_page() -> None:
    assert same_url("https://www.Outlet.example:443/a/b/?utm_source=x&id=3#top") == same_url(
        "http://outlet.example/a/b?id=3&fbclid=y"
    )
    assert same_url("https://outlet.example/a?id=3") != same_url("https://outlet.example/a?id=4")


def test_sources_in_every_form_give_their_addresses() -> None:
    meta = {
        "source": {"name": "A", "url": "https://a.example/1"},
        "sources": ["https://b.example/2", {"url": "https://c.example/3"}, "Just a name"],
    }
    assert sorted(source_urls(meta)) == ["https://a.example/1", "https://b.example/2", "https://c.example/3"]


def test_near_duplicates_and_distinct_stories() -> None:
    edited = "A new first sentence was written by the wire editor. " + STORY.split(". ", 1)[1]
    other = " ".join(f"Word{n} of a quite different report on another subject entirely" for n in range(40))
    index = StoryIndex(0.8)
    index.add("content/a.md", STORY)
    match = index.find(edited)
    assert match is not None and match.key == "content/a.md" and match.similarity >= 0.8
    assert index.find(other) is None
    assert index.find("Too short to compare.") is None
    pairs = near_pairs([("a", STORY), ("b", other), ("c", edited)], 0.8)
    assert [(first, second) for first, second, _ in pairs] == [("a", "c")]


# Text cleaning


def test_a_list_of_other_headlines_after_the_article_is_dropped() -> None:
    cleaned = clean_text(
        "Headline\n\nThe article's first paragraph ends here.\n\nIts last paragraph, too.\n\n"
        "Popular news\n\nPrices for bread rise again\n\nFootball club changes its name\n"
    )
    assert cleaned.paragraphs == ("The article's first paragraph ends here.", "Its last paragraph, too.")
    assert "dropped site chrome 'Popular news' and the 2 headlines after it" in cleaned.repairs[-1]


def test_read_more_in_the_middle_of_an_article_is_kept() -> None:
    text = (
        "Headline\n\nFirst paragraph.\n\nRead more\n\n"
        + "A long paragraph that continues the article with many more words than any headline would have." * 2
    )
    assert len(clean_text(text).paragraphs) == 3


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("«Мы не можем удержать молодых«, — говорит она.", "«Мы не можем удержать молодых», — говорит она."),
        ("«Мы уедем », — сказал он.", "«Мы уедем», — сказал он."),
        ("Il a dit « non » hier.", "Il a dit « non » hier."),
        ("“The main question is ” – notes X.", "“The main question is” – notes X."),
    ],
)
def test_guillemets_and_spaces_before_closing_quotes(raw: str, fixed: str) -> None:
    assert repair_paragraph(raw)[0] == fixed


# Config


def test_import_settings_are_checked() -> None:
    config = parse_config("import: {timeout: 5, delay: 0, duplicate_threshold: 0.7}", Path("/s/config.yaml"))
    assert (config.imports.timeout, config.imports.delay, config.imports.duplicate_threshold) == (5, 0, 0.7)
    with pytest.raises(BuildFailed) as info:
        parse_config("import:\n  timeout: 0\n  threshold: 1\n  max_page_kb: yes\n", Path("/s/config.yaml"))
    messages = [str(e) for e in info.value.errors]
    assert messages[0].startswith("/s/config.yaml:2: error: 'import: timeout' must be a number of seconds")
    assert messages[1].startswith("/s/config.yaml:3: error: unknown key 'threshold' in 'import'")
    assert messages[2].startswith("/s/config.yaml:4: error: 'import: max_page_kb' must be a whole number")


# Hostile servers: every get ends within DEADLINE_FACTOR x timeout, whatever the server does


@pytest.mark.parametrize(
    ("behave", "scheme", "reason"),
    [
        (hostile.drip_body, "http", "did not arrive within 0.9 s"),
        (hostile.endless_headers, "http", "did not arrive within 0.9 s"),
        (hostile.slow_redirects, "http", "did not arrive within 0.9 s"),
        (hostile.slow_tls, "https", "no answer within 0.3 s|did not arrive within 0.9 s"),
        (hostile.stall, "http", "no answer within 0.3 s"),
        (hostile.reset, "http", "reset"),
    ],
    ids=["drip", "endless-headers", "slow-redirects", "slow-tls", "stall", "reset"],
)
def test_a_hostile_server_is_given_up_on_at_the_deadline(
    behave: hostile.Behave, scheme: str, reason: str
) -> None:
    with hostile.hostile(behave) as base:
        url = base.replace("http", scheme, 1) + "/hop/0"
        started = time.monotonic()
        with pytest.raises(FetchFailed, match=reason) as failed:
            Fetcher(timeout=0.3, delay=0.0).get(url)
        took = time.monotonic() - started
    assert failed.value.url == url
    assert took < 0.3 * DEADLINE_FACTOR + 0.5, f"{took:.2f} s"


def test_the_deadline_leaves_the_polite_pause_out(room: Newsroom) -> None:
    slept: list[float] = []
    paused = Fetcher(timeout=0.5, delay=5.0, sleep=slept.append)
    paused.get(room.url("/2024/04/11/opposition-office-vilnius/"))  # robots.txt, pause, page
    assert slept and slept[0] > 4  # the pause was asked for and did not count against the deadline
