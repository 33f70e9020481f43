"""Must-show 4: the briefing by email against a local SMTP server (aiosmtpd): it arrives with an HTML and a
text part; STARTTLS with login works, the password coming from the environment; a failing server is
retried, the failure reported, and the files are still written."""

from __future__ import annotations

import email
import json
import shutil
import socket
import ssl
import subprocess
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from brief.config import ConfigError, EmailConfig
from brief.config_file import load_settings
from brief.sources.window import parse_week
from tests.briefing_helpers import hash_settings, make_context, run_week


class Inbox:
    """aiosmtpd handler: answers DATA with `replies` in turn (then 250), keeping what it accepted."""

    def __init__(self, replies: list[str] | None = None):
        self.replies = list(replies or [])
        self.attempts = 0
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.replies:
            return self.replies.pop(0)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    started = []

    def start(inbox: Inbox, **kwargs) -> int:
        port = free_port()  # aiosmtpd's start() connects to its own port to check it: port 0 won't do
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def email_settings(settings, port: int, **overrides):
    cfg = EmailConfig(host="127.0.0.1", port=port, security="none", sender="brief@example.org",
                      to=["reader@example.org"], retries=2, backoff_seconds=0.01, timeout_seconds=5, **overrides)
    return hash_settings(settings).model_copy(update={"email": cfg})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_briefing_arrives_with_html_and_text_parts(settings, smtp):
    inbox = Inbox()
    s = email_settings(settings, smtp(inbox))
    state = run_week(make_context(s), parse_week("2026-W24"), ["sample"])
    (msg,) = inbox.messages
    assert msg["Subject"].startswith("Research briefing 2026-W24: ") and msg["To"] == "reader@example.org"
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text.get_content().startswith("# Research briefing — 2026-W24")
    assert "<svg" in html.get_content() and "Content-Security-Policy" in html.get_content()
    assert any(n.startswith("emailed the briefing to reader@example.org") for n in state.notes)


def test_failing_server_is_retried_reported_and_files_still_written(settings, smtp):
    inbox = Inbox(replies=["451 4.3.0 try again later"] * 5)
    s = email_settings(settings, smtp(inbox))
    state = run_week(make_context(s), parse_week("2026-W24"), ["sample"])
    assert inbox.attempts == 3, "one try and two retries"
    (note,) = [n for n in state.notes if n.startswith("email to")]
    assert "failed after 3 attempts" in note and "451" in note
    for ext in ("md", "json", "html"):
        assert (s.out_dir / f"2026-W24.{ext}").exists()
    assert note in json.loads((s.out_dir / "2026-W24.json").read_text())["notes"], "the files record the failure"
    assert "failed after 3 attempts" in (s.out_dir / "2026-W24.html").read_text()


def test_unreachable_server_and_permanent_refusal(settings, smtp):
    from brief.report.email import build_message, send

    waits: list[float] = []
    cfg = email_settings(settings, free_port()).email
    result = send(build_message(cfg, "2026-W24", "text", "<p>html</p>"), cfg, sleep=waits.append)
    assert not result.sent and result.attempts == 3 and "Connection" in result.error
    assert waits == [0.01, 0.02], "exponential backoff between tries"

    inbox = Inbox(replies=["550 5.7.1 relaying denied"])
    cfg = email_settings(settings, smtp(inbox)).email
    result = send(build_message(cfg, "2026-W24", "text", "<p>html</p>"), cfg)
    assert not result.sent and result.attempts == 1 and inbox.attempts == 1, "a 5xx is not retried"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI for a test certificate")
def test_starttls_with_login_and_password_from_environment(settings, smtp, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[str, str]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        logins.append((auth_data.login.decode(), "ok" if ok else "bad"))
        return AuthResult(success=ok)

    inbox = Inbox()
    port = smtp(inbox, tls_context=server_tls, require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    config = tmp_path / "brief.toml"
    config.write_text(f'''
[[criteria.topics]]
name = "Robots"
description = "Robot learning."

[email]
host = "127.0.0.1"
port = {port}
security = "starttls"
user = "me"
sender = "brief@example.org"
to = ["reader@example.org"]
ca_file = "{cert}"
retries = 0
''')
    loaded = load_settings(config, env={"BRIEF_SMTP_PASSWORD": "s3cret"})
    assert loaded.email.password.get_secret_value() == "s3cret" and "s3cret" not in loaded.model_dump_json()
    from brief.report.email import build_message, send

    cfg = loaded.email
    result = send(build_message(cfg, "2026-W24", "text part", "<p>html part</p>"), cfg)
    assert result.sent, result.error
    assert logins == [("me", "ok")] and len(inbox.messages) == 1

    wrong = cfg.model_copy(update={"password": None})
    result = send(build_message(wrong, "2026-W24", "t", "<p>h</p>"), wrong)
    assert not result.sent and "BRIEF_SMTP_PASSWORD" in result.error and result.attempts == 1

    config.write_text(config.read_text() + 'password = "in-the-file"\n')
    with pytest.raises(ConfigError, match="BRIEF_SMTP_PASSWORD"):
        load_settings(config, env={})


def test_a_server_echoing_the_auth_exchange_leaks_no_encoding_of_the_password(settings, smtp):
    """Issue 18, finding 4: the server's rejection repeats the AUTH exchange (base64 of `\\0user\\0password` and of
    the password, the password URL-encoded); no form of it reaches the error, the note or the files."""
    import base64
    from urllib.parse import quote

    from pydantic import SecretStr

    password = "smtp CANARY/777+?"
    forms = [password, base64.b64encode(password.encode()).decode(), quote(password, safe=""),
             base64.b64encode(f"\0me\0{password}".encode()).decode()]

    def echoing(server, session, envelope, mechanism, auth_data):
        sent = forms[1] if mechanism == "LOGIN" else forms[3]
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad credentials in AUTH {mechanism} {sent} "
                                                                f"({forms[2]}; {password})")

    port = smtp(Inbox(), authenticator=echoing, auth_require_tls=False)
    s = email_settings(settings, port, user="me", password=SecretStr(password))
    state = run_week(make_context(s), parse_week("2026-W24"), ["sample"])
    (note,) = [n for n in state.notes if n.startswith("email to")]
    assert "refused the login of me (reply 535)" in note and "BRIEF_SMTP_PASSWORD" in note, note
    written = [state_text for ext in ("md", "html", "json") for state_text in [(s.out_dir / f"2026-W24.{ext}").read_text()]]
    for text in [note, *written]:
        leaked = [f for f in forms if f in text or f.rstrip("=") in text]
        assert leaked == [], leaked
