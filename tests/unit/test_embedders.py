"""Embedders: the fast int8 ONNX MiniLM against the sentence-transformers reference, and the SQLite cache.

The reference vectors (tests/fixtures/minilm_reference.npy: SHORT, ROBOTICS, ASTRO, ASTRO_2 in that order) were
computed once by MiniLMEmbedder (sentence-transformers 5, torch 2.13 CPU), so the suite runs without the
`[minilm]` extra; `reference_vectors` re-checks them live when sentence-transformers is installed.

The fast embedder's artifact is built once per session (~10-30 s on two cores) into a temporary cache.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from brief.memory.embedders import (
    CachedEmbedder,
    Embedder,
    FastLocalEmbedder,
    MiniLMEmbedder,
    OpenAIEmbedder,
    make_embedder,
)

# Real arXiv abstracts (metadata is CC0).
ROBOTICS = (
    "Autonomous Frontier-Based Exploration with VLM Guidance. Autonomous robotic exploration of unknown and "
    "hazardous environments, a long-standing challenge, can be significantly improved by leveraging the "
    "advanced reasoning of Vision-Language Models (VLMs). We introduce a novel exploration pipeline where a "
    "VLM performs high-level strategic decision-making, guiding a conventional low-level robotics control "
    "stack. At decision points, the robot generates a multimodal prompt with its current map and visual "
    "imagery of potential paths, or frontiers. The VLM analyzes this prompt to select the most promising "
    "frontier, replacing simple geometric heuristics with contextual spatial reasoning. This approach, "
    "validated in simulation across six indoor environments, improves map coverage by up to 24\\% over "
    "existing methods. Our pipeline is lightweight, training-free, and easily transferable to any robot "
    "with standard sensors and an internet connection."
)
ASTRO = (
    "The Likelihood of Hosting Undetected Brown Dwarfs in the Solar Vicinity. Based on the spatial "
    "distribution of objects in the solar neighbourhood with a radius of 20 parsecs, and after correcting "
    "for the incompleteness of observational data, an expression was obtained for estimating the "
    "probability of finding an object at a given distance from the Sun. According to these estimates, with "
    "a probability of about 0.5, there exists a brown dwarf in the immediate solar vicinity (< 1.2 pc). The "
    "possible multiplicity of this hypothetical object is discussed, as well as the reasons why it has not "
    "yet been detected."
)
ASTRO_2 = (
    "Inverse Compton Scattering on laser beam and monochromatic isotropic radiation. Most of the known "
    "literature on Inverse Compton Scattering (ICS) is based on earliest theoretical attempts and later "
    "approximations led by F.C.Jones and J.B.Blumenthal. We found an independent and more general analytical "
    "procedure which provide both relativistic and ultrarelativistic limits for ICS. These new analytical "
    "expressions can be derived in a straightforward way and they contain the previously reminded Jones' "
    "results. Our detailed solutions may be probed by already existing as well future ICS experiments."
)
SHORT = [
    "Robot navigation with vision-language models",
    "Dwarf galaxy satellites of the Milky Way and the core-cusp problem",
    "Diffusion models for image generation",
    "Large language model agents for software engineering",
    "Star formation quenching in low-mass galaxies",
]


@pytest.fixture(scope="session")
def fast(tmp_path_factory) -> FastLocalEmbedder:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # conftest pins it: a hub lookup would fail, not hang
    return FastLocalEmbedder(tmp_path_factory.mktemp("onnx-cache"))


REFERENCE_TEXTS = [*SHORT, ROBOTICS, ASTRO, ASTRO_2]


@pytest.fixture(scope="session")
def reference() -> dict[str, np.ndarray]:
    """MiniLM's full-precision vectors of REFERENCE_TEXTS: live when the `[minilm]` extra is installed (and then
    checked against the stored copy), else the stored copy."""
    stored = np.load(Path(__file__).parents[1] / "fixtures" / "minilm_reference.npy")
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        return dict(zip(REFERENCE_TEXTS, stored))
    live = MiniLMEmbedder().embed(REFERENCE_TEXTS)
    assert np.allclose(live, stored, atol=1e-3), "the stored reference no longer matches sentence-transformers"
    return dict(zip(REFERENCE_TEXTS, live))


def test_fast_shape_dtype_and_unit_norm(fast):
    vecs = fast.embed([ROBOTICS, ASTRO, *SHORT, ""])
    assert vecs.shape == (len(SHORT) + 3, fast.dim) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert fast.embed([]).shape == (0, fast.dim)
    assert isinstance(fast, Embedder)


def test_fast_is_deterministic_and_order_independent(fast):
    a = fast.embed([ROBOTICS, ASTRO, SHORT[0]])
    b = fast.embed([SHORT[0], ASTRO, ROBOTICS])
    assert np.allclose(a, b[::-1], atol=1e-5)  # batching by length must not change a text's vector


def test_fast_agrees_with_full_minilm(fast, reference):
    # Short texts fit the token budget and go in untouched: only int8 rounding separates the two.
    short = (fast.embed(SHORT) * np.stack([reference[t] for t in SHORT])).sum(1)
    assert short.mean() >= 0.97 and short.min() >= 0.95, short
    # Abstracts are cut to 64 content tokens (full MiniLM reads 256): still the same direction.
    long = (fast.embed([ROBOTICS, ASTRO, ASTRO_2]) * np.stack([reference[t] for t in (ROBOTICS, ASTRO, ASTRO_2)])).sum(1)
    assert long.mean() >= 0.75, long


def test_a_long_text_is_read_as_far_as_the_budget_needs_and_no_differently(fast):
    from brief.memory.onnx_minilm import STOPWORDS

    runner = fast._load()
    stop = " ".join(w for w in STOPWORDS if w.isalpha())
    mostly_stopwords = (stop + " ") * (fast.max_tokens * runner.SHORT_CUT // len(stop) + 1) + ASTRO  # content after the short cut
    # 61 content pieces, then stopwords up to 2 characters before the short cut, then a word it splits: the
    # 62nd piece read must be the whole word's first, not the cut one's
    short = fast.max_tokens * runner.SHORT_CUT
    head = "galaxy " * (fast.max_tokens - 3)
    head = (head + " the" * ((short - 2 - len(head)) // 4)).ljust(short - 2)
    split_word = head + "supercalifragilisticexpialidocious " + ASTRO
    texts = [ROBOTICS + " " + ASTRO + " " + ASTRO_2, mostly_stopwords, split_word, *SHORT, ""]
    whole = [runner._fit(runner.tokenizer.encode(t[:fast.max_tokens * runner.LONG_CUT]).ids) for t in texts]
    assert runner.token_ids(texts) == whole
    assert all(len(t) > short for t in texts[:3])
    assert runner.tokenizer.token_to_id("brown") in whole[1], "read on past the short cut when it holds too little"
    word = runner.tokenizer.encode("supercalifragilisticexpialidocious").ids[1]
    cut_short = runner._fit(runner.tokenizer.encode(split_word[:short]).ids)
    assert whole[2][-2] == word != cut_short[-2], "the test splits a word at the short cut"


def test_fast_ranks_by_topic(fast):
    q, robotics, astro, astro2 = fast.embed(["robot exploration and navigation with vision-language models",
                                             ROBOTICS, ASTRO, ASTRO_2])
    assert q @ robotics > q @ astro + 0.2 and q @ robotics > q @ astro2 + 0.2
    q2 = fast.embed(["brown dwarfs and nearby stars in the solar neighbourhood"])[0]
    assert q2 @ astro > q2 @ robotics + 0.2


def test_fast_artifact_is_cached_and_reloaded(fast):
    fast.embed(["x"])
    path = fast.artifact_path()
    assert path.exists() and path.parent == fast.cache_dir
    again = FastLocalEmbedder(fast.cache_dir)
    again.embed(["x"])
    assert again.build_seconds is None  # loaded, not rebuilt
    assert again.artifact_path() == path
    assert "r" in again.name.rsplit("-", 1)[-1]  # the recipe version is part of the cache-key id


def test_new_recipe_gets_a_new_artifact(fast, monkeypatch):
    from brief.memory import onnx_minilm

    before = fast.artifact_path()
    monkeypatch.setattr(onnx_minilm, "RECIPE_VERSION", onnx_minilm.RECIPE_VERSION + 1000)
    assert fast.artifact_path() != before  # a changed build recipe never loads a stale cached model


def test_fast_concurrent_calls_are_consistent(fast):
    expected = fast.embed([ROBOTICS, ASTRO])
    results, errors = [], []

    def work():
        try:
            results.append(fast.embed([ROBOTICS, ASTRO]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(np.allclose(r, expected, atol=1e-5) for r in results)


class CountingEmbedder:
    """A cheap deterministic inner embedder that records every text it is asked for."""

    name = "counting-v1"
    dim = 8

    def __init__(self):
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        rng = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts]
        v = np.array(rng, dtype=np.float32).reshape(len(texts), self.dim)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_cache_second_call_makes_no_inner_call(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "emb.sqlite")
    first = cached.embed(["a", "b", "a", "c"])
    assert inner.calls == [["a", "b", "c"]]  # repeats inside a call are embedded once
    assert (cached.misses, cached.hits) == (3, 1)
    second = cached.embed(["c", "a", "b", "a"])
    assert len(inner.calls) == 1 and (cached.misses, cached.hits) == (3, 5)
    assert np.array_equal(second, first[[3, 0, 1, 0]]) and second.dtype == np.float32
    assert cached.embed([]).shape == (0, 8)
    # Persisted: a new process (here a new object) on the same file hits too.
    reopened = CachedEmbedder(CountingEmbedder(), tmp_path / "emb.sqlite")
    reopened.embed(["a", "b", "c"])
    assert reopened.inner.calls == [] and reopened.hits == 3


def test_cache_keys_include_the_embedder_name(tmp_path):
    db = tmp_path / "emb.sqlite"
    CachedEmbedder(CountingEmbedder(), db).embed(["a"])
    other = CountingEmbedder()
    other.name = "counting-v2"
    CachedEmbedder(other, db).embed(["a"])
    assert other.calls == [["a"]]  # a different model never reuses another's vector


def test_cache_is_thread_safe(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "emb.sqlite")
    texts = [f"text {i}" for i in range(50)]
    threads = [threading.Thread(target=cached.embed, args=(texts[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cached.misses == 50
    cached.embed(texts)
    assert cached.misses == 50 and cached.hits == 50


def test_cache_over_the_fast_embedder(fast, tmp_path):
    cached = CachedEmbedder(fast, tmp_path / "emb.sqlite")
    a = cached.embed([ROBOTICS, ASTRO])
    b = cached.embed([ASTRO, ROBOTICS])
    assert cached.misses == 2 and cached.hits == 2 and np.allclose(a, b[::-1])


def test_openai_embedder_against_local_server():
    from tests.scripted_llm import ScriptedLLMServer

    with ScriptedLLMServer(embedding_dim=16) as srv:
        emb = OpenAIEmbedder("test-embedding", base_url=srv.base_url, api_key="x", max_retries=0, timeout=10)
        vecs = emb.embed(["one", "two", "one"])
        assert vecs.shape == (3, 16) and emb.dim == 16
        assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5) and np.allclose(vecs[0], vecs[2])
        assert emb.name.startswith("openai:test-embedding")


def test_make_embedder(tmp_path):
    assert isinstance(make_embedder("local", tmp_path), FastLocalEmbedder)
    assert isinstance(make_embedder("minilm", tmp_path), MiniLMEmbedder)
    cached = make_embedder("local", tmp_path, cache_db=tmp_path / "e.sqlite")
    assert isinstance(cached, CachedEmbedder) and isinstance(cached.inner, FastLocalEmbedder)
    with pytest.raises(ValueError):
        make_embedder("word2vec", Path(tmp_path))
