"""[report] language: with a model, the review and synthesis prompts ask for that language (and cache apart);
offline, the text stays the abstracts' own and the briefing says so."""

from __future__ import annotations

import json

from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.handlers import brief_handlers
from tests.integration.test_weekly_llm import TOPIC, llm_settings, week_labels  # noqa: F401 (fixture)
from tests.scripted_llm import ScriptedLLMServer


def with_language(settings, language: str):
    return settings.model_copy(update={"report": settings.report.model_copy(update={"language": language})})


def test_language_reaches_review_and_synthesis_prompts(settings, week_labels):  # noqa: F811
    with ScriptedLLMServer(handlers=brief_handlers(week_labels, TOPIC)) as srv:
        s = with_language(llm_settings(settings, srv.base_url), "German")
        run_weekly(s, parse_week("2026-W24"), ["sample"])
        by_schema: dict[str, list] = {}
        for r in srv.requests:
            by_schema.setdefault(r.schema_name, []).append(r)
        asked = {name for name, reqs in by_schema.items() if all("in German" in r.system for r in reqs)}
        assert "ReviewBatch" in asked, sorted(by_schema)
        assert {"ThemeDraft", "Overview"} & asked, sorted(by_schema)
        assert not any("in German" in r.system for r in by_schema.get("ScreenBatch", [])), "screening is not prose"
        calls = srv.calls
        run_weekly(with_language(s, "French").model_copy(update={"out_dir": s.out_dir / "fr"}),
                   parse_week("2026-W24"), ["sample"], restart=True)
        french = [r for r in srv.requests[calls:] if "in French" in r.system]
        assert french, "another language is not served from the German answers in the cache"


def test_offline_briefing_says_the_language_applies_to_a_model(settings):
    s = with_language(settings, "German")
    run_weekly(s, parse_week("2026-W24"), ["sample"])
    notes = json.loads((s.out_dir / "2026-W24.json").read_text())["notes"]
    assert any("language = 'German' applies to what a model writes" in n for n in notes)
