"""Caches that heal (issue 18, findings 5 and 7): a corrupted ONNX artifact is rebuilt, bad rows in the embedding
cache are dropped and recomputed, and a cache file that is not a database is named with its fix."""

from __future__ import annotations

import logging
import os
import sqlite3

import numpy as np
import pytest

from brief.memory.embedders import CachedEmbedder, FastLocalEmbedder

TEXTS = ["Robot grasping with tactile feedback", "Brown dwarfs in the solar vicinity"]


def test_a_corrupted_onnx_artifact_is_rebuilt_with_a_warning(tmp_path, caplog):
    """Finding 5: 1 MiB of random bytes inside cache/minilm-*.onnx went unnoticed (vectors at 0.71 cosine)."""
    first = FastLocalEmbedder(tmp_path)
    right = first.embed(TEXTS)
    path = first.artifact_path()
    with open(path, "r+b") as f:  # keep the file parseable: overwrite weights in the middle, as the issue did
        f.seek(os.path.getsize(path) // 3)
        f.write(np.random.default_rng(7).bytes(1 << 20))
    with caplog.at_level(logging.WARNING, logger="brief.memory.embedders"):
        again = FastLocalEmbedder(tmp_path)
        vectors = again.embed(TEXTS)
    assert again.build_seconds is not None, "rebuilt, not loaded"
    assert np.allclose(vectors, right, atol=1e-5)
    assert any(str(path) in r.message and "rebuilt" in r.message for r in caplog.records)
    third = FastLocalEmbedder(tmp_path)  # the rebuilt artifact verifies: loaded, not rebuilt again
    third.embed(TEXTS)
    assert third.build_seconds is None


class Counting:
    """A deterministic inner embedder that records every text it is asked for."""

    name, dim = "counting-v1", 8

    def __init__(self):
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        v = np.array([np.random.default_rng(sum(map(ord, t))).normal(size=self.dim) for t in texts], np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_bad_cached_vectors_are_dropped_and_recomputed(tmp_path, caplog):
    """Finding 7: wrong-size, NaN and zero vectors in embeddings.sqlite were served as they were."""
    db = tmp_path / "embeddings.sqlite"
    texts = ["good", "short", "nan", "zero", "inf"]
    right = CachedEmbedder(Counting(), db).embed(texts)
    cache = CachedEmbedder(Counting(), db)
    bad = {"short": np.ones(5, np.float32), "nan": np.full(8, np.nan, np.float32), "zero": np.zeros(8, np.float32),
           "inf": np.array([np.inf] + [0.0] * 7, np.float32)}
    with sqlite3.connect(db) as conn:
        conn.executemany("UPDATE vectors SET vector = ? WHERE key = ?", [(v.tobytes(), cache._key(t)) for t, v in bad.items()])
    with caplog.at_level(logging.WARNING, logger="brief.memory.embedders"):
        got = cache.embed(texts)
    assert np.array_equal(got, right)
    assert cache.inner.calls == [["short", "nan", "zero", "inf"]], "only the bad rows are recomputed"
    assert any("4 unusable vectors" in r.message and str(db) in r.message for r in caplog.records)
    again = CachedEmbedder(Counting(), db)
    assert np.array_equal(again.embed(texts), right) and again.inner.calls == [], "the recomputed rows were stored"


def test_an_embedding_cache_that_is_not_a_database_is_named_with_its_fix(tmp_path):
    db = tmp_path / "embeddings.sqlite"
    db.write_bytes(b"this is not sqlite at all" * 100)
    from brief.errors import UserError

    with pytest.raises(UserError, match=rf"{db}.* not a SQLite database.*delete it"):
        CachedEmbedder(Counting(), db)


def test_unusable_vectors_from_the_embedder_are_never_cached(tmp_path):
    class NaNs(Counting):
        def embed(self, texts):
            return np.full((len(texts), self.dim), np.nan, np.float32)

    from brief.memory.embedders import EmbedderError

    cache = CachedEmbedder(NaNs(), tmp_path / "embeddings.sqlite")
    with pytest.raises(EmbedderError, match="counting-v1 returned unusable vectors"):
        cache.embed(["a"])
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM vectors").fetchone() == (0,)
