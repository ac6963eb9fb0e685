"""A power cut, simulated: what reached the disk is what was fsynced, nothing more.

`Disk(root)` watches the files below `root`: at every `os.fsync` of a file and every syncfs (the
project's `durable._syncfs`), it keeps a copy of each synced file's bytes by inode. `cut()` then
does to the folder what losing power does to a file system that writes back lazily: each file
whose bytes are not the ones last synced gets those (a file never synced comes back empty). The
old state, from before the watch, counts as on the disk. Renames are taken as kept (the folders'
own fsyncs are recorded in `synced_folders`, for the tests to check).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from generator.base import durable


class Disk:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.kept: dict[int, bytes] = {}
        self.synced_folders: set[Path] = set()
        self._sync_all()
        real_fsync = os.fsync

        def fsync(fd: Any) -> None:
            real_fsync(fd)
            number = fd if isinstance(fd, int) else fd.fileno()
            path = Path(os.readlink(f"/proc/self/fd/{number}"))
            info = os.fstat(number)
            if stat.S_ISDIR(info.st_mode):
                self.synced_folders.add(path)
            elif stat.S_ISREG(info.st_mode):
                self.kept[info.st_ino] = path.read_bytes()  # the fd may be open for writing only

        def syncfs(folder: Path) -> bool:
            self._sync_all()
            return True

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(durable, "_syncfs", syncfs)

    def _sync_all(self) -> None:
        for path in self._files():
            self.kept[path.stat().st_ino] = path.read_bytes()

    def _files(self) -> list[Path]:
        return [p for p in self.root.rglob("*") if p.is_file() and not p.is_symlink()]

    def cut(self) -> list[str]:
        """Lose every write that was not synced; return the files that changed by it."""
        lost = []
        for path in self._files():
            kept = self.kept.get(path.stat().st_ino, b"")
            if path.read_bytes() != kept:
                path.write_bytes(kept)
                lost.append(path.relative_to(self.root).as_posix())
        return lost
