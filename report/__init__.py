"""Reports: one data model of the briefing (`build_briefing`), rendered to Markdown, HTML and JSON.

Every file is written to a temporary name and renamed into place, so a failed run never leaves a
half-written report.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from brief.report.briefing import Briefing, build_briefing
from brief.report.html import render_html
from brief.report.markdown import render_markdown

__all__ = ["Briefing", "build_briefing", "write_reports", "atomic_write"]


def atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_reports(state, settings, model: str | None, formats=("md", "json", "html")) -> list[Path]:
    briefing = build_briefing(state, settings, model)
    out = Path(settings.out_dir)
    renderers = {
        "json": lambda: briefing.model_dump_json(indent=2),
        "md": lambda: render_markdown(briefing),
        "html": lambda: render_html(briefing),
    }
    return [atomic_write(out / f"{briefing.week}.{fmt}", renderers[fmt]()) for fmt in formats if fmt in renderers]
