"""The static (distilled token-table) embedder stage 1 screens with: built once from the bundled MiniLM weights,
cached with its hash, rebuilt when damaged, deterministic, and in agreement with MiniLM on what is near what."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from brief.memory.embedders import FastLocalEmbedder, StaticMiniLMEmbedder, make_embedder
from brief.memory.onnx_minilm import digest_path

from .test_embedders import ASTRO, ASTRO_2, ROBOTICS, SHORT


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("static-cache")
    first = StaticMiniLMEmbedder(path)
    first.embed(["warm"])
    assert first.build_seconds is not None, "an empty cache dir: the table is distilled on first use"
    return path


def test_the_table_is_cached_with_its_hash_and_loaded_not_rebuilt(static_dir):
    again = StaticMiniLMEmbedder(static_dir)
    vectors = again.embed(SHORT)
    assert again.build_seconds is None and again.load_seconds is not None
    path = again.artifact_path()
    assert path.exists() and digest_path(path).exists()
    assert vectors.shape == (len(SHORT), again.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_vectors_are_deterministic_and_independent_of_batch_and_order(static_dir):
    emb = StaticMiniLMEmbedder(static_dir)
    texts = [*SHORT, ROBOTICS, ASTRO]
    together = emb.embed(texts)
    alone = np.vstack([emb.embed([t]) for t in reversed(texts)])[::-1]
    assert np.array_equal(together, StaticMiniLMEmbedder(static_dir).embed(texts)), "same table, same numbers"
    assert np.allclose(together, alone, atol=1e-6)


def test_an_empty_text_gets_a_unit_vector_not_a_zero_row(static_dir):
    vectors = StaticMiniLMEmbedder(static_dir).embed(["", "   "])
    assert np.all(np.isfinite(vectors)) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_a_corrupted_table_is_rebuilt_with_a_warning(static_dir, tmp_path, caplog):
    cache = tmp_path / "copy"
    cache.mkdir()
    source = StaticMiniLMEmbedder(static_dir).artifact_path()
    for f in (source, digest_path(source)):
        (cache / f.name).write_bytes(f.read_bytes())
    right = StaticMiniLMEmbedder(cache).embed([ROBOTICS, ASTRO])
    path = StaticMiniLMEmbedder(cache).artifact_path()
    assert path.name == source.name, "the name depends on the model and recipe, not on the directory"
    with open(path, "r+b") as f:  # still a loadable .npy: the damage is in the numbers
        f.seek(os.path.getsize(path) // 2)
        f.write(np.random.default_rng(3).bytes(1 << 16))
    with caplog.at_level(logging.WARNING, logger="brief.memory.static_minilm"):
        healed = StaticMiniLMEmbedder(cache)
        vectors = healed.embed([ROBOTICS, ASTRO])
    assert healed.build_seconds is not None, "rebuilt, not loaded"
    assert np.allclose(vectors, right, atol=1e-5)
    assert any(str(path) in r.message and "rebuilt" in r.message for r in caplog.records)
    later = StaticMiniLMEmbedder(cache)
    later.embed(["x"])
    assert later.build_seconds is None, "the rebuilt table verifies"


def test_it_ranks_by_topic_like_minilm(static_dir, tmp_path):
    emb = StaticMiniLMEmbedder(static_dir)
    papers = emb.embed([ROBOTICS, ASTRO, ASTRO_2])
    queries = emb.embed(["Robot exploration with vision-language models", "Brown dwarfs near the Sun"])
    sims = queries @ papers.T
    assert sims[0].argmax() == 0 and sims[1].argmax() == 1
    # the same neighbour structure as the full network on short texts: each query's nearest SHORT text agrees
    onnx = FastLocalEmbedder(tmp_path / "onnx")
    for e in (emb, onnx):
        v = e.embed(SHORT)
        np.fill_diagonal(s := v @ v.T, -1)
        assert s[0].argmax() != 1 and s[1].argmax() == 4, f"{e.name}: galaxies go with galaxies"


def test_make_embedder_knows_static(static_dir):
    emb = make_embedder("static", static_dir)
    assert isinstance(emb, StaticMiniLMEmbedder) and emb.name.startswith("minilm-l6-static-")
