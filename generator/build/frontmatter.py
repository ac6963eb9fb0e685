"""Front matter as real archives write it: YAML between `---` (Jekyll, Hugo, newsdigest), TOML between
`+++` (Hugo, Zola), a JSON object (Hugo) and Pelican's `Key: value` header.

`split(text, path)` gives the fields as a dict, the body and the line the body
starts at; `FrontMatter.lines()` maps each field to its line in the file, so
that field errors are located whatever the format. Errors are
`FrontMatterError`s at their line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib
import yaml

from generator.base import yamlutil
from generator.base.errors import FrontMatterError, SourceLocation

_LEAD = re.compile(r"\ufeff?(?:[ \t]*\r?\n)*")  # a byte order mark and blank lines
_FENCE = re.compile(r"^(---|\+\+\+)[ \t]*\r?$", re.MULTILINE)
_CLOSE = {
    "---": re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE),
    "+++": re.compile(r"^\+\+\+[ \t]*\r?$", re.M),
}
_PELICAN_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_ -]*?)\s*:\s?(.*)$")
_KEY_LINE = re.compile(r"^\s*\"?([A-Za-z_][\w-]*)\"?\s*[:=]")
_TOML_WHERE = re.compile(r"at line (\d+), column (\d+)")
_PELICAN_LISTS = ("authors",)  # comma-separated in Pelican: lists here (tags split anyway)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """An article file's fields and body."""

    meta: dict[str, Any]
    body: str
    body_line: int  # the line (from 1) the body starts at
    kind: str  # yaml, toml, json or pelican
    front: str  # the front matter's text
    front_line: int  # the line (from 1) the front matter's text starts at

    def lines(self) -> dict[tuple[str, ...], int]:
        """The line in the file (from 1) of each field, by its key path."""
        if self.kind == "yaml":
            found = yamlutil.key_lines(self.front)
        else:
            found = {}
            for number, line in enumerate(self.front.splitlines(), 1):
                match = _KEY_LINE.match(line)
                if match:
                    key = match.group(1).lower() if self.kind == "pelican" else match.group(1)
                    found.setdefault((key,), number)
        return {key: line + self.front_line - 1 for key, line in found.items()}


def split(text: str, path: Path) -> FrontMatter:
    """The front matter and body of an article file's `text`; raises `FrontMatterError`.

    A byte order mark and blank lines before the opening fence are skipped, as Hugo does (lines
    still count from the top of the file)."""
    lead = _LEAD.match(text)
    start = lead.end() if lead else 0
    rest = text[start:]
    fence = _FENCE.match(rest)
    if fence:
        return _fenced(rest, path, fence.group(1), text.count("\n", 0, start))
    if text.lstrip("\ufeff \t\r\n").startswith("{"):
        return _json(text.lstrip("\ufeff"), path)
    bare = text.removeprefix("\ufeff")
    if _PELICAN_KEY.match(bare.split("\n", 1)[0]):
        return _pelican(bare)
    raise FrontMatterError(
        "no front matter found",
        SourceLocation(path, 1),
        "start the file with a line '---', then 'title:' and 'date:', then a closing '---' "
        "(TOML between '+++' lines, a JSON object, or Pelican's 'Title:' lines work too)",
    )


def _fenced(text: str, path: Path, fence: str, skipped: int = 0) -> FrontMatter:
    """The fenced front matter at the top of `text`, which starts at the line `skipped + 1` of the file."""
    start = text.index("\n") + 1 if "\n" in text else len(text)
    close = _CLOSE[fence].search(text, start)
    if not close:
        raise FrontMatterError(
            "front matter is not closed",
            SourceLocation(path, 1 + skipped),
            f"add a line '{fence}' after the last field",
        )
    front = text[start : close.start()]
    body_start = close.end() + 1
    body_line = text.count("\n", 0, body_start) + 1 + skipped
    kind = "yaml" if fence == "---" else "toml"
    first = 2 + skipped  # the file's line of the front matter's first line
    meta = _load_yaml(front, path, first) if kind == "yaml" else _load_toml(front, path, first)
    return FrontMatter(meta, text[body_start:], body_line, kind, front, first)


def _load_yaml(front: str, path: Path, first: int = 2) -> dict[str, Any]:
    try:
        meta = yamlutil.load(front) if front.strip() else {}
    except yaml.MarkedYAMLError as exc:
        problem, where = yamlutil.located(exc, path, first_line=first)  # the line after the opening '---'
        raise FrontMatterError(
            f"invalid YAML in front matter: {problem}",
            where,
            "check quoting: a value containing ': ' or starting with a quote must be quoted",
        ) from None
    except (yaml.YAMLError, yamlutil.ValueProblem) as exc:
        raise FrontMatterError(f"invalid value in front matter: {exc}", SourceLocation(path, first)) from None
    if meta is None:
        meta = {}  # nothing but comments (Hugo's snippets: "# Do not remove front matter.")
    if not isinstance(meta, dict):
        raise FrontMatterError("front matter must be 'key: value' lines", SourceLocation(path, first))
    return meta


def _load_toml(front: str, path: Path, first: int = 2) -> dict[str, Any]:
    try:
        meta = tomllib.loads(front)
    except RecursionError:
        raise FrontMatterError("TOML front matter nested too deeply", SourceLocation(path, first)) from None
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_WHERE.search(str(exc))
        line, col = (int(where.group(1)) + first - 1, int(where.group(2))) if where else (first, 0)
        message = str(exc).split(" (at ")[0]
        raise FrontMatterError(
            f"invalid TOML in front matter: {message}", SourceLocation(path, line, col)
        ) from None
    taxonomies = meta.pop("taxonomies", None)  # Zola: [taxonomies] tags = [...], categories = [...]
    if isinstance(taxonomies, dict):
        for name, values in taxonomies.items():
            meta.setdefault(str(name), values)
    return meta


def _json(text: str, path: Path) -> FrontMatter:
    start = len(text) - len(text.lstrip())
    try:
        meta, end = json.JSONDecoder().raw_decode(text, start)
    except RecursionError:
        raise FrontMatterError("JSON front matter nested too deeply", SourceLocation(path, 1)) from None
    except json.JSONDecodeError as exc:
        location = SourceLocation(path, exc.lineno, exc.colno)
        raise FrontMatterError(f"invalid JSON front matter: {exc.msg}", location) from None
    if not isinstance(meta, dict):
        raise FrontMatterError("JSON front matter must be an object", SourceLocation(path, 1))
    body = text[end:]
    body_line = text.count("\n", 0, end) + 1
    if body.startswith("\n"):
        body, body_line = body[1:], body_line + 1
    return FrontMatter(meta, body, body_line, "json", text[start:end], text.count("\n", 0, start) + 1)


def _pelican(text: str) -> FrontMatter:
    """Pelican's header: `Key: value` lines (keys in any case), then a blank line, then the body."""
    meta: dict[str, Any] = {}
    lines = text.split("\n")
    last = ""
    count = 0
    for count, line in enumerate(lines, 1):  # noqa: B007 - the last value is used below
        if not line.strip():
            break
        match = _PELICAN_KEY.match(line)
        if match and not line[:1].isspace():
            last = match.group(1).strip().lower().replace(" ", "_")
            meta[last] = match.group(2).strip()
        elif last:
            meta[last] = f"{meta[last]} {line.strip()}"
    else:
        count += 1
    for key in _PELICAN_LISTS:
        if isinstance(meta.get(key), str):
            meta[key] = [name.strip() for name in meta[key].split(",") if name.strip()]
    front = "\n".join(lines[: count - 1])
    return FrontMatter(meta, "\n".join(lines[count:]), count + 1, "pelican", front, 1)
