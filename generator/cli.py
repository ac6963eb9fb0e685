"""The `digest` command: parse options, call one function, print the outcome.

Only this module prints errors: `path:line:col: error: message`, an optional
hint line, and exit status 1. A user's mistake never shows a traceback.
"""

from __future__ import annotations

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


@main.command()
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
def build(source: Path, output: Path | None, base_url: str | None, drafts: bool, future: bool) -> None:
    """Build the site from config.yaml and content/ into site/."""
    from .pipeline import build as run_build

    summary = _run(
        run_build,
        source.absolute(),
        output_dir=output.absolute() if output else None,
        base_url=base_url,
        include_drafts=drafts,
        include_future=future,
    )
    for warning in summary.warnings:
        click.echo(str(warning), err=True)
    click.echo(
        f"Built {summary.articles} {_plural(summary.articles, 'article')} in "
        f"{summary.collections} {_plural(summary.collections, 'collection')}: "
        f"{summary.pages} pages, {summary.files} files in {summary.seconds:.2f} s"
        f" -> {_show(summary.output_dir)}"
    )


def _run(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a pipeline function; print its errors and exit 1 if it fails."""
    from .errors import BuildFailed

    try:
        return function(*args, **kwargs)
    except BuildFailed as failed:
        for error in failed.errors:
            click.echo(str(error), err=True)
        count = len(failed.errors)
        click.echo(
            f"Build failed: {count} {_plural(count, 'error')}; the output folder was not changed.", err=True
        )
        raise SystemExit(1) from None


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) + "/"
    except ValueError:
        return str(path) + "/"
