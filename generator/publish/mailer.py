"""Sending a newsletter over SMTP (`digest newsletter ... --send`): each recipient once.

Settings come from `newsletter: smtp:` in config.yaml (host, port, security:
starttls, tls or none, user); the password only from the environment
variable DIGEST_SMTP_PASSWORD, never from a file or the command line. Each
recipient gets a message of their own, in batches over one connection each.
A delivery log beside the build cache (`.digest-cache/deliveries/`) records who was served, so that a run
stopped half way (or with refused recipients) can be run again without
sending anyone a second copy.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.utils import parseaddr
from pathlib import Path

from generator.base.errors import BuildFailed, SiteError, SourceLocation

PASSWORD_ENV = "DIGEST_SMTP_PASSWORD"  # noqa: S105 - the name of the variable, not a password
BATCH = 50  # messages per connection


@dataclass
class Delivery:
    """What a send did: who got the message now, who had it already, and who was refused (and why)."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # in a dry run: who would get it


def read_recipients(path: Path) -> list[str]:
    """The addresses in a recipients file, one a line (blank lines and `#` comments skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildFailed([SiteError(f"cannot read the recipients: {exc}", SourceLocation(path))]) from None
    found: list[str] = []
    errors: list[SiteError] = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        address = parseaddr(text)[1]
        if "@" not in address or any(c.isspace() for c in address):
            errors.append(SiteError(f"not an email address: {text!r}", SourceLocation(path, number)))
        elif address.lower() not in (a.lower() for a in found):
            found.append(address)
    if errors:
        raise BuildFailed(errors)
    return found


def send(
    message: bytes,
    recipients: Sequence[str],
    settings: Mapping[str, object],
    log: Path,
    dry_run: bool = False,
    connect: Callable[[Mapping[str, object]], smtplib.SMTP] | None = None,
) -> Delivery:
    """Send `message` to each of `recipients` not yet served (by the delivery log at `log`)."""
    done = _load_log(log)
    delivery = Delivery(skipped=[r for r in recipients if r.lower() in done])
    todo = [r for r in recipients if r.lower() not in done]
    if dry_run:
        delivery.pending = todo
        return delivery
    original = message_from_bytes(message, policy=policy.default)
    sender = parseaddr(str(original["From"]))[1]
    for start in range(0, len(todo), BATCH):
        with (connect or _connect)(settings) as server:
            for recipient in todo[start : start + BATCH]:
                personal = message_from_bytes(message, policy=policy.default)
                del personal["To"]
                personal["To"] = recipient
                try:
                    server.send_message(personal, from_addr=sender, to_addrs=[recipient])
                except smtplib.SMTPRecipientsRefused as refused:
                    code, answer = refused.recipients.get(recipient, (0, b""))
                    delivery.failed.append((recipient, f"{code} {answer.decode('utf-8', 'replace')}".strip()))
                    continue
                except smtplib.SMTPResponseException as exc:
                    delivery.failed.append((recipient, f"{exc.smtp_code} {_text(exc.smtp_error)}"))
                    continue
                delivery.sent.append(recipient)
                done.add(recipient.lower())
                _save_log(log, done)  # after each message: a stopped run never sends twice
    return delivery


def _connect(settings: Mapping[str, object]) -> smtplib.SMTP:
    host = str(settings.get("host") or "")
    security = str(settings.get("security") or "starttls")
    port = int(str(settings.get("port") or (465 if security == "tls" else 587)))
    user = str(settings.get("user") or "")
    password = os.environ.get(PASSWORD_ENV, "")
    if not host:
        raise _failed(
            "the newsletter's smtp settings need a 'host'", "newsletter: {smtp: {host: smtp.example.org}}"
        )
    if user and not password:
        raise _failed(f"no SMTP password: set {PASSWORD_ENV}", "it is read from the environment only")
    try:
        if security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=30, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(host, port, timeout=30)
            if security == "starttls":
                server.starttls(context=ssl.create_default_context())
        if user:
            server.login(user, password)
    except smtplib.SMTPAuthenticationError as exc:
        raise _failed(f"the SMTP server refused the login: {exc.smtp_code} {_text(exc.smtp_error)}",
                      f"check 'user' and {PASSWORD_ENV}") from None  # fmt: skip
    except (OSError, smtplib.SMTPException) as exc:
        raise _failed(
            f"cannot reach the SMTP server {host}:{port}: {exc}", "check host, port and security"
        ) from None
    return server


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer


def _load_log(log: Path) -> set[str]:
    try:
        found = json.loads(log.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(a) for a in found} if isinstance(found, list) else set()


def _save_log(log: Path, served: set[str]) -> None:
    """Plain JSON (a list of addresses, nothing to run), replaced in one step."""
    log.parent.mkdir(parents=True, exist_ok=True)
    temporary = log.with_name(f".{log.name}.{os.getpid()}")
    temporary.write_text(json.dumps(sorted(served)), encoding="utf-8")
    os.replace(temporary, log)


def _failed(message: str, hint: str) -> BuildFailed:
    return BuildFailed([SiteError(message, None, hint)])
