"""Writer stage, the only code that touches the output folder.

A build writes through an `Output`: a `Transaction` on disk, or a
`MemoryOutput` for the preview and `digest check`. Its `sink` is a small picklable
object, so render workers can write the pages they render themselves (on
this machine two processes write files three times faster than one). Nothing
is visible until `commit`, which is all or nothing even if the process is
killed at any instant (see `Transaction`): the output folder holds the old
site or the new one, and the next build removes whatever a killed one left.
The writer refuses to replace a folder it did not create.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import shutil
import signal
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, Protocol

from generator.base import durable
from generator.base.errors import OutputError, SourceLocation
from generator.base.model import OutputFile, StaticFile
from generator.base.urls import is_safe_path, is_safe_text_path

MARKER = ".newsdigest"
MARKER_TEXT = "This folder is written by newsdigest; `digest build` replaces all of it.\n"
WORK_SUFFIX = ".digest-work"  # the folder beside the output where a build writes before its commit
JOURNAL = "commit.json"


def check_output_dir(output_dir: Path, protected: Iterable[Path]) -> None:
    """Raise `OutputError` unless `output_dir` is safe to replace wholesale.

    It must not be, or contain, any of the `protected` folders (the source,
    its content and theme), must not be a symbolic link, and if it exists and
    is not empty it must carry the marker of an earlier build.
    """
    target = output_dir.resolve()
    where = SourceLocation(output_dir)
    for folder in protected:
        folder = folder.resolve()
        if target == folder or target in folder.parents:
            raise OutputError(
                f"the output folder {output_dir} contains the site's own files ({folder})",
                where,
                "choose another output folder, such as site/",
            )
    if output_dir.is_symlink():
        raise OutputError("the output folder is a symbolic link", where, "give the real folder with --output")
    if output_dir.exists() and not output_dir.is_dir():
        raise OutputError("the output path exists and is not a folder", where, "remove it or choose --output")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not (output_dir / MARKER).is_file():
        raise OutputError(
            "the output folder exists and was not made by newsdigest; refusing to replace it",
            where,
            "empty or remove the folder yourself, or choose another one with --output",
        )


def is_ours(output_dir: Path) -> bool:
    """True if `output_dir` holds a site an earlier build wrote."""
    return (output_dir / MARKER).is_file()


def marker_field(output_dir: Path, name: str) -> str | None:
    """A `name: value` line of the output's marker (`build`, `unpublished`), or None."""
    try:
        text = (output_dir / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if key == name:
            return value.strip()
    return None


class Sink(Protocol):
    """Where rendered pages go, from any process: `put` gives what the building process is told."""

    def put(self, path: str, data: bytes) -> object: ...


class Output(Protocol):
    """Where a build's files go: on disk (`Transaction`) or in memory (`MemoryOutput`)."""

    @property
    def sink(self) -> Sink: ...

    def holds(self, path: str) -> bool:
        """True if the output has a file at `path` (from an earlier build or this one)."""

    def add(self, results: Iterable[tuple[str, object]]) -> None:
        """Take what `sink.put` gave for each path, as the pages come."""

    def write(self, outputs: Iterable[OutputFile]) -> None: ...

    def copy(self, static: Iterable[StaticFile]) -> None: ...


@dataclass(frozen=True, slots=True)
class MemorySink:
    """A sink that sends each page back to the building process."""

    def put(self, path: str, data: bytes) -> bytes:
        return data


class MemoryOutput:
    """The files of a build in memory: bytes, or the static file to read. Starts from `kept`."""

    def __init__(self, kept: Mapping[str, bytes | Path] | None = None) -> None:
        self.files: dict[str, bytes | Path] = dict(kept or {})
        self.sink = MemorySink()

    def holds(self, path: str) -> bool:
        return path in self.files

    def add(self, results: Iterable[tuple[str, object]]) -> None:
        for path, data in results:
            assert isinstance(data, bytes)
            self.files[path] = data

    def write(self, outputs: Iterable[OutputFile]) -> None:
        self.files.update((str(o.path), o.content) for o in outputs)

    def copy(self, static: Iterable[StaticFile]) -> None:
        self.files.update((str(s.path), s.source) for s in static)


@dataclass(frozen=True, slots=True)
class DiskSink:
    """Where the files of a build go before `commit`; safe to use from worker processes.

    Files go below `root`, a folder of the build's work folder. In an
    incremental build (`output` set) a file whose bytes the output folder
    already holds is skipped, so that its time stamp stays.
    """

    root: Path
    output: Path | None = None
    # The folders this process made below `root` (each process of the build keeps its own): a
    # page's folder is made once, not asked for again for every file in it and its parents.
    made: set[Path] = field(default_factory=set, compare=False)

    def put(self, path: str, data: bytes) -> str | None:
        """Write `data` for output `path`; return `path`, or None if nothing needed writing."""
        target = self._target(path)
        if self.output is not None and _holds(self.output / path, data):
            return None
        self._folder(target.parent)
        target.write_bytes(data)
        return path

    def copy(self, path: str, source: Path) -> str:
        target = self._target(path)
        self._folder(target.parent)
        shutil.copyfile(source, target)
        return path

    def _folder(self, folder: Path) -> None:
        if folder not in self.made:
            folder.mkdir(parents=True, exist_ok=True)
            self.made.update(folder.parents)
            self.made.add(folder)

    def pending(self, path: str) -> Path:
        """Where `put` wrote the file for `path`."""
        return self.root / path

    def _target(self, path: str) -> Path:
        if not is_safe_text_path(path):
            raise OutputError(f"refusing to write outside the output folder: {path}")
        return self.pending(path)


def _holds(existing: Path, data: bytes) -> bool:
    try:
        return existing.stat().st_size == len(data) and existing.read_bytes() == data
    except OSError:
        return False


def work_dir(output_dir: Path) -> Path:
    """The folder beside `output_dir` where a build writes before its commit; gone after each build."""
    output_dir = output_dir.absolute()
    return output_dir.with_name(f".{output_dir.name}{WORK_SUFFIX}")


class Transaction:
    """The files of one build: written as they come, from any process, and shown all at once.

    Everything is written into the work folder beside the output (on the
    same file system, so that the commit only renames). A whole build writes
    a complete site there and swaps it with the output folder; an incremental
    one writes the changed files and moves them in. Either way the commit
    first writes a journal: a run killed before it leaves the output as it
    was, and one killed after it is finished by `recover`, which every
    transaction runs first. Callers hold the site's lock (`site_lock`).
    """

    def __init__(
        self,
        output_dir: Path,
        incremental: bool,
        marker: str = MARKER_TEXT,
        present: Collection[str] | None = None,
    ) -> None:
        """`present`, if given, are the files known to be in the output as the last build left them
        (saving a look at each)."""
        self.output_dir = output_dir.absolute()
        self.present = present
        self.work = work_dir(self.output_dir)
        self.marker = marker
        self.sink = DiskSink(self.work / ("pending" if incremental else "staging"),
                             self.output_dir if incremental else None)  # fmt: skip
        self.written: list[str] = []
        self._written: set[str] = set()

    def __enter__(self) -> Transaction:
        recover(self.output_dir)
        self.sink.root.mkdir(parents=True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if error is not None:
            self.abort()
        if isinstance(error, OSError):
            raise OutputError(f"cannot write the site: {error}", SourceLocation(self.output_dir)) from None

    def add(self, results: Iterable[tuple[str, object]]) -> None:
        """Record files that a sink wrote in another process (each path, and the path written or
        None), one by one."""
        for _, written in results:
            if isinstance(written, str):
                self.written.append(written)
                self._written.add(written)

    def holds(self, path: str) -> bool:
        if self.present is not None:
            return path in self.present
        return os.path.isfile(os.path.join(self.output_dir, path))

    def locate(self, path: str) -> Path:
        """Where the file for output `path` is now: written in this transaction, or left as it was."""
        return self.sink.pending(path) if path in self._written else self.output_dir / path

    def write(self, outputs: Iterable[OutputFile]) -> None:
        self.add((str(o.path), self.sink.put(str(o.path), o.content)) for o in outputs)

    def copy(self, static: Iterable[StaticFile]) -> None:
        self.add((str(s.path), self.sink.copy(str(s.path), s.source)) for s in static)

    def commit(self, stale: Iterable[str] = ()) -> int:
        """Make every written file visible and remove `stale` ones; return how many files were written."""
        build_id = f"{os.getpid()}-{time.time_ns()}"
        (self.sink.root / MARKER).write_text(f"{self.marker}build: {build_id}\n", encoding="utf-8")
        # Before the commit point, every byte to be published is on the disk: a power cut after it
        # leaves the new files whole, never empty or torn under published names.
        if self.sink.output is None:
            durable.flush(self.sink.root)  # a whole site: one syncfs
        else:
            durable.flush(self.sink.root, [self.sink.root / MARKER, *map(self.sink.pending, self.written)])
        journal = {
            "kind": "swap" if self.sink.output is None else "files",
            "build": build_id,
            "stale": [path for path in stale if is_safe_text_path(path)],
        }
        _write_journal(self.work, journal)
        _finish(self.output_dir, self.work, journal)
        return len(self.written)

    def abort(self) -> None:
        """Forget everything written; the output folder is as it was."""
        shutil.rmtree(self.work, ignore_errors=True)


def recover(output_dir: Path) -> str:
    """Finish a commit that a killed build left half done, then remove its work folder, and any
    temporary folder an earlier version left; return what was done ("", "finished" or "removed")."""
    output_dir = output_dir.absolute()
    work = work_dir(output_dir)
    legacy = (
        f".{output_dir.name}.new-*",
        f".{output_dir.name}.old-*",
        ".digest-search-*",
    )  # earlier versions
    for folder in (found for pattern in legacy for found in output_dir.parent.glob(pattern)):
        shutil.rmtree(folder, ignore_errors=True)
    if not work.exists():
        return ""
    journal = _read_journal(work)
    if journal is not None:
        _finish(output_dir, work, journal)
        return "finished"
    shutil.rmtree(work, ignore_errors=True)
    return "removed"


def _write_journal(work: Path, journal: Mapping[str, Any]) -> None:
    """The commit point: once the journal is in place, `recover` completes the commit."""
    durable.write_atomic(work / JOURNAL, json.dumps(journal).encode("utf-8"))


def _read_journal(work: Path) -> dict[str, Any] | None:
    try:
        journal = json.loads((work / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(journal, dict) or journal.get("kind") not in ("files", "swap"):
        return None
    return journal


def _finish(output_dir: Path, work: Path, journal: Mapping[str, Any]) -> None:
    """Carry out a journaled commit, from wherever a killed run stopped it; each step can be repeated."""
    if journal["kind"] == "swap":
        staging = work / "staging"
        if staging.is_dir() and marker_field(output_dir, "build") != journal.get("build"):
            _swap(staging, output_dir, work / "old")
        durable.fsync_folder(output_dir.parent)  # the swap is kept before the journal goes
    else:
        pending = work / "pending"
        marker = pending / MARKER
        moved: set[Path] = set()
        for base, _, names in os.walk(pending):
            for name in names:
                source = Path(base, name)
                if source != marker:
                    moved.add(_move_in(source, output_dir / source.relative_to(pending)))
        for path in journal.get("stale", ()):
            if isinstance(path, str) and is_safe_text_path(path):
                _remove(output_dir, PurePosixPath(path))
        if marker.exists():
            moved.add(_move_in(marker, output_dir / MARKER))  # last: its time says when the site was built
        for folder in sorted(moved, key=lambda f: len(f.parts), reverse=True):
            durable.fsync_folder(folder)  # the renames are kept before the journal goes
    shutil.rmtree(work, ignore_errors=True)


def _move_in(source: Path, target: Path) -> Path:
    """Rename `source` to `target`; return the folder whose entry changed."""
    _crash_point()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    return target.parent


def _remove(output_dir: Path, rel: PurePosixPath) -> None:
    """Delete a file that no longer belongs to the site, and the folders it leaves empty."""
    if not is_safe_path(rel):
        return
    target = output_dir.joinpath(*rel.parts)
    target.unlink(missing_ok=True)
    _prune(output_dir, target.parent)


def _prune(output_dir: Path, folder: Path) -> None:
    """Remove `folder` and its parents below `output_dir` while they are empty."""
    while (
        folder != output_dir
        and output_dir in folder.parents
        and folder.is_dir()
        and not any(folder.iterdir())
    ):
        folder.rmdir()
        folder = folder.parent


def _swap(staging: Path, output_dir: Path, old: Path) -> None:
    """Put `staging` in the place of `output_dir`: atomically where the system can exchange two
    folders (Linux), else by two renames that `recover` completes if a kill falls between them."""
    _crash_point()
    if output_dir.exists() and not _exchange(staging, output_dir):
        output_dir.rename(old)
        _crash_point()
    if not output_dir.exists():
        staging.rename(output_dir)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step with renameat2(RENAME_EXCHANGE); False where that is not possible."""
    rename = _renameat2()
    if rename is None:
        return False
    done = rename(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    return bool(done == 0)


@functools.cache
def _renameat2() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _crash_point() -> None:
    """For the crash-consistency tests: with DIGEST_TEST_CRASH_AT=N, the process kills itself
    just before the N-th step of a commit."""
    if not _CRASH_AT:
        return
    _STEPS.append(1)
    if len(_STEPS) == _CRASH_AT:
        os.kill(os.getpid(), signal.SIGKILL)


_CRASH_AT = int(os.environ.get("DIGEST_TEST_CRASH_AT") or 0)
_STEPS: list[int] = []
