"""Security headers stage: the policy that protects the site's readers, as `_headers` and `<meta>`.

The published site allows exactly what the default theme and its search load: scripts and styles
from the site itself (search compiles its WebAssembly: 'wasm-unsafe-eval'), images from the site,
from https and as data: URLs (an article's lead image may live on its outlet's server), fetches to
the site, no plugins, no framing, no referrer. Hosts that read a `_headers` file (Netlify,
Cloudflare Pages) send it as headers; every page also carries the policy as a `<meta>` for hosts
that read none (a `<meta>` cannot say `frame-ancestors`, so that one is in the header only).
`csp:` in config.yaml replaces single directives (`csp: {img-src: "'self' https://img.example"}`)
or turns it all off (`csp: false`).

A theme override with an inline script, a `javascript:` link or an event-handler attribute would
be blocked by the policy: `inline_script_warnings` finds each at its template line.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath

from generator.base.errors import SiteWarning, SourceLocation
from generator.base.model import OutputFile, Site
from generator.build import embeds

HEADERS_FILE = "_headers"
DEFAULT_POLICY: Mapping[str, str] = {
    "default-src": "'self'",
    "script-src": "'self' 'wasm-unsafe-eval'",
    "style-src": "'self'",
    "img-src": "'self' https: data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "media-src": "'self' https:",
    # The players an embed card loads when the reader presses it (`embeds.PLAYER_ORIGINS`).
    "frame-src": " ".join(embeds.PLAYER_ORIGINS),
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HEADER_ONLY = frozenset({"frame-ancestors", "report-uri", "sandbox"})  # ignored in a <meta>
OTHER_HEADERS = (
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
)
DIRECTIVE = re.compile(r"^[a-z][a-z-]*$")


def policy(overrides: Mapping[str, str]) -> dict[str, str]:
    """The site's policy: the default, with the directives `csp:` names replaced ('' removes one)."""
    chosen = {**DEFAULT_POLICY, **overrides}
    return {name: value for name, value in chosen.items() if value.strip()}


def site_policy(site: Site) -> dict[str, str] | None:
    """The policy of `site` (None with `csp: false`): the same for every page and every build of the
    same config, so that an edit never changes the pages it does not show on."""
    return None if site.config.csp is None else policy(dict(site.config.csp))


def header_value(chosen: Mapping[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in chosen.items())


def meta_value(chosen: Mapping[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in chosen.items() if name not in HEADER_ONLY)


def render_headers(chosen: Mapping[str, str], base_path: str) -> OutputFile:
    """`_headers` for every path of the site (below `base_path`, where it is served)."""
    lines = [f"{base_path}*", f"  Content-Security-Policy: {header_value(chosen)}"]
    lines += [f"  {name}: {value}" for name, value in OTHER_HEADERS]
    return OutputFile(PurePosixPath(HEADERS_FILE), ("\n".join(lines) + "\n").encode("utf-8"))


_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_HANDLER = re.compile(r"<[a-z][^>]*?\s(on[a-z]+)\s*=", re.I)
_JS_URL = re.compile(r"""\b(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
_STYLE = re.compile(r"<style\b[^>]*>|\sstyle\s*=\s*[\"']", re.I)
_DATA_TYPES = ("application/ld+json", "application/json", "text/template", "text/plain")
NOT_PAGES = frozenset({"newsletter.html"})  # an email's template: no browser policy applies


def inline_script_warnings(template_dirs: list[Path], chosen: Mapping[str, str]) -> Iterator[SiteWarning]:
    """A warning at each inline script, event handler, `javascript:` link or inline style in the
    templates the site renders with (the first of each name, as the lookup finds it), unless the
    policy allows it (a hash or 'unsafe-inline' in script-src or style-src)."""
    scripts, styles = chosen.get("script-src", ""), chosen.get("style-src", "")
    seen: set[str] = set()
    for folder in template_dirs:
        for path in sorted(folder.rglob("*.html")):
            name = path.relative_to(folder).as_posix()
            if name in seen or name in NOT_PAGES:
                continue
            seen.add(name)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            yield from _in_template(path, text, scripts, styles)


def _in_template(path: Path, text: str, scripts: str, styles: str) -> Iterator[SiteWarning]:
    allowed = "'unsafe-inline'" in scripts
    for match in _SCRIPT.finditer(text):
        attributes, body = match.group(1), match.group(2)
        kind = re.search(r"""\btype\s*=\s*["']?([^"'\s>]+)""", attributes, re.I)
        if re.search(r"\bsrc\s*=", attributes, re.I) or (kind and kind.group(1).lower() in _DATA_TYPES):
            continue
        digest = _hash(body)
        if allowed or (digest and digest in scripts):
            continue
        hint = "move it into a .js file under overrides/static/ and load it with <script src=...>"
        if digest:
            hint += f", or allow it: csp: {{script-src: \"'self' 'wasm-unsafe-eval' {digest}\"}}"
        yield _warning(path, text, match.start(), "an inline script", hint)
    for pattern, what in ((_HANDLER, "an event-handler attribute"), (_JS_URL, "a javascript: link")):
        for match in pattern.finditer(text) if not allowed else ():
            hint = "attach the handler from a .js file under overrides/static/"
            yield _warning(path, text, match.start(), what, hint)
    for match in _STYLE.finditer(text) if "'unsafe-inline'" not in styles else ():
        hint = "move the rules into a .css file under overrides/static/"
        yield _warning(path, text, match.start(), "an inline style", hint)


def _hash(body: str) -> str:
    """The CSP source of a script's text ('sha256-...'), or '' for one that Jinja fills in."""
    if "{{" in body or "{%" in body:
        return ""
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode() + "'"


def _warning(path: Path, text: str, offset: int, what: str, hint: str) -> SiteWarning:
    line = text.count("\n", 0, offset) + 1
    message = f"{what}, which the site's Content-Security-Policy blocks in the browser"
    return SiteWarning(message, SourceLocation(path, line), hint)
