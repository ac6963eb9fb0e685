"""`markdown:` in config.yaml: the site's own Markdown extensions (Python-Markdown's and any installed,
pymdown-extensions tested), in the cache keys, with located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.driver.pipeline import build
from tests.conftest import MINIMAL_CONFIG, MakeSite, run_cli, tree

TEXT = """---
title: Notes
date: 2020-09-01
collection: world
---

!!! note "Keep in mind"
    The count is not final.

Term
:   What it means.

- [x] counted
- [ ] checked
"""
EXTRA = """markdown:
  extensions: [admonition, def_list, pymdownx.tasklist]
  extension_configs:
    pymdownx.tasklist: {custom_checkbox: true}
"""


def page(root: Path) -> str:
    return (root / "site" / "world" / "2020" / "09" / "01" / "notes" / "index.html").read_text(
        encoding="utf-8"
    )


def test_the_sites_extensions_render_and_a_change_of_them_rebuilds(
    make_site: MakeSite, tmp_path: Path
) -> None:
    pytest.importorskip("pymdownx")
    root = make_site({"content/world/notes.md": TEXT})
    build(root)
    before = page(root)
    assert '<div class="admonition note">' not in before and "<dl>" not in before
    (root / "config.yaml").write_text(MINIMAL_CONFIG + EXTRA, encoding="utf-8")
    build(root)  # from the cache kept by the first build
    after = page(root)
    assert '<div class="admonition note">\n<p class="admonition-title">Keep in mind</p>' in after
    assert "<dl>\n<dt>Term</dt>\n<dd>What it means.</dd>\n</dl>" in after
    assert 'class="task-list-item"' in after and 'type="checkbox"' in after and "task-list-indicator" in after
    clean = make_site({"content/world/notes.md": TEXT}, MINIMAL_CONFIG + EXTRA)
    build(clean, use_cache=False)
    assert tree(root / "site", skip="pagefind") == tree(clean / "site", skip="pagefind")
    (root / "config.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    build(root)
    assert page(root) == before  # and back


@pytest.mark.parametrize(
    ("extensions", "said", "hint"),
    [
        ("[admonitoin]", "markdown extension 'admonitoin': cannot import markdown.extensions.admonitoin",
         "did you mean 'admonition'?"),
        ("[json]", "markdown extension 'json': cannot import markdown.extensions.json", "Python-Markdown's own"),
        ("[os.path]", "markdown extension 'os.path': os.path is not a Markdown extension", "others by module"),
        ("admonition", "'extensions' must be a list of extension names", "markdown: {extensions:"),
    ],
)  # fmt: skip
def test_a_wrong_extension_is_a_located_error_with_a_hint(
    make_site: MakeSite, extensions: str, said: str, hint: str
) -> None:
    root = make_site(
        {"content/world/notes.md": TEXT}, MINIMAL_CONFIG + f"markdown:\n  extensions: {extensions}\n"
    )
    code, _, err = run_cli("check", "-s", str(root))
    line = len(MINIMAL_CONFIG.splitlines()) + 2
    assert code == 1 and "Traceback" not in err
    assert f"config.yaml:{line}: error: {said}" in err and hint in err


def test_settings_an_extension_refuses_are_an_error(make_site: MakeSite) -> None:
    config = MINIMAL_CONFIG + "markdown:\n  extensions: [toc]\n  extension_configs:\n    toc: {no_such: 1}\n"
    code, _, err = run_cli("check", "-s", str(make_site({"content/world/notes.md": TEXT}, config)))
    assert code == 1 and "markdown extension 'toc': its settings are not accepted" in err
