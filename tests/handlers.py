"""Scripted answers for brief's own schemas, for tests and benchmarks against tests/scripted_llm.py."""

from __future__ import annotations

import re

from tests.scripted_llm import ScriptedRequest, labels_screen_handler

CITED = re.compile(r"\[(arXiv:[^\]\s]+)\]")


def review_handler(req: ScriptedRequest) -> dict:
    title = re.search(r"<title>(.*?)</title>", req.user, re.S)
    return {
        "confirmed": True,
        "reason": "matches the topic (scripted)",
        "summary": {"tldr": f"Scripted summary of {title.group(1) if title else 'the paper'}.",
                    "problem": "p", "method": "m", "results": "r", "limitations": "not stated"},
    }


def theme_handler(req: ScriptedRequest) -> dict:
    keys = list(dict.fromkeys(CITED.findall(req.user.split("Earlier papers from memory")[0])))
    text = " ".join(f"Work [{k}] advances the theme." for k in keys[:4]) or "No papers."
    return {"name": "Scripted theme", "text": text}


def overview_handler(req: ScriptedRequest) -> dict:
    keys = list(dict.fromkeys(CITED.findall(req.user)))
    return {"text": f"This week: {len(keys)} cited papers" + (f", led by [{keys[0]}]." if keys else ".")}


def brief_handlers(labels: dict[str, int], topic: str, default: int = 2) -> dict:
    return {
        "ScreenBatch": labels_screen_handler(labels, default=default, topic=topic),
        "ReviewVerdict": review_handler,
        "ThemeDraft": theme_handler,
        "Overview": overview_handler,
    }
