"""Config stage: read and validate `config.yaml` into a `Config`.

`parse_config` does all the work on a string so tests need no files;
`load_config` only reads the file. Every problem is collected and raised once.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import json
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from generator.base import yamlutil
from generator.base.errors import BuildFailed, ConfigError, SiteError, SourceLocation
from generator.base.model import (
    AuthorSpec,
    CollectionSpec,
    Config,
    FieldDefaults,
    ImageSettings,
    ImportSettings,
    LanguageSpec,
)
from generator.base.urls import PERMALINK_TOKENS, output_file_for, permalink_problem

CONFIG_NAME = "config.yaml"
KEY_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LANG_PATTERN = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
# Top-level folders the build itself writes; a collection may not take one.
RESERVED_KEYS = frozenset(
    {"tags", "archive", "static", "page", "feeds", "search", "pagefind", "sources", "corrections"}
)

_SCALARS: dict[str, type] = {
    "title": str,
    "description": str,
    "base_url": str,
    "language": str,
    "timezone": str,
    "author": str,
    "theme": str,
    "content_dir": str,
    "output_dir": str,
    "per_page": int,
    "home_latest": int,
    "home_per_collection": int,
    "feed_entries": int,
    "feed_content": str,
    "search": bool,
    "social_cards": bool,
    "permalink": str,
    "slug_source": str,
    "transliteration": str,
    "default_language_in_subdir": bool,
    "week_start": str,
    "max_article_kb": int,
    "allow_outside_symlinks": bool,
}
PERMALINK_HINT = (
    "for example /:collection/:year/:month/:day/:slug/ (tokens: "
    + ", ".join(f":{t}" for t in PERMALINK_TOKENS)
    + ")"
)
_KNOWN = frozenset(_SCALARS) | {
    "csp",
    "markdown",
    "collections",
    "defaults",
    "languages",
    "params",
    "redirects",
    "feed_aliases",
    "deploy",
    "menu",
    "newsletter",
    "stories",
    "authors",
    "import",
    "images",
}
_ACCEPTS: dict[type[Any], tuple[type[Any], ...]] = {str: (str,), int: (int,), float: (int, float)}
# `import:`: each key's type, the test its value must pass, and what the test asks for.
_IMPORT_KEYS: dict[str, tuple[type[Any], Any, str]] = {
    "duplicate_threshold": (float, lambda v: 0 < v <= 1, "a number above 0 and at most 1, such as 0.8"),
    "timeout": (float, lambda v: v > 0, "a number of seconds above 0"),
    "max_page_kb": (int, lambda v: v >= 1, "a whole number of kilobytes, at least 1"),
    "delay": (float, lambda v: v >= 0, "a number of seconds, 0 or more"),
    "user_agent": (str, lambda v: bool(v.strip()), "text that names your tool and a contact"),
}
_NEWSLETTER_KEYS = frozenset({"from", "unsubscribe", "unsubscribe_mailto", "smtp", "dkim"})
_SMTP_KEYS = frozenset({"host", "port", "security", "user", "per_minute", "timeout"})
_DKIM_KEYS = frozenset({"selector", "domain"})
_COLLECTION_KEYS = frozenset({"key", "title", "description", "order", "permalink", "edition"})
EDITIONS = ("daily", "weekly", "monthly")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def load_config(root: Path, **overrides: Any) -> Config:
    """Read `root/config.yaml`; raise `BuildFailed` listing every problem in it."""
    path = root / CONFIG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildFailed(
            [
                ConfigError(
                    f"no {CONFIG_NAME} in {root}",
                    SourceLocation(path),
                    "run the command in your site's folder, or pass --source DIR",
                )
            ]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildFailed([ConfigError(f"cannot read {CONFIG_NAME}: {exc}", SourceLocation(path))]) from None
    return parse_config(text, path, **overrides)


def parse_config(text: str, path: Path, **overrides: Any) -> Config:
    """Validate the YAML `text` of the config file at `path`.

    Keyword overrides (from the command line) replace config values; `None`
    means "not given". Raises `BuildFailed` with every problem found.
    """
    bad = yamlutil.find_forbidden(text)
    if bad:
        line, col, message = bad
        raise BuildFailed([ConfigError(message, SourceLocation(path, line, col), "remove it")])
    try:
        data = yamlutil.load(text)
    except yaml.MarkedYAMLError as exc:
        problem, at = yamlutil.located(exc, path)
        raise BuildFailed([ConfigError(f"invalid YAML: {problem}", at)]) from None
    except (yaml.YAMLError, yamlutil.ValueProblem) as exc:
        raise BuildFailed([ConfigError(f"invalid value: {exc}", SourceLocation(path))]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BuildFailed(
            [ConfigError("config.yaml must be a mapping of keys to values", SourceLocation(path, 1))]
        )
    data.update({k: v for k, v in overrides.items() if v is not None})
    lines = yamlutil.key_lines(text)
    held = yamlutil.forbidden_value(data)
    if held:
        where, message = held
        raise BuildFailed([ConfigError(message, SourceLocation(path, lines.get(where, 0)), "remove it")])
    errors: list[SiteError] = []

    def error(message: str, key: tuple[str, ...] = (), hint: str | None = None) -> None:
        errors.append(ConfigError(message, SourceLocation(path, lines.get(key, 0)), hint))

    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _KNOWN:
            close = difflib.get_close_matches(str(key), sorted(_KNOWN), n=1)
            error(
                f"unknown key '{key}'",
                (str(key),),
                f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(sorted(_KNOWN))}",
            )
        elif key == "collections":
            values[key] = _collections(value, error)
        elif key == "menu":
            values[key] = _menu(value, error)
        elif key == "defaults":
            values[key] = _defaults(value, error)
        elif key == "languages":
            values[key] = _languages(value, error)
            if values[key]:
                values["language"] = values[key][0].code  # the default's: every other setting follows it
        elif key == "redirects":
            values[key] = _redirects(value, error)
        elif key == "feed_aliases":
            values[key] = _feed_aliases(value, error)
        elif key == "csp":
            values[key] = _csp(value, error)
        elif key == "markdown":
            values["markdown_extensions"], values["markdown_configs"] = _markdown(value, error)
        elif key == "params":
            if not isinstance(value, dict):
                error(
                    "'params' must be a mapping of names to values",
                    ("params",),
                    "params: {repository: https://...}",
                )
            else:
                values["params_json"] = json.dumps(
                    {str(k): v for k, v in value.items()}, sort_keys=True, default=str
                )
        elif key == "stories":
            values[key] = _stories(value, error)
        elif key == "authors":
            values[key] = _authors(value, error)
        elif key == "newsletter":
            smtp = value.get("smtp", {}) if isinstance(value, dict) else {}
            dkim = value.get("dkim", {}) if isinstance(value, dict) else {}
            pace = smtp.get("per_minute", 1) if isinstance(smtp, dict) else 1
            wait = smtp.get("timeout", 1) if isinstance(smtp, dict) else 1
            if not isinstance(smtp, dict) or not set(map(str, smtp)) <= _SMTP_KEYS:
                message = "'smtp' takes host, port, security (starttls, tls, none), user, per_minute, timeout"
                hint = "the password is read from DIGEST_SMTP_PASSWORD, never from config.yaml"
                error(message, ("newsletter", "smtp"), hint)
            elif isinstance(pace, bool) or not isinstance(pace, (int, float)) or pace <= 0:
                message = "'per_minute' must be a number of messages a minute, above 0"
                error(message, ("newsletter", "smtp", "per_minute"), "per_minute: 120")
            elif isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 < wait <= 600:
                message = "'timeout' must be a number of seconds above 0, at most 600"
                error(message, ("newsletter", "smtp", "timeout"), "timeout: 30")
            elif not isinstance(dkim, dict) or not set(map(str, dkim)) <= _DKIM_KEYS:
                message = "'dkim' takes selector and domain (the key is read from DIGEST_DKIM_KEY_FILE)"
                error(message, ("newsletter", "dkim"), "dkim: {selector: mail2026}")
            elif not isinstance(value, dict) or not set(map(str, value)) <= _NEWSLETTER_KEYS:
                error(
                    "'newsletter' takes 'from', 'unsubscribe', 'unsubscribe_mailto', 'smtp' and 'dkim'",
                    ("newsletter",),
                    "newsletter: {from: 'Digest <news@example.org>', unsubscribe: https://example.org/unsubscribe}",
                )
            else:
                values[key] = MappingProxyType(
                    {str(k): v if isinstance(v, dict) else str(v).strip() for k, v in value.items()}
                )
        elif key == "import":
            values["imports"] = _imports(value, error)
        elif key == "images":
            values["images"] = _images(value, error)
        elif key == "deploy":
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                error(
                    "'deploy' maps target names to their settings",
                    ("deploy",),
                    "see the README's deploy section",
                )
            else:
                values[key] = MappingProxyType({str(k): MappingProxyType(v) for k, v in value.items()})
        elif isinstance(value, Path) and key.endswith("_dir"):
            values[key] = str(value)
        elif not isinstance(value, _SCALARS[key]) or isinstance(value, bool) != (_SCALARS[key] is bool):
            want = {int: "a whole number", bool: "true or false"}.get(_SCALARS[key], "text")
            error(f"'{key}' must be {want}, not {value!r}", (key,))
        else:
            values[key] = value.strip() if isinstance(value, str) else value

    _check_values(values, error)
    _collections_in(values, error)
    if errors:
        raise BuildFailed(errors)
    root = path.parent
    fields: dict[str, Any] = {k: v for k, v in values.items() if not k.endswith("_dir")}
    for key in ("content_dir", "output_dir"):
        if key in values:
            fields[key] = root / values[key]
    fields.setdefault("content_dir", root / "content")
    fields.setdefault("output_dir", root / "site")
    return dataclasses.replace(Config(root=root, source=path), **fields)


def _check_values(values: dict[str, Any], error: Any) -> None:
    url = values.get("base_url")
    if url is not None:
        if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", url):
            error(
                f"'base_url' must be an absolute http(s) URL, not {url!r}",
                ("base_url",),
                "for example https://example.org/ or https://user.github.io/digest/",
            )
        else:
            values["base_url"] = url if url.endswith("/") else url + "/"
    tz = values.get("timezone")
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            error(
                f"unknown time zone {tz!r}", ("timezone",), "use an IANA name such as Europe/Vilnius or UTC"
            )
    lang = values.get("language")
    if lang is not None and not LANG_PATTERN.fullmatch(lang):
        error(f"'language' must be a language code such as en or ru, not {lang!r}", ("language",))
    for key in ("per_page", "home_latest", "feed_entries", "max_article_kb"):
        if key in values and values[key] < 1:
            error(f"'{key}' must be at least 1", (key,))
    if values.get("home_per_collection", 0) < 0:
        error("'home_per_collection' must be 0 or more", ("home_per_collection",))
    if values.get("feed_content", "full") not in ("full", "summary"):
        error("'feed_content' must be full or summary", ("feed_content",))
    if "week_start" in values:
        values["week_start"] = values["week_start"].lower()
        if values["week_start"] not in WEEKDAYS:
            error("'week_start' must be a day of the week, such as monday or sunday", ("week_start",))
    problem = permalink_problem(values["permalink"]) if "permalink" in values else None
    if problem:
        error(problem, ("permalink",), PERMALINK_HINT)
    if values.get("slug_source", "filename") not in ("filename", "title"):
        error(
            "'slug_source' must be filename or title",
            ("slug_source",),
            "title: a slug made from the title, as in Pelican",
        )
    if values.get("transliteration", "standard") not in ("standard", "language"):
        error(
            "'transliteration' must be standard or language",
            ("transliteration",),
            "language: slugs spelled by each language's own rules (Ukrainian Київ kyiv, not kiiv)",
        )
    if "theme" in values and not KEY_PATTERN.fullmatch(values["theme"].replace("_", "-")):
        error(f"'theme' must be a theme folder name, not {values['theme']!r}", ("theme",))


def _languages(value: Any, error: Any) -> tuple[LanguageSpec, ...]:
    """`languages:`: each `{code, name, title, description, default}`; the default first."""
    hint = "languages: [{code: be, name: Беларуская, default: true}, {code: en, name: English}]"
    if not isinstance(value, list) or not all(isinstance(i, dict) and "code" in i for i in value):
        error("'languages' must be a list of entries with 'code' and 'name'", ("languages",), hint)
        return ()
    found: list[LanguageSpec] = []
    default: list[str] = []
    for index, item in enumerate(value):
        code, name = str(item.get("code", "")).strip(), str(item.get("name") or "").strip()
        unknown = set(map(str, item)) - {"code", "name", "title", "description", "default", "menu"}
        if not LANG_PATTERN.fullmatch(code) or not name or unknown or code in {f.code for f in found}:
            why = f"unknown field '{sorted(unknown)[0]}'" if unknown else "a code and a name, once each"
            error(f"language {code!r}: {why}", ("languages", str(index)), hint)
            continue
        menu = _menu(item["menu"], error) if "menu" in item else None
        spec = LanguageSpec(
            code, name, str(item.get("title") or ""), str(item.get("description") or ""), menu
        )
        found.append(spec)
        if item.get("default") is True:
            default.append(code)
    if len(default) > 1:
        error(f"only one language can be the default, not {', '.join(default)}", ("languages",), hint)
    first = default[0] if default else (found[0].code if found else "")
    return tuple(sorted(found, key=lambda s: s.code != first))


def _site_path(text: Any, page: bool) -> str | None:
    """A path from the site's root (a page's URL, or a file's), without its leading "/"; None if it
    is not one that stays in the output folder."""
    if not isinstance(text, str) or "://" in text or text.startswith("//"):
        return None
    path = text.strip().lstrip("/")
    try:
        output_file_for(path) if path or page else None
    except ValueError:
        return None
    return path if path or page else None


def _redirects(value: Any, error: Any) -> tuple[tuple[str, str], ...]:
    """`redirects:`: old URLs of the site (a list page that moved, a page gone) and where they lead."""
    hint = "redirects: {/category/politics.html: /politics/} (paths from the site's root)"
    if not isinstance(value, dict):
        error("'redirects' must map old URLs to the URLs they lead to", ("redirects",), hint)
        return ()
    found = []
    for old, new in value.items():
        source, target = _site_path(old, False), _site_path(new, True)
        if not source or target is None:
            error(
                f"the redirect {old!r}: {new!r} must go from a path of the site to a path of it",
                ("redirects",),
                hint,
            )
        else:
            found.append((source, target))
    return tuple(found)


def _markdown(value: Any, error: Any) -> tuple[tuple[str, ...], str]:
    """`markdown: {extensions: [...], extension_configs: {name: {...}}}`: the extensions beside the
    default ones, each checked to import and to take its settings."""
    from generator.build import markup

    example = "markdown: {extensions: [admonition, def_list, pymdownx.tasklist]}"
    if not isinstance(value, dict) or not set(map(str, value)) <= {"extensions", "extension_configs"}:
        error("'markdown' takes 'extensions' and 'extension_configs'", ("markdown",), example)
        return (), "{}"
    names = value.get("extensions") or []
    configs = value.get("extension_configs") or {}
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        error("'extensions' must be a list of extension names", ("markdown", "extensions"), example)
        return (), "{}"
    if not isinstance(configs, dict) or not all(isinstance(v, dict) for v in configs.values()):
        message = "'extension_configs' must map extension names to their settings"
        error(message, ("markdown", "extension_configs"), "extension_configs: {toc: {permalink: true}}")
        return (), "{}"
    found: list[str] = []
    for index, name in enumerate(names):
        problem = markup.extension_problem(name.strip(), configs.get(name))
        if problem:
            builtin = sorted(markup.BUILTIN_EXTENSIONS)
            close = difflib.get_close_matches(name, builtin, n=1)
            hint = f"Python-Markdown's own: {', '.join(builtin)}; others by module, e.g. pymdownx.tasklist"
            if name.startswith("pymdownx.") and importlib.util.find_spec("pymdownx") is None:
                hint = "pip install pymdown-extensions"
            elif close:
                hint = f"did you mean '{close[0]}'?"
            error(f"markdown extension '{name}': {problem}", ("markdown", "extensions", str(index)), hint)
        else:
            found.append(name.strip())
    for name in configs:
        if name not in names:
            where = ("markdown", "extension_configs", str(name))
            hint = "add it to extensions, or remove its settings"
            error(f"'extension_configs' names '{name}', which is not in 'extensions'", where, hint)
    chosen = {k: configs[k] for k in found if k in configs}
    return tuple(found), json.dumps(chosen, sort_keys=True, default=str)


def _csp(value: Any, error: Any) -> tuple[tuple[str, str], ...] | None:
    """`csp: false` (no policy), or directives that replace the default's ('' removes one)."""
    from generator.build.security import DIRECTIVE

    if value is False:
        return None
    example = "csp: {img-src: \"'self' https://images.example.org\"}"
    if value is True or value is None:
        return ()
    if not isinstance(value, dict):
        error("'csp' must be false, or a mapping of directives to their sources", ("csp",), example)
        return ()
    found: list[tuple[str, str]] = []
    for name, sources in value.items():
        if not isinstance(name, str) or not DIRECTIVE.match(name):
            error(f"'{name}' is not a Content-Security-Policy directive", ("csp", str(name)), example)
        elif not isinstance(sources, str) or any(c in sources for c in ";,\r\n"):
            error(f"the sources of '{name}' must be text, without ';' or ','", ("csp", name), example)
        else:
            found.append((name, " ".join(sources.split())))
    return tuple(found)


def _feed_aliases(value: Any, error: Any) -> tuple[tuple[str, str], ...]:
    """`feed_aliases:`: the old site's feed paths, where the site's Atom, RSS or JSON feed is written too."""
    hint = "feed_aliases: {atom: [atom.xml, feeds/all.atom.xml], rss: [index.xml]}"
    if not isinstance(value, dict) or not set(map(str, value)) <= {"atom", "rss", "json"}:
        error("'feed_aliases' maps atom, rss or json to lists of paths", ("feed_aliases",), hint)
        return ()
    found = []
    for kind, paths in value.items():
        for path in paths if isinstance(paths, list) else [paths]:
            where = _site_path(path, False)
            if not where or where.endswith("/"):
                error(f"the feed path {path!r} must be a file's path in the site", ("feed_aliases",), hint)
            else:
                found.append((str(kind), where))
    return tuple(found)


_DEFAULTS_HINT = (
    "defaults: [{scope: {path: '', type: pages}, values: {type: page}}] (type: posts, drafts or pages)"
)


def _defaults(value: Any, error: Any) -> tuple[FieldDefaults, ...]:
    """`defaults:` as Jekyll writes it: each a `scope` (`path`, `type`) and the `values` it gives."""
    if not isinstance(value, list):
        error("'defaults' must be a list of scopes and values", ("defaults",), _DEFAULTS_HINT)
        return ()
    found = []
    for item in value:
        scope = item.get("scope", {}) if isinstance(item, dict) else None
        given = item.get("values") if isinstance(item, dict) else None
        if (
            not isinstance(scope, dict)
            or not isinstance(given, dict)
            or set(map(str, item)) - {"scope", "values"}
        ):
            error("each of 'defaults' takes a 'scope' and its 'values'", ("defaults",), _DEFAULTS_HINT)
            continue
        path, kind = str(scope.get("path") or "").strip("/"), str(scope.get("type") or "")
        if kind not in ("", "posts", "drafts", "pages") or set(map(str, scope)) - {"path", "type"}:
            error(f"a scope of 'defaults' takes a path and a type (posts, drafts or pages), not {scope!r}",
                  ("defaults",), _DEFAULTS_HINT)  # fmt: skip
            continue
        try:
            values_json = json.dumps({str(k): v for k, v in given.items()}, sort_keys=True, default=str)
        except (TypeError, ValueError):
            error("the values of 'defaults' must be plain text, numbers, lists or mappings", ("defaults",))
            continue
        found.append(FieldDefaults(path, kind, values_json))
    return tuple(found)


def _imports(value: Any, error: Any) -> ImportSettings:
    """`import:`: the settings of `digest import` (see `ImportSettings`)."""
    if not isinstance(value, dict):
        error("'import' must be a mapping", ("import",), "import: {duplicate_threshold: 0.8, timeout: 20}")
        return ImportSettings()
    found = {}
    for key, item in value.items():
        if key not in _IMPORT_KEYS:
            error(
                f"unknown key '{key}' in 'import'",
                ("import", str(key)),
                f"known keys: {', '.join(_IMPORT_KEYS)}",
            )
            continue
        kind, test, want = _IMPORT_KEYS[key]
        typed = not isinstance(item, bool) and isinstance(item, _ACCEPTS[kind])
        if typed and test(item):
            found[key] = kind(item)
        else:
            error(f"'import: {key}' must be {want}, not {item!r}", ("import", str(key)))
    return ImportSettings(**found)


IMAGE_FORMATS = ("webp", "avif")


def _images(value: Any, error: Any) -> ImageSettings:
    """`images:`: the variants made of local raster images (see `ImageSettings`)."""
    example = "images: {widths: [480, 800, 1200, 1600], formats: [webp], quality: 80}"
    if not isinstance(value, dict):
        error("'images' must be a mapping", ("images",), example)
        return ImageSettings()
    found: dict[str, Any] = {}
    for key, item in value.items():
        where = ("images", str(key))
        if key == "widths":
            if (
                isinstance(item, list)
                and item
                and all(isinstance(w, int) and not isinstance(w, bool) and 16 <= w <= 10000 for w in item)
            ):
                found[key] = tuple(sorted(set(item)))
            else:
                error(
                    f"'images: widths' must list widths in pixels (16 to 10000), not {item!r}", where, example
                )
        elif key == "formats":
            if isinstance(item, list) and all(f in IMAGE_FORMATS for f in item):
                found[key] = tuple(dict.fromkeys(item))
            else:
                error(
                    f"'images: formats' lists formats made beside an image's own: {', '.join(IMAGE_FORMATS)}",
                    where,
                    "formats: [webp]",
                )
        elif key == "quality":
            if isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= 100:
                found[key] = item
            else:
                error(f"'images: quality' must be a whole number from 1 to 100, not {item!r}", where)
        elif key == "sizes":
            if isinstance(item, str) and item.strip() and "<" not in item and '"' not in item:
                found[key] = item.strip()
            else:
                error(
                    f"'images: sizes' must be a sizes attribute, not {item!r}",
                    where,
                    'sizes: "(min-width: 42rem) 40rem, 100vw"',
                )
        else:
            error(f"unknown key '{key}' in 'images'", where, "known keys: widths, formats, quality, sizes")
    return ImageSettings(**found)


def _keyed_entries(
    value: Any, error: Any, name: str, what: str, fields: str, example: str
) -> list[tuple[str, dict[str, Any]]]:
    """A config list of entries, each a mapping with a `key` (`authors:`, `stories:`): each good entry's
    key and mapping; every bad one is an error at its line."""
    if not isinstance(value, list) or not all(isinstance(i, dict) and "key" in i for i in value):
        error(f"'{name}' must be a list of entries with {fields}", (name,), example)
        return []
    found = []
    for index, item in enumerate(value):
        key = str(item.get("key", "")).strip()
        if not KEY_PATTERN.fullmatch(key):
            error(f"{what} key {key!r} must be lowercase letters, digits and hyphens", (name, str(index)))
            continue
        found.append((key, item))
    return found


def _authors(value: Any, error: Any) -> tuple[AuthorSpec, ...]:
    """`authors:`: each `{key, name, bio, url, image}`."""
    example = "- {key: ann, name: Ann Reporter, bio: ..., url: https://...}"
    return tuple(
        AuthorSpec(
            key,
            str(item.get("name") or key).strip(),
            **{field: str(item.get(field) or "").strip() for field in ("bio", "url", "image")},
        )
        for key, item in _keyed_entries(value, error, "authors", "author", "'key' and 'name'", example)
    )


def _stories(value: Any, error: Any) -> tuple[CollectionSpec, ...]:
    """`stories:`: running stories, each `{key, title, description}`."""
    fields, example = (
        "'key', 'title' and 'description'",
        "- {key: belarus-protests, title: The Belarus protests}",
    )
    return tuple(
        CollectionSpec(key, str(item.get("title") or key), str(item.get("description") or ""))
        for key, item in _keyed_entries(value, error, "stories", "story", fields, example)
    )


def _menu(value: Any, error: Any) -> tuple[tuple[str, str], ...]:
    """`menu:`: a list of `{title, url}`; a URL is a path in the site (`/about/`) or an http(s) URL."""
    items = value if isinstance(value, list) else None
    if items is None or not all(isinstance(i, dict) and set(i) == {"title", "url"} for i in items):
        error(
            "'menu' must be a list of entries with 'title' and 'url'",
            ("menu",),
            "- {title: About, url: /about/}",
        )
        return ()
    menu = []
    for index, item in enumerate(items):
        title, url = str(item["title"]).strip(), str(item["url"]).strip()
        if not url.startswith(("/", "http://", "https://")) or ".." in url.split("/"):
            error(f"menu URL {url!r} must start with / or http(s)://", ("menu", str(index)))
            continue
        menu.append((title, url))
    return tuple(menu)


def _collections(value: Any, error: Any) -> tuple[CollectionSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        error("'collections' must be a list", ("collections",), "write each collection as '- key: ...'")
        return ()
    specs: list[tuple[int, int, CollectionSpec]] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = ("collections", str(index))
        if isinstance(item, str):
            item = {"key": item, "title": item}
        if not isinstance(item, dict):
            error("each collection must be a mapping with 'key' and 'title'", where)
            continue
        for unknown in sorted(set(map(str, item)) - _COLLECTION_KEYS):
            error(
                f"unknown collection key '{unknown}'",
                (*where, unknown),
                "use key, title, description, order, permalink, edition",
            )
        key = str(item.get("key", "")).strip()
        if not KEY_PATTERN.fullmatch(key):
            error(
                f"collection key {key!r} must be lowercase letters, digits and hyphens",
                where,
                "for example: key: belarus",
            )
            continue
        if key in RESERVED_KEYS:
            error(f"collection key '{key}' is reserved for the site's own pages", where)
            continue
        if key in seen:
            error(f"collection key '{key}' is listed twice", where)
            continue
        seen.add(key)
        order = item.get("order", 0)
        if not isinstance(order, int) or isinstance(order, bool):
            error(f"collection order must be a whole number, not {order!r}", (*where, "order"))
            order = 0
        titles, descriptions = (
            _by_language(item.get("title"), where, error),
            _by_language(item.get("description"), where, error),
        )
        title = (titles.get("") or key).strip()
        description = descriptions.get("", "").strip()
        translated = tuple(
            (code, titles.get(code, ""), descriptions.get(code, ""))
            for code in dict.fromkeys([*titles, *descriptions])
            if code
        )
        pattern = str(item.get("permalink") or "").strip()
        problem = permalink_problem(pattern) if pattern else None
        if problem:
            error(problem, (*where, "permalink"), PERMALINK_HINT)
        edition = str(item.get("edition") or "").strip().lower()
        if edition and edition not in EDITIONS:
            error(f"edition {edition!r} must be daily, weekly or monthly", (*where, "edition"))
            edition = ""
        spec = CollectionSpec(key, title, description, order, pattern, edition, translated)
        specs.append((order, index, spec))
    return tuple(spec for _, _, spec in sorted(specs, key=lambda s: (s[0], s[1])))


def _by_language(value: Any, where: tuple[str, ...], error: Any) -> dict[str, str]:
    """A collection's title or description: a text ({"": text}), or one per language
    (`{be: Салідарнасць, en: Solidarity}`: the first is the text until the languages are known)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return {"": str(value)}
    found = {str(code).strip(): str(text or "").strip() for code, text in value.items()}
    if not found or not all(LANG_PATTERN.fullmatch(code) for code in found):
        error(
            "a title per language maps language codes to texts", where, "title: {be: Беларусь, en: Belarus}"
        )
        return {}
    return {"": next(iter(found.values())), **found}


def _collections_in(values: dict[str, Any], error: Any) -> None:
    """Each collection's texts per language checked against `languages:`: every code one of the
    site's, the default's text the collection's own."""
    specs = values.get("collections", ())
    codes = [spec.code for spec in values.get("languages", ())]
    fixed = []
    for index, spec in enumerate(specs):
        if spec.translated and not codes:
            hint = "list the site's languages in 'languages:', or give one title"
            error(f"collection '{spec.key}' has texts per language, but the site has no 'languages:'",
                  ("collections", str(index)), hint)  # fmt: skip
            continue
        for code, _, _ in spec.translated:
            if code not in codes:
                error(f"collection '{spec.key}': no language '{code}' in 'languages:'",
                      ("collections", str(index)), f"the site's languages: {', '.join(codes)}")  # fmt: skip
        title, description = spec.in_language(codes[0]) if codes else (spec.title, spec.description)
        kept = tuple(t for t in spec.translated if t[0] != (codes[0] if codes else ""))
        fixed.append(dataclasses.replace(spec, title=title, description=description, translated=kept))
    if specs:
        values["collections"] = tuple(fixed)


def output_dir_of(root: Path, output_dir: Path | None = None) -> Path | None:
    """The output folder a build of the site at `root` writes, if its config can be read (else the
    stages say why)."""
    try:
        return load_config(root, output_dir=output_dir).output_dir
    except BuildFailed:
        return None
