"""CI's regression guard: the offline suites on the shipped set against the committed evals/baseline.json.

Re-record the baseline after an intended change with:
    brief eval --suite all --time-split --out evals/baseline.json
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from brief.agents.screener import Screener
from brief.evals.suites import NO_MODEL, SPECS
from tests.integration.eval_helpers import REPO, run_brief

BASELINE = REPO / "evals" / "baseline.json"
LLM_ONLY = {"synthesis.grounding_judge", "cost.tokens_per_accept", "cost.usd_per_accept", "cost.tokens_per_paper", "cost.calls"}


def test_offline_suites_on_the_shipped_set_match_the_baseline(tmp_path, monkeypatch, capsys):
    # a fresh memory dir, as the baseline was recorded: the session's shared cache holds int8 vectors embedded
    # in other tests' batches, which move the figures (the test failed when test_eval_external ran first)
    launched = datetime.now(timezone.utc).replace(microsecond=0)
    code, out, err = run_brief(monkeypatch, capsys, "eval", "--suite", "all", "--time-split", "--json", "-q",
                               "--baseline", BASELINE, "--memory-dir", tmp_path / "memory")
    assert code == 0, err
    run = json.loads(out)["run"]
    began = datetime.fromisoformat(run["started"])
    assert launched <= began <= launched + timedelta(seconds=5), "when it started, not when it ended"
    assert "no regression against" in err
    report = json.loads(out)
    assert report["run"]["backend"] == "offline" and report["run"]["model"] is None
    assert report["run"]["prompts"]["judge_grounding"] and report["run"]["config_hash"]
    assert set(report["results"]) == {"astro", "cs"}
    for name, result in report["results"].items():
        metrics = result["metrics"]
        missing = set(SPECS) - set(metrics)
        assert not missing, f"{name} lacks {sorted(missing)}"
        for metric in LLM_ONLY:
            assert metrics[metric] == NO_MODEL
        for metric in set(SPECS) - LLM_ONLY:
            assert isinstance(metrics[metric], (int, float)), f"{name} {metric} = {metrics[metric]!r}"
        assert any(k.startswith("screening.f1[") for k in metrics), "per-topic figures"
        assert result["details"]["stage1"][-1]["ranker"] != "topic-similarity", "later weeks learn from earlier ones"
        assert result["details"]["stage1"][0]["trained_on"] == 0, "the first week has nothing earlier to learn from"


def test_a_screener_that_accepts_everything_fails_the_baseline(cache_dir, monkeypatch, capsys):
    honest = Screener.screen

    def accept_everything(self, papers, vectors, seed="", progress=lambda n=1: None):
        return [d.model_copy(update={"accepted": True}) for d in honest(self, papers, vectors, seed, progress)]

    monkeypatch.setattr(Screener, "screen", accept_everything)
    code, _out, err = run_brief(monkeypatch, capsys, "eval", "--suite", "screening", "--time-split", "-q",
                                "--baseline", BASELINE, "--memory-dir", cache_dir)
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("regression")]
    assert len(lines) == 1, err
    # on astro, where offline screening beats chance clearly, accepting everything halves precision; on cs
    # (precision barely above the 10% of positives) the drop may stay within tolerance
    assert "astro screening.precision" in lines[0] and "astro screening.f1" in lines[0]
    regressed = [part.split(":")[0] for part in lines[0].split(": ", 1)[1].split("; ")]
    assert all(" screening." in name for name in regressed), regressed
