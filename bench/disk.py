#!/usr/bin/env python3
"""How long creating files stays slow on this disk after many were deleted.

    python bench/disk.py [--folder DIR] [--delete 20000] [--create 2000] [--until 420]

Creates `--create` page folders (a folder holding a 2 KB `index.html` each) in `site/` and times
it; creates `--delete` more there and deletes them; then times the same creation, in the same
place, every 30 s until `--until` seconds have passed. Nothing else is deleted before the end.
On ext4 without a journal (`/proc/fs/jbd2/` has no entry for the disk) the inode allocator steps
over every inode freed in the last 60 s, or 360 s while its inode table block is not yet written
back (`recently_deleted()` in fs/ext4/ialloc.c). Measured here (2026-11-28): 0.046 ms a page before;
0.31 ms right after deleting 20,000; 0.15 ms 270 s after; 0.053 ms 330 s after. `run.py` therefore
never deletes an output folder while it measures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def create(folder: Path, count: int) -> tuple[float, Path]:
    """Seconds to create `folder` with `count` folders holding a 2 KB `index.html` each, as a site's
    pages are; `folder` is then moved aside, not deleted: where to."""
    started = time.perf_counter()
    folder.mkdir()
    for number in range(count):
        page = folder / str(number)
        page.mkdir()
        (page / "index.html").write_bytes(b"x" * 2048)
    seconds = time.perf_counter() - started
    aside = folder.rename(folder.with_name(f"aside-{time.time_ns()}"))
    return seconds, aside


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folder", type=Path, default=None, help="a folder on the disk to measure")
    parser.add_argument("--delete", type=int, default=20000)
    parser.add_argument("--create", type=int, default=2000)
    parser.add_argument("--until", type=int, default=420)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digest-disk-", dir=args.folder) as name:
        root = Path(name)
        site = root / "site"  # always the same path, as a build's output folder
        print(f"before: {create(site, args.create)[0] * 1000 / args.create:.3f} ms a file", flush=True)
        _, doomed = create(site, args.delete)
        os.sync()
        shutil.rmtree(doomed)
        deleted = time.perf_counter()
        while (elapsed := time.perf_counter() - deleted) < args.until:
            seconds, _ = create(site, args.create)
            print(
                f"{elapsed:4.0f} s after deleting {args.delete:,}: {seconds * 1000 / args.create:.3f} ms a file",
                flush=True,
            )
            time.sleep(max(0.0, elapsed + 30 - (time.perf_counter() - deleted)))


if __name__ == "__main__":
    main()
