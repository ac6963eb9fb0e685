"""Scaffolding for the editor's commands: a new site (`digest init`) and a new article (`digest new`).

Both write files, so both refuse to overwrite anything, and both write their
text from here: they work from a plain `pip install`, outside this repository.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from generator.base.errors import BuildFailed, OutputError, SiteError, SourceLocation
from generator.base.lock import process_alive
from generator.base.model import CACHE_DIR, Config
from generator.base.urls import slugify
from generator.build import contentfiles, frontmatter
from generator.build.config import CONFIG_NAME
from generator.build.topics import require_collection

CONFIG_TEMPLATE = """\
# newsdigest site configuration. Every key is optional; the README lists them all.

# The site's name, shown in the masthead, page titles and feeds.
title: {title}
description: A digest of the news that matters to us.

# The address the site is published at; feeds, the sitemap and canonical links use it.
# A subpath works too, e.g. https://user.github.io/digest/
base_url: https://example.org/

# Language of the site's texts (en, ru) and the time zone of dates written without an offset.
language: en
timezone: UTC
# URL slugs spelled by each article's language's own rules (Ukrainian Київ kyiv, Belarusian
# Гродна hrodna, German München muenchen); `standard` reads every Cyrillic letter as Russian.
transliteration: language

# Default author of articles and feeds.
author: The editors

theme: default
per_page: 10

# Collections, in the order the site shows them. An article names one with
# `collection:` (key or title), or sits in content/<key>/.
collections:
  - key: news
    title: News
    description: The latest news.
"""

EXAMPLE_ARTICLE = """\
---
title: Welcome to your news digest
date: {date}
collection: news
tags: [getting started]
summary: Your site is ready; this article shows the format of an article.
---

This is an example article. Every Markdown file under `content/` is an article: a
block of YAML front matter between `---` lines, then the text.

## Next steps

- Run `digest new "A headline" --collection news` to start an article.
- Run `digest serve` and open the address it prints: the page reloads as you save.
- Run `digest build` to write the finished site into `site/`.
"""


def init_site(folder: Path, title: str = "My News Digest", now: datetime | None = None) -> list[Path]:
    """Create a new, buildable site in `folder`; return the files written.

    Raises `BuildFailed` if the folder already holds a config or articles.
    """
    config_path = folder / CONFIG_NAME
    content_dir = folder / "content"
    if config_path.exists() or (content_dir.exists() and any(content_dir.iterdir())):
        raise BuildFailed(
            [
                OutputError(
                    "this folder already holds a site",
                    SourceLocation(config_path if config_path.exists() else content_dir),
                    "choose an empty or new folder for `digest init`",
                )
            ]
        )
    moment = (now or datetime.now(ZoneInfo("UTC"))).replace(microsecond=0)
    article = content_dir / "news" / "welcome.md"
    article.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(CONFIG_TEMPLATE.format(title=_yaml_scalar(title)), encoding="utf-8")
    article.write_text(EXAMPLE_ARTICLE.format(date=moment.isoformat()), encoding="utf-8")
    gitignore = folder / ".gitignore"
    if not gitignore.exists():
        # The output, the cache, what an interrupted build may leave beside them, and the emails
        # `digest newsletter` writes (made again from the site at any time).
        gitignore.write_text(f"/site/\n/{CACHE_DIR}/\n/.site.digest-work/\n/newsletters/\n", encoding="utf-8")
    return [config_path, article, gitignore]


def new_article(
    config: Config,
    title: str,
    collection: str,
    tags: tuple[str, ...] = (),
    now: datetime | None = None,
) -> Path:
    """Write a draft article for `title` into the folder that holds `collection`; return its path.

    The file is named after the day and the title (`2020-09-03-weekly-briefing.md`), so a headline
    that recurs gets a file (and a URL) of its own. Raises `BuildFailed` for an unknown collection
    or a title with no usable slug.
    """
    key = require_collection(collection, config.collections, SourceLocation(config.root / CONFIG_NAME))
    slug = slugify(title, config.slug_language)
    if not slug:
        raise BuildFailed(
            [SiteError(f"cannot make a file name from the title {title!r}", hint="use some letters")]
        )
    moment = (now or datetime.now(ZoneInfo(config.timezone))).astimezone(ZoneInfo(config.timezone))
    front = {
        "title": title,
        "date": moment.replace(microsecond=0, second=0).isoformat(),
        "collection": key,
        "tags": list(tags),
        "draft": True,
    }
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n\nWrite here.\n"
    return create_article(_folder_for(config, key), moment, slug, text)


def free_article_path(folder: Path, moment: datetime, slug: str) -> Path:
    """`folder/2020-09-03-slug.md`, or `-2`, `-3`... after the slug if that file exists."""
    stem = f"{moment.date().isoformat()}-{slug}"
    path = folder / f"{stem}.md"
    number = 2
    while path.exists():
        path = folder / f"{stem}-{number}.md"
        number += 1
    return path


def create_article(folder: Path, moment: datetime, slug: str, text: str) -> Path:
    """Write `text` into a new article file named after `moment`'s day and `slug` in `folder` (the next
    free name: never over a file, even in a race); return its path.

    The text goes into a hidden temporary file first, which is then linked to its name: a run
    killed at any moment leaves the whole article or none (and the next run removes the
    temporary file a dead run left).
    """
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(folder)
    temporary = folder / f"{TEMPORARY_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.tmp"
    temporary.write_text(text, encoding="utf-8")
    try:
        while True:
            path = free_article_path(folder, moment, slug)
            try:
                os.link(temporary, path)
                return path
            except FileExistsError:
                continue  # made by another process in the meantime
            except OSError:  # a file system without hard links: exclusive creation instead
                try:
                    with path.open("x", encoding="utf-8") as handle:
                        handle.write(text)
                    return path
                except FileExistsError:
                    continue
    finally:
        temporary.unlink(missing_ok=True)


def create_bundle(folder: Path, moment: datetime, slug: str, text: str, files: Mapping[str, bytes]) -> Path:
    """Write `text` as `index.md`, with `files` beside it, into a new page bundle named after
    `moment`'s day and `slug` in `folder` (the next free name, as `create_article` picks one);
    return the article's path.

    The bundle is made whole in a hidden temporary folder, which is then renamed to its name: a run
    killed at any moment leaves the whole bundle or none.
    """
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(folder)
    temporary = folder / f"{TEMPORARY_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.tmp"
    temporary.mkdir()
    try:
        for name, data in files.items():
            (temporary / name).write_bytes(data)
        (temporary / "index.md").write_text(text, encoding="utf-8")
        stem = f"{moment.date().isoformat()}-{slug}"
        for number in itertools.count(1):
            target = folder / (stem if number == 1 else f"{stem}-{number}")
            if target.exists() or target.with_suffix(".md").exists():
                continue
            try:
                os.rename(temporary, target)  # fails if another process made it in the meantime
                return target / "index.md"
            except OSError:
                if not target.exists():
                    raise
        raise AssertionError("unreachable")
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


TEMPORARY_PREFIX = ".digest-new-"


def _remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files and folders of `create_article` and `create_bundle` runs that died
    before they were done."""
    for path in folder.glob(f"{TEMPORARY_PREFIX}*.tmp"):
        pid = path.name.removeprefix(TEMPORARY_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _folder_for(config: Config, key: str) -> Path:
    """The folder where most articles of the collection already sit; `content/<key>/` by default.

    Reads front matter only, so this stays fast on large sites.
    """
    folders: Counter[Path] = Counter()
    for path in map(Path, contentfiles.find_articles(config)):
        if path.parent == config.content_dir / key:
            folders[path.parent] += 1
            continue
        try:
            meta = frontmatter.split(path.read_text(encoding="utf-8"), path).meta
        except (OSError, UnicodeDecodeError, SiteError):
            continue
        named = meta.get("collection") if isinstance(meta, dict) else None
        if isinstance(named, str) and key in (named, slugify(named)):
            folders[path.parent] += 1
    return folders.most_common(1)[0][0] if folders else config.content_dir / key


def _yaml_scalar(text: str) -> str:
    return yaml.safe_dump(text, allow_unicode=True, default_style=None).removesuffix("\n...\n").strip()


def new_translation(config: Config, original: Path, lang: str) -> Path:
    """Start the `lang` translation of the article file `original`: a draft beside it named as Hugo
    and Zola name translations (`story.ru.md` beside `story.md`, or under `content/ru/` if the
    original sits in a language's folder), with its fields (and `translation_key`, if it has one)
    and its text to translate over; return its path. Raises `BuildFailed` for a site without that
    language, a file outside the content folder or of no front matter, or a translation that exists."""
    from generator.build import translations

    content = (config.root / config.content_dir).resolve()
    where = SourceLocation(original)
    codes = [spec.code for spec in config.languages]
    if lang not in codes:
        have = ", ".join(codes) or "none: add languages: to config.yaml"
        raise BuildFailed([SiteError(f"the site has no language '{lang}'", where, f"its languages: {have}")])
    path = original.resolve()
    if not path.is_file() or not path.is_relative_to(content):
        raise BuildFailed(
            [SiteError("not an article file of this site", where, f"name a file under {content}")]
        )
    text = path.read_text(encoding="utf-8")
    found = frontmatter.split(text, path)  # FrontMatterError, located, for a file of none
    relative = path.relative_to(content).as_posix()
    by_name, base = translations.language_of(relative, codes)
    in_folder = bool(by_name) and relative.startswith(f"{by_name}/")
    stem, suffix = base.rsplit(".", 1)
    if lang == codes[0]:
        target = base
    elif in_folder:
        target = f"{lang}/{base}"
    else:
        target = f"{stem}.{lang}.{suffix}"
    meta = {k: v for k, v in found.meta.items() if k not in ("lang", "updated", "lastmod", "draft")}
    meta["draft"] = True
    for key in ("updated", "lastmod"):  # the version it translates: not behind its original
        if key in found.meta:
            meta["updated"] = found.meta[key]
    body = found.body if found.body.strip() else "Translate here.\n"
    new = content / target
    if new.exists():
        raise BuildFailed(
            [SiteError(f"the '{lang}' translation exists: {new}", where, "edit that file instead")]
        )
    new.parent.mkdir(parents=True, exist_ok=True)
    dumped = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    with new.open("x", encoding="utf-8") as handle:
        handle.write(f"---\n{dumped}---\n\n{body.lstrip()}")
    return new
