"""Images and files next to an article: published beside its page, in every width and without
metadata, shown responsively, checked, and never made twice.

The images are real files made here with Pillow: a JPEG photo with an EXIF orientation and a GPS
position, a PNG with transparency, a WebP; and a PDF beside them.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from PIL import Image

from generator.build import media
from generator.driver.pipeline import build
from tests.conftest import assert_same_site, run_cli, tree
from tests.linkcheck import broken_links

CONFIG = "title: Pictures\nbase_url: https://example.org/\nsearch: false\ncollections: [{key: news, title: News}]\n"
PAGE = "news/2020/09/03/trip/"
GPS = {1: "N", 2: (53.0, 54.0, 12.5), 3: "E", 4: (27.0, 33.0, 40.2)}
ARTICLE = """\
---
title: A trip to the border
date: 2020-09-03T10:00:00Z
collection: news
image: photo.jpg
image_alt: A crowd at the crossing
image_caption: The crossing at noon.
image_credit: Jane Roe
---

We drove along the border.

![Map of the route](map.png "The route we took")

Seen ![A road sign](sign.webp) on the way, and [the report](report.pdf).

![A chart shared by two stories](../common/chart.png)
"""
OTHER = """\
---
title: Prices at the market
date: 2020-09-02T10:00:00Z
collection: news
---

![A chart shared by two stories](common/chart.png)
"""


def photo(size: tuple[int, int], orientation: int = 1, gps: bool = True, color: int = 0) -> Image.Image:
    """A picture with detail (so that encoders work), and its EXIF data."""
    image = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.new("L", size, color),
        ),
    )
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Camera Maker"
    if gps:
        exif[0x8825] = GPS
    image.info["exif"] = exif.tobytes()
    return image


def write_images(root: Path, color: int = 0) -> None:
    trip = root / "content" / "news" / "trip"
    trip.mkdir(parents=True, exist_ok=True)
    shot = photo((2000, 1333), orientation=6, color=color)  # shown turned: 1333 x 2000
    shot.save(trip / "photo.jpg", "JPEG", quality=90, exif=shot.info["exif"])
    Image.new("RGBA", (900, 600), (20, 90, color, 120)).save(trip / "map.png")
    sign = photo((640, 480), color=color)
    sign.save(trip / "sign.webp", "WEBP", exif=sign.info["exif"])
    (trip / "report.pdf").write_bytes(b"%PDF-1.4\n% a report\n")
    (trip / ".DS_Store").write_bytes(b"hidden")
    common = root / "content" / "news" / "common"
    common.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (300, 200), (200, 200, color)).save(common / "chart.png")


def write_site(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    write_images(root)
    (root / "content" / "news" / "trip" / "index.md").write_text(ARTICLE, encoding="utf-8")
    (root / "content" / "news" / "prices.md").write_text(OTHER, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_site(tmp_path_factory.mktemp("pictures") / "src")
    build(root, use_cache=False)
    return root / "site"


def sizes(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_variants_are_upright_in_every_width_and_never_enlarged(built: Path) -> None:
    trip = built / PAGE
    assert {p.name for p in trip.glob("photo*")} == {
        "photo.jpg", "photo-480w.jpg", "photo-800w.jpg", "photo-1200w.jpg",
        "photo-480w.webp", "photo-800w.webp", "photo-1200w.webp", "photo-1333w.webp",
    }  # fmt: skip
    assert sizes(trip / "photo.jpg") == (1333, 2000)  # turned as the camera said; 1600 would enlarge it
    assert sizes(trip / "photo-1333w.webp") == (1333, 2000)
    assert sizes(trip / "photo-480w.jpg") == (480, 720)
    assert {p.name for p in trip.glob("map*")} == {"map.png", "map-480w.png", "map-800w.png", *(
        f"map-{w}w.webp" for w in (480, 800, 900))}  # fmt: skip
    assert sizes(trip / "map-800w.png") == (800, 533)
    with Image.open(trip / "map-480w.webp") as image:
        assert image.mode == "RGBA"  # transparency kept
    assert {p.name for p in trip.glob("sign*")} == {"sign.webp", "sign-480w.webp"}  # a WebP has no twin
    assert (trip / "report.pdf").read_bytes() == b"%PDF-1.4\n% a report\n"  # other files as they are
    assert not (trip / ".DS_Store").exists()
    assert (trip / "_files/news/common/chart.png").is_file()  # from outside the article's folder
    assert (built / "news/2020/09/02/prices/common/chart.png").is_file()


def test_no_published_image_keeps_its_metadata(built: Path) -> None:
    images = [p for p in built.rglob("*") if p.suffix in (".jpg", ".png", ".webp")]
    assert len(images) >= 20
    for path in images:
        data = path.read_bytes()
        assert b"Camera Maker" not in data and b"Exif" not in data and b"eXIf" not in data, path
        with Image.open(io.BytesIO(data)) as image:
            assert not image.getexif() and not image.getexif().get_ifd(0x8825), path


def test_pages_show_every_width_with_sizes_and_dimensions(built: Path) -> None:
    page = (built / PAGE / "index.html").read_text(encoding="utf-8")
    lead = re.search(r'<figure class="story-image-figure"><picture>(.*?)</picture>(.*?)</figure>', page, re.S)
    assert lead, page
    assert 'type="image/webp"' in lead.group(1) and "photo-480w.webp 480w" in lead.group(1)
    img = re.search(r"<img [^>]*>", lead.group(1)).group(0)  # type: ignore[union-attr]
    assert 'width="1333" height="2000"' in img and 'alt="A crowd at the crossing"' in img
    assert "photo.jpg 1333w" in img and 'sizes="(min-width: 42rem) 40rem, 100vw"' in img
    assert 'loading="lazy"' not in img and 'decoding="async"' in img  # the lead image is above the fold
    assert "The crossing at noon." in lead.group(2) and "Jane Roe" in lead.group(2)
    body = page[page.index('<div class="body">') :]
    figure = re.search(r"<figure><picture>.*?</figure>", body, re.S)
    assert figure and "<figcaption>The route we took</figcaption>" in figure.group(0)
    assert 'width="900" height="600"' in figure.group(0) and 'loading="lazy"' in figure.group(0)
    assert re.search(
        r'<p>Seen <picture><img src="sign\.webp" srcset="sign-480w\.webp 480w, sign\.webp 640w"[^>]*width="640" height="480"',
        body,
    )
    assert '<a href="report.pdf">the report</a>' in body
    assert 'src="_files/news/common/chart.png"' in body
    meta = dict(re.findall(r'<meta property="(og:image[^"]*)" content="([^"]*)">', page))
    assert meta == {
        "og:image": f"https://example.org/{PAGE}photo-1200w.jpg",
        "og:image:width": "1200",
        "og:image:height": "1800",
        "og:image:alt": "A crowd at the crossing",
    }
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page).group(1))  # type: ignore[union-attr]
    assert data["image"] == [
        {
            "@type": "ImageObject",
            "url": f"https://example.org/{PAGE}photo-1200w.jpg",
            "width": 1200,
            "height": 1800,
            "caption": "The crossing at noon.",
            "creditText": "Jane Roe",
        }
    ]
    home = (built / "index.html").read_text(encoding="utf-8")
    assert f'src="./{PAGE}photo-800w.jpg"' in home  # the lead story's picture, from the home page


def test_links_resolve_and_feeds_use_absolute_addresses(built: Path) -> None:
    assert broken_links(built) == []  # srcset candidates included
    for name in ("feed.xml", "rss.xml", "feed.json"):
        text = (built / name).read_text(encoding="utf-8")
        assert f"https://example.org/{PAGE}map.png" in text.replace("\\/", "/"), name
        assert f"https://example.org/{PAGE}report.pdf" in text.replace("\\/", "/"), name
    assert not feedparser.parse((built / "feed.xml").read_bytes()).bozo


def test_missing_images_are_errors_at_their_lines_in_build_and_check(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src")
    assert run_cli("build", "-s", str(root))[0] == 0
    before = tree(root / "site")
    article = root / "content" / "news" / "trip" / "index.md"
    article.write_text(
        ARTICLE.replace("image: photo.jpg", "image: gone.jpg").replace("sign.webp", "signs/none.webp"),
        encoding="utf-8",
    )
    for command in ("build", "check"):
        code, _, err = run_cli(command, "-s", str(root))
        assert code == 1 and "Traceback" not in err, err
        assert "trip/index.md:5: error: 'gone.jpg' is missing" in err
        assert "trip/index.md:15: error: 'signs/none.webp' is missing" in err
        assert "Failed: 2 errors" in err and "broken link" not in err
    assert tree(root / "site") == before


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels (and whose pixels are a few bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 9))
        + chunk(b"IEND", b"")
    )


def test_broken_truncated_mislabelled_and_oversized_images_are_all_errors_in_check_and_build(
    tmp_path: Path,
) -> None:
    root = write_site(tmp_path / "src")
    assert run_cli("build", "-s", str(root))[0] == 0
    before = tree(root / "site")
    trip = root / "content" / "news" / "trip"
    (trip / "photo.jpg").write_bytes((trip / "photo.jpg").read_bytes()[:-4000])  # cut short
    (trip / "map.png").write_bytes(b"<html>this is no picture</html>")
    Image.new("RGB", (640, 480), (1, 2, 3)).save(trip / "sign.webp", "PNG")  # a PNG under a .webp name
    (root / "content" / "news" / "common" / "chart.png").write_bytes(png_header_only(30000, 30000))
    for command in ("check", "build"):
        code, _, err = run_cli(command, "-s", str(root))
        assert code == 1 and "Traceback" not in err and "0x" not in err, err
        assert (
            "trip/index.md:5: error: 'photo.jpg' is cut short or damaged: it cannot be decoded whole" in err
        )
        assert "trip/index.md:13: error: 'map.png' is not an image: its bytes are not those of a JPEG" in err
        assert "trip/index.md:15: error: 'sign.webp' is a PNG image under a .webp name: rename it" in err
        assert (
            "trip/index.md:17: error: '../common/chart.png' has 30,000 x 30,000 pixels, more than the limit of 60,000,000"
            in err
        )
        assert "prices.md:7: error: 'common/chart.png' has 30,000 x 30,000 pixels" in err
        assert "Failed: 5 errors" in err, err
    assert tree(root / "site") == before


def test_a_local_image_without_alt_text_is_a_warning_at_its_line(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src")
    (root / "content" / "news" / "prices.md").write_text(
        OTHER.replace("![A chart shared by two stories]", "Text.\n\n![]"), encoding="utf-8"
    )
    code, out, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    assert "prices.md:9: warning: the image 'common/chart.png' has no alt text" in out + err
    code, out, err = run_cli("build", "-s", str(root))  # nothing changed: said again, nothing built
    assert code == 0 and "(up to date)" in out, out
    assert "prices.md:9: warning: the image 'common/chart.png' has no alt text" in out + err


def test_an_image_is_made_once_and_a_build_without_image_changes_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_WORKERS", "1")  # made in this process, where they can be counted
    made: list[str] = []
    real = media.make_variants

    def counted(picture: Any, quality: int) -> dict[str, bytes]:
        if picture.card is None:  # a photo, not an article's social card
            made.append(picture.path)
        return real(picture, quality)

    monkeypatch.setattr(media, "make_variants", counted)
    root = write_site(tmp_path / "src")
    build(root)
    assert len(made) == 4  # photo, map, sign, and the chart (published beside each of the two pages)
    made.clear()
    article = root / "content" / "news" / "trip" / "index.md"
    article.write_text(ARTICLE.replace("We drove", "We walked"), encoding="utf-8")
    build(root)
    assert made == []  # an edit of the text
    shutil.rmtree(root / "site")
    build(root)
    assert made == []  # a lost output folder: the variants come from the cache
    kept = {p.name for p in (root / ".digest-cache" / "images").iterdir()}
    write_images(root, color=200)  # new bytes for every image
    build(root)
    assert len(made) == 4
    now = {p.name for p in (root / ".digest-cache" / "images").iterdir()}
    assert len(now) == len(kept) == 4 and not now & kept  # the old ones are removed
    clean = write_site(tmp_path / "clean")
    write_images(clean, color=200)
    (clean / "content" / "news" / "trip" / "index.md").write_text(article.read_text(encoding="utf-8"))
    build(clean, use_cache=False)
    assert_same_site(root / "site", clean / "site")


def test_config_images_are_checked(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src")
    (root / "config.yaml").write_text(
        CONFIG + "images: {widths: [0, 800], formats: [gif], quality: 101, colour: red}\n", encoding="utf-8"
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "Traceback" not in err
    for text in ("'images: widths'", "'images: formats'", "'images: quality'", "unknown key 'colour'"):
        assert text in err


def test_image_settings_decide_the_variants(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src")
    (root / "config.yaml").write_text(
        CONFIG + "images: {widths: [300, 600], formats: [], quality: 60}\n", encoding="utf-8"
    )
    build(root, use_cache=False)
    trip = root / "site" / PAGE
    assert {p.name for p in trip.glob("photo*")} == {"photo.jpg", "photo-300w.jpg"}
    assert sizes(trip / "photo.jpg") == (600, 900)
    page = (trip / "index.html").read_text(encoding="utf-8")
    assert "<source" not in page and f"{PAGE}photo-300w.jpg 300w, ../../../../../{PAGE}photo.jpg 600w" in page


# In real tools: the Nu HTML checker, and Chromium with axe-core ---------------------------------

CLS = """
window.__shifts = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) { if (!entry.hadRecentInput) window.__shifts += entry.value; }
}).observe({type: "layout-shift", buffered: true});
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The pictures site built for /digest/ and served as test_browser serves the bundled one."""
    from tests.test_browser import BASE, serving

    root = write_site(tmp_path_factory.mktemp("served") / "src")
    build(root, use_cache=False, base_url=f"https://example.org{BASE}")
    with serving(root / "site") as found:
        yield found


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.parametrize(("width", "chosen"), [(375, 480), (1280, 800)])
def test_a_browser_loads_the_width_its_screen_needs_and_nothing_moves(
    browser: Any, served: str, width: int, chosen: int
) -> None:
    from tests.test_browser import Visit

    tab = Visit(browser, served, viewport={"width": width, "height": 900})
    tab.page.add_init_script(CLS)
    tab.goto(PAGE)
    tab.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # the lazy ones load
    tab.page.wait_for_load_state("networkidle")
    tab.page.wait_for_function("[...document.images].every((i) => i.complete)")
    loaded = tab.page.evaluate("[...document.images].map((i) => [i.alt, i.currentSrc, i.naturalWidth])")
    by_alt = {alt: (src, natural) for alt, src, natural in loaded}
    assert by_alt["A crowd at the crossing"][0].endswith(f"/{PAGE}photo-{chosen}w.webp")
    assert by_alt["Map of the route"][0].endswith(f"/{PAGE}map-{chosen}w.webp")
    assert all(natural > 0 for _, natural in by_alt.values()), loaded
    assert tab.page.evaluate("window.__shifts") == 0
    tab.screenshot(f"pictures-{width}")
    assert tab.axe() == []
    assert tab.problems == [] and tab.foreign == []
    tab.close()


@pytest.mark.slow
def test_the_shift_measure_does_see_an_image_without_dimensions(browser: Any, served: str) -> None:
    from tests.test_browser import BASE, Visit

    tab = Visit(browser, served, viewport={"width": 375, "height": 900})
    tab.page.add_init_script(CLS)
    tab.goto(PAGE)
    tab.page.evaluate(
        f"""() => new Promise((done) => {{
            const image = new Image();
            image.onload = done;
            image.src = "{BASE}{PAGE}map-480w.png?again";
            document.querySelector("h1").before(image);
        }})"""
    )
    tab.page.wait_for_timeout(200)
    assert tab.page.evaluate("window.__shifts") > 0
    tab.close()


def test_images_added_to_and_removed_from_a_text_build_as_a_clean_build_does(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src")
    build(root)
    prices = root / "content" / "news" / "prices.md"
    trip = root / "content" / "news" / "trip" / "index.md"
    steps = [
        (prices, OTHER + "\n![The map again](trip/map.png)\n"),  # a new image in a text: a whole plan
        (trip, ARTICLE.replace('![Map of the route](map.png "The route we took")', "No map.")),
        (trip, ARTICLE.replace("We drove", "We rode")),  # text only: the kept plan
    ]
    for number, (path, text) in enumerate(steps):
        path.write_text(text, encoding="utf-8")
        build(root)
        clean = write_site(tmp_path / f"clean{number}")
        for source in (prices, trip):
            (clean / source.relative_to(root)).write_text(
                source.read_text(encoding="utf-8"), encoding="utf-8"
            )
        build(clean, use_cache=False)
        assert_same_site(root / "site", clean / "site", f"step {number}")
    assert (root / "site" / "news/2020/09/02/prices/trip/map-480w.webp").is_file()  # beside the new user
    assert (root / "site" / PAGE / "map-480w.webp").is_file()  # a bundle publishes all its files


def test_the_preview_serves_the_variants_and_follows_a_new_image(tmp_path: Path) -> None:
    from tests.test_serve import Served, start

    root = write_site(tmp_path / "src")
    process, url = start(root)
    server = Served(process, url)
    try:
        server.wait_for(f"/{PAGE}", "photo-480w.webp", seconds=20)
        status, headers, _ = server.get(f"/{PAGE}photo-480w.webp")
        assert status == 200 and headers["content-type"] == "image/webp"
        status, headers, _ = server.get(f"/{PAGE}photo-1200w.jpg")
        assert status == 200 and headers["content-type"] == "image/jpeg"
        Image.new("RGB", (700, 500), (1, 2, 3)).save(root / "content" / "news" / "trip" / "extra.jpg")
        article = root / "content" / "news" / "trip" / "index.md"
        article.write_text(ARTICLE + "\n![One more](extra.jpg)\n", encoding="utf-8")
        server.wait_for(f"/{PAGE}", "extra-480w.webp 480w, extra-700w.webp 700w", seconds=20)
        assert server.get(f"/{PAGE}extra-700w.webp")[0] == 200
        (kept,) = (root / ".digest-cache").glob("preview-*")  # variants wait on disk, not in memory
        assert len(list(kept.iterdir())) >= 20
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
    assert not list((root / ".digest-cache").glob("preview-*"))


def test_a_link_to_a_file_outside_the_content_folder_is_never_published(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src")
    secret = tmp_path / "secret.png"
    Image.new("RGB", (64, 64), (9, 9, 9)).save(secret)
    trip = root / "content" / "news" / "trip"
    (trip / "leak.png").symlink_to(secret)  # in a bundle: left out, with a warning
    code, out, err = run_cli("build", "-s", str(root))
    assert code == 0 and "trip/leak.png: warning: 'leak.png' is left out" in out + err
    assert not list((root / "site").rglob("leak*"))
    (trip / "index.md").write_text(ARTICLE + "\n![A leak](leak.png)\n", encoding="utf-8")  # named: an error
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "error: 'leak.png' is outside the content folder" in err
    assert not list((root / "site").rglob("leak*"))


def test_an_edition_notes_images_show_on_its_page_in_its_feed_and_newsletter(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src")
    config = CONFIG.replace("title: News}", "title: News, edition: weekly}")
    config += "newsletter: {from: 'Digest <news@example.org>', unsubscribe: https://example.org/stop}\n"
    (root / "config.yaml").write_text(config, encoding="utf-8")
    editions = root / "content" / "news" / "editions"
    editions.mkdir()
    Image.new("RGB", (1000, 600), (5, 50, 150)).save(editions / "cover.jpg")
    (editions / "2020-w36.md").write_text(
        "---\nedition: 2020-w36\ncollection: news\ntitle: The week\n---\n\n![The week's cover](cover.jpg)\n",
        encoding="utf-8",
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    page = root / "site" / "news" / "editions" / "2020-w36"
    assert (page / "cover-480w.webp").is_file() and (page / "cover.jpg").is_file()
    html_page = (page / "index.html").read_text(encoding="utf-8")
    assert 'srcset="cover-480w.jpg 480w, cover-800w.jpg 800w, cover.jpg 1000w"' in html_page
    feed = (root / "site" / "news" / "editions" / "feed.xml").read_text(encoding="utf-8")
    assert "https://example.org/news/editions/2020-w36/cover.jpg" in feed
    code, _, err = run_cli(
        "newsletter", "news", "--latest", "--out", str(tmp_path / "letter"), "-s", str(root)
    )
    assert code == 0, err
    letter = next((tmp_path / "letter").glob("*.html")).read_text(encoding="utf-8")
    assert 'src="https://example.org/news/editions/2020-w36/cover.jpg"' in letter


def test_avif_is_made_when_asked_for(tmp_path: Path) -> None:
    pytest.importorskip("PIL.AvifImagePlugin")
    root = tmp_path / "src"
    (root / "content" / "news").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG + "images: {widths: [320, 640], formats: [avif, webp]}\n")
    photo((900, 600), gps=True).save(root / "content" / "news" / "shot.jpg", "JPEG")
    (root / "content" / "news" / "a.md").write_text(
        "---\ntitle: A\ndate: 2020-09-03\ncollection: news\n---\n\n![A shot](shot.jpg)\n", encoding="utf-8"
    )
    build(root, use_cache=False)
    page = root / "site" / "news" / "2020" / "09" / "03" / "a"
    with Image.open(page / "shot-320w.avif") as image:
        assert image.format == "AVIF" and image.size == (320, 213) and not image.getexif()
    html_page = (page / "index.html").read_text(encoding="utf-8")
    assert html_page.index('type="image/avif"') < html_page.index('type="image/webp"')  # the smaller first


def test_a_static_photo_is_published_without_its_metadata_and_otherwise_as_it_is(tmp_path: Path) -> None:
    root = write_site(tmp_path / "src")
    static = root / "overrides" / "static"
    static.mkdir(parents=True)
    shot = photo((300, 200), orientation=6)
    shot.save(static / "masthead.jpg", "JPEG", quality=95, exif=shot.info["exif"])
    (static / "notes.txt").write_text("Camera Maker", encoding="utf-8")  # not an image: as it is
    (root / "content" / "news" / "prices.md").write_text(
        OTHER.replace(
            "collection: news", "collection: news\nimage: /static/masthead.jpg\nimage_alt: Masthead"
        ),
        encoding="utf-8",
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    published = (root / "site" / "static" / "masthead.jpg").read_bytes()
    original = (static / "masthead.jpg").read_bytes()
    assert b"Camera Maker" in original and b"Camera Maker" not in published
    with Image.open(io.BytesIO(published)) as image, Image.open(io.BytesIO(original)) as before:
        assert dict(image.getexif()) == {0x0112: 6} and image.tobytes() == before.tobytes()
    assert (root / "site" / "static" / "notes.txt").read_text(encoding="utf-8") == "Camera Maker"
    page = (root / "site" / "news" / "2020" / "09" / "02" / "prices" / "index.html").read_text(
        encoding="utf-8"
    )
    assert 'src="../../../../../static/masthead.jpg" alt="Masthead"' in page


def test_a_bundles_featured_image_is_the_lead_image_as_hugo_chooses_it(tmp_path: Path) -> None:
    """Hugo's order: a `*feature*` file first, then `*cover*` or `*thumbnail*`; an image the article
    names wins; an edit of the text keeps it (the kept plan finds it as a whole plan does)."""
    root = tmp_path / "src"
    (root / "content" / "news").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for name, text in {"a": "", "b": "", "c": "image: own.png\nimage_alt: Our own\n"}.items():
        folder = root / "content" / "news" / name
        folder.mkdir()
        (folder / "index.md").write_text(
            f"---\ntitle: Post {name}\ndate: 2020-09-0{ord(name) - 96}\n{text}---\nText.\n"
        )
        Image.new("RGB", (1300, 700), (9, 9, 9)).save(folder / "cover.jpg")
        Image.new("RGB", (1300, 700), (9, 9, 9)).save(folder / "own.png")
        if name != "b":
            Image.new("RGB", (1300, 700), (9, 9, 9)).save(folder / "Featured-Shot.png")
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    assert "no alt text" not in err  # a lead image the editor did not name asks for no alt text

    def og_image(name: str, day: int) -> str:
        page = (root / "site" / f"news/2020/09/0{day}/{name}/index.html").read_text(encoding="utf-8")
        return re.search(r'<meta property="og:image" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    assert og_image("a", 1).endswith("/news/2020/09/01/a/Featured-Shot-1200w.png")
    assert og_image("b", 2).endswith("/news/2020/09/02/b/cover-1200w.jpg")
    assert og_image("c", 3).endswith("/news/2020/09/03/c/own-1200w.png")
    first = root / "content" / "news" / "a" / "index.md"
    first.write_text(first.read_text().replace("Text.", "Edited text."))
    build(root)
    clean = tmp_path / "clean"
    shutil.copytree(root / "content", clean / "content")
    (clean / "config.yaml").write_text(CONFIG, encoding="utf-8")
    build(clean, use_cache=False)
    assert_same_site(root / "site", clean / "site")
