"""Answers shaped like real models' (issue 14, must-show 3): the scripted server's sloppy mode writes topic
names in other casing and spacing, ids `arXiv:`-prefixed, versioned, padded or as URLs, cuts some answers
short and leaves `usage` out of others. The weekly graph accepts exactly the papers it accepts from the
clean server, and no answer is left unmatched."""

from __future__ import annotations

import json
from collections import Counter

from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.handlers import brief_handlers
from tests.integration.screening_weeks import llm_accepted
from tests.integration.test_weekly_llm import llm_settings, week_labels  # noqa: F401 (a fixture)
from tests.scripted_answers import Sloppy
from tests.scripted_llm import ScriptedLLMServer

SLOPPY = Sloppy(truncate_every=5, no_usage_every=4)


def run(settings, tmp_path, name: str, labels: dict[str, int], sloppy: Sloppy | None):
    root = tmp_path / name
    s = settings.model_copy(update={"out_dir": root / "briefings", "memory": settings.memory.model_copy(
        update={"dir": root / "memory", "cache_dir": root / "cache"})})
    # the topic of each verdict is the prompt's first topic, as the prompt writes it
    handlers = {**brief_handlers(labels, "unused"), "ScreenBatch": brief_handlers(labels, None)["ScreenBatch"]}
    with ScriptedLLMServer(handlers=handlers, sloppy=sloppy or False) as srv:
        state = run_weekly(llm_settings(s, srv.base_url), parse_week("2026-W24"), ["sample"]).state
        answers = [r for r in srv.requests if r.schema_name == "ScreenBatch"]
    return state, answers


def test_sloppy_answers_accept_what_clean_answers_accept(settings, tmp_path, week_labels):  # noqa: F811 (a fixture)
    clean, _ = run(settings, tmp_path, "clean", week_labels, None)
    sloppy, asked = run(settings, tmp_path, "sloppy", week_labels, SLOPPY)

    assert llm_accepted(clean) and llm_accepted(sloppy) == llm_accepted(clean)
    assert [p.id for p in sloppy.accepted] == [p.id for p in clean.accepted]
    assert {d.topic for d in sloppy.decisions.values() if d.accepted and d.stage == "llm"} == {"Robot manipulation learning"}
    for state in (clean, sloppy):
        assert state.screen_stats.unscreened == 0 and state.screen_stats.hallucinated_ids == 0
        assert state.screen_stats.unmatched_topics == 0
    # the server really was sloppy: what it answered differs from the ids and topic it was asked about
    sent = [json.loads(SLOPPY.answer(r, json.dumps(brief_handlers(week_labels, None)["ScreenBatch"](r))))
            for r in asked[:3]]
    forms = {v["id"] for a in sent for v in a["results"]} | {v["topic"] for a in sent for v in a["results"]}
    assert any(f.startswith(("arXiv:", "ARXIV:", "https://")) or f.endswith(("v2", " ")) for f in forms)
    assert any(f == f.upper() and f.strip() for f in forms), "a topic in capitals"
    repeats = Counter(tuple(r.paper_ids) for r in asked)
    assert max(repeats.values()) == 2, "a truncated answer was asked again, once"
