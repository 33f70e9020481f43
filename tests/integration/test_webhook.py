"""Webhook delivery against a local HTTP server on 127.0.0.1: a Slack-style JSON POST with the week's headline and
top papers; a 500 is retried then succeeds; a permanent failure is noted in the report, the files are still
written, the run is partial (the CLI exits 3) and the webhook's secret path is never shown."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from brief.config import ConfigError
from brief.config_file import load_settings
from brief.report.webhook import send
from brief.sources.window import parse_week
from tests.briefing_helpers import hash_settings, make_context, run_week
from tests.integration.cli_helpers import brief, brief_env, week_snapshot, write_config

SECRET_PATH = "/services/T000/B000/s3cretTokenXYZ"


class Hook:
    """What the server answers, in turn (then 200), and every JSON body it received."""

    def __init__(self, statuses: list[int] | None = None):
        self.statuses = list(statuses or [])
        self.bodies: list[dict] = []
        self.attempts = 0


@pytest.fixture
def hook_server():
    servers = []

    def start(hook: Hook) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                hook.attempts += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = hook.statuses.pop(0) if hook.statuses else 200
                if status == 200:
                    assert self.headers["Content-Type"] == "application/json"
                    hook.bodies.append(json.loads(body))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"error")

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def webhook_settings(settings, url: str, retries: int = 2):
    report = settings.report.model_copy(update={"webhook_url": SecretStr(url), "webhook_retries": retries,
                                                "webhook_backoff_seconds": 0.01, "webhook_timeout_seconds": 5})
    return hash_settings(settings).model_copy(update={"report": report})


def test_success_posts_headline_and_top_papers(settings, hook_server):
    hook = Hook()
    s = webhook_settings(settings, hook_server(hook))
    state = run_week(make_context(s), parse_week("2026-W24"), ["sample"])
    (body,) = hook.bodies
    assert len(state.accepted) > 1 and len(state.themes) > 1
    assert body["text"].startswith(f"Research briefing 2026-W24: {len(state.accepted)} papers in {len(state.themes)} themes")
    papers = body["blocks"][2]["text"]["text"]
    assert papers.count("• <https://arxiv.org/abs/") == 5, "the five most relevant papers, linked"
    top = max(state.accepted, key=lambda p: state.decisions[p.id].relevance)
    assert top.title.split(":")[0][:30] in papers
    assert not state.partial and any(n == "posted the briefing to the webhook at 127.0.0.1" for n in state.notes)


def test_a_500_is_retried_then_succeeds(settings, hook_server):
    hook = Hook(statuses=[500])
    s = webhook_settings(settings, hook_server(hook))
    state = run_week(make_context(s), parse_week("2026-W24"), ["sample"])
    assert hook.attempts == 2 and len(hook.bodies) == 1
    assert not state.partial


def test_backoff_and_permanent_4xx_and_unreachable(hook_server):
    waits: list[float] = []
    hook = Hook(statuses=[503, 503, 503])
    result = send(hook_server(hook), {"text": "x"}, timeout=5, retries=2, backoff=0.5, sleep=waits.append)
    assert not result.sent and result.attempts == 3 and result.status == 503 and waits == [0.5, 1.0]
    hook = Hook(statuses=[404])
    result = send(hook_server(hook), {"text": "x"}, retries=3, sleep=waits.append)
    assert not result.sent and result.attempts == 1 and hook.attempts == 1, "a 404 is not retried"
    result = send("http://127.0.0.1:9/hook", {"text": "x"}, retries=1, sleep=lambda s: None)
    assert not result.sent and result.attempts == 2 and "Connection" in result.error


def report_config(tmp_path, lines: str):
    """The demo config with `lines` added to its [report] table."""
    config = write_config(tmp_path / "brief.toml", tmp_path / "cache")
    config.write_text(config.read_text(encoding="utf-8").replace("[report]\n", "[report]\n" + lines, 1), encoding="utf-8")
    return config


def test_permanent_failure_is_noted_files_written_and_exit_3(tmp_path, hook_server):
    hook = Hook(statuses=[500] * 10)
    url = hook_server(hook)
    config = report_config(tmp_path, "webhook_retries = 1\nwebhook_backoff_seconds = 0.01\n")
    out_dir = tmp_path / "out"
    run = brief("weekly", "--config", config, "--source", f"snapshot:{week_snapshot(tmp_path / 'snap', 25)}",
                "--memory-dir", tmp_path / "m", "--out", out_dir, env=brief_env(BRIEF_WEBHOOK_URL=url))
    assert run.returncode == 3, run.stderr
    assert hook.attempts == 2, "one try and one retry"
    assert "partial run (exit 3): webhook post to 127.0.0.1 failed after 2 attempts: HTTP 500" in run.stderr
    md = (out_dir / "2026-W24.md").read_text()
    assert "webhook post to 127.0.0.1 failed after 2 attempts" in md and (out_dir / "2026-W24.html").exists()
    written = json.loads((out_dir / "2026-W24.json").read_text())
    assert written["partial"] and written["partial"][-1].startswith("webhook post to 127.0.0.1 failed"), \
        "the files on disk say partial, as the exit code does"
    assert "Partial run" in md.split("\n## ")[0], "and the Markdown says so at the top"
    for path in out_dir.iterdir():
        assert "s3cretToken" not in path.read_text(), f"the webhook's secret path leaked into {path.name}"
    assert "s3cretToken" not in run.stderr + run.stdout


def test_webhook_url_must_be_http(tmp_path):
    config = report_config(tmp_path, 'webhook_url = "file:///etc/passwd"\n')
    with pytest.raises(ConfigError, match="webhook_url"):
        load_settings(config, env={})
