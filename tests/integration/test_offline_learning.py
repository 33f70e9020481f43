"""Offline, stage 1 learns from `brief feedback`: one week, ten marks, and the next week's decisions move.

Two memories run the sample's W23 then W24 offline; in one the user marks ten W23 papers between the weeks
(five borderline rejects good, five weakest accepts bad). W24's scores must rise for papers like the good
ones and fall for papers like the bad ones, its accepted set must change that way, and the briefing must
name the labels it learned from.
"""

from __future__ import annotations

import json

import numpy as np

from brief.cli import app
from brief.memory import open_embedder
from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.integration.test_screening_feedback import write_toml


def _offline(settings, root):
    return settings.model_copy(update={
        "offline": True, "out_dir": root / "briefings",
        "memory": settings.memory.model_copy(update={"dir": root / "memory"})})


def test_feedback_moves_next_weeks_offline_decisions(tmp_path, settings):
    plain, taught = _offline(settings, tmp_path / "plain"), _offline(settings, tmp_path / "taught")
    w23 = run_weekly(taught, parse_week("2026-W23"), ["sample"]).state
    run_weekly(plain, parse_week("2026-W23"), ["sample"])
    offline = sorted((d for d in w23.decisions.values() if d.stage == "offline"), key=lambda d: d.score)
    good = [d.paper_id for d in offline if not d.accepted][-5:]  # the best-scored rejects
    bad = [d.paper_id for d in offline if d.accepted][:5]  # the weakest accepts
    config = write_toml(taught, tmp_path / "brief.toml")
    for pid, verdict in [(p, "good") for p in good] + [(p, "bad") for p in bad]:
        app(["feedback", pid, verdict, "--config", str(config)], standalone_mode=False)

    before = run_weekly(plain, parse_week("2026-W24"), ["sample"]).state
    after = run_weekly(taught, parse_week("2026-W24"), ["sample"]).state

    embed = open_embedder(settings).embed
    w23_text = {p.id: p.text_for_embedding() for p in w23.papers}
    papers = [p for p in after.papers if p.id in after.decisions and after.decisions[p.id].stage == "offline"]
    vectors = embed([p.text_for_embedding() for p in papers])
    near_good = (vectors @ embed([w23_text[i] for i in good]).T).max(axis=1)
    near_bad = (vectors @ embed([w23_text[i] for i in bad]).T).max(axis=1)
    delta = np.array([after.decisions[p.id].score - before.decisions[p.id].score for p in papers])
    like_good, like_bad = (near_good > 0.6) & (near_good > near_bad), (near_bad > 0.6) & (near_bad > near_good)
    assert like_good.any() and like_bad.any()
    assert delta[like_good].mean() > 0.1 and delta[like_bad].mean() < -0.1
    assert np.abs(delta[(near_good < 0.5) & (near_bad < 0.5)]).max() < 1e-6  # unlike any label: untouched

    accepted_before = {pid for pid, d in before.decisions.items() if d.accepted}
    accepted_after = {pid for pid, d in after.decisions.items() if d.accepted}
    assert accepted_before != accepted_after
    index = {p.id: n for n, p in enumerate(papers)}
    gained, lost = accepted_after - accepted_before, accepted_before - accepted_after

    def lean(ids: set[str]) -> float:
        return float(np.mean([near_good[index[i]] - near_bad[index[i]] for i in ids if i in index]))

    assert lean(gained) > lean(lost)

    briefing = json.loads((tmp_path / "taught" / "briefings" / "2026-W24.json").read_text())
    assert briefing["screening"]["learned_from"] == {"feedback": 10, "imported": 0, "llm": 0}
    assert any("10 from your feedback" in note for note in briefing["notes"])
    plain_briefing = json.loads((tmp_path / "plain" / "briefings" / "2026-W24.json").read_text())
    assert plain_briefing["screening"]["learned_from"]["feedback"] == 0  # offline decisions are not labels
