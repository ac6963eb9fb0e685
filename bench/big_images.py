"""Peak memory of a build with large images: eight 7700 x 7700 PNGs in one article's folder.

    python bench/big_images.py [--count 8] [--side 7700] [--workers N]

Builds a small site in a temporary folder and prints the build's time and the peak resident memory
of the build and all its worker processes together (sampled every 20 ms from /proc), the measure
behind the target "eight large images within 600 MB at the default worker count". Linux only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_site(folder: Path, count: int, side: int) -> None:
    from PIL import Image, ImageDraw

    (folder / "content" / "world" / "big").mkdir(parents=True)
    (folder / "config.yaml").write_text(
        "title: Big images\nbase_url: https://example.org/\ncollections:\n  - {key: world, title: World}\n",
        encoding="utf-8",
    )
    lines = []
    for n in range(count):
        image = Image.new("RGB", (side, side), (20 * n, 90, 160))
        draw = ImageDraw.Draw(image)
        for y in range(0, side, 97):
            draw.line((0, y, side, side - y), fill=(255, 255 - 20 * n, y % 255), width=3)
        image.save(folder / "content" / "world" / "big" / f"photo-{n}.png", optimize=False)
        lines.append(f"![Photo {n}](photo-{n}.png)\n")
    (folder / "content" / "world" / "big" / "index.md").write_text(
        "---\ntitle: Big photos\ndate: 2024-05-01\n---\n\n" + "\n".join(lines), encoding="utf-8"
    )


def tree_rss(pid: int) -> int:
    """The resident bytes of `pid` and every process below it."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{current}/task/{current}/children") as children:
                todo += [int(c) for c in children.read().split()]
        except (OSError, ValueError):
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--side", type=int, default=7700)
    parser.add_argument("--workers", type=int, default=0, help="DIGEST_WORKERS (0: the default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        make_site(site, args.count, args.side)
        sizes = sum(p.stat().st_size for p in site.rglob("*.png")) // args.count // 1024
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if args.workers:
            env["DIGEST_WORKERS"] = str(args.workers)
        started = time.perf_counter()
        build = subprocess.Popen(
            [sys.executable, "-m", "generator", "build", "-s", str(site)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        peak = 0
        while build.poll() is None:
            peak = max(peak, tree_rss(build.pid))
            time.sleep(0.02)
        took = time.perf_counter() - started
        output = build.stdout.read().decode() if build.stdout else ""
        workers = args.workers or "default"
        print(f"{args.count} images {args.side} x {args.side} ({sizes} KB each), workers {workers}:")
        print(f"  exit {build.returncode}, {took:.1f} s, peak {peak / 2**20:.0f} MB (all processes)")
        if build.returncode:
            print(output)


if __name__ == "__main__":
    main()
