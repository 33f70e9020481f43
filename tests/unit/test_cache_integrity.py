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
