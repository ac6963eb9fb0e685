"""Privacy-first embeds: a lone link to a video or post is a card that loads nothing from the
provider until the reader presses it (checked in Chromium); feeds get the plain link."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest

from generator.build import embeds, security
from generator.build.markup import to_html
from generator.driver.pipeline import build
from tests.conftest import MINIMAL_CONFIG, MakeSite

ARTICLE = """---
title: Videos of the day
date: 2020-09-01
collection: world
---

What was filmed.

https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42

[The speech in full](https://vimeo.com/76979871)

<https://t.me/nexta_live/5000>

{{< tweet user="nexta_tv" id="1300000000000000000" >}}

https://www.instagram.com/p/CabcDEF123/

https://soundcloud.com/some-band/some-track

https://mastodon.social/@nexta/111222333

https://example.org/a-video-of-ours

A [link in a sentence](https://www.youtube.com/watch?v=dQw4w9WgXcQ) stays a link.
"""
PAGE = "world/2020/09/01/videos/index.html"


@pytest.mark.parametrize(
    ("link", "provider", "player"),
    [
        ("https://youtu.be/dQw4w9WgXcQ", "youtube", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"),
        ("https://www.youtube.com/shorts/dQw4w9WgXcQ", "youtube", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://vimeo.com/76979871", "vimeo", "https://player.vimeo.com/video/76979871"),
        ("https://t.me/nexta_live/5000", "telegram", "https://t.me/nexta_live/5000?embed=1"),
        ("https://twitter.com/nexta_tv/status/13", "x", "https://platform.twitter.com/embed/Tweet.html?id=13"),
        ("https://www.instagram.com/reel/Cab-1/", "instagram", "https://www.instagram.com/p/Cab-1/embed/"),
        ("https://soundcloud.com/a/b", "soundcloud", "https://w.soundcloud.com/player/?url=https%3A%2F%2Fsoundcloud.com%2Fa%2Fb"),
    ],
)  # fmt: skip
def test_each_provider_gets_a_card_whose_player_the_policy_allows(
    link: str, provider: str, player: str
) -> None:
    card = to_html(f"<{link}>\n")
    assert card.startswith(f'<figure class="embed embed-{provider}" data-embed-src="')
    source = re.search(r'data-embed-src="([^"]*)"', card)
    assert source and source.group(1).replace("&amp;", "&").startswith(player)
    allowed = security.DEFAULT_POLICY["frame-src"].split()
    origin = urlsplit(source.group(1).replace("&amp;", "&"))
    assert f"{origin.scheme}://{origin.hostname}" in allowed  # the site's policy lets the player load
    title = card.split('embed-title">')[1].split("<")[0]
    assert embeds.as_links(card) == f'<p><a href="{link}">{title}</a></p>'


def test_unknown_providers_and_links_in_sentences_stay_links() -> None:
    assert (
        to_html("<https://example.org/v/1>\n")
        == '<p><a href="https://example.org/v/1">https://example.org/v/1</a></p>'
    )
    text = to_html("See [this](https://youtu.be/dQw4w9WgXcQ) now.\n")
    assert "figure" not in text and '<a href="https://youtu.be/dQw4w9WgXcQ">this</a>' in text


@pytest.fixture
def embed_site(make_site: MakeSite) -> Path:
    root = make_site({"content/world/videos.md": ARTICLE}, MINIMAL_CONFIG + "search: false\n")
    build(root)
    return root / "site"


def test_the_page_has_cards_and_the_feed_plain_links(embed_site: Path) -> None:
    page = (embed_site / PAGE).read_text(encoding="utf-8")
    assert page.count('<figure class="embed ') == 7 and page.count('class="embed-play" hidden') == 6
    assert '<span class="embed-title">The speech in full</span>' in page  # the link's own words
    assert '<span class="embed-title">Post on X</span>' in page  # Hugo's tweet shortcode, translated
    assert '<p><a href="https://example.org/a-video-of-ours">' not in page  # a bare address stays text
    assert 'static/embed.js" data-play="Play here (loads {provider})" defer></script>' in page
    body = page.split("<body", 1)[1]
    assert "youtube-nocookie" not in re.sub(r'data-embed-src="[^"]*"', "", body)  # only in the cards' data
    assert "<iframe" not in page and '<script src="https' not in page
    entry = feedparser.parse((embed_site / "feed.xml").read_bytes()).entries[0]
    body = entry.content[0].value
    assert "<figure" not in body and "embed-play" not in body
    assert '<a href="https://vimeo.com/76979871">The speech in full</a>' in body
    home = (embed_site / "index.html").read_text(encoding="utf-8")
    assert "embed.js" not in home


def test_in_a_browser_nothing_loads_from_a_provider_until_the_card_is_pressed(
    browser: Any, embed_site: Path
) -> None:
    from tests.test_browser import Visit, serving

    with serving(embed_site) as origin:
        tab = Visit(browser, origin)
        tab.page.route(re.compile(r"^https://(?!127\.0\.0\.1)"), lambda route: route.abort())  # no network
        tab.goto(PAGE.removesuffix("index.html"))
        loaded = list(tab.requests)
        button = tab.page.locator("figure.embed-youtube .embed-play")
        assert (
            button.is_visible() and button.text_content() == "Play here (loads YouTube)"
        )  # the theme's words
        button.click()
        frame = tab.page.locator("figure.embed-youtube iframe")
        frame.wait_for(state="attached")
        src = frame.get_attribute("src")
        tab.page.wait_for_timeout(300)
        after = list(tab.requests)
        tab.close()
    assert loaded and all(r.startswith(origin) for r in loaded), loaded
    assert src == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"
    assert any(r.startswith("https://www.youtube-nocookie.com/embed/") for r in after[len(loaded) :])
    assert not [p for p in tab.problems if "Content Security Policy" in p or "CSP" in p]
