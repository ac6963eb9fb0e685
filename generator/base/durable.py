"""Writes that survive a power cut: the old content or the new, never an empty or torn file.

A rename is atomic for processes, but after a crash of the machine a renamed file may name blocks
that were never written, unless its data reached the disk first. So, as databases and git do:
write to a temporary name in the same folder, fsync the file, rename it over the old one, and fsync
the folder so the rename itself is kept. `fsync_tree` does the same for a folder made in full
before it is renamed into place (the site, a deploy): many files at once are flushed with one
`syncfs` of their file system (as git's `core.fsyncMethod=batch` does), a few one by one.

`DIGEST_DURABLE=0` in the environment turns every flush off, for throwaway builds (a CI job whose
machine is discarded); what a process kill can do stays covered by the renames alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MANY = 64  # from this many files on, one syncfs of the file system is cheaper than an fsync each


def write_atomic(path: Path, data: bytes) -> None:
    """`data` at `path`, durably, replacing what was there in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            if enabled():
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_folder(path.parent)


def replace_durably(source: Path, target: Path) -> None:
    """Rename `source` (a file already fsynced, or a folder made with `fsync_tree`) over `target`,
    and keep the rename: the folder that holds it is fsynced."""
    os.replace(source, target)
    fsync_folder(target.parent)


def enabled() -> bool:
    return os.environ.get("DIGEST_DURABLE", "1") != "0"


def flush(root: Path, files: Iterable[Path] | None = None) -> None:
    """Make the data and names of `files` below `root` (of every file below it, for None) durable,
    before they are renamed into a published place."""
    if not enabled():
        return
    listed = None if files is None else list(files)
    if (listed is None or len(listed) >= MANY) and _syncfs(root):
        return
    fsync_tree(root, listed)


def fsync_file(path: Path) -> None:
    if not enabled():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: Path) -> None:
    """Keep the names in `folder` (its new and renamed entries); a no-op where folders cannot be
    opened (Windows), whose renames are kept by the file system itself."""
    if not enabled():
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # a file system that cannot sync folders (some network ones): nothing more can be done
    finally:
        os.close(fd)


def fsync_tree(root: Path, files: list[Path] | None = None) -> None:
    """fsync every file below `root` (or just `files`), then every folder, deepest first."""
    folders: set[Path] = {root}
    for path in files if files is not None else (p for p in root.rglob("*") if p.is_file()):
        fsync_file(path)
        folders.update(parent for parent in path.parents if parent.is_relative_to(root))
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        fsync_folder(folder)


def _syncfs(root: Path) -> bool:
    """syncfs(2) of the file system that holds `root` (Linux); False where there is none."""
    call = _libc_syncfs()
    if call is None:
        return False
    try:
        fd = os.open(root, os.O_RDONLY)
    except OSError:
        return False
    try:
        return bool(call(fd) == 0)
    finally:
        os.close(fd)


@functools.cache
def _libc_syncfs() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
