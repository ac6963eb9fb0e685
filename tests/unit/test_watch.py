from __future__ import annotations

import threading
import time
from pathlib import Path

from generator.build.config import parse_config
from generator.preview.watch import Watcher, classify, is_ignored

ROOT = Path("/site")
CONFIG = parse_config("", ROOT / "config.yaml")


def test_classify_content_theme_and_config() -> None:
    assert classify([ROOT / "content/world/a.md"], CONFIG) == {"content"}
    assert classify([ROOT / "themes/default/templates/base.html"], CONFIG) == {"theme"}
    assert classify([ROOT / "overrides/static/theme.css"], CONFIG) == {"theme"}
    assert classify([ROOT / "config.yaml"], CONFIG) == {"config"}
    assert classify([ROOT / "content/a.md", ROOT / "config.yaml"], CONFIG) == {"content", "config"}


def test_editor_files_caches_and_output_are_ignored() -> None:
    for name in (
        "content/.a.md.swp",
        "content/a.md~",
        "content/.#a.md",
        ".git/index",
        "site/index.html",
        "content/4913",
    ):
        assert is_ignored(ROOT / name, CONFIG), name
        assert classify([ROOT / name], CONFIG) == frozenset()
    assert not is_ignored(ROOT / "content/a.md", CONFIG)


def test_a_burst_of_saves_gives_one_call(tmp_path: Path) -> None:
    calls: list[frozenset[Path]] = []
    done = threading.Event()

    def on_change(paths: frozenset[Path]) -> None:
        calls.append(paths)
        done.set()

    watcher = Watcher([tmp_path], on_change, debounce=0.3).start()
    try:
        for i in range(5):
            (tmp_path / "a.md").write_text(f"save {i}", encoding="utf-8")
            time.sleep(0.02)
        (tmp_path / "b.md").write_text("other", encoding="utf-8")
        assert done.wait(5)
        time.sleep(0.5)
    finally:
        watcher.stop()
    assert len(calls) == 1
    assert {tmp_path / "a.md", tmp_path / "b.md"} <= calls[0]


def test_ignored_paths_do_not_trigger(tmp_path: Path) -> None:
    calls: list[frozenset[Path]] = []
    fired = threading.Event()

    def on_change(paths: frozenset[Path]) -> None:
        calls.append(paths)
        fired.set()

    watcher = Watcher([tmp_path], on_change, keep=lambda p: not p.name.endswith(".swp"), debounce=0.1).start()
    try:
        (tmp_path / ".a.md.swp").write_text("x", encoding="utf-8")
        time.sleep(0.3)
        (tmp_path / "a.md").write_text("x", encoding="utf-8")  # so that the watcher is seen to work
        assert fired.wait(5)
        time.sleep(0.3)
    finally:
        watcher.stop()
    assert calls == [frozenset({tmp_path / "a.md"})]


def test_the_output_and_cache_are_not_watched(tmp_path: Path) -> None:
    from generator.build.theme import find_theme
    from generator.preview.watch import watched_folders

    for name in ("content", "site/a/b", ".digest-cache", "themes/mine/templates", "overrides", "other"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "themes/mine/theme.yaml").write_text("extends: default\n", encoding="utf-8")
    config = parse_config("theme: mine\n", tmp_path / "config.yaml")
    chosen = find_theme(config)[0]
    deep, shallow = watched_folders(config, chosen)
    assert deep == sorted(
        [tmp_path / "content", tmp_path / "themes", tmp_path / "overrides", *chosen.folders[1:]]
    )
    assert shallow == [tmp_path]  # config.yaml, without the thousands of folders below site/
