"""Scripted answers for brief's own schemas, for tests and benchmarks against tests/scripted_llm.py."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.scripted_llm import ScriptedRequest, labels_screen_handler

CITED = re.compile(r"\[(arXiv:[^\]\s]+)\]")


PAPER_BLOCK = re.compile(r'<paper id="([^"]+)">(.*?)</paper>', re.S)


def each_paper(answer: Callable[[str], dict]) -> Callable[[ScriptedRequest], dict]:
    """A "ReviewBatch" handler from one paper's review: `answer(block)` for each <paper> of the request, with its id."""
    def handle(req: ScriptedRequest) -> dict:
        return {"results": [{"id": pid, **answer(block)} for pid, block in PAPER_BLOCK.findall(req.user)]}
    return handle


def _review(block: str) -> dict:
    title = re.search(r"<title>(.*?)</title>", block, re.S)
    return {
        "reason": "matches the topic (scripted)",
        "confirmed": True,
        "summary": {"tldr": f"Scripted summary of {title.group(1) if title else 'the paper'}.",
                    "problem": "p", "method": "m", "results": "r", "limitations": "not stated"},
    }


review_handler = each_paper(_review)


def theme_handler(req: ScriptedRequest) -> dict:
    keys = list(dict.fromkeys(CITED.findall(req.user.split("Earlier papers from memory")[0])))
    text = " ".join(f"Work [{k}] advances the theme." for k in keys[:4]) or "No papers."
    return {"name": "Scripted theme", "text": text}


def overview_handler(req: ScriptedRequest) -> dict:
    keys = list(dict.fromkeys(CITED.findall(req.user)))
    return {"text": f"This week: {len(keys)} cited papers" + (f", led by [{keys[0]}]." if keys else ".")}


EARLIER_PAPER = re.compile(r'<paper id="([^"]+)">\s*<title>(.*?)</title>', re.S)


def link_check_handler(unrelated: str = "") -> Callable[[ScriptedRequest], dict]:
    """A link check that calls each earlier paper the same problem, unless its title contains `unrelated`
    (then "same area only")."""
    def handle(req: ScriptedRequest) -> dict:
        earlier = EARLIER_PAPER.findall(req.user.split("Earlier papers", 1)[-1])
        return {"results": [{"id": pid, "reason": "scripted: both on the same task",
                             "tie": "same area only" if unrelated and unrelated in title else "same problem"}
                            for pid, title in earlier]}
    return handle


def brief_handlers(labels: dict[str, int], topic: str, default: int = 2) -> dict:
    return {
        "ScreenBatch": labels_screen_handler(labels, default=default, topic=topic),
        "ReviewBatch": review_handler,
        "ThemeDraft": theme_handler,
        "Overview": overview_handler,
        "LinkCheck": link_check_handler(),
    }


# -- the themed review (`brief review`) ------------------------------------------------------------------

THEME_LINE = re.compile(r"(?m)^(?:Review theme|Theme): (.+)$")


def plan_handler(req: ScriptedRequest) -> dict:
    """A ReviewPlan that repeats the theme among its queries (the planner must de-duplicate it)."""
    found = THEME_LINE.search(req.user)
    theme = found.group(1).strip() if found else "the theme"
    return {"description": f"Papers about {theme}.", "relevant": "methods, benchmarks and datasets for it",
            "not_relevant": "papers that only mention it", "queries": [theme, f"{theme} benchmark", f"  {theme.upper()} ",
                                                                      "learned policies for it"],
            "keywords": ["manipulation", " ", "grasping"]}


def findings_handler(req: ScriptedRequest) -> dict:
    """Agreements and contradictions citing the first papers listed; an open question citing one."""
    keys = list(dict.fromkeys(CITED.findall(req.user)))
    if len(keys) < 2:
        return {"agreements": [], "contradictions": [], "open_questions": []}
    return {"agreements": [f"[{keys[0]}] and [{keys[1]}] both find that more data helps."],
            "contradictions": [f"[{keys[0]}] reports gains that [{keys[-1]}] does not reproduce."],
            "open_questions": [f"How far the results transfer beyond the benchmarks of [{keys[1]}]."]}


def review_handlers(labels: dict[str, int], theme: str, default: int = 2) -> dict:
    """Every schema a `brief review` run asks for: the weekly agents' (screening against the theme as its
    only topic) plus the planner's and the review writer's."""
    return {**brief_handlers(labels, theme, default), "ReviewPlan": plan_handler, "ReviewFindings": findings_handler}
