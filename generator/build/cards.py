"""Social cards: the picture a link preview shows (`og:image`) for an article without a lead image.

A card is 1200 by 630 pixels: the site's name, the article's collection, its
headline and its date, in the article's language, drawn with Pillow from the
theme's `card/card.yaml` (its size, background, bands of colour, and a box,
font, size and colour for each text) and the fonts beside it. A site replaces
the template with `overrides/card/card.yaml`, a theme with its own `card/`
folder; `social_cards: false` in `config.yaml` draws none. A theme chain
without a template draws none either.

A card is a `Picture` whose `card` says what it shows: the media stage makes
and keys it like an image's variants (made on every core, made again only
when its texts, its template, its fonts or Pillow change; not kept in the
build cache, where a file each would cost more than drawing it). The same
texts always give the same bytes.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from generator.base import yamlutil
from generator.base.errors import BuildFailed, ConfigError, SiteError, SourceLocation
from generator.base.hashing import file_hash, stable_hash
from generator.base.model import Article, Card, CardTemplate, CardText, Config, Picture, Site
from generator.base.urls import card_file_for, is_safe_text_path
from generator.build import languages
from generator.build.theme import Theme, load_yaml

CARDS = "cards-1"  # how cards are drawn: part of their keys
TEMPLATE = "card.yaml"  # in a theme's `card/` folder
FIELDS = ("site", "collection", "title", "date")
_TEXT_KEYS = frozenset({"show", "font", "size", "min_size", "line_height", "colour", "box", "upper"})
_SPACES = re.compile(r"[ \t\r\n]+")
_KEYS = frozenset({"width", "height", "background", "bands", "texts"})


def find_template(theme: Theme) -> CardTemplate | None:
    """The card template of `theme` (the site's overrides first, then the theme chain), None if it
    has none; raises `BuildFailed` with every mistake in it, at its line."""
    folders = theme.card_dirs
    source = next((f / TEMPLATE for f in folders if (f / TEMPLATE).is_file()), None)
    if source is None:
        return None
    data = load_yaml(source)
    errors: list[SiteError] = []

    @functools.cache
    def key_lines() -> dict[tuple[str, ...], int]:  # the pure composer's work: for mistakes only
        return yamlutil.key_lines(source.read_text(encoding="utf-8"))

    def error(message: str, path: tuple[str, ...], hint: str = "") -> None:
        lines = key_lines()
        line = next((lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in lines), 1)
        errors.append(ConfigError(message, SourceLocation(source, line), hint or None))

    template = _read(data, source, folders, error)
    if errors or template is None:
        raise BuildFailed(
            errors or [ConfigError("the social card template is empty", SourceLocation(source))]
        )
    return template


def _read(data: Any, source: Path, folders: list[Path], error: Any) -> CardTemplate | None:
    if not isinstance(data, dict):
        error("the social card template must be a mapping (width, height, background, bands, texts)", ())
        return None
    for key in sorted(set(data) - _KEYS, key=str):
        error(
            f"unknown key '{key}' in the social card template",
            (str(key),),
            f"known: {', '.join(sorted(_KEYS))}",
        )
    width, height = (
        _number(data, k, 1200 if k == "width" else 630, error, (k,)) for k in ("width", "height")
    )
    if not (200 <= width <= 4000 and 100 <= height <= 4000):
        error(f"a card of {width}x{height} pixels is out of bounds", ("width",), "link previews use 1200x630")
    background = _colour(data.get("background", "#ffffff"), error, ("background",))
    bands = []
    for n, band in enumerate(_items(data, "bands", error)):
        where = ("bands", str(n))
        if isinstance(band, dict):
            bands.append(
                (_box(band.get("box"), error, (*where, "box")), _colour(band.get("colour"), error, where))
            )
        else:
            error("a band is {box: [left, top, width, height], colour: ...}", where)
    texts = [
        text
        for n, item in enumerate(_items(data, "texts", error))
        if (text := _text(item, folders, error, n))
    ]
    fonts = sorted({t.font for t in texts})
    shades = len({t.colour for t in texts}) * (LEVELS - 1) + len({colour for _, colour in bands}) + 1
    if shades > 256:
        error("a card has at most 16 text colours and bands of a few more", ("texts",))
    shape = json.dumps([width, height, background, bands, [_plain(t) for t in texts]], ensure_ascii=False)
    key = stable_hash(CARDS, _pillow_version(), shape, *(file_hash(f) for f in fonts))
    return CardTemplate(source, width, height, background, tuple(bands), tuple(texts), key)


def _plain(text: CardText) -> list[Any]:
    return [
        text.field,
        text.font.name,
        text.size,
        text.min_size,
        text.line_height,
        text.colour,
        text.box,
        text.upper,
    ]


def _items(data: Mapping[str, Any], key: str, error: Any) -> list[Any]:
    items = data.get(key) or []
    if not isinstance(items, list):
        error(f"'{key}' must be a list", (key,))
        return []
    return items


def _text(item: Any, folders: list[Path], error: Any, n: int) -> CardText | None:
    where = ("texts", str(n))
    if not isinstance(item, dict):
        error("a text is {show: title, font: NAME.ttf, size: 64, colour: ..., box: [...]}", where)
        return None
    for key in sorted(set(item) - _TEXT_KEYS, key=str):
        error(f"unknown key '{key}' in a text", (*where, str(key)), f"known: {', '.join(sorted(_TEXT_KEYS))}")
    field = item.get("show")
    if field not in FIELDS:
        error(f"a text shows one of {', '.join(FIELDS)}, not {field!r}", (*where, "show"))
    font = _font(item.get("font"), folders, error, (*where, "font"))
    size = _number(item, "size", 32, error, (*where, "size"))
    min_size = _number(item, "min_size", size, error, (*where, "min_size"))
    line_height = item.get("line_height", 1.2)
    if (
        not isinstance(line_height, (int, float))
        or isinstance(line_height, bool)
        or not 0.8 <= line_height <= 3
    ):
        error(f"'line_height' is a number from 0.8 to 3, not {line_height!r}", (*where, "line_height"))
        line_height = 1.2
    if not 6 <= min_size <= size <= 400:
        error(f"sizes must be 6 <= min_size <= size <= 400, not {min_size} and {size}", (*where, "size"))
    colour = _colour(item.get("colour", "#000000"), error, (*where, "colour"))
    box = _box(item.get("box"), error, (*where, "box"))
    upper = item.get("upper", False) is True
    if font is None or field not in FIELDS:
        return None
    return CardText(str(field), font, size, min_size, float(line_height), colour, box, upper)


def _number(data: Mapping[str, Any], key: str, default: int, error: Any, where: tuple[str, ...]) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        error(f"'{key}' must be a whole number of pixels, not {value!r}", where)
        return default
    return value


def _box(value: Any, error: Any, where: tuple[str, ...]) -> tuple[int, int, int, int]:
    if not (
        isinstance(value, list) and len(value) == 4 and all(isinstance(v, int) and v >= 0 for v in value)
    ):
        error(f"a box is [left, top, width, height] in whole pixels, not {value!r}", where)
        return (0, 0, 1, 1)
    return (value[0], value[1], value[2], value[3])


def _colour(value: Any, error: Any, where: tuple[str, ...]) -> str:
    from PIL import ImageColor

    try:
        ImageColor.getrgb(str(value))
    except ValueError:
        error(f"{value!r} is not a colour", where, 'for example "#a3122a" or "rgb(163, 18, 42)"')
        return "#000000"
    return str(value)


def _font(name: Any, folders: list[Path], error: Any, where: tuple[str, ...]) -> Path | None:
    from PIL import ImageFont

    if not isinstance(name, str) or not is_safe_text_path(name):
        error(f"'font' names a font file beside card.yaml or in its fonts/ folder, not {name!r}", where)
        return None
    for folder in folders:
        for path in (folder / "fonts" / name, folder / name):
            if path.is_file():
                try:
                    ImageFont.truetype(str(path), 12)
                except OSError as exc:
                    error(
                        f"the font '{name}' cannot be read: {exc}", where, "use a TrueType or OpenType file"
                    )
                    return None
                return path
    error(f"no font '{name}' beside card.yaml or in its fonts/ folder", where)
    return None


@functools.lru_cache(maxsize=1)
def _pillow_version() -> str:
    import PIL

    return str(PIL.__version__)


# Which articles get one, and what it shows --------------------------------------------------------


def with_template(site: Site, template: CardTemplate | None) -> Site:
    """`site` with the size of `template`'s cards, or with `social_cards` off if there is none."""
    config = site.config
    if template is None:
        return replace(site, config=replace(config, social_cards=False)) if config.social_cards else site
    size = (template.width, template.height)
    return site if config.card_size == size else replace(site, config=replace(config, card_size=size))


def wants_card(article: Article, config: Config) -> bool:
    """True for an article that gets a card: one without a lead image, in a language written left to
    right, its headline too (the basic layout does not shape right-to-left text)."""
    ltr = languages.direction(article.lang or config.language) == "ltr" and not _right_to_left(article.title)
    return config.social_cards and not article.image and ltr


def _right_to_left(text: str) -> bool:
    """Whether `text` has letters of a script written right to left (a Persian headline in a site
    whose articles say no language of their own)."""
    import unicodedata

    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def card_pictures(site: Site, template: CardTemplate, ids: Iterable[str]) -> Iterator[Picture]:
    """A card for each article of `ids` (those with a page) that has no lead image."""
    config = site.config
    tz = ZoneInfo(config.timezone)
    by_language: dict[str, tuple[str, dict[str, str]]] = {}
    for article_id in ids:
        article = site.articles[article_id]
        if not wants_card(article, config):
            continue
        code = config.home_of(article.lang) if config.languages else config.language
        if code not in by_language:
            spec = next((s for s in config.languages if s.code == code), None)
            titles = {c.key: c.title for c in site.collections}
            titles.update((k, t) for k, (t, _) in languages.collection_titles(config, code).items())
            by_language[code] = ((spec.title if spec else "") or config.title, titles)
        site_title, titles = by_language[code]
        lang = article.lang or config.language
        day = "" if article.kind == "page" else _day(article.date.astimezone(tz).date().isoformat(), lang)
        texts = (
            ("site", site_title),
            ("collection", titles.get(article.collection, "")),
            ("title", article.title),
            ("date", day),
        )
        path = card_file_for(site.urls[article_id])
        key = stable_hash(template.key, *(t for _, t in texts))
        card = Card(template, texts)
        yield Picture(path, template.width, template.height, (template.width,), ("png",),
                      article.source_location.path, key, card)  # fmt: skip


def _day(day: str, lang: str) -> str:
    return languages.format_day(day, "long", lang)


# Drawing ------------------------------------------------------------------------------------------


def draw(card: Card) -> bytes:
    """The card as PNG bytes: each text wrapped into its box at the largest size that fits (down
    to its `min_size`, then cut with an ellipsis).

    A card has a few colours, so it is drawn as a palette image: the background, each band's
    colour, and for each text colour `LEVELS - 1` shades from the background to it, which its
    letters' edges take. A PNG of it is a fifth of the size of a JPEG as sharp (about 13 KB) and
    takes about as long to make; its bytes are zlib's, the same on every machine."""
    template = card.template
    image, first_shade = _base(template)
    image = image.copy()
    shown = dict(card.texts)
    for text in template.texts:
        words = _SPACES.sub(" ", shown.get(text.field, "")).strip()  # no-break spaces are kept
        if words:
            # The site's name, a collection, a date: the same on many cards, laid out once.
            for shade, covered, where in _lines(words.upper() if text.upper else words, text,
                                                first_shade[text.colour]):  # fmt: skip
                image.paste(shade, where, covered)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)  # 18 KB in 1.5 ms; 6 makes 12 KB in twice the time
    return out.getvalue()


@functools.lru_cache(maxsize=256)
def _lines(words: str, text: CardText, first: int) -> list[tuple[Any, Any, tuple[int, int]]]:
    """Each line of `words` in the box of `text`: its letters as palette indices (shades from the
    one numbered `first`), the mask of where they show, and where it goes."""
    from PIL import Image, ImageDraw

    font, lines, step = _fit(words, text)
    shades, covered = _shades(first)
    placed = []
    for n, line in enumerate(lines):
        left, top, right, bottom = font.getbbox(line, anchor="la")
        if right <= left or bottom <= top:
            continue
        mask = Image.new("L", (right - left, bottom - top), 0)
        ImageDraw.Draw(mask).text((-left, -top), line, font=font, fill=255, anchor="la")
        where = (text.box[0] + left, text.box[1] + n * step + top)
        placed.append((mask.point(shades), mask.point(covered), where))
    return placed


LEVELS = 16  # shades of each text colour, its own included: edges as smooth as the eye tells


@functools.lru_cache(maxsize=8)
def _base(template: CardTemplate) -> tuple[Any, dict[str, int]]:
    """The template's background with its bands, as a palette image, and the palette index of each
    text colour's first shade."""
    from PIL import Image, ImageColor, ImageDraw

    background = ImageColor.getrgb(template.background)[:3]
    palette = list(background)
    first: dict[str, int] = {}
    for colour in dict.fromkeys(t.colour for t in template.texts):
        first[colour] = len(palette) // 3
        rgb = ImageColor.getrgb(colour)[:3]
        for level in range(1, LEVELS):
            alpha = level / (LEVELS - 1)
            palette += [round(b * (1 - alpha) + c * alpha) for b, c in zip(background, rgb, strict=True)]
    bands = {colour: 0 for _, colour in template.bands}
    for colour in bands:
        bands[colour] = len(palette) // 3
        palette += ImageColor.getrgb(colour)[:3]
    image = Image.new("P", (template.width, template.height), 0)
    image.putpalette(palette)
    pen = ImageDraw.Draw(image)
    for (left, top, width, height), colour in template.bands:
        pen.rectangle((left, top, left + width - 1, top + height - 1), fill=bands[colour])
    return image, first


@functools.lru_cache(maxsize=32)
def _shades(first: int) -> tuple[list[int], list[int]]:
    """For a letter mask's coverage 0-255: the palette index of its shade, and 255 where it shows."""
    shades, covered = [0] * 256, [0] * 256
    for value in range(1, 256):
        level = (value * (LEVELS - 1) + 127) // 255
        if level:
            shades[value], covered[value] = first + level - 1, 255
    return shades, covered


def _fit(words: str, text: CardText) -> tuple[Any, list[str], int]:
    """The font, lines and line step of `words` in the box of `text`."""
    width, height = text.box[2], text.box[3]
    size = text.size
    while True:
        font = _font_at(text.font, size)
        step = max(1, round(size * text.line_height))
        lines = _wrap(words, font, width)
        room = max(1, (height - size) // step + 1)  # the last line needs its size, not a whole step
        if len(lines) <= room:
            return font, lines, step
        if size <= text.min_size:
            return font, _cut(lines[:room], font, width), step
        size = max(text.min_size, size - max(2, size // 16))


def _wrap(words: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in words.split(" "):
        trial = f"{line} {word}" if line else word
        if font.getlength(trial) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width and len(word) > 1:  # a word wider than the box: broken
            cut = max(1, next((n for n in range(len(word), 0, -1) if font.getlength(word[:n]) <= width), 1))
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _cut(lines: list[str], font: Any, width: int) -> list[str]:
    """`lines` with the last ending in an ellipsis that fits the width."""
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1].rstrip()
    return [*lines[:-1], (last.rstrip(" ,.;:") + "…") if last else "…"]


@functools.lru_cache(maxsize=64)
def _font_at(path: Path, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)
