"""The week's chance cut (`[screening] offline_fdr`) through the offline screener, and 1 turning it off."""

from __future__ import annotations

import numpy as np

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
