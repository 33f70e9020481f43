"""A week screened by the LLM teaches the next week's offline run: its decisions follow the learned ranking.

W22 runs against the scripted server (a consistent judge: robotics papers relevant, everything else not),
so memory holds its decisions. W23 then runs offline twice: into that memory, and into a fresh one. The run
that learned from the judge's decisions must find clearly more of the papers the judge would accept, at no
loss of precision, and say how it decided (when written: F1 0.82 against 0.57 cold, precision 0.86 / 0.75).
"""

from __future__ import annotations

import pytest

from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.handlers import brief_handlers
from tests.integration.screening_weeks import TOPIC, screening_settings, write_weeks
from tests.scripted_llm import ScriptedLLMServer


@pytest.fixture(scope="module")
def runs(shared, tmp_path_factory, cache_dir):
    root = tmp_path_factory.mktemp("offline-after-llm")
    labels = write_weeks(shared, root / "snapshot", ["2026-W22", "2026-W23"])
    source = [f"snapshot:{root / 'snapshot'}"]
    with ScriptedLLMServer(handlers=brief_handlers(labels["2026-W22"], TOPIC)) as srv:
        taught = screening_settings(root / "taught", cache_dir, srv.base_url)
        run_weekly(taught, parse_week("2026-W22"), source)
    cold = screening_settings(root / "cold", cache_dir, "http://127.0.0.1:9/v1")
    after = run_weekly(taught.model_copy(update={"offline": True}), parse_week("2026-W23"), source).state
    before = run_weekly(cold.model_copy(update={"offline": True}), parse_week("2026-W23"), source).state
    briefing = (taught.out_dir / "2026-W23.md").read_text(encoding="utf-8")
    return labels["2026-W23"], before, after, briefing


def _accepted(state) -> list[str]:
    return [pid for pid, d in state.decisions.items() if d.accepted and d.stage == "offline"]


def test_an_llm_week_teaches_the_next_offline_week(runs):
    relevance, before, after, briefing = runs
    assert before.screen_stats.ranker.startswith("offline: topic evidence")
    assert after.screen_stats.ranker == "offline: learned ranking"
    learned, cold = _accepted(after), _accepted(before)
    assert learned and cold
    precision = {name: sum(relevance[p] >= 6 for p in ids) / len(ids) for name, ids in (("learned", learned), ("cold", cold))}
    recall = {name: sum(relevance[p] >= 6 for p in ids) / sum(r >= 6 for r in relevance.values())
              for name, ids in (("learned", learned), ("cold", cold))}
    f1 = {name: 2 * precision[name] * recall[name] / (precision[name] + recall[name]) for name in precision}
    assert f1["learned"] >= f1["cold"] + 0.15, (precision, recall)
    assert precision["learned"] >= precision["cold"] and recall["learned"] >= 0.7, (precision, recall)
    assert all("likely relevant by stage 1's ranking learned from labelled papers" in after.decisions[p].reason for p in learned)
    assert any("earlier LLM decisions" in note and "Its ranking learned from them decided this week's relevance" in note
               for note in after.notes), "the briefing names what it learned from, and that it decided"
    assert not any("decided this week's relevance" in note for note in before.notes)
    assert "papers were screened by a ranking learned from the labels in memory" in briefing
    assert "100% likely" not in briefing, "a calibrated fit says near certain, never certain"
