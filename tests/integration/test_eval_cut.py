"""Stage 1's learned cut on an unbiased history (issue 15): every January paper gpt-4.1 scored for cgarling's
astro-ph criteria teaches stage 1, and February is cut with what it learned, through `brief eval`."""

from __future__ import annotations

import json

from tests.integration.eval_helpers import run_brief


def test_an_unbiased_history_cuts_near_the_best_cut_of_the_same_ranking(shared, cache_dir, monkeypatch, capsys):
    days = shared / "screening" / "cgarling_astro-ph" / "daily_output_json"
    code, out, err = run_brief(monkeypatch, capsys, "eval", "--suite", "prefilter",
                               "--dataset", days / "2026-02-*", "--history", days / "2026-01-*",
                               "--criteria", days.parent / "configs_and_prompts" / "paper_topics.txt",
                               "--positive-threshold", "7", "--json", "-q", "--memory-dir", cache_dir)
    assert code == 0, err
    metrics = json.loads(out)["results"]["daily_output_json"]["metrics"]
    assert metrics["prefilter.recall_sent"] >= 0.95
    # the audit's 12 papers a week count too: the cut itself must come within a few papers of the best
    assert metrics["prefilter.share_sent"] <= 1.1 * metrics["prefilter.share_best@95"], metrics
