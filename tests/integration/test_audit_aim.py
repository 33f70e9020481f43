"""Stage 1's cut aims higher when earlier weeks' audits found accepts below earlier cuts.

The history stage 1 learns from holds labels only for the papers earlier cuts sent, so the accepts those cuts
missed are absent from it; the audits (papers drawn below each cut, marked in memory with their chance of
being drawn) estimate how many. Here W22 is screened with a large audit that finds accepts below its cold-start
cut; W23's cut is then set for 0.95 / (the upper end of W22's audited recall) of the history's labelled accepts, and
says so.
"""

from __future__ import annotations

import pytest

from brief.agents.recall_history import pooled_recall
from brief.agents.screen_note import screen_note
from brief.app.runner import run_weekly
from brief.memory import open_embedder, open_memory
from brief.memory.labels import audit_weeks
from brief.sources.window import parse_week
from tests.handlers import brief_handlers
from tests.integration.screening_weeks import TOPIC, screening_settings, write_weeks
from tests.scripted_llm import ScriptedLLMServer


@pytest.fixture(scope="module")
def weeks(shared, tmp_path_factory, cache_dir):
    root = tmp_path_factory.mktemp("aim")
    labels = write_weeks(shared, root / "snapshot", ["2026-W22", "2026-W23"])
    everything = {pid: rel for week in labels.values() for pid, rel in week.items()}
    source = [f"snapshot:{root / 'snapshot'}"]
    with ScriptedLLMServer(handlers=brief_handlers(everything, TOPIC)) as srv:
        audited = screening_settings(root / "run", cache_dir, srv.base_url, audit_sample=120, extend_rounds=0)
        w22 = run_weekly(audited, parse_week("2026-W22"), source).state
        settings = screening_settings(root / "run", cache_dir, srv.base_url)
        w23 = run_weekly(settings, parse_week("2026-W23"), source).state
    memory = open_memory(settings, open_embedder(settings).name)
    return w22.screen_stats, w23.screen_stats, audit_weeks(memory, "2026-W23")


def test_the_cut_aims_higher_by_what_earlier_audits_found_below_earlier_cuts(weeks):
    w22, w23, earlier = weeks
    assert w22.audit_positives > 0, "the large audit of W22 found accepts below its cut"
    _, interval = pooled_recall(earlier)
    assert interval is not None and interval[1] < 0.95, "the audit shows for sure that W22's cut missed accepts"
    aim = min(1.0, 0.95 / interval[1])
    assert w23.ranker.startswith("learned")
    assert f"aimed at {aim:.3f} of its labelled accepts" in w23.cut_by and w23.recall_aim == pytest.approx(aim)
    assert f"so its cut aimed at {aim:.1%} of the accepts it has labels for" in screen_note(w23), "the briefing says so"
    assert w23.history_recall is not None and w23.history_recall > 0.95
    # the cut holds the raised aim on the history, unless max_share held it back (which the briefing then says)
    assert w23.history_recall >= aim - 1e-9 or (w23.wanted_share is not None and w23.wanted_share > 0.6)
