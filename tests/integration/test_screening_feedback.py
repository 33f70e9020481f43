"""`brief feedback ID good|bad` after a weekly run: the strongest label stage 1 learns from."""

from __future__ import annotations

import pytest

from brief.cli import UserError, app
from brief.memory import open_embedder, open_memory
from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.integration.screening_weeks import screening_settings


def write_toml(settings, path):
    path.write_text(
        "[criteria]\n" + "\n".join(
            f'[[criteria.topics]]\nname = "{t.name}"\ndescription = "{t.description}"' for t in settings.criteria.topics)
        + f'\n[memory]\ndir = "{settings.memory.dir}"\ncache_dir = "{settings.memory.cache_dir}"\n', encoding="utf-8")
    return path


def test_feedback_labels_a_remembered_paper(tmp_path, cache_dir):
    settings = screening_settings(tmp_path, cache_dir, "http://127.0.0.1:9/v1").model_copy(update={"offline": True})
    state = run_weekly(settings, parse_week("2026-W24"), ["sample"]).state
    rejected = next(pid for pid, d in state.decisions.items() if not d.accepted)
    accepted = state.accepted[0].id
    config = write_toml(settings, tmp_path / "brief.toml")
    app(["feedback", f"arXiv:{rejected}v2", "good", "--config", str(config)], standalone_mode=False)
    app(["feedback", accepted, "BAD", "--config", str(config)], standalone_mode=False)
    with pytest.raises(UserError, match="not in memory"):
        app(["feedback", "2101.00001", "good", "--config", str(config)], standalone_mode=False)
    with pytest.raises(UserError, match="use good or bad"):
        app(["feedback", accepted, "meh", "--config", str(config)], standalone_mode=False)
    memory = open_memory(settings, open_embedder(settings).name)
    ids, _, labels, weights, _ = memory.labelled_history(feedback_weight=settings.screening.feedback_weight)
    at = {pid: (int(label), float(w)) for pid, label, w in zip(ids, labels, weights)}
    assert at[rejected] == (1, 5.0) and at[accepted] == (0, 5.0)
