"""Social cards: an article without a lead image gets a 1200x630 picture for link previews
(`og:image`), drawn from the theme's card template, in its language, cached, the same every time;
a site or theme replaces the template, and a broken one is an error at its line."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFont

from generator.base.model import CardText
from generator.build import cards
from generator.driver.pipeline import build
from tests.conftest import MakeSite, article_text, run_cli

CONFIG = """\
title: Belarus Digest
base_url: https://example.org/
search: false
timezone: Europe/Minsk
collections:
  - {key: belarus, title: Solidarity with Belarus}
"""
PAGE = "belarus/2020/09/03/first/"
CARD = PAGE + "social-card.png"
FONTS = Path(__file__).parent.parent / "themes" / "default" / "card" / "fonts"


def _files(**more: str) -> dict[str, str | bytes]:
    photo = io.BytesIO()
    Image.new("RGB", (1600, 900), (20, 90, 160)).save(photo, "JPEG")
    files: dict[str, str | bytes] = {
        "content/belarus/first.md": article_text("The first march", "2020-09-03", collection="belarus"),
        "content/belarus/second.md": article_text(
            "Студэнты выйшлі: ў ї є", "2020-09-04", collection="belarus", lang="be"
        ),
        "content/belarus/photo/index.md": article_text(
            "With a photo", "2020-09-05", collection="belarus", image="lead.jpg", image_alt="Blue"
        ),
        "content/belarus/photo/lead.jpg": photo.getvalue(),
        "content/belarus/draft.md": article_text("Not yet", "2020-09-06", collection="belarus", draft="true"),
    }
    files.update(more)
    return files


def _meta(html: str, prop: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    return found.group(1) if found else None


def test_an_article_without_a_lead_image_shares_its_card(make_site: MakeSite) -> None:
    root = make_site(_files(), CONFIG)
    build(root)
    site = root / "site"
    html = (site / PAGE / "index.html").read_text(encoding="utf-8")
    assert _meta(html, "og:image") == "https://example.org/" + CARD
    assert (_meta(html, "og:image:width"), _meta(html, "og:image:height")) == ("1200", "630")
    assert _meta(html, "og:image:alt") == "The first march"
    assert _meta(html, "twitter:card") == "summary_large_image"
    assert '"image": [{"@type": "ImageObject", "height": 630, "url": "https://example.org/' + CARD in html
    with Image.open(site / CARD) as card:
        assert (card.format, card.size, card.mode) == ("PNG", (1200, 630), "P")
        card = card.convert("RGB")
        assert card.getpixel((600, 4)) == pytest.approx((163, 18, 42), abs=6)  # the theme's accent band
        assert card.getpixel((1190, 320)) == pytest.approx((252, 252, 250), abs=3)  # its background
    # An article with its own picture shares it, and gets no card; a draft gets nothing at all.
    photo = (site / "belarus/2020/09/05/photo/index.html").read_text(encoding="utf-8")
    assert "social-card" not in photo
    assert _meta(photo, "og:image") == "https://example.org/belarus/2020/09/05/photo/lead-1200w.jpg"
    made = sorted(p.relative_to(site).as_posix() for p in site.rglob("*card.png"))
    assert made == [CARD, "belarus/2020/09/04/second/social-card.png"]


def test_a_card_is_the_same_every_time_and_drawn_once(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_WORKERS", "1")  # drawn in this process, where they can be counted
    drawn: list[str] = []
    real = cards.draw

    def counted(card: Any) -> bytes:
        drawn.append(dict(card.texts)["title"])
        return real(card)

    monkeypatch.setattr(cards, "draw", counted)
    root = make_site(_files(), CONFIG)
    build(root)
    first = (root / "site" / CARD).read_bytes()
    assert sorted(drawn) == ["The first march", "Студэнты выйшлі: ў ї є"]
    drawn.clear()
    build(root)
    assert drawn == []  # nothing changed
    shutil.rmtree(root / "site")
    build(root)
    assert drawn == []  # the cache holds them: a missing site is refilled, not drawn again
    assert (root / "site" / CARD).read_bytes() == first
    article = root / "content/belarus/first.md"
    article.write_text(article.read_text(encoding="utf-8").replace("first march", "first big march"))
    build(root)
    assert drawn == ["The first big march"]  # only the edited headline's
    # Built elsewhere, without the cache, the same texts give the same bytes.
    other = tmp_path / "other"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns("site", ".digest-cache"))
    article.write_text(article.read_text(encoding="utf-8").replace("first big march", "first march"))
    (other / "content/belarus/first.md").write_text(article.read_text(encoding="utf-8"))
    build(other)
    assert (other / "site" / CARD).read_bytes() == first


def test_the_card_speaks_the_articles_language(make_site: MakeSite) -> None:
    config = CONFIG + (
        "languages:\n  - {code: en, name: English, default: true}\n"
        "  - {code: be, name: Беларуская, title: Беларускі дайджэст}\n"
    )
    root = make_site(_files(), config)
    build(root)
    card = next(p for p in (root / "site").rglob("social-card.png") if "second" in p.as_posix())
    texts = _texts_of(root, "second")
    assert texts["site"] == "Беларускі дайджэст"
    assert texts["date"] == "4 верасня 2020\u202fг."  # CLDR's no-break space: kept on one line
    with Image.open(card) as image:
        assert image.size == (1200, 630)


def _texts_of(root: Path, slug: str) -> dict[str, str]:
    from generator.driver.pipeline import prepare

    plan = prepare(root)
    found = [p.card for p in plan.pictures if p.card is not None and slug in p.path]
    assert len(found) == 1 and found[0] is not None
    return dict(found[0].texts)


def test_the_fonts_have_every_letter_of_the_digests_languages() -> None:
    missing = "\ue000"  # a private-use character: no font has it, so it shows the font's box
    letters = "ўЎіІїЇєЄґҐёЁщЩъыэюяĄąĘęŁłŃńŚśŹźŻżČčŠšŽžŪūĖėĮįßäöüéèçñαβγ«»„“”–—№"
    for name in ("LiberationSerif-Bold.ttf", "LiberationSans-Bold.ttf", "LiberationSans-Regular.ttf"):
        font = ImageFont.truetype(str(FONTS / name), 40)
        box = bytes(font.getmask(missing))
        lacking = [c for c in letters if bytes(font.getmask(c)) == box]
        assert lacking == [], f"{name} lacks {lacking}"


def test_a_long_headline_is_made_smaller_then_cut_with_an_ellipsis() -> None:
    text = CardText("title", FONTS / "LiberationSerif-Bold.ttf", 76, 46, 1.12, "#000", (80, 186, 1040, 320))
    font, lines, step = cards._fit("A short one", text)
    assert (font.size, lines) == (76, ["A short one"])
    medium = " ".join(["Protesters"] * 14)
    font, lines, _ = cards._fit(medium, text)
    assert 46 <= font.size < 76 and " ".join(lines) == medium
    assert all(font.getlength(line) <= 1040 for line in lines)
    font, lines, step = cards._fit(" ".join(["Demonstrations"] * 60), text)
    assert font.size == 46 and lines[-1].endswith("…")
    assert (len(lines) - 1) * step + font.size <= 320
    font, lines, _ = cards._fit("Ы" * 80, text)  # one word wider than the box is broken
    assert all(font.getlength(line) <= 1040 for line in lines)


def test_a_site_replaces_the_template_and_its_change_redraws_the_cards(make_site: MakeSite) -> None:
    root = make_site(_files(), CONFIG)
    build(root)
    template = (FONTS.parent / "card.yaml").read_text(encoding="utf-8")
    own = root / "overrides/card/card.yaml"
    own.parent.mkdir(parents=True)
    own.write_text(template.replace('background: "#fcfcfa"', 'background: "#003366"'), encoding="utf-8")
    build(root)
    with Image.open(root / "site" / CARD) as card:
        assert card.convert("RGB").getpixel((1190, 320)) == pytest.approx((0, 51, 102), abs=3)
    shutil.copy(FONTS / "LiberationSans-Bold.ttf", root / "overrides/card/Own.ttf")
    own.write_text(own.read_text(encoding="utf-8").replace("LiberationSerif-Bold.ttf", "Own.ttf"))
    build(root)  # a font beside the site's template is found there
    assert (root / "site" / CARD).is_file()


def test_a_broken_template_is_an_error_at_its_line(make_site: MakeSite) -> None:
    broken = """\
    width: 1200
    height: 630
    background: "#fcfcfa"
    texts:
      - show: headline
        font: Nowhere.ttf
        size: 60
        colour: not-a-colour
        box: [80, 186, 1040]
    shadow: true
    """
    root = make_site({**_files(), "overrides/card/card.yaml": broken}, CONFIG)
    code, out, err = run_cli("build", "--source", str(root))
    assert code == 1
    said = out + err
    assert "Traceback" not in said
    for line, words in [
        (5, "a text shows one of site, collection, title, date, not 'headline'"),
        (6, "no font 'Nowhere.ttf'"),
        (8, "'not-a-colour' is not a colour"),
        (9, "a box is [left, top, width, height]"),
        (10, "unknown key 'shadow'"),
    ]:
        assert re.search(rf"card\.yaml:{line}\b.*{re.escape(words)}", said), (line, words, said)
    assert not (root / "site").exists()  # nothing is built from a broken template


def test_cards_can_be_switched_off(make_site: MakeSite) -> None:
    root = make_site(_files(), CONFIG + "social_cards: false\n")
    build(root)
    html = (root / "site" / PAGE / "index.html").read_text(encoding="utf-8")
    assert _meta(html, "og:image") is None and _meta(html, "twitter:card") == "summary"
    assert not list((root / "site").rglob("*card.png"))


def test_a_page_named_as_a_file_gets_a_card_named_after_it() -> None:
    from generator.base.urls import card_file_for

    assert card_file_for("news/2020/story/") == "news/2020/story/social-card.png"
    assert card_file_for("news/2020/story.html") == "news/2020/story-card.png"
    assert card_file_for("") == "social-card.png"


def test_a_right_to_left_article_gets_no_card_rather_than_letters_in_the_wrong_order(
    make_site: MakeSite,
) -> None:
    files = _files(
        **{
            "content/belarus/arabic.md": article_text("تضامن", "2020-09-07", collection="belarus", lang="ar"),
            # A Persian headline in an article that names no language of its own (PaperMod's example
            # site has one): the headline decides too.
            "content/belarus/persian.md": article_text(
                "راهنمای مارک‌داون", "2020-09-08", collection="belarus"
            ),
        }
    )
    root = make_site(files, CONFIG)
    build(root)
    for page in ("belarus/2020/09/07/arabic", "belarus/2020/09/08/persian"):
        html = (root / "site" / page / "index.html").read_text(encoding="utf-8")
        assert _meta(html, "og:image") is None, page
        assert not (root / "site" / page / "social-card.png").exists(), page
    assert (root / "site" / CARD).is_file()
