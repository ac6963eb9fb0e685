"""Work spread over the machine's cores with worker processes.

Two stages use it: parsing articles (Markdown is CPU-bound and Python's
threads would take turns) and rendering pages. Small jobs stay in this
process, where starting workers would cost more than it saves.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS = 200  # below this, one process is faster than starting workers


def worker_count() -> int:
    """Cores this process may use; `DIGEST_WORKERS=1` turns the workers off."""
    wanted = os.environ.get("DIGEST_WORKERS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Workers that inherit this process's memory (and need nothing pickled to start) exist on Linux."""
    import multiprocessing  # only where workers may start: the import costs 15 ms

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def map_chunks(
    function: Callable[[Any, Sequence[Item]], Result],
    items: Sequence[Item],
    chunk_size: int,
    state: Any = None,
    min_items: int = MIN_ITEMS,
) -> Iterator[Result]:
    """`function(state, chunk)` for each chunk of `items`, in worker processes when that pays.

    Yields each chunk's results, in chunk order. Forked workers inherit `state`
    (for instance the whole site in memory) without pickling it; `function`
    must be a module-level function so that workers can find it by name.
    """
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    workers = min(worker_count(), len(chunks))
    if workers < 2 or len(items) < min_items or not can_fork():
        for chunk in chunks:
            yield function(state, chunk)
        return
    import multiprocessing

    context = multiprocessing.get_context("fork")
    # Objects that exist before the fork are never collected in the workers: this
    # keeps the collector from touching (and so copying) the memory they share.
    gc.collect()
    gc.freeze()
    try:
        with context.Pool(workers, initializer=_remember, initargs=(state,)) as pool:
            yield from pool.imap(_call, [(function, chunk) for chunk in chunks])
    finally:
        gc.unfreeze()


def beside(function: Callable[[], Result]) -> Callable[[], Result]:
    """`function()` (whose result JSON can carry) computed in a forked child process while this one
    goes on: call what this returns to wait for the result. Meant for a few hundred milliseconds of
    system calls (thousands of stats) that would otherwise take turns with this process's own.

    Where forking is not safe or pays nothing (one core, other threads running as in `digest serve`,
    not Linux), or the child fails, the result is computed in this process when it is asked for.
    """
    done: list[Result] = []

    def here() -> Result:
        if not done:
            done.append(function())
        return done[0]

    if not forks_beside():
        return here
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.close(read_end)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(json.dumps(function()).encode("utf-8"))
        finally:
            os._exit(0)
    os.close(write_end)

    def result() -> Result:
        if not done:
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            os.waitpid(pid, 0)
            with contextlib.suppress(ValueError):  # else the child failed: computed here
                done.append(json.loads(data))
        return here()

    return result


def forks_beside() -> bool:
    """Whether `beside` runs its function in a child process (else when its result is asked for)."""
    return worker_count() >= 2 and threading.active_count() == 1 and sys.platform.startswith("linux")


_STATE: Any = None  # set once in each worker process, never in the main one


def _remember(state: Any) -> None:
    global _STATE
    _STATE = state
    # The parent process answers Ctrl-C and `kill`, and ends its workers: a worker never prints a
    # KeyboardInterrupt traceback of its own (it inherits `digest serve`'s SIGTERM handler otherwise).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Parsing and rendering make many short-lived objects and few cycles; collecting
    # less often is measurably faster (bench/README.md).
    gc.set_threshold(100_000, 50, 100)


def _call(job: tuple[Callable[[Any, Sequence[Any]], Any], Sequence[Any]]) -> Any:
    function, chunk = job
    return function(_STATE, chunk)


def release_memory() -> None:
    """Give the memory that freed objects left in the heap back to the system, before workers are
    forked: a forked worker's resident size counts every page of its parent's that it maps."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:
        pass
