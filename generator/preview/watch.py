"""File watching for `digest serve`: watchdog events, debounced until changes settle.

`classify` is pure: it says which parts of the site a set of changed paths
touches, so the server can tell a content edit from a theme or config change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from generator.base.model import CACHE_DIR, Config
from generator.build.contentfiles import ARTICLE_SUFFIXES
from generator.build.theme import Theme, input_folders

# Folders whose changes never affect the site.
IGNORED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", CACHE_DIR, "node_modules", ".mypy_cache"})
# Files editors write next to the one being saved.
_TEMP_SUFFIXES = (".swp", ".swx", ".swo", ".tmp", "~", ".part", ".crdownload")


def is_ignored(path: Path, config: Config) -> bool:
    """True for editor scratch files, version control, caches and the output folder."""
    name = path.name
    if name.startswith((".#", "#")) or name.endswith(_TEMP_SUFFIXES) or name in ("4913", ".DS_Store"):
        return True
    if IGNORED_DIRS.intersection(path.parts):
        return True
    return _is_within(path, config.output_dir)


def classify(paths: Iterable[Path], config: Config) -> frozenset[str]:
    """Which parts of the site the changed `paths` touch: 'config', 'content', 'theme'."""
    kinds = set()
    for path in paths:
        if is_ignored(path, config):
            continue
        if path.name == "config.yaml" and path.parent == config.root:
            kinds.add("config")
        elif _is_within(path, config.content_dir):
            if path.suffix in ARTICLE_SUFFIXES or not path.suffix:
                kinds.add("content")
        else:
            kinds.add("theme")
    return frozenset(kinds)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def watched_folders(config: Config, chosen_theme: Theme | None) -> tuple[list[Path], list[Path]]:
    """(folders to watch with everything below them, folders to watch alone) for a site: what a
    build reads (`theme.input_folders`), and the site's own folder alone, for config.yaml.

    Below the site's folder lie the output and the cache, thousands of folders
    whose changes never matter and would overflow the system's queue of file events.
    """
    return input_folders(config, chosen_theme), [config.root]


class Watcher:
    """Calls `on_change(paths)` once a burst of file events has been quiet for `debounce` seconds."""

    def __init__(
        self,
        folders: Iterable[Path],
        on_change: Callable[[frozenset[Path]], None],
        keep: Callable[[Path], bool] = lambda _: True,
        debounce: float = 0.1,
        shallow: Iterable[Path] = (),
    ) -> None:
        self._on_change = on_change
        self._keep = keep
        self._debounce = debounce
        self._pending: set[Path] = set()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._observer = Observer()
        handler = _Handler(self._add)
        for folder in sorted(set(folders)):
            if folder.is_dir():
                self._observer.schedule(handler, str(folder), recursive=True)
        for folder in sorted(set(shallow)):  # e.g. the site folder, for config.yaml, but not site/
            if folder.is_dir():
                self._observer.schedule(handler, str(folder), recursive=False)

    def start(self) -> Watcher:
        self._observer.start()
        return self

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)
        with self._lock:
            if self._timer:
                self._timer.cancel()

    def _add(self, paths: list[Path]) -> None:
        kept = [p for p in paths if self._keep(p)]
        if not kept:
            return
        with self._lock:
            self._pending.update(kept)
            if self._timer:
                self._timer.cancel()
            self._timer = threading.Timer(self._debounce, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            paths, self._pending = frozenset(self._pending), set()
            self._timer = None
        if paths:
            self._on_change(paths)


class _Handler(FileSystemEventHandler):
    def __init__(self, add: Callable[[list[Path]], None]) -> None:
        self._add = add

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # the file events inside say what changed
        paths = [Path(str(event.src_path))]
        if getattr(event, "dest_path", ""):
            paths.append(Path(str(event.dest_path)))
        self._add(paths)
