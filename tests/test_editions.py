"""Editions: a collection by the day, the week or the month, in the site's time zone."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import feedparser
import pytest

from generator.build.editions import period_of
from tests.conftest import MakeSite, run_cli, tree


@pytest.mark.parametrize(
    ("day", "kind", "start", "expected"),
    [
        (date(2020, 9, 3), "daily", "monday", ("2020-09-03", date(2020, 9, 3), date(2020, 9, 3))),
        (date(2020, 9, 3), "weekly", "monday", ("2020-w36", date(2020, 8, 31), date(2020, 9, 6))),
        (date(2020, 9, 6), "weekly", "sunday", ("2020-w37", date(2020, 9, 6), date(2020, 9, 12))),
        (date(2020, 9, 5), "weekly", "sunday", ("2020-w36", date(2020, 8, 30), date(2020, 9, 5))),
        (date(2021, 1, 2), "weekly", "monday", ("2020-w53", date(2020, 12, 28), date(2021, 1, 3))),
        (date(2020, 2, 29), "monthly", "monday", ("2020-02", date(2020, 2, 1), date(2020, 2, 29))),
        (date(2020, 12, 31), "monthly", "monday", ("2020-12", date(2020, 12, 1), date(2020, 12, 31))),
    ],
)
def test_the_period_of_a_day(day: date, kind: str, start: str, expected: tuple[str, date, date]) -> None:
    assert period_of(day, kind, start) == expected


CONFIG = """\
title: Editions
base_url: https://news.example/
timezone: Europe/Vilnius
week_start: sunday
collections:
  - {key: belarus, title: Belarus, edition: weekly}
  - {key: world, title: World, edition: daily}
"""


def story(title: str, when: str, collection: str) -> str:
    return f"---\ntitle: {title}\ndate: {when}\ncollection: {collection}\n---\n\nThe {title} story.\n"


STORIES = {
    # Saturday 5 September 23:30 in Vilnius is still week 36 (weeks start on Sunday here) ...
    "content/belarus/sat.md": story("Saturday night", "2020-09-05T23:30:00+03:00", "belarus"),
    # ... but 21:30 UTC that day is already Sunday 6 September in Vilnius: week 37.
    "content/belarus/sun.md": story("Sunday morning", "2020-09-05T21:30:00Z", "belarus"),
    "content/belarus/aug.md": story("End of August", "2020-08-31T09:00:00+03:00", "belarus"),
    "content/belarus/oct.md": story("October", "2020-10-01T09:00:00+03:00", "belarus"),
    "content/world/a.md": story("Late on the 31st", "2020-08-31T23:59:00+03:00", "world"),
    "content/world/b.md": story("First of September", "2020-08-31T21:01:00Z", "world"),
}


def listed(page: Path) -> list[str]:
    return re.findall(r'class="item-title"><a href="[^"]+">([^<]+)</a>', page.read_text(encoding="utf-8"))


def test_edition_pages_hold_exactly_their_period(make_site: MakeSite) -> None:
    root = make_site(STORIES, config=CONFIG)
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    editions = root / "site" / "belarus" / "editions"
    assert sorted(p.name for p in editions.iterdir() if p.is_dir()) == ["2020-w36", "2020-w37", "2020-w40"]
    assert listed(editions / "2020-w36" / "index.html") == ["Saturday night", "End of August"]
    assert listed(editions / "2020-w37" / "index.html") == ["Sunday morning"]
    world = root / "site" / "world" / "editions"
    assert listed(world / "2020-08-31" / "index.html") == ["Late on the 31st"]
    assert listed(world / "2020-09-01" / "index.html") == ["First of September"]
    index = (editions / "index.html").read_text(encoding="utf-8")
    assert index.index("2020-w40") < index.index("2020-w37") < index.index("2020-w36")  # newest first
    middle = (editions / "2020-w37" / "index.html").read_text(encoding="utf-8")
    assert 'rel="prev" href="../../../belarus/editions/2020-w40/"' in middle
    assert 'rel="next" href="../../../belarus/editions/2020-w36/"' in middle
    assert 'href="../belarus/editions/">Editions</a>' in (root / "site" / "belarus" / "index.html").read_text(
        encoding="utf-8"
    )
    feed = feedparser.parse((editions / "feed.xml").read_bytes())
    assert not feed.bozo and [e.title for e in feed.entries] == [
        "Belarus: Sep 27\u2009–\u2009Oct 3, 2020",
        "Belarus: Sep 6\u2009–\u200912, 2020",
        "Belarus: Aug 30\u2009–\u2009Sep 5, 2020",
    ]  # in the theme's words and the site's language
    assert "Saturday night" in feed.entries[2].content[0].value


def test_edition_titles_are_in_the_sites_language(make_site: MakeSite) -> None:
    config = CONFIG.replace("timezone:", "language: ru\ntimezone:").replace(
        "edition: weekly", "edition: monthly"
    )
    root = make_site(STORIES, config=config.replace("title: Belarus", "title: Беларусь"))
    assert run_cli("build", "-s", str(root))[0] == 0
    page = (root / "site" / "belarus" / "editions" / "2020-09" / "index.html").read_text(encoding="utf-8")
    assert "<h1>Беларусь: сентябрь 2020</h1>" in page and "Выпуски" in page
    day = (root / "site" / "world" / "editions" / "2020-09-01" / "index.html").read_text(encoding="utf-8")
    assert "<h1>World: 1 сентября 2020" in day  # then a no-break space and г.


def test_an_edition_file_adds_its_note_and_lead_stories(make_site: MakeSite) -> None:
    note = (
        "---\nedition: 2020-w36\ncollection: belarus\ntitle: Week one\nlead: [aug]\n---\n\n"
        "The editor *writes* here.\n"
    )
    root = make_site({**STORIES, "content/belarus/editions/2020-w36.md": note}, config=CONFIG)
    assert run_cli("build", "-s", str(root))[0] == 0
    page = root / "site" / "belarus" / "editions" / "2020-w36" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "<h1>Week one</h1>" in html and "The editor <em>writes</em> here." in html
    assert listed(page) == ["End of August", "Saturday night"]  # the lead story first
    assert html.index("The editor") < html.index("End of August")
    feed = feedparser.parse((root / "site" / "belarus" / "editions" / "feed.xml").read_bytes())
    assert "The editor" in next(e for e in feed.entries if e.title == "Week one").content[0].value
    assert not list((root / "site").rglob("2020-w36.md"))


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("edition: 2020-w30\ncollection: belarus\n", "edition 2020-w30 of 'belarus' has no articles"),
        ("edition: 2020-36\ncollection: belarus\n", "'edition: 2020-36' is not a weekly edition"),
        ("edition: 2020-w36\ncollection: belarus\nlead: [nowhere]\n", "lead story 'nowhere' is not in"),
        ("edition: 2020-09-01\n", "must name a collection published in editions"),
    ],
)
def test_a_wrong_edition_file_is_an_error_at_the_file(make_site: MakeSite, front: str, message: str) -> None:
    root = make_site(
        {**STORIES, "content/notes/e.md": f"---\ntitle: A note\n{front}---\nText.\n"}, config=CONFIG
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "e.md" in err and message in err, err


def test_an_edit_renders_only_the_editions_that_show_it(make_site: MakeSite) -> None:
    root = make_site(STORIES, config=CONFIG)
    assert run_cli("build", "-s", str(root))[0] == 0
    before = tree(root / "site")
    path = root / "content/belarus/oct.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("The October story.", "A new text."), encoding="utf-8"
    )
    assert run_cli("build", "-s", str(root))[0] == 0
    changed = {p for p, data in tree(root / "site").items() if before.get(p) != data}
    editions = {p for p in changed if "/editions/" in p}
    assert editions == {"belarus/editions/2020-w40/index.html", "belarus/editions/feed.xml"}


# the newsletter -----------------------------------------------------------------------------------

NEWSLETTER = (
    CONFIG + "newsletter: {from: 'Editions <news@news.example>', unsubscribe: 'https://news.example/bye/'}\n"
)


def test_the_newsletter_is_an_email_of_absolute_links_with_a_plain_twin(
    make_site: MakeSite, tmp_path: Path
) -> None:
    import email
    from email import policy

    root = make_site(STORIES, config=NEWSLETTER)
    out = tmp_path / "letter"
    code, said, err = run_cli(
        "newsletter", "belarus", "-s", str(root), "--edition", "2020-w36", "--out", str(out)
    )
    assert code == 0, err
    html = (out / "newsletter.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<style" not in html and 'rel="stylesheet"' not in html
    links = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert links and all(link.startswith(("https://", "mailto:")) for link in links), links
    assert 'style="' in html and 'width="600"' in html
    assert "https://news.example/belarus/editions/2020-w36/" in links and "https://news.example/bye/" in links
    message = email.message_from_bytes((out / "newsletter.eml").read_bytes(), policy=policy.default)
    assert (
        message["Subject"] == "Belarus: Aug 30\u2009–\u2009Sep 5, 2020"
        and message["From"] == "Editions <news@news.example>"
    )
    assert message["List-Unsubscribe"] == "<https://news.example/bye/>"
    assert message["Message-ID"].endswith("@news.example>") and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    text = (out / "newsletter.txt").read_text(encoding="utf-8")
    for title, slug in (("Saturday night", "sat"), ("End of August", "aug")):
        assert title in text and "https://news.example/belarus/2020/" in text and f"/{slug}/" in text
        assert title in parts["text/plain"]
    assert "2 stories" in said


def test_a_newsletter_past_the_clipping_size_is_cut_at_a_story(make_site: MakeSite, tmp_path: Path) -> None:
    long = "word " * 4000
    stories = {f"content/belarus/s{i}.md": story(f"Story {i}", f"2020-09-0{1 + i % 5}T10:00:00+03:00", "belarus")
               .replace("---\n\n", f"summary: {long}\n---\n\n") for i in range(12)}  # fmt: skip
    root = make_site(stories, config=NEWSLETTER)
    code, said, err = run_cli(
        "newsletter", "belarus", "-s", str(root), "--latest", "--out", str(tmp_path / "o")
    )
    assert code == 0, err
    html = (tmp_path / "o" / "newsletter.html").read_bytes()
    assert len(html) <= 102 * 1024 and "stories did not fit under 102 KB" in said
    assert b"more stories on the web" in html


def test_a_newsletter_needs_its_settings_and_an_edition(make_site: MakeSite) -> None:
    root = make_site(STORIES, config=CONFIG)
    code, _, err = run_cli("newsletter", "belarus", "-s", str(root))
    assert code == 1 and "needs 'from' and an 'unsubscribe' URL" in err
    root = make_site(STORIES, config=NEWSLETTER)
    code, _, err = run_cli("newsletter", "belarus", "-s", str(root), "--edition", "2019-w01")
    assert (
        code == 1 and "error: --edition 2019-w01: 'belarus' has no such edition" in err and "2020-w40" in err
    )
    assert "config.yaml" not in err  # the option is wrong, not the config
    code, _, err = run_cli("newsletter", "belaru", "-s", str(root))
    assert code == 1 and "error: there is no collection 'belaru'" in err and "did you mean 'belarus'?" in err
    code, _, err = run_cli("newsletter", "sport", "-s", str(root))
    assert code == 1 and "there is no collection 'sport'" in err and "the collections: belarus, world" in err


# sending -------------------------------------------------------------------------------------------


class Mailbox:
    """An SMTP server's handler: keeps each message by recipient; refuses one address."""

    def __init__(self) -> None:
        self.received: dict[str, list[bytes]] = {}

    async def handle_RCPT(
        self, server: object, session: object, envelope: Any, address: str, options: object
    ) -> str:
        if address.startswith("refuse"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        for address in envelope.rcpt_tos:
            self.received.setdefault(address, []).append(envelope.content)
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    controller_module = pytest.importorskip("aiosmtpd.controller")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    mailbox = Mailbox()
    controller = controller_module.Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()


def sending(make_site: MakeSite, tmp_path: Path, port: int, readers: str) -> tuple[Path, list[str]]:
    """A site that sends through 127.0.0.1:`port`, a readers file, and the command line that sends."""
    smtp = f", smtp: {{host: 127.0.0.1, port: {port}, security: none}}}}"
    root = make_site(
        STORIES,
        config=NEWSLETTER.replace("'https://news.example/bye/'}", "'https://news.example/bye/'" + smtp),
    )
    people = tmp_path / "readers.txt"
    people.write_text(readers, encoding="utf-8")
    args = [
        "newsletter",
        "belarus",
        "-s",
        str(root),
        "--out",
        str(tmp_path / "o"),
        "--send",
        "--to",
        str(people),
    ]
    return people, args


def test_send_delivers_once_to_each_and_reports_a_refusal(
    make_site: MakeSite, tmp_path: Path, smtp_server: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp_server
    readers = "# our readers\nann@example.org\nBob <bob@example.org>\nrefuse@example.org\n"
    _, args = sending(make_site, tmp_path, port, readers)
    code, said, _ = run_cli(*args, "--dry-run")
    assert code == 0 and "Would send to 3 recipients (0 already served)" in said and mailbox.received == {}
    code, said, err = run_cli(*args)
    assert code == 1 and "Sent to 2 recipients" in said
    assert "not delivered to refuse@example.org: the server answered 550 5.1.1 no such mailbox here" in err
    assert sorted(mailbox.received) == ["ann@example.org", "bob@example.org"]
    assert all(len(copies) == 1 for copies in mailbox.received.values())
    assert b"To: bob@example.org" in mailbox.received["bob@example.org"][0]
    code, said, err = run_cli(*args)  # again: the two served get nothing, the refused one is tried again
    assert code == 1 and "Sent to 0 recipients (2 already served)" in said and "refuse@example.org" in err
    assert all(len(copies) == 1 for copies in mailbox.received.values())


def test_send_needs_a_server_and_good_addresses(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.publish import mailer

    monkeypatch.setattr(mailer, "BACKOFF", 0.01)  # the closed port is tried three times
    people, args = sending(make_site, tmp_path, 1, "ann@example.org\nnot an address\n")
    code, _, err = run_cli(*args)
    assert code == 1 and "readers.txt:2: error: not an email address" in err
    people.write_text("ann@example.org\n", encoding="utf-8")
    code, _, err = run_cli(*args)
    assert code == 1 and "cannot reach the SMTP server 127.0.0.1:1" in err and "Traceback" not in err
