"""What the review tests share: a memory seeded from the bundled sample through the real importer, and the
checks every written review must pass (files, citations, timeline, references)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from brief.config import Settings
from brief.config_file import load_settings
from brief.progress import QuietReporter
from brief.sources.snapshot import sample_path

CITED = re.compile(r"\[(arXiv:[^\]\s]+|doi:[^\]\s]+|title:[0-9a-f]+)\]")


def seeded_settings(root: Path, cache_dir: Path, per_day: int = 30) -> Settings:
    """Demo settings on `root` whose memory holds the first `per_day` papers of every day of the bundled
    sample (2026-W23 and W24), imported as `brief memory import` does: each first seen in its announcement week."""
    from brief.app.memory_commands import import_library

    snapshot = root / "snapshot"
    snapshot.mkdir()
    for day in sorted(sample_path().glob("*.jsonl")):
        lines = day.read_text(encoding="utf-8").splitlines()[:per_day]
        (snapshot / day.name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    base = load_settings(None, env={})
    settings = base.model_copy(update={
        "out_dir": root / "out",
        "memory": base.memory.model_copy(update={"dir": root / "memory", "cache_dir": cache_dir}),
    })
    import_library(settings, snapshot, None, False, QuietReporter())
    return settings


def memory_snapshot(settings: Settings) -> dict:
    from brief.memory import open_embedder, open_memory

    stats = open_memory(settings, open_embedder(settings).name).stats()
    return {k: stats[k] for k in ("papers", "seen_rejected", "by_first_seen_week", "by_status")}


def check_written_review(outputs: list[str], slug: str) -> dict:
    """The four files exist, named by the slug; every citation resolves to a listed reference; the HTML
    anchors every cited paper; the BibTeX has one entry per reference. Returns the JSON report."""
    names = {Path(p).name for p in outputs}
    assert names == {f"review-{slug}.{ext}" for ext in ("json", "md", "html", "bib")}, names
    folder = Path(outputs[0]).parent
    report = json.loads((folder / f"review-{slug}.json").read_text(encoding="utf-8"))
    ids = [p["id"] for p in report["accepted"]]
    assert len(ids) == len(set(ids)), "every paper appears once"
    listed = {f"arXiv:{i}" for i in ids}
    prose = [report["overview"], *(t["prose"] for t in report["themes"]),
             *(c["text"] for kind in ("agreements", "contradictions", "open_questions") for c in report["findings"][kind])]
    cited = {key for text in prose for key in CITED.findall(text)}
    assert cited and cited <= listed, cited - listed
    assert report["unresolved_citations"] == []
    assert set(report["key_papers"]) <= set(ids) and len(report["key_papers"]) == min(10, len(ids))
    members = [pid for t in report["themes"] for pid in t["paper_ids"]]
    assert sorted(members) == sorted(ids), "every paper sits in exactly one sub-theme"
    page = (folder / f"review-{slug}.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page
    assert all(f'id="{key.removeprefix("arXiv:")}"' in page for key in cited), "every citation lands on the page"
    bib = (folder / f"review-{slug}.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    assert len(keys) == len(ids) == len(set(keys))
    md = (folder / f"review-{slug}.md").read_text(encoding="utf-8")
    for heading in ("## Overview", "## Timeline", "## Sub-themes", "## Key papers", "## References"):
        assert heading in md, heading
    return report
