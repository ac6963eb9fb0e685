"""The preview session of `digest serve`: the last good plan, keys and files, and a rebuild per change.

The server (`server.py`) knows nothing of builds: it calls `Preview.rebuild`
with the paths that changed and serves what it returns. What changed decides
what a rebuild does (`watch.classify`): when only articles did, their text is
read again and only the pages showing them are keyed again
(`layer.refresh`); anything else, or anything that refresh is unsure
of, makes a whole plan (`_Live`, the preview's layer). Either way the one
driver, `pipeline.run`, renders only the pages whose key changed, into memory
(`_Shown`). The search index is
made on a thread of its own (`search.LiveIndex`) and swapped in when ready.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

from generator.base.errors import BuildFailed, SiteError
from generator.base.lock import site_lock
from generator.base.model import Config, no_progress
from generator.build import search, theme, writer
from generator.build.config import load_config
from generator.build.plan import Plan
from generator.build.search import LiveIndex
from generator.driver import pipeline
from generator.incremental import layer
from generator.incremental.cache import MemoryCache
from generator.incremental.compiled import sealed_bytecode
from generator.incremental.keys import Keys, keys_of
from generator.preview.server import DevServer, Files, Snapshot, WithErrors
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

    def rebuild(self, changed: frozenset[Path]) -> Files | WithErrors:
        """The site's files after `changed` (nothing at the start); raises `BuildFailed`. Waits for a
        `digest build` of the same site to end first: both write the cache."""
        with site_lock(self.root, self.warn):
            return self._rebuild(changed)

    def _rebuild(self, changed: frozenset[Path]) -> Files | WithErrors:
        live = _Live(self, changed)
        output = writer.MemoryOutput({p: f for p, f in self.files.items()})
        options = {"keep_going": True, **self.options, "base_url": self.url}  # broken files are shown
        made = pipeline.run(self.root, live, _Shown(self, output), no_progress, options)
        assert made.plan is not None
        self.plan, self.keys, self.config = made.plan, made.keys, made.plan.site.config
        self.files = output.files
        left_out = made.summary.left_out
        return WithErrors(output.files, tuple(str(e) for e in left_out)) if left_out else output.files

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


class _Live(pipeline.Plain):
    """The layer of a preview: the last good plan kept in memory and, when only articles changed, brought
    up to date (`layer.refresh`); articles, files and images read through the preview's cache."""

    def __init__(self, preview: Preview, changed: frozenset[Path]) -> None:
        super().__init__(layer.picture_files(preview.cache, preview.variants))
        self.preview = preview
        self.changed = changed

    def look(self, root: Path, options: Mapping[str, Any]) -> Path | None:
        return None  # the preview writes no folder

    def previous(self, output_dir: Path | None) -> dict[str, str]:
        return dict(self.preview.keys.files) if self.preview.keys else {}

    def plan(self, make: pipeline.MakePlan, previous: Mapping[str, str], now: datetime) -> tuple[Plan, Keys]:
        preview, found = self.preview, None
        if (
            preview.plan is not None
            and preview.keys is not None
            and preview.describe(self.changed) == {"content"}
        ):
            found = layer.refresh(preview.plan, preview.keys, self.changed, preview.cache, now)
        if found is None:
            plan = make(layer.reader(preview.cache), layer.prober(preview.cache))
            found = plan, keys_of(plan)
        return found

    def bytecode(self) -> jinja2.BytecodeCache | None:
        return sealed_bytecode(self.preview.cache.folder / "jinja")


class _Shown(pipeline.MemoryDestination):
    """Memory, as the preview server shows it, with a search index made on a thread of its own
    (`search.LiveIndex`) and swapped in when ready. While articles are left out for their errors,
    their last good pages stay, under the errors; once none is, only the site's own files do."""

    def __init__(self, preview: Preview, output: writer.MemoryOutput) -> None:
        super().__init__(output)
        self.preview = preview
        self.planned: Mapping[str, str] = {}
        self.left_out = False

    def commit(self, stale: Sequence[str]) -> tuple[int, Sequence[str]]:
        if not self.left_out:
            files = self.output.files
            for path in [p for p in files if p not in self.planned]:
                del files[path]
        return 0, ()

    def index(
        self, plan: Plan, plan_keys: Keys, previous: Mapping[str, str], last: Mapping[str, search.Part]
    ) -> search.Searched:
        self.planned, self.left_out = plan_keys.files, bool(plan.problems)
        if plan.site.config.search:
            self.preview.index.request(plan.search_parts, plan_keys.search, self.output.files)
        else:
            self.preview.server.patch({})
        return search.Searched()


@contextlib.contextmanager
def _removed(folder: Path) -> Iterator[None]:
    """Remove `folder` at the end, however the block ends."""
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _failed(message: str, hint: str) -> BuildFailed:
    return BuildFailed([SiteError(message, None, hint)])
