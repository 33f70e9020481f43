"""Did any text a model wrote, that failed validation, reach a report? (issue 14: "nothing the model wrote that
failed validation appears in the report").

The model's answers come from the usage proxy (tests/usage_proxy.py: every reply's text); the validated ones are
exactly those in the LLM answer cache (only validated answers are cached). A string of an answer that is in the
report's JSON but in no cached answer, and not the papers' own words (a model may copy a title), leaked.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from brief.agents.llm_protocol import extract_json

MIN_CHARS = 20  # shorter strings ("none", a topic name, "2026-W24") occur in any report by chance


def strings(value: Any) -> list[str]:
    """Every string leaf of a JSON value, whitespace flattened."""
    if isinstance(value, str):
        return [" ".join(value.split())]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def answer_strings(reply: str) -> list[str]:
    found = []
    for part in reply.split("\n"):
        try:
            found += strings(extract_json(part))
        except ValueError:
            found.append(" ".join(part.split()))  # prose or broken JSON: the text as written
    return [s for s in found if len(s) >= MIN_CHARS]


def leaked(report: dict, replies: list[str], cache: Path, papers_text: str) -> list[str]:
    """The answer strings that appear in `report` although no validated (cached) answer holds them."""
    validated: set[str] = set()
    if cache.exists():
        for (value,) in sqlite3.connect(cache).execute("SELECT value FROM answers"):
            validated.update(strings(json.loads(value)))
    shown = "\n".join(strings(report))
    papers = " ".join(papers_text.split())
    return sorted({s for reply in replies for s in answer_strings(reply)
                   if s in shown and s not in validated and s not in papers})


def snapshot_text(directory: Path) -> str:
    """Every string of a daily-JSONL snapshot's papers (the words a model may legitimately copy)."""
    return "\n".join(s for f in sorted(directory.glob("*.jsonl")) for line in f.read_text(encoding="utf-8").splitlines()
                     if line.strip() for s in strings(json.loads(line)))
