"""Helpers for the briefing tests: a fast deterministic embedder and the compiled weekly graph around it.

The briefing tests exercise synthesis and reports, not embedding quality, so they embed with feature
hashing (sklearn's HashingVectorizer: milliseconds for thousands of abstracts, same text → same vector)
instead of MiniLM. Everything else is real: Chroma in tmp_path, the compiled graph, ChatOpenAI over HTTP.
"""

from __future__ import annotations

import numpy as np

from brief.graphs.state import RunContext, WeeklyState
from brief.memory.store import Memory

HASH_DIM = 1024


class HashEmbedder:
    """Bag-of-words feature hashing, L2-normalised: related abstracts share words, so they lie close."""

    name = f"hash-{HASH_DIM}"

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self._vectorizer = HashingVectorizer(n_features=HASH_DIM, alternate_sign=False, stop_words="english",
                                             token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z\-]{2,}\b", norm="l2")
        self.calls = 0
        self.texts = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        if not texts:
            return np.zeros((0, HASH_DIM), np.float32)
        dense = self._vectorizer.transform(texts).toarray().astype(np.float32)
        dense = np.sqrt(dense)  # damp repeated words
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        return dense / np.maximum(norms, 1e-12)

    def take_counts(self) -> tuple[int, int]:
        return 0, 0

    @property
    def stage1(self) -> HashEmbedder:  # stage 1 ranks with these same vectors (no static table here)
        return self


def make_context(settings, llm=None, embedder: HashEmbedder | None = None) -> RunContext:
    embedder = embedder or HashEmbedder()
    memory = Memory(settings.data_dir / "chroma", embedder.name)
    return RunContext(settings=settings, embedder=embedder, memory=memory, llm=llm)


def run_week(ctx: RunContext, window, sources: list[str]) -> WeeklyState:
    """One weekly run through the real compiled graph (no checkpointer: these tests don't resume)."""
    from brief.graphs.weekly import build_weekly_graph

    final = build_weekly_graph().compile().invoke(WeeklyState(window=window, sources=sources), context=ctx)
    return WeeklyState.model_validate(final)


def hash_settings(settings, **screening):
    """The demo config with a similarity cut fitted to hashed vectors (they score lower than MiniLM's)."""
    return settings.model_copy(update={"screening": settings.screening.model_copy(
        update={"similarity_threshold": 0.10, **screening})})
