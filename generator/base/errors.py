"""Errors the user sees: each names a file, the line where known, and what to fix.

Stages collect `SiteError`s and raise `BuildFailed` once with all of them;
only `cli.py` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A place in a source file; `line` and `column` count from 1, 0 if unknown."""

    path: Path
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        text = _display(self.path)
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as text: a build cache holds thousands of these, and the default pickling
        # of a frozen dataclass holding a Path is four times slower to load.
        return (_location, (str(self.path), self.line, self.column))


def _location(path: str, line: int, column: int) -> SourceLocation:
    return SourceLocation(Path(path), line, column)


def _display(path: Path) -> str:
    """The path relative to the current folder when it lies below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class SiteError(Exception):
    """A problem in the user's site, located in one of its files."""

    kind = "error"

    def __init__(self, message: str, location: SourceLocation | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.location, self.hint))

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.kind}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, SiteError)
            and (other.message, other.location, other.hint) == (self.message, self.location, self.hint)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.message, self.location, self.hint))


class ConfigError(SiteError):
    """`config.yaml` is missing, malformed, or has a bad value."""


class FrontMatterError(SiteError):
    """An article cannot be read or its front matter is invalid."""


class CollectionError(SiteError):
    """An article names a collection that does not exist."""


class TranslationError(SiteError):
    """Two translations of one article in one language, or a translation key that names nothing."""


class TemplateError(SiteError):
    """A theme template failed to load or render."""


class OutputConflictError(SiteError):
    """Two sources would write the same output file, or a path leaves the output folder."""


class LinkError(SiteError):
    """A page links to something the site does not have."""


class MediaError(SiteError):
    """A file an article uses (an image, a document) is missing or cannot be read."""

    def __init__(
        self, message: str, location: SourceLocation | None = None, hint: str | None = None, address: str = ""
    ) -> None:
        super().__init__(message, location, hint)
        self.address = address  # as the article wrote it

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.location, self.hint, self.address))


class OutputError(SiteError):
    """The output folder cannot be written safely."""


class SiteWarning(SiteError):
    """Something the build worked around, reported without failing."""

    kind = "warning"


def warning_record(warning: SiteError) -> list[object]:
    """`warning` as JSON can keep it (the build cache says the last build's warnings again)."""
    where = warning.location
    return [warning.message, str(where.path) if where else None, where.line if where else 0, warning.hint]


def warning_from(record: object) -> SiteWarning:
    """The warning a `warning_record` was made of (a damaged record reads as its text)."""
    if isinstance(record, list) and len(record) == 4:
        message, path, line, hint = record
        where = SourceLocation(Path(path), int(line)) if isinstance(path, str) else None
        return SiteWarning(str(message), where, str(hint) if hint else None)
    return SiteWarning(str(record))


class BuildFailed(Exception):
    """One or more `SiteError`s stopped the build; `errors` lists all of them."""

    def __init__(self, errors: list[SiteError] | tuple[SiteError, ...]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
