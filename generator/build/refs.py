"""Links between articles and to the site's files, as archives of other generators write them.

An article may name another article or a file of the content folder by its source path rather
than by a URL: Zola writes `[x](@/blog/post.md)`, Pelican `{filename}/post.md` and
`{static}/images/x.png`, Jekyll `{% post_url 2020-09-03-name %}` and `{% link _posts/x.md %}`, Hugo
`{{< ref "post.md" >}}` (the shortcodes stage turns the last four into `@` addresses), and any of
them a relative link to the other file (`../other-post.md`). Archives also link from the old site's
root: `/static/images/x.png`, `/2008/08/23/title.html`, `{{ site.baseurl }}/about/`.

`Index.of(site, files)` knows every article's source path, name, URL and earlier URLs, and every
file published at its own path; `Index.find` gives the URL (from the site's root) that an address
of an article stands for, so that the media stage links it from the article's page, relatively
(which also holds when the site is published below a path). A reference that names nothing is an
error at its line, as in Hugo and Jekyll; a link from the root that names nothing is left for
`digest check`, but an image from the root that is missing is an error.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from generator.base.model import Site
from generator.base.urls import collection_url, output_file_for
from generator.build.contentfiles import ARTICLE_SUFFIXES, HTML_SUFFIXES, bundle_files
from generator.build.shortcodes import REF

SOURCE_SUFFIXES = (*ARTICLE_SUFFIXES, *HTML_SUFFIXES)


@dataclass(frozen=True, slots=True)
class Index:
    """What addresses of articles can name: article ids by source path without suffix and by name,
    article URLs by every URL they had (their own and their aliases), and the files published at
    their own path (the content folder's other files, the theme's)."""

    by_path: Mapping[str, str]
    by_name: Mapping[str, tuple[str, ...]]
    by_url: Mapping[str, str]
    files: frozenset[str]
    base_path: str  # the path the site is published below, "/" or "/digest/"
    urls: Mapping[str, str]  # article id -> URL
    bundles: Mapping[str, Path]  # a page bundle's output folder -> its folder, whose files it publishes
    content: str  # the content folder, resolved, ending in the path separator

    @classmethod
    def of(cls, site: Site, files: Iterable[str]) -> Index:
        by_path: dict[str, str] = {}
        by_name: dict[str, list[str]] = {}
        by_url: dict[str, str] = {}
        bundles: dict[str, Path] = {}
        for article_id, url in site.urls.items():
            source = site.articles[article_id].source_location.path
            if source.stem == "index":  # a bundle's files, beside its page: old links may name them
                bundles[posixpath.dirname(output_file_for(url))] = source.parent
            path = PurePosixPath(article_id)
            stem = path.parent if path.stem in ("index", "_index") else path.with_suffix("")
            by_path.setdefault(stem.as_posix(), article_id)
            for name in dict.fromkeys((stem.name, site.articles[article_id].slug)):
                by_name.setdefault(name, []).append(article_id)
            for old in (url, *site.articles[article_id].aliases):
                by_url.setdefault(old, url)
        urls = dict(site.urls)
        for key, url in (("", "index.html"), *((c.key, collection_url(c.key)) for c in site.collections)):
            urls[f"\0{key}"] = (
                url  # a section's `_index.md` names its collection's page; the root's, the home
            )
            by_path.setdefault(key, f"\0{key}")
        base_path = urlsplit(site.config.base_url).path or "/"
        names = {k: tuple(v) for k, v in by_name.items()}
        content = os.path.realpath(site.config.content_dir) + os.sep
        return cls(by_path, names, by_url, frozenset(files), base_path, urls, bundles, content)

    def find(self, address: str, article_id: str, image: bool) -> str | None:
        """The URL from the site's root that `address`, written in article `article_id`, stands for
        (its fragment kept); "" if it is not an address of this kind (it is left as it is); None if
        it names nothing (an error of the article)."""
        parts = urlsplit(address)
        if parts.scheme or parts.netloc or not parts.path:
            return ""
        path = unquote(parts.path)
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        folder = posixpath.dirname(article_id)
        if path.startswith(REF):
            wanted = path[len(REF) :]
            tries = [wanted.lstrip("/")] if wanted.startswith("/") else [_join(folder, wanted), wanted]
            found = next((u for u in (self._source(t) for t in tries) if u is not None), None)
            if found is None:
                found = self._by_name(wanted)
        elif path.startswith("/"):
            found = self._from_root(path)
            if found is None and not image:
                return ""  # a link to a page of the old site: `digest check` says if it is gone
        elif path.endswith(SOURCE_SUFFIXES) and not address.startswith("./"):
            found = self._article(_join(folder, path))
            if found is None:
                return "" if path.endswith((".html", ".htm")) else None
        else:
            return ""
        return None if found is None else found + fragment

    def _source(self, path: str) -> str | None:
        """The URL of the article or file at content path `path`."""
        if not path or path.startswith("../"):
            return None
        if path in self.files:
            return path
        return self._article(path)

    def _article(self, path: str) -> str | None:
        path = path.rstrip("/")
        stem = path.rsplit(".", 1)[0] if path.endswith(SOURCE_SUFFIXES) else path
        if stem.endswith(("/index", "/_index")) or stem in ("index", "_index"):
            stem = stem.rsplit("/", 1)[0] if "/" in stem else ""
        article_id = self.by_path.get(stem)
        return None if article_id is None else self._url_of(article_id)

    def _by_name(self, wanted: str) -> str | None:
        """Hugo's and Jekyll's lookup by the file's name alone, when one article has it."""
        name = PurePosixPath(wanted.rstrip("/")).name
        stem = name.rsplit(".", 1)[0] if name.endswith(SOURCE_SUFFIXES) else name
        if stem in ("index", "_index"):
            stem = PurePosixPath(wanted.rstrip("/")).parent.name
        owners = self.by_name.get(stem, ())
        return self._url_of(owners[0]) if len(owners) == 1 else None

    def _url_of(self, article_id: str) -> str:
        return self.urls[article_id]

    def _from_root(self, path: str) -> str | None:
        """What a path from the root names: a file published at its own path, or a page the
        article URLs (or earlier URLs) give; the site's own base path may lead it."""
        inside = path.removeprefix(self.base_path) if path.startswith(self.base_path) else path
        inside = inside.lstrip("/")
        for relative in dict.fromkeys((inside, path.lstrip("/"))):
            if relative in self.files or self._bundled(relative):
                return relative
            for url in (relative, f"{relative}/", relative.removesuffix("index.html")):
                if url in self.by_url:
                    return self.by_url[url]
        return None

    def _bundled(self, path: str) -> bool:
        """Whether `path` is a file that a page bundle publishes beside its page (looked up only
        when asked: no bundle's folder is listed for it), never one that leads outside."""
        folder, _, name = path.rpartition("/")
        while folder:
            source = self.bundles.get(folder)
            if source is not None:
                file = source / name
                return name in bundle_files(source) and os.path.realpath(file).startswith(self.content)
            folder, _, parent = folder.rpartition("/")
            name = f"{parent}/{name}"
        return False


def names_source(address: str) -> bool:
    """Whether a relative `address` names an article's source file (`../other-post.md#part`)."""
    return urlsplit(address).path.endswith(SOURCE_SUFFIXES)


def _join(folder: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(folder, path)) if folder else posixpath.normpath(path)


def relative(target: str, page_url: str) -> str:
    """`target` (a URL from the site's root, maybe with a fragment) as a link from the page at
    `page_url`."""
    path, hashmark, fragment = target.partition("#")
    folder = page_url if page_url.endswith("/") or not page_url else posixpath.dirname(page_url)
    page_dir = folder.rstrip("/") if folder else ""  # "" at the root: relpath against it is the path itself
    if path == page_url and hashmark:
        return f"#{fragment}"
    link = posixpath.relpath(path or ".", page_dir or ".") if path else ""
    if path.endswith("/") and link != ".":
        link += "/"
    elif link == ".":
        link = "./"
    return link + hashmark + fragment
