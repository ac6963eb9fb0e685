"""Media stage: the images and files an article uses, published beside its page.

An article names local files by addresses relative to its own file: the lead
`image:`, and the images and links of its text (`img/photo.jpg`,
`report.pdf`). An article kept as `index.md` in a folder of its own (a page
bundle, as Hugo calls it) also publishes every other file of that folder.
Each file is published beside the article's page at the address the article
wrote (one that leaves the article's folder, under `_files/`), so the
article's links work as written, in pages, feeds and the preview.

A raster image (JPEG, PNG, WebP) is never published as it is: `make_variants`
makes it in a few widths (config `images:`), in its own format and in WebP,
turned as its EXIF orientation says and without its metadata (GPS position,
camera); the largest keeps the image's own name. Pages get `srcset`, `sizes`,
`width` and `height` (`responsive_body`, `picture_view`). A file that is
missing is an error at the line that names it; a local image without alt text
is a warning there.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import html
import io
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urljoin

from generator.base.errors import BuildFailed, MediaError, SiteError, SiteWarning, SourceLocation
from generator.base.hashing import stable_hash
from generator.base.model import Article, Config, ImageSettings, Media, Picture, Site, StaticFile
from generator.base.urls import absolute, is_safe_text_path, output_file_for
from generator.build import embeds, refs, shortcodes
from generator.build.contentfiles import (
    ARTICLE_SUFFIXES,
    HTML_SUFFIXES,
    bundle_files,
    read_head,
    split_content,
)

RASTER = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".webp": "webp"}
MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}
VARIANTS = "variants-4"  # how variants are made: part of their keys
OUTSIDE = "_files"  # where files from outside the article's folder are published, beside its page
MAX_PIXELS = 60_000_000  # a bigger image is an error (a decompression bomb, or a scan at full size)
LARGE_PIXELS = 12_000_000  # an image this large is decoded by one worker at a time: memory bounds it
HOST_FILES = frozenset({"_headers"})  # files of content/'s root published though their name starts with _
_IMG = re.compile(r"<img\b[^>]*>")
_IMAGE = re.compile(r"<p>(<img\b[^>]*>)</p>|<img\b[^>]*>")  # alone in its paragraph, or not
_ATTR = re.compile(r'([a-zA-Z-]+)="([^"]*)"')
_LINK = re.compile(r'(<a\b[^>]*\bhref=")([^"]*)(")')
_ADDRESS = re.compile(r'(<(?:a|img)\b[^>]*\b(?:href|src)=")([^"]*)(")')


@dataclass(frozen=True, slots=True)
class Facts:
    """What the media stage needs of a content file: a hash of its bytes, and an image's size."""

    key: str
    format: str = ""  # "jpeg", "png" or "webp" for a raster image; "" for a file published as it is
    width: int = 0  # as shown, after its EXIF orientation
    height: int = 0
    problem: str = ""  # why it cannot be used


Prober = Callable[[Sequence[Path]], Mapping[Path, Facts]]


def probe_files(paths: Sequence[Path]) -> dict[Path, Facts]:
    """The `Facts` of each file (the build cache wraps this: see `cache.probe_through`)."""
    return {path: probe(path) for path in paths}


def probe(path: Path) -> Facts:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Facts("", problem=f"cannot be read ({exc.strerror or exc})")
    key = hashlib.blake2b(data, digest_size=16).hexdigest()
    if path.suffix.lower() not in RASTER:
        return Facts(key)
    found = inspect(data)
    if isinstance(found, str):
        return Facts(key, problem=found)
    fmt, width, height = found
    if fmt != RASTER[path.suffix.lower()] and {fmt, RASTER[path.suffix.lower()]} != {"jpeg"}:
        return Facts(key, problem=f"is a {fmt.upper()} image under a {path.suffix} name: rename it")
    return Facts(key, fmt, width, height)


def inspect(data: bytes) -> tuple[str, int, int] | str:
    """("jpeg" | "png" | "webp", width, height as shown) of an image that decodes whole, or what is
    wrong with it, in words for the editor. `digest check`, `digest build` and `digest import` all
    ask this, so an image one of them takes, the others take too.

    Its size is read before any pixel: more than `MAX_PIXELS` is refused unread (a decompression
    bomb). Then it is decoded, at an eighth of its size for a JPEG (every byte of it is still read),
    so that a file cut short or damaged is found here, not while its variants are made."""
    from PIL import Image, UnidentifiedImageError

    try:
        with _open(io.BytesIO(data)) as image:
            fmt, (width, height) = (image.format or "").lower(), image.size
            if fmt not in MIME or fmt == "avif":
                return f"is a {fmt.upper() or 'kind of'} image, not a JPEG, PNG or WebP one"
            if width * height > MAX_PIXELS:
                return (
                    f"has {width:,} x {height:,} pixels, more than the limit of {MAX_PIXELS:,}: scale it down"
                )
            turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
            if fmt == "jpeg":
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except UnidentifiedImageError:
        return "is not an image: its bytes are not those of a JPEG, PNG or WebP file"
    except Image.DecompressionBombError:
        return f"has more pixels than the limit of {MAX_PIXELS:,}: scale it down"
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        return f"is cut short or damaged: it cannot be decoded whole ({_pillow_words(exc)})"
    return (fmt, height, width) if turned else (fmt, width, height)


def raster_format(data: bytes) -> str | None:
    """ "jpeg", "png" or "webp" if `data` is such an image that can be read whole; else None."""
    found = inspect(data)
    return None if isinstance(found, str) else found[0]


def _open(source: Any) -> Any:
    """`Image.open`, with Pillow's own pixel limit left to `inspect`, which refuses an image above
    `MAX_PIXELS` in the project's words before decoding it."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # checked against MAX_PIXELS before any pixel is decoded
    return Image.open(source)


def _pillow_words(exc: BaseException) -> str:
    """Pillow's reason without the Python object it may name (`<_io.BytesIO object at 0x...>`)."""
    words = re.sub(r"\s*<[^>]*object at 0x[0-9a-f]+>", "", str(exc)).strip(" :")
    return words or type(exc).__name__


def local_path(address: str) -> str | None:
    """The file an address in an article names, relative to the article's folder; None for a URL,
    a path from the site's root, or a fragment."""
    if not address or address.startswith(("#", "/", "?", "\\")):
        return None
    first = address.split("/", 1)[0]
    if ":" in first:  # a scheme: https:, mailto:, data:
        return None
    path = unquote(address.split("#", 1)[0].split("?", 1)[0])
    return path or None


def references(article: Article) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The local addresses `article` uses, as written: its lead image and its text's images (which
    must be there), then its text's links (a file among them is published; others are pages)."""
    images = [article.image]
    body = article.body_html
    if "<img" in body:
        images += [_attrs(tag).get("src", "") for tag in _IMG.findall(body)]
    links = [html.unescape(m.group(2)) for m in _LINK.finditer(body)] if "href=" in body else []
    return (
        tuple(dict.fromkeys(a for a in images if _in_site(a))),
        tuple(dict.fromkeys(a for a in links if _in_site(a))),
    )


def _in_site(address: str) -> bool:
    """Whether `address` names something of this site: a file beside the article, a path from the
    site's root, or a source path (`refs`)."""
    return bool(local_path(address)) or (address.startswith("/") and not address.startswith("//"))


def _beside(address: str) -> bool:
    """Whether `address` names a file relative to the article's own (not a source path: `refs`)."""
    return bool(local_path(address)) and not address.startswith(shortcodes.REF)


def attach(
    site: Site, probe: Prober = probe_files, published: Iterable[str] = ()
) -> tuple[Site, list[SiteError], list[SiteError]]:
    """`site` with the media of every article that has a page; the errors (a missing or unreadable
    file, a reference to nothing) and warnings (a local image without alt text), each at its file
    and line. `published` are the paths of the files published at their own path (the content
    folder's other files, the theme's), which addresses from the site's root may name (`refs`)."""
    content_dir = site.config.content_dir.resolve()
    index = refs.Index.of(site, published)
    uses: dict[str, list[tuple[str, Path]]] = {}
    linked: dict[str, dict[str, str]] = {}
    errors: list[SiteError] = []
    warnings: list[SiteError] = []
    written = site.articles  # a lead image found in the bundle (not written) needs no alt text
    covered = {i: with_bundle_cover(written[i]) for i in site.urls}
    if any(covered[i] is not written[i] for i in covered):
        site = replace(site, articles={**written, **covered})
    for article_id in site.urls:
        article = site.articles[article_id]
        missing: list[SiteError] = []
        uses[article_id] = _files_used(article, content_dir, missing, warnings)
        linked[article_id] = _references_found(article, index, site.urls[article_id], errors)
        linked[article_id].update(_from_page_url(missing, index, article, site.urls[article_id], errors))
        warnings += _missing_alt(written[article_id])
    facts = probe(sorted({target for found in uses.values() for _, target in found}))
    media = {}
    for article_id, found in uses.items():
        made = _media(site, site.articles[article_id], found, facts, content_dir, errors) if found else None
        if linked[article_id]:
            made = made or Media(folder=posixpath.dirname(output_file_for(site.urls[article_id])))
            made = replace(made, urls={**linked[article_id], **made.urls})
        if made is not None:
            media[article_id] = made
    return replace(site, media=media), errors, warnings


_COVERS = (("*feature*",), ("*cover*", "*thumbnail*"))  # as Hugo's templates choose, in this order
_RASTER = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif")


def with_bundle_cover(article: Article) -> Article:
    """`article` with its page bundle's `featured*` image (else a `cover*` or `thumbnail*` one) as
    its lead image when it names none, as Hugo's Open Graph template finds it."""
    path = article.source_location.path
    if article.image or path.stem != "index":
        return article
    try:  # one look at the bundle's own folder: a cover is never in a subfolder
        listed = sorted(os.listdir(path.parent))
    except OSError:
        return article
    if any(n.endswith(ARTICLE_SUFFIXES) and n != path.name for n in listed):
        return article  # a folder of articles (a section), not a bundle
    names = [
        n
        for n in listed
        if n.lower().endswith(_RASTER)
        and not n.startswith((".", "_"))
        and not os.path.islink(path.parent / n)
    ]
    for patterns in _COVERS:
        chosen = [n for n in names if any(fnmatch.fnmatchcase(n.lower(), p) for p in patterns)]
        if chosen:
            return replace(article, image=chosen[0])  # the first by name
    return article


def _from_page_url(
    missing: list[SiteError], index: refs.Index, article: Article, page_url: str, errors: list[SiteError]
) -> dict[str, str]:
    """The relative addresses that name no file from the article's file but do from its page's URL,
    as the old generator read them (Jekyll leaves relative links to the browser: `../../img/x.png`
    from `/tutorials/setup/`), each as the link from the page; the errors of the others."""
    found: dict[str, str] = {}
    for error in missing:
        address = error.address if isinstance(error, MediaError) else ""
        from_url = posixpath.normpath(
            posixpath.join("/" + posixpath.dirname(output_file_for(page_url)), address)
        )
        target = index.find(from_url, article.id, True) if address and not from_url.startswith("//") else None
        if target:
            found[address] = refs.relative(target, page_url)
        else:
            errors.append(error)
    return found


def _references_found(
    article: Article, index: refs.Index, page_url: str, errors: list[SiteError]
) -> dict[str, str]:
    """Each address of `article` that names another article or a file by its source path or from
    the site's root, as the link from its page (`refs`); an error for each that names nothing."""
    found: dict[str, str] = {}
    images, links = references(article)
    for address, image in (*((a, True) for a in images), *((a, False) for a in links)):
        if _beside(address) and not refs.names_source(address):
            continue  # a file beside the article: `_files_used`
        target = index.find(address, article.id, image)
        if target:
            found[address] = refs.relative(target, page_url)
        elif target is None:
            where = _location(article, address)
            if not where.line:  # written as a tag (`{% post_url name %}`): its name is on the line
                where = _location(article, PurePosixPath(address.split("#")[0].lstrip(shortcodes.REF)).name)
            hint = (
                "name an article by its file (@/folder/post.md) or a file of the content folder; "
                "a draft or future article cannot be linked until it is published"
            )
            what = "image" if image else "link"
            errors.append(
                MediaError(f"the {what} '{address}' names nothing in the site", where, hint, address)
            )
    return found


def _files_used(
    article: Article, content_dir: Path, errors: list[SiteError], warnings: list[SiteError]
) -> list[tuple[str, Path]]:
    """The files `article` uses, each with the address it gives it: its images (an error where one is
    missing), the files its links lead to, and the files of its page bundle."""
    folder = article.source_location.path.parent
    found: list[tuple[str, Path]] = []
    images, links = references(article)
    images = tuple(a for a in images if _beside(a))
    links = tuple(a for a in links if _beside(a))
    for address in images:
        target = Path(os.path.normpath(folder / (local_path(address) or "")))
        where = _location(article, address)
        if not _inside(target, content_dir):
            hint = "keep the files an article uses in the content folder"
            errors.append(MediaError(f"'{address}' is outside the content folder", where, hint, address))
        elif not target.is_file():
            hint = "check the file's name and folder (it is read relative to the article's file)"
            errors.append(MediaError(f"'{address}' is missing", where, hint, address))
        else:
            found.append((address, target))
    for address in links:  # a link to a file (a document) publishes it; other links are checked as links
        target = Path(os.path.normpath(folder / (local_path(address) or "")))
        if not address.endswith(ARTICLE_SUFFIXES) and _inside(target, content_dir) and target.is_file():
            found.append((address, target))
    if article.source_location.path.stem == "index":
        named = dict(found)
        for name in bundle_files(folder):
            if name in named:
                continue
            if _inside(folder / name, content_dir):
                found.append((name, folder / name))
            else:
                hint = "a link that leads outside the content folder is never published"
                warnings.append(SiteWarning(f"'{name}' is left out", SourceLocation(folder / name), hint))
    return found


def _media(
    site: Site,
    article: Article,
    found: list[tuple[str, Path]],
    facts: Mapping[Path, Facts],
    content_dir: Path,
    errors: list[SiteError],
) -> Media:
    """The `Media` of `article`: where each file it uses is published, beside its page."""
    page_dir = PurePosixPath(output_file_for(site.urls[article.id])).parent
    pictures: dict[str, Picture] = {}
    files: dict[str, StaticFile] = {}
    urls: dict[str, str] = {}
    for address, target in found:
        fact = facts[target]
        if fact.problem:
            errors.append(
                MediaError(f"'{address}' {fact.problem}", _location(article, address), None, address)
            )
            continue
        published = _published(target, article.source_location.path.parent, content_dir)
        path = (page_dir / published).as_posix()
        if not is_safe_text_path(path):
            hint = "a file or folder name must not start with a dot"
            errors.append(
                MediaError(f"'{address}' cannot be published", _location(article, address), hint, address)
            )
            continue
        urls[address] = quote(published)
        if fact.format:
            pictures[address] = picture(path, fact, site.config.images, target)
        else:
            files[address] = StaticFile(PurePosixPath(path), target)
    folder = "" if page_dir == PurePosixPath(".") else page_dir.as_posix()
    return Media(pictures, files, urls, folder)


def _inside(target: Path, content_dir: Path) -> bool:
    """Whether `target` is in the (resolved) content folder, links followed: nothing outside it is
    ever published."""
    return target.resolve().is_relative_to(content_dir)


def _published(target: Path, folder: Path, content_dir: Path) -> str:
    """Where a file is published, relative to the page of the article in `folder` that uses it."""
    inside = os.path.relpath(target, folder)
    if not inside.startswith(".."):
        return PurePosixPath(Path(inside)).as_posix()
    return f"{OUTSIDE}/{PurePosixPath(target.relative_to(content_dir)).as_posix()}"


def picture(path: str, fact: Facts, settings: ImageSettings, source: Path) -> Picture:
    """The variants of an image of `fact`'s size: the configured widths below its own (never
    enlarged), the largest last; its own format first."""
    largest = min(fact.width, max(settings.widths))
    widths = (*(w for w in settings.widths if w < largest), largest)
    height = max(1, round(fact.height * largest / fact.width))
    formats = (fact.format, *(f for f in settings.formats if f != fact.format))
    key = stable_hash(VARIANTS, fact.key, repr(widths), repr(formats), str(settings.quality))
    return Picture(path, largest, height, widths, formats, source, key)


def variant_keys(picture: Picture) -> dict[str, str]:
    """The key of each variant's file, by output path."""
    return {path: stable_hash(picture.key, str(w), f) for path, w, f in picture.variants()}


def make_variants(picture: Picture, quality: int) -> dict[str, bytes]:
    """Every variant of `picture` as file bytes, by output path: turned upright, resized, and saved
    without EXIF or XMP metadata (the colour profile is kept).

    A large photo is held once: turned in place, a JPEG decoded at the smallest scale that still
    covers the largest variant (`draft`), and the full-size pixels let go after the first resize."""
    from PIL import Image, ImageOps

    if picture.card is not None:
        from generator.build import cards

        return {picture.path: cards.draw(picture.card)}
    made: dict[str, bytes] = {}
    with _open(picture.source) as opened, contextlib.ExitStack() as large:
        profile = opened.info.get("icc_profile")
        if opened.format == "JPEG":
            turned = opened.getexif().get(0x0112, 1) in (5, 6, 7, 8)
            shown = (picture.height, picture.width) if turned else (picture.width, picture.height)
            opened.draft(opened.mode, shown)
        if opened.width * opened.height > LARGE_PIXELS and _ONE_LARGE is not None:
            large.enter_context(_ONE_LARGE)  # held until the full-size pixels are let go
        ImageOps.exif_transpose(opened, in_place=True)  # no copy of the pixels
        image = opened
        if image.mode in ("P", "1"):  # Pillow resizes these with the nearest pixel only: jagged
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        full_width, full_height = image.size
        for width in reversed(picture.widths):  # each from the next larger one: a third of the work
            height = max(1, round(full_height * width / full_width))
            if width != image.width:
                image = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
                if image is not opened:
                    opened.close()
                    large.close()
            for fmt in picture.formats:
                out = io.BytesIO()
                _save(image, out, fmt, quality, profile)
                made[picture.variant(width, fmt)] = out.getvalue()
    return made


def _save(image: Any, out: io.BytesIO, fmt: str, quality: int, profile: bytes | None) -> None:
    from PIL import Image

    options: dict[str, Any] = {"icc_profile": profile} if profile else {}
    if fmt == "jpeg":
        if image.mode not in ("RGB", "L"):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = flat
        image.save(out, "JPEG", quality=quality, progressive=True, optimize=True, **options)
    elif fmt == "png":
        image.save(out, "PNG", **options)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=quality, method=2, **options)  # as small as 4, three times faster
    else:
        image.save(out, "AVIF", quality=quality, speed=8, **options)


# The variants of each picture, by output path: their bytes, or a file that holds them (`digest serve`).
Maker = Callable[[Sequence[Picture], int], Iterator[Mapping[str, "bytes | Path"]]]


_ONE_LARGE: Any = None  # a lock the workers share: one of them at a time holds a large image whole


def make_all(pictures: Sequence[Picture], quality: int) -> Iterator[dict[str, bytes]]:
    """The variants of each of `pictures`, in order (on all cores for two or more); the build cache
    wraps this (`incremental.picture_maker`). The workers decode images above `LARGE_PIXELS` one at
    a time, so that peak memory grows with the largest image, not with the number of workers."""
    global _ONE_LARGE
    from generator.base import parallel

    if _ONE_LARGE is None and parallel.can_fork():
        import multiprocessing

        _ONE_LARGE = multiprocessing.get_context("fork").Lock()  # made before the workers fork
    broken: list[SiteError] = []
    batches = _batches(pictures)
    # Two photos are worth the workers' start (a second or more each); cards only past a few dozen.
    least = 2 if any(p.card is None for p in pictures) else 4
    made = (made for chunk in parallel.map_chunks(_make_chunk, batches, 1, state=quality, min_items=least)
            for made in chunk)  # fmt: skip
    for picture, variants in zip(pictures, made, strict=True):
        if isinstance(variants, str):  # changed since it was probed, or damaged past its first bytes
            broken.append(MediaError(f"'{picture.source.name}' {variants}", SourceLocation(picture.source)))
        else:
            yield variants
    if broken:
        raise BuildFailed(broken)


def unmade(pictures: Sequence[Picture], quality: int) -> Iterator[dict[str, bytes]]:
    """A `Maker` for `digest check`: each variant named, empty; nothing is made or read."""
    for picture in pictures:
        yield {path: b"" for path, _, _ in picture.variants()}


def _batches(pictures: Sequence[Picture], cards: int = 16) -> list[Sequence[Picture]]:
    """`pictures` in the batches a worker takes at a time: a photo alone (a second or more of
    work), social cards by `cards` (a few milliseconds each)."""
    batches: list[Sequence[Picture]] = []
    drawn: list[Picture] = []
    for picture in pictures:
        if picture.card is not None and len(drawn) < cards:
            drawn.append(picture)
            continue
        if drawn:
            batches.append(drawn)
            drawn = []
        if picture.card is not None:
            drawn.append(picture)
        else:
            batches.append((picture,))
    return [*batches, drawn] if drawn else batches


def _make_chunk(quality: int, batches: Sequence[Sequence[Picture]]) -> list[dict[str, bytes] | str]:
    """The variants of each picture, or what is wrong with it (a str: it crosses from a worker)."""
    made: list[dict[str, bytes] | str] = []
    for picture in (p for batch in batches for p in batch):
        try:
            made.append(make_variants(picture, quality))
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            made.append(f"is cut short or damaged: it cannot be decoded whole ({_pillow_words(exc)})")
    return made


# Pages -----------------------------------------------------------------------------------------


def responsive_body(body_html: str, media: Media, sizes: str) -> str:
    """The article's HTML with each local image as a responsive picture (a figure with its title as
    caption when it stands alone in its paragraph), and each local address as it is published."""
    if not media.urls:
        return body_html

    def image(match: re.Match[str]) -> str:
        alone, tag = match.group(1) is not None, match.group(1) or match.group(0)
        attrs = _attrs(tag)
        address = attrs.get("src", "")
        found = media.pictures.get(address)
        if found is None:
            if address not in media.urls:
                return match.group(0)
            return match.group(0).replace(f'src="{html.escape(address)}"', f'src="{media.urls[address]}"')
        view = picture_view(found, media.folder, attrs.get("alt", ""), sizes, lazy=True)
        title = attrs.get("title", "")
        if alone and title:  # a figure, its title the caption
            caption = html.escape(title, quote=False)
            return f"<figure>{_picture_html(view)}<figcaption>{caption}</figcaption></figure>"
        view["title"] = title
        return match.group(0).replace(tag, _picture_html(view))

    def link(match: re.Match[str]) -> str:
        address = html.unescape(match.group(2))
        url = media.urls.get(address)
        return f"{match.group(1)}{html.escape(url)}{match.group(3)}" if url else match.group(0)

    return _LINK.sub(link, _IMAGE.sub(image, body_html))


def absolute_media(body_html: str, media: Media, page_url: str) -> str:
    """The article's HTML with each local address (of an image or file) absolute, from the address
    of its page: for feeds, which readers show away from the site."""
    if not media.urls:
        return body_html

    def absolute(match: re.Match[str]) -> str:
        address = html.unescape(match.group(2))
        url = media.urls.get(address)
        return (
            f"{match.group(1)}{html.escape(urljoin(page_url, url))}{match.group(3)}"
            if url
            else match.group(0)
        )

    return _ADDRESS.sub(absolute, body_html)


def feed_html(site: Site, article: Article) -> str:
    """The article's HTML for feeds (and newsletters): its images and files at their absolute
    addresses, its embeds as the plain links they were."""
    found = site.media.get(article.id)
    body = embeds.as_links(article.body_html)
    if found is None or not found.urls:
        return body
    return absolute_media(body, found, absolute(site.config.base_url, site.urls[article.id]))


def picture_view(
    found: Picture, base: str, alt: str, sizes: str, lazy: bool, caption: str = "", credit: str = ""
) -> dict[str, Any]:
    """What a template needs to show `found`: its variants' URLs (relative to the output folder
    `base`: the page's own for its text, "" for paths from the site's root) and widths, by format,
    its size, and its texts."""

    def url(path: str) -> str:
        return quote(path[len(base) + 1 :] if base else path)

    def candidates(fmt: str) -> list[dict[str, Any]]:
        return [{"url": url(found.variant(w, fmt)), "width": w} for w in found.widths]

    own = found.formats[0]
    middle = min(found.widths, key=lambda w: abs(w - 800))
    return {
        "src": url(found.variant(middle, own)),
        "srcset": candidates(own),
        "sources": [{"type": MIME[f], "srcset": candidates(f)} for f in found.formats[1:]],
        "sizes": sizes,
        "width": found.width,
        "height": found.height,
        "alt": alt,
        "title": "",
        "caption": caption,
        "credit": credit,
        "lazy": lazy,
    }


def share_image(found: Picture) -> tuple[str, int, int]:
    """The variant link previews show (`og:image`): the one closest to 1200 pixels wide, in the
    image's own format; its path, width and height."""
    width = min(found.widths, key=lambda w: (abs(w - 1200), -w))
    return found.variant(width, found.formats[0]), width, max(1, round(found.height * width / found.width))


def _picture_html(view: Mapping[str, Any]) -> str:
    """The markup of a `picture_view`, as the default theme's `picture` macro writes it."""

    def srcset(candidates: Iterable[Mapping[str, Any]]) -> str:
        return html.escape(", ".join(f"{c['url']} {c['width']}w" for c in candidates))

    sizes = html.escape(view["sizes"])
    sources = "".join(
        f'<source type="{s["type"]}" srcset="{srcset(s["srcset"])}" sizes="{sizes}">' for s in view["sources"]
    )
    title = f' title="{html.escape(view["title"])}"' if view.get("title") else ""
    lazy = ' loading="lazy"' if view["lazy"] else ""
    return (
        f'<picture>{sources}<img src="{html.escape(view["src"])}" srcset="{srcset(view["srcset"])}"'
        f' sizes="{sizes}" width="{view["width"]}" height="{view["height"]}"'
        f' alt="{html.escape(view["alt"])}"{title}{lazy} decoding="async"></picture>'
    )


def _attrs(tag: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _ATTR.findall(tag)}


def _missing_alt(article: Article) -> list[SiteError]:
    """A warning for each local image of the article's text without alt text, and for a local lead
    image without `image_alt`."""
    found: list[SiteError] = []
    hint = "describe the image for readers who cannot see it: ![what it shows](file)"
    if local_path(article.image) and not str(article.extra.get("image_alt") or "").strip():
        where = _location(article, article.image)
        found.append(
            SiteWarning(
                f"the lead image '{article.image}' has no alt text", where, "add 'image_alt: what it shows'"
            )
        )
    if "<img" in article.body_html:
        for tag in _IMG.findall(article.body_html):
            attrs = _attrs(tag)
            src = attrs.get("src", "")
            if local_path(src) and not attrs.get("alt", "").strip():
                where = _location(article, src, empty_alt=True)
                found.append(SiteWarning(f"the image '{src}' has no alt text", where, hint))
    return found


def _location(article: Article, address: str, empty_alt: bool = False) -> SourceLocation:
    """The file of `article` and the first line that names `address` (the lead image's `image:`;
    with `empty_alt`, the first Markdown image of it without alt text, if one is found)."""
    path = article.source_location.path
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return SourceLocation(path)
    if address == article.image:
        for number, line in enumerate(lines, 1):
            if re.match(r"\s*image\s*:", line):
                return SourceLocation(path, number)
    if empty_alt:
        bare = re.compile(r"!\[\s*\]\(\s*<?(" + re.escape(address) + "|" + re.escape(quote(address)) + ")")
        for number, line in enumerate(lines, 1):
            if bare.search(line):
                return SourceLocation(path, number)
    for number, line in enumerate(lines, 1):
        if address in line or quote(address) in line:
            return SourceLocation(path, number)
    return SourceLocation(path)


def pictures_of(site: Site) -> Iterable[Picture]:
    """Every picture the site publishes, each once."""
    seen: set[str] = set()
    for media in site.media.values():
        for found in media.pictures.values():
            if found.path not in seen:
                seen.add(found.path)
                yield found


def files_of(site: Site) -> list[StaticFile]:
    """Every file the site publishes as it is, each once."""
    found: dict[str, StaticFile] = {}
    for media in site.media.values():
        for item in media.files.values():
            found.setdefault(str(item.path), item)
    return list(found.values())


# Article sources in the markups other generators read (Pelican, Hugo, Jekyll plugins), by suffix.
_OTHER_MARKUP = {
    ".rst": "reStructuredText", ".org": "Org mode", ".adoc": "AsciiDoc", ".asciidoc": "AsciiDoc",
    ".textile": "Textile", ".ipynb": "a Jupyter notebook", ".pandoc": "Pandoc Markdown",
}  # fmt: skip
_TEMPLATE_SUFFIXES = (".html", ".htm", ".xml", ".json", ".txt", ".css", ".js")


def content_files(config: Config) -> tuple[list[StaticFile], list[SiteError]]:
    """Every file under the content folder that is not an article, to be published at its own path,
    as Jekyll publishes a site's files, so that links from the site's root (`/static/images/x.png`)
    resolve; and a warning for each file left out. Left out without a word: files and folders whose
    name starts with `_` (Jekyll's own: `_config.yml`, `_layouts/`) and the files of page bundles
    (published beside their page). Left out with a warning: a text file that starts with front
    matter (a template of the generator it came from, which newsdigest does not run), an article in
    another markup (`.rst`, `.org`, `.adoc`...), and a link to a file outside the content folder."""
    content = config.content_dir
    if not content.is_dir():
        return [], []
    real = os.path.realpath(content)
    others: list[str] = []
    articles = split_content(content, real, others=others)
    bundles = {os.path.dirname(p) for p in articles if os.path.basename(p).rsplit(".", 1)[0] == "index"}
    found: list[StaticFile] = []
    warnings: list[SiteError] = []
    for path in others:
        relative = PurePosixPath(Path(path).relative_to(content).as_posix())
        folders = [os.path.join(str(content), *relative.parts[:i]) for i in range(1, len(relative.parts))]
        if relative.as_posix() in HOST_FILES:
            pass  # a host's own settings, published at the root (and said, see `plan._security`)
        elif any(part.startswith("_") for part in relative.parts) or any(f in bundles for f in folders):
            continue
        if not os.path.realpath(path).startswith(real + os.sep):
            hint = "a link that leads outside the content folder is never published"
            warnings.append(SiteWarning(f"'{relative}' is left out", SourceLocation(Path(path)), hint))
            continue
        markup = _OTHER_MARKUP.get(relative.suffix.lower())
        if markup:  # an article the old generator read, in a markup newsdigest does not: never raw
            warnings.append(
                SiteWarning(
                    f"'{relative}' is left out: it is written in {markup}, which newsdigest does not read",
                    SourceLocation(Path(path)),
                    "convert it to Markdown (for example with pandoc: pandoc -t gfm) to publish it",
                )
            )
            continue
        if relative.suffix.lower() in _TEMPLATE_SUFFIXES and _starts_with_front_matter(path):
            hint = "make it an article (a .md file) or remove its front matter to publish it as it is"
            if relative.suffix.lower() in HTML_SUFFIXES:
                hint = "to make it a page, give it a title and replace its template code with HTML"
            warnings.append(
                SiteWarning(
                    f"'{relative}' is left out: it starts with front matter, a template of the site's "
                    "old generator, which is never run",
                    SourceLocation(Path(path), 1),
                    hint,
                )
            )
            continue
        if is_safe_text_path(str(relative)):
            found.append(StaticFile(relative, Path(path)))
    return found, warnings


def _starts_with_front_matter(path: str) -> bool:
    head = read_head(path, 64)
    return head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").startswith((b"---", b"+++"))
