"""Power cuts, simulated (tests/powercut.py): after a build, a deploy or a send that finished, and
at every step of a commit, the disk holds the old state or the new one, never empty or torn files
under published names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.build import writer
from generator.driver.pipeline import build
from tests.conftest import site_state, tree
from tests.powercut import Disk
from tests.test_safety import edit, write_site


@pytest.fixture(autouse=True)
def flushing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_DURABLE", "1")  # the suite turns the flushes off elsewhere (conftest)


class Cut(Exception):
    """The power went."""


def stepping(monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    """Lose power just before the `at`-th rename of a commit (0: before its journal is written)."""
    steps: list[int] = []
    if at == 0:

        def before_journal(*_: object) -> None:
            raise Cut

        monkeypatch.setattr(writer, "_write_journal", before_journal)

    def step() -> None:
        steps.append(1)
        if len(steps) == at:
            raise Cut

    monkeypatch.setattr(writer, "_crash_point", step)
    monkeypatch.setattr(writer.Transaction, "abort", lambda self: None)  # no code runs after a power cut


@pytest.mark.parametrize("cached", [True, False], ids=["incremental", "whole"])
def test_a_build_that_finished_just_before_a_power_cut_is_on_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    new = write_site(tmp_path / "new")
    edit(new)
    build(new)
    root = write_site(tmp_path / "src")
    build(root)
    edit(root)
    disk = Disk(root, monkeypatch)
    build(root, use_cache=cached)
    lost = disk.cut()
    assert [p for p in lost if p.startswith("site/")] == [], "published files were not on the disk"
    assert site_state(root / "site") == site_state(new / "site")
    output = (root / "site").absolute()
    assert (output if cached else output.parent) in disk.synced_folders  # the renames were kept


@pytest.mark.parametrize("cached", [True, False], ids=["incremental", "whole"])
def test_a_power_cut_at_any_step_of_a_commit_leaves_the_old_or_the_new_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    old_root, new_root = write_site(tmp_path / "old"), write_site(tmp_path / "new")
    edit(new_root)
    build(old_root)
    build(new_root)
    old, new = site_state(old_root / "site"), site_state(new_root / "site")
    outcomes = []
    for at in (0, 1, 4, 89):  # before the journal, the first rename, one in the middle, past the end
        root = write_site(tmp_path / f"run{at}")
        build(root)
        edit(root)
        disk = Disk(root, monkeypatch)
        stepping(monkeypatch, at)
        try:
            build(root, use_cache=cached)
        except Cut:
            pass
        else:
            break  # the commit has fewer steps than this
        disk.cut()
        monkeypatch.undo()
        monkeypatch.setenv("DIGEST_DURABLE", "1")
        writer.recover(root / "site")  # what the next run does first
        now = site_state(root / "site")
        assert now in (old, new), f"step {at}: neither the old site nor the new one"
        outcomes.append("new" if now == new else "old")
    assert "old" in outcomes and "new" in outcomes, outcomes


def test_a_deploy_to_a_folder_that_finished_before_a_power_cut_is_on_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import run_cli

    root = write_site(tmp_path / "src")
    build(root)
    www = tmp_path / "www"
    disk = Disk(tmp_path, monkeypatch)
    code, _, err = run_cli("deploy", f"dir:{www}", "-s", str(root))
    assert code == 0, err
    assert [p for p in disk.cut() if p.startswith("www/")] == []
    assert {k: v for k, v in tree(www).items() if not k.startswith(".")} == tree(root / "site")
    assert www in disk.synced_folders


def test_state_files_are_on_the_disk_when_they_are_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.publish.mailer import _Log

    root = write_site(tmp_path / "src")
    disk = Disk(tmp_path, monkeypatch)
    build(root)
    log = root / ".digest-cache" / "deliveries" / "x.json"
    kept = _Log()
    kept.served("ann@example.org")
    kept.save(log)
    lost = disk.cut()
    assert [p for p in lost if p.startswith("src/.digest-cache/") and "/images/" not in p] == []
    assert json.loads(log.read_text())["sent"] == ["ann@example.org"]
