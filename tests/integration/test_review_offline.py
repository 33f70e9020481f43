"""`brief review` offline over a memory imported from the bundled sample (2026-W23 and W24)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from brief.graphs.review_state import ReviewRequest, slug
from brief.app.runner import run_review
from tests.integration.cli_helpers import brief, brief_env, write_config
from tests.integration.review_helpers import check_written_review, memory_snapshot, seeded_settings

THEME = "robot manipulation learning"


@pytest.fixture(scope="module")
def sample_settings(tmp_path_factory, cache_dir):
    return seeded_settings(tmp_path_factory.mktemp("review"), cache_dir)


def test_slug_names_the_files():
    assert slug("KV cache compression") == "kv-cache-compression"
    assert re.fullmatch(r"diffusion-models-for-robot-manipulation-[0-9a-f]{8}", slug("Diffusion models: for robot manipulation?!"))
    assert re.fullmatch(r"uber-groe-modelle-[0-9a-f]{8}", slug("Über-große Modelle"))
    assert re.fullmatch(r"theme-[0-9a-f]{8}", slug("∑∫"))
    assert len(slug("word " * 40)) <= 60 and not slug("word " * 40).endswith("-")
    assert slug("word " * 40) != slug("word " * 41), "a theme cut for length keeps what tells it apart"
    assert slug("机器人操作") != slug("扩散模型") and slug("Über-große Modelle") != slug("Uber-grose Modelle")


def test_themes_in_other_scripts_write_their_own_files(sample_settings):
    """Issue 18, finding 8: `brief review "机器人操作"` then `"扩散模型"` keep two sets of files."""
    first = run_review(sample_settings, ReviewRequest(theme="机器人操作", max_papers=3))
    second = run_review(sample_settings, ReviewRequest(theme="扩散模型", max_papers=3))
    assert first.outputs and second.outputs and not set(first.outputs) & set(second.outputs)
    assert all(Path(p).exists() for p in first.outputs + second.outputs), "the second review replaced none of the first"
    themes = {json.loads(Path(p).read_text())["theme"] for p in first.outputs + second.outputs if p.endswith(".json")}
    assert themes == {"机器人操作", "扩散模型"}


def test_offline_review_reads_memory_across_weeks(sample_settings):
    before = memory_snapshot(sample_settings)
    result = run_review(sample_settings, ReviewRequest(theme=THEME, max_papers=12))
    report = check_written_review(result.outputs, "robot-manipulation-learning")
    state = result.state

    assert report["mode"] == "offline: no LLM" and report["plan"]["source"] == "offline"
    assert 5 <= len(report["accepted"]) <= 12
    assert all(p["origin"] == "memory" and p["first_seen"] in ("2026-W23", "2026-W24") for p in report["accepted"])
    assert [w["week"] for w in report["timeline"]["weeks"]] == ["2026-W23", "2026-W24"]
    assert sum(w["count"] for w in report["timeline"]["weeks"]) == len(report["accepted"])
    sims = [p["similarity"] for p in report["accepted"]]
    assert min(sims) >= sample_settings.screening.similarity_threshold - 0.1, "screened against the theme"
    assert len(state.papers) <= 60 and report["counts"]["memory"] >= len(state.papers)
    assert all(len(c["papers"]) == 2 for c in report["findings"]["agreements"])
    rest = [t["name"] for t in report["themes"] if t["name"].lower().endswith("assorted")]
    assert len(rest) <= 1 and all(t["paper_ids"] for t in report["themes"]), f"one list of the theme's other papers: {rest}"
    md = (sample_settings.out_dir / "review-robot-manipulation-learning.md").read_text(encoding="utf-8")
    assert "## Common ground" in md and "candidate contradictions" in md, "offline findings say what they are"
    assert memory_snapshot(sample_settings) == before, "a review only reads memory"

    again = run_review(sample_settings, ReviewRequest(theme=THEME, max_papers=12))
    assert again.state.usage.embedded == 0, "a rerun embeds nothing"
    assert [p.id for p in again.state.accepted] == [p.id for p in state.accepted]


def test_since_until_keep_the_weeks_between(sample_settings):
    result = run_review(sample_settings, ReviewRequest(theme=THEME, since=date(2026, 6, 8), until=date(2026, 6, 14)))
    report = json.loads((sample_settings.out_dir / "review-robot-manipulation-learning.json").read_text())
    assert result.state.accepted and {p["first_seen"] for p in report["accepted"]} == {"2026-W24"}
    assert [w["week"] for w in report["timeline"]["weeks"]] == ["2026-W24"]
    assert report["since"] == "2026-06-08" and report["until"] == "2026-06-14"


def test_a_composite_theme_needs_both_parts_offline(sample_settings):
    from brief.memory import open_embedder

    result = run_review(sample_settings, ReviewRequest(theme="diffusion policies for robot manipulation", max_papers=10))
    state = result.state
    assert state.plan.facets == ["diffusion policies", "robot manipulation"]
    assert any("papers close to only one part were left out" in n for n in state.notes)
    embedder = open_embedder(sample_settings)
    facets = embedder.embed(state.plan.facets)
    kept = embedder.embed([p.text_for_embedding() for p in state.accepted]) @ facets.T
    assert state.accepted and (kept >= 0.2 - 1e-6).all(), "every kept paper is about both parts"
    dropped = [d for d in state.decisions.values() if "far from “" in d.reason]
    assert dropped and not any(d.accepted for d in dropped)


def test_cli_review_json_and_user_errors(sample_settings, tmp_path, cache_dir):
    config = write_config(tmp_path / "brief.toml", cache_dir)
    memory_dir = sample_settings.memory.dir
    done = brief("review", THEME, "--config", config, "--memory-dir", memory_dir, "--out", tmp_path / "out",
                 "--offline", "--json", "--max-papers", "8")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["slug"] == "robot-manipulation-learning" and 1 <= summary["accepted"] <= 8
    assert summary["first_seen_weeks"] and set(summary["first_seen_weeks"]) <= {"2026-W23", "2026-W24"}
    assert all((tmp_path / "out" / f"review-robot-manipulation-learning.{ext}").exists() for ext in ("md", "html", "json", "bib"))

    nothing = brief("review", "zqxj plorbic frambulation", "--config", config, "--memory-dir", memory_dir, "--out",
                    tmp_path / "out", "--offline", "-q")
    assert nothing.returncode == 0 and "review “zqxj plorbic frambulation”: 0 papers" in nothing.stdout, nothing.stderr
    assert "is on it: try a broader wording, or --fresh to search arXiv too" in nothing.stdout, "an empty review says why"

    for args, message in (
        (["review", "   ", "--memory-dir", memory_dir], "review needs a theme"),
        (["review", THEME, "--since", "2026-02-30", "--memory-dir", memory_dir], "--since '2026-02-30': use a date"),
        (["review", THEME, "--since", "2026-06-10", "--until", "2026-06-01", "--memory-dir", memory_dir], "is before --since"),
        (["review", THEME, "--memory-dir", tmp_path / "empty"], "no memory at"),
    ):
        failed = brief(*args, "--config", config, "--offline", "-q")
        assert failed.returncode == 2, (args, failed.stderr)
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], lines


def test_a_killed_review_resumes_to_the_same_report(sample_settings, tmp_path, cache_dir):
    config = write_config(tmp_path / "brief.toml", cache_dir)
    args = ["review", THEME, "--config", config, "--memory-dir", sample_settings.memory.dir, "--out", tmp_path / "out",
            "--offline", "--json", "--max-papers", "8"]
    killed = brief(*args, env=brief_env(BRIEF_TEST_KILL_AFTER="screen"))
    assert killed.returncode == -9, killed.stderr
    resumed = brief(*args)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert any(n.startswith("resumed an interrupted review: review") for n in summary["notes"]), summary["notes"]
    uninterrupted = run_review(sample_settings.model_copy(update={"out_dir": tmp_path / "again"}),
                               ReviewRequest(theme=THEME, max_papers=8))
    assert [p["id"] for p in summary["top"]] == [p.id for p in uninterrupted.state.accepted[:10]]
