"""Sending a newsletter over SMTP (`digest newsletter ... --send`): each recipient once, or said.

Settings come from `newsletter: smtp:` in config.yaml (host, port, security: starttls, tls or
none, user, per_minute); the password only from the environment variable DIGEST_SMTP_PASSWORD,
never from a file or the command line, and never in plain text to a host that is not this machine
unless the editor says `--allow-plaintext`. Each recipient gets a message of their own, signed with
DKIM when DIGEST_DKIM_KEY_FILE names a key, in batches over one connection each.

A delivery log beside the build cache (`.digest-cache/deliveries/`) records who was served and
whose message is uncertain: one whose whole text the server had been handed when the connection
dropped, before it said whether it took it. A run stopped half way, or with failures, can be run
again: it sends to nobody served, and to nobody uncertain unless asked (`--resend-uncertain`).
A transient failure (a 4xx answer, a dropped or reset connection, a timeout) is tried again with
backoff; a lasting one (5xx) is reported. Every failure ends in counts, never a traceback.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from generator.base.durable import write_atomic
from generator.base.errors import BuildFailed, SiteError, SourceLocation

PASSWORD_ENV = "DIGEST_SMTP_PASSWORD"  # noqa: S105 - the name of the variable, not a password
DKIM_KEY_ENV = "DIGEST_DKIM_KEY_FILE"
BATCH = 50  # messages per connection
ATTEMPTS = 3  # tries of one recipient (or one connection) before it counts as failed
BACKOFF = 2.0  # seconds before the second try; doubled before each next one
TIMEOUT = 30.0  # seconds of silence from the server before a try is given up (smtp: timeout)
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
                  b"list-unsubscribe", b"list-unsubscribe-post")  # fmt: skip


@dataclass
class Delivery:
    """What a send did, recipient by recipient."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # served by an earlier run
    failed: list[tuple[str, str]] = field(default_factory=list)  # and the server's answer, or why
    uncertain: list[tuple[str, str]] = field(default_factory=list)  # may have it: not resent unasked
    held: list[str] = field(default_factory=list)  # uncertain since an earlier run, not resent
    not_tried: list[str] = field(default_factory=list)  # left when the run had to stop
    stopped: str = ""  # why it stopped before the end
    pending: list[str] = field(default_factory=list)  # in a dry run: who would get it

    @property
    def complete(self) -> bool:
        return not (self.failed or self.uncertain or self.not_tried or self.stopped)

    def counts(self) -> str:
        return (
            f"sent {len(self.sent)}, failed {len(self.failed)}, uncertain {len(self.uncertain)}, "
            f"not tried {len(self.not_tried)}"
        )


@dataclass(frozen=True)
class Recipients:
    addresses: tuple[str, ...]
    notes: tuple[str, ...]  # lines folded into an earlier one (the same address twice)


def read_recipients(path: Path) -> Recipients:
    """The recipients file, strictly: one address a line (`Name <a@b.c>` or `a@b.c`), blank lines
    and lines that start with `#` skipped. Every other line that is not exactly one address is an
    error with its number, all of them at once; a carriage return anywhere is one too (it would
    split a line into two in some readers and join them in others)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = SourceLocation(path)
        raise BuildFailed([SiteError(f"cannot read the recipients: {reason}", where)]) from None
    found: dict[str, tuple[int, str]] = {}  # by the address in lower case: its line, its spelling
    errors: list[SiteError] = []
    notes: list[str] = []
    for number, line in enumerate(text.split("\n"), 1):
        where = SourceLocation(path, number)
        if "\r" in line:
            hint = "save the file with plain line ends (LF), one address a line"
            errors.append(SiteError("a carriage return (CR) in the line", where, hint))
            continue
        shown = line.strip()
        if not shown or shown.startswith("#"):
            continue
        address, problem = _one_address(shown)
        if problem:
            errors.append(SiteError(f"{problem}: {shown[:80]!r}", where, "write one address a line"))
        elif address.lower() in found:
            first = found[address.lower()][0]
            notes.append(f"{path}:{number}: {address} is on line {first} too: it is sent one message")
        else:
            found[address.lower()] = (number, address)
    if errors:
        raise BuildFailed(errors)
    return Recipients(tuple(address for _, address in found.values()), tuple(notes))


def _one_address(line: str) -> tuple[str, str]:
    """(the address, '') if `line` is exactly one mailbox, by the standard library's parser; else
    ('', what is wrong)."""
    if any(ord(c) < 32 or c == "\x7f" for c in line):
        return "", "a control character in the line"
    header = policy.default.header_factory("To", line)
    if len(header.addresses) > 1:
        return "", f"{len(header.addresses)} addresses in one line"
    if header.defects or not header.addresses or any(g.display_name for g in header.groups):
        return "", "not an email address"
    address = header.addresses[0].addr_spec
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain.strip(".") or address.count("@") != 1 or not address.isascii():
        return "", "not an email address"
    return address, ""


def send(
    message: bytes,
    recipients: Sequence[str],
    settings: Mapping[str, object],
    log: Path,
    dry_run: bool = False,
    connect: Callable[[Mapping[str, object]], smtplib.SMTP] | None = None,
    resend_uncertain: bool = False,
    sign: Callable[[bytes], bytes] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Delivery:
    """Send `message` to each of `recipients` not yet served (by the delivery log at `log`)."""
    kept = _Log.read(log)
    delivery = Delivery(
        skipped=[r for r in recipients if r.lower() in kept.sent],
        held=[r for r in recipients if r.lower() in kept.uncertain and not resend_uncertain],
    )
    todo = [r for r in recipients if r.lower() not in kept.sent and r not in delivery.held]
    if dry_run:
        delivery.pending = todo
        return delivery
    opened = connect or _connect
    per_minute = float(str(settings.get("per_minute") or 0))
    pace = _Pace(60.0 / per_minute if per_minute > 0 else 0.0, sleep, clock)
    original = message_from_bytes(message, policy=policy.default)
    sender = original["From"].addresses[0].addr_spec if original["From"] else ""
    server: smtplib.SMTP | None = None
    in_batch = tries = 0
    index = 0
    try:
        while index < len(todo):
            recipient = todo[index]
            if server is None:
                server, in_batch = _open(opened, settings, delivery, sleep), 0
                if server is None:
                    delivery.not_tried = todo[index:]
                    return delivery
            pace.wait()
            outcome, answer = _send_one(server, sender, recipient, _personal(message, recipient, sign))
            if outcome in ("lost", "transient"):
                _close(server)
                server = None
                tries += 1
                if tries < ATTEMPTS:
                    sleep(BACKOFF * 2 ** (tries - 1))
                    continue
                outcome = "failed"
            if outcome == "sent":
                delivery.sent.append(recipient)
                kept.served(recipient)
            elif outcome == "uncertain":
                delivery.uncertain.append((recipient, answer))
                kept.unsure(recipient)
                _close(server)
                server = None
            else:
                delivery.failed.append((recipient, answer))
            kept.save(log)  # after each message: a stopped run never sends twice
            index, tries = index + 1, 0
            in_batch += 1
            if server is not None and in_batch >= BATCH:
                _close(server, polite=True)
                server = None
    finally:
        if server is not None:
            _close(server, polite=True)
    return delivery


def _open(
    opened: Callable[[Mapping[str, object]], smtplib.SMTP],
    settings: Mapping[str, object],
    delivery: Delivery,
    sleep: Callable[[float], None],
) -> smtplib.SMTP | None:
    """A connection, tried ATTEMPTS times with backoff; None (and why, in `delivery`) if none."""
    for attempt in range(ATTEMPTS):
        try:
            return opened(settings)
        except _Unreachable as exc:
            delivery.stopped = str(exc)
            if attempt + 1 < ATTEMPTS:
                sleep(BACKOFF * 2**attempt)
        except BuildFailed as refused:  # the login was refused: trying again will not help
            delivery.stopped = "; ".join(error.message for error in refused.errors)
            return None
    return None


def _send_one(server: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> tuple[str, str]:
    """One message over `server`: ("sent" | "failed" | "transient" | "lost" | "uncertain", why).

    The SMTP dialogue is spoken step by step, so that a connection lost after the server was handed
    the whole message and before it answered is told apart ("uncertain": it may have taken it) from
    one lost earlier ("lost": it did not, and a retry is safe)."""
    try:
        server.ehlo_or_helo_if_needed()
        options = ["BODY=8BITMIME"] if not data.isascii() and server.has_extn("8bitmime") else []
        steps: tuple[tuple[Callable[[], tuple[int, bytes]], tuple[int, ...]], ...] = (
            (lambda: server.mail(sender, options), (250,)),
            (lambda: server.rcpt(recipient), (250, 251)),
            (lambda: server.docmd("DATA"), (354,)),
        )
        for step, wanted in steps:
            code, answer = step()
            if code not in wanted:
                if code != 421:  # 421: the server is closing the connection
                    with contextlib.suppress(OSError):
                        server.rset()
                return ("transient" if 400 <= code < 500 else "failed"), _answered(code, answer)
        server.send(_quoted(data))
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        return "lost", f"the connection was lost ({_why(exc)})"
    try:
        code, answer = server.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        return "uncertain", f"the connection was lost after the message was handed over ({_why(exc)})"
    if code == 250:
        return "sent", ""
    return ("transient" if 400 <= code < 500 else "failed"), _answered(code, answer)


def _answered(code: int, answer: bytes) -> str:
    return f"the server answered {code} {_text(answer)}".strip()


def _quoted(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, a leading dot doubled, the final dot line."""
    data = re.sub(rb"\r\n|\n|\r", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def _personal(message: bytes, recipient: str, sign: Callable[[bytes], bytes] | None) -> bytes:
    """The message addressed to `recipient`, signed if a signer is given."""
    personal = message_from_bytes(message, policy=policy.default)
    del personal["To"]
    personal["To"] = recipient
    data = personal.as_bytes(policy=policy.SMTP)
    return sign(data) if sign else data


@dataclass
class _Pace:
    """At most one message every `interval` seconds (`per_minute`)."""

    interval: float
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    last: float | None = None

    def wait(self) -> None:
        if self.interval and self.last is not None:
            left = self.last + self.interval - self.clock()
            if left > 0:
                self.sleep(left)
        self.last = self.clock()


class _Unreachable(Exception):
    """No connection (or no login) to the SMTP server this time; may be tried again."""


def check_settings(settings: Mapping[str, object], allow_plaintext: bool = False) -> None:
    """Raise `BuildFailed` for settings that can never work or would leak the password, before any
    connection: no host, a user without a password, or a login in plain text to another machine."""
    host = str(settings.get("host") or "")
    security = str(settings.get("security") or "starttls")
    if not host:
        raise _failed(
            "the newsletter's smtp settings need a 'host'", "newsletter: {smtp: {host: smtp.example.org}}"
        )
    if security not in ("starttls", "tls", "none"):
        message = f"smtp 'security' must be starttls, tls or none, not {security!r}"
        raise _failed(message, "security: starttls")
    user = str(settings.get("user") or "")
    if user and not os.environ.get(PASSWORD_ENV, ""):
        raise _failed(f"no SMTP password: set {PASSWORD_ENV}", "it is read from the environment only")
    if user and security == "none" and not _loopback(host) and not allow_plaintext:
        raise _failed(
            f"security: none would send the SMTP password to {host} in plain text",
            "use security: starttls or tls; if the network to it is yours alone, pass --allow-plaintext",
        )


def _connect(settings: Mapping[str, object]) -> smtplib.SMTP:
    host = str(settings.get("host") or "")
    security = str(settings.get("security") or "starttls")
    port = int(str(settings.get("port") or (465 if security == "tls" else 587)))
    user = str(settings.get("user") or "")
    timeout = float(str(settings.get("timeout") or TIMEOUT))
    server: smtplib.SMTP | None = None
    try:
        if security == "tls":
            server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
            if security == "starttls":
                server.starttls(context=ssl.create_default_context())
        if user:
            server.login(user, os.environ.get(PASSWORD_ENV, ""))
    except smtplib.SMTPAuthenticationError as exc:
        _close(server)
        raise BuildFailed([SiteError(
            f"the SMTP server refused the login: {exc.smtp_code} {_text(exc.smtp_error)}", None,
            f"check 'user' and {PASSWORD_ENV}")]) from None  # fmt: skip
    except (OSError, smtplib.SMTPException) as exc:
        _close(server)
        raise _Unreachable(f"cannot reach the SMTP server {host}:{port}: {_why(exc)}") from None
    return server


def _close(server: smtplib.SMTP | None, polite: bool = False) -> None:
    if server is None:
        return
    try:
        if polite:
            server.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        server.close()


def _loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time (smtp: timeout)"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer


@dataclass
class _Log:
    """The delivery log: plain JSON (addresses, nothing to run), replaced durably in one step."""

    sent: set[str] = field(default_factory=set)
    uncertain: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, log: Path) -> _Log:
        try:
            found = json.loads(log.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if isinstance(found, list):  # the log of a version before uncertain deliveries
            return cls({str(a).lower() for a in found})
        if not isinstance(found, dict):
            return cls()
        return cls(
            {str(a).lower() for a in found.get("sent", [])},
            {str(a).lower() for a in found.get("uncertain", [])},
        )

    def served(self, recipient: str) -> None:
        self.sent.add(recipient.lower())
        self.uncertain.discard(recipient.lower())

    def unsure(self, recipient: str) -> None:
        self.uncertain.add(recipient.lower())

    def save(self, log: Path) -> None:
        data = {"sent": sorted(self.sent), "uncertain": sorted(self.uncertain - self.sent)}
        write_atomic(log, json.dumps(data, indent=1).encode("utf-8"))


def dkim_signer(settings: Mapping[str, object], sender: str) -> Callable[[bytes], bytes] | None:
    """A function that signs a message with DKIM (RFC 6376, rsa-sha256, relaxed/relaxed), if
    DIGEST_DKIM_KEY_FILE names the private key's file (PEM); its selector from `newsletter: dkim:
    {selector: ..., domain: ...}` (the domain defaults to the sender's). None without a key."""
    key_file = os.environ.get(DKIM_KEY_ENV, "")
    found = settings.get("dkim")
    dkim_settings: Mapping[str, object] = found if isinstance(found, Mapping) else {}
    if not key_file and not dkim_settings:
        return None
    if not key_file:
        raise _failed(f"newsletter: dkim: is set, but {DKIM_KEY_ENV} names no key file",
                      f"export {DKIM_KEY_ENV}=/path/to/dkim-private.pem (never in config.yaml)")  # fmt: skip
    selector = str(dkim_settings.get("selector") or "")
    domain = str(dkim_settings.get("domain") or sender.rpartition("@")[2])
    if not selector:
        hint = "newsletter: {dkim: {selector: mail2026}}: the name of the key's DNS record"
        raise _failed(f"{DKIM_KEY_ENV} is set, but newsletter: dkim: has no selector", hint)
    try:
        key = Path(key_file).read_bytes()
    except OSError as exc:
        reason = f"cannot read the DKIM key {key_file}: {exc.strerror or exc}"
        raise _failed(reason, f"check {DKIM_KEY_ENV}") from None
    try:
        import dkim
    except ImportError:
        raise _failed("DKIM signing needs dkimpy", "pip install dkimpy") from None

    def sign(message: bytes) -> bytes:
        try:
            signature = dkim.sign(
                message, selector.encode(), domain.encode(), key,
                canonicalize=(b"relaxed", b"relaxed"), include_headers=list(SIGNED_HEADERS),
            )  # fmt: skip
        except dkim.DKIMException as exc:
            reason = f"cannot sign with the DKIM key {key_file}: {exc}"
            raise _failed(reason, "it must be an RSA key in PEM") from None
        return bytes(signature) + message

    sign(b"From: a@b.c\r\nTo: a@b.c\r\nSubject: key check\r\n\r\nx\r\n")  # a bad key fails before any mail
    return sign


def _failed(message: str, hint: str) -> BuildFailed:
    return BuildFailed([SiteError(message, None, hint)])
