"""The preview session of `digest serve`: the last good plan, keys and files, and a rebuild per change.

The server (`server.py`) knows nothing of builds: it calls `Preview.rebuild`
with the paths that changed and serves what it returns. What changed decides
what a rebuild does (`watch.classify`): when only articles did, their text is
read again and only the pages showing them are keyed again
(`layer.refresh`); anything else, or anything that refresh is unsure
of, makes a whole plan. Either way the one driver, `pipeline.write_changes`,
renders only the pages whose key changed, into memory. The search index is
made on a thread of its own (`search.LiveIndex`) and swapped in when ready.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from generator.base.errors import BuildFailed, SiteError
from generator.base.lock import site_lock
from generator.base.model import Config
from generator.build import theme, writer
from generator.build.config import load_config
from generator.build.plan import Plan
from generator.build.search import LiveIndex
from generator.driver import pipeline
from generator.incremental import layer
from generator.incremental.cache import MemoryCache
from generator.incremental.compiled import sealed_bytecode
from generator.incremental.keys import Keys, keys_of
from generator.preview.server import DevServer, Files, Snapshot
from generator.preview.server import serve as run_server
from generator.preview.watch import classify, is_ignored, watched_folders

Report = Callable[[Snapshot, float, frozenset[Path]], None]


class Preview:
    """One `digest serve`: a server on `host:port` over the site at `root`, rebuilt on every change."""

    def __init__(
        self, root: Path, host: str, port: int, options: Mapping[str, Any], warn: Callable[[str], None]
    ) -> None:
        """Raises `BuildFailed` for a config that cannot be read or an address that cannot be used."""
        self.root = root
        self.config: Config = load_config(root)
        self.options = options  # include_drafts, include_future
        self.warn = warn
        self.cache = MemoryCache(self.config.cache_dir)
        self.variants = layer.preview_folder(self.cache)  # image variants, removed at the end
        self.plan: Plan | None = None
        self.keys: Keys | None = None
        self.files: dict[str, bytes | Path] = {}
        try:
            self.server = DevServer(self.rebuild, host, port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise _failed(
                    f"port {port} on {host} is already in use",
                    "pass another one, e.g. --port 8001 (or --port 0)",
                ) from None
            raise _failed(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}", "check --host and --port"
            ) from None
        self.index = LiveIndex(self.server.patch, warn)

    @property
    def url(self) -> str:
        return self.server.url

    def rebuild(self, changed: frozenset[Path]) -> Files:
        """The site's files after `changed` (nothing at the start); raises `BuildFailed`. Waits for a
        `digest build` of the same site to end first: both write the cache."""
        with site_lock(self.root, self.warn):
            return self._rebuild(changed)

    def _rebuild(self, changed: frozenset[Path]) -> Files:
        found = None
        if self.plan is not None and self.keys is not None and self.describe(changed) == {"content"}:
            found = layer.refresh(self.plan, self.keys, changed, self.cache, datetime.now(timezone.utc))
        if found is None:
            plan = pipeline.prepare(
                self.root,
                read=layer.reader(self.cache),
                probe=layer.prober(self.cache),
                base_url=self.url,
                **self.options,
            )
            found = plan, keys_of(plan)
        plan, plan_keys = found
        output = writer.MemoryOutput({p: f for p, f in self.files.items() if p in plan_keys.files})
        previous = self.keys.files if self.keys else {}
        pipeline.write_changes(
            plan,
            plan_keys,
            previous,
            output,
            bytecode=sealed_bytecode(self.cache.folder / "jinja"),
            make=layer.picture_files(self.cache, self.variants),
        )
        self.plan, self.keys, self.files, self.config = plan, plan_keys, output.files, plan.site.config
        if self.config.search:
            self.index.request(plan.search_parts, plan_keys.search, output.files)
        else:
            self.server.patch({})
        return output.files

    def describe(self, changed: frozenset[Path]) -> frozenset[str]:
        """What the `changed` paths are: 'config', 'content', 'theme' (see `watch.classify`)."""
        return classify(changed, self.config)

    def run(self, report: Report) -> None:
        """Build, then serve until Ctrl-C or SIGTERM, rebuilding whenever a watched file changes;
        `report` is told of each build. Every temporary file of the search index goes at the end."""
        with contextlib.closing(self.index), _removed(self.variants):
            chosen = None
            with contextlib.suppress(BuildFailed):  # a missing theme shows as a build error
                chosen = theme.find_theme(self.config)[0]
            config = self.config
            folders = watched_folders(config, chosen)
            run_server(self.server, folders, lambda path: not is_ignored(path, config), report)


@contextlib.contextmanager
def _removed(folder: Path) -> Iterator[None]:
    """Remove `folder` at the end, however the block ends."""
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _failed(message: str, hint: str) -> BuildFailed:
    return BuildFailed([SiteError(message, None, hint)])
