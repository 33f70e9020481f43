"""Did any text a model wrote, that failed validation, reach a report? (issue 14: "nothing the model wrote that
failed validation appears in the report").

The model's answers come from the usage proxy (tests/usage_proxy.py: every reply's text); the validated ones are
exactly those in the LLM answer cache (only validated answers are cached). A string of an answer that is in the
report's JSON but in no cached answer, and not the papers' own words (a model may copy a title), leaked.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
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


def validated_strings(cache: Path) -> set[str]:
    """Every string of the answers in an LLM answer cache (which holds validated answers only)."""
    if not cache.exists():
        return set()
    with closing(sqlite3.connect(cache)) as db:
        return {s for (value,) in db.execute("SELECT value FROM answers") for s in strings(json.loads(value))}


def unvalidated(replies: list[str], validated: set[str], papers_text: str) -> set[str]:
    """The answer strings no validated answer holds and the papers don't contain: what must not be shown. A line
    of a reply can be part of a validated string (a reason the model wrote over several lines), so a string
    counts as validated when a validated one contains it."""
    papers = " ".join(papers_text.split())
    known = "\n".join(validated)
    return {s for reply in replies for s in answer_strings(reply) if s not in known and s not in papers}


def leaked(report: dict, replies: list[str], validated: set[str], papers_text: str) -> list[str]:
    """The unvalidated answer strings that appear in `report`."""
    shown = "\n".join(strings(report))
    return sorted(s for s in unvalidated(replies, validated, papers_text) if s in shown)


def snapshot_text(directory: Path) -> str:
    """Every string of a daily-JSONL snapshot's papers (the words a model may legitimately copy)."""
    return "\n".join(s for f in sorted(directory.glob("*.jsonl")) for line in f.read_text(encoding="utf-8").splitlines()
                     if line.strip() for s in strings(json.loads(line)))
