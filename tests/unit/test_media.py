from __future__ import annotations

import io
from pathlib import Path

import pytest

from generator.base.model import ImageSettings, Media
from generator.build import media
from tests.conftest import make_article


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("photo.jpg", "photo.jpg"),
        ("img/a%20b.png?v=2#top", "img/a b.png"),
        ("../common/x.png", "../common/x.png"),
        ("/static/logo.png", None),
        ("https://example.org/a.jpg", None),
        ("mailto:a@example.org", None),
        ("data:image/png;base64,AAAA", None),
        ("#section", None),
        ("", None),
    ],
)
def test_local_path(address: str, expected: str | None) -> None:
    assert media.local_path(address) == expected


def test_references_are_the_lead_image_the_text_images_and_the_links() -> None:
    article = make_article(
        image="lead.jpg",
        body_html=(
            '<p><img alt="a" src="a.png"><img alt="" src="https://e.org/b.png"></p>'
            '<p><a href="doc.pdf">d</a> <a href="../other/">o</a> <a href="#x">x</a> <img src="a.png"></p>'
        ),
    )
    assert media.references(article) == (("lead.jpg", "a.png"), ("doc.pdf", "../other/"))


def test_a_folder_with_other_articles_is_no_bundle(tmp_path: Path) -> None:
    for name in ("index.md", "photo.jpg", "img/map.png", ".hidden", "_draft.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert media.bundle_files(tmp_path) == ["photo.jpg", "img/map.png"]
    (tmp_path / "img" / "other.md").write_text("x", encoding="utf-8")
    assert media.bundle_files(tmp_path) == []


@pytest.mark.parametrize(
    ("width", "widths"),
    [(3000, (480, 800, 1200, 1600)), (1000, (480, 800, 1000)), (480, (480,)), (300, (300,))],
)
def test_an_image_is_never_enlarged(width: int, widths: tuple[int, ...]) -> None:
    fact = media.Facts("k", "png", width, width // 2)
    found = media.picture("a/b.png", fact, ImageSettings(), Path("b.png"))
    assert found.widths == widths and found.width == widths[-1] and found.height == widths[-1] // 2
    assert found.formats == ("png", "webp")
    assert found.variant(widths[-1], "png") == "a/b.png"
    assert found.variant(widths[0], "webp") == f"a/b-{widths[0]}w.webp"


def test_a_titled_image_alone_is_a_figure_and_an_inline_one_stays_in_its_text() -> None:
    fact = media.Facts("k", "jpeg", 1000, 500)
    found = media.picture("news/a/p.jpg", fact, ImageSettings(formats=()), Path("p.jpg"))
    pages = Media({"p.jpg": found}, {}, {"p.jpg": "p.jpg", "r.pdf": "r.pdf"}, "news/a")
    body = (
        '<p><img alt="A &amp; B" src="p.jpg" title="Cap &lt;1&gt;"></p>\n'
        '<p>See <img alt="x" src="p.jpg" title="t"> and <a href="r.pdf">r</a>.</p>'
    )
    out = media.responsive_body(body, pages, "100vw")
    figure, text = out.split("\n")
    assert figure.startswith('<figure><picture><img src="p-800w.jpg"')
    assert 'srcset="p-480w.jpg 480w, p-800w.jpg 800w, p.jpg 1000w"' in figure
    assert 'alt="A &amp; B"' in figure and "<figcaption>Cap &lt;1&gt;</figcaption></figure>" in figure
    assert text.startswith("<p>See <picture><img") and 'title="t"' in text and '<a href="r.pdf">' in text
    assert media.absolute_media(body, pages, "https://e.org/news/a/").count("https://e.org/news/a/") == 3


def test_a_palette_image_is_resized_smoothly(tmp_path: Path) -> None:
    from PIL import Image

    source = tmp_path / "chart.png"
    Image.linear_gradient("L").resize((900, 100)).convert("P").save(source)
    fact = media.probe(source)
    found = media.picture("a/chart.png", fact, ImageSettings(formats=()), source)
    made = media.make_variants(found, 80)
    with Image.open(io.BytesIO(made["a/chart-480w.png"])) as image:
        assert image.mode == "RGB" and image.size == (480, 53)


def test_an_image_damaged_after_it_was_probed_is_a_located_error_not_a_crash(tmp_path: Path) -> None:
    from PIL import Image

    from generator.base.errors import BuildFailed
    from generator.base.model import Picture
    from generator.build import media

    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    for path in (good, bad):
        Image.linear_gradient("L").resize((400, 300)).save(path)
    facts = {path: media.probe(path) for path in (good, bad)}
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])  # cut after the probe
    pictures = [Picture(p.name, 400, 300, (200, 400), ("png",), p, facts[p].key) for p in (good, bad)]
    made = media.make_all(pictures, 80)
    assert set(next(made)) == {path for path, _, _ in pictures[0].variants()}  # the good one is made
    with pytest.raises(BuildFailed) as failed:
        list(made)
    (error,) = failed.value.errors
    assert str(error).startswith(
        f"{bad}: error: 'bad.png' is cut short or damaged: it cannot be decoded whole"
    )
    assert "0x" not in str(error)


def test_one_inspection_of_every_kind_of_bad_image() -> None:
    import io

    from PIL import Image

    from generator.build.media import inspect

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (1, 2, 3)).save(out, "JPEG")
    assert inspect(out.getvalue()) == ("jpeg", 64, 48)
    assert "cut short or damaged" in str(inspect(out.getvalue()[:-200]))
    assert str(inspect(b"GIF89a not really")).startswith("is not an image")
    gif = io.BytesIO()
    Image.new("P", (4, 4)).save(gif, "GIF")
    assert inspect(gif.getvalue()) == "is a GIF image, not a JPEG, PNG or WebP one"
