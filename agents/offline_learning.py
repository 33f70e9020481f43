"""Stage 1 learning without an LLM: the judged labels memory holds move the offline scores.

A paper close to one the user marked good (or imported, or the LLM accepted) gains calibrated score;
close to one marked bad (or rejected), it loses. The nudge grows with similarity above `NEAR` and is at
most `STRENGTH` standard deviations, so a handful of labels re-orders the borderline papers of the next
week without overruling the criteria.
"""

from __future__ import annotations

import numpy as np

from brief.models import Labels

NEAR = 0.5  # cosine below which a labelled paper says nothing about another
STRENGTH = 3.0  # the most a week's labels move a paper, in calibrated units (standard deviations)


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


def learned_note(labels: Labels | None) -> str:
    """What stage 1 learned from, for the briefing."""
    if labels is None or labels.empty:
        return "Stage 1 learned from no labels yet (mark papers with `brief feedback ID good|bad`)."
    parts = {"feedback": "your feedback", "imported": "your imported library", "llm": "earlier LLM decisions"}
    named = [f"{n} from {parts[k]}" for k, n in labels.counts.items() if n]
    return f"Stage 1 learned from {len(labels.positives) + len(labels.negatives)} labels: " + ", ".join(named) + "."
