from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest

from generator.base.model import CollectionSpec
from generator.build.markup import to_html
from generator.importing.htmlmd import escape, escape_block_start
from generator.importing.textclean import clean_text, repair_paragraph
from tests.conftest import REPO

SEED = REPO / "tests" / "data" / "seed-article.txt"  # the raw text the project started from
SPECS = (CollectionSpec("belarus", "Solidarity with Belarus"),)


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("It was over..", "It was over."),
        ("Wait... and see..", "Wait... and see."),
        ("Dots.. in the middle.. too.", "Dots. in the middle. too."),
        ("Keep the ellipsis…", "Keep the ellipsis…"),
        ("“It is over, “he said.", "“It is over,” he said."),
        ("“Really? ” – she asked.", "“Really?” – she asked."),
        ("“One.” Then “two.”", "“One.” Then “two.”"),
    ],
)
def test_paragraph_repairs(raw: str, fixed: str) -> None:
    assert repair_paragraph(raw)[0] == fixed


def test_clean_paragraph_reports_nothing() -> None:
    assert repair_paragraph("All fine here.") == ("All fine here.", [])


def test_seed_article_is_recovered() -> None:
    cleaned = clean_text(SEED.read_text(encoding="utf-8"), SPECS)
    assert cleaned.title == "The Kremlin fears a repetition of the Belarusian scenario"
    assert cleaned.collection == "belarus"
    assert cleaned.summary == "Russian authorities are wary of the events in the neighboring country"
    assert len(cleaned.paragraphs) == 17
    text = "\n".join(cleaned.paragraphs)
    assert "Popular news" not in text and ".." not in text
    assert cleaned.title not in text
    assert "out of control,” Putin said." in text
    repairs = "\n".join(cleaned.repairs)
    assert repairs.count("dropped a repeated title") == 2
    assert "dropped site chrome 'Popular news'" in repairs
    assert repairs.count("repaired 1 doubled period") == 8


@pytest.mark.parametrize(
    "text",
    [
        "1. is the loneliest number.",
        "- not a list either.",
        "+ nor this",
        "# not a heading",
        "> not a quote",
        "===",
        "<b>not bold</b> & <img src=x onerror=alert(1)>",
        "A *star*, an _underscore_, [a link](https://x.org) and a `tick`",
        "An attribute list {: onclick=alert(1) } does nothing",
        "A footnote[^1] is text",
    ],
)
def test_any_paragraph_of_text_renders_as_that_text(text: str) -> None:
    html = to_html(escape_block_start(escape(text)))
    inner = html.removeprefix("<p>").removesuffix("</p>")
    assert html == f"<p>{inner}</p>" and "<" not in inner  # one paragraph, no markup in it
    assert unescape(inner) == text


def test_empty_text_is_refused() -> None:
    with pytest.raises(ValueError):
        clean_text(" \n\n")


def test_title_only() -> None:
    cleaned = clean_text("Just a title\n")
    assert cleaned.title == "Just a title" and cleaned.paragraphs == ()


def test_seed_path_exists() -> None:
    assert Path(SEED).is_file()
