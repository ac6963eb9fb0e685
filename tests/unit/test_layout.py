"""The package's shape: stages never reach into the incremental layer, and no module imports in a circle."""

from __future__ import annotations

import ast

from tests.conftest import REPO

PACKAGE = REPO / "generator"
# The incremental layer around the plain build, and what drives it.
LAYER = {"cache", "keys", "planstore", "incremental", "session", "pipeline", "cli"}
STAGES = {
    "config",
    "theme",
    "reading",
    "content",
    "markup",
    "topics",
    "plan",
    "views",
    "render",
    "feeds",
    "search",
    "writer",
}


def imports() -> dict[str, set[str]]:
    """Each module of the package and the modules of the package it imports (at any depth of its code)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        found[path.stem] = names
    return {module: names & set(found) for module, names in found.items()}


def test_no_module_imports_itself_through_others() -> None:
    graph = imports()
    for start in graph:
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            assert module != start, f"{start} imports itself through {sorted(seen)}"
            if module not in seen:
                seen.add(module)
                todo += graph[module]


def test_stages_know_nothing_of_the_incremental_layer() -> None:
    graph = imports()
    assert set(graph) >= STAGES and set(graph) >= LAYER
    for stage in STAGES:
        assert not graph[stage] & LAYER, f"{stage} imports {sorted(graph[stage] & LAYER)}"


def test_the_kept_plan_needs_neither_the_orchestrator_nor_a_renderer() -> None:
    graph = imports()
    reached, todo = set(), ["planstore"]
    while todo:
        for module in graph[todo.pop()] - reached:
            reached.add(module)
            todo.append(module)
    assert not reached & {"pipeline", "render", "incremental", "session"}


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
