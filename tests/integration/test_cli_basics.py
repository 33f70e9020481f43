"""The small things a user trips on, through the CLI: --version, -h, --source help, --json output, file modes,
and a --week outside the snapshot's coverage."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import tomllib

from brief.report import atomic_write
from tests.integration.cli_helpers import REPO, brief, brief_cmd, brief_env, week_snapshot, write_config


def test_version_matches_the_project():
    out = brief("--version")
    expected = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert out.returncode == 0 and out.stdout.strip() == f"brief {expected}"


def test_dash_h_is_help_everywhere():
    for args in (["-h"], ["weekly", "-h"], ["memory", "stats", "-h"]):
        out = brief(*args)
        assert out.returncode == 0, (args, out.stderr)
        assert "Usage" in out.stdout and "--help" in out.stdout


def test_source_help_reads_properly():
    text = " ".join(brief("weekly", "--help").stdout.replace("│", " ").split())
    assert "a [] name" not in text
    assert "the name of a source configured in brief.toml" in text


def test_week_outside_the_snapshot_names_its_coverage(tmp_path):
    for args in (["weekly", "--memory-dir", str(tmp_path / "m")], ["fetch"]):
        out = brief(*args, "--week", "2026-W30", "-q")
        assert out.returncode == 2, out.stderr
        line = out.stderr.strip()
        assert len(line.splitlines()) == 1
        assert "2026-06-01 to 2026-06-13" in line and "2026-W23 to 2026-W24" in line
    assert not (tmp_path / "m").exists(), "nothing was touched"


def test_weekly_json_is_only_json_and_reports_follow_the_umask(tmp_path):
    snapshot = week_snapshot(tmp_path / "snap", 25)
    config = write_config(tmp_path / "brief.toml", tmp_path / "cache")
    out_dir = tmp_path / "out"
    run = subprocess.run(brief_cmd("weekly", "--config", config, "--source", f"snapshot:{snapshot}", "--json",
                                   "--memory-dir", tmp_path / "m", "--out", out_dir),
                         capture_output=True, text=True, env=brief_env(), cwd=REPO, timeout=300,
                         preexec_fn=lambda: os.umask(0o022))
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)  # the whole of stdout is one JSON document
    assert summary["week"] == "2026-W24" and summary["outputs"]
    assert not re.search(r"[━╸╺]|\d+/\d+ ", run.stderr), f"progress drawn on stderr: {run.stderr[:300]}"
    written = sorted(out_dir.iterdir())
    assert {p.suffix for p in written} >= {".md", ".html", ".json", ".atom"}
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, f"{path.name}: {oct(path.stat().st_mode)}"


def test_atomic_write_uses_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        path = atomic_write(tmp_path / "r.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_init_template_documents_email_webhook_and_language(tmp_path):
    out = brief("init", str(tmp_path / "brief.toml"))
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "brief.toml").read_text()
    for needle in ("# [email]", "# host =", "BRIEF_SMTP_PASSWORD", "# webhook_url =", "# language ="):
        assert needle in text, needle
    enabled = text.replace("# [email]", "[email]").replace("# host =", "host =").replace("# sender =", "sender =")
    enabled = enabled.replace("# to =", "to =").replace("# webhook_url =", "webhook_url =").replace("# language =", "language =")
    (tmp_path / "on.toml").write_text(enabled)
    from brief.config_file import load_settings

    settings = load_settings(tmp_path / "on.toml", env={})
    assert settings.email.host == "smtp.example.org" and settings.report.language == "German"
    assert settings.report.webhook_url.get_secret_value().startswith("https://hooks.slack.com/")
