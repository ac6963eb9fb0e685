from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath
from typing import Any

import pytest

from generator.base.model import DEFAULT_PERMALINK
from generator.base.urls import (
    collection_url,
    output_path_for,
    paged,
    permalink,
    root_prefix,
    slugify,
    tag_url,
)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("The Kremlin fears a repetition", "the-kremlin-fears-a-repetition"),
        ("Лукашенко просит помощи у России", "lukashenko-prosit-pomoshchi-u-rossii"),
        ("Kremlin’s “fears” — again!", "kremlins-fears-again"),
        ("../../etc/passwd", "etc-passwd"),
        ("!!!", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_long_slugs_are_cut_at_a_word() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= 80 and not slug.endswith("-")


def test_urls() -> None:
    day = date(2020, 9, 3)
    made: dict[str, Any] = {"day": day, "slug": "x", "filename": "2020-09-03-x", "title": "The X"}
    assert permalink(DEFAULT_PERMALINK, collection="belarus", **made) == "belarus/2020/09/03/x/"
    assert permalink(DEFAULT_PERMALINK, collection="", **made) == "2020/09/03/x/"
    assert permalink("/:collection/:slug/", collection="belarus", **made) == "belarus/x/"
    assert permalink("/:filename.html", collection="", **made) == "2020-09-03-x.html"
    assert permalink("/news/:title/", collection="", **made) == "news/the-x/"
    with pytest.raises(ValueError):
        permalink("/:slug/", collection="", **{**made, "slug": ".."})
    assert collection_url("belarus", 2) == "belarus/page/2/"
    assert tag_url("open-data") == "tags/open-data/"
    assert paged("a/", 1) == "a/"


def test_output_paths() -> None:
    assert output_path_for("") == PurePosixPath("index.html")
    assert output_path_for("belarus/x/") == PurePosixPath("belarus/x/index.html")
    assert output_path_for("404.html") == PurePosixPath("404.html")


@pytest.mark.parametrize("url", ["../x/", "/etc/", "a/../../b/", "a//b/", ".git/", "a\\..\\b/"])
def test_unsafe_output_paths_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        output_path_for(url)


def test_root_prefix() -> None:
    assert root_prefix("") == "./"
    assert root_prefix("404.html") == "./"
    assert root_prefix("a/") == "../"
    assert root_prefix("a/b/page/2/") == "../../../../"


def test_the_date_forms_of_old_url_schemes() -> None:
    """Jekyll's :i_month, :short_year, :y_day, :long_month... and Hugo's :monthname keep old URLs."""
    from datetime import date, datetime

    from generator.base.urls import permalink, permalink_problem

    pattern = "/:short_year/:i_month/:i_day/:y_day/:short_month/:long_month/:monthname/:week/:short_day/:hour:minute:second/:slug/"
    assert permalink_problem(pattern) is None
    url = permalink(
        pattern, collection="", day=date(2008, 2, 3), slug="s", filename="f", title="T",
        moment=datetime(2008, 2, 3, 5, 7, 9),
    )  # fmt: skip
    assert url == "08/2/3/034/Feb/February/february/05/Sun/050709/s/"
    assert (
        permalink("/:hour/:slug/", collection="", day=date(2008, 2, 3), slug="s", filename="f", title="T")
        == "00/s/"
    )
