"""Writer stage, the only code that touches the output folder.

A build writes through an `Output`: a `Transaction` on disk, or a
`MemoryOutput` for the preview and `digest check`. Its `sink` is a small picklable
object, so render workers can write the pages they render themselves (on
this machine two processes write files three times faster than one). Nothing
is visible until `commit`: a whole build writes into a sibling staging folder
and swaps it in; an incremental one writes each changed file under a hidden
name beside its target and renames them all at the end, then removes the
files that no longer belong to the site. If anything fails before that, the
previous output stays exactly as it was. The writer refuses to replace a
folder it did not create.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Protocol

from .errors import OutputError, SourceLocation
from .model import OutputFile, StaticFile
from .urls import is_safe_path, is_safe_text_path

MARKER = ".newsdigest"
MARKER_TEXT = "This folder is written by newsdigest; `digest build` replaces all of it.\n"


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

    In a whole build (`in_place` false) files go into the staging folder
    `root`. In an incremental one they go beside their targets in the output
    folder `root`, under a hidden name ending in `suffix`; a file whose bytes
    the output already holds is skipped, so its time stamp stays.
    """

    root: Path
    in_place: bool
    suffix: str

    def put(self, path: str, data: bytes) -> str | None:
        """Write `data` for output `path`; return `path`, or None if nothing needed writing."""
        target = self._target(path)
        if self.in_place and _holds(self.root / path, data):
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return path

    def copy(self, path: str, source: Path) -> str:
        target = self._target(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return path

    def move(self, path: str, source: Path) -> str:
        """Like `copy`, for a file made for the build on the output's file system: it is moved."""
        target = self._target(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError:
            return self.copy(path, source)
        return path

    def pending(self, path: str) -> Path:
        """Where `put` wrote the file for `path`."""
        target = self.root / path
        return target.with_name(f".{target.name}{self.suffix}") if self.in_place else target

    def _target(self, path: str) -> Path:
        if not is_safe_text_path(path):
            raise OutputError(f"refusing to write outside the output folder: {path}")
        return self.pending(path)


def _holds(existing: Path, data: bytes) -> bool:
    try:
        return existing.stat().st_size == len(data) and existing.read_bytes() == data
    except OSError:
        return False


class Transaction:
    """The files of one build: written as they come, from any process, and shown all at once."""

    def __init__(self, output_dir: Path, incremental: bool) -> None:
        self.output_dir = output_dir.absolute()
        suffix = f".new-{os.getpid()}"
        self.staging = self.output_dir.with_name(f".{self.output_dir.name}{suffix}")
        root = self.output_dir if incremental else self.staging
        self.sink = DiskSink(root, incremental, suffix)
        self.written: list[str] = []
        self._written: set[str] = set()

    def __enter__(self) -> Transaction:
        if not self.sink.in_place:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging.mkdir(parents=True)
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
        None), one by one, so that `abort` finds all of them even if `results` fails half way."""
        for _, written in results:
            if isinstance(written, str):
                self.written.append(written)
                self._written.add(written)

    def holds(self, path: str) -> bool:
        return os.path.isfile(os.path.join(self.output_dir, path))

    def locate(self, path: str) -> Path:
        """Where the file for output `path` is now: written in this transaction, or left as it was."""
        return self.sink.pending(path) if path in self._written else self.output_dir / path

    def write(self, outputs: Iterable[OutputFile]) -> None:
        self.add((str(o.path), self.sink.put(str(o.path), o.content)) for o in outputs)

    def copy(self, static: Iterable[StaticFile]) -> None:
        self.add((str(s.path), self.sink.copy(str(s.path), s.source)) for s in static)

    def move(self, made: Iterable[StaticFile]) -> None:
        """Take files made for this build (in a temporary folder beside the output) as they are."""
        self.add((str(s.path), self.sink.move(str(s.path), s.source)) for s in made)

    def commit(self, stale: Iterable[str] = ()) -> int:
        """Make every written file visible and remove `stale` ones; return how many files were written."""
        if self.sink.in_place:
            for path in self.written:
                os.replace(self.sink.pending(path), self.output_dir / path)
            for path in stale:
                if is_safe_text_path(path):
                    _remove(self.output_dir, PurePosixPath(path))
            os.utime(self.output_dir / MARKER)  # the marker's time says when the site was last built
        else:
            (self.staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
            _swap(self.staging, self.output_dir)
        return len(self.written)

    def abort(self) -> None:
        """Forget everything written; the output folder is as it was."""
        if self.sink.in_place:
            for path in self.written:
                pending = self.sink.pending(path)
                pending.unlink(missing_ok=True)
                _prune(self.output_dir, pending.parent)  # folders made for new pages
        else:
            shutil.rmtree(self.staging, ignore_errors=True)


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


def _swap(staging: Path, output_dir: Path) -> None:
    old = output_dir.with_name(f".{output_dir.name}.old-{os.getpid()}")
    if output_dir.exists():
        output_dir.rename(old)
    staging.rename(output_dir)
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(old)
