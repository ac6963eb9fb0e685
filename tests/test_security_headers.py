"""The site's security headers: `_headers` for hosts that read it, the same policy as a `<meta>` in
every page, what `csp:` changes, and a located warning for a theme override's inline script."""

from __future__ import annotations

import re

from tests.conftest import MINIMAL_CONFIG, MakeSite, run_cli

ARTICLE = "---\ntitle: One\ndate: 2020-09-01\ncollection: world\n---\n\nText.\n"


def test_every_page_carries_the_policy_of_the_headers_file(make_site: MakeSite) -> None:
    root = make_site({"content/world/one.md": ARTICLE})
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    headers = (root / "site" / "_headers").read_text(encoding="utf-8").splitlines()
    assert headers[0].endswith("/*")
    policy = dict(line.strip().split(": ", 1) for line in headers[1:])
    assert policy["Referrer-Policy"] == "no-referrer" and policy["X-Content-Type-Options"] == "nosniff"
    assert policy["X-Frame-Options"] == "DENY"
    csp = policy["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    pages = list((root / "site").rglob("*.html"))
    metas = {m for page in pages if (m := re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"',
                                                   page.read_text(encoding="utf-8")))}  # fmt: skip
    assert len(pages) > 5
    meta = {m.group(1).replace("&#39;", "'") for m in metas}
    assert meta == {csp.replace("; frame-ancestors 'none'", "")}  # a <meta> cannot say frame-ancestors
    assert all('<meta name="referrer" content="no-referrer">' in p.read_text(encoding="utf-8")
               for p in pages if "http-equiv=\"refresh\"" not in p.read_text(encoding="utf-8"))  # fmt: skip


def test_csp_in_the_config_changes_or_removes_the_policy(make_site: MakeSite) -> None:
    config = MINIMAL_CONFIG + "csp: {img-src: \"'self' https://images.example.org\", media-src: ''}\n"
    root = make_site({"content/world/one.md": ARTICLE}, config)
    assert run_cli("build", "-s", str(root))[0] == 0
    text = (root / "site" / "_headers").read_text(encoding="utf-8")
    assert "img-src 'self' https://images.example.org;" in text and "media-src" not in text
    (root / "config.yaml").write_text(MINIMAL_CONFIG + "csp: false\n", encoding="utf-8")
    assert run_cli("build", "-s", str(root))[0] == 0
    assert not (root / "site" / "_headers").exists()
    assert "Content-Security-Policy" not in (root / "site" / "index.html").read_text(encoding="utf-8")


def test_a_bad_csp_setting_is_a_located_error(make_site: MakeSite) -> None:
    root = make_site(
        {"content/world/one.md": ARTICLE}, MINIMAL_CONFIG + "csp:\n  img-src: \"'self'; script-src *\"\n"
    )
    code, _, err = run_cli("check", "-s", str(root))
    assert code == 1 and "config.yaml:" in err and "must be text, without ';'" in err


def test_a_sites_own_headers_file_is_published_as_it_is_and_said(make_site: MakeSite) -> None:
    root = make_site({"content/world/one.md": ARTICLE, "content/_headers": "/*\n  X-Mine: yes\n"})
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    assert (root / "site" / "_headers").read_text(encoding="utf-8") == "/*\n  X-Mine: yes\n"
    assert "content/_headers: warning: your _headers is published as it is" in err


def test_an_inline_script_in_a_theme_override_is_a_located_warning(make_site: MakeSite) -> None:
    from generator.build.theme import builtin_themes_dir

    root = make_site({"content/world/one.md": ARTICLE})
    base = (builtin_themes_dir() / "default" / "templates" / "base.html").read_text(encoding="utf-8")
    override = root / "overrides" / "templates" / "base.html"
    override.parent.mkdir(parents=True)
    override.write_text(base.replace("</body>", "<script>console.log('hi')</script>\n"
                                     "<a href=\"#\" onclick=\"go()\">Go</a>\n</body>"), encoding="utf-8")  # fmt: skip
    line = override.read_text(encoding="utf-8").splitlines().index("<script>console.log('hi')</script>") + 1
    code, _, err = run_cli("check", "-s", str(root))
    assert code == 0, err
    assert f"overrides/templates/base.html:{line}: warning: an inline script, which the site's" in err
    assert "csp: {script-src: \"'self' 'wasm-unsafe-eval' 'sha256-" in err
    assert f"overrides/templates/base.html:{line + 1}: warning: an event-handler attribute" in err
    digest = re.search(r"'sha256-[^']+'", err.split("an inline script", 1)[1])
    assert digest
    (root / "config.yaml").write_text(
        MINIMAL_CONFIG + f"csp: {{script-src: \"'self' 'wasm-unsafe-eval' {digest.group(0)}\"}}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli("check", "-s", str(root))
    assert "an inline script" not in err and "an event-handler attribute" in err
