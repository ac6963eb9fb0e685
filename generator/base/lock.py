"""One build, deploy or preview rebuild at a time per site: a lock that a killed run never leaves held."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from generator.base.model import CACHE_DIR

try:
    import fcntl
except ImportError:  # Windows: runs there are not locked
    fcntl = None  # type: ignore[assignment]

LOCK = "lock"
IMPORT_LOCK = "import.lock"  # `digest import` checks for a story and writes it under this one


@contextlib.contextmanager
def site_lock(
    root: Path, waiting: Callable[[str], None] = lambda _: None, name: str = LOCK
) -> Iterator[None]:
    """Hold the site at `root` for one build, deploy or preview rebuild at a time.

    The lock is an `flock` on `.digest-cache/lock`: the system releases it
    when the process ends, however it ends, so a crashed run never leaves it
    held. If another run holds it, `waiting` is told and the call waits.
    """
    path = root / CACHE_DIR / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    except OSError:
        handle = None
    if handle is None:  # a read-only site cannot be built into itself, and has nothing to guard
        yield
        return
    with handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                waiting(f"another digest run (process {holder}) is working on this site; waiting for it")
                fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        yield


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
