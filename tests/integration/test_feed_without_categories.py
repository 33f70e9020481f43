"""A source that records no arXiv categories and writes authors in TeX (a journal's feed, an astro-ph listing):
the briefing names authors as people write them, says nothing about fields it doesn't know, and its templated
prose reads as sentences."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from brief.sources.snapshot import sample_path


def test_a_week_without_categories_reads_cleanly(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for day in sorted(sample_path().glob("2026-06-1*.jsonl")):
        lines = []
        for line in day.read_text().splitlines():
            paper = json.loads(line)
            paper.pop("categories", None)
            paper["authors"] = ["Ren\\'e Oudmaijer", *paper.get("authors", [])[:2]]
            lines.append(json.dumps(paper))
        (corpus / day.name).write_text("\n".join(lines) + "\n")
    run = subprocess.run([sys.executable, "-m", "brief.cli", "weekly", "--config", "data/demo.toml", "--offline", "-q",
                          "--source", f"snapshot:{corpus}", "--week", "2026-W24", "--memory-dir", str(tmp_path / "m"),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300,
                         cwd=sample_path().parents[1])
    assert run.returncode == 0, run.stderr
    md = (tmp_path / "out" / "2026-W24.md").read_text()
    html = (tmp_path / "out" / "2026-W24.html").read_text()
    assert "### 1." in md and "Leading it" in md
    assert "René Oudmaijer" in md and "Ren\\" not in md and "Ren\\" not in html
    assert "unknown" not in md.lower() and "unknown" not in html.lower()
    assert not re.search(r"\(\)|papers? · \*", md), "no empty field list"
    for sentence in re.findall(r"Leading it, .*?(?=  |\n| Also here| 1 of| \d+ of)", md):
        assert sentence.rstrip().endswith((".", "…", "?", "!")), sentence
