"""The search stage: a Pagefind bundle per language, built with the site and kept when current.

What a reader finds is checked in a real browser (test_browser.py); here, what the build writes.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest

from generator.base.errors import BuildFailed
from generator.build import indexer, search
from generator.driver.pipeline import build
from generator.incremental.cache import BuildCache
from tests.conftest import MakeSite, article_text, tree


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site(
        {
            "content/world/one.md": article_text(
                "Harbours reopen", tags="[ports]", body="Ferries sail again.\n"
            ),
            "content/world/two.md": article_text("Rail strike ends", date="2020-09-04"),
            "content/belarus/ru.md": article_text(
                "Волна протестов", lang="ru", body="Протестов всё больше.\n"
            ),
        }
    )


def entry(out: Path, part: str) -> dict[str, object]:
    data = json.loads((out / "pagefind" / part / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_each_language_gets_a_bundle_of_its_articles_only(site: Path) -> None:
    summary = build(site)
    out = site / "site"
    assert summary.indexed == {"en": 2, "ru": 1} and summary.index_seconds is not None
    assert summary.index_parts == (2, 2)
    listing = json.loads((out / "pagefind/bundles.json").read_text(encoding="utf-8"))
    assert listing == {"en": ["en/2020-09/"], "ru": ["ru/2020-09/"]}
    # One language per bundle, so that each is stemmed by its own rules; list pages are not results.
    assert list(entry(out, "en/2020-09")["languages"]) == ["en"]
    assert entry(out, "en/2020-09")["languages"]["en"]["page_count"] == 2  # type: ignore[index]
    assert entry(out, "ru/2020-09")["languages"]["ru"]["page_count"] == 1  # type: ignore[index]
    assert (out / "pagefind/ru/2020-09/wasm.ru.pagefind").is_file()
    assert not list(out.glob("pagefind/**/pagefind-ui.*"))  # Pagefind's own UI is not used
    home = (out / "index.html").read_text(encoding="utf-8")
    assert 'data-index="./pagefind/"' in home
    assert '<script type="module" src="./static/search.js"></script>' in home
    assert '<a class="search-link" href="./search/">Search</a>' in home
    search_page = (out / "search/index.html").read_text(encoding="utf-8")
    assert '<meta name="robots" content="noindex">' in search_page
    assert "/search/" not in (out / "sitemap.xml").read_text(encoding="utf-8")
    article = (out / "world/2020/09/03/one/index.html").read_text(encoding="utf-8")
    assert '<article class="story" data-pagefind-body>' in article
    assert 'data-pagefind-meta="collection">World</a>' in article


def test_the_index_is_kept_while_the_articles_are_unchanged(site: Path) -> None:
    build(site)
    out = site / "site"
    before = tree(out)
    stamps = {p: (out / p).stat().st_mtime_ns for p in before if p.startswith("pagefind/")}
    (site / "overrides/static").mkdir(parents=True)
    (site / "overrides/static/extra.txt").write_text("new\n", encoding="utf-8")
    summary = build(site)  # a change that touches no article page
    assert summary.files == 1 and (out / "static/extra.txt").is_file()
    assert summary.index_seconds is None and summary.indexed == {"en": 2, "ru": 1}
    assert {p: (out / p).stat().st_mtime_ns for p in stamps} == stamps


def test_an_edit_is_indexed_as_a_recent_edit_and_folded_back_later(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(site)
    out = site / "site"
    before = tree(out)
    with (site / "content/world/one.md").open("a", encoding="utf-8") as handle:
        handle.write("\nA lighthouse keeper waves.\n")
    summary = build(site)
    assert summary.index_parts == (1, 2) and summary.indexed == {"en": 2, "ru": 1}
    after = tree(out)
    base = [p for p in before if p.startswith("pagefind/") and p != "pagefind/bundles.json"]
    assert {p: after.get(p) for p in base} == {p: before[p] for p in base}  # the base parts as they were
    recent = {p for p in after.keys() - before.keys()}
    assert recent and all(p.startswith("pagefind/en/recent/") for p in recent)
    listing = json.loads(after["pagefind/bundles.json"])
    assert listing == {"en": ["en/2020-09/", "en/recent/"], "ru": ["ru/2020-09/"]}
    (old,) = json.loads(after["pagefind/en/recent/hidden.json"])  # the outdated copy of one.md
    assert f"pagefind/en/2020-09/fragment/{old}.pf_fragment" in before
    recent_text = [gzip.decompress(after[p]) for p in recent if p.endswith(".pf_fragment")]
    assert len(recent_text) == 1 and b"lighthouse keeper" in recent_text[0]

    monkeypatch.setattr("generator.build.search.RECENT_PAGES", 0)  # the next change folds them back
    with (site / "content/world/two.md").open("a", encoding="utf-8") as handle:
        handle.write("\nA ferry leaves.\n")
    assert build(site).index_parts == (1, 2)
    folded = tree(out)
    assert not [p for p in folded if "/recent/" in p]
    assert f"pagefind/en/2020-09/fragment/{old}.pf_fragment" not in folded
    assert json.loads(folded["pagefind/bundles.json"]) == {"en": ["en/2020-09/"], "ru": ["ru/2020-09/"]}
    manifest = BuildCache(site / ".digest-cache").load_manifest(out)
    assert {p for p in manifest if p.startswith("pagefind/")} == {
        p for p in folded if p.startswith("pagefind/")
    }


def test_search_false_builds_no_index_page_or_box(make_site: MakeSite) -> None:
    root = make_site(
        {"content/world/a.md": article_text("A")},
        config="title: T\nbase_url: https://e.org/\nsearch: false\n",
    )
    summary = build(root)
    out = root / "site"
    assert summary.indexed == {}
    assert not (out / "pagefind").exists() and not (out / "search").exists()
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "search" not in home.lower()


def test_search_must_be_true_or_false(make_site: MakeSite) -> None:
    root = make_site(config="title: T\nsearch: sometimes\n")
    with pytest.raises(BuildFailed) as info:
        build(root)
    assert "'search' must be true or false" in str(info.value.errors[0])


@pytest.mark.parametrize(
    ("program", "message"),
    [
        (None, "search needs the Pagefind program, which is not installed"),
        ("#!/bin/sh\necho 'index exploded' >&2\nexit 3\n", "Pagefind failed to index en/2020-09 (exit 3)"),
    ],
)
def test_without_a_working_pagefind_the_build_fails_and_keeps_the_site(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: str | None, message: str
) -> None:
    build(site)
    out = site / "site"
    before = tree(out)
    (site / "content/world/two.md").write_text(article_text("Rail strike ends, again"), encoding="utf-8")
    fake = tmp_path / "pagefind"
    if program:
        fake.write_text(program, encoding="utf-8")
        fake.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    with pytest.raises(BuildFailed) as info:
        build(site)
    text = str(info.value.errors[0])
    assert message in text and "search: false" in text
    if program:
        assert "index exploded" in text
    assert tree(out) == before
    assert not [p for p in os.listdir(site) if p.startswith(".digest-search-")]


def test_pagefind_is_found_where_its_own_package_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`find_pagefind` looks where `pagefind.service.get_executable` does, without importing it."""
    from pagefind.service import get_executable

    monkeypatch.delenv("PAGEFIND_BINARY_PATH", raising=False)
    assert indexer.find_pagefind() == get_executable()
    given = tmp_path / "pagefind"
    given.write_text("#!/bin/sh\n", encoding="utf-8")
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(given))
    assert indexer.find_pagefind() == get_executable() == given


def test_a_theme_of_its_own_without_search_still_builds(make_site: MakeSite) -> None:
    names = ("home", "article", "collection", "tag", "tags", "archive", "archive_month", "404")
    templates = {f"themes/mine/templates/{n}.html": "<p>{{ page.title }}</p>" for n in names}
    root = make_site(
        {"content/world/a.md": article_text("A"), **templates},
        config="title: T\nbase_url: https://e.org/\ntheme: mine\n",
    )
    summary = build(root)  # no search page, and article pages without text for Pagefind: a warning
    assert summary.indexed == {} and not (root / "site/search").exists()
    warning = str(summary.warnings[-1])  # after the theme's own (it has no texts)
    assert "Pagefind found no text to index in the article pages of en/2020-09" in warning
    assert "data-pagefind-body" in warning
    page = '<!doctype html><html lang="en"><body><main data-pagefind-body><h1>{{ page.title }}</h1></main>'
    (root / "themes/mine/templates/article.html").write_text(page, encoding="utf-8")
    summary = build(root)
    assert summary.indexed == {"en": 1} and "search" not in str(summary.warnings)
    assert (root / "site/pagefind/en/2020-09/pagefind.js").is_file()


def test_an_edit_reindexes_only_its_part(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.build.search.PART_PAGES", 1)  # a part per month
    (site / "content/world/old.md").write_text(article_text("Old news", date="2019-05-01"), encoding="utf-8")
    assert build(site).index_parts == (3, 3)
    out = site / "site"
    old = {p: (out / p).stat().st_mtime_ns for p in tree(out) if p.startswith("pagefind/en/2019-05/")}
    (site / "content/world/two.md").write_text(article_text("Rail strike ends at last"), encoding="utf-8")
    summary = build(site)
    assert summary.index_parts == (1, 3) and summary.indexed == {"en": 3, "ru": 1}
    assert {p: (out / p).stat().st_mtime_ns for p in old} == old


def test_a_language_names_a_folder_only_as_letters() -> None:
    assert [search.language_of(x) for x in ("pt-BR", "RU", "../x", "", "e1")] == [
        "pt",
        "ru",
        *["unknown"] * 3,
    ]


def test_parts_are_runs_of_months_that_new_articles_only_extend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.build.search.PART_PAGES", 500)
    monkeypatch.setattr("generator.build.search.MAX_PARTS", 16)

    def pages(counts: dict[str, int], lang: str = "en") -> list[search.Page]:
        return [search.Page(f"{m}/{i}/index.html", lang, m) for m, n in counts.items() for i in range(n)]

    months = {"2020-01": 300, "2020-02": 300, "2020-03": 100, "2020-04": 450}
    found = search.parts(pages(months) + pages({"2020-02": 2}, "ru"))
    assert {name: len(paths) for name, paths in found.items()} == {
        "en/2020-01": 600, "en/2020-03": 550, "ru/2020-02": 2,
    }  # fmt: skip
    newer = search.parts(pages({**months, "2020-05": 10}))
    assert newer["en/2020-01"] == found["en/2020-01"] and len(newer["en/2020-05"]) == 10
    huge = search.parts(pages({f"{y}-{m:02d}": 400 for y in range(2000, 2020) for m in range(1, 13)}))
    assert 8 < len(huge) <= 16 and all(len(paths) >= 500 * 2**3 for paths in list(huge.values())[:-1])
    listing = json.loads(search.bundles_file(list(found)).content)
    assert listing == {"en": ["en/2020-01/", "en/2020-03/"], "ru": ["ru/2020-02/"]}


def fragments(bundle: Path) -> dict[str, object]:
    """Each page's record in a Pagefind bundle (url, text, metadata, filters), by URL."""
    found = {}
    for path in (bundle / "fragment").iterdir():
        data = json.loads(gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd"))
        found[data["url"]] = data
    return found


def test_pagefind_finds_in_the_search_text_what_it_finds_in_the_page(
    sample_output: Path, tmp_path: Path
) -> None:
    """The pages Pagefind reads hold only what it indexes, and it indexes the same from them."""
    pages = [p for p in sample_output.rglob("index.html") if b"data-pagefind-body" in p.read_bytes()]
    assert len(pages) >= 5
    whole, short = tmp_path / "whole", tmp_path / "short"
    for page in pages:
        rel = page.relative_to(sample_output)
        for folder, data in ((whole, page.read_bytes()), (short, indexer.search_text(page.read_bytes()))):
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        assert len((short / rel).read_bytes()) < len(page.read_bytes()) / 2
    executable = str(indexer.find_pagefind())
    for folder in (whole, short):
        subprocess.run([executable, "--site", str(folder), "--output-path", str(folder / "out"),
                        "--force-language", "en", "--silent"], check=True)  # fmt: skip
    assert fragments(short / "out") == fragments(whole / "out")


@pytest.mark.parametrize(
    ("html", "kept"),
    [
        (b"<html lang='ru'><body><p>all of it</p></body></html>", None),  # nothing marked: the page as it is
        (b"<html><body><main data-pagefind-body><div><p>x</div></p>", None),  # unclosed: the page as it is
        (
            b"<html lang=ru><head><meta data-pagefind-meta='image' content='a.png'></head><body><nav>menu</nav>"
            b"<article data-pagefind-body><article>inner</article><p>text</p></article><aside>"
            b"<span data-pagefind-filter='topic'>Belarus</span></aside><footer>f</footer></body></html>",
            b'<html lang=ru><head><meta charset="utf-8"></head><body><article data-pagefind-body><article>inner'
            b"</article><p>text</p></article>\n<meta data-pagefind-meta='image' content='a.png'>\n"
            b"<span data-pagefind-filter='topic'>Belarus</span></body></html>",
        ),
    ],
)
def test_search_text_keeps_the_marked_elements(html: bytes, kept: bytes | None) -> None:
    assert indexer.search_text(html) == (html if kept is None else kept)


def test_a_killed_runs_scratch_folder_is_removed_by_the_next(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    dead = scratch / f"{indexer.SCRATCH_PREFIX}999999999-x1"  # no process has this id
    (dead / "pages").mkdir(parents=True)
    alive = scratch / f"{indexer.SCRATCH_PREFIX}{os.getpid()}-x2"
    alive.mkdir()
    monkeypatch.setenv("DIGEST_SCRATCH", str(scratch))
    assert build(site).index_parts == (2, 2)
    assert sorted(p.name for p in scratch.iterdir()) == [alive.name]  # its own is gone too
