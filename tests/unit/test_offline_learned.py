"""Offline decisions follow stage 1's learned ranking once it has learned from enough labels, and only then.

A hand-made world (no embedder): the topic's vector points one way, but the papers the labels call relevant
lie along another direction, with the topic as their second component; papers squarely on the topic's
vector were labelled irrelevant. The criteria's evidence alone prefers the wrong papers; a ranker learned
from the labels prefers the right ones.
"""

from __future__ import annotations

import numpy as np

from brief.agents.offline_learning import MIN_POSITIVES, learned_probability
from brief.agents.prefilter import fit_ranker
from brief.agents.screener import Screener
from brief.config import Criteria, ScreeningConfig, Topic
from brief.models import Paper

DIM = 16
CRITERIA = Criteria(topics=[Topic(name="Dwarf galaxies", description="dwarf galaxies")])
TOPIC = np.eye(DIM, dtype=np.float32)[:1]


def world(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` papers (unit vectors) and their labels: relevant ones along axis 1 (topic axis 0 weaker), the
    irrelevant ones along the topic axis itself or in random directions."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.2).astype(int)
    vectors = rng.normal(scale=0.25, size=(n, DIM))
    vectors[labels == 1, 1] += 1.0
    vectors[labels == 1, 0] += 0.5
    on_topic = (labels == 0) & (rng.random(n) < 0.3)
    vectors[on_topic, 0] += 1.2
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), labels


def papers(n: int) -> list[Paper]:
    return [Paper(id=f"2606.{i:05d}", title=f"Paper {i}", abstract="An abstract.") for i in range(n)]


def precision(decisions, labels) -> float:
    accepted = [int(d.paper_id.split(".")[1]) for d in decisions if d.accepted]
    assert accepted, "something is accepted"
    return float(np.mean(labels[accepted]))


def test_offline_decisions_follow_a_well_learned_ranking():
    history, history_labels = world(400, seed=1)
    week, week_labels = world(300, seed=2)
    ranker = fit_ranker(TOPIC, history, history_labels)
    cfg = ScreeningConfig(max_accepted=40)

    learned = Screener(CRITERIA, cfg, TOPIC, llm=None, ranker=ranker).run(papers(300), week)
    cold = Screener(CRITERIA, cfg, TOPIC, llm=None).run(papers(300), week)

    assert learned.stats.ranker == "offline: learned ranking"
    assert cold.stats.ranker == "offline: topic evidence"
    assert precision(learned.decisions, week_labels) >= 0.9
    assert precision(cold.decisions, week_labels) <= 0.6, "the criteria alone prefer the wrong papers here"
    accepted = [d for d in learned.decisions if d.accepted]
    assert all(d.relevance >= cfg.accept_relevance and "likely relevant" in d.reason for d in accepted)
    # relevance reads as a probability: the accepts are mostly relevant, the rejects mostly not
    rejected = [d for d in learned.decisions if not d.accepted]
    assert np.mean([d.relevance for d in rejected]) < 3


def test_too_few_labels_or_a_weak_ranking_leave_the_decision_to_the_criteria():
    history, history_labels = world(400, seed=1)
    few = history_labels.copy()
    few[np.flatnonzero(few)[MIN_POSITIVES - 1:]] = 0  # one labelled accept short of the minimum
    assert learned_probability(fit_ranker(TOPIC, history, few), np.zeros(3)) is None

    noise = np.random.default_rng(3).permutation(history_labels)  # labels unrelated to the papers
    weak = fit_ranker(TOPIC, history, noise)
    assert weak.name.startswith("learned") and learned_probability(weak, np.zeros(3)) is None
    week, _ = world(300, seed=2)
    result = Screener(CRITERIA, ScreeningConfig(max_accepted=40), TOPIC, llm=None, ranker=weak).run(papers(300), week)
    assert result.stats.ranker == "offline: topic evidence"


def test_the_learned_probability_is_calibrated_on_the_history():
    history, history_labels = world(600, seed=4)
    ranker = fit_ranker(TOPIC, history, history_labels)
    week, week_labels = world(2000, seed=5)
    p = learned_probability(ranker, ranker.score(week))
    assert p is not None
    assert abs(p.mean() - week_labels.mean()) < 0.05  # the base rate is kept (the fit balanced the classes)
    high, low = p >= 0.5, p < 0.5
    assert week_labels[high].mean() > 0.8 and week_labels[low].mean() < 0.1
