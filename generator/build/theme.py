"""Theme stage: resolve `theme: NAME` into the folders, texts and static files a build uses.

Lookup order for every template and static file: the site's `overrides/`
folder, then the theme, then the theme it `extends:` (in `theme.yaml`), and
so on. A site's own `themes/NAME/` comes before the themes installed with
newsdigest, so a site outside this repository builds with `default`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import yaml

import generator
from generator.base import yamlutil
from generator.base.errors import BuildFailed, ConfigError, SiteError, SiteWarning, SourceLocation
from generator.base.model import Config, StaticFile
from generator.base.urls import is_safe_path

THEME_FILE = "theme.yaml"
OVERRIDES = "overrides"
FALLBACK_LANGUAGE = "en"
_THEME_KEYS = frozenset({"extends", "name", "description"})


def builtin_themes_dir() -> Path:
    """The themes shipped with newsdigest: inside the installed package, or the checkout's `themes/`."""
    package = Path(generator.__file__).parent
    installed = package / "themes"
    return installed if installed.is_dir() else package.parent / "themes"


@dataclass(frozen=True, slots=True)
class Theme:
    """A resolved theme: its chain of folders (the theme first, then what it extends)
    and the site's override folder, searched before all of them."""

    name: str
    folders: tuple[Path, ...]
    overrides: Path | None = None
    translations: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def folder(self) -> Path:
        return self.folders[0]

    @property
    def template_dirs(self) -> list[Path]:
        return self._dirs("templates")

    @property
    def static_dirs(self) -> list[Path]:
        return self._dirs("static")

    @property
    def card_dirs(self) -> list[Path]:
        return self._dirs("card")

    def _dirs(self, kind: str) -> list[Path]:
        bases = ([self.overrides] if self.overrides else []) + list(self.folders)
        return [base / kind for base in bases if (base / kind).is_dir()]

    def texts(self, language: str) -> Mapping[str, Any] | None:
        """The translation table for a language code such as `ru` or `en-GB`, if the theme has one."""
        for code in (language, language.split("-")[0]):
            table = self.translations.get(code.lower())
            if table is not None:
                return table
        return None


def find_theme(config: Config) -> tuple[Theme, tuple[SiteError, ...]]:
    """The theme `config.theme` names with its parents, and warnings; raises `BuildFailed` on errors."""
    where = SourceLocation(config.source or config.root / "config.yaml")
    folders: list[Path] = []
    name = config.theme
    while name:
        folder = _locate(config.root, name)
        if folder is None:
            raise BuildFailed(
                [
                    ConfigError(
                        f"theme '{name}' not found",
                        where if not folders else SourceLocation(folders[-1] / THEME_FILE),
                        f"available themes: {', '.join(available_themes(config.root)) or 'none'}; "
                        "a theme is a folder themes/NAME/ with templates/ and static/",
                    )
                ]
            )
        if folder in folders:
            chain = " -> ".join(f.name for f in [*folders, folder])
            raise BuildFailed(
                [
                    ConfigError(
                        f"themes extend each other in a loop: {chain}", SourceLocation(folder / THEME_FILE)
                    )
                ]
            )
        folders.append(folder)
        name = _read_theme_file(folder).get("extends", "")
    overrides = config.root / OVERRIDES
    theme = Theme(
        config.theme,
        tuple(folders),
        overrides if overrides.is_dir() else None,
        MappingProxyType(_translations(folders)),
    )
    warnings: list[SiteError] = []
    if theme.texts(config.language) is None:
        warnings.append(
            SiteWarning(
                f"theme '{theme.name}' has no texts for language '{config.language}';"
                f" using '{FALLBACK_LANGUAGE}'",
                where,
                f"add {theme.folder / 'i18n' / (config.language + '.yaml')}",
            )
        )
    return theme, tuple(warnings)


def has_template(theme: Theme, name: str) -> bool:
    """True if the theme chain (or the site's overrides) has the template `name`."""
    return any((folder / name).is_file() for folder in theme.template_dirs)


def input_folders(config: Config, theme: Theme | None) -> list[Path]:
    """The folders a build reads (besides config.yaml), those that exist: the content, the site's
    overrides and themes, and the theme chain's (or, when the theme is not known, the built-in
    themes). What `digest serve` watches, what the kept plan's frame covers, what deploy compares."""
    chain = theme.folders if theme else (builtin_themes_dir(),)
    folders = [config.content_dir, config.root / OVERRIDES, config.root / "themes", *chain]
    found = sorted({folder for folder in folders if folder.is_dir()})
    return [f for f in found if not any(other in f.parents for other in found)]  # none twice


def available_themes(root: Path) -> list[str]:
    return sorted(
        {
            p.name
            for base in (root / "themes", builtin_themes_dir())
            if base.is_dir()
            for p in base.iterdir()
            if _is_theme(p)
        }
    )


def _locate(root: Path, name: str) -> Path | None:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    for base in (root / "themes", builtin_themes_dir()):
        folder = base / name
        if _is_theme(folder):
            return folder
    return None


def _is_theme(folder: Path) -> bool:
    return (folder / "templates").is_dir() or (folder / THEME_FILE).is_file()


def _read_theme_file(folder: Path) -> dict[str, str]:
    path = folder / THEME_FILE
    if not path.is_file():
        return {}
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise BuildFailed(
            [ConfigError("theme.yaml must be a mapping such as 'extends: default'", SourceLocation(path, 1))]
        )
    errors: list[SiteError] = [
        ConfigError(
            f"unknown key '{key}' in theme.yaml",
            SourceLocation(path),
            "known keys: extends, name, description",
        )
        for key in data
        if key not in _THEME_KEYS
    ]
    if errors:
        raise BuildFailed(errors)
    return {k: str(v) for k, v in data.items() if v is not None}


def _translations(folders: list[Path]) -> dict[str, Mapping[str, Any]]:
    """Each language's texts, a child theme's keys replacing its parent's."""
    merged: dict[str, dict[str, Any]] = {}
    for folder in reversed(folders):
        i18n = folder / "i18n"
        if not i18n.is_dir():
            continue
        for path in sorted(i18n.glob("*.yaml")):
            table = load_yaml(path)
            if not isinstance(table, dict):
                raise BuildFailed(
                    [ConfigError("a translation file must map keys to texts", SourceLocation(path, 1))]
                )
            merged.setdefault(path.stem.lower(), {}).update(table)
    return {lang: MappingProxyType(table) for lang, table in merged.items()}


def load_yaml(path: Path) -> Any:
    """A theme file's YAML; raises `BuildFailed` with a located error if it cannot be read."""
    try:
        return yamlutil.load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        problem, where = yamlutil.located(exc, path)
        raise BuildFailed([ConfigError(f"invalid YAML: {problem}", where)]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError, yamlutil.ValueProblem) as exc:
        raise BuildFailed([ConfigError(f"cannot read {path.name}: {exc}", SourceLocation(path))]) from None


def static_files(theme: Theme) -> tuple[StaticFile, ...]:
    """Every file of the theme chain's static folders, as it will sit under `static/` in the output.

    The first folder holding a path wins (overrides, then the theme, then its
    parents); hidden files, and links to files outside the folder, are skipped.
    """
    chosen: dict[PurePosixPath, StaticFile] = {}
    for folder in theme.static_dirs:
        real_folder = folder.resolve()
        for path in sorted(folder.rglob("*")):
            out = PurePosixPath("static") / path.relative_to(folder).as_posix()
            # A link that leads out of the static folder could publish any file on the machine.
            is_inside = real_folder in path.resolve().parents
            if path.is_file() and is_inside and is_safe_path(out):
                chosen.setdefault(out, StaticFile(out, path))
    return tuple(sorted(chosen.values(), key=lambda s: s.path))
