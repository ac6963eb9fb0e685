"""Whatever a user writes, the build answers with its own errors, never a crash."""

from __future__ import annotations

import contextlib
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.config import parse_config
from generator.content import parse_article
from generator.errors import BuildFailed
from generator.reading import RawArticle

KEYS = ["title", "date", "updated", "tags", "collection", "slug", "draft", "source", "author", "summary"]
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "2020-13-45",
            "2020-01-01",
            "[a, b]",
            "{a: 1}",
            "!!binary aGk=",
            "true",
            "12:30",
            "'",
            "~",
            "&x 1",
            "*x",
        ]
    ),
)
FRONT = st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=6).map(
    lambda pairs: "".join(f"{k}: {v}\n" for k, v in pairs)
)


@settings(max_examples=150, deadline=None)
@given(front=FRONT, body=st.text(max_size=40))
def test_front_matter_never_crashes(front: str, body: str) -> None:
    raw = RawArticle("a.md", Path("/c/a.md"), f"---\n{front}---\n{body}")
    try:
        parse_article(raw, ZoneInfo("UTC"))
    except BuildFailed as failed:
        assert all(e.location and e.location.path == Path("/c/a.md") for e in failed.errors)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=80))
def test_any_text_as_an_article_never_crashes(text: str) -> None:
    with contextlib.suppress(BuildFailed):
        parse_article(RawArticle("a.md", Path("/c/a.md"), text), ZoneInfo("UTC"))


CONFIG_KEYS = ["title", "base_url", "per_page", "timezone", "collections", "language", "theme", "tittle"]


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from(CONFIG_KEYS), VALUES), max_size=6))
def test_config_never_crashes(pairs: list[tuple[str, str]]) -> None:
    with contextlib.suppress(BuildFailed):
        parse_config("".join(f"{k}: {v}\n" for k, v in pairs), Path("/s/config.yaml"))
