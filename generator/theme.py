"""Theme lookup: which folders hold the templates and static files of `theme: NAME`.

A site's own `themes/NAME/` comes first; the themes installed with newsdigest
are the fallback, so a site outside this repository builds with `default`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import generator

from .errors import ConfigError, SourceLocation
from .model import Config, StaticFile
from .urls import is_safe_path


def builtin_themes_dir() -> Path:
    """The themes shipped with newsdigest: inside the installed package, or the checkout's `themes/`."""
    package = Path(generator.__file__).parent
    installed = package / "themes"
    return installed if installed.is_dir() else package.parent / "themes"


@dataclass(frozen=True, slots=True)
class Theme:
    """A resolved theme: its name and its folder."""

    name: str
    folder: Path

    @property
    def template_dirs(self) -> list[Path]:
        return [self.folder / "templates"]

    @property
    def static_dirs(self) -> list[Path]:
        return [self.folder / "static"]


def find_theme(config: Config) -> Theme:
    """The theme `config.theme` names; raises `ConfigError` if no such folder exists."""
    for base in (config.root / "themes", builtin_themes_dir()):
        folder = base / config.theme
        if (folder / "templates").is_dir():
            return Theme(config.theme, folder)
    available = sorted(
        p.name for base in (config.root / "themes", builtin_themes_dir()) if base.is_dir()
        for p in base.iterdir() if (p / "templates").is_dir()
    )  # fmt: skip
    raise ConfigError(
        f"theme '{config.theme}' not found",
        SourceLocation(config.source or config.root / "config.yaml"),
        f"available themes: {', '.join(available) or 'none'}; a theme is a folder themes/NAME/templates/",
    )


def static_files(theme: Theme) -> tuple[StaticFile, ...]:
    """Every file below the theme's static folders, as it will sit under `static/` in the output.

    Earlier folders win when two hold the same file; hidden files are skipped.
    """
    chosen: dict[PurePosixPath, StaticFile] = {}
    for folder in theme.static_dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            rel = PurePosixPath(path.relative_to(folder).as_posix())
            out = PurePosixPath("static") / rel
            if path.is_file() and is_safe_path(out):
                chosen.setdefault(out, StaticFile(out, path))
    return tuple(sorted(chosen.values(), key=lambda s: s.path))
