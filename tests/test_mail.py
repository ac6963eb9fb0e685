"""Sending newsletters against servers that fail: every failure said with its counts, transient
ones tried again, nothing sent twice unasked; strict recipients; no password in plain text; DKIM
signatures a verifier accepts; RFC 8058 one-click unsubscribe; a sending rate."""

from __future__ import annotations

import base64
import email
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.base.errors import BuildFailed
from generator.publish import mailer
from tests.conftest import MakeSite, run_cli
from tests.smtp_hostile import Postbox, postbox
from tests.test_editions import sending

READERS = "ann@example.org\nbob@example.org\ncarol@example.org\n"


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch) -> Iterator[Postbox]:
    monkeypatch.setattr(mailer, "BACKOFF", 0.01)
    monkeypatch.setattr(mailer, "TIMEOUT", 0.5)
    with postbox() as served:
        yield served


def site_sending(make_site: MakeSite, tmp_path: Path, port: int) -> list[str]:
    return sending(make_site, tmp_path, port, READERS)[1]


def copies(box: Postbox) -> dict[str, int]:
    return {address: len(taken) for address, taken in sorted(box.taken.items())}


def test_a_connection_dropped_after_the_message_is_uncertain_and_not_resent_unasked(
    make_site: MakeSite, tmp_path: Path, box: Postbox
) -> None:
    args = site_sending(make_site, tmp_path, box.port)
    box.script[("bob@example.org", "end")] = ["drop"]  # bob's text was taken; the answer never came
    code, said, err = run_cli(*args)
    assert code == 1 and "Traceback" not in err
    assert "Sent to 2 recipients" in said
    assert "warning: perhaps delivered to bob@example.org: the connection was lost after the message" in err
    assert "Failed: sent 2, failed 0, uncertain 1, not tried 0." in err and "--resend-uncertain" in err
    assert copies(box) == {"ann@example.org": 1, "bob@example.org": 1, "carol@example.org": 1}
    code, said, err = run_cli(*args)  # again: nobody is sent it twice
    assert code == 0 and "Sent to 0 recipients (2 already served)" in said
    assert "1 recipient may have had it already" in err
    assert copies(box) == {"ann@example.org": 1, "bob@example.org": 1, "carol@example.org": 1}
    code, said, err = run_cli(*args, "--resend-uncertain")  # the editor asks
    assert code == 0 and "Sent to 1 recipient (2 already served)" in said
    assert copies(box)["bob@example.org"] == 2
    log = json.loads(next((Path(args[3]) / ".digest-cache" / "deliveries").glob("*.json")).read_text())
    assert log == {"sent": ["ann@example.org", "bob@example.org", "carol@example.org"], "uncertain": []}


@pytest.mark.parametrize(
    ("step", "actions"),
    [("rcpt", ["drop"]), ("rcpt", ["reset"]), ("data", ["451 4.3.0 busy, try later"]),
     ("rcpt", ["421 4.7.0 closing", "450 4.2.1 mailbox busy"]), ("end", ["452 4.3.1 full for now"]),
     ("data", ["stall"])],
    ids=["drop-before-data", "reset", "451-at-data", "421-then-450", "452-after-text", "timeout"],
)  # fmt: skip
def test_transient_failures_are_tried_again_and_delivered_once(
    make_site: MakeSite, tmp_path: Path, box: Postbox, step: str, actions: list[str]
) -> None:
    args = site_sending(make_site, tmp_path, box.port)
    box.script[("bob@example.org", step)] = list(actions)
    code, said, err = run_cli(*args)
    assert code == 0, err
    assert "Sent to 3 recipients" in said and "Traceback" not in err
    assert copies(box) == {"ann@example.org": 1, "bob@example.org": 1, "carol@example.org": 1}


def test_a_lasting_refusal_is_not_retried_and_the_rest_are_sent(
    make_site: MakeSite, tmp_path: Path, box: Postbox
) -> None:
    args = site_sending(make_site, tmp_path, box.port)
    box.script[("bob@example.org", "end")] = ["554 5.7.1 rejected as spam"]
    code, said, err = run_cli(*args)
    assert code == 1 and "Sent to 2 recipients" in said
    assert "error: not delivered to bob@example.org: the server answered 554 5.7.1 rejected as spam" in err
    assert "Failed: sent 2, failed 1, uncertain 0, not tried 0." in err
    assert box.connections == 1  # a refusal of one message keeps the connection for the others


def test_transient_failures_past_the_last_try_are_failures(
    make_site: MakeSite, tmp_path: Path, box: Postbox
) -> None:
    args = site_sending(make_site, tmp_path, box.port)
    box.script[("bob@example.org", "rcpt")] = ["451 4.3.0 later"] * mailer.ATTEMPTS
    code, said, err = run_cli(*args)
    assert code == 1 and "Sent to 2 recipients" in said
    assert "not delivered to bob@example.org: the server answered 451 4.3.0 later" in err
    assert "Failed: sent 2, failed 1, uncertain 0, not tried 0." in err
    code, said, err = run_cli(*args)  # run again: only bob is tried, and now he gets it
    assert code == 0 and "Sent to 1 recipient (2 already served)" in said


def test_a_server_that_goes_away_stops_the_run_with_the_counts(
    make_site: MakeSite, tmp_path: Path, box: Postbox
) -> None:
    args = site_sending(make_site, tmp_path, box.port)
    box.script[("bob@example.org", "rcpt")] = ["drop"]
    original = mailer._close

    def closing(server: object, polite: bool = False) -> None:
        box.closed = True  # from the first drop on, nobody answers
        original(server, polite)  # type: ignore[arg-type]

    import unittest.mock

    with unittest.mock.patch.object(mailer, "_close", closing):
        code, said, err = run_cli(*args)
    assert code == 1 and "Traceback" not in err
    assert "error: cannot reach the SMTP server 127.0.0.1" in err
    assert "Failed: sent 1, failed 0, uncertain 0, not tried 2." in err and "Sent to 1 recipient" in said
    assert copies(box) == {"ann@example.org": 1}


# the recipients file --------------------------------------------------------------------------


def test_the_recipients_file_is_strict_and_names_every_bad_line(tmp_path: Path) -> None:
    readers = tmp_path / "readers.txt"
    readers.write_bytes(
        b"# readers\nann@example.org\nBob <bob@example.org>\nRCPT TO:<x@evil.example>\n"
        b"a@example.org, b@example.org\ncarol@example.org\rdave@example.org\nnot an address\n"
        b"eve@localhost\n\xd0\xb0@example.org\n"
    )
    with pytest.raises(BuildFailed) as failed:
        mailer.read_recipients(readers)
    said = [str(e) for e in failed.value.errors]
    assert [s.split(": error: ")[0].rsplit(":", 1)[1] for s in said] == ["4", "5", "6", "7", "8", "9"]
    assert "not an email address: 'RCPT TO:<x@evil.example>'" in said[0]
    assert "2 addresses in one line: 'a@example.org, b@example.org'" in said[1]
    assert "a carriage return (CR) in the line" in said[2]


def test_the_same_address_twice_is_sent_once_and_said(tmp_path: Path) -> None:
    readers = tmp_path / "readers.txt"
    readers.write_text("ann@example.org\n\nAnn Lee <ANN@example.org>\nbob@example.org\n", encoding="utf-8")
    found = mailer.read_recipients(readers)
    assert found.addresses == ("ann@example.org", "bob@example.org")
    assert found.notes == (f"{readers}:3: ANN@example.org is on line 1 too: it is sent one message",)


# the password, the rate, the headers, the signature ------------------------------------------


@pytest.mark.parametrize(
    ("host", "security", "allowed", "refused"),
    [("smtp.example.org", "none", False, True), ("smtp.example.org", "none", True, False),
     ("127.0.0.1", "none", False, False), ("localhost", "none", False, False), ("::1", "none", False, False),
     ("smtp.example.org", "starttls", False, False)],
)  # fmt: skip
def test_a_password_never_goes_in_plain_text_to_another_machine_unasked(
    monkeypatch: pytest.MonkeyPatch, host: str, security: str, allowed: bool, refused: bool
) -> None:
    monkeypatch.setenv(mailer.PASSWORD_ENV, "secret")
    settings = {"host": host, "security": security, "user": "editor"}
    if refused:
        with pytest.raises(BuildFailed, match=f"would send the SMTP password to {host} in plain text"):
            mailer.check_settings(settings, allowed)
    else:
        mailer.check_settings(settings, allowed)


def test_the_cli_refuses_plain_text_logins_before_sending(make_site: MakeSite, tmp_path: Path, box: Postbox,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv(mailer.PASSWORD_ENV, "secret")
    args = site_sending(make_site, tmp_path, box.port)
    config = Path(args[3]) / "config.yaml"
    config.write_text(config.read_text().replace("host: 127.0.0.1", "host: smtp.example.org, user: editor"))
    code, _, err = run_cli(*args)
    assert code == 1 and "in plain text" in err and "--allow-plaintext" in err and box.connections == 0


def test_the_rate_limit_spaces_the_messages(tmp_path: Path, box: Postbox) -> None:
    slept: list[float] = []
    now = [100.0]
    message = b"From: news@news.example\r\nTo: x\r\nSubject: s\r\n\r\nhello\r\n"
    settings = {"host": "127.0.0.1", "port": box.port, "security": "none", "per_minute": 30}
    done = mailer.send(message, ["a@example.org", "b@example.org", "c@example.org"], settings,
                       tmp_path / "log.json", sleep=slept.append, clock=lambda: now[0])  # fmt: skip
    assert done.sent == ["a@example.org", "b@example.org", "c@example.org"]
    assert slept == [2.0, 2.0]  # 30 a minute: one every 2 s


def test_messages_carry_one_click_unsubscribe_and_a_dkim_signature_that_verifies(
    make_site: MakeSite, tmp_path: Path, box: Postbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    dkim = pytest.importorskip("dkim")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    monkeypatch.setenv(mailer.DKIM_KEY_ENV, str(tmp_path / "dkim.pem"))
    args = site_sending(make_site, tmp_path, box.port)
    config = Path(args[3]) / "config.yaml"
    config.write_text(config.read_text().replace(
        "newsletter: {", "newsletter: {dkim: {selector: mail2026}, unsubscribe_mailto: bye@news.example, "))  # fmt: skip
    code, said, err = run_cli(*args)
    assert code == 0, err
    assert "Sent signed with DKIM to 3 recipients" in said
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    asked: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record

    data = box.taken["bob@example.org"][0]
    assert dkim.verify(data, dnsfunc=dns) and asked == [b"mail2026._domainkey.news.example."]
    message = email.message_from_bytes(data)
    assert message["To"] == "bob@example.org"
    assert (
        " ".join(message["List-Unsubscribe"].split())
        == "<https://news.example/bye/>, <mailto:bye@news.example?subject=unsubscribe>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    signed = message["DKIM-Signature"].replace("\r\n", "").replace(" ", "")
    assert "list-unsubscribe:list-unsubscribe-post" in signed.split("h=", 1)[1].split(";", 1)[0]
    tampered = data.replace(b"Subject: ", b"Subject: FW: ", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_dkim_needs_its_key_from_the_environment(make_site: MakeSite, tmp_path: Path, box: Postbox) -> None:
    args = site_sending(make_site, tmp_path, box.port)
    config = Path(args[3]) / "config.yaml"
    config.write_text(config.read_text().replace("newsletter: {", "newsletter: {dkim: {selector: s1}, "))
    code, _, err = run_cli(*args)
    assert code == 1 and "names no key file" in err and box.connections == 0
