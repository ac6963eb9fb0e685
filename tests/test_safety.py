"""Safety the hard way: real builds killed at chosen instants, and builds run at the same time."""

from __future__ import annotations

import os
import pickle
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import jinja2
import pytest

from generator.build.writer import recover, work_dir
from generator.incremental import seal
from tests.conftest import SiteState, article_text, assert_same_site, site_state, tree

CONFIG = """\
title: Crash test
base_url: https://example.org/
collections: [{key: world, title: World}, {key: belarus, title: Belarus}]
"""


def digest(root: Path, *args: str, crash_at: int = 0) -> subprocess.CompletedProcess[str]:
    """`digest build` (or other ARGS) in a process of its own; with `crash_at`, killed at that commit step."""
    env = {**os.environ, "DIGEST_TEST_CRASH_AT": str(crash_at) if crash_at else ""}
    command = [sys.executable, "-m", "generator", *(args or ("build",)), "-s", str(root)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def built(root: Path) -> bool:
    """`digest build` of `root` in this process (quicker than a process of its own, for the builds
    around a killed one, which always runs in its own); True once it is done."""
    from generator.driver.pipeline import build

    build(root)
    return True


def leftovers(root: Path) -> list[str]:
    """Temporary files and folders of any run: beside the output, in it, and in the cache."""
    found = [
        p.name for p in root.iterdir() if p.name not in ("config.yaml", "content", "site", ".digest-cache")
    ]
    found += [p.as_posix() for p in (root / "site").rglob("*") if ".new-" in p.name or ".digest" in p.name]
    cache = root / ".digest-cache"
    found += (
        [p.name for p in cache.iterdir() if p.name.startswith(".") or p.name.endswith("-journal")]
        if cache.is_dir()
        else []
    )
    return found


def edit(root: Path) -> None:
    """Change some articles' text, one's title, add one and remove one: new, changed and stale files."""
    world = root / "content" / "world"
    for i in (1, 4):
        path = world / f"a{i}.md"
        path.write_text(path.read_text(encoding="utf-8").replace("First", "Edited first"), encoding="utf-8")
    (world / "a2.md").write_text(article_text("Renamed two", "2020-09-02"), encoding="utf-8")
    (world / "a7.md").unlink()
    (root / "content" / "belarus" / "b9.md").write_text(
        article_text("New one", "2020-09-20"), encoding="utf-8"
    )


def write_site(root: Path) -> Path:
    """A small site with two collections, not built."""
    files = {f"world/a{i}.md": article_text(f"Article {i}", f"2020-09-{i + 1:02}") for i in range(8)}
    files.update({f"belarus/b{i}.md": article_text(f"Story {i}", f"2020-08-{i + 1:02}") for i in range(4)})
    for name, text in files.items():
        (root / "content" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "content" / name).write_text(text, encoding="utf-8")
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_site(tmp_path / "src")


@pytest.fixture
def old_and_new(tmp_path: Path) -> tuple[SiteState, SiteState]:
    """The files of the site as built, and as built after `edit`."""
    old_root, new_root = write_site(tmp_path / "old"), write_site(tmp_path / "new")
    edit(new_root)
    assert built(old_root) and built(new_root)
    old, new = site_state(old_root / "site"), site_state(new_root / "site")
    assert old != new
    return old, new


@pytest.mark.slow
def test_a_build_killed_at_any_step_of_its_commit_leaves_the_old_or_the_new_site(
    old_and_new: tuple[SiteState, SiteState], tmp_path: Path
) -> None:
    old, new = old_and_new
    outcomes = []
    for step in (1, 3, 8, 21, 80):  # until a step beyond the commit
        root = write_site(tmp_path / f"run{step}")
        assert built(root)
        edit(root)
        killed = digest(root, crash_at=step)
        if killed.returncode == 0:
            break  # the commit has fewer steps than this
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        now = site_state(root / "site")
        if tree(root / "site", skip="pagefind") not in (
            old[0],
            new[0],
        ):  # killed while renaming files in: the journal says how to finish
            assert (work_dir(root / "site") / "commit.json").is_file(), f"step {step}: a mix, no journal"
            assert recover(root / "site") == "finished"
            now = site_state(root / "site")
        assert now in (old, new), f"step {step}: a mix of the old and the new site"
        outcomes.append("new" if now == new else "old")
        assert built(root)
        assert site_state(root / "site") == new, f"step {step}: the next build did not make the new site"
        assert leftovers(root) == [], f"step {step}"
        shutil.rmtree(root)
    assert step > 5 and "old" in outcomes and "new" in outcomes, outcomes


KILLED_WHILE_SEALING = """
import os, signal, sys
from generator import cli
from generator.incremental import seal
real, calls, last = seal.seal, [], int(sys.argv[2])
def dying(data):
    calls.append(1)
    if len(calls) == last:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(data)
seal.seal = dying
sys.argv = ["digest", "build", "-s", sys.argv[1]]
cli.main()
"""


def test_a_build_killed_while_it_stores_articles_leaves_a_store_the_next_build_uses(
    site: Path, tmp_path: Path
) -> None:
    assert digest(site).returncode == 0
    expected = site_state(site / "site")
    edit(site)
    (site / "content" / "world" / "a1.md").write_text(article_text("Stored", "2020-09-01"), encoding="utf-8")
    store = site / ".digest-cache" / "articles.sqlite"
    command = [sys.executable, "-c", KILLED_WHILE_SEALING, str(site), "2"]  # the second new row
    killed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert store.with_name("articles.sqlite-journal").is_file()  # the killed transaction's journal
    assert site_state(site / "site") == expected
    assert digest(site).returncode == 0
    assert leftovers(site) == []  # the journal was rolled back and removed
    clean = write_site(tmp_path / "clean")
    edit(clean)
    (clean / "content" / "world" / "a1.md").write_text(article_text("Stored", "2020-09-01"), encoding="utf-8")
    assert digest(clean).returncode == 0
    assert_same_site(site / "site", clean / "site")
    with closing(sqlite3.connect(store)) as db:
        assert db.execute("select count(*) from articles").fetchone() == (len(list(site.rglob("*.md"))),)


@pytest.mark.slow
def test_a_whole_build_killed_while_it_swaps_folders_leaves_a_site(
    old_and_new: tuple[SiteState, SiteState], tmp_path: Path
) -> None:
    old, new = old_and_new
    for step in (1, 2):
        root = write_site(tmp_path / f"run{step}")
        assert built(root)
        shutil.rmtree(root / ".digest-cache")  # no keys of the last build: a whole build, swapped in
        edit(root)
        killed = digest(root, crash_at=step)
        assert killed.returncode in (0, -signal.SIGKILL)
        assert site_state(root / "site") in (old, new)
        assert built(root)
        assert site_state(root / "site") == new and leftovers(root) == []


@pytest.mark.slow
def test_two_builds_at_once_take_turns(site: Path, tmp_path: Path) -> None:
    assert digest(site).returncode == 0
    edit(site)
    env = {**os.environ, "DIGEST_TEST_CRASH_AT": ""}
    command = [sys.executable, "-m", "generator", "build", "-s", str(site)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(3)]  # fmt: skip
    results = [(*run.communicate(timeout=120), run.returncode) for run in runs]
    assert [code for _, _, code in results] == [0, 0, 0], results
    clean = write_site(tmp_path / "clean")
    edit(clean)
    assert digest(clean).returncode == 0
    assert_same_site(site / "site", clean / "site")
    assert digest(site).stdout.count("(up to date)") == 1
    assert leftovers(site) == []


class _Planted:
    """What an attacker puts in a shared cache: unpickling it runs a command."""

    def __init__(self, proof: Path) -> None:
        self.proof = proof

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch {self.proof}",))


def test_a_planted_cache_never_runs_code(site: Path, tmp_path: Path) -> None:
    assert digest(site).returncode == 0
    proof = tmp_path / "ran"
    planted = pickle.dumps(_Planted(proof))
    cache = site / ".digest-cache"
    for path in cache.rglob("*"):
        if path.suffix == ".pickle":
            path.write_bytes(planted)
        elif path.suffix == ".cache":  # compiled templates: Jinja unpickles a checksum first
            path.write_bytes(jinja2.bccache.bc_magic + planted)
    with closing(sqlite3.connect(cache / "articles.sqlite")) as db, db:  # every stored article's row
        assert db.execute("update articles set blob = ?", (planted,)).rowcount > 5
    edit(site)
    built = digest(site)
    assert built.returncode == 0, built.stderr
    assert not proof.exists()
    with pytest.raises(pickle.UnpicklingError):  # and were it ever sealed with this machine's key
        seal.loads(planted)
    assert not proof.exists()
    clean = write_site(tmp_path / "clean")
    edit(clean)
    assert digest(clean).returncode == 0
    assert_same_site(site / "site", clean / "site")


def test_a_doctored_cache_entry_is_never_published(site: Path, tmp_path: Path) -> None:
    assert digest(site).returncode == 0
    doctored = 0
    for path in (site / ".digest-cache").rglob("*"):
        if path.is_file() and b"Article 3" in path.read_bytes():
            path.write_bytes(path.read_bytes().replace(b"Article 3", b"Hacked! 3"))
            doctored += 1
    assert doctored >= 2  # the article cache and the kept plan
    edit(site)
    assert digest(site).returncode == 0
    assert not [p for p, data in tree(site / "site").items() if b"Hacked!" in data]
    assert b"Article 3" in (site / "site" / "world" / "2020" / "09" / "04" / "a3" / "index.html").read_bytes()


def test_a_change_that_keeps_size_and_time_is_built(site: Path) -> None:
    assert digest(site).returncode == 0
    article = site / "content" / "world" / "a5.md"
    before = article.stat()
    article.write_text(article.read_text(encoding="utf-8").replace("First", "Fixed"), encoding="utf-8")
    os.utime(article, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or a checkout leaves it
    assert article.stat().st_size == before.st_size
    built = digest(site)
    assert "(up to date)" not in built.stdout
    assert (
        b"Fixed paragraph"
        in (site / "site" / "world" / "2020" / "09" / "06" / "a5" / "index.html").read_bytes()
    )


def test_a_hand_edited_output_file_is_repaired_by_the_next_build(site: Path, tmp_path: Path) -> None:
    assert digest(site).returncode == 0
    built = tree(site / "site")
    page = site / "site" / "world" / "2020" / "09" / "03" / "a2" / "index.html"
    page.write_bytes(page.read_bytes().replace(b"Article 2", b"Defaced"))
    (site / "site" / "feed.xml").write_bytes(b"<feed/>")
    again = digest(site)
    assert again.returncode == 0 and "(up to date)" not in again.stdout
    assert tree(site / "site") == built
    assert "(up to date)" in digest(site).stdout


def test_a_full_disk_leaves_the_site_and_no_temporary_file(site: Path) -> None:
    assert digest(site).returncode == 0
    before = tree(site / "site")
    edit(site)

    def small_disk() -> None:  # writes past 4 KB fail with EFBIG, as they would with ENOSPC
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    command = [sys.executable, "-m", "generator", "build", "-s", str(site)]
    full = subprocess.run(command, capture_output=True, text=True, timeout=120, preexec_fn=small_disk)
    assert full.returncode == 1 and "cannot write the site" in full.stderr and "Traceback" not in full.stderr
    assert "The output folder was not changed." in full.stderr
    assert tree(site / "site") == before and leftovers(site) == []
    assert digest(site).returncode == 0 and tree(site / "site") != before
