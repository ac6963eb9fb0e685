"""Safe YAML loading shared by the config and front matter readers.

Uses libyaml's C loader when PyYAML was built with it (about 8 times faster)
and the pure-Python safe loader otherwise; both refuse arbitrary objects.
Dates stay text here: PyYAML's own date parsing fails on values such as
`2020-13-45` with a bare ValueError, and the content stage gives a located
error for them instead.
"""

from __future__ import annotations

from typing import Any

import yaml

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class SafeLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader, with plain scalars that look like dates left as text."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - the form PyYAML reads
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


class ValueProblem(Exception):
    """A YAML value that parsed but could not be built (e.g. `!!timestamp 2020-13-45`)."""


def load(text: str) -> Any:
    """Parse one YAML document with a safe loader.

    Raises `yaml.YAMLError` for malformed YAML and `ValueProblem` for a value
    PyYAML cannot construct.
    """
    try:
        return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueProblem(str(exc)) from exc


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map each mapping key's path (e.g. `("collections", "0", "title")`) to its 1-based line.

    Only called on the error path or for small files, so the pure composer's
    cost does not matter.
    """
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
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
