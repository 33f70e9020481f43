"""Stage 1's ranker: how likely each paper is to be accepted, from its embedding alone.

Cold start: similarity to the nearest topic. With labelled decisions (the LLM's accepts and rejects of
earlier weeks, the user's feedback, an imported library), a logistic regression on the embeddings and the
topic similarities learns what this user actually keeps; topic similarity stays in as a feature so a
small history can't forget the criteria.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Ranker(Protocol):
    name: str

    def score(self, vectors: np.ndarray) -> np.ndarray: ...


class SimilarityRanker:
    name = "topic-similarity"

    def __init__(self, topic_vectors: np.ndarray):
        self.topic_vectors = topic_vectors

    def score(self, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros(0)
        return (vectors @ self.topic_vectors.T).max(axis=1)


class LearnedRanker:
    name = "learned"

    def __init__(self, topic_vectors: np.ndarray, model, n_examples: int):
        self.topic_vectors = topic_vectors
        self.model = model
        self.n_examples = n_examples

    def _features(self, vectors: np.ndarray) -> np.ndarray:
        sims = vectors @ self.topic_vectors.T
        return np.hstack([vectors, sims, sims.max(axis=1, keepdims=True)])

    def score(self, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros(0)
        return self.model.decision_function(self._features(vectors))


def fit_ranker(
    topic_vectors: np.ndarray,
    vectors: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    min_positives: int = 5,
    min_negatives: int = 20,
) -> Ranker:
    """A learned ranker when the history has enough of both classes, else topic similarity."""
    if vectors is None or labels is None or len(labels) == 0:
        return SimilarityRanker(topic_vectors)
    labels = np.asarray(labels, dtype=int)
    if labels.sum() < min_positives or (labels == 0).sum() < min_negatives:
        return SimilarityRanker(topic_vectors)
    from sklearn.linear_model import LogisticRegression

    ranker = LearnedRanker(topic_vectors, None, len(labels))
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    model.fit(ranker._features(np.asarray(vectors)), labels, sample_weight=weights)
    ranker.model = model
    return ranker
