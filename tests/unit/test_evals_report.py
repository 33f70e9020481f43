"""Baseline checks: which changes count as regressions, and which comparisons are refused."""

import pytest

from brief.config import ConfigError
from brief.evals.report import compare
from brief.evals.runner import DatasetResult, EvalReport, RunInfo, parse_suites
from brief.evals.suites import NO_MODEL


def report(metrics: dict, fingerprint: str = "abc", time_split: bool = False, embedder: str = "e") -> EvalReport:
    info = RunInfo(started="t", suites=["prefilter"], backend="offline", model=None, embedder=embedder, prompts={},
                   config_hash="h", git_commit=None, git_dirty=None, time_split=time_split, history=None,
                   positive_threshold=None)
    return EvalReport(run=info, results={"set": DatasetResult(dataset={"fingerprint": fingerprint}, metrics=metrics)})


BASE = {"prefilter.auc": 0.80, "prefilter.share_sent": 0.40, "screening.precision": 0.50,
        "cost.tokens_per_accept": 1000.0, "screening.accepted": 30, "screening.f1[Topic]": 0.9,
        "synthesis.grounding_judge": 0.9}


def test_a_drop_beyond_tolerance_is_a_regression_in_the_bad_direction_only():
    now = dict(BASE, **{"prefilter.auc": 0.75, "prefilter.share_sent": 0.39, "screening.precision": 0.49})
    regressions, warnings = compare(report(now), report(BASE), tolerance=0.02)
    assert [r.metric for r in regressions] == ["prefilter.auc"]
    assert "0.8 → 0.75" in regressions[0].line() and warnings == []
    worse_share = dict(BASE, **{"prefilter.share_sent": 0.45})
    assert [r.metric for r in compare(report(worse_share), report(BASE), 0.02)[0]] == ["prefilter.share_sent"]


def test_amounts_use_a_relative_tolerance_and_counts_or_topics_do_not_gate():
    now = dict(BASE, **{"cost.tokens_per_accept": 1015.0, "screening.accepted": 90, "screening.f1[Topic]": 0.1})
    assert compare(report(now), report(BASE), 0.02)[0] == []
    now["cost.tokens_per_accept"] = 1100.0
    assert [r.metric for r in compare(report(now), report(BASE), 0.02)[0]] == ["cost.tokens_per_accept"]


def test_skipped_metrics_are_not_compared_but_undefined_ones_regress():
    now = dict(BASE, **{"synthesis.grounding_judge": NO_MODEL, "screening.precision": None})
    regressions, _ = compare(report(now), report(BASE), 0.02)
    assert [r.metric for r in regressions] == ["screening.precision"]


def test_a_different_set_or_mode_is_refused_and_a_different_embedder_warned():
    with pytest.raises(ConfigError, match="fingerprint"):
        compare(report(BASE, fingerprint="other"), report(BASE), 0.02)
    with pytest.raises(ConfigError, match="time-split"):
        compare(report(BASE, time_split=True), report(BASE), 0.02)
    _, warnings = compare(report(BASE, embedder="new"), report(BASE), 0.02)
    assert warnings == ["baseline embedder was 'e', this run's is 'new'"]


def test_suites_parse():
    assert parse_suites(None) == ["prefilter", "screening", "reviewer", "synthesis", "cost"]
    assert parse_suites(["cost,prefilter"]) == ["prefilter", "cost"]
    with pytest.raises(ConfigError, match="unknown suite 'speed'"):
        parse_suites(["speed"])
