"""Two-stage screening on real 300-paper weeks against the scripted server (issue 10, must-show 2 and 5).

Week W22 runs first (cold start: stage 1 is topic similarity) and fills memory with the LLM's decisions;
week W23 is then screened with stage 1 learned from them, and compared with `--no-prefilter` (every
paper to the LLM, fresh memory): far fewer tokens, nearly the same accepted set. A second run of W23
makes no LLM call and accepts the same papers.
"""

from __future__ import annotations

import json

import pytest

from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.handlers import brief_handlers
from tests.integration.screening_weeks import TOPIC, llm_accepted, screen_tokens, screening_settings, write_weeks
from tests.scripted_llm import ScriptedLLMServer

WEEKS = ["2026-W22", "2026-W23"]


@pytest.fixture(scope="module")
def runs(shared, tmp_path_factory, cache_dir):
    root = tmp_path_factory.mktemp("screening")
    labels = write_weeks(shared, root / "snapshot", WEEKS)
    everything = {pid: rel for week in labels.values() for pid, rel in week.items()}
    source = [f"snapshot:{root / 'snapshot'}"]
    out = {"labels": labels, "root": root}
    with ScriptedLLMServer(handlers=brief_handlers(everything, TOPIC)) as srv:
        learned = screening_settings(root / "learned", cache_dir, srv.base_url)
        out["w22"] = run_weekly(learned, parse_week("2026-W22"), source).state
        out["w23"] = run_weekly(learned, parse_week("2026-W23"), source).state
        out["report"] = json.loads((learned.out_dir / "2026-W23.json").read_text())
        calls = srv.calls
        out["again"] = run_weekly(learned, parse_week("2026-W23"), source).state
        out["rerun_calls"] = srv.calls - calls
        everyone = screening_settings(root / "all", cache_dir, srv.base_url, prefilter=False)
        out["all"] = run_weekly(everyone, parse_week("2026-W23"), source).state
    return out


def test_stage_1_learns_and_sends_a_third_of_the_tokens_for_95_percent_recall(runs):
    w23, everything = runs["w23"], runs["all"]
    assert len(w23.papers) == len(everything.papers) == 300
    stats = w23.screen_stats
    assert stats.ranker.startswith("learned") and stats.trained_on >= runs["w22"].screen_stats.sent, \
        "W22's decisions taught stage 1"
    assert runs["w22"].screen_stats.ranker == "topic-similarity", "the first week is a cold start"
    assert everything.screen_stats.prefilter is False and everything.screen_stats.sent == 300 - everything.screen_stats.authors
    spent, spent_all = screen_tokens(w23), screen_tokens(everything)
    assert 0 < spent <= spent_all / 3, f"screening tokens {spent} vs {spent_all} with --no-prefilter"
    wanted = llm_accepted(everything)
    assert wanted == {pid for pid, rel in runs["labels"]["2026-W23"].items() if rel >= 6} - {
        pid for pid, d in everything.decisions.items() if d.stage == "author"}
    missed = sorted(wanted - llm_accepted(w23) - {pid for pid, d in w23.decisions.items() if d.stage == "author"})
    recall = 1 - len(missed) / len(wanted)
    assert recall >= 0.95, f"stage 1 missed {missed}"
    assert stats.recall_estimate is not None and stats.recall_ci is not None


def test_the_briefing_reports_the_cut_and_the_audit(runs):
    report, stats = runs["report"], runs["w23"].screen_stats
    assert report["screening"]["sent"] == stats.sent and report["screening"]["audit_n"] == stats.audit_n
    assert any(note.startswith("Screening: stage 1 (learned") for note in report["notes"])
    cut = [r for r in report["rejected"] if r["stage"] == "prefilter"]
    assert cut and all(r["reason"].startswith(("below stage-1 cut", "[audit sample]", "excluded")) for r in cut)
    assert report["counts"]["sent_to_llm"] == stats.sent
    assert set(report["usage"]["stages"]) >= {"screen", "review"}


def test_a_second_run_of_the_week_calls_nothing_and_accepts_the_same(runs):
    again, first = runs["again"], runs["w23"]
    assert runs["rerun_calls"] == 0
    assert again.usage.total.calls == 0 and again.usage.total.cached_calls > 0
    assert [p.id for p in again.accepted] == [p.id for p in first.accepted]
    assert again.screen_stats.sent == first.screen_stats.sent and again.screen_stats.cut_at == first.screen_stats.cut_at


def test_the_audits_of_the_weeks_pool_into_one_recall_with_a_narrower_interval(runs, cache_dir):
    """Each audit paper is marked in memory with its inclusion probability; W23's recall draws on W22's audit too."""
    from brief.memory import open_embedder, open_memory
    from brief.memory.labels import audit_weeks

    w22, w23 = runs["w22"].screen_stats, runs["w23"].screen_stats
    assert w22.recall_weeks == 1 and w23.recall_weeks == 2
    assert w23.audit_pooled_n == w22.audit_n + w23.audit_n > 0
    lo, hi = w23.recall_pooled_ci
    assert lo <= w23.recall_pooled <= hi and hi - lo < w23.recall_ci[1] - w23.recall_ci[0], "two audits say more than one"
    assert any("Over the last 2 weeks' audits" in note for note in runs["report"]["notes"])
    settings = screening_settings(runs["root"] / "learned", cache_dir, "http://127.0.0.1:9/v1")
    memory = open_memory(settings, open_embedder(settings).name)
    held = {row.week: row for row in audit_weeks(memory, "2026-W24")}
    assert set(held) == {"2026-W22", "2026-W23"}
    for week, stats in (("2026-W22", w22), ("2026-W23", w23)):
        assert held[week].audited == stats.audit_n and held[week].inclusion == pytest.approx(stats.audit_n / stats.below_cut, abs=1e-6)
        assert held[week].audit_found == stats.audit_positives
        assert held[week].found_above == stats.positives_above > 0, "the scripted reviewer confirms every accept"
