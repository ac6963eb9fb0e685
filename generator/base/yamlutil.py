"""Safe and bounded YAML loading shared by the config and front matter readers.

Uses libyaml's C loader when PyYAML was built with it (about 8 times faster)
and the pure-Python safe loader otherwise; both refuse arbitrary objects.
Text that could nest deeply or holds anchors is first read as events
(libyaml's event parser keeps its own stack; its composer recurses and
crashes the process on 100,000 nested brackets): more than `MAX_DEPTH`
levels, an alias inside the very node it names, or aliases that expand
to more than `MAX_VALUES` values (a "billion laughs" bomb) are errors at
their line, before anything is built.
Dates stay text here: PyYAML's own date parsing fails on values such as
`2020-13-45` with a bare ValueError, and the content stage gives a located
error for them instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from generator.base.errors import SourceLocation

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class SafeLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader, with plain scalars that look like dates left as text."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - the form PyYAML reads
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


MAX_DEPTH = 50
MAX_VALUES = 10_000
_OPENERS = "[{-?:\n"  # every nesting level needs at least one of these


# Characters that XML 1.0 forbids and HTML calls parse errors: C0 and C1 controls (but tab, line feed
# and carriage return), DEL, surrogates and noncharacters. Text holding one is refused at its line.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")


def find_forbidden(text: str) -> tuple[int, int, str] | None:
    """The line and column (from 1) of the first `FORBIDDEN` character in `text`, and what to say."""
    bad = FORBIDDEN.search(text)
    if bad is None:
        return None
    at = bad.start()
    message = f"the control character U+{ord(bad.group()):04X} is not allowed (XML and HTML forbid it)"
    return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at), message


def forbidden_value(data: Any) -> tuple[tuple[str, ...], str] | None:
    """The key path of the first value holding a `FORBIDDEN` character (which YAML's escapes such
    as "\\0" can make), and what to say; None if there is none."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            bad = FORBIDDEN.search(value)
            if bad:
                return (
                    path,
                    f"the control character U+{ord(bad.group()):04X} is not allowed (XML and HTML forbid it)",
                )
        elif isinstance(value, dict):
            stack += [((*path, str(k)), v) for k, v in value.items()]
            stack += [((*path, str(k)), str(k)) for k in value]
        elif isinstance(value, list):
            stack += [((*path, str(i)), v) for i, v in enumerate(value)]
    return None


class ShapeError(yaml.MarkedYAMLError):
    """YAML nested too deeply, or with aliases that refer to themselves or expand too far."""


class ValueProblem(Exception):
    """A YAML value that parsed but could not be built (e.g. `!!timestamp 2020-13-45`)."""


def load(text: str) -> Any:
    """Parse one YAML document with a safe loader.

    Raises `yaml.YAMLError` for malformed YAML and `ValueProblem` for a value
    PyYAML cannot construct.
    """
    if "&" in text or sum(map(text.count, _OPENERS)) >= MAX_DEPTH:
        check_shape(text)
    try:
        return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueProblem(str(exc)) from exc


def check_shape(text: str) -> None:
    """Raise `ShapeError` at the line where `text` nests too deeply or its aliases go too far."""
    open_nodes: list[list[Any]] = []  # [values so far, anchor] of each collection being read
    sizes: dict[str, int] = {}  # values each anchor stands for, aliases expanded
    total = 0
    for event in yaml.parse(text, Loader=SafeLoader):
        mark: Any = event.start_mark  # libyaml's marks are not the pure loader's type
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                raise ShapeError(problem=f"nested more than {MAX_DEPTH} levels deep", problem_mark=mark)
            open_nodes.append([1, event.anchor])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            size, anchor = open_nodes.pop()
            if anchor:
                sizes[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for _, anchor in open_nodes):
                raise ShapeError(
                    problem=f"the alias *{event.anchor} is inside the value it names", problem_mark=mark
                )
            size = sizes.get(event.anchor or "", 1)
        else:
            continue
        total += size
        if total > MAX_VALUES:
            raise ShapeError(
                problem=f"aliases expand to more than {MAX_VALUES:,} values; write the values out instead",
                problem_mark=mark,
            )
        if open_nodes:
            open_nodes[-1][0] += size


def located(exc: yaml.MarkedYAMLError, path: Path, first_line: int = 1) -> tuple[str, SourceLocation]:
    """What YAML says is wrong, and where in the file at `path` (whose text starts at its line
    `first_line`): the config, front matter and theme texts all report a YAML error this way."""
    context = str(exc.context or "")
    if exc.context_mark is not None and context.startswith("while scanning a quoted scalar"):
        # A quote that never closes: YAML notices at the end of the text; the editor needs its start.
        opened = exc.context_mark
        where = SourceLocation(path, opened.line + first_line, opened.column + 1)
        return "a quoted value starts here and its closing quote is missing", where
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return str(exc.problem or exc.context or exc), SourceLocation(path, first_line)
    where = SourceLocation(path, mark.line + first_line, mark.column + 1)
    return str(exc.problem or exc.context), where


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each mapping key's path (e.g. `("collections", "0", "title")`) to its 1-based line.

    Only called on the error path or for small files, so the pure composer's
    cost does not matter.
    """
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return lines
    _walk(root, (), lines)
    return lines


def _walk(node: yaml.Node | None, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = (*path, str(key.value))
            lines.setdefault(here, key.start_mark.line + 1)
            _walk(value, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            here = (*path, str(index))
            lines.setdefault(here, item.start_mark.line + 1)
            _walk(item, here, lines)
