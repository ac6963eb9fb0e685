"""The last site, kept in the cache folder, so that a build without its output folder refills it.

A CI build starts from a fresh clone: `.digest-cache/` restored, no `site/`.
Without this, every page would be rendered and every search part indexed
again, though their keys say they are the same. So after each build the
cache folder holds `output/`, the output folder as hard links (no second copy
of the bytes on this disk; a CI cache archives them as files), and a sealed
record of each file's hash. A build that finds no output folder but such a
snapshot of the same folder puts it back first (`restore`), each file
checked against its sealed hash and given the time the manifest knows it by;
the build then writes only what changed, as after any other build.

Where hard links cannot be made (another file system), no snapshot is kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from stat import S_ISREG

from generator.base import parallel
from generator.base.urls import is_safe_text_path
from generator.build import writer
from generator.incremental.cache import BuildCache

FOLDER = "output"
RECORD = "output.json"


def sync(
    cache: BuildCache, output_dir: Path, paths: Iterable[str], written: Iterable[str], whole: bool
) -> None:
    """Make the snapshot hold the output folder as the build just left it: its files `paths` (the
    manifest's), of which `written` are new; `whole` after a build that wrote every file."""
    paths = [p for p in paths if is_safe_text_path(p)]
    folder = cache.folder / FOLDER
    before = _record(cache, output_dir) if not whole and folder.is_dir() and not folder.is_symlink() else None
    cache.remove(RECORD)  # until the snapshot is whole again, no build restores it
    try:
        if before is None:
            fresh = cache.folder / f"{FOLDER}.new"
            shutil.rmtree(fresh, ignore_errors=True)
            _link_all(str(output_dir), str(fresh), paths)
            hashes = _hashes(str(fresh), paths)
            _replace(folder, fresh)
        else:
            hashes = before[1]
            wanted = set(paths)
            real: dict[str, bool] = {"": True}
            touched = {*written, *hashes.keys() - wanted, *(wanted - hashes.keys())}
            if not all(_inside(os.path.dirname(p), str(folder), real) for p in touched):
                return sync(cache, output_dir, paths, written, whole=True)  # a link was planted in it
            for path in set(hashes) - wanted:
                hashes.pop(path)
                with contextlib.suppress(OSError):
                    (folder / path).unlink()
            renewed = sorted({*written, *(wanted - set(hashes))} & wanted)
            for path in renewed:
                with contextlib.suppress(FileNotFoundError):
                    (folder / path).unlink()
            _link_all(str(output_dir), str(folder), renewed)
            hashes.update(_hashes(str(folder), renewed))
        with contextlib.suppress(FileNotFoundError):
            (folder / writer.MARKER).unlink()
        os.link(output_dir / writer.MARKER, folder / writer.MARKER)
    except OSError:  # no hard links here (another file system), or the disk is full: no snapshot
        shutil.rmtree(folder, ignore_errors=True)
        return
    build = writer.marker_field(output_dir, "build")
    record = {"output_dir": str(output_dir), "build": build, "files": hashes}
    cache.write(RECORD, json.dumps(record, separators=(",", ":")).encode("utf-8"))


def restore(cache: BuildCache, output_dir: Path, stats: Mapping[str, list[int]]) -> Callable[[], list[str]]:
    """Begin putting the snapshot of `output_dir` back if the folder is missing: call what this
    returns to wait for the files put back (the workers go on meanwhile).

    `stats` are the sizes and times the manifest knows the files by: each restored file gets its
    time back (an archive may have rounded it). A file whose bytes are not those the sealed record
    names is left out (the build writes it again); so is everything if the record is not this
    machine's (or the CI's shared key's)."""
    if output_dir.exists() or output_dir.is_symlink():
        return list
    record = _record(cache, output_dir)
    folder = cache.folder / FOLDER
    if record is None or folder.is_symlink() or writer.marker_field(folder, "build") != record[0]:
        return list
    temporary = output_dir.with_name(f".{output_dir.name}.digest-restore")
    if temporary.is_symlink():
        temporary.unlink()
    shutil.rmtree(temporary, ignore_errors=True)
    wanted = sorted(  # a folder's files together, mostly in one worker
        (path, digest, stat[1])
        for path, digest in record[1].items()
        if is_safe_text_path(path) and isinstance(stat := stats.get(path), list) and len(stat) == 2
    )
    chunks = parallel.map_chunks(_put_back, wanted, 1024, (str(folder), str(temporary)))
    try:
        first = next(chunks, [])  # the workers started: they go on while the caller looks at its inputs
    except OSError:
        first = None

    def finish() -> list[str]:
        try:
            if first is None:
                raise OSError("the snapshot cannot be read")
            found = [*first, *(path for chunk in chunks for path in chunk)]
            os.link(folder / writer.MARKER, temporary / writer.MARKER)
            os.rename(temporary, output_dir)
        except OSError:
            shutil.rmtree(temporary, ignore_errors=True)
            return []
        return found

    return finish


def _put_back(folders: tuple[str, str], wanted: Sequence[tuple[str, str, int]]) -> list[str]:
    """Link into the second of `folders` those of `wanted` (path, hash, time) that are regular files
    below the first with that hash, each given that time; their paths (on all cores)."""
    snapshot, target = folders
    made: set[str] = set()
    real: dict[str, bool] = {"": True}  # folders of the snapshot that are no link to elsewhere
    found = []
    for path, digest, mtime in wanted:
        source, into = os.path.join(snapshot, path), os.path.join(target, path)
        try:
            if not _inside(os.path.dirname(path), snapshot, real):
                continue  # a planted link to a folder elsewhere: its files are not the snapshot's
            stat = os.lstat(source)
            if not S_ISREG(stat.st_mode) or _hash(source) != digest:
                continue
            if stat.st_mtime_ns != mtime:
                os.utime(source, ns=(mtime, mtime), follow_symlinks=False)
        except OSError:
            continue
        _folder(os.path.dirname(into), made)
        os.link(source, into, follow_symlinks=False)
        found.append(path)
    return found


def _inside(folder: str, snapshot: str, real: dict[str, bool]) -> bool:
    """Whether the folder `folder` of the snapshot, and each folder above it, is a real folder."""
    if folder not in real:
        real[folder] = _inside(os.path.dirname(folder), snapshot, real) and not os.path.islink(
            os.path.join(snapshot, folder)
        )
    return real[folder]


def _folder(folder: str, made: set[str]) -> None:
    """Make `folder` (and its parents) unless this process made it: one system call for most."""
    if folder in made:
        return
    try:
        os.mkdir(folder)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
    except FileExistsError:
        pass
    made.add(folder)


def _link_all(source: str, target: str, paths: Iterable[str]) -> None:
    """Hard links below `target` to the files `paths` below `source`."""
    made: set[str] = set()
    for path in paths:
        into = os.path.join(target, path)
        _folder(os.path.dirname(into), made)
        os.link(os.path.join(source, path), into, follow_symlinks=False)


def _hashes(folder: str, paths: Sequence[str]) -> dict[str, str]:
    """The hash of each file `paths` below `folder`, on all cores."""
    chunks = parallel.map_chunks(_hash_chunk, paths, 1024, folder)
    return dict(zip(paths, (h for chunk in chunks for h in chunk), strict=True))


def _hash_chunk(folder: str, paths: Sequence[str]) -> list[str]:
    return [_hash(os.path.join(folder, path)) for path in paths]


def _hash(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:32]  # with SHA instructions, faster than BLAKE2b


def _record(cache: BuildCache, output_dir: Path) -> tuple[str, dict[str, str]] | None:
    """The sealed record of the snapshot of `output_dir`: the build that wrote it, each file's hash."""
    try:
        record = json.loads(cache.read(RECORD) or b"null")
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("output_dir") != str(output_dir):
        return None
    build, files = record.get("build"), record.get("files")
    if not isinstance(files, dict) or not isinstance(build, str):
        return None
    return build, {str(p): str(h) for p, h in files.items()}


def _replace(folder: Path, fresh: Path) -> None:
    old = folder.with_name(f"{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    fresh.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
