"""`digest migrate OLD NEW`: a newsdigest site in NEW made from another generator's site in OLD.

The old site's content and files are copied as they are (`OldSite.copies`); config.yaml gets the
settings that keep the old URLs (`oldsite`); the old site is only read. Nothing is copied that the
old generator did not publish either (its templates, tooling, a Markdown file without front matter,
which Jekyll copies raw), and each thing left behind is said in the report, as is each part of the
old URL scheme that newsdigest cannot express. The report then counts what the new site holds, read
as the build reads it: posts, pages, drafts, files, collections, and the files that would not build.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator.base.errors import BuildFailed, OutputError, SiteError, SiteWarning, SourceLocation
from generator.base.model import CACHE_DIR
from generator.base.urls import slugify
from generator.build import content, media, topics
from generator.build.config import load_config
from generator.build.contentfiles import ARTICLE_SUFFIXES
from generator.migrating.oldsite import OldSite, has_front_matter, read_old_site


@dataclass
class Report:
    """What `migrate` did and found."""

    old: OldSite
    folder: Path
    copied: int = 0
    left_behind: list[str] = field(default_factory=list)  # files not copied, each with why
    kinds: Counter[str] = field(default_factory=Counter)  # article, page, section, edition, story
    drafts: int = 0
    files: int = 0  # published at their own paths
    collections: tuple[str, ...] = ()
    errors: list[SiteError] = field(default_factory=list)  # of files that would not build

    def lines(self) -> list[str]:
        old = self.old
        found = [
            f"{old.generator} site in {old.root}"
            + (f" (read {old.config_file.name})" if old.config_file else ""),
            f"copied {self.copied} files into {self.folder / 'content'}",
            f"posts: {self.kinds['article']}, pages: {self.kinds['page']}, drafts among them: {self.drafts}, "
            f"files published at their own paths: {self.files}",
            f"collections: {', '.join(self.collections) or 'none'}",
        ]
        found += [f"  maps: {note}" for note in old.notes]
        if old.pages:
            shown = ", ".join(old.pages[:8]) + (
                f" and {len(old.pages) - 8} more" if len(old.pages) > 8 else ""
            )
            found.append(f"  maps: undated files are pages, as the old site made them: {shown}")
        found += [f"  not copied: {item}" for item in (*old.skipped, *self.left_behind)]
        if self.errors:
            wrong = sum(1 for e in self.errors if not isinstance(e, SiteWarning))
            found.append(
                f"{wrong} {'error' if wrong == 1 else 'errors'} and {len(self.errors) - wrong} warnings "
                "in the copied files (`digest build --keep-going` builds the rest):"
            )
            found += [f"  {error}" for error in self.errors[:20]]
            if len(self.errors) > 20:
                found.append(f"  ... and {len(self.errors) - 20} more (`digest check` lists them all)")
        return found


def migrate(source: Path, folder: Path) -> Report:
    """Make a newsdigest site in `folder` (new or empty) from the site in `source`; raises
    `BuildFailed` when `source` holds no site this reads, or `folder` holds files already."""
    old = read_old_site(source.resolve())
    if folder.exists() and any(folder.iterdir()):
        raise BuildFailed(
            [OutputError("this folder is not empty", SourceLocation(folder), "name a new or empty folder")]
        )
    report = Report(old, folder)
    target = folder / "content"
    target.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for origin, to in old.copies:
        _copy(origin, to, target, old.root, taken, report)
    header = (
        f"# Made by `digest migrate` from the {old.generator} site in {old.root}.\n"
        "# permalink, defaults and collections keep the old site's URLs; see the README's\n"
        '# "Coming from Jekyll, Hugo, Pelican or Zola".\n'
    )
    config_file = folder / "config.yaml"
    config_file.write_text(header + _yaml(old.settings), encoding="utf-8")
    (folder / ".gitignore").write_text(f"/site/\n/{CACHE_DIR}/\n/.site.digest-work/\n", encoding="utf-8")
    moved = _count(report, folder)
    if moved:  # the old list pages, now that the collections and tags are known
        old.settings["redirects"] = moved
        old.note(f"{len(moved)} old category and tag pages redirect to their collection and tag pages")
        config_file.write_text(header + _yaml(old.settings), encoding="utf-8")
    return report


def _yaml(settings: dict[str, object]) -> str:
    return yaml.dump(settings, Dumper=_Plain, sort_keys=False, allow_unicode=True, width=100)


class _Plain(yaml.SafeDumper):
    """YAML written out in full: no anchors and aliases for values that repeat (config.yaml is read
    with a bound on aliases, and an editor reads it)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _copy(origin: Path, to: str, target: Path, root: Path, taken: set[str], report: Report) -> None:
    """Copy the file or folder `origin` to `to` under `target`: hidden files, links that lead outside
    the old site and Markdown files without front matter stay behind, and are said."""
    real_root = os.path.realpath(root)
    if origin.is_file():
        files = [(origin, to)]
    else:
        files = []
        for base, folders, names in os.walk(origin):
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            here = Path(base)
            for name in sorted(names):
                if not name.startswith("."):
                    relative = (here / name).relative_to(origin).as_posix()
                    files.append((here / name, f"{to}/{relative}" if to else relative))
    for path, name in files:
        if origin.is_dir() and name in report.old.moved:
            continue  # published at the path the old configuration gave it (copied first)
        if not os.path.realpath(path).startswith(real_root + os.sep):
            report.left_behind.append(f"{name}: a link that leads outside the old site")
        elif Path(name).suffix in ARTICLE_SUFFIXES and not has_front_matter(path):
            report.left_behind.append(
                f"{name}: Markdown without front matter (the old site published it as a plain file)"
            )
        elif name in taken:
            report.left_behind.append(f"{name}: a file of the same name was copied first")
        else:
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            taken.add(name)
            report.copied += 1


def _count(report: Report, folder: Path) -> dict[str, str]:
    """What the new site holds, read as a build reads it (drafts and future articles included); and
    the redirects from the old site's category and tag pages (Pelican's) to their collections' and
    tags' pages."""
    try:
        config = load_config(folder)
    except BuildFailed as failed:
        report.errors += failed.errors
        return {}
    articles, errors = content.read_content(config)
    report.errors += errors
    report.errors += [note for a in articles for note in a.notes]  # what is read but not honoured
    report.kinds = Counter(a.kind for a in articles)
    report.drafts = sum(1 for a in articles if a.is_draft)
    resolved, specs, problems = topics.resolve_collections(
        [a for a in articles if a.kind == "article"], config
    )
    report.errors += problems
    used = {key for a in resolved for key in a.collections}
    report.collections = tuple(s.key for s in specs if s.key in used)
    files, warnings = media.content_files(config)
    report.files = len(files)
    report.errors += warnings
    patterns = report.old.list_urls
    moved: dict[str, str] = {}
    if patterns:
        for key in dict.fromkeys(k for a in resolved if not a.is_draft for k in a.collections):
            moved[patterns["category"].replace("{slug}", key)] = f"/{key}/"
        for tag in dict.fromkeys(slugify(t) for a in resolved if not a.is_draft for t in a.tags):
            moved[patterns["tag"].replace("{slug}", tag)] = f"/tags/{tag}/"
    return {old.removesuffix("index.html").lstrip("/"): new for old, new in moved.items() if "{" not in old}
