"""Whole builds of small sites: golden output, determinism, links, packaging."""

from __future__ import annotations

import difflib
import filecmp
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from generator.driver.pipeline import build
from tests.conftest import FIXED_NOW, GOLDEN, REPO, SAMPLE_SITE, tree
from tests.linkcheck import broken_links


def build_sample(out: Path) -> Path:
    build(SAMPLE_SITE, output_dir=out, now=FIXED_NOW, use_cache=False)
    return out


def made(folder: Path) -> dict[str, bytes]:
    """What the build itself makes: every file but the theme's, Pagefind's and the social cards
    (pictures: tests/test_cards.py checks them)."""
    return {
        k: v
        for k, v in tree(folder).items()
        if not k.startswith(("static/", "pagefind/")) and not k.endswith("social-card.png")
    }


def test_sample_site_matches_golden(tmp_path: Path, update_golden: bool) -> None:
    out = build_sample(tmp_path / "out")
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        top = ["static", "pagefind", ".newsdigest"]
        shutil.copytree(
            out,
            GOLDEN,
            ignore=lambda folder, names: [
                *(top if Path(folder) == out else []),
                *(n for n in names if n.endswith("social-card.png")),
            ],
        )
    # Static files are the theme's, copied as they are, and the search index is Pagefind's (checked
    # in test_search.py and the browser); the golden copy covers what the build itself makes.
    built, golden = made(out), made(GOLDEN)
    assert sorted(built) == sorted(golden), "the set of files differs from tests/golden/"
    diffs = []
    for name in sorted(built):
        if built[name] != golden[name]:
            diff = difflib.unified_diff(
                golden[name].decode().splitlines(),
                built[name].decode().splitlines(),
                f"golden/{name}",
                f"built/{name}",
                lineterm="",
            )
            diffs.append("\n".join(list(diff)[:40]))
    assert not diffs, "output differs from tests/golden/ (run pytest --update-golden):\n" + "\n".join(
        diffs[:3]
    )


def test_two_builds_in_different_interpreters_are_byte_identical(tmp_path: Path) -> None:
    first = build_sample(tmp_path / "one")
    second = tmp_path / "two"
    script = (
        "import sys; from datetime import datetime, timezone; from pathlib import Path;"
        "from generator.driver.pipeline import build;"
        "build(Path(sys.argv[1]), output_dir=Path(sys.argv[2]), use_cache=False,"
        " now=datetime.fromisoformat(sys.argv[3]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # sets and dicts of text iterate in another order
    subprocess.run(
        [sys.executable, "-c", script, str(SAMPLE_SITE), str(second), FIXED_NOW.isoformat()],
        check=True, env=env, cwd=REPO,
    )  # fmt: skip
    comparison = filecmp.dircmp(first, second)
    assert tree(first) == tree(second), comparison.diff_files


def test_every_internal_link_resolves(tmp_path: Path) -> None:
    out = build_sample(tmp_path / "out")
    assert broken_links(out, base_path="/sub/path/") == []


def test_drafts_and_future_articles_only_on_request(tmp_path: Path) -> None:
    out = build_sample(tmp_path / "out")
    draft, future = (
        out / "belarus" / "2020" / "09" / "02" / "draft",
        out / "world" / "2099" / "01" / "01" / "future",
    )
    assert not draft.exists() and not future.exists()
    build(
        SAMPLE_SITE, output_dir=out, now=FIXED_NOW, include_drafts=True, include_future=True, use_cache=False
    )
    assert (draft / "index.html").is_file() and (future / "index.html").is_file()


def test_bundled_site_builds_with_the_seed_article_repaired(tmp_path: Path) -> None:
    summary = build(REPO, output_dir=tmp_path / "out", use_cache=False)
    assert summary.articles >= 4 and summary.collections >= 3
    page = (
        tmp_path
        / "out"
        / "belarus"
        / "2020"
        / "09"
        / "03"
        / "kremlin-fears-belarusian-scenario"
        / "index.html"
    )
    html = page.read_text(encoding="utf-8")
    assert html.count("<h1>The Kremlin fears a repetition of the Belarusian scenario</h1>") == 1
    assert "Solidarity with Belarus" in html
    assert "Russian authorities are wary of the events in the neighboring country" in html
    assert ".." not in html.split('<div class="body">')[1].split("</div>")[0].replace("../", "")
    assert "Popular news" not in html
    assert "out of control,” Putin said." in html
    assert "Khabarovsk,” notes Andrei Kolesnikov" in html
    assert broken_links(tmp_path / "out", base_path="/digest/") == []


@pytest.mark.slow
def test_installed_package_builds_a_site_outside_the_repository(tmp_path: Path) -> None:
    """A plain (non-editable) install carries the default theme."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(REPO),
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("newsdigest-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "generator/themes/default/templates/base.html" in names
    assert "generator/themes/default/static/style.css" in names
    target = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    site = tmp_path / "elsewhere"
    (site / "content").mkdir(parents=True)
    (site / "config.yaml").write_text("title: Elsewhere\nbase_url: https://e.org/\n", encoding="utf-8")
    (site / "content" / "a.md").write_text("---\ntitle: A\ndate: 2020-01-01\n---\nHi\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from generator.cli import main; sys.argv=['digest','build']; main()",
        ],
        cwd=site,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (site / "site" / "2020" / "01" / "01" / "a" / "index.html").is_file()
    assert (site / "site" / "static" / "style.css").is_file()
    assert (
        str(target)
        in subprocess.run(
            [sys.executable, "-c", "import generator.build.theme as t; print(t.builtin_themes_dir())"],
            cwd=site,
            env={"PYTHONPATH": str(target)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
