"""Deploy stage for `digest deploy`: publish the built site to static hosting, touching only its own files.

Targets (`targets.py`): a folder, a git branch, an S3 bucket. Each deploy
compares the site with what the target holds, so only new and changed files
travel. Deploy owns only what it deployed: the target keeps a manifest of
those files, `--delete` removes only files in it, and a file deploy did not
write is never replaced or removed unless `--force` says so. A target that
is `/`, the home folder, the site's own sources, or a non-empty folder deploy
never used is refused before anything is read from it. A run that stopped
half way can simply be run again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.base.errors import BuildFailed, SourceLocation
from generator.base.lock import site_lock
from generator.base.model import CACHE_DIR, Config
from generator.base.urls import is_safe_text_path
from generator.build.theme import Theme, input_folders
from generator.build.writer import MARKER, is_ours, marker_field, recover
from generator.publish.targets import MANIFEST, DeployError, DirTarget, GitTarget, S3Target, Target, failed

SAFE_DELETIONS = 10  # more than this many deletions asks first


@dataclass(frozen=True, slots=True)
class Changes:
    """What a deploy does: files to upload (new), to change, stale ones it may delete, and files on
    the target that it did not deploy but would replace (`foreign`)."""

    new: tuple[str, ...]
    changed: tuple[str, ...]
    stale: tuple[str, ...]
    foreign: tuple[str, ...] = ()
    sizes: Mapping[str, int] = field(default_factory=dict)

    def size(self, paths: Iterable[str]) -> int:
        return sum(self.sizes.get(p, 0) for p in paths)

    @property
    def is_empty(self) -> bool:
        return not (self.new or self.changed or self.stale)


def local_files(site_dir: Path) -> dict[str, Path]:
    """Every regular file of the built site by its path in the site, but the build's own marker."""
    files = {}
    for path in sorted(site_dir.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name != MARKER:
            rel = path.relative_to(site_dir).as_posix()
            if is_safe_text_path(rel) and rel != MANIFEST:
                files[rel] = path
    return files


def compare(
    local: Mapping[str, Path],
    remote: Mapping[str, str],
    owned: frozenset[str],
    same: Callable[[Path, str], bool],
) -> Changes:
    """Compare the site with what the target holds (`remote`: path -> fingerprint) and what deploy
    put there before (`owned`)."""
    new = tuple(p for p in local if p not in remote)
    changed = tuple(p for p in local if p in remote and not same(local[p], remote[p]))
    stale = tuple(sorted(p for p in owned if p in remote and p not in local))
    foreign = tuple(p for p in local if p in remote and p not in owned and p in changed)
    sizes = {p: local[p].stat().st_size for p in (*new, *changed)}
    return Changes(new, changed, stale, foreign, sizes)


def run_deploy(
    root: Path,
    name: str | None,
    dry_run: bool,
    delete: bool,
    yes: bool,
    confirm: Callable[[str], bool],
    force: bool = False,
    allow_unpublished: bool = False,
    waiting: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Compare site/ with the target, then (unless `dry_run`) publish the difference; return a report.

    Waits for a build of the same site to finish. Raises `BuildFailed` for a
    missing, stale or unpublished build, an unknown target, a target deploy
    may not touch, a refused deletion, or a target that cannot be reached.
    """
    from generator.build.config import load_config
    from generator.build.theme import find_theme

    config = load_config(root)
    where = SourceLocation(config.source or root / "config.yaml")
    site_dir = config.output_dir
    with site_lock(root, waiting):
        recover(site_dir)  # a build killed while committing is finished first
        _check_build(config, find_theme(config)[0], allow_unpublished)
        spec, label = _choose(config.deploy, name, where)
        target = target_from(spec, root, label, where)
        if isinstance(target, DirTarget):
            _check_folder(target.folder, config, force)
        local = local_files(site_dir)
        if isinstance(target, GitTarget):
            local.update(target.extra_files())
        return _deploy(target, local, dry_run, delete or isinstance(target, GitTarget), yes, force, confirm)


def _deploy(
    target: Target,
    local: Mapping[str, Path],
    dry_run: bool,
    delete: bool,
    yes: bool,
    force: bool,
    confirm: Callable[[str], bool],
) -> list[str]:
    if isinstance(target, DirTarget) and not dry_run:
        target.tidy()  # what a killed deploy left
    owned = target.read_manifest()
    remote = target.listing()
    if owned is None and remote and not force:
        raise failed(
            f"{target.description} holds {len(remote)} files and digest deploy never published there",
            "deploy into an empty folder, bucket prefix or branch; or pass --force to publish there "
            "anyway (files deploy did not write are never deleted)",
        )
    plan = compare(local, remote, owned or frozenset(), target.same)
    if plan.foreign and not force:
        listed = ", ".join(plan.foreign[:5]) + (", ..." if len(plan.foreign) > 5 else "")
        raise failed(
            f"{len(plan.foreign)} files on {target.description} were not written by digest deploy and "
            f"would be replaced: {listed}",
            "move them away, or pass --force to replace them",
        )
    deletes = plan.stale if delete else ()
    report = [
        f"{'Would deploy' if dry_run else 'Deploying'} {len(local)} files to {target.description}:",
        f"  new: {len(plan.new)} ({_kb(plan.size(plan.new))}), changed: {len(plan.changed)} "
        f"({_kb(plan.size(plan.changed))}), to delete: {len(deletes)}"
        + (f" (and {len(plan.stale)} stale, kept without --delete)" if plan.stale and not deletes else ""),
    ]
    if dry_run:
        return (
            report
            + [f"  + {p}" for p in plan.new]
            + [f"  ~ {p}" for p in plan.changed]
            + [f"  - {p}" for p in deletes]
        )
    if (
        len(deletes) > SAFE_DELETIONS
        and not yes
        and not confirm(f"Delete {len(deletes)} files from {target.description}?")
    ):
        raise failed(
            f"{len(deletes)} files would be deleted; nothing was changed",
            "look with --dry-run, then pass --yes",
        )
    if plan.is_empty and owned is not None and not isinstance(target, GitTarget):
        return [*report, "Nothing to do: the target is up to date."]
    uploads = (*plan.new, *plan.changed)
    mine = set(owned or ()) | set(uploads)
    target.write_manifest(mine)  # first: a deploy killed half way still knows what it wrote
    target.upload(uploads, local)
    target.remove(deletes)
    target.write_manifest(mine - set(deletes))
    target.finish()
    return [*report, "Done."]


def _check_build(config: Config, chosen_theme: Theme, allow_unpublished: bool) -> None:
    site_dir = config.output_dir
    if not is_ours(site_dir):
        raise failed(f"there is no built site in {site_dir}", "run `digest build` first")
    if newest_source(config, chosen_theme) > (site_dir / MARKER).stat().st_mtime:
        raise failed(
            f"{site_dir} is older than the articles, config or theme it is built from",
            "run `digest build` first",
        )
    shown = marker_field(site_dir, "unpublished")
    if shown is None:
        raise failed(f"{site_dir} was built by an older newsdigest", "run `digest build` first")
    if shown != "none" and not allow_unpublished:
        raise failed(
            f"{site_dir} was built with unpublished articles in it ({shown})",
            "run `digest build` without --drafts and --future, or pass --allow-unpublished",
        )


def _check_folder(folder: Path, config: Config, force: bool) -> None:
    """Refuse a folder that deploy must never sync into: `/`, the home folder, the site's own files."""
    target = folder.resolve()
    root = config.root.resolve()
    own = [config.output_dir, config.content_dir, root / "themes", root / CACHE_DIR]
    reason = ""
    if target == Path(target.anchor):
        reason = "is the root of the file system"
    elif target == Path.home().resolve():
        reason = "is your home folder"
    elif target == root or target in root.parents:
        reason = "holds the site's own sources"
    elif any(target == o.resolve() or o.resolve() in target.parents for o in own):
        reason = "is inside the site's sources, output or cache"
    if reason and not force:
        raise failed(
            f"the deploy target {folder} {reason}", "choose a folder of its own; --force overrides this"
        )


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
            return DirTarget(root / Path(str(spec["path"])).expanduser())
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
