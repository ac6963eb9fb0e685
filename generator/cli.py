"""The `digest` command: parse options, call one function, print the outcome.

Only this module prints errors: `path:line:col: error: message`, an optional
hint line, and exit status 1. A user's mistake never shows a traceback.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

import generator

SOURCE = click.option(
    "--source",
    "-s",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Site folder holding config.yaml and content/.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(generator.__version__, prog_name="digest")
def main() -> None:
    """newsdigest: build themed news digests from Markdown articles."""


@main.command(short_help="Build the site into site/.")
@SOURCE
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the site here instead of site/.",
)
@click.option("--base-url", help="Override base_url from config.yaml for this build.")
@click.option("--drafts", is_flag=True, help="Include articles marked draft: true.")
@click.option("--future", is_flag=True, help="Include articles dated in the future.")
@click.option(
    "--keep-going",
    "-k",
    is_flag=True,
    help="Build every good article and leave out the broken ones (named with their line; exit 1).",
)
def build(
    source: Path, output: Path | None, base_url: str | None, drafts: bool, future: bool, keep_going: bool
) -> None:
    """Build the site from config.yaml and content/ into site/."""
    from generator.driver.pipeline import build as run_build

    with _ProgressBar() as progress:
        summary = _run(
            run_build,
            source.absolute(),
            output_dir=output.absolute() if output else None,
            base_url=base_url,
            include_drafts=drafts,
            include_future=future,
            keep_going=keep_going,
            progress=progress,
            waiting=_warn,
        )
    for warning in summary.warnings:
        click.echo(str(warning), err=True)
    if summary.refilled:
        click.echo(
            f"{_show(summary.output_dir)} was missing: {_count(summary.refilled, 'file')} put back"
            " from the cache's copy of the last build (.digest-cache/output/)"
        )
    click.echo(
        f"Built {summary.articles} {_plural(summary.articles, 'article')} in "
        f"{summary.collections} {_plural(summary.collections, 'collection')}: "
        f"{_count(summary.pages, 'page')} ({summary.rendered} rendered), "
        f"{_count(summary.files, 'file')} written"
        f" in {summary.seconds:.2f} s"
        f" -> {_show(summary.output_dir)}" + (" (up to date)" if not summary.files else "")
    )
    if summary.indexed:
        pages = sum(summary.indexed.values())
        languages = ", ".join(f"{lang} {count}" for lang, count in summary.indexed.items())
        again, parts = summary.index_parts
        done = (
            "up to date"
            if summary.index_seconds is None
            else f"{again} of {parts} parts indexed in {summary.index_seconds:.2f} s"
        )
        click.echo(f"Search: {pages} {_plural(pages, 'page')} ({languages}), {done}")
    if summary.left_out:
        for error in summary.left_out:
            click.echo(str(error), err=True)
        files = len({e.location.path for e in summary.left_out if e.location})
        count = len(summary.left_out)
        click.echo(
            f"Left out: {files} {_plural(files, 'file')} with {count} {_plural(count, 'error')};"
            " everything else was built.",
            err=True,
        )
        raise SystemExit(1)


@main.command(short_help="Check config, articles and links; write nothing.")
@SOURCE
@click.option("--drafts", is_flag=True, help="Check articles marked draft: true too.")
@click.option("--future", is_flag=True, help="Check articles dated in the future too.")
def check(source: Path, drafts: bool, future: bool) -> None:
    """Check config, every article and every internal link, without writing anything."""
    from generator.driver.checking import check as run_check

    summary = _run(run_check, source.absolute(), include_drafts=drafts, include_future=future, after="")
    for warning in summary.warnings:
        click.echo(str(warning), err=True)
    if summary.to_translate:
        click.echo("Translations, by language:")
        for line in summary.to_translate:
            click.echo("  " + line)
    found = len(summary.warnings)
    click.echo(
        f"Checked {summary.articles} {_plural(summary.articles, 'article')} and "
        f"{_count(summary.pages, 'page')}"
        f" in {summary.seconds:.2f} s: "
        + (f"{found} {_plural(found, 'warning')}" if found else "no problems found")
    )


@main.command(short_help="Preview the site, drafts marked, reloading on save.")
@SOURCE
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port (0: any free one).",
)
@click.option(
    "--published-only", is_flag=True, help="Preview exactly what a build publishes: no drafts, no future."
)
@click.option("--drafts", is_flag=True, hidden=True)  # the default now; kept for older scripts
@click.option("--future", is_flag=True, hidden=True)
def serve(source: Path, host: str, port: int, published_only: bool, drafts: bool, future: bool) -> None:
    """Preview the site, drafts and scheduled articles included (each marked on its page), rebuilding
    and reloading open pages on every change."""
    from generator.preview.server import ALL_INTERFACES
    from generator.preview.session import Preview

    root = source.absolute()
    shown = not published_only
    options = {"include_drafts": shown, "include_future": shown, "mark_unpublished": shown}
    preview = _run(Preview, root, host, port, options, _warn, after="")
    if host.strip() in ALL_INTERFACES:
        _warn("serving on all interfaces: anyone on your network can open the preview")

    def report(snapshot: Any, seconds: float, paths: frozenset[Path]) -> None:
        what = ", ".join(sorted(preview.describe(paths))) or "start"
        if snapshot.errors:
            for line in snapshot.errors:
                click.echo(line, err=True)
            click.echo(f"Build failed ({what}); still serving the last good version.", err=True)
        else:
            click.echo(f"Built in {seconds:.2f} s ({what}): {len(snapshot.files)} files")

    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    click.echo(f"Serving {_show(root)} at {preview.url}  (Ctrl-C to stop)")
    preview.run(report)
    click.echo("Stopped.")


def _warn(text: str) -> None:
    click.echo(f"warning: {text}", err=True)


@main.command(short_help="Create a new site in FOLDER.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="My News Digest", show_default=True, help="The new site's title.")
@click.option(
    "--ci",
    type=click.Choice(["github", "gitlab"]),
    help="Also write a workflow that builds, checks and publishes to GitHub or GitLab Pages (in an "
    "existing site: only the workflow).",
)
def init(folder: Path, title: str, ci: str | None) -> None:
    """Create a new site in FOLDER: a commented config.yaml and one example article; with --ci, a
    workflow that publishes it from CI on every push and every hour."""
    from generator.editing.ci import write_ci
    from generator.editing.scaffold import init_site

    root = folder.absolute()
    existing = ci is not None and (root / "config.yaml").is_file()
    written = [] if existing else _run(init_site, root, title, after="Nothing was written.")
    if ci is not None:
        written.append(_run(write_ci, root, ci, after="Nothing was written."))
    for path in written:
        click.echo(f"created {_show(path).rstrip('/')}")
    if ci is not None:
        click.echo("The workflow's first lines say what to set up on the host (Pages, a schedule, a secret).")
    if not existing:
        click.echo(f"Next: cd {folder} && digest serve")


@main.command(short_help="Make a site from a Jekyll, Hugo, Zola or Pelican one.")
@click.argument("old", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def migrate(old: Path, folder: Path) -> None:
    """Make a new site in FOLDER from the Jekyll, Hugo, Zola or Pelican site in OLD, keeping its URLs.

    OLD is only read: its configuration as data (pelicanconf.py is never run), its content and
    files copied as they are."""
    from generator.migrating.migrate import migrate as run_migrate

    report = _run(run_migrate, old.absolute(), folder.absolute(), after="Nothing was written.")
    for line in report.lines():
        click.echo(line)
    click.echo(f"Next: cd {folder} && digest build --keep-going && digest check")


@main.command(short_help="Start a draft article, or a translation of one.")
@click.argument("title", required=False)
@SOURCE
@click.option("--collection", "-c", help="Collection key or title.")
@click.option("--tag", "-t", "tags", multiple=True, help="A tag (repeat for more).")
@click.option(
    "--translation-of",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Start a translation of this article file instead (with --language).",
)
@click.option("--language", "-l", help="With --translation-of: the translation's language code.")
def new(
    title: str | None,
    source: Path,
    collection: str | None,
    tags: tuple[str, ...],
    translation_of: Path | None,
    language: str | None,
) -> None:
    """Start a draft article called TITLE (in --collection) and print its path; or, with
    --translation-of FILE --language CODE, a draft translation of FILE."""
    from generator.build.config import load_config
    from generator.editing.scaffold import new_article, new_translation

    config = _run(load_config, source.absolute(), after="")
    if translation_of is not None:
        if not language:
            raise click.UsageError("--translation-of needs --language, e.g. --language be")
        path = _run(
            new_translation, config, translation_of.absolute(), language, after="Nothing was written."
        )
    elif title and collection:
        path = _run(new_article, config, title, collection, tags, after="Nothing was written.")
    else:
        raise click.UsageError("give a TITLE and --collection (or --translation-of FILE --language CODE)")
    click.echo(_show(path).rstrip("/"))
    url = _preview_url(config, path)
    if url:
        click.echo(f"It is a draft: `digest serve` shows it, marked, at http://127.0.0.1:8000/{url}")


def _preview_url(config: Any, path: Path) -> str:
    """Where `digest serve` shows the article at `path` (its URL by the site's patterns), or ''."""
    from generator.base.errors import BuildFailed
    from generator.build import content, topics

    try:
        parsed, errors = content.parse_files([path / "index.md" if path.is_dir() else path], config)
        resolved, _, _ = topics.resolve_collections(parsed, config)
        return topics.article_url(resolved[0], config) if resolved and not errors else ""
    except (BuildFailed, ValueError, OSError):
        return ""


@main.command(name="import", short_help="Import news pages, text files and feeds as drafts.")
@click.argument("inputs", nargs=-1, metavar="[FILE_OR_URL]...")
@SOURCE
@click.option(
    "--feed",
    "feeds",
    multiple=True,
    metavar="URL_OR_FILE",
    help="An RSS or Atom feed: import its new items (repeat for more).",
)
@click.option("--since", help="With --feed: leave out items published before this date (ISO 8601).")
@click.option(
    "--collection", "-c", help="Collection key or title (default: the text's rubric line, else none)."
)
@click.option("--date", "when", help="Publication date, ISO 8601 (default: the one found, else now).")
@click.option("--publish", is_flag=True, help="Write the articles ready to publish (default: draft: true).")
@click.option(
    "--images",
    is_flag=True,
    help="Download each lead image beside its article (a page bundle), so that pages never load it "
    "from the outlet (default: a link to it).",
)
def import_(
    inputs: tuple[str, ...], source: Path, feeds: tuple[str, ...], since: str | None,
    collection: str | None, when: str | None, publish: bool, images: bool,
) -> None:  # fmt: skip
    """Turn news pages (saved .html files or URLs), raw text files and feed items into draft
    articles, each attributed to its source and never imported twice."""
    from zoneinfo import ZoneInfo

    from generator.base.errors import SourceLocation
    from generator.build.config import load_config
    from generator.build.topics import require_collection
    from generator.importing.importer import Importer, Options

    if not inputs and not feeds:
        _fail("nothing to import", "give files or URLs, or --feed URL_OR_FILE")
    config = _run(load_config, source.absolute(), after="")
    tz = ZoneInfo(config.timezone)
    key = ""
    if collection:
        key = _run(
            require_collection,
            collection,
            config.collections,
            SourceLocation(config.source or source),
            after="",
        )
    options = Options(
        key, _date_option("--date", when, tz), publish, _date_option("--since", since, tz), images
    )
    importer = Importer(config, options)
    importer.waiting = _warn
    written = 0
    for outcome in importer.run(inputs, feeds):
        given = outcome.given if "://" in outcome.given else _show(Path(outcome.given).absolute()).rstrip("/")
        if outcome.path is None:
            click.echo(f"{given}: skipped: {outcome.skipped}")
        else:
            written += 1
            state = "" if publish else " (draft)"
            click.echo(f"{given} -> {_show(outcome.path).rstrip('/')}{state}")
        for note in outcome.notes if outcome.path is not None else ():
            click.echo(f"  {note}")
    if importer.errors:
        after = f"{written} {_plural(written, 'article')} imported." if written else "Nothing was imported."
        _run(_raise, importer.errors, after=after)


def _date_option(name: str, value: str | None, tz: Any) -> Any:
    from generator.build.fields import parse_date

    if not value:
        return None
    try:
        return parse_date(value, tz)
    except ValueError:
        _fail(
            f"{name} {value!r} is not an ISO 8601 date",
            f"for example {name} 2020-09-03 or {name} 2020-09-03T10:00+03:00",
        )


def _raise(errors: list[Any]) -> None:
    from generator.base.errors import BuildFailed

    raise BuildFailed(errors)


@main.command(short_help="Publish site/ to a folder, S3 bucket or git branch.")
@click.argument("target", required=False)
@SOURCE
@click.option(
    "--dry-run", "-n", is_flag=True, help="List what would be uploaded, changed and deleted; touch nothing."
)
@click.option(
    "--delete", is_flag=True, help="Also delete files deploy published before that the site no longer has."
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before deleting many files.")
@click.option(
    "--force",
    is_flag=True,
    help="Publish into a non-empty target deploy never used, replacing files it did not write.",
)
@click.option("--allow-unpublished", is_flag=True, help="Publish a site built with --drafts or --future.")
def deploy(
    target: str | None,
    source: Path,
    dry_run: bool,
    delete: bool,
    yes: bool,
    force: bool,
    allow_unpublished: bool,
) -> None:
    """Publish site/ to TARGET: a name under `deploy:` in config.yaml, s3://BUCKET/PREFIX,
    git:REMOTE[#BRANCH] or dir:PATH. Deploy only ever replaces or deletes files it published."""
    from generator.publish.deploy import run_deploy

    options = {"force": force, "allow_unpublished": allow_unpublished, "waiting": _warn}
    report = _run(run_deploy, source.absolute(), target, dry_run, delete, yes, _confirm, after="", **options)
    for line in report:
        click.echo(line)


@main.command(short_help="Write an edition as an email; --send mails it.")
@click.argument("collection")
@SOURCE
@click.option("--edition", "edition_id", help="The edition, e.g. 2020-w36 (default: the newest).")
@click.option("--latest", is_flag=True, help="The newest edition (the default).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder for the files.")
@click.option("--send", is_flag=True, help="Also send it over SMTP (newsletter: smtp: in config.yaml).")
@click.option("--to", "recipients", type=click.Path(dir_okay=False, path_type=Path), help="Recipients file.")
@click.option("--dry-run", "-n", is_flag=True, help="With --send: say who would get it; send nothing.")
@click.option(
    "--language", "-l", help="A multilingual site's edition in this language (default: the default)."
)
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="With --send: send again to those whose delivery is uncertain (a dropped connection).",
)
@click.option(
    "--allow-plaintext",
    is_flag=True,
    help="With --send: allow a login without TLS to a host that is not this machine.",
)
def newsletter(
    collection: str, source: Path, edition_id: str | None, latest: bool, out: Path | None, send: bool,
    recipients: Path | None, dry_run: bool, language: str | None, resend_uncertain: bool,
    allow_plaintext: bool,
) -> None:  # fmt: skip
    """Write an edition of COLLECTION as an email: HTML with inlined CSS, plain text, and a .eml;
    with --send, mail it to each address of the --to file once (the password from DIGEST_SMTP_PASSWORD)."""
    from generator.driver.pipeline import prepare
    from generator.publish.newsletter import make_newsletter, write_newsletter

    root = source.absolute()
    plan = _run(prepare, root, after="")
    letter = _run(make_newsletter, plan, collection, None if latest else edition_id, language, after="")
    named = f"{collection}-{letter.edition.id}" + (f"-{language}" if language else "")
    folder = out or root / "newsletters" / named
    for path in write_newsletter(letter, folder.absolute()):
        click.echo(f"wrote {_show(path).rstrip('/')}")
    size = len(letter.html.encode("utf-8")) / 1024
    click.echo(
        f"{letter.subject}: {_count(len(letter.edition.article_ids) - letter.cut, 'story', 'stories')},"
        f" {size:.1f} KB of HTML"
    )
    if letter.cut:
        click.echo(
            f"{_count(letter.cut, 'story', 'stories')} did not fit under 102 KB (where Gmail clips):"
            " the email links to them"
        )
    if send:
        _send_newsletter(plan, letter, recipients, dry_run, resend_uncertain, allow_plaintext)


def _send_newsletter(plan: Any, letter: Any, recipients: Path | None, dry_run: bool, resend: bool,
                     plaintext: bool) -> None:  # fmt: skip
    from generator.publish import mailer

    if recipients is None:
        _fail("--send needs --to FILE, a file of addresses, one a line")
        return
    found = _run(mailer.read_recipients, recipients.absolute(), after="Nothing was sent.")
    for note in found.notes:
        click.echo(f"note: {note}", err=True)
    config = plan.site.config
    settings = config.newsletter.get("smtp") or {}
    _run(mailer.check_settings, settings, plaintext, after="Nothing was sent.")
    from email import message_from_bytes
    from email.utils import parseaddr

    sender = parseaddr(str(message_from_bytes(letter.message)["From"]))[1]
    sign = _run(mailer.dkim_signer, config.newsletter, sender, after="Nothing was sent.")
    edition = letter.edition
    other = edition.lang and config.languages and edition.lang != config.languages[0].code
    name = f"{edition.collection}-{edition.id}" + (f"-{edition.lang}" if other else "")  # a log per language
    log = config.cache_dir / "deliveries" / f"{name}.json"
    done = _run(
        mailer.send, letter.message, found.addresses, settings, log, dry_run, None, resend, sign, after=""
    )
    if done.held:
        click.echo(
            f"note: {_count(len(done.held), 'recipient')} may have had it already (the connection "
            "dropped as it was sent) and were not sent it again; --resend-uncertain sends it to them",
            err=True,
        )
    if dry_run:
        click.echo(
            f"Would send to {_count(len(done.pending), 'recipient')} ({len(done.skipped)} already served)."
        )
        return
    signed = " signed with DKIM" if sign else ""
    click.echo(f"Sent{signed} to {_count(len(done.sent), 'recipient')} ({len(done.skipped)} already served).")
    for address, answer in done.failed:
        click.echo(f"error: not delivered to {address}: {answer}", err=True)
    for address, answer in done.uncertain:
        click.echo(f"warning: perhaps delivered to {address}: {answer}; not sent again unasked", err=True)
    if done.stopped:
        click.echo(f"error: {done.stopped}", err=True)
    if not done.complete:
        click.echo(
            f"Failed: {done.counts()}. Run the command again to send to those left"
            + (" (--resend-uncertain for the uncertain)." if done.uncertain else "."),
            err=True,
        )
        raise SystemExit(1)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    return click.confirm(question, default=False, err=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _fail(message: str, hint: str | None = None) -> None:
    """Print an error the way build errors are printed, and exit 1."""
    click.echo(f"error: {message}", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    raise SystemExit(1)


def _run(function: Any, *args: Any, after: str = "The output folder was not changed.", **kwargs: Any) -> Any:
    """Call a pipeline function; print its errors and exit 1 if it fails."""
    from generator.base.errors import BuildFailed

    try:
        return function(*args, **kwargs)
    except BuildFailed as failed:
        for error in failed.errors:
            click.echo(str(error), err=True)
        count = len(failed.errors)
        click.echo(f"Failed: {count} {_plural(count, 'error')}. {after}".rstrip(), err=True)
        raise SystemExit(1) from None


class _ProgressBar:
    """A progress bar on a terminal for stages with many items; silent when output is not a terminal."""

    MINIMUM = 500

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.bar: Any = None
        self.stage = ""
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total < self.MINIMUM:
            return
        if stage != self.stage:
            self._close()
            self.bar = click.progressbar(length=total, label=stage.ljust(16), file=sys.stderr)
            self.bar.__enter__()
            self.stage, self.done = stage, 0
        self.bar.update(done - self.done)
        self.done = done

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.length - self.done)
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _count(count: int, one: str, many: str = "") -> str:
    """`1 story`, `2 stories`: the count and its noun."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) + "/"
    except ValueError:
        return str(path) + "/"
