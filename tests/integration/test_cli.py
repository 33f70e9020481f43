"""The `brief` command as a user runs it: help, init, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys

from brief.config_file import load_settings


def brief(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_help_lists_the_commands():
    out = brief("--help")
    assert out.returncode == 0
    for command in ("weekly", "fetch", "init"):
        assert command in out.stdout
    weekly = brief("weekly", "--help")
    assert weekly.returncode == 0 and "--week" in weekly.stdout and "--memory-dir" in weekly.stdout


def test_init_writes_a_config_that_loads(tmp_path):
    out = brief("init", str(tmp_path / "brief.toml"))
    assert out.returncode == 0, out.stderr
    settings = load_settings(tmp_path / "brief.toml", env={})
    assert settings.criteria.topics
    again = brief("init", str(tmp_path / "brief.toml"))
    assert again.returncode == 2 and "--force" in again.stderr


def test_malformed_config_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "brief.toml"
    bad.write_text("[criteria]\n[[criteria.topics]]\nname = 'x'\ndescription = 3\n")
    out = brief("weekly", "--config", str(bad), "--memory-dir", str(tmp_path / "m"), "-q")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "criteria.topics.0.description" in lines[0]
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "m").exists(), "nothing was created on a config error"


def test_bad_week_is_a_user_error(tmp_path):
    out = brief("weekly", "--week", "2026-W99", "--memory-dir", str(tmp_path / "m"), "-q")
    assert out.returncode == 2 and "2026-W99" in out.stderr and len(out.stderr.strip().splitlines()) == 1
