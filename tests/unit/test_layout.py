"""The package's shape: every module sits in a room, rooms import only what their `__init__.py` lists,
no room reaches back up, and no module imports in a circle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "generator"
TOP = {"generator", "generator.__main__", "generator.cli"}  # the command at the top of every room
STAGES = "build"
INCREMENTAL = "incremental"


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path) -> set[str]:
    """The modules of the package that the module `name` imports, absolutely or relatively, at any depth
    of its code (inside functions and `TYPE_CHECKING` too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names |= {f"{module}.{a.name}" for a in node.names}  # `from generator.build import plan`
    return {n for n in names if n == "generator" or n.startswith("generator.")}


def graph() -> dict[str, set[str]]:
    """Each module and the modules of the package it imports; the package itself holds only the version,
    which any module may read."""
    found = modules()
    assert not imported("generator", found["generator"]), "generator/__init__.py holds the version, no import"
    return {
        name: {n for n in imported(name, path) if n in found} - {name, "generator"}
        for name, path in found.items()
    }


def room_of(module: str) -> str:
    """`generator.build.plan` -> `build`; a top-level module's room is ''."""
    return module.split(".")[1] if module not in TOP else ""


def rooms() -> dict[str, set[str]]:
    """Each room and the rooms it may import, as the `Imports:` line of its `__init__.py` says."""
    allowed = {}
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        text = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        found = re.search(r"^Imports: (.*)\.$", text, re.MULTILINE)
        assert found, f"{init} must say which rooms it may import ('Imports: base, build.')"
        listed = found.group(1)
        allowed[init.parent.name] = set() if listed == "nothing" else set(listed.split(", "))
    return allowed


def test_every_module_is_in_a_room_or_is_the_command() -> None:
    allowed = rooms()
    for name, path in modules().items():
        if name in TOP:
            continue
        parts = name.split(".")
        assert len(parts) <= 3, f"{path}: rooms hold modules, not folders of their own"
        assert parts[1] in allowed, f"{path} is in no room: move it into one of {sorted(allowed)}"
    assert {p.stem for p in PACKAGE.glob("*.py")} == {"__init__", "__main__", "cli"}
    assert set(allowed) >= {"base", "build", "incremental", "driver", "importing", "publish", "preview"}


def test_rooms_import_only_what_they_list() -> None:
    allowed = rooms()
    for module, names in graph().items():
        room = room_of(module)
        if not room:
            continue
        for name in names:
            other = room_of(name)
            assert other, f"{module} imports {name}: rooms never import the command"
            assert other == room or other in allowed[room], (
                f"{module} imports {name}, but the room '{room}' may import only {sorted(allowed[room])}"
            )


def assert_no_cycle(edges: dict[str, set[str]], what: str) -> None:
    """No node of `edges` reaches itself; every node it names is one of them."""
    for start in edges:
        seen, todo = set(), list(edges[start])
        while todo:
            node = todo.pop()
            assert node != start, f"the {what} '{start}' imports itself through {sorted(seen)}"
            assert node in edges, f"the {what} '{start}' imports '{node}', which is none"
            if node not in seen:
                seen.add(node)
                todo += edges[node]


def test_rooms_import_in_one_direction() -> None:
    assert_no_cycle(rooms(), "room")
    with pytest.raises(AssertionError, match="imports itself"):  # the guard does see a cycle
        assert_no_cycle({"build": {"base"}, "base": {"incremental"}, "incremental": {"build"}}, "room")


def test_no_stage_imports_the_incremental_layer() -> None:
    assert INCREMENTAL not in rooms()[STAGES]
    for module, names in graph().items():
        if room_of(module) == STAGES:
            assert not {room_of(n) for n in names} - {STAGES, "base"}, f"{module} imports {sorted(names)}"


def test_no_module_imports_itself_through_others() -> None:
    assert_no_cycle(graph(), "module")


def test_the_kept_plan_needs_neither_the_driver_nor_a_renderer() -> None:
    edges = graph()
    reached, todo = set(), ["generator.incremental.keptplan"]
    while todo:
        for module in edges[todo.pop()] - reached:
            reached.add(module)
            todo.append(module)
    assert not reached & {"generator.driver.pipeline", "generator.build.render", "generator.preview.session"}


@pytest.mark.parametrize(
    ("source", "room", "imports"),
    [
        ("from generator.incremental import seal\n", "build", "incremental"),
        ("from ..incremental.cache import BuildCache\n", "build", "incremental"),
        ("def f():\n    from ...generator.driver import pipeline\n", "base", "driver"),
        ("import generator.preview.server\n", "build", "preview"),
    ],
)
def test_the_guard_sees_every_way_of_importing(tmp_path: Path, source: str, room: str, imports: str) -> None:
    path = tmp_path / "planted.py"
    path.write_text(source, encoding="utf-8")
    found = imported(f"generator.{room}.planted", path)
    assert imports in {room_of(n) for n in found if n.count(".") >= 1}


OUTSIDE = ".." + "/shared"  # the folder beside the repository that a user's clone does not have


def test_no_file_of_the_project_refers_outside_the_repository() -> None:
    for folder in ("bench", "tests", "generator"):
        for path in (REPO / folder).rglob("*"):
            if (
                path.suffix in (".py", ".md", ".sh", ".yaml", ".toml", ".cfg")
                and "node_modules" not in path.parts
            ):
                assert OUTSIDE not in path.read_text(encoding="utf-8"), path
    assert OUTSIDE not in (REPO / "README.md").read_text(encoding="utf-8")
