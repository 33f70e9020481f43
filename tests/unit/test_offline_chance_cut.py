"""The week's chance cut (`[screening] offline_fdr`) through the offline screener, and 1 turning it off."""

from __future__ import annotations

import numpy as np
import pytest

from brief.agents.screener import Screener
from brief.config import Criteria, ScreeningConfig, Topic
from brief.models import Paper

DIM = 16
CRITERIA = Criteria(topics=[Topic(name="Dwarf galaxies", description="dwarf galaxies")])
TOPIC = np.eye(DIM, dtype=np.float32)[:1]


def pool() -> tuple[list[Paper], np.ndarray]:
    """400 papers of one field, by their similarity to the topic: a body spread evenly (calibrated scores up
    to ~1.3), 15 papers just above the calibrated threshold (1.55-1.75, fewer than a normal background would
    put there by chance) and one far above the rest: the chance cut keeps that one alone."""
    rng = np.random.default_rng(7)
    cosine = np.concatenate([[0.9], np.linspace(0.434, 0.446, 15), rng.uniform(0.2, 0.4, 384)])
    other = rng.normal(size=(400, DIM))
    other[:, 0] = 0.0
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    vectors = cosine[:, None] * np.eye(DIM)[0] + np.sqrt(1 - cosine[:, None] ** 2) * other
    return [Paper(id=f"2606.{i:05d}", title=f"Paper {i}", abstract="An abstract.") for i in range(400)], vectors


def accepted(offline_fdr: float) -> list[str]:
    papers, vectors = pool()
    cfg = ScreeningConfig(max_accepted=400, offline_fdr=offline_fdr, similarity_threshold=-1.0)
    return [d.paper_id for d in Screener(CRITERIA, cfg, TOPIC, llm=None).run(papers, vectors).decisions if d.accepted]


def test_a_rate_of_one_turns_the_chance_cut_off():
    cut, uncut = accepted(0.3), accepted(1.0)
    assert "2606.00000" in cut and "2606.00000" in uncut
    assert cut == ["2606.00000"], "in a week, the chance cut keeps only what stands out"
    assert len(uncut) == 16, "without it, every paper above the calibrated threshold stays"
    assert set(cut) <= set(uncut)


def test_where_nothing_stands_out_only_papers_naming_a_keyword_stay():
    """No paper of the topic stands out from the week (the standout removed): similarity alone is no
    evidence there, so a topic with keywords keeps the near misses that name one; one without keeps them all."""
    papers, vectors = pool()
    papers, vectors = papers[1:], vectors[1:]  # 15 near misses, none beyond chance
    near = [p.id for p in papers[:15]]
    papers = [p.model_copy(update={"title": "Ultra-faint dwarf spheroidal satellites"}) if p.id in near[:2] else p for p in papers]
    cfg = ScreeningConfig(max_accepted=400, similarity_threshold=-1.0)
    keyworded = Criteria(topics=[Topic(name="Dwarf galaxies", description="dwarf galaxies", keywords=["spheroidal"])])
    result = Screener(keyworded, cfg, TOPIC, llm=None).run(papers, vectors)
    kept = result.decisions
    assert [d.paper_id for d in kept if d.accepted] == near[:2]
    assert result.stats.per_topic[0].chance == 13, "the per-topic table counts the near misses set aside"
    dropped = next(d for d in kept if d.paper_id == near[2])
    assert "stood out from chance" in dropped.reason and "keywords" in dropped.reason
    plain = Screener(CRITERIA, cfg, TOPIC, llm=None).run(papers, vectors).decisions
    assert sorted(d.paper_id for d in plain if d.accepted) == near, "without keywords the calibrated threshold decides"


def test_a_reason_names_only_its_own_topics_keywords():
    """A paper matched to one topic that also names another topic's keyword: that keyword is no reason given."""
    papers, vectors = pool()
    papers[0] = papers[0].model_copy(update={"title": "Ultra-faint dwarf spheroidal satellites with a quasar"})
    two = Criteria(topics=[Topic(name="Dwarf galaxies", description="dwarf galaxies", keywords=["spheroidal"]),
                           Topic(name="Quasars", description="active galactic nuclei", keywords=["quasar"])])
    topics = np.eye(DIM, dtype=np.float32)[:2]
    cfg = ScreeningConfig(max_accepted=400, similarity_threshold=-1.0)
    first = next(d for d in Screener(two, cfg, topics, llm=None).run(papers, vectors).decisions if d.paper_id == "2606.00000")
    assert first.accepted and first.topic == "Dwarf galaxies"
    assert "keywords: spheroidal" in first.reason and "quasar" not in first.reason, first.reason


@pytest.mark.parametrize("setting, says", [
    ({"similarity_threshold": 0.99}, "similarity below the floor 0.99"),
    ({"offline_z": 50.0}, "< 50, [screening] offline_z)"),
])
def test_a_rejection_names_the_rule_and_the_setting_that_decided_it(setting, says):
    """helper-108 saw a paper rejected at a higher calibrated score than one accepted beside it, and no word of
    the similarity floor that decided it."""
    papers, vectors = pool()
    decisions = Screener(CRITERIA, ScreeningConfig(max_accepted=400, **setting), TOPIC, llm=None).run(papers, vectors).decisions
    assert not any(d.accepted for d in decisions)
    assert any(says in d.reason for d in decisions)
    assert all("below the bar" in d.reason or "below the floor" in d.reason for d in decisions), \
        "every rejection says which rule decided it"
