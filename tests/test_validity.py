"""The built sites judged by outside tools: the Nu HTML checker, feedparser, a link checker."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest

from tests.conftest import TOOLS, require
from tests.linkcheck import broken_links

pytestmark = pytest.mark.slow


def nu_check(*targets: Path) -> str:
    """Run the Nu HTML checker (HTML and CSS) and return what it reports as errors."""
    jar = require(TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar", "the Nu HTML checker (npm vnu-jar)")
    java = require(Path(shutil.which("java") or "/nonexistent"), "Java")
    result = subprocess.run(
        [
            str(java),
            "-jar",
            str(jar),
            "--errors-only",
            "--also-check-css",
            "--skip-non-html",
            "--format",
            "text",
        ]
        + [str(t) for t in targets],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return (result.stdout + result.stderr).strip() if result.returncode else ""


@pytest.fixture(scope="module")
def embeds_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page of tests/test_embeds.py's article: a card of each provider."""
    from generator.driver.pipeline import build
    from tests.conftest import MINIMAL_CONFIG
    from tests.test_embeds import ARTICLE, PAGE

    root = tmp_path_factory.mktemp("embeds")
    (root / "content" / "world").mkdir(parents=True)
    (root / "config.yaml").write_text(MINIMAL_CONFIG + "search: false\n", encoding="utf-8")
    (root / "content" / "world" / "videos.md").write_text(ARTICLE, encoding="utf-8")
    build(root)
    return root / "site" / PAGE


@pytest.fixture(scope="module")
def pictures_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/test_images.py's site: pictures in every width, a figure, a lead image."""
    from generator.driver.pipeline import build
    from tests.test_images import write_site

    root = write_site(tmp_path_factory.mktemp("pictures") / "src")
    build(root, use_cache=False)
    return root / "site"


def test_every_page_and_stylesheet_passes_the_nu_html_checker(
    bundled_site: Path, sample_output: Path, compact_site: Path, multilingual_site: Path, embeds_page: Path,
    pictures_site: Path, tmp_path: Path,
) -> None:  # fmt: skip
    assert "embed-play" in embeds_page.read_text(encoding="utf-8")
    sites = (bundled_site, sample_output, compact_site, multilingual_site, pictures_site)
    assert sum(len(list(site.rglob("*.html"))) for site in sites) > 120
    assert all((multilingual_site / code / "index.html").is_file() for code in ("ru", "en"))  # every language
    # One run of the checker (a Java start costs seconds), with a broken page planted to show it fails.
    bad = tmp_path / "planted-bad.html"
    bad.write_text("<!doctype html><html><head></head><body><p><div></p></body></html>", encoding="utf-8")
    errors = nu_check(
        *sites, embeds_page, bad, *bundled_site.glob("static/*.css"), *compact_site.glob("static/*.css")
    )
    where = [line for line in errors.splitlines() if "file:" in line]  # each error's "From ... in file:" line
    assert where and all(line.endswith("planted-bad.html") for line in where), errors


def test_every_feed_of_the_bundled_site_parses(bundled_site: Path) -> None:
    feeds = sorted(f for f in bundled_site.rglob("*.xml") if f.name in ("feed.xml", "rss.xml"))
    atom = [f for f in feeds if f.name == "feed.xml" and f.parent.parent.name not in ("tags", "authors")]
    assert len(atom) == 7  # the site, its three collections, the editions of one, corrections, a story
    assert len([f for f in feeds if f.name == "rss.xml"]) == len(list(bundled_site.rglob("feed.json")))
    for feed in feeds:
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, (feed, parsed.get("bozo_exception"))
        stamp = "published" if feed.name == "rss.xml" else "updated"  # RSS items have pubDate only
        assert all(e.title and e.link and e.id and e[stamp] for e in parsed.entries)


def test_every_internal_link_and_asset_resolves(
    bundled_site: Path, sample_output: Path, compact_site: Path, multilingual_site: Path
) -> None:
    assert broken_links(multilingual_site, base_path="/digest/") == []
    assert broken_links(bundled_site, base_path="/digest/") == []
    assert broken_links(compact_site, base_path="/digest/") == []
    assert broken_links(sample_output, base_path="/sub/path/") == []


def test_link_checker_finds_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<a href="missing/">x</a><a href="#nowhere">y</a>', encoding="utf-8")
    (tmp_path / "a.html").write_text(
        '<a href="/elsewhere/">z</a><a href="a.html#x" id="x">w</a>', encoding="utf-8"
    )
    assert sorted(broken_links(tmp_path, base_path="/sub/")) == [
        "a.html -> /elsewhere/ (outside the site's base path /sub/)",
        "index.html -> #nowhere (no element with id 'nowhere')",
        "index.html -> missing/ (no such page or file)",
    ]
