"""Hostile input through the real command, in a process of its own with a time and memory limit:
alias bombs, deep nesting, aliases inside themselves, control characters and NUL in config.yaml and
in front matter. The answer is always exit 1 with an error at the file's line; never a traceback,
a hang or a memory blow-up."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import article_text, run_cli

CONFIG = "title: Hostile\nbase_url: https://example.org/\nsearch: false\ncollections: [{key: world, title: World}]\n"
MEMORY = 1024 * 1024 * 1024  # bytes a build may use
SECONDS = 60


def alias_bomb(levels: int, width: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def nesting(depth: int, flow: bool) -> str:
    if flow:
        return "deep: " + "[" * depth + "]" * depth + "\n"
    return "deep:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, depth)) + "  " * depth + "end\n"


FORBIDDEN = st.sampled_from(
    ["\x00", "\x01", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f", "\ufffe"]
)
BOMBS = st.builds(alias_bomb, st.integers(6, 10), st.integers(6, 12))
DEEP = st.builds(nesting, st.integers(60, 20_000), st.booleans())
SELF = st.sampled_from(["date: &x [*x]\n", "tags: &t {a: *t}\n", "x: &a [1, [2, *a]]\n"])
YAML = st.one_of(BOMBS, DEEP, SELF)


def limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def build(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", "build", "-s", str(root)],
        capture_output=True, text=True, timeout=SECONDS, preexec_fn=limit,
    )  # fmt: skip


def build_here(root: Path) -> subprocess.CompletedProcess[str]:
    """`build` in this process, for input that needs no memory limit (control characters): the
    command's output and exit status are the same, without starting Python each time."""
    code, out, err = run_cli("build", "-s", str(root))
    return subprocess.CompletedProcess([], code, out, err)


def site(tmp: Path, config: str = CONFIG, article: str | None = None) -> Path:
    root = tmp / f"site{len(list(tmp.iterdir()))}"
    (root / "content" / "world").mkdir(parents=True)
    (root / "config.yaml").write_text(config, encoding="utf-8")
    text = article if article is not None else article_text("Fine", "2020-09-03", collection="world")
    (root / "content" / "world" / "a.md").write_bytes(text.encode("utf-8", "surrogatepass"))
    return root


def assert_located(result: subprocess.CompletedProcess[str], name: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert name in result.stderr and ": error: " in result.stderr, result.stderr


SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.slow
@settings(SETTINGS, max_examples=8)  # each a process of its own: the same kinds as front matter's twelve
@given(payload=YAML)
def test_hostile_yaml_in_config_is_a_located_error(tmp_path: Path, payload: str) -> None:
    assert_located(build(site(tmp_path, CONFIG + payload)), "config.yaml")


@pytest.mark.slow
@SETTINGS
@given(payload=YAML)
def test_hostile_yaml_in_front_matter_is_a_located_error(tmp_path: Path, payload: str) -> None:
    article = f"---\ntitle: Hostile\ndate: 2020-09-03\ncollection: world\n{payload}---\n\nText.\n"
    assert_located(build(site(tmp_path, article=article)), "a.md")


@pytest.mark.slow
@SETTINGS
@given(char=FORBIDDEN, where=st.sampled_from(["title", "body", "config"]))
def test_control_characters_are_removed_from_articles_and_an_error_in_the_config(
    tmp_path: Path, char: str, where: str
) -> None:
    """In an article, as another generator or a browser would take it: built without the character,
    and a warning at its line; config.yaml, written by hand for this tool, must be fixed."""
    if where == "config":
        result = build_here(site(tmp_path, CONFIG.replace("Hostile", f"Host{char}ile")))
        assert_located(result, "config.yaml:1:")
        return
    title = f"Bad{char}title" if where == "title" else "Fine"
    body = f"First paragraph.\n\nA {char} in the text.\n" if where == "body" else "Text.\n"
    article = f"---\ntitle: {title}\ndate: 2020-09-03\ncollection: world\n---\n\n{body}"
    root = site(tmp_path, article=article)
    result = build_here(root)
    assert result.returncode == 0, result.stderr
    assert ("a.md:2:11: warning:" if where == "title" else "a.md:9:3: warning:") in result.stderr
    assert "it was removed" in result.stderr and "Traceback" not in result.stderr
    page = (root / "site" / "world" / "2020" / "09" / "03" / "a" / "index.html").read_text(encoding="utf-8")
    assert char not in page and ("Badtitle" in page if where == "title" else "A  in the text." in page)


@pytest.mark.slow
@SETTINGS
@given(
    escape=st.sampled_from(["\\0", "\\x07", "\\e", "\\x85", "\\u0001"]),
    where=st.sampled_from(["summary", "tags"]),
)
def test_control_characters_made_by_yaml_escapes_are_a_located_error(
    tmp_path: Path, escape: str, where: str
) -> None:
    value = f'"Bad{escape}value"'
    article = f"---\ntitle: Fine\ndate: 2020-09-03\ncollection: world\n{where}: {value}\n---\n\nText.\n"
    assert_located(build_here(site(tmp_path, article=article)), "a.md:5:")
    assert_located(build_here(site(tmp_path, CONFIG + f"description: {value}\n")), "config.yaml:5:")


@pytest.mark.slow
def test_a_paragraph_of_brackets_is_a_located_error_not_a_hang(tmp_path: Path) -> None:
    body = "First paragraph.\n\nSome " + "[" * 50_000 + "\n"
    result = build(
        site(tmp_path, article=article_text("Brackets", "2020-09-03", collection="world", body=body))
    )
    assert_located(result, "a.md:9:")
    assert "Python-Markdown" in result.stderr
