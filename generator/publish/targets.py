"""Where `digest deploy` publishes: a folder (`dir`), a git branch (`git`), an S3 bucket (`s3`).

Each target lists what it holds, keeps the manifest of what deploy put
there (`deploy.py` decides what it may touch from it), and uploads and
removes files. None of them decides anything: they do what they are told,
and the folder target refuses to write or delete through a symbolic link.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from generator.base import durable
from generator.base.errors import BuildFailed, SiteError
from generator.base.urls import content_type

MANIFEST = ".newsdigest-deploy.json"  # in the target: the files deploy put there
TEMPORARY = ".newsdigest-deploy-tmp"  # in a folder target, while files are copied in
_OWN = (MANIFEST, TEMPORARY)

# Names with a content hash in them (style.3f2a9c1b.css, Pagefind's en_3a64ca7.pf_fragment) may be
# cached for good.
_FINGERPRINTED = re.compile(r"(\.[0-9a-f]{8,}\.\w+|_[0-9a-f]{7,}\.pf_\w+)$")
PAGE_CACHE = "public, max-age=300"
ASSET_CACHE = "public, max-age=3600"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


class DeployError(SiteError):
    """The target could not be reached, read or written, or deploy may not touch it."""


def failed(message: str, hint: str | None = None) -> BuildFailed:
    return BuildFailed([DeployError(message, None, hint)])


class Target(Protocol):
    @property
    def description(self) -> str: ...

    def listing(self) -> dict[str, str]:
        """Every file the target holds (but deploy's own), by path: a fingerprint for `same`."""

    def same(self, ours: Path, fingerprint: str) -> bool: ...

    def read_manifest(self) -> frozenset[str] | None:
        """The files deploy put here before, or None if it never deployed here."""

    def write_manifest(self, paths: Collection[str]) -> None: ...

    def upload(self, paths: Sequence[str], local: Mapping[str, Path]) -> None: ...

    def remove(self, paths: Sequence[str]) -> None: ...

    def finish(self) -> None:
        """Publish what was uploaded and removed (a git commit and push); tidy up."""


def manifest_text(paths: Collection[str]) -> bytes:
    return json.dumps({"generator": "newsdigest", "files": sorted(paths)}, indent=0).encode("utf-8")


def parse_manifest(data: bytes) -> frozenset[str]:
    """The paths of a manifest; a damaged one owns nothing (so nothing is deleted)."""
    try:
        files = json.loads(data).get("files")
    except (ValueError, AttributeError):
        return frozenset()
    return frozenset(p for p in files if isinstance(p, str) and _is_inside(p)) if files else frozenset()


def _is_inside(path: str) -> bool:
    """True for a relative path that stays inside the folder it is relative to (hidden names allowed)."""
    parts = path.split("/")
    return (
        bool(path) and "\\" not in path and "\0" not in path and all(p not in ("", ".", "..") for p in parts)
    )


def cache_control(path: str) -> str:
    """Long for fingerprinted assets, an hour for other assets, five minutes for pages and feeds."""
    if _FINGERPRINTED.search(path):
        return IMMUTABLE_CACHE
    if path.endswith((".html", ".xml", ".txt", ".json")) or path.endswith("/"):
        return PAGE_CACHE
    return ASSET_CACHE


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


@dataclass
class DirTarget:
    """A folder on this machine or a mounted one, e.g. a web server's document root.

    Files are copied into a hidden folder of the target, then renamed into
    place, so a reader never sees half a file; a deploy that was killed
    leaves only that folder, which the next one removes.
    """

    folder: Path
    skip: tuple[str, ...] = ()  # top-level names that are not the site's (a clone's .git)

    @property
    def description(self) -> str:
        return f"folder {self.folder}"

    def listing(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if not self.folder.is_dir():
            return found
        for base, folders, names in os.walk(self.folder, onerror=_raise):  # never follows links
            here = Path(base)
            if here == self.folder:
                folders[:] = [f for f in folders if f not in (*_OWN, *self.skip)]
                names = [n for n in names if n not in (*_OWN, *self.skip)]
            for name in names:
                path = here / name
                found[path.relative_to(self.folder).as_posix()] = str(path)
        return found

    def same(self, ours: Path, fingerprint: str) -> bool:
        theirs = Path(fingerprint)
        try:
            return ours.stat().st_size == theirs.stat().st_size and ours.read_bytes() == theirs.read_bytes()
        except OSError:
            return False

    def read_manifest(self) -> frozenset[str] | None:
        try:
            return parse_manifest((self.folder / MANIFEST).read_bytes())
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise failed(f"cannot read {self.folder / MANIFEST}: {exc.strerror}") from None

    def write_manifest(self, paths: Collection[str]) -> None:
        with _io_errors(self.folder):
            durable.write_atomic(self.folder / MANIFEST, manifest_text(paths))

    def upload(self, paths: Sequence[str], local: Mapping[str, Path]) -> None:
        """Copy every file into the hidden folder, make the copies durable (a power cut never leaves
        an empty or torn file under a published name), then rename each into place and keep the
        renames."""
        staging = self.folder / TEMPORARY
        with _io_errors(self.folder):
            staging.mkdir(parents=True, exist_ok=True)
            copies = []
            for number, path in enumerate(paths):
                self._place(path)
                copied = staging / str(number)
                shutil.copyfile(local[path], copied)
                copies.append(copied)
            durable.flush(staging, copies)
            folders: set[Path] = set()
            for path, copied in zip(paths, copies, strict=True):
                target = self._place(path)  # again: nothing may have put a link on the way meanwhile
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(copied, target)
                folders.add(target.parent)
            for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
                durable.fsync_folder(folder)

    def remove(self, paths: Sequence[str]) -> None:
        with _io_errors(self.folder):
            for path in paths:
                target = self._place(path)
                target.unlink(missing_ok=True)
                folder = target.parent
                while folder != self.folder and not any(folder.iterdir()):
                    folder.rmdir()
                    folder = folder.parent

    def finish(self) -> None:
        self.tidy()

    def tidy(self) -> None:
        """Remove what a killed deploy left."""
        shutil.rmtree(self.folder / TEMPORARY, ignore_errors=True)
        (self.folder / f"{MANIFEST}.tmp").unlink(missing_ok=True)

    def _place(self, path: str) -> Path:
        """Where `path` goes in the folder; raises if any folder on the way is a symbolic link."""
        if not _is_inside(path):
            raise failed(f"refusing to write outside the target: {path}")
        where = self.folder
        for part in path.split("/")[:-1]:
            where = where / part
            if where.is_symlink():
                raise failed(
                    f"{where} is a symbolic link; deploy never writes or deletes through one",
                    "replace the link with a real folder, or deploy elsewhere",
                )
        return self.folder / path


def _raise(error: OSError) -> None:
    raise error


@contextlib.contextmanager
def _io_errors(folder: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise failed(f"cannot write to {folder}: {exc}", "check the path and its permissions") from None


@dataclass
class GitTarget:
    """A branch of a git remote (GitHub, GitLab or Codeberg Pages).

    A clone kept in the build cache holds the branch; each deploy makes one
    commit on top of its history (nothing when nothing changed) and pushes it.
    The clone is data too: its git settings are written anew and its hooks
    removed before each use, so a planted cache runs nothing.
    """

    remote: str
    branch: str
    clone: Path
    cname: str = ""
    message: str = "Publish the site (digest deploy)"

    def __post_init__(self) -> None:
        self.files = DirTarget(self.clone, skip=(".git",))
        self._checked_out = False

    @property
    def description(self) -> str:
        return f"branch {self.branch} of {self.remote}"

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
        try:
            return subprocess.run(  # noqa: S603 - our own arguments, no shell
                ["git", "-c", "core.hooksPath=/dev/null", "-C", str(self.clone), *args],  # noqa: S607
                capture_output=True,
                text=True,
                check=check,
                env=env,
            )
        except FileNotFoundError:
            raise failed("git is not installed", "install git, or deploy to another target") from None
        except subprocess.CalledProcessError as exc:
            reason = (exc.stderr or exc.stdout).strip().splitlines()
            raise failed(f"git {args[0]} failed: {reason[-1] if reason else exc}") from None

    def _checkout(self) -> None:
        """The clone at the remote branch's newest commit, or at a new empty branch."""
        if self._checked_out:
            return
        git_dir = self.clone / ".git"
        if git_dir.is_dir():
            shutil.rmtree(git_dir / "hooks", ignore_errors=True)
            (git_dir / "config").write_text(_GIT_CONFIG, encoding="utf-8")
        else:
            self.clone.mkdir(parents=True, exist_ok=True)
            self._git("init", "-q")
        self._git("config", "user.name", os.environ.get("GIT_AUTHOR_NAME", "digest deploy"))
        self._git("config", "user.email", os.environ.get("GIT_AUTHOR_EMAIL", "digest@localhost"))
        self._git("remote", "add", "origin", self.remote)
        found = self._git("ls-remote", "--heads", "origin", self.branch).stdout.strip()
        if found:
            self._git("fetch", "-q", "origin", self.branch)
            self._git("checkout", "-q", "-f", "-B", self.branch, "FETCH_HEAD")
            self._git("reset", "-q", "--hard", "FETCH_HEAD")
            self._git("clean", "-q", "-f", "-d", "-x")
        else:
            self._git("checkout", "-q", "--orphan", self.branch)
            self._git("rm", "-q", "-r", "-f", "--ignore-unmatch", ".")
            self._git("clean", "-q", "-f", "-d", "-x")
        self._checked_out = True

    def extra_files(self) -> dict[str, Path]:
        """What Pages hosts need beside the site: `.nojekyll`, and `CNAME` for a custom domain."""
        extra = self.clone.parent / f"{self.clone.name}-extra"
        extra.mkdir(parents=True, exist_ok=True)
        (extra / ".nojekyll").write_text("", encoding="utf-8")
        wanted = {".nojekyll": extra / ".nojekyll"}
        if self.cname:
            (extra / "CNAME").write_text(self.cname + "\n", encoding="utf-8")
            wanted["CNAME"] = extra / "CNAME"
        return wanted

    def listing(self) -> dict[str, str]:
        self._checkout()
        return self.files.listing()

    def same(self, ours: Path, fingerprint: str) -> bool:
        return self.files.same(ours, fingerprint)

    def read_manifest(self) -> frozenset[str] | None:
        self._checkout()
        return self.files.read_manifest()

    def write_manifest(self, paths: Collection[str]) -> None:
        self.files.write_manifest(paths)

    def upload(self, paths: Sequence[str], local: Mapping[str, Path]) -> None:
        self.files.upload(paths, local)

    def remove(self, paths: Sequence[str]) -> None:
        self.files.remove(paths)

    def finish(self) -> None:
        self.files.tidy()
        self._git("add", "-A")
        if self._git("status", "--porcelain").stdout.strip():
            self._git("commit", "-q", "-m", self.message)
        self._git("push", "-q", "origin", f"HEAD:refs/heads/{self.branch}")


_GIT_CONFIG = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"


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
            raise failed("the s3 target needs boto3", "pip install boto3") from None
        style = {"addressing_style": "path"} if self.endpoint_url else {}
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url or None,
            region_name=self.region or None,
            config=BotoConfig(s3=style, retries={"max_attempts": _attempts()}),
        )

    def _key(self, path: str) -> str:
        return f"{self.prefix.strip('/')}/{path}" if self.prefix.strip("/") else path

    def listing(self) -> dict[str, str]:
        remote: dict[str, str] = {}
        prefix = self._key("")
        with _s3_errors(self):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    remote[item["Key"][len(prefix) :]] = item["ETag"].strip('"')
        remote.pop(MANIFEST, None)
        return remote

    def same(self, ours: Path, fingerprint: str) -> bool:
        return md5_of(ours) == fingerprint

    def read_manifest(self) -> frozenset[str] | None:
        with _s3_errors(self):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(MANIFEST))
            except Exception as error:
                if _code(error) in ("NoSuchKey", "404"):
                    return None
                raise
            return parse_manifest(answer["Body"].read())

    def write_manifest(self, paths: Collection[str]) -> None:
        with _s3_errors(self):
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(MANIFEST), Body=manifest_text(paths),
                ContentType="application/json", CacheControl="no-store",
            )  # fmt: skip

    def upload(self, paths: Sequence[str], local: Mapping[str, Path]) -> None:
        # Assets first, then pages: the live site never links to a file that is not there yet.
        with _s3_errors(self):
            for path in sorted(paths, key=lambda p: (p.endswith(".html"), p)):
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(path),
                    Body=local[path].read_bytes(),
                    ContentType=content_type(path),
                    CacheControl=cache_control(path),
                )

    def remove(self, paths: Sequence[str]) -> None:
        with _s3_errors(self):
            for start in range(0, len(paths), 1000):
                chunk = paths[start : start + 1000]
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": self._key(p)} for p in chunk]}
                )

    def finish(self) -> None:
        pass


def _code(error: Exception) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


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
            raise failed(f"cannot reach {target.description}", "check endpoint_url and the network") from None
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            raise failed(
                "no S3 credentials found",
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), never in config.yaml",
            ) from None
        if not isinstance(getattr(error, "response", None), dict):  # not an answer of the store
            raise
        code = _code(error)
        if code == "NoSuchBucket":
            raise failed(f"bucket {target.bucket} does not exist", "create it, or fix 'bucket'") from None
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
            raise failed(f"the store refused the credentials ({code})", "check the access key") from None
        raise failed(f"the store answered {code or name}: {error}") from None


def _attempts() -> int:
    """How many times an S3 request is tried: 3, or what AWS's own `AWS_MAX_ATTEMPTS` says."""
    wanted = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(wanted) if wanted.isdigit() and int(wanted) > 0 else 3
