"""Another generator's site, read by its own configuration: which generator, what to copy, and the
newsdigest settings that keep its URLs.

`read_old_site(folder)` finds Jekyll (`_config.yml`), Hugo (`hugo.toml`, `config.toml`, `config.yaml`,
`config/_default/`), Zola (`config.toml` with `base_url`) or Pelican (`pelicanconf.py`, read with `ast`:
never run) and gives an `OldSite`: the settings of config.yaml (`permalink`, `defaults`, `collections`,
`slug_source`, `base_url`, `title`, `timezone`, `language`), the folders to copy and where, and a note for
each thing that maps and each that cannot be honoured. Configuration files are data: YAML is loaded
safely, TOML and JSON by the standard library, each at most `MAX_CONFIG_BYTES`.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from generator.base import yamlutil
from generator.base.errors import BuildFailed, ConfigError, SourceLocation
from generator.base.urls import DATE_TOKENS
from generator.build.config import LANG_PATTERN
from generator.build.contentfiles import ARTICLE_SUFFIXES
from generator.build.frontmatter import split

MAX_CONFIG_BYTES = 1024 * 1024


@dataclass
class OldSite:
    """What `digest migrate` makes of another generator's site."""

    generator: str  # Jekyll, Hugo, Zola or Pelican
    root: Path
    config_file: Path | None
    settings: dict[str, Any] = field(default_factory=dict)  # config.yaml's, in its order
    copies: list[tuple[Path, str]] = field(default_factory=list)  # (folder or file, to where under content/)
    skipped: list[str] = field(default_factory=list)  # what is not copied, and why
    notes: list[str] = field(default_factory=list)  # how its URLs map; what cannot be honoured
    pages: list[str] = field(default_factory=list)  # folders (under content/) whose undated files are pages
    moved: set[str] = field(default_factory=set)  # files (under content/) copied to another path instead
    list_urls: dict[str, str] = field(default_factory=dict)  # Pelican's category and tag pages: patterns

    def feed_alias(self, kind: str, path: str) -> None:
        """The old site's feed at `path` is this site's `kind` feed there too (`feed_aliases:`)."""
        path = path.strip().lstrip("/")
        if path and path not in ("feed.xml", "rss.xml", "feed.json"):
            self.settings.setdefault("feed_aliases", {}).setdefault(kind, []).append(path)
            self.note(f"the old feed /{path} is written too, with the {kind} feed's entries and ids")

    def note(self, text: str) -> None:
        self.notes.append(text)


def read_old_site(folder: Path) -> OldSite:
    """The site in `folder`, as its generator's configuration describes it; raises `BuildFailed` when
    no generator's configuration is there, or when it cannot be read."""
    if (folder / "pelicanconf.py").is_file():
        return _pelican(folder)
    for name in ("_config.yml", "_config.yaml"):
        if (folder / name).is_file():
            return _jekyll(folder, folder / name)
    if (folder / "_posts").is_dir():
        return _jekyll(folder, None)
    for name in ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json"):
        if (folder / name).is_file():
            return _hugo(folder, folder / name)
    if (folder / "config.toml").is_file():
        data = _read_config(folder / "config.toml")
        return _zola(folder, data) if "base_url" in data else _hugo(folder, folder / "config.toml")
    for name in ("config.yaml", "config.yml", "config.json"):
        if (folder / name).is_file():
            return _hugo(folder, folder / name)
    if (folder / "config" / "_default").is_dir():
        return _hugo(folder, None)
    raise BuildFailed(
        [
            ConfigError(
                "no Jekyll, Hugo, Zola or Pelican site here",
                SourceLocation(folder),
                "name the old site's own folder: the one with _config.yml, hugo.toml, config.toml or "
                "pelicanconf.py",
            )
        ]
    )


# --- reading configuration files, as data ------------------------------------------------------


def _read_config(path: Path) -> dict[str, Any]:
    """A YAML, TOML or JSON configuration file as a mapping; raises `BuildFailed` at its line."""
    where = SourceLocation(path)
    try:
        data = path.read_bytes()
        if len(data) > MAX_CONFIG_BYTES:
            raise BuildFailed([ConfigError("the configuration file is larger than 1 MB", where)])
        text = data.decode("utf-8").lstrip("\ufeff")
        if path.suffix == ".toml":
            found = tomllib.loads(text)
        elif path.suffix == ".json":
            found = json.loads(text)
        else:
            found = yamlutil.load(text)
    except BuildFailed:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildFailed([ConfigError(f"cannot read it: {exc}", where)]) from None
    except Exception as exc:  # a malformed file, in any of the three syntaxes: said, with its line
        line = re.search(r"line (\d+)", str(exc))
        located = SourceLocation(path, int(line.group(1))) if line else where
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BuildFailed([ConfigError(f"cannot read it: {message}", located)]) from None
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise BuildFailed([ConfigError("the configuration is not a mapping of keys to values", where)])
    return found


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _base_url(url: str, base: str = "") -> str | None:
    if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", url):
        return None
    return url.rstrip("/") + "/" + (base.strip("/") + "/" if base.strip("/") else "")


def _common(site: OldSite, title: Any, base_url: str | None, timezone: Any, language: Any) -> None:
    """The settings every generator has: title, base URL, time zone, language."""
    if _text(title):
        site.settings["title"] = _text(title)
    if base_url:
        site.settings["base_url"] = base_url
    else:
        site.note("no absolute base URL in the old configuration: set base_url in config.yaml")
    if _text(timezone):
        site.settings["timezone"] = _text(timezone)
    code = _text(language).replace("_", "-")
    if code and LANG_PATTERN.fullmatch(code):
        site.settings["language"] = code.split("-")[0].lower() if len(code) > 2 and "-" in code else code


def _params(site: OldSite, values: dict[str, Any], used_as: str) -> None:
    """The old site's own values that article text may name (`params:`): text and numbers, and
    mappings of them one level deep."""

    def plain(value: Any) -> bool:
        return isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(str(value)) < 1000

    kept = {
        str(k): v if plain(v) else {str(a): b for a, b in v.items() if plain(b)}
        for k, v in values.items()
        if plain(v) or (isinstance(v, dict) and any(plain(b) for b in v.values()))
    }
    if kept:
        site.settings["params"] = kept
        site.note(f"{len(kept)} site values kept as params: (what {used_as} in a text names)")


def has_front_matter(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:65536]
        split(text, path)
    except Exception:  # no front matter, or a broken one: the build names a broken one
        return text.lstrip("\ufeff \t\r\n").startswith(("---", "+++"))
    return True


# --- Jekyll ------------------------------------------------------------------------------------

_JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_JEKYLL_TOKENS = {
    ":categories": ":categories", ":year": ":year", ":month": ":month", ":day": ":day",
    ":title": ":title", ":slug": ":title", ":name": ":filename", ":basename": ":filename",
    **{f":{t}": f":{t}" for t in DATE_TOKENS if t != "monthname"},
}  # fmt: skip
_JEKYLL_OWN = {"_site", "_layouts", "_includes", "_sass", "_data", "_plugins", "_config.yml", "_config.yaml"}
_JEKYLL_BUILD_KEYS = {
    "title", "url", "baseurl", "permalink", "collections", "defaults", "exclude", "include", "plugins",
    "gems", "timezone", "lang", "markdown", "kramdown", "sass", "highlighter", "future", "source",
    "destination", "keep_files", "encoding", "paginate", "paginate_path", "whitelist", "theme",
}  # fmt: skip
_JEKYLL_TOOLING = {"Gemfile", "Gemfile.lock", "node_modules", "vendor", "package.json", "package-lock.json"}


def _jekyll(root: Path, config_file: Path | None) -> OldSite:
    data = _read_config(config_file) if config_file else {}
    site = OldSite("Jekyll", root, config_file)
    url, base = _text(data.get("url")), _text(data.get("baseurl"))
    _common(
        site,
        data.get("title") or data.get("name"),
        _base_url(url, base),
        data.get("timezone"),
        data.get("lang"),
    )
    given = data.get("collections") or {}
    collections: dict[str, Any] = {str(c): {} for c in given} if isinstance(given, list) else dict(given)
    posts = _mapping(collections.get("posts"))
    style = _text(posts.get("permalink")) or _text(data.get("permalink")) or "date"
    pattern = _jekyll_pattern(site, _JEKYLL_STYLES.get(style, style), "posts")
    site.settings["permalink"] = pattern
    site.note(f"posts: Jekyll's permalink {style!r} is {pattern} here")
    ending = "/" if pattern.endswith("/") else ".html"
    defaults: list[dict[str, Any]] = [
        {
            "scope": {"path": "", "type": "pages"},
            "values": {"type": "page", "permalink": f"/:path/:filename{ending}"},
        }
    ]
    site.note(
        f"pages (every file outside _posts/ and _drafts/): /:path/:filename{ending}, as Jekyll gives them"
    )
    copied = {"_posts", "_drafts"}
    for label, spec in collections.items():
        if label == "posts" or not isinstance(spec, dict):
            continue
        folder = f"_{label}"
        if not spec.get("output") or not (root / folder).is_dir():
            site.skipped.append(f"{folder}/: a Jekyll collection without pages of its own (output: false)")
            continue
        written = _text(spec.get("permalink")) or "/:collection/:path:output_ext"
        translated = _jekyll_pattern(site, written.replace(":collection", label), label, collection=True)
        defaults.append({"scope": {"path": folder}, "values": {"type": "page", "permalink": translated}})
        site.note(f"the collection {label}: {written} is {translated} here (its documents are pages)")
        copied.add(folder)
    for item in data.get("defaults") or []:
        if isinstance(item, dict) and isinstance(item.get("values"), dict):
            scope = _mapping(item.get("scope"))
            kind, path = _text(scope.get("type")), _text(scope.get("path"))
            if kind and kind not in ("posts", "pages", "drafts"):
                path, kind = path or f"_{kind}", ""
            values = dict(item["values"])
            if "permalink" in values:
                values["permalink"] = _jekyll_pattern(site, _text(values["permalink"]), "defaults")
            defaults.append(
                {"scope": {"path": path, "type": kind} if kind else {"path": path}, "values": values}
            )
    site.settings["defaults"] = defaults
    _params(site, {k: v for k, v in data.items() if k not in _JEKYLL_BUILD_KEYS}, "{{ site.x }}")
    excluded = {str(e).strip("/") for e in data.get("exclude") or [] if isinstance(e, str)}
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name.startswith("."):
            continue
        if name in _JEKYLL_OWN or (name.startswith("_") and name not in copied):
            site.skipped.append(
                f"{name}{'/' if entry.is_dir() else ''}: Jekyll's own (templates, data, build)"
            )
        elif name in _JEKYLL_TOOLING or name in excluded or any(entry.match(e) for e in excluded):
            site.skipped.append(f"{name}: excluded from the old site (tooling or `exclude:`)")
        elif entry.is_file() and name.startswith("404."):
            site.skipped.append(f"{name}: the site makes its own 404 page")
        else:
            site.copies.append((entry, name))
    _plugins_note(site, data.get("plugins") or data.get("gems") or [])
    for name in ("atom.xml", "rss.xml", "feed.xml", "index.xml"):  # a feed template of the site's own
        head = (
            (root / name).read_text(encoding="utf-8", errors="replace")[:4096]
            if (root / name).is_file()
            else ""
        )
        if "<feed" in head or "<rss" in head:
            site.feed_alias("atom" if "<feed" in head else "rss", name)
    return site


def _jekyll_pattern(site: OldSite, pattern: str, what: str, collection: bool = False) -> str:
    """A Jekyll permalink in newsdigest's tokens; a token that has no equal here is said and left out."""
    found = pattern.replace(":output_ext", ".html")
    if collection:
        found = found.replace(":path", ":path/:filename")
    if not found.startswith("/"):
        found = "/" + found
    for token in sorted(set(re.findall(r":[a-z_]+", found)), key=len, reverse=True):
        if token in _JEKYLL_TOKENS:
            found = found.replace(token, _JEKYLL_TOKENS[token])
        elif token not in (":path", ":filename"):
            site.note(f"cannot keep Jekyll's {token} in {what}' permalink {pattern!r}: left out")
            found = found.replace(token, "")
    found = re.sub(r"/{2,}", "/", found)
    return found if found.endswith(("/", ".html")) else found + "/"


def _plugins_note(site: OldSite, plugins: Any) -> None:
    kept = {
        "jekyll-redirect-from": "redirect_from: is read",
        "jekyll-feed": "newsdigest makes its own feeds",
        "jekyll-sitemap": "newsdigest makes its own sitemap",
        "jekyll-seo-tag": "the theme has its own tags",
        "jekyll-paginate": "lists are paginated (per_page)",
    }
    for plugin in plugins if isinstance(plugins, list) else []:
        name = str(plugin)
        site.note(f"plugin {name}: {kept.get(name, 'not run (newsdigest runs no plugins)')}")


# --- Hugo --------------------------------------------------------------------------------------

_HUGO_TOKENS = {
    ":year": ":year", ":month": ":month", ":day": ":day", ":title": ":title", ":slug": ":slug",
    ":filename": ":filename", ":contentbasename": ":filename", ":slugorfilename": ":slug",
    ":slugorcontentbasename": ":slug", ":section": ":collection", ":sections": ":path",
    ":monthname": ":monthname",
}  # fmt: skip
_HUGO_NOT_COPIED = ("layouts", "themes", "archetypes", "assets", "data", "i18n", "resources", "public")


def _hugo(root: Path, config_file: Path | None) -> OldSite:
    data: dict[str, Any] = {}
    if config_file:
        data = {str(k).lower(): v for k, v in _read_config(config_file).items()}
    default = root / "config" / "_default"
    if default.is_dir():
        for part in sorted(default.iterdir()):
            if part.suffix in (".toml", ".yaml", ".yml", ".json") and part.is_file():
                values = {str(k).lower(): v for k, v in _read_config(part).items()}
                if part.stem in ("hugo", "config"):
                    data.update(values)
                else:
                    data[part.stem.lower()] = values
    site = OldSite("Hugo", root, config_file or default)
    _common(
        site,
        data.get("title"),
        _base_url(_text(data.get("baseurl"))),
        data.get("timezone"),
        data.get("languagecode") or data.get("defaultcontentlanguage"),
    )
    mounts = [_mapping(m) for m in _mapping(data.get("module")).get("mounts") or [] if isinstance(m, dict)]
    mounted = {
        t: [_text(m.get("source")) for m in mounts if m.get("target") == t] for t in ("content", "static")
    }
    content = root / (_text(data.get("contentdir")) or (mounted["content"] or ["content"])[0])
    if mounted["content"]:
        site.note(f"module mounts: {', '.join(mounted['content'])} is the content folder")
    ugly = bool(data.get("uglyurls"))
    ending = ".html" if ugly else "/"
    permalinks = _mapping(data.get("permalinks"))
    if isinstance(permalinks.get("page"), dict):  # Hugo 0.120's form: by kind, then section
        permalinks = permalinks["page"]
    if not content.is_dir():
        raise BuildFailed([ConfigError("the Hugo site has no content folder", SourceLocation(content))])
    sections = sorted(p.name for p in content.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    patterns = {}
    for section, given in permalinks.items():
        if isinstance(given, str) and section in sections:
            patterns[section] = _hugo_pattern(site, given, section, ending)
    uses_slug = [s for s, g in permalinks.items() if isinstance(g, str) and ":slug" in g and "or" not in g]
    if uses_slug:
        site.settings["slug_source"] = "title"
        site.note("Hugo's :slug falls back to the title: so does newsdigest's here (slug_source: title)")
    site.settings["permalink"] = f"/:path/:slug{ending}"
    site.note(f"posts in sections without a permalink: /:path/:slug{ending}, as Hugo gives them")
    if patterns:
        site.settings["collections"] = [
            {
                "key": s,
                "title": s.replace("-", " ").replace("_", " ").title(),
                **({"permalink": patterns[s]} if s in patterns else {}),
            }
            for s in sections
            if s in patterns or _has_dated(content / s)
        ]
        for section, pattern in patterns.items():
            site.note(f"section {section}: Hugo's {permalinks[section]!r} is {pattern} here")
    _dateless_pages(site, content, f"/:path/:filename{ending}")
    _cascades(site, content)
    if isinstance(data.get("cascade"), (dict, list)):
        site.note("the configuration's cascade is not read (a section's _index.md cascade is)")
    site.copies.append((content, ""))
    statics = data.get("staticdir") or mounted["static"] or "static"
    for folder in statics if isinstance(statics, list) else [statics]:
        if (root / str(folder)).is_dir():
            site.copies.append((root / str(folder), ""))
            site.note(f"{folder}/: published at the site's root, as Hugo publishes it")
    for name in _HUGO_NOT_COPIED:
        if (root / name).is_dir():
            site.skipped.append(f"{name}/: Hugo's own (templates, data, build)")
    _params(site, _mapping(data.get("params")), "{{< param x >}}")
    disabled = data.get("disablekinds")
    if "rss" not in [str(k).lower() for k in (disabled if isinstance(disabled, list) else [])]:
        site.feed_alias("rss", "index.xml")  # Hugo's RSS of the home page
    taxonomies = data.get("taxonomies")
    if isinstance(taxonomies, dict):
        for plural in taxonomies.values():
            if plural not in ("tags", "categories"):
                site.note(
                    f"the taxonomy {plural!r} is kept as a field for templates (article.extra), not listed"
                )
    languages = data.get("languages")
    if isinstance(languages, dict) and len(languages) > 1:
        site.note(f"{len(languages)} languages: each article keeps its own; translations are not linked yet")
    return site


def _hugo_pattern(site: OldSite, pattern: str, section: str, ending: str) -> str:
    found = pattern if pattern.startswith("/") else "/" + pattern
    for token in sorted(set(re.findall(r":[a-z]+", found)), key=len, reverse=True):
        if token in _HUGO_TOKENS:
            found = found.replace(token, _HUGO_TOKENS[token])
        else:
            site.note(f"cannot keep Hugo's {token} in the permalink of {section} ({pattern!r}): left out")
            found = found.replace(token, "")
    found = re.sub(r"/{2,}", "/", found)
    return found if found.endswith(("/", ".html")) else found.rstrip("/") + ending


def _dateless_pages(site: OldSite, content: Path, pattern: str) -> None:
    """Hugo and Zola publish a file without a date as a page: each gets `type: page` (and its old
    URL) from `defaults:`, one scope for a folder none of whose files below has a date, else one for
    each such file."""
    dated: dict[str, bool] = {}  # a file's id (its path under content/) -> has it a date
    for path in sorted(content.rglob("*")):
        relative = path.relative_to(content)
        hidden = any(p.startswith(".") for p in relative.parts)
        section = path.stem == "_index" and len(relative.parts) <= 2  # the home's, a collection's: no page
        if path.suffix in ARTICLE_SUFFIXES and not section and not hidden and path.is_file():
            dated[relative.as_posix()] = _is_dated(path)
    scopes: list[str] = []
    for name, has_date in dated.items():
        if has_date or any(name.startswith(s + "/") for s in scopes):
            continue
        parts = name.split("/")
        folder = next(
            (
                "/".join(parts[:depth])
                for depth in range(1, len(parts))
                if not any(d for n, d in dated.items() if n.startswith("/".join(parts[:depth]) + "/"))
            ),
            name,  # a folder with dated files in it: this file alone
        )
        scopes.append(folder)
    defaults = site.settings.setdefault("defaults", [])
    for scope in scopes:
        defaults.append({"scope": {"path": scope}, "values": {"type": "page", "permalink": pattern}})
    site.pages += [s for s in scopes if s not in site.pages]
    if not defaults:
        site.settings.pop("defaults")


def _cascades(site: OldSite, content: Path) -> None:
    """Hugo's `cascade:` in a section's `_index.md` (values for every file below it) as `defaults:`
    for its folder; a cascade aimed at some kinds or paths only (`target:`) is said, not read."""
    defaults = site.settings.setdefault("defaults", [])
    for path in sorted(content.rglob("_index.*")):
        if path.suffix not in ARTICLE_SUFFIXES:
            continue
        cascade = _front_matter(path).get("cascade")
        folder = path.parent.relative_to(content).as_posix()
        for values in (
            cascade if isinstance(cascade, list) else [cascade] if isinstance(cascade, dict) else []
        ):
            if not isinstance(values, dict):
                continue
            if "target" in values or "_target" in values:
                site.note(f"{folder}/_index.md: a cascade with a target is not read")
                continue
            defaults.append({"scope": {"path": "" if folder == "." else folder}, "values": dict(values)})
            site.note(
                f"{folder}/_index.md: its cascade gives every file below it {', '.join(map(str, values))}"
            )
    if not defaults:
        site.settings.pop("defaults")


def _front_matter(path: Path) -> dict[str, Any]:
    """The fields of the article file at `path`, with lowercase keys; none for a broken one (the
    build names it)."""
    try:
        found = split(path.read_text(encoding="utf-8", errors="replace")[:65536], path)
    except Exception:  # any reader's error: the build reports it at its line
        return {}
    return {str(k).lower(): v for k, v in found.meta.items()}


def _has_dated(folder: Path) -> bool:
    """Whether an article file below `folder` has a date: a section of posts, not of pages."""
    return any(
        p.suffix in ARTICLE_SUFFIXES and p.stem != "_index" and _is_dated(p) for p in folder.rglob("*")
    )


def _is_dated(path: Path) -> bool:
    meta = _front_matter(path)
    if re.match(r"\d{4}-\d{2}-\d{2}", path.name) or not meta:
        return True
    old_url = next((str(meta[k]) for k in ("path", "url", "permalink") if isinstance(meta.get(k), str)), "")
    dated_url = re.search(r"(?:^|/)\d{4}/\d{2}/\d{2}/", old_url)  # Zola's path = "2020/09/03/name"
    return bool(dated_url) or any(meta.get(k) for k in ("date", "publishdate", "pubdate", "published"))


# --- Zola --------------------------------------------------------------------------------------


def _zola(root: Path, data: dict[str, Any]) -> OldSite:
    site = OldSite("Zola", root, root / "config.toml")
    _common(
        site, data.get("title"), _base_url(_text(data.get("base_url"))), None, data.get("default_language")
    )
    if _text(data.get("description")):
        site.settings["description"] = _text(data.get("description"))
    site.settings["permalink"] = "/:path/:slug/"
    site.note("pages: /:path/:slug/, as Zola gives them (its section's path and the slug)")
    content = root / "content"
    _dateless_pages(site, content, "/:path/:slug/")
    site.copies.append((content, ""))
    if (root / "static").is_dir():
        site.copies.append((root / "static", ""))
    if data.get("generate_feeds") or data.get("generate_feed"):
        names = data.get("feed_filenames") or [data.get("feed_filename") or "atom.xml"]
        for name in names if isinstance(names, list) else []:
            site.feed_alias("rss" if "rss" in str(name) else "atom", str(name))
        site.note("static/: published at the site's root, as Zola publishes it")
    for name in ("templates", "sass", "themes", "public"):
        if (root / name).is_dir():
            site.skipped.append(f"{name}/: Zola's own (templates, styles, build)")
    languages = data.get("languages")
    if isinstance(languages, dict) and languages:
        site.note(
            f"{len(languages) + 1} languages: each article keeps its own; translations are not linked yet"
        )
    return site


# --- Pelican -----------------------------------------------------------------------------------

_PELICAN_TOKENS = {
    "{slug}": ":slug", "{date:%Y}": ":year", "{date:%m}": ":month", "{date:%d}": ":day",
    "{category}": ":categories", "{date:%y}": "", "{lang}": "",
}  # fmt: skip


def _pelican(root: Path) -> OldSite:
    path = root / "pelicanconf.py"
    settings = _pelican_settings(path)
    site = OldSite("Pelican", root, path)
    _common(
        site,
        settings.get("SITENAME"),
        _base_url(_text(settings.get("SITEURL"))),
        settings.get("TIMEZONE"),
        settings.get("DEFAULT_LANG"),
    )
    from_name = "(?P<slug>" in _text(settings.get("FILENAME_METADATA"))  # the slug is the file's name
    if settings.get("SLUGIFY_SOURCE", "title") == "title" and not from_name:
        site.settings["slug_source"] = "title"
    site.settings["permalink"] = _pelican_url(site, settings, "ARTICLE", "{slug}.html")
    page_pattern = _pelican_url(site, settings, "PAGE", "pages/{slug}.html")
    page_paths = settings.get("PAGE_PATHS") or ["pages"]
    site.settings["defaults"] = [
        {"scope": {"path": str(p).strip("/")}, "values": {"type": "page", "permalink": page_pattern}}
        for p in page_paths
        if isinstance(p, str)
    ]
    site.note(f"pages are the files of {', '.join(f'{p}/' for p in page_paths)}")
    site.note("category and tag pages move (Pelican's /category/x.html is /x/ here, /tag/y.html is "
              "/tags/y/): each old one redirects")  # fmt: skip
    content = root / (_text(settings.get("PATH")) or "content")
    moved = settings.get("EXTRA_PATH_METADATA")
    for source, meta in moved.items() if isinstance(moved, dict) else []:
        target = _text(meta.get("path")) if isinstance(meta, dict) else ""
        safe = target and not target.startswith((".", "/")) and ".." not in target.split("/")
        if safe and (content / str(source)).is_file():
            site.copies.append((content / str(source), target))
            site.moved.add(str(source))
            site.note(f"{source} is published as {target} (EXTRA_PATH_METADATA)")
    site.copies.append((content, ""))
    feeds = {"FEED_ALL_ATOM": "feeds/all.atom.xml", "FEED_ATOM": None, "FEED_ALL_RSS": None, "FEED_RSS": None}
    for name, default in feeds.items():
        value = settings.get(name, default)
        if isinstance(value, str) and value:
            site.feed_alias("atom" if "ATOM" in name else "rss", value)
    site.list_urls = {
        "category": _text(settings.get("CATEGORY_SAVE_AS"))
        or _text(settings.get("CATEGORY_URL"))
        or "category/{slug}.html",
        "tag": _text(settings.get("TAG_SAVE_AS")) or _text(settings.get("TAG_URL")) or "tag/{slug}.html",
    }
    if settings.get("DEFAULT_DATE"):
        site.note(f"DEFAULT_DATE {settings['DEFAULT_DATE']!r} is not honoured: an article needs its own date")
    for name in ("PLUGINS", "THEME"):
        if settings.get(name):
            site.note(f"{name} is not honoured (newsdigest runs no plugins and has its own theme)")
    for unread in settings.get("__unread__", []):
        site.note(f"pelicanconf.py: {unread} is computed, not a plain value: not read")
    return site


def _pelican_url(site: OldSite, settings: dict[str, Any], kind: str, default: str) -> str:
    """The pattern of `kind`'s (ARTICLE's, PAGE's) URLs: where Pelican saves them (`_SAVE_AS`), which
    is where the links lead (`_URL` may leave out `.html` or `index.html`, for the host to add)."""
    url = _text(settings.get(f"{kind}_URL")) or default
    saved = _text(settings.get(f"{kind}_SAVE_AS"))
    written = saved if saved.removesuffix("index.html") else url
    pattern = _pelican_pattern(site, written, f"{kind}_SAVE_AS" if written == saved else f"{kind}_URL")
    site.note(f"{kind.lower()}s: Pelican's {kind}_URL {url!r} is {pattern} here")
    return pattern


def _pelican_settings(path: Path) -> dict[str, Any]:
    """The plain values (literals) assigned at the top of pelicanconf.py, read with `ast`: the file is
    never run. A computed value is named in `__unread__`."""
    try:
        source = path.read_bytes()
        if len(source) > MAX_CONFIG_BYTES:
            raise BuildFailed([ConfigError("pelicanconf.py is larger than 1 MB", SourceLocation(path))])
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise BuildFailed(
            [ConfigError(f"cannot read it: {exc.msg}", SourceLocation(path, exc.lineno or 0))]
        ) from None
    except OSError as exc:
        raise BuildFailed([ConfigError(f"cannot read it: {exc.strerror}", SourceLocation(path))]) from None
    found: dict[str, Any] = {"__unread__": []}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if not name.isupper():
                continue
            try:
                found[name] = _plain_value(node.value, found)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                found["__unread__"].append(name)
    return found


def _plain_value(node: ast.expr, known: dict[str, Any]) -> Any:
    """A literal, a setting assigned above (`ARTICLE_SAVE_AS = ARTICLE_URL`) or texts added together
    (`PAGE_URL + 'index.html'`); raises ValueError for anything else: nothing is ever run."""
    if isinstance(node, ast.Name) and node.id in known and node.id != "__unread__":
        return known[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _plain_value(node.left, known), _plain_value(node.right, known)
        if isinstance(left, str) and isinstance(right, str) and len(left) + len(right) < 10_000:
            return left + right
        raise ValueError("not texts")
    return ast.literal_eval(node)


def _pelican_pattern(site: OldSite, pattern: str, name: str) -> str:
    found = "/" + pattern.strip().removesuffix("index.html").lstrip("/")
    for token, ours in _PELICAN_TOKENS.items():
        found = found.replace(token, ours)
    for token in re.findall(r"\{[^}]*\}", found):
        site.note(f"cannot keep Pelican's {token} in {name} ({pattern!r}): left out")
        found = found.replace(token, "")
    found = re.sub(r"/{2,}", "/", found)
    return found if found.endswith(("/", ".html")) else found + "/"
