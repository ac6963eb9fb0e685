"""Finding and reading article files, safely: the first half of the content stage.

`find_articles` lists the article files below the content folder (Markdown, and
HTML with front matter as Jekyll and Hugo read it: `is_html_article`);
`load_files` reads them into `RawArticle`s. Only regular files are read, no bigger than
`max_article_kb`, and a link leading outside the site is refused unless the
config allows it; a folder that cannot be read, a pipe or a device under
content/ is an error at its path, never skipped in silence or waited on.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from generator.base.errors import FrontMatterError, SiteError, SourceLocation
from generator.base.hashing import stable_hash
from generator.base.model import Config
from generator.build import shortcodes

# Markdown as Jekyll, Hugo, Pelican and Zola archives name it.
ARTICLE_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")
HTML_SUFFIXES = (".html", ".htm")  # an article when `is_html_article` says so


@dataclass(frozen=True, slots=True)
class RawArticle:
    """One article file as read from disk, before parsing."""

    id: str
    path: Path
    text: str

    source_hash: str = ""  # changes whenever the text or the place of the file does


def find_articles(config: Config, others: list[str] | None = None) -> list[str]:
    """Every article file below the content folder (as text, sorted): Markdown (`ARTICLE_SUFFIXES`)
    and HTML with front matter (`is_html_article`), but hidden files and folders; the content
    folder's other files go to `others` if it is given.

    A folder that cannot be read, or a linked one leading outside the site
    (unless config allows it), is listed itself, so that reading it says why.
    """
    inside = None if config.allow_outside_symlinks else str(config.root.resolve())
    return split_content(config.content_dir, inside, keep_unreadable=True, others=others)


def split_content(
    content: Path, inside: str | None, keep_unreadable: bool = False, others: list[str] | None = None
) -> list[str]:
    """The article files below `content` (see `find_articles`); its other files go to `others`."""
    rest: list[str] = []
    found = walk_files(content, ARTICLE_SUFFIXES, inside, keep_unreadable, rest)
    pages = [p for p in rest if p.lower().endswith(HTML_SUFFIXES) and is_html_article(content, p)]
    if pages:
        found = sorted(found + pages)
        taken = set(pages)
        rest = [p for p in rest if p not in taken]
    if others is not None:
        others += rest
    return found


_POST_FOLDERS = ("_posts", "_drafts")
_FRONT = re.compile(r"\A\ufeff?\s*(---|\+\+\+)[ \t]*\r?\n(.*?)^\1[ \t]*\r?$(.*)", re.S | re.M)
_TITLE_KEY = re.compile(r"^\s*title\s*[:=]", re.M | re.I)
_HEAD_BYTES = 256 * 1024


def is_html_article(content: Path, path: str) -> bool:
    """Whether the HTML file at `path` is an article, as Jekyll and Hugo read it: it starts with
    front matter and is a Jekyll post (under `_posts/` or `_drafts/`), or has a title and no
    template code that newsdigest cannot translate (a Hugo `index.html` bundle, Jekyll's
    `about.html`). The others (Jekyll's `index.html` that lists the posts, `_layouts/`) are the
    old generator's templates: left out, and said (`media.content_files`)."""
    folders = os.path.relpath(path, content).split(os.sep)[:-1]
    if any(f.startswith("_") and f not in _POST_FOLDERS for f in folders):
        return False
    head = read_head(path, _HEAD_BYTES)
    found = _FRONT.match(head.decode("utf-8", "replace"))
    if not found:
        return False
    if any(f in _POST_FOLDERS for f in folders):
        return True
    body = shortcodes.translate(found.group(3), "", html=True)
    return bool(_TITLE_KEY.search(found.group(2))) and not shortcodes.TEMPLATE_CODE.search(body)


def read_head(path: str, size: int) -> bytes:
    """The first `size` bytes of the regular file at `path`; nothing for another kind of file (a
    pipe is never waited on) or one that cannot be read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return b""
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return b""
        try:
            return handle.read(size)
        except OSError:
            return b""


def walk_files(
    folder: Path,
    suffix: str | tuple[str, ...] = "",
    inside: str | None = None,
    keep_unreadable: bool = False,
    others: list[str] | None = None,
) -> list[str]:
    """The paths (as sorted text) of the files below `folder` ending in `suffix`, skipping hidden ones;
    the files not ending in it go to `others`, sorted, if it is given (one walk for both).

    Linked folders are followed once each, if they lead `inside` that folder
    when it is given. A dangling link is kept, so that reading it reports the
    problem. Text, not `Path` objects: on large sites sorting paths is a
    measurable cost.
    """
    found: list[str] = []
    seen: set[str] = set()

    def unreadable(error: OSError) -> None:
        if keep_unreadable and error.filename and os.fspath(error.filename) != os.fspath(folder):
            found.append(os.fspath(error.filename))

    for base, subfolders, names in os.walk(folder, onerror=unreadable, followlinks=True):
        real = os.path.realpath(base)
        if real in seen:  # a link back up the tree: walked already
            subfolders[:] = []
            continue
        seen.add(real)
        kept = []
        for name in subfolders:
            linked = os.path.join(base, name)
            if name.startswith("."):
                continue
            if inside and os.path.islink(linked) and not _within(os.path.realpath(linked), inside):
                if keep_unreadable:
                    found.append(linked)  # reading it says where it leads
                continue
            kept.append(name)
        subfolders[:] = kept
        prefix = os.path.join(base, "")  # one join a folder, not one a file: 50,000 files cost 0.1 s
        found += [prefix + n for n in names if n.endswith(suffix) and not n.startswith(".")]
        if others is not None:
            others += [prefix + n for n in names if not n.endswith(suffix) and not n.startswith(".")]
    found.sort()
    if others is not None:
        others.sort()
    return found


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def source_hash(path: Path, data: bytes) -> str:
    """The `Article.source_hash` of the file at `path` holding `data`: it changes with either."""
    return stable_hash(str(path), data)


@dataclass(frozen=True, slots=True)
class ReadRules:
    """What reading an article file may do: the limits of `Config`, in a form workers take."""

    content_dir: Path
    site_root: Path  # resolved: links may not lead outside it
    max_bytes: int
    outside_links: bool = False

    @classmethod
    def of(cls, config: Config) -> ReadRules:
        return cls(
            config.content_dir,
            config.root.resolve(),
            config.max_article_kb * 1024,
            config.allow_outside_symlinks,
        )


def load_files(rules: ReadRules, paths: Iterable[Path]) -> tuple[list[RawArticle], list[SiteError]]:
    """Read each file as UTF-8; an unreadable, oversized, non-regular or non-UTF-8 file, or a link
    leading outside the site, becomes an error."""
    raws: list[RawArticle] = []
    errors: list[SiteError] = []
    for path in paths:
        try:
            data = _read_bounded(path, rules)
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            errors.append(
                FrontMatterError(
                    "file is not valid UTF-8 text",
                    SourceLocation(path, line),
                    "save the file with UTF-8 encoding",
                )
            )
            continue
        except _Refused as refused:
            errors.append(FrontMatterError(str(refused), SourceLocation(path), refused.hint))
            continue
        except OSError as exc:
            errors.append(FrontMatterError(f"cannot read: {exc.strerror}", SourceLocation(path)))
            continue
        rel = path.relative_to(rules.content_dir).as_posix()
        raws.append(RawArticle(rel, path, text.lstrip("\ufeff"), source_hash(path, data)))
    return raws, errors


class _Refused(Exception):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _read_bounded(path: Path, rules: ReadRules) -> bytes:
    """The bytes of a regular file within the site, at most `rules.max_bytes` of them."""
    if not rules.outside_links and os.path.realpath(path) != os.path.abspath(path):
        real = Path(os.path.realpath(path))
        if not _within(str(real), str(rules.site_root)):
            raise _Refused(
                f"a symbolic link to {real}, outside the site",
                "copy the file into content/, or set 'allow_outside_symlinks: true' in config.yaml",
            )
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the build
    with os.fdopen(descriptor, "rb") as handle:
        kind = os.fstat(descriptor)
        if not stat.S_ISREG(kind.st_mode):
            raise _Refused("not a regular file (a pipe, device, socket or folder)", "remove it from content/")
        data = handle.read(rules.max_bytes + 1)
    if len(data) > rules.max_bytes:
        raise _Refused(
            f"the file is larger than {rules.max_bytes // 1024:,} KB",
            "split it, or raise 'max_article_kb' in config.yaml",
        )
    return data


_HTML_INDEX = tuple(f"index{suffix}" for suffix in HTML_SUFFIXES)  # a bundle's article, in HTML


def bundle_files(folder: Path) -> list[str]:
    """The files of the page bundle in `folder` (and its subfolders) other than hidden ones, relative
    to it; none if the folder holds other articles than its `index.md` (it is a section then)."""
    found = []
    for base, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(names):
            if name.endswith(ARTICLE_SUFFIXES) or (base == str(folder) and name in _HTML_INDEX):
                if base != str(folder) or Path(name).stem != "index":
                    return []
            elif not name.startswith((".", "_")):
                found.append(Path(base, name).relative_to(folder).as_posix())
    return found
