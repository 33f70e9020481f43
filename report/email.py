"""Email delivery of a briefing over SMTP: one message with a plain-text (Markdown) and an HTML part.

SSL, STARTTLS or plain (local relays); login when a user is set, with the password from the environment.
Temporary failures (connection refused or dropped, timeouts, 4xx replies) are retried with exponential
backoff; permanent ones (5xx, authentication, certificate) are not. Nothing raises: the caller gets an
EmailResult and turns a failure into a note, because email must never cost the user the briefing files.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pydantic import BaseModel, Field

from brief.config import EmailConfig
from brief.redact import mask


class EmailResult(BaseModel):
    sent: bool
    attempts: int
    recipients: list[str] = Field(default_factory=list)
    error: str | None = None


class _Permanent(Exception):
    """A failure retrying cannot fix."""


class _LoginRefused(smtplib.SMTPResponseException):
    """The server refused our login. Its reply is dropped: servers echo the AUTH exchange in it (the password,
    base64-encoded), and a transcript of authentication is never written anywhere."""

    def __init__(self, code: int, cfg: EmailConfig):
        super().__init__(code, b"(reply withheld)")
        self.advice = (f"the SMTP server refused the login of {cfg.user} (reply {code}): "
                       f"check [email] user and the password in {cfg.password_env}")

    def __str__(self) -> str:
        return self.advice


def build_message(cfg: EmailConfig, week: str, text: str, html_body: str, subject_detail: str = "") -> EmailMessage:
    msg = EmailMessage()
    subject = cfg.subject.replace("{week}", week)
    msg["Subject"] = f"{subject}{': ' + subject_detail if subject_detail else ''}"
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or "brief.local")
    msg.set_content(text)
    msg.add_alternative(html_body, subtype="html")
    return msg


def _deliver(msg: EmailMessage, cfg: EmailConfig) -> None:
    context = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
    if cfg.security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context)
    else:
        server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
    with server:
        server.ehlo()
        if cfg.security == "starttls":
            server.starttls(context=context)
            server.ehlo()
        if cfg.user:
            if cfg.password is None:
                raise _Permanent(f"[email] user is set but {cfg.password_env} is not: export the SMTP password there")
            try:
                server.login(cfg.user, cfg.password.get_secret_value())
            except smtplib.SMTPResponseException as exc:
                raise _LoginRefused(exc.smtp_code, cfg) from None
            except UnicodeEncodeError:  # smtplib sends credentials as ASCII only
                raise _Permanent(f"the SMTP password in {cfg.password_env} has non-ASCII characters, "
                                 "which SMTP login can't send: use an ASCII password") from None
        server.send_message(msg)


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, (_Permanent, smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError,
                        smtplib.SMTPRecipientsRefused, ssl.SSLCertVerificationError)):
        return True
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def _describe(exc: Exception, cfg: EmailConfig) -> str:
    text = str(exc) if isinstance(exc, (_Permanent, _LoginRefused)) else f"{type(exc).__name__}: {exc}"
    return mask(text, [cfg.password.get_secret_value()] if cfg.password is not None else [])[:300]


def send(msg: EmailMessage, cfg: EmailConfig, sleep: Callable[[float], None] = time.sleep) -> EmailResult:
    """Deliver with up to `cfg.retries` retries, waiting backoff, 2×backoff, 4×backoff … between tries."""
    attempts = 1 + cfg.retries
    error = "not attempted"
    for attempt in range(1, attempts + 1):
        try:
            _deliver(msg, cfg)
            return EmailResult(sent=True, attempts=attempt, recipients=list(cfg.to))
        except (smtplib.SMTPException, OSError, _Permanent) as exc:
            error = _describe(exc, cfg)
            if _permanent(exc):
                return EmailResult(sent=False, attempts=attempt, error=error)
        if attempt < attempts:
            sleep(cfg.backoff_seconds * 2 ** (attempt - 1))
    return EmailResult(sent=False, attempts=attempts, error=error)
