from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from generator.errors import OutputError
from generator.model import OutputFile, StaticFile
from generator.writer import MARKER, check_output_dir, write_site


def out(path: str, text: str = "x") -> OutputFile:
    return OutputFile(PurePosixPath(path), text.encode())


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
