from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import MakeSite, article_text, run_cli


def test_build_prints_a_one_line_summary(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/world/a.md": article_text("A"), "content/belarus/b.md": article_text("B")})
    code, out, err = run_cli("build", "--source", str(root), "--output", str(tmp_path / "out"))
    assert code == 0, err
    assert out.startswith("Built 2 articles in 2 collections: ")
    assert "pages" in out and " s -> " in out and str(tmp_path / "out") in out
    assert (tmp_path / "out" / "world" / "2020" / "09" / "03" / "a" / "index.html").is_file()


def test_base_url_override_reaches_the_feed(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/world/a.md": article_text("A")})
    code, _, _ = run_cli(
        "build", "-s", str(root), "-o", str(tmp_path / "o"), "--base-url", "https://news.example/x"
    )
    assert code == 0
    assert "https://news.example/x/world/2020/09/03/a/" in (tmp_path / "o" / "feed.xml").read_text()


def test_every_broken_article_is_listed_with_file_and_line(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/ok.md": article_text("Fine"),
            "content/no_title.md": "---\ndate: 2020-01-01\n---\n",
            "content/bad_yaml.md": "---\ntitle: x\ndate: [2020\n---\n",
            "content/unknown_collection.md": article_text("C", collection="Wrld"),
            "content/dup1.md": article_text("Same title", collection="world", slug="same"),
            "content/dup2.md": article_text("Same title", collection="world", slug="same"),
            "content/latin1.md": b"---\ntitle: caf\xe9\ndate: 2020-01-01\n---\n",
        }
    )
    code, out, err = run_cli("build", "-s", str(root))
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    assert "no_title.md:2: error: missing 'title'" in err
    assert "bad_yaml.md:4:" in err and "invalid YAML" in err
    assert (
        "unknown_collection.md:4: error: unknown collection 'Wrld'" in err and "did you mean 'world'?" in err
    )
    assert "would both be written to /world/2020/09/03/same/" in err
    assert "latin1.md:2: error: file is not valid UTF-8" in err
    assert "Failed: 5 errors. The output folder was not changed." in err
    assert not (root / "site").exists()


def test_a_failed_build_leaves_the_previous_site_untouched(make_site: MakeSite) -> None:
    root = make_site({"content/a.md": article_text("A")})
    assert run_cli("build", "-s", str(root))[0] == 0
    before = {p: p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()}
    (root / "content" / "a.md").write_text("---\ntitle: [\n---\n", encoding="utf-8")
    assert run_cli("build", "-s", str(root))[0] == 1
    after = {p: p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()}
    assert after == before


def test_missing_config_is_one_clear_line(tmp_path: Path) -> None:
    code, _, err = run_cli("build", "-s", str(tmp_path))
    assert code == 1
    assert "error: no config.yaml" in err and "hint:" in err and "Traceback" not in err


def test_output_folder_not_made_by_digest_is_refused(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/a.md": article_text("A")})
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep", encoding="utf-8")
    code, _, err = run_cli("build", "-s", str(root), "-o", str(precious))
    assert code == 1 and "not made by newsdigest" in err
    assert (precious / "keep.txt").read_text() == "keep"


def test_output_may_not_be_the_source_folder(make_site: MakeSite) -> None:
    root = make_site({"content/a.md": article_text("A")})
    code, _, err = run_cli("build", "-s", str(root), "-o", str(root))
    assert code == 1 and "contains the site's own files" in err
    assert (root / "content" / "a.md").is_file()


def test_drafts_flag(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/a.md": article_text("A"), "content/d.md": article_text("D", draft="true")})
    assert run_cli("build", "-s", str(root))[0] == 0
    day = root / "site" / "2020" / "09" / "03"
    assert (day / "a" / "index.html").is_file() and not (day / "d").exists()
    assert run_cli("build", "-s", str(root), "--drafts")[0] == 0
    assert (day / "d" / "index.html").is_file()


def test_version_and_help() -> None:
    assert run_cli("--version")[1].startswith("digest, version")
    code, out, _ = run_cli("build", "--help")
    assert code == 0 and "--base-url" in out and "--future" in out


def test_an_article_cannot_take_the_url_of_a_site_page(make_site: MakeSite) -> None:
    root = make_site(
        {"content/t.md": article_text("Tags", url="/tags/"), "content/world/a.md": article_text("A")}
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1
    assert "two pages would be written to /tags/index.html" in err and "t.md" in err


def test_a_dangling_symlink_is_reported(make_site: MakeSite) -> None:
    root = make_site({"content/a.md": article_text("A")})
    (root / "content" / "gone.md").symlink_to(root / "nowhere.md")
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "gone.md: error: cannot read: No such file" in err


def test_build_output_is_plain_lines_when_not_a_terminal(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({f"content/world/a{i}.md": article_text(f"A{i}") for i in range(3)})
    code, out, err = run_cli("build", "-s", str(root))
    assert code == 0 and err == ""
    built, searched = out.splitlines()
    assert built.startswith("Built 3 articles") and "\r" not in out
    assert re.fullmatch(r"Search: 3 pages \(en 3\), 1 of 1 parts indexed in \d+\.\d\d s", searched)
    code, out, _ = run_cli("build", "-s", str(root))
    assert out.splitlines()[1] == "Search: 3 pages (en 3), up to date"


def test_progress_bar_draws_each_stage_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from generator.cli import _ProgressBar

    with _ProgressBar() as progress:
        progress.enabled = True
        for done in range(0, 1000, 100):
            progress("Reading articles", done, 1000)
        progress("Rendering pages", 0, 600)
    err = capsys.readouterr().err
    assert "Reading articles" in err and "Rendering pages" in err


def test_progress_bar_stays_quiet_for_small_sites(capsys: pytest.CaptureFixture[str]) -> None:
    from generator.cli import _ProgressBar

    with _ProgressBar() as progress:
        progress.enabled = True
        progress("Reading articles", 0, 10)
    assert capsys.readouterr().err == ""
