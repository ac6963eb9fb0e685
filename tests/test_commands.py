"""The editor's commands end to end: init, new, check, import."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from generator.build.content import parse_article
from generator.build.contentfiles import RawArticle
from generator.driver.pipeline import render_site
from tests.conftest import REPO, MakeSite, article_text, run_cli

SEED = REPO / "tests" / "data" / "seed-article.txt"  # the raw text the project started from


def test_init_makes_a_site_that_builds(tmp_path: Path) -> None:
    code, out, err = run_cli("init", str(tmp_path / "mysite"), "--title", "Our: Digest")
    assert code == 0, err
    assert "created" in out and "digest serve" in out
    config = (tmp_path / "mysite" / "config.yaml").read_text(encoding="utf-8")
    assert config.count("#") > 5  # a commented config
    code, out, err = run_cli("build", "-s", str(tmp_path / "mysite"))
    assert code == 0, err
    assert "Built 1 article" in out
    assert "Our: Digest" in (tmp_path / "mysite" / "site" / "index.html").read_text(encoding="utf-8")


def test_init_refuses_an_existing_site(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path))[0] == 0
    code, _, err = run_cli("init", str(tmp_path))
    assert code == 1 and "already holds a site" in err


def test_init_works_outside_the_repository_with_the_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "generator", "init", "fresh"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    build = subprocess.run(
        [sys.executable, "-m", "generator", "build"], cwd=tmp_path / "fresh", capture_output=True, text=True
    )
    assert build.returncode == 0, build.stderr


def test_new_writes_a_draft_where_the_collection_lives(make_site: MakeSite) -> None:
    root = make_site({"content/news/belarus/old.md": article_text("Old", collection="belarus")})
    code, out, err = run_cli(
        "new",
        "Протесты в Минске",
        "-s",
        str(root),
        "-c",
        "Solidarity with Belarus",
        "-t",
        "protests",
        "-t",
        "Minsk",
    )
    assert code == 0, err
    (path,) = (root / "content" / "news" / "belarus").glob("*-protesty-v-minske.md")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-protesty-v-minske\.md", path.name)
    first, second = out.strip().splitlines()
    assert first.endswith(f"content/news/belarus/{path.name}")
    day = path.name[:10].replace("-", "/")
    assert (
        second
        == f"It is a draft: `digest serve` shows it, marked, at http://127.0.0.1:8000/belarus/{day}/protesty-v-minske/"
    )
    raw = RawArticle(f"news/belarus/{path.name}", path, path.read_text(encoding="utf-8"))
    article = parse_article(raw, __import__("zoneinfo").ZoneInfo("UTC"))
    assert article.title == "Протесты в Минске"
    assert article.is_draft and article.collections == ("belarus",) and article.tags == ("protests", "Minsk")
    assert abs(article.date - datetime.now(timezone.utc)).total_seconds() < 120
    # A draft: not built unless asked for.
    assert run_cli("build", "-s", str(root))[0] == 0
    assert not list((root / "site").glob("belarus/**/protesty-v-minske"))


def test_new_defaults_to_the_collection_folder_and_a_recurring_headline_gets_its_own_file(
    make_site: MakeSite,
) -> None:
    root = make_site({})
    for _ in range(3):
        assert run_cli("new", "Weekly briefing", "-s", str(root), "-c", "world")[0] == 0
    names = sorted(p.name[11:] for p in (root / "content" / "world").iterdir())
    assert names == ["weekly-briefing-2.md", "weekly-briefing-3.md", "weekly-briefing.md"]


def test_new_rejects_an_unknown_collection(make_site: MakeSite) -> None:
    root = make_site({})
    code, _, err = run_cli("new", "Hello", "-s", str(root), "-c", "wrold")
    assert code == 1 and "unknown collection 'wrold'" in err and "did you mean 'world'?" in err
    assert not (root / "content").exists()


def test_new_needs_a_site(tmp_path: Path) -> None:
    code, _, err = run_cli("new", "Hello", "-s", str(tmp_path), "-c", "world")
    assert code == 1 and "no config.yaml" in err


def test_check_passes_a_clean_site_and_writes_nothing(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text("A"),
            "content/world/b.md": article_text("B", body="[A](../a/)\n"),
        }
    )
    code, out, err = run_cli("check", "-s", str(root))
    assert code == 0, err
    assert "no problems found" in out
    assert not (root / "site").exists()


def test_check_lists_every_broken_link_and_article(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/world/a.md": article_text(
                "A", body="[gone](../nowhere/) and [root](/world/a/) and [ok](#x)\n"
            ),
            "content/world/b.md": article_text("B", body="![img](missing.png)\n"),
        },
        config="base_url: https://e.org/sub/\ncollections: [{key: world, title: World}]\n",
    )
    code, _, err = run_cli("check", "-s", str(root))
    assert code == 1
    assert re.search(r"content/world/a\.md: error: broken link '\.\./nowhere/' on /world/2020/09/03/a/", err)
    assert "broken link '/world/a/'" in err and "outside the site's base path /sub/" in err
    assert "broken link '#x'" in err
    assert (
        "content/world/b.md:6: error: 'missing.png' is missing" in err
        and "broken link 'missing.png'" not in err
    )
    assert "Failed: 4 errors" in err
    bad_front = root / "content" / "world" / "c.md"
    bad_front.write_text("---\ntitle: C\n---\n", encoding="utf-8")
    code, _, err = run_cli("check", "-s", str(root))
    assert code == 1 and "c.md:2: error: missing 'date'" in err


def test_import_of_the_seed_matches_the_bundled_article(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "config.yaml").write_text((REPO / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run_cli(
        "import", str(SEED), "-s", str(site), "--date", "2020-09-03T10:00:00+03:00", "--publish"
    )
    assert code == 0, err
    assert "dropped site chrome 'Popular news'" in out and "doubled period" in out
    imported = render_site(site).plan.site.articles
    bundled = render_site(REPO).plan.site.articles
    (new,) = imported.values()
    old = bundled["belarus/2020-09-03-kremlin-fears-belarusian-scenario.md"]
    assert new.slug == "the-kremlin-fears-a-repetition-of-the-belarusian-scenario"  # its file's name
    for field in ("title", "date", "summary", "body_html", "collections"):
        assert getattr(new, field) == getattr(old, field), field


def test_import_takes_a_recurring_headline_and_reports_missing_files(
    tmp_path: Path, make_site: MakeSite
) -> None:
    root = make_site({})
    raw = tmp_path / "raw.txt"
    raw.write_text("A headline\n\nWorld\n\nA subtitle\n\nBody text here.\n", encoding="utf-8")
    code, _out, err = run_cli("import", str(raw), "-s", str(root), "--date", "2020-01-01")
    assert code == 0, err
    assert (root / "content" / "world" / "2020-01-01-a-headline.md").is_file()
    code, _, err = run_cli(
        "import", str(raw), str(tmp_path / "missing.txt"), "-s", str(root), "--date", "2020-01-01"
    )
    assert code == 1 and "missing.txt: error: cannot import" in err
    assert (root / "content" / "world" / "2020-01-01-a-headline-2.md").is_file()
    assert run_cli("build", "-s", str(root))[0] == 0


def test_import_rejects_a_bad_date_and_an_unknown_collection(tmp_path: Path, make_site: MakeSite) -> None:
    root = make_site({})
    raw = tmp_path / "raw.txt"
    raw.write_text("A headline\n\nBody text here.\n", encoding="utf-8")
    code, _, err = run_cli("import", str(raw), "-s", str(root), "--date", "yesterday")
    assert code == 1 and "--date" in err
    code, _, err = run_cli("import", str(raw), "-s", str(root), "-c", "Wrld")
    assert code == 1 and "unknown collection 'Wrld'" in err


@pytest.mark.parametrize("command", ["build", "serve", "check", "new", "import", "init"])
def test_every_command_has_help(command: str) -> None:
    code, out, _ = run_cli(command, "--help")
    assert code == 0 and "Usage:" in out


def test_the_list_of_commands_cuts_no_help_short() -> None:
    code, out, _ = run_cli("--help")
    commands = out.split("Commands:", 1)[1].strip().splitlines()
    assert code == 0 and len(commands) >= 9
    assert not [line for line in commands if line.rstrip().endswith("...")], commands


def test_errors_point_at_the_line_to_fix(make_site: MakeSite) -> None:
    root = make_site({
        "content/world/quote.md": '---\ntitle: "Unclosed\ndate: 2020-09-01\ncollection: world\ntags: [a]\n---\n\nText.\n',
        "content/world/where.md": "---\ntitle: Fine\ndate: 2020-09-01\ncollection: wrold\n---\n\nText.\n",
    })  # fmt: skip
    code, _, err = run_cli("check", "-s", str(root))
    assert code == 1 and "Traceback" not in err
    assert "world/quote.md:2:8: error: invalid YAML in front matter: a quoted value starts here and its " \
           "closing quote is missing" in err  # fmt: skip
    assert "world/where.md:4: error: unknown collection 'wrold'" in err and "did you mean 'world'?" in err
    (root / "config.yaml").write_text((root / "config.yaml").read_text() + "description: 'never closed\n")
    code, _, err = run_cli("check", "-s", str(root))
    lines = (root / "config.yaml").read_text().splitlines()
    assert f"config.yaml:{len(lines)}:14: error:" in err and "closing quote is missing" in err


def test_the_readmes_sample_output_is_what_the_bundled_site_builds(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = re.search(
        r"\$ digest build\n(Built .*?) in [\d.]+ s -> site/\n(Search: .*?) in [\d.]+ s\n", readme
    )
    assert shown, "the README shows no `digest build` output"
    site = tmp_path / "bundled"
    site.mkdir()
    shutil.copy(REPO / "config.yaml", site / "config.yaml")
    shutil.copytree(REPO / "content", site / "content")
    code, out, err = run_cli("build", "-s", str(site))
    assert code == 0, err
    built, search = out.splitlines()[:2]
    assert built.split(" in ", 2)[:2] == shown.group(1).split(" in ", 2)[:2]
    assert re.sub(r" in [\d.]+ s", "", search) == shown.group(2)


def test_init_keeps_what_is_made_again_out_of_git(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "fresh"))[0] == 0
    ignored = (tmp_path / "fresh" / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {"/site/", "/.digest-cache/", "/.site.digest-work/", "/newsletters/"} <= set(ignored)
