"""Shared fixtures: scratch sites on disk, configs and articles in memory."""

from __future__ import annotations

import gzip
import json
import os
import textwrap
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from generator.base.errors import SourceLocation
from generator.base.model import Article, Config

TESTS = Path(__file__).parent
SAMPLE_SITE = TESTS / "sample_site"
GOLDEN = TESTS / "golden"
REPO = TESTS.parent
FIXED_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
# The suite's sites are thrown away: no flush to the disk for them (a syncfs waits for every other
# test's writes too). tests/test_durability.py turns the flushes on and checks them.
os.environ.setdefault("DIGEST_DURABLE", "0")

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MINIMAL_CONFIG = """\
title: Test Digest
base_url: https://example.org/
collections:
  - key: world
    title: World
  - key: belarus
    title: Solidarity with Belarus
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from sample_site")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


MakeSite = Callable[..., Path]


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    """Write a site into tmp_path/site-src: `files` maps relative paths to dedented text (or bytes)."""

    def make(files: dict[str, str | bytes] | None = None, config: str | None = MINIMAL_CONFIG) -> Path:
        root = tmp_path / "src"
        root.mkdir(exist_ok=True)
        if config is not None:
            (root / "config.yaml").write_text(textwrap.dedent(config), encoding="utf-8")
        for name, text in (files or {}).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return root

    return make


def article_text(title: str = "Hello", date: str = "2020-09-03", **fields: Any) -> str:
    """The text of an article file with the given front matter fields and a short body."""
    body = fields.pop("body", "First paragraph.\n\nSecond paragraph.\n")
    lines = [f"title: {title!r}" if title else "", f"date: {date}" if date else ""]
    for key, value in fields.items():
        lines.append(f"{key}: {value}")
    front = "\n".join(line for line in lines if line)
    return f"---\n{front}\n---\n\n{body}"


def tree(folder: Path, skip: str = "") -> dict[str, bytes]:
    """Every file below `folder`: its bytes by path relative to `folder` (but below a folder `skip`,
    and but the build's marker, which names the build that wrote the folder)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and skip not in p.relative_to(folder).parts and p != folder / ".newsdigest"
    }


def searchable(folder: Path, strict: bool = True) -> dict[tuple[str, str], dict[str, object]]:
    """What a reader can find in a built site's search index: each page's record (its text,
    metadata and filters) by language and URL, from every bundle, without the outdated copies that
    a part of recent edits hides. A page found twice fails (or, not `strict`, is marked so)."""
    root = folder / "pagefind"
    hidden = {i for p in root.glob("*/recent/hidden.json") for i in json.loads(p.read_text(encoding="utf-8"))}
    found: dict[tuple[str, str], dict[str, object]] = {}
    for fragment in sorted(root.glob("*/*/fragment/*.pf_fragment")):
        if fragment.stem in hidden:
            continue
        data = json.loads(gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd"))
        key = (fragment.parts[-4], data["url"])
        assert key not in found or not strict, f"{key} is in the index twice"
        found[key] = (
            {"twice": True}
            if key in found
            else {k: data[k] for k in ("content", "meta", "filters", "word_count")}
        )
    return found


SiteState = tuple[dict[str, bytes], dict[tuple[str, str], dict[str, object]]]


def site_state(folder: Path) -> SiteState:
    """A built site as `assert_same_site` compares it: its files but the search index, byte for
    byte, and what a reader finds in the index."""
    return tree(folder, skip="pagefind"), searchable(folder, strict=False)


def assert_same_site(folder: Path, clean: Path, message: str = "") -> None:
    """`folder` holds what the clean build `clean` holds: the same files, byte for byte, but the
    search index, where a reader finds the same pages with the same text (the index itself may
    hold recent edits beside the parts they outdate)."""
    assert tree(folder, skip="pagefind") == tree(clean, skip="pagefind"), message
    assert searchable(folder) == searchable(clean), message


def run_cli(*args: str) -> tuple[int, str, str]:
    """`digest ARGS` in this process: (exit code, standard output, standard error)."""
    from click.testing import CliRunner

    from generator.cli import main

    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def contents(result: Any) -> dict[str, bytes]:
    """The files of a `BuildResult` as bytes, static files read."""
    return {k: v if isinstance(v, bytes) else v.read_bytes() for k, v in result.files.items()}


def html_of(result: Any, path: str) -> str:
    """The page at output `path` of a `BuildResult`."""
    data = result.files[path]
    assert isinstance(data, bytes), path
    return data.decode()


def article_html(result: Any, article_id: str) -> str:
    """The page of the article whose file is `article_id` (its path below content/) in a `BuildResult`."""
    return html_of(result, result.plan.site.urls[article_id] + "index.html")


def make_config(root: Path | None = None, **overrides: Any) -> Config:
    return Config(root=root or Path("/site"), **overrides)


def make_article(**kw: Any) -> Article:
    defaults: dict[str, Any] = {
        "id": "world/a.md",
        "slug": "a",
        "title": "A",
        "date": datetime(2020, 9, 3, 10, tzinfo=timezone.utc),
        "body_html": "<p>Body.</p>",
        "summary": "Body.",
        "source_location": SourceLocation(Path("/site/content/world/a.md")),
    }
    defaults.update(kw)
    return Article(**defaults)


TOOLS = TESTS / "tools" / "node_modules"


def require(path: Path | None, what: str) -> Path:
    """The path of an external checker; skip the test without it, but fail under CI."""
    if path is not None and path.exists():
        return path
    message = f"{what} is not installed: run sh tests/setup.sh"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def bundled_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own site (config.yaml and content/), built once per test run."""
    from generator.driver.pipeline import build

    out = tmp_path_factory.mktemp("bundled") / "site"
    build(REPO, output_dir=out, use_cache=False)
    return out


def searchable_sources(root: Path) -> Path:
    """The bundled site's config and content, plus the articles of tests/data/search, in `root`."""
    import shutil

    shutil.copy(REPO / "config.yaml", root / "config.yaml")
    shutil.copytree(REPO / "content", root / "content")
    for article in (TESTS / "data" / "search").glob("*.md"):
        shutil.copy(article, root / "content" / article.name)
    return root


@pytest.fixture(scope="session")
def searchable_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled site plus the Russian and English articles of tests/data/search, built once,
    with the English index in two parts (August and September 2020), as a large site has."""

    from generator.build import search
    from generator.driver.pipeline import build

    root = searchable_sources(tmp_path_factory.mktemp("searchable"))
    part_pages, search.PART_PAGES = search.PART_PAGES, 3
    try:
        build(root, output_dir=root / "site", use_cache=False)
    finally:
        search.PART_PAGES = part_pages
    listing = json.loads((root / "site/pagefind/bundles.json").read_text(encoding="utf-8"))
    assert listing == {"en": ["en/2020-08/", "en/2020-09/"], "ru": ["ru/2020-08/"]}
    return root / "site"


@pytest.fixture(scope="session")
def compact_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's site built with the example theme that extends default."""
    from generator.driver.pipeline import build

    out = tmp_path_factory.mktemp("compact") / "site"
    build(REPO, output_dir=out, theme="compact", use_cache=False)
    return out


MULTILINGUAL = REPO / "examples" / "multilingual"


@pytest.fixture(scope="session")
def multilingual_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled multilingual example (examples/multilingual), built once per test run at the
    bundled site's base path, so that the browser tests serve it the same way."""
    from generator.driver.pipeline import build

    out = tmp_path_factory.mktemp("multilingual") / "site"
    build(MULTILINGUAL, output_dir=out, use_cache=False, base_url="https://example.org/digest/")
    return out


@pytest.fixture(scope="session")
def sample_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/sample_site built once per test run."""
    from generator.driver.pipeline import build

    out = tmp_path_factory.mktemp("sample") / "site"
    build(SAMPLE_SITE, output_dir=out, now=FIXED_NOW, use_cache=False)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (the Debian package), driven by Playwright."""
    require(CHROMIUM, "Chromium (Debian package chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()
