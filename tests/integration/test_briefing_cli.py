"""weekly's output flags: --format, --bibtex, --email/--no-email map onto Settings; misuse is exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from brief.app.cli_run import UserError, _report_settings
from brief.config import EmailConfig


def brief(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brief.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_flags_set_report_and_email_settings(settings):
    s = _report_settings(settings, ["md,html", "md"], True, None)
    assert s.report.formats == ["md", "html"] and s.report.bibtex
    assert _report_settings(settings, None, False, None) is settings
    with pytest.raises(UserError, match="--format"):
        _report_settings(settings, ["md,pdf"], False, None)
    with pytest.raises(UserError, match=r"\[email\]"):
        _report_settings(settings, None, False, True)
    mailed = settings.model_copy(update={"email": EmailConfig(host="h", sender="a@b.c", to=["x@y.z"])})
    assert _report_settings(mailed, None, False, False).email.send is False
    assert _report_settings(mailed, None, False, None).email.send is True


def test_bad_flags_are_one_line_exit_2(tmp_path):
    for args, needle in ((["--format", "pdf"], "--format"), (["--email"], "[email]")):
        out = brief("weekly", "--week", "2026-W24", "--memory-dir", str(tmp_path / "m"), "-q", *args, cwd=tmp_path)
        assert out.returncode == 2, out.stderr
        assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1
    help_text = brief("weekly", "--help").stdout
    assert "--bibtex" in help_text and "--no-email" in help_text and "--format" in help_text
