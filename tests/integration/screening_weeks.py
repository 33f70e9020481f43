"""Real weeks for the screening tests: 300 papers per ISO week from ../shared's arXiv corpus, with labels.

The labels play the LLM: relevance 8 for a paper whose title or abstract uses a robotics term (a fixed
regular expression), 2 otherwise, so the scripted server answers like a consistent judge and the "all-LLM
accepted set" is known. The rule is stricter than stage 1 needs to be: a single passing "manipulated" or
"embodied" in an unrelated abstract counts, and such papers are the ones stage 1 tends to miss.
Deterministic: the 300 are the week's papers with the smallest id hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from brief.config import Settings
from brief.config_file import load_settings

CORPUS = "corpus/eclipse0922_en_csLG-csCV-csAI-csRO"
TOPIC = "Robot manipulation learning"
ROBOTS = re.compile(r"\b(robot\w*|manipulat\w*|grasp\w*|locomot\w*|quadruped\w*|humanoid\w*|embodied|legged|dexterous|"
                    r"vision-language-action|VLA)\b", re.IGNORECASE)


def about_robots(record: dict) -> bool:
    return bool(ROBOTS.search(f"{record['title']} {record.get('summary') or ''}"))


def write_weeks(shared: Path, out: Path, weeks: list[str], n: int = 300) -> dict[str, dict[str, int]]:
    """Write a daily-JSONL snapshot holding `n` papers of each ISO week; return {week: {id: relevance}}.

    A paper repeated on a later day (the corpus overlaps) is kept on its first day only, and a week never
    holds a paper an earlier week had, so each week's papers are new to memory.
    """
    by_week: dict[str, dict[str, tuple[str, dict]]] = {}
    for path in sorted((shared / CORPUS).glob("*.jsonl")):
        day = date.fromisoformat(path.name[:10])
        week = f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}"
        for line in path.open(encoding="utf-8"):
            rec = json.loads(line)
            by_week.setdefault(week, {}).setdefault(rec["id"], (path.name, rec))
    out.mkdir(parents=True, exist_ok=True)
    labels: dict[str, dict[str, int]] = {}
    taken: set[str] = set()
    for week in weeks:
        pool = {pid: v for pid, v in by_week[week].items() if pid not in taken}
        chosen = sorted(pool, key=lambda pid: hashlib.sha1(pid.encode()).hexdigest())[:n]
        taken |= set(chosen)
        files: dict[str, list[str]] = {}
        for pid in chosen:
            name, rec = pool[pid]
            files.setdefault(name, []).append(json.dumps(rec))
        for name, lines in files.items():
            (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        labels[week] = {pid: 8 if about_robots(pool[pid][1]) else 2 for pid in chosen}
    return labels


def screening_settings(root: Path, cache_dir: Path, base_url: str, **screening) -> Settings:
    """The demo config against a scripted server, with its memory in `root` and no weekly cap on accepts."""
    base = load_settings(None, env={})
    llm = base.llm.model_copy(update={"base_url": base_url, "api_key": SecretStr("test-key"), "model": "scripted",
                                      "max_retries": 0, "timeout_seconds": 20})
    cfg = base.screening.model_copy(update={"max_accepted": 300, **screening})
    return base.model_copy(update={
        "llm": llm, "screening": cfg, "out_dir": root / "briefings",
        "memory": base.memory.model_copy(update={"dir": root / "memory", "cache_dir": cache_dir}),
    })


def screen_tokens(state) -> int:
    stage = state.usage.stages.get("screen")
    return (stage.input_tokens + stage.output_tokens) if stage else 0


def llm_accepted(state) -> set[str]:
    """Papers the LLM screener accepted (before the reviewer's second look)."""
    return {pid for pid, d in state.decisions.items() if d.stage == "llm" and d.accepted}
