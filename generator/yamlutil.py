"""Safe YAML loading shared by the config and front matter readers.

Uses libyaml's C loader when PyYAML was built with it (about 8 times faster)
and the pure-Python safe loader otherwise; both refuse arbitrary objects.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """Parse one YAML document with a safe loader."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - SafeLoader or CSafeLoader


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
