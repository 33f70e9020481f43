"""Stage 1 learning without an LLM: the judged labels memory holds move the offline decisions.

A few labels nudge: a paper close to one the user marked good (or imported, or the LLM accepted) gains
calibrated score; close to one marked bad (or rejected), it loses. The nudge grows with similarity above
`NEAR` and is at most `STRENGTH` standard deviations, so a handful of labels re-orders the borderline papers
of the next week without overruling the criteria.

Enough labels decide: once stage 1's learned ranker has `MIN_POSITIVES` labelled accepts behind it, its
score usually ranks far better than the criteria's evidence alone (cgarling astro-ph Feb, history Jan: AUC
0.92 against 0.82), so the offline decision follows it, as a probability calibrated on the ranker's own
out-of-fold history, when that history shows it ranks well.
"""

from __future__ import annotations

import math

import numpy as np

from brief.agents.prefilter import LearnedRanker, Ranker, auc
from brief.models import Labels
from brief.numeric import fit_logistic

NEAR = 0.5  # cosine below which a labelled paper says nothing about another
STRENGTH = 3.0  # the most a week's labels move a paper, in calibrated units (standard deviations)
MIN_POSITIVES = 20  # labelled accepts before the learned ranking decides offline (fewer: a calibration of noise)
# its out-of-fold AUC needed to decide: on silver cs.AI/CV (AUC 0.61) it halved the criteria's recall
MIN_AUC = 0.75


def _closeness(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """How far above `NEAR` each paper's similarity to its nearest labelled paper is, from 0 to 1."""
    if len(reference) == 0 or len(vectors) == 0:
        return np.zeros(len(vectors))
    nearest = (np.asarray(vectors, dtype=np.float32) @ reference.T).max(axis=1)
    return np.clip((nearest - NEAR) / (1 - NEAR), 0, 1)


def adjustment(labels: Labels | None, vectors: np.ndarray) -> np.ndarray:
    """Per paper: + towards the positives, − towards the negatives, in calibrated units."""
    if labels is None or labels.empty:
        return np.zeros(len(vectors))
    return STRENGTH * (_closeness(vectors, labels.positives) - _closeness(vectors, labels.negatives))


def learned_note(labels: Labels | None, decided: bool = False) -> str:
    """What stage 1 learned from, for the briefing; `decided`: its learned ranking made the offline decisions."""
    if labels is None or labels.empty:
        return 'Stage 1 learned from no labels yet: mark papers with "brief feedback ID good" (or "bad").'
    parts = {"feedback": "your feedback", "imported": "your imported library", "llm": "earlier LLM decisions"}
    named = [f"{n} from {parts[k]}" for k, n in labels.counts.items() if n]
    note = f"Stage 1 learned from {len(labels.positives) + len(labels.negatives)} labels: " + ", ".join(named) + "."
    if decided:
        note += (" Its ranking learned from them decided this week's relevance (a probability, calibrated on those"
                 " labels); the criteria named the topics.")
    return note


def learned_probability(ranker: Ranker, scores: np.ndarray) -> np.ndarray | None:
    """P(relevant) per paper from the learned ranker's `scores`, by a logistic fit (Platt scaling) of its
    out-of-fold history scores to their labels at the history's own base rate. None when stage 1 has not
    learned from `MIN_POSITIVES` labelled accepts, or ranks them no better than `MIN_AUC` out of fold."""
    if not isinstance(ranker, LearnedRanker) or ranker.n_positives < MIN_POSITIVES:
        return None
    scored = ranker.scored_history()
    if scored is None:
        return None
    history, labels = scored
    if auc(history, labels) < MIN_AUC:
        return None
    model = fit_logistic(history[:, None], labels, C=100.0)
    # fit_logistic balances the classes: its log-odds are off by the history's prior odds
    prior = math.log(labels.sum() / (len(labels) - labels.sum()))
    logit = model.decision_function(np.asarray(scores, dtype=float)[:, None]) + prior
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))
