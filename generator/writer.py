"""Writer stage, the only one that touches disk: put the built files into the output folder.

Files are first written into a sibling staging folder, as they arrive. A
whole build then swaps that folder in; an incremental one moves only the
changed files into place and removes the stale ones. Either way nothing in
the output changes until every file was made, so a failed build leaves the
previous output exactly as it was. The writer refuses to replace a folder it
did not create.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path, PurePosixPath

from .errors import OutputError, SourceLocation
from .model import OutputFile, StaticFile
from .urls import is_safe_path

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


def update_site(
    outputs: Iterable[OutputFile], static: Iterable[StaticFile], stale: Iterable[str], output_dir: Path
) -> int:
    """Write the changed files into an existing site and remove `stale` ones; return the count written.

    Each file is first written under a hidden name beside its target; only
    when all of them were made are they renamed into place. If anything fails
    (including `outputs` raising), the hidden files go and the site is as it was.
    """
    output_dir = output_dir.absolute()
    suffix = f".new-{os.getpid()}"
    pending: list[tuple[Path, Path]] = []
    created: list[Path] = []
    try:
        for rel, write in _changes(outputs, static, output_dir):
            target = output_dir.joinpath(*rel.parts)
            created += _make_parents(target.parent, output_dir)
            temporary = target.with_name(f".{target.name}{suffix}")
            pending.append((temporary, target))
            write(temporary)
        for temporary, target in pending:
            os.replace(temporary, target)
        for rel_text in stale:
            rel = PurePosixPath(rel_text)
            if is_safe_path(rel):
                _remove(output_dir, rel)
    except BaseException as exc:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write the site: {exc}", SourceLocation(output_dir)) from None
        raise
    return len(pending)


def _changes(
    outputs: Iterable[OutputFile], static: Iterable[StaticFile], output_dir: Path
) -> Iterator[tuple[PurePosixPath, Callable[[Path], object]]]:
    """Each file to write and how, leaving out pages whose bytes the output already holds."""
    for item in outputs:
        if not is_safe_path(item.path):
            raise OutputError(f"refusing to write outside the output folder: {item.path}")
        if not _holds(output_dir, item):  # rendered again but the same: keep the file and its time stamp
            yield item.path, partial(Path.write_bytes, data=item.content)
    for asset in static:
        if not is_safe_path(asset.path):
            raise OutputError(f"refusing to write outside the output folder: {asset.path}")
        yield asset.path, partial(shutil.copyfile, asset.source)


def _make_parents(folder: Path, output_dir: Path) -> list[Path]:
    """Create `folder` and its missing parents below `output_dir`; return those it created."""
    missing: list[Path] = []
    while folder != output_dir and not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for item in reversed(missing):
        item.mkdir()
    return list(reversed(missing))


def _holds(folder: Path, item: OutputFile) -> bool:
    existing = folder.joinpath(*item.path.parts)
    try:
        return existing.stat().st_size == len(item.content) and existing.read_bytes() == item.content
    except OSError:
        return False


def _remove(output_dir: Path, rel: PurePosixPath) -> None:
    """Delete a file that no longer belongs to the site, and the folders it leaves empty."""
    target = output_dir.joinpath(*rel.parts)
    target.unlink(missing_ok=True)
    folder = target.parent
    while folder != output_dir and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _stage(
    staging: Path,
    outputs: Iterable[OutputFile],
    static: Iterable[StaticFile],
    unless_same_in: Path | None = None,
) -> list[PurePosixPath]:
    """Write files into `staging` as they come; skip those `unless_same_in` holds with the same bytes."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    made: set[Path] = {staging}
    written: list[PurePosixPath] = []
    for item in outputs:
        if unless_same_in and _holds(unless_same_in, item):
            continue  # rendered again, but the same: leave the file (and its time stamp) alone
        _target(staging, item.path, made).write_bytes(item.content)
        written.append(item.path)
    for asset in static:
        shutil.copyfile(asset.source, _target(staging, asset.path, made))
        written.append(asset.path)
    return written


def write_site(outputs: Iterable[OutputFile], static: Iterable[StaticFile], output_dir: Path) -> int:
    """Write every output file and copy static files, then swap the result into place.

    Returns the number of files written. Raises `OutputError` if anything
    fails; the previous output folder is then untouched.
    """
    output_dir = output_dir.absolute()
    staging = output_dir.with_name(f".{output_dir.name}.new-{os.getpid()}")
    try:
        count = len(_stage(staging, outputs, static))
        (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        _swap(staging, output_dir)
    except OSError as exc:
        raise OutputError(f"cannot write the site: {exc}", SourceLocation(output_dir)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count


def _target(staging: Path, path: PurePosixPath, made: set[Path]) -> Path:
    if not is_safe_path(path):
        raise OutputError(f"refusing to write outside the output folder: {path}")
    target = staging.joinpath(*path.parts)
    parent = target.parent
    if parent not in made:
        parent.mkdir(parents=True, exist_ok=True)
        made.add(parent)
    return target


def _swap(staging: Path, output_dir: Path) -> None:
    old = output_dir.with_name(f".{output_dir.name}.old-{os.getpid()}")
    if output_dir.exists():
        output_dir.rename(old)
    staging.rename(output_dir)
    if old.exists():
        shutil.rmtree(old)
