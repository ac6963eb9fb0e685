"""`digest build --keep-going`: every good article is built and published, every broken one is named
with its line and left out, and the exit status is 1; without the flag a build stays all or nothing.
The preview keeps going by default and shows the errors on its pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.preview.server import WithErrors
from generator.preview.session import Preview
from tests.conftest import MakeSite, article_text, run_cli, tree

CONFIG = """\
title: Keep going
base_url: https://example.org/
search: false
collections:
  - {key: world, title: World}
"""
GOOD = {f"content/world/good{i}.md": article_text(f"Good {i}", f"2020-09-0{i + 1}") for i in range(3)}
BROKEN = {
    "content/world/bad-date.md": article_text("Bad date", "nope"),
    "content/world/nowhere.md": article_text("Nowhere", "2020-09-05", collection="nowhere"),
    "content/world/no-image.md": article_text("No image", "2020-09-06", body="![A photo](missing.png)\n"),
}


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site({**GOOD, **BROKEN}, config=CONFIG)


def published(root: Path) -> dict[str, bytes]:
    return tree(root / "site")


def test_without_the_flag_nothing_is_built(site: Path) -> None:
    code, _, err = run_cli("build", "-s", str(site))
    assert code == 1 and "The output folder was not changed." in err
    assert not (site / "site").exists()


def test_every_good_article_is_built_and_every_broken_one_named_and_left_out(site: Path) -> None:
    code, out, err = run_cli("build", "--keep-going", "-s", str(site))
    assert code == 1, err
    assert "Built 3 articles in 1 collection" in out
    assert "bad-date.md:3: error: 'date'" in err  # file and line
    assert "nowhere.md" in err and "unknown collection 'nowhere'" in err
    assert "no-image.md:6: error: 'missing.png' is missing" in err
    assert "Left out: 3 files with 3 errors; everything else was built." in err
    files = published(site)
    for i in range(3):
        assert f"world/2020/09/0{i + 1}/good{i}/index.html" in files
    everything = b"".join(files.values())
    for name in ("bad-date", "nowhere", "no-image", "Bad date", "No image"):
        assert name.encode() not in everything, name  # in no page, feed or sitemap


def test_a_build_that_left_files_out_says_so_again_and_the_fixed_files_come_in(site: Path) -> None:
    assert run_cli("build", "-k", "-s", str(site))[0] == 1
    code, out, err = run_cli("build", "-k", "-s", str(site))  # nothing changed: the same errors again
    assert code == 1 and "Left out: 3 files" in err and "bad-date.md:3:" in err and "Built 3 articles" in out
    for name, title, date in (("bad-date", "Bad date", "2020-09-04"), ("nowhere", "Nowhere", "2020-09-05")):
        (site / f"content/world/{name}.md").write_text(article_text(title, date), encoding="utf-8")
    (site / "content/world/no-image.md").unlink()
    code, out, err = run_cli("build", "-k", "-s", str(site))
    assert code == 0, err
    assert "Built 5 articles" in out and "Left out" not in err
    clean = site.parent / "clean"
    assert run_cli("build", "-s", str(site), "-o", str(clean))[0] == 0
    assert published(site) == tree(clean)  # what the kept-going builds left is what a clean one makes


def test_an_error_that_no_article_holds_still_fails_the_build(site: Path) -> None:
    (site / "config.yaml").write_text(CONFIG + "per_page: many\n", encoding="utf-8")
    code, _, err = run_cli("build", "--keep-going", "-s", str(site))
    assert code == 1 and "config.yaml" in err and "The output folder was not changed." in err
    assert not (site / "site").exists()


def test_the_preview_keeps_going_and_shows_what_it_left_out(site: Path) -> None:
    preview = Preview(site, "127.0.0.1", 0, {}, lambda _: None)
    try:
        built = preview.rebuild(frozenset())
        assert isinstance(built, WithErrors)
        assert "world/2020/09/01/good0/index.html" in built.files
        assert len(built.errors) == 3 and any("bad-date.md:3:" in e for e in built.errors)
        (site / "content/world/bad-date.md").write_text(
            article_text("Bad date", "2020-09-04"), encoding="utf-8"
        )
        built = preview.rebuild(frozenset({site / "content/world/bad-date.md"}))
        assert isinstance(built, WithErrors) and len(built.errors) == 2
        assert "world/2020/09/04/bad-date/index.html" in built.files
    finally:
        preview.index.close()
        preview.server.httpd.server_close()


def test_the_preview_says_whether_the_build_failed_or_left_articles_out() -> None:
    from generator.preview.server import decorate

    failed = decorate(b"<body>Page</body>", ("a.md:3: error: bad",)).decode()
    left_out = decorate(b"<body>Page</body>", ("a.md:3: error: bad",), kept_going=True).decode()
    assert "The build failed; this is the last good version" in failed and "a.md:3: error: bad" in failed
    assert "left out of the site for their errors; everything else is current" in left_out
    assert "a.md:3: error: bad" in left_out and "The build failed" not in left_out


def test_check_names_every_broken_file_and_checks_the_links_of_all_the_others(make_site: MakeSite) -> None:
    """A broken file does not hide the broken links of the rest: `check` reports both in one run."""
    root = make_site(
        {
            **BROKEN,
            "content/world/links.md": article_text("Links", "2020-09-07", body="[gone](/world/gone/)\n"),
        },
        config=CONFIG,
    )
    code, out, err = run_cli("check", "-s", str(root))
    assert code == 1
    for text in ("bad-date.md:3: error", "nowhere.md", "no-image.md", "broken link '/world/gone/'"):
        assert text in out + err, text
