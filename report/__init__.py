"""Reports: one data model of the briefing (`build_briefing`), rendered to Markdown, HTML, JSON, BibTeX,
an Atom feed of every briefing in the directory, and optionally sent by email.

Every file is written to a temporary name and renamed into place, so a failed run never leaves a
half-written report. Email and the webhook go out only after the files are written, and a failure only adds
a note (the files are rewritten with it) and marks the run partial: it can never cost the user the briefing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from brief.report.briefing import Briefing, build_briefing
from brief.text import counted

__all__ = ["Briefing", "Published", "build_briefing", "publish", "write_files", "atomic_write"]


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (os.umask can only set it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, text: str) -> Path:
    """Write via a temporary file renamed into place, with the mode a plain open() would give (0644 under
    umask 022: mkstemp's private 0600 would stop a web server from serving the reports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~current_umask())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def render(briefing: Briefing, fmt: str) -> str:
    from brief.report.bibtex import render_bibtex
    from brief.report.html import render_html
    from brief.report.markdown import render_markdown

    renderers = {
        "json": lambda: briefing.model_dump_json(indent=2),
        "md": lambda: render_markdown(briefing),
        "html": lambda: render_html(briefing),
        "bib": lambda: render_bibtex(briefing),
    }
    return renderers[fmt]()


def write_files(briefing: Briefing, settings) -> list[Path]:
    """The configured formats, the .bib when asked, and the feed (after the JSON, which it reads)."""
    from brief.report.feed import FEED_NAME, build_feed

    out = Path(settings.out_dir)
    report = settings.report
    formats = [f for f in ("json", "md", "html") if f in report.formats] + (["bib"] if report.bibtex else [])
    paths = [atomic_write(out / f"{briefing.week}.{fmt}", render(briefing, fmt)) for fmt in formats]
    if report.feed:
        paths.append(atomic_write(out / FEED_NAME, build_feed(out, briefing)))
    return paths


@dataclass
class Published:
    paths: list[Path]
    notes: list[str] = field(default_factory=list)
    email: object | None = None  # report.email.EmailResult when an email was attempted
    partial: list[str] = field(default_factory=list)  # failed deliveries: the run is partial (exit 3)


def publish(state, settings, model: str | None) -> Published:
    """Write every file, then email the briefing and post it to the webhook when configured. A failed
    delivery adds a note (the files are rewritten with it) and makes the run partial; the files stay."""
    briefing = build_briefing(state, settings, model)
    out = Published(write_files(briefing, settings))
    for deliver in (_email, _webhook):
        note, failed = deliver(briefing, settings, out)
        if note:
            out.notes.append(note)
        if failed:
            briefing.notes.append(note)
            briefing.partial.append(note)  # the rewritten files say "partial run", as the exit code does
            out.partial.append(note)
    if out.partial:
        write_files(briefing, settings)  # the files record the failure too
    return out


def _email(briefing: Briefing, settings, out: Published) -> tuple[str, bool]:
    cfg = settings.email
    if cfg is None or not cfg.send:
        return "", False
    from brief.report.email import build_message, send

    n = sum(len(t.paper_ids) for t in briefing.themes)
    message = build_message(cfg, briefing.week, render(briefing, "md"), render(briefing, "html"),
                            f"{counted(n, 'paper')} in {counted(len(briefing.themes), 'theme')}")
    result = out.email = send(message, cfg)
    if result.sent:
        return f"emailed the briefing to {', '.join(result.recipients)}", False
    return (f"email to {', '.join(cfg.to)} via {cfg.host}:{cfg.port} failed after {result.attempts} "
            f"attempt{'s' if result.attempts > 1 else ''}: {result.error}; the files are written"), True


def _webhook(briefing: Briefing, settings, out: Published) -> tuple[str, bool]:
    cfg = settings.report
    if cfg.webhook_url is None:
        return "", False
    from urllib.parse import urlsplit

    from brief.report.webhook import payload, send

    url = cfg.webhook_url.get_secret_value()
    result = send(url, payload(briefing), cfg.webhook_timeout_seconds, cfg.webhook_retries, cfg.webhook_backoff_seconds)
    host = urlsplit(url).hostname or "the webhook"  # the path of a Slack URL is its secret: never shown
    if result.sent:
        return f"posted the briefing to the webhook at {host}", False
    return (f"webhook post to {host} failed after {result.attempts} attempt{'s' if result.attempts > 1 else ''}: "
            f"{result.error}; the files are written"), True
