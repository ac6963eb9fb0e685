from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from generator.base.errors import OutputError
from generator.base.model import OutputFile, StaticFile
from generator.build import writer
from generator.build.writer import (
    MARKER,
    DiskSink,
    MemoryOutput,
    Transaction,
    check_output_dir,
    marker_field,
    recover,
    work_dir,
)


def out(path: str, text: str = "x") -> OutputFile:
    return OutputFile(PurePosixPath(path), text.encode())


def write_site(outputs: list[OutputFile], static: list[StaticFile], output_dir: Path) -> int:
    """A whole build's writing: everything into a staging folder, swapped in at the end."""
    with Transaction(output_dir, incremental=False) as transaction:
        transaction.write(outputs)
        transaction.copy(static)
        return transaction.commit()


def test_writes_files_and_static_and_marks_the_folder(tmp_path: Path) -> None:
    asset = tmp_path / "style.css"
    asset.write_text("body{}", encoding="utf-8")
    count = write_site(
        [out("index.html", "home"), out("a/b/index.html", "b")],
        [StaticFile(PurePosixPath("static/style.css"), asset)],
        tmp_path / "site",
    )
    assert count == 3
    assert (tmp_path / "site" / "a" / "b" / "index.html").read_text() == "b"
    assert (tmp_path / "site" / "static" / "style.css").read_text() == "body{}"
    assert (tmp_path / "site" / MARKER).is_file()


def test_a_new_build_replaces_the_old_one_entirely(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site([out("old.html")], [], site)
    write_site([out("new.html")], [], site)
    assert sorted(p.name for p in site.iterdir()) == [MARKER, "new.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no staging or old folders left


@pytest.mark.parametrize("bad", ["../escape.html", "/abs.html", "a/../../b.html", ".hidden"])
def test_paths_outside_the_output_are_refused_and_the_old_site_survives(tmp_path: Path, bad: str) -> None:
    site = tmp_path / "site"
    write_site([out("index.html", "previous")], [], site)
    with pytest.raises(OutputError):
        write_site([out("index.html", "next"), out(bad)], [], site)
    assert (site / "index.html").read_text() == "previous"
    assert not (tmp_path / "escape.html").exists() and not Path("/abs.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_a_failed_write_leaves_the_previous_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site([out("index.html", "previous")], [], site)
    missing = StaticFile(PurePosixPath("static/gone.css"), tmp_path / "gone.css")
    with pytest.raises(OutputError):
        write_site([out("index.html", "next")], [missing], site)
    assert (site / "index.html").read_text() == "previous"


def test_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.docx").write_text("precious", encoding="utf-8")
    with pytest.raises(OutputError, match="not made by newsdigest"):
        check_output_dir(folder, [])
    check_output_dir(tmp_path / "fresh", [])  # a missing folder is fine
    (tmp_path / "empty").mkdir()
    check_output_dir(tmp_path / "empty", [])


def test_refuses_to_replace_the_source_or_a_folder_holding_it(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "content").mkdir(parents=True)
    for target in (source, tmp_path, source / "content"):
        with pytest.raises(OutputError, match="contains the site's own files"):
            check_output_dir(target, [source, source / "content"])


def test_refuses_a_symlinked_output(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(OutputError, match="symbolic link"):
        check_output_dir(tmp_path / "link", [])


def test_an_incremental_transaction_shows_nothing_until_commit(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site([out("index.html", "home"), out("old/index.html", "old"), out("same.html", "same")], [], site)
    same_stamp = (site / "same.html").stat().st_mtime_ns
    with Transaction(site, incremental=True) as transaction:
        transaction.write(
            [out("index.html", "new home"), out("a/b/index.html", "b"), out("same.html", "same")]
        )
        assert (site / "index.html").read_text() == "home"  # not yet
        assert not (site / "a/b/index.html").exists()
        assert transaction.locate("index.html").read_text() == "new home"
        assert transaction.locate("same.html") == site / "same.html"  # the same bytes: not written
        assert transaction.commit(["old/index.html"]) == 2
    assert (site / "index.html").read_text() == "new home"
    assert (site / "a/b/index.html").read_text() == "b"
    assert not (site / "old").exists()  # the stale file, and the folder it leaves empty
    assert (site / "same.html").stat().st_mtime_ns == same_stamp
    assert sorted(p.name for p in site.rglob(".*")) == [MARKER]  # no pending file left
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # nor the work folder


def test_an_incremental_transaction_that_fails_leaves_the_site_as_it_was(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site([out("index.html", "home")], [], site)
    with pytest.raises(OutputError), Transaction(site, incremental=True) as transaction:
        transaction.write([out("index.html", "next"), out("new/deep/index.html", "n")])
        raise OSError("disk full")
    assert (site / "index.html").read_text() == "home"
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*")) == [MARKER, "index.html"]


@pytest.mark.parametrize("bad", ["../escape.html", "/abs.html", "a/../../b.html", ".hidden", "a\\..\\b"])
def test_a_sink_refuses_paths_outside_its_folder(tmp_path: Path, bad: str) -> None:
    for sink in (DiskSink(tmp_path / "pending", tmp_path / "site"), DiskSink(tmp_path / "stage")):
        with pytest.raises(OutputError):
            sink.put(bad, b"x")
    assert not any(tmp_path.rglob("*"))


def test_a_sink_in_place_skips_files_that_hold_the_bytes_already(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(b"same")
    sink = DiskSink(tmp_path / "pending", tmp_path)
    assert sink.put("a.html", b"same") is None
    assert sink.put("a.html", b"other") == "a.html"
    assert (tmp_path / "pending" / "a.html").read_bytes() == b"other"
    assert (tmp_path / "a.html").read_bytes() == b"same"


def test_a_memory_output_keeps_what_it_is_given(tmp_path: Path) -> None:
    asset = tmp_path / "style.css"
    output = MemoryOutput({"kept.html": b"kept"})
    output.add([("index.html", output.sink.put("index.html", b"home"))])
    output.write([out("feed.xml", "feed")])
    output.copy([StaticFile(PurePosixPath("static/style.css"), asset)])
    assert output.files == {
        "kept.html": b"kept", "index.html": b"home", "feed.xml": b"feed", "static/style.css": asset,
    }  # fmt: skip
    assert output.holds("kept.html") and not output.holds("other.html")


def interrupted(site: Path, incremental: bool, stale: list[str]) -> Path:
    """The work folder of a transaction killed right after it wrote its journal."""
    with pytest.MonkeyPatch.context() as patch, Transaction(site, incremental=incremental) as transaction:
        transaction.write([out("index.html", "new"), out("a/new.html", "new")])
        patch.setattr(writer, "_finish", lambda *args: None)  # the commit stops after its journal
        transaction.commit(stale)
    return work_dir(site)


@pytest.mark.parametrize("incremental", [True, False])
def test_recover_finishes_a_commit_whose_journal_was_written(tmp_path: Path, incremental: bool) -> None:
    site = tmp_path / "site"
    write_site([out("index.html", "old"), out("gone.html", "old")], [], site)
    work = interrupted(site, incremental, ["gone.html"])
    assert (work / "commit.json").is_file() and (site / "index.html").read_text() == "old"
    assert recover(site) == "finished"
    assert (site / "index.html").read_text() == "new" and (site / "a/new.html").read_text() == "new"
    assert not (site / "gone.html").exists()
    assert marker_field(site, "build")
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_recover_completes_a_swap_killed_between_its_two_renames(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site([out("index.html", "old")], [], site)
    work = interrupted(site, False, [])
    site.rename(work / "old")  # the fallback swap's first rename, where no exchange is possible
    assert recover(site) == "finished"
    assert (site / "index.html").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_recover_never_swaps_back_a_swap_that_was_done(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site([out("index.html", "old")], [], site)
    work = interrupted(site, False, [])
    staging = work / "staging"
    site.rename(work / "tmp")
    staging.rename(site)
    (work / "tmp").rename(staging)  # an exchange that was done: the old site is where the new one was
    recover(site)
    assert (site / "index.html").read_text() == "new"


def test_recover_rolls_back_what_a_commit_never_started(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_site([out("index.html", "old")], [], site)
    work = work_dir(site)
    (work / "pending" / "deep").mkdir(parents=True)
    (work / "pending" / "deep" / "index.html").write_text("half", encoding="utf-8")
    (tmp_path / ".site.new-123").mkdir()  # what earlier versions left
    (tmp_path / ".site.old-456").mkdir()
    (tmp_path / ".digest-search-x1").mkdir()
    assert recover(site) == "removed"
    assert (site / "index.html").read_text() == "old" and not (site / "deep").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]
