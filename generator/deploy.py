"""Deploy stage for `digest deploy`: publish the built site to static hosting.

Three kinds of target: `dir` (a local or mounted folder, synced like rsync),
`git` (a branch of a git remote, e.g. gh-pages, committed and pushed with
plain git commands) and `s3` (any S3-compatible store, through boto3). Each
compares content hashes, so only new and changed files travel; stale files go
only with `--delete` (a git branch always mirrors the site). A run that
stopped half way can simply be run again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .errors import BuildFailed, SiteError, SourceLocation
from .model import CACHE_DIR, Config
from .server import content_type
from .theme import Theme, input_folders
from .writer import MARKER

# Names with a content hash in them (style.3f2a9c1b.css, Pagefind's en_3a64ca7.pf_fragment) may be
# cached for good.
_FINGERPRINTED = re.compile(r"(\.[0-9a-f]{8,}\.\w+|_[0-9a-f]{7,}\.pf_\w+)$")
PAGE_CACHE = "public, max-age=300"
ASSET_CACHE = "public, max-age=3600"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


class DeployError(SiteError):
    """The target could not be reached, read or written."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What a deploy does: files to upload (new), to change, and stale ones on the target."""

    new: tuple[str, ...]
    changed: tuple[str, ...]
    stale: tuple[str, ...]
    sizes: Mapping[str, int] = field(default_factory=dict)

    def size(self, paths: Iterable[str]) -> int:
        return sum(self.sizes.get(p, 0) for p in paths)

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.changed or self.stale)


def local_files(site_dir: Path) -> dict[str, Path]:
    """Every file of the built site by its path in the site, without the build's own marker."""
    files = {}
    for path in sorted(site_dir.rglob("*")):
        if path.is_file() and path.name != MARKER:
            files[path.relative_to(site_dir).as_posix()] = path
    return files


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def make_plan(
    local: Mapping[str, Path], remote: Mapping[str, str], same: Callable[[Path, str], bool]
) -> Plan:
    """Compare the site with what the target holds (`remote`: path -> fingerprint)."""
    new = tuple(p for p in local if p not in remote)
    changed = tuple(p for p in local if p in remote and not same(local[p], remote[p]))
    stale = tuple(sorted(p for p in remote if p not in local))
    sizes = {p: local[p].stat().st_size for p in (*new, *changed)}
    return Plan(new, changed, stale, sizes)


def cache_control(path: str) -> str:
    """Long for fingerprinted assets, an hour for other assets, five minutes for pages and feeds."""
    if _FINGERPRINTED.search(path):
        return IMMUTABLE_CACHE
    if path.endswith((".html", ".xml", ".txt", ".json")) or path.endswith("/"):
        return PAGE_CACHE
    return ASSET_CACHE


class Target(Protocol):
    @property
    def description(self) -> str: ...

    def plan(self, local: Mapping[str, Path]) -> Plan: ...

    def apply(self, plan: Plan, local: Mapping[str, Path], delete: bool) -> None: ...


@dataclass
class DirTarget:
    """A folder on this machine or a mounted one, e.g. a web server's document root."""

    folder: Path

    @property
    def description(self) -> str:
        return f"folder {self.folder}"

    def plan(self, local: Mapping[str, Path]) -> Plan:
        remote = (
            {p: str(path) for p, path in local_files(self.folder).items()} if self.folder.is_dir() else {}
        )
        return make_plan(local, remote, _same_file)

    def apply(self, plan: Plan, local: Mapping[str, Path], delete: bool) -> None:
        for path in (*plan.new, *plan.changed):
            target = self.folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.deploy-{os.getpid()}")
            shutil.copyfile(local[path], temporary)
            os.replace(temporary, target)
        if delete:
            for path in plan.stale:
                (self.folder / path).unlink(missing_ok=True)


def _same_file(ours: Path, theirs: str) -> bool:
    other = Path(theirs)
    try:
        return ours.stat().st_size == other.stat().st_size and ours.read_bytes() == other.read_bytes()
    except OSError:
        return False


@dataclass
class GitTarget:
    """A branch of a git remote (GitHub, GitLab or Codeberg Pages): its tree mirrors the site.

    A clone kept in the build cache holds the branch; each deploy makes one
    commit on top of its history (nothing when nothing changed) and pushes it.
    """

    remote: str
    branch: str
    clone: Path
    cname: str = ""
    message: str = "Publish the site (digest deploy)"

    @property
    def description(self) -> str:
        return f"branch {self.branch} of {self.remote}"

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        try:
            return subprocess.run(  # noqa: S603 - our own arguments, no shell
                ["git", "-C", str(self.clone), *args],  # noqa: S607 - git from PATH, as the user runs it
                capture_output=True,
                text=True,
                check=check,
                env=env,
            )
        except FileNotFoundError:
            raise _failed("git is not installed", "install git, or deploy to another target") from None
        except subprocess.CalledProcessError as exc:
            reason = (exc.stderr or exc.stdout).strip().splitlines()
            raise _failed(f"git {args[0]} failed: {reason[-1] if reason else exc}") from None

    def _checkout(self) -> None:
        """The clone at the remote branch's newest commit, or at a new empty branch."""
        if not (self.clone / ".git").is_dir():
            self.clone.mkdir(parents=True, exist_ok=True)
            self._git("init", "-q")
            self._git("config", "user.name", os.environ.get("GIT_AUTHOR_NAME", "digest deploy"))
            self._git("config", "user.email", os.environ.get("GIT_AUTHOR_EMAIL", "digest@localhost"))
        self._git("remote", "remove", "origin", check=False)
        self._git("remote", "add", "origin", self.remote)
        found = self._git("ls-remote", "--heads", "origin", self.branch).stdout.strip()
        if found:
            self._git("fetch", "-q", "origin", self.branch)
            self._git("checkout", "-q", "-B", self.branch, "FETCH_HEAD")
            self._git("reset", "-q", "--hard", "FETCH_HEAD")
            self._git("clean", "-q", "-f", "-d")
        else:
            self._git("checkout", "-q", "--orphan", self.branch)
            self._git("rm", "-q", "-r", "-f", "--ignore-unmatch", ".")

    def _wanted(self, local: Mapping[str, Path]) -> dict[str, Path]:
        """The site plus what Pages hosts need: `.nojekyll`, and `CNAME` for a custom domain."""
        extra = self.clone.parent / f"{self.clone.name}-extra"
        extra.mkdir(parents=True, exist_ok=True)
        (extra / ".nojekyll").write_text("", encoding="utf-8")
        wanted = {**local, ".nojekyll": extra / ".nojekyll"}
        if self.cname:
            (extra / "CNAME").write_text(self.cname + "\n", encoding="utf-8")
            wanted["CNAME"] = extra / "CNAME"
        return wanted

    def plan(self, local: Mapping[str, Path]) -> Plan:
        self._checkout()
        remote = {
            p: str(path)
            for p, path in local_files(self.clone).items()
            if not p.startswith(".git/") and p != ".git"
        }
        return make_plan(self._wanted(local), remote, _same_file)

    def apply(self, plan: Plan, local: Mapping[str, Path], delete: bool) -> None:
        wanted = self._wanted(local)
        DirTarget(self.clone).apply(plan, wanted, delete=True)  # the branch always mirrors the site
        self._git("add", "-A")
        if self._git("status", "--porcelain").stdout.strip():
            self._git("commit", "-q", "-m", self.message)
        self._git("push", "-q", "origin", f"HEAD:refs/heads/{self.branch}")


@dataclass
class S3Target:
    """A bucket (and key prefix) of any S3-compatible store; credentials come from the usual
    AWS variables or profile, never from config.yaml."""

    bucket: str
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    client_factory: Callable[[], Any] | None = None
    _client: Any = None

    @property
    def description(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"bucket {self.bucket}/{self.prefix}{where}"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = (self.client_factory or self._make_client)()
        return self._client

    def _make_client(self) -> Any:
        try:
            import boto3
            from botocore.config import Config as BotoConfig
        except ImportError:
            raise _failed("the s3 target needs boto3", "pip install boto3") from None
        style = {"addressing_style": "path"} if self.endpoint_url else {}
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url or None,
            region_name=self.region or None,
            config=BotoConfig(s3=style, retries={"max_attempts": 3}),
        )

    def _key(self, path: str) -> str:
        return f"{self.prefix.strip('/')}/{path}" if self.prefix.strip("/") else path

    def plan(self, local: Mapping[str, Path]) -> Plan:
        remote: dict[str, str] = {}
        prefix = self._key("")
        with _s3_errors(self):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    remote[item["Key"][len(prefix) :]] = item["ETag"].strip('"')
        return make_plan(local, remote, lambda path, etag: md5_of(path) == etag)

    def apply(self, plan: Plan, local: Mapping[str, Path], delete: bool) -> None:
        # Assets first, then pages, and only then deletions: the live site never links to a
        # file that is not there yet.
        order = sorted((*plan.new, *plan.changed), key=lambda p: (p.endswith(".html"), p))
        with _s3_errors(self):
            for path in order:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(path),
                    Body=local[path].read_bytes(),
                    ContentType=content_type(path),
                    CacheControl=cache_control(path),
                )
            if delete:
                for start in range(0, len(plan.stale), 1000):
                    chunk = plan.stale[start : start + 1000]
                    self.client.delete_objects(
                        Bucket=self.bucket, Delete={"Objects": [{"Key": self._key(p)} for p in chunk]}
                    )


@contextlib.contextmanager
def _s3_errors(target: S3Target) -> Iterator[None]:
    """Turn boto errors into one clear line: unreachable store, denied credentials, missing bucket."""
    try:
        yield
    except BuildFailed:
        raise
    except Exception as error:
        name = type(error).__name__
        if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
            raise _failed(
                f"cannot reach {target.description}", "check endpoint_url and the network"
            ) from None
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            raise _failed(
                "no S3 credentials found",
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), never in config.yaml",
            ) from None
        response = getattr(error, "response", None)
        if not isinstance(response, dict):  # not an answer of the store (a ClientError or a subclass)
            raise
        code = response.get("Error", {}).get("Code", "")
        if code == "NoSuchBucket":
            raise _failed(f"bucket {target.bucket} does not exist", "create it, or fix 'bucket'") from None
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
            raise _failed(f"the store refused the credentials ({code})", "check the access key") from None
        raise _failed(f"the store answered {code or name}: {error}") from None


def _failed(message: str, hint: str | None = None) -> BuildFailed:
    return BuildFailed([DeployError(message, None, hint)])


TARGET_KEYS = {
    "dir": {"type", "path"},
    "git": {"type", "remote", "branch", "cname", "message"},
    "s3": {"type", "bucket", "prefix", "endpoint_url", "region"},
}


def target_from(spec: Mapping[str, Any], root: Path, name: str, where: SourceLocation) -> Target:
    """A target from its settings in config.yaml (or parsed from the command line)."""
    kind = spec.get("type")
    if kind not in TARGET_KEYS:
        raise BuildFailed([DeployError(f"deploy target '{name}' needs 'type: dir', 'git' or 's3'", where)])
    unknown = sorted(set(spec) - TARGET_KEYS[kind])
    if unknown:
        takes = ", ".join(sorted(TARGET_KEYS[kind] - {"type"}))
        message = f"unknown key '{unknown[0]}' in deploy target '{name}'"
        raise BuildFailed([DeployError(message, where, f"a {kind} target takes {takes}")])
    try:
        if kind == "dir":
            return DirTarget((root / str(spec["path"])).expanduser())
        if kind == "git":
            clone = root / CACHE_DIR / "deploy" / re.sub(r"[^A-Za-z0-9_.-]", "_", name)
            return GitTarget(
                str(spec["remote"]), str(spec.get("branch", "gh-pages")), clone, str(spec.get("cname", "")),
                str(spec.get("message", GitTarget.message)),
            )  # fmt: skip
        return S3Target(
            str(spec["bucket"]), str(spec.get("prefix", "")), str(spec.get("endpoint_url", "")),
            str(spec.get("region", "")),
        )  # fmt: skip
    except KeyError as exc:
        raise BuildFailed([DeployError(f"deploy target '{name}' needs '{exc.args[0]}'", where)]) from None


def parse_target(text: str) -> dict[str, Any] | None:
    """Settings for a target given on the command line: s3://bucket/prefix, git:REMOTE[#branch], dir:PATH."""
    if text.startswith("s3://"):
        bucket, _, prefix = text[5:].partition("/")
        return {"type": "s3", "bucket": bucket, "prefix": prefix}
    if text.startswith("git:"):
        remote, _, branch = text[4:].partition("#")
        return {"type": "git", "remote": remote, "branch": branch or "gh-pages"}
    if text.startswith("dir:"):
        return {"type": "dir", "path": text[4:]}
    return None


def newest_source(config: Config, chosen_theme: Theme) -> float:
    """The newest modification time among the files a build reads (`theme.input_folders`)."""
    source = config.source
    newest = source.stat().st_mtime if source and source.exists() else 0.0
    for folder in input_folders(config, chosen_theme):
        for path in folder.rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


SAFE_DELETIONS = 10  # more than this many deletions asks first


def run_deploy(
    root: Path,
    name: str | None,
    dry_run: bool,
    delete: bool,
    yes: bool,
    confirm: Callable[[str], bool],
) -> list[str]:
    """Compare site/ with the target, then (unless `dry_run`) publish the difference; return a report.

    Raises `BuildFailed` for a missing or stale build, an unknown target, a
    refused deletion, or a target that cannot be reached.
    """
    from .config import load_config
    from .theme import find_theme
    from .writer import is_ours

    config = load_config(root)
    where = SourceLocation(config.source or root / "config.yaml")
    site_dir = config.output_dir
    if not is_ours(site_dir):
        raise _failed(f"there is no built site in {site_dir}", "run `digest build` first")
    theme, _ = find_theme(config)
    if newest_source(config, theme) > (site_dir / MARKER).stat().st_mtime:
        raise _failed(
            f"{site_dir} is older than the articles, config or theme it is built from",
            "run `digest build` first",
        )
    spec, label = _choose(config.deploy, name, where)
    target = target_from(spec, root, label, where)
    local = local_files(site_dir)
    plan = target.plan(local)
    deletes = plan.stale if delete or isinstance(target, GitTarget) else ()
    report = [
        f"{'Would deploy' if dry_run else 'Deploying'} {len(local)} files to {target.description}:",
        f"  new: {len(plan.new)} ({_kb(plan.size(plan.new))}), changed: {len(plan.changed)} "
        f"({_kb(plan.size(plan.changed))}), to delete: {len(deletes)}"
        + (f" (and {len(plan.stale)} stale, kept without --delete)" if plan.stale and not deletes else ""),
    ]
    if dry_run:
        report += (
            [f"  + {p}" for p in plan.new]
            + [f"  ~ {p}" for p in plan.changed]
            + [f"  - {p}" for p in deletes]
        )
        return report
    if (
        len(deletes) > SAFE_DELETIONS
        and not yes
        and not confirm(f"Delete {len(deletes)} files from {target.description}?")
    ):
        raise _failed(
            f"{len(deletes)} files would be deleted; nothing was changed",
            "look with --dry-run, then pass --yes",
        )
    if plan.is_empty and not isinstance(target, GitTarget):
        return [*report, "Nothing to do: the target is up to date."]
    target.apply(plan, local, delete=bool(deletes))
    return [*report, "Done."]


def _choose(
    targets: Mapping[str, Mapping[str, Any]], name: str | None, where: SourceLocation
) -> tuple[dict[str, Any], str]:
    if name and name in targets:
        return dict(targets[name]), name
    if name:
        spec = parse_target(name)
        if spec is None:
            known = ", ".join(targets) or "none in config.yaml"
            hint = f"known targets: {known}; or write s3://BUCKET/PREFIX, git:REMOTE#BRANCH, dir:PATH"
            raise BuildFailed([DeployError(f"unknown deploy target '{name}'", where, hint)])
        return spec, name
    if len(targets) == 1:
        only = next(iter(targets))
        return dict(targets[only]), only
    raise BuildFailed(
        [
            DeployError(
                "which target?",
                where,
                f"name one of: {', '.join(targets)}" if targets else "add a 'deploy:' section to config.yaml",
            )
        ]
    )


def _kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"
