"""External sets through `brief eval --dataset`: CSV with a column mapping, history, time split, user errors."""

from __future__ import annotations

import csv
import json

import pytest

from tests.integration.eval_helpers import DATA, run_brief, shipped_subset


def test_csv_with_column_mapping_and_one_line_criterion(tmp_path, cache_dir, monkeypatch, capsys):
    _, items = shipped_subset(tmp_path / "x.jsonl", per_week=15)
    table = tmp_path / "review.csv"
    with table.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Document Title", "Abstract", "Year", "abs", "label"])
        for i in items:
            writer.writerow([i.paper.title, i.paper.abstract, 2026, "yes" if i.label else "no", "no"])
    topic = tmp_path / "topic.txt"
    topic.write_text("vision-language models and multimodal large language models\n")
    code, out, err = run_brief(monkeypatch, capsys, "eval", "--suite", "prefilter,screening", "--dataset", table,
                               "--criteria", topic, "--columns", "label=abs", "--json", "-q", "--memory-dir", cache_dir)
    assert code == 0, err
    result = json.loads(out)["results"]["review"]
    assert result["dataset"]["papers"] == len(items) and result["dataset"]["positives"] == sum(i.label for i in items)
    assert result["dataset"]["weeks"] == ["undated"]
    assert any("undated set" in note and "chance cut" in note for note in result["notes"])
    assert set(result["metrics"]) >= {"prefilter.auc", "screening.f1"} and "reviewer.agreement" not in result["metrics"]


def test_history_is_never_trained_on_the_evaluated_papers(tmp_path, cache_dir, monkeypatch, capsys):
    test_set, test_items = shipped_subset(tmp_path / "test.jsonl", name="astro", per_week=25, weeks=1)
    history, history_items = shipped_subset(tmp_path / "history.jsonl", name="astro", per_week=30, weeks=3)
    overlap = {i.paper.id for i in test_items} & {i.paper.id for i in history_items}
    assert overlap, "the history deliberately contains the evaluated week"
    code, out, err = run_brief(monkeypatch, capsys, "eval", "--suite", "prefilter", "--dataset", test_set, "--history", history,
                               "--criteria", DATA / "astro.criteria.toml", "--json", "-q", "--memory-dir", cache_dir)
    assert code == 0, err
    result = json.loads(out)["results"]["test"]
    assert any(f"{len(overlap)} history papers are also in the evaluated set" in n for n in result["notes"])
    stage1 = result["details"]["stage1"]
    assert stage1[0]["trained_on"] == len(history_items) - len(overlap)
    assert stage1[0]["ranker"].startswith("learned")
    assert "prefilter.auc_cold" in result["metrics"]
    # the cut's own figures leave out the audit sample the sent ones include
    metrics, audited = result["metrics"], sum(w["audit"] for w in stage1)
    assert audited > 0
    assert metrics["prefilter.share_sent"] - metrics["prefilter.share_cut"] == pytest.approx(audited / len(test_items), abs=1e-4)
    assert metrics["prefilter.recall_cut"] <= metrics["prefilter.recall_sent"]
    assert 0 < metrics["prefilter.share_best@95"] <= 1


def test_time_split_learns_only_from_earlier_weeks(tmp_path, cache_dir, monkeypatch, capsys):
    path, items = shipped_subset(tmp_path / "weeks.jsonl", name="astro", per_week=30, weeks=3)
    code, out, err = run_brief(monkeypatch, capsys, "eval", "--suite", "prefilter", "--dataset", path, "--time-split",
                               "--criteria", DATA / "astro.criteria.toml", "--json", "-q", "--memory-dir", cache_dir)
    assert code == 0, err
    stage1 = json.loads(out)["results"]["weeks"]["details"]["stage1"]
    sizes = [w["papers"] for w in stage1]
    assert [w["trained_on"] for w in stage1][1:] == [sum(sizes[:1]), sum(sizes[:2])]
    assert stage1[0]["trained_on"] == 0


def test_user_errors_are_one_line_exit_2(tmp_path, cache_dir, monkeypatch, capsys):
    path, _ = shipped_subset(tmp_path / "x.jsonl", per_week=2, weeks=1)
    for args, words in [
        (["--dataset", path], "--criteria"),
        (["--suite", "speed"], "unknown suite"),
        (["--dataset", tmp_path / "none-*.jsonl", "--criteria", DATA / "cs.criteria.toml"], "no dataset files"),
        (["--history", path], "--dataset"),
        (["--baseline", tmp_path / "missing.json"], "not found"),
    ]:
        code, _out, err = run_brief(monkeypatch, capsys, "eval", *args, "-q", "--memory-dir", cache_dir)
        assert code == 2, (args, err)
        assert len(err.strip().splitlines()) == 1 and words in err, (args, err)
