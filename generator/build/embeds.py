"""Embeds stage: a link to a video or a post, alone in its paragraph, as a card that loads nothing.

A bare link on its own line to YouTube, Vimeo, Telegram, X, Mastodon, Instagram or SoundCloud (or
what Hugo's and Jekyll's embed shortcodes become, see `shortcodes`) is shown as a static card: the
provider, the link's words or "Video on YouTube", and a link to the original. The page makes no
request to the provider: its player, scripts and trackers come only when the reader presses the
card's button (the theme's `static/embed.js` then puts the provider's player in its place). Feeds
and newsletters get the plain link back (`as_links`); an unknown provider stays a link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class Provider:
    key: str
    name: str
    what: str  # the card's words when the link's own are its address
    pattern: re.Pattern[str]
    player: Callable[[re.Match[str]], str]  # the address of the player to load on a click


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + r"/?(?:[?#&].*)?$", re.IGNORECASE)


PROVIDERS = (
    Provider("youtube", "YouTube", "Video on YouTube",
             _p(r"https?://(?:www\.|m\.)?(?:youtube\.com/(?:watch\?(?:.*&)?v=|shorts/|embed/)|youtu\.be/)([\w-]{11})"),
             lambda m: f"https://www.youtube-nocookie.com/embed/{m[1]}?autoplay=1"),
    Provider("vimeo", "Vimeo", "Video on Vimeo", _p(r"https?://(?:www\.)?vimeo\.com/(\d+)"),
             lambda m: f"https://player.vimeo.com/video/{m[1]}?autoplay=1&dnt=1"),
    Provider("telegram", "Telegram", "Post on Telegram", _p(r"https?://t\.me/(\w+)/(\d+)"),
             lambda m: f"https://t.me/{m[1]}/{m[2]}?embed=1"),
    Provider("x", "X", "Post on X", _p(r"https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/(\w+)/status/(\d+)"),
             lambda m: f"https://platform.twitter.com/embed/Tweet.html?id={m[2]}&dnt=true"),
    Provider("instagram", "Instagram", "Post on Instagram",
             _p(r"https?://(?:www\.)?instagram\.com/(?:p|reel)/([\w-]+)"),
             lambda m: f"https://www.instagram.com/p/{m[1]}/embed/"),
    Provider("soundcloud", "SoundCloud", "Audio on SoundCloud",
             _p(r"https?://(?:www\.)?soundcloud\.com/([\w-]+)/([\w-]+)"),
             lambda m: "https://w.soundcloud.com/player/?url="
             + quote(f"https://soundcloud.com/{m[1]}/{m[2]}", safe="") + "&auto_play=true"),
    # A Mastodon server is any host: its card is a link, with no player (the site's policy names
    # the players it allows, the same for every page).
    Provider("mastodon", "Mastodon", "Post on Mastodon", _p(r"https://([a-z0-9.-]+\.[a-z]{2,})/@(\w+)/(\d+)"),
             lambda m: ""),
)  # fmt: skip
PLAYER_ORIGINS = (
    "https://www.youtube-nocookie.com", "https://player.vimeo.com", "https://t.me",
    "https://platform.twitter.com", "https://www.instagram.com", "https://w.soundcloud.com",
)  # fmt: skip

# A paragraph that holds one link and nothing else: <p><a href="URL">words</a></p>, or the address as text.
_ALONE = re.compile(r'<p>(?:<a href="(https?://[^"<>\s]+)">([^<]*)</a>|(https?://[^\s<>"]+))</p>')
_CARD = re.compile(r'<figure class="embed [^"]*"[^>]*>.*?<a class="embed-link" href="([^"]*)">.*?'
                   r'<span class="embed-title">([^<]*)</span>.*?</figure>', re.DOTALL)  # fmt: skip


def cards(fragment: str) -> str:
    """The HTML fragment with each lone link to a known provider as its card."""
    if "<p>" not in fragment or "http" not in fragment:
        return fragment
    return _ALONE.sub(_card, fragment)


def _card(match: re.Match[str]) -> str:
    address = html.unescape(match[1] or match[3])
    words = html.unescape(match[2]) if match[1] else ""
    for provider in PROVIDERS:
        found = provider.pattern.match(address)
        if found:
            break
    else:
        return match[0]  # an unknown provider: the link as it was
    title = words if words and words.strip() != address else provider.what
    shown, link, player = html.escape(title), html.escape(address), html.escape(provider.player(found))
    name = html.escape(provider.name)
    button = (f'<button type="button" class="embed-play" hidden data-pagefind-ignore>Play here (loads {name})'
              "</button>" if player else "")  # fmt: skip
    source = f' data-embed-src="{player}"' if player else ""
    return (
        f'<figure class="embed embed-{provider.key}"{source} data-embed-provider="{name}">'
        f'<a class="embed-link" href="{link}"><span class="embed-provider">{name}</span>'
        f'<span class="embed-title">{shown}</span></a>{button}</figure>'
    )


def as_links(fragment: str) -> str:
    """The fragment with each card as the plain link it was (for feeds and newsletters)."""
    if "embed-link" not in fragment:
        return fragment
    return _CARD.sub(lambda m: f'<p><a href="{m[1]}">{m[2]}</a></p>', fragment)
